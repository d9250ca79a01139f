"""Policy references as analysts type them: an id, a path, or either at a git revision
(`oversight2021@HEAD~1`, `policies/x.yaml@v1.2`), so two versions of one policy can be
evaluated and diffed side by side. A policy read from a revision reads the files it extends
from the same revision."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Iterable

from ..diagnostics import Diagnostic, PolicyError, Pos
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
    try:
        path = find_policy(name, dirs)
    except PolicyError:
        # a file deleted or renamed since the revision can still be read from it
        if rev is None or Path(name).suffix.lower() not in (".yaml", ".yml"):
            raise
        path = Path(name)
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
    from ..files import POLICY, read_input

    data = read_input(path, limit=POLICY, shown=display_name(path), error=PolicyError)
    return _decode(data, display_name(path))


def _decode(data: bytes, shown: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        col = e.start - (data.rfind(b"\n", 0, e.start) + 1) + 1
        raise PolicyError(Diagnostic(f"a policy file must be UTF-8 text (byte "
                                     f"0x{data[e.start]:02x} is not)", file=shown,
                                     pos=Pos(line, col))) from None


def _git(args: list[str], cwd: Path) -> bytes:
    try:
        done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise PolicyError(f"cannot run git: {e}") from None
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip()
        raise PolicyError(f"git {' '.join(args)}: {message or 'failed'}")
    return done.stdout


def _git_root(path: Path) -> Path:
    folder = path.resolve().parent
    try:
        return Path(_git(["rev-parse", "--show-toplevel"], folder).decode().strip())
    except PolicyError:
        raise PolicyError(f"{display_name(path)} is not in a git repository, so it has no "
                          "revisions to read") from None


def _revision_reader(root: Path, rev: str):
    try:
        _git(["rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"], root)
    except PolicyError:
        raise PolicyError(f"no revision '{rev}' in the git repository at {root}") from None

    def read(path: Path) -> str:
        rel = os.path.relpath(path.resolve(), root)
        if rel.startswith(".."):
            raise PolicyError(f"{display_name(path)} is outside the git repository at {root}")
        try:
            data = _git(["show", f"{rev}:{rel}"], root)
        except PolicyError:
            raise PolicyError(f"{rel} does not exist at revision {rev}") from None
        return _decode(data, f"{display_name(path)}@{rev}")

    return read
