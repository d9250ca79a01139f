"""Policy references as analysts type them: an id, a path, or either at a git revision
(`oversight2021@HEAD~1`, `policies/x.yaml@v1.2`), so two versions of one policy can be
evaluated and diffed side by side. A policy read from a revision reads the files it extends
from the same revision."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Iterable

from ..diagnostics import PolicyError
from .load import display_name, find_policy, load_policy_text, search_path


def split_ref(ref: str) -> tuple[str, str | None]:
    """(policy, revision or None). An existing file whose name contains '@' is a path."""
    if "@" not in ref or Path(ref).exists():
        return ref, None
    name, _, rev = ref.rpartition("@")
    if not name or not rev:
        raise PolicyError(f"'{ref}': write POLICY@REVISION, e.g. oversight2021@HEAD~1")
    return name, rev


def load_ref(ref: str, *, policy_path: Iterable[str] = ()):
    """(checked policy, git revision or None) for a reference."""
    from ..lang.checker import check

    name, rev = split_ref(ref)
    dirs = search_path(policy_path)
    path = find_policy(name, dirs)
    if rev is None:
        from .cache import cached

        return cached(path, dirs, lambda: check(load_policy_text(_read_disk(path), path,
                                                                 dirs=dirs))), None
    root = _git_root(path)
    reader = _revision_reader(root, rev)
    text = reader(path)
    shown = f"{display_name(path)}@{rev}"
    return check(load_policy_text(text, path, dirs=dirs, read_text=reader, name=shown)), rev


def _read_disk(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise PolicyError(f"{display_name(path)}: cannot read: {e}") from None


def _git(args: list[str], cwd: Path) -> str:
    try:
        done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True,
                              timeout=30)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise PolicyError(f"cannot run git: {e}") from None
    if done.returncode != 0:
        raise PolicyError(f"git {' '.join(args)}: {done.stderr.strip() or 'failed'}")
    return done.stdout


def _git_root(path: Path) -> Path:
    folder = path.resolve().parent
    return Path(_git(["rev-parse", "--show-toplevel"], folder).strip())


def _revision_reader(root: Path, rev: str):
    _git(["rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"], root)

    def read(path: Path) -> str:
        rel = os.path.relpath(path.resolve(), root)
        if rel.startswith(".."):
            raise PolicyError(f"{display_name(path)} is outside the git repository at {root}")
        try:
            return _git(["show", f"{rev}:{rel}"], root)
        except PolicyError:
            raise PolicyError(f"{rel} does not exist at revision {rev}") from None

    return read
