"""Policy references as analysts type them: an id, a path, or either at a git revision
(`oversight2021@HEAD~1`, `policies/x.yaml@v1.2`), so two versions of one policy can be
evaluated and diffed side by side. A policy read from a revision reads the files it extends
from the same revision."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Callable, Iterable

from ..check.checker import check
from ..diagnostics import Diagnostic, PolicyError, Pos
from ..files import POLICY, read_input
from ..policy.load import (display_name, find_policy, is_file, load_policy_text, looks_like_path,
                           search_path)
from .cache import cached


def split_ref(ref: str, known: Callable[[str], bool] | None = None) -> tuple[str, str | None]:
    """(policy, revision or None). An existing file whose name contains '@' is a path. A
    revision may itself contain '@' (`HEAD@{1}`, `main@{yesterday}`), and an id never does, so
    the split is at the first '@' whose left side names a policy (`known`, else an existing
    file), or else at the first '@'."""
    if "@" not in ref or _exists(ref):
        return ref, None
    known = known or _exists
    splits = [(ref[:i], ref[i + 1:]) for i, c in enumerate(ref) if c == "@"]
    name, rev = next(((n, r) for n, r in splits if n and r and known(n)), splits[0])
    if not name or not rev:
        raise PolicyError(f"'{ref}': write POLICY@REVISION, e.g. oversight2021@HEAD~1")
    return name, rev


def _exists(name: str) -> bool:
    try:
        return Path(name).exists()
    except (OSError, ValueError):
        return False


def load_ref(ref: str, *, policy_path: Iterable[str] = ()):
    """(checked policy, git revision or None) for a reference."""

    # Absolute (not resolved: a link keeps its name) so that every file name derived from
    # these is shown the same way whether the policy comes from the cache or not.
    dirs = [Path(os.path.abspath(d)) for d in search_path(policy_path)]
    name, rev = split_ref(ref, lambda n: _exists(n) or _names_policy(n, dirs))
    try:
        path = find_policy(name, dirs)
    except PolicyError:
        # a file deleted or renamed since the revision can still be read from it
        if rev is None or Path(name).suffix.lower() not in (".yaml", ".yml"):
            raise
        path = Path(name)
    path = Path(os.path.abspath(path))
    if rev is None:
        return cached(path, dirs, lambda seen: check(load_policy_text(
            _read_disk(path), path, dirs=dirs, resolution=seen))), None
    root = _git_root(path)
    reader, exists, show = _revision_reader(root, rev)
    text = reader(path)
    shown = f"{display_name(path)}@{rev}"
    return check(load_policy_text(text, path, dirs=dirs, read_text=reader, exists=exists,
                                  show=show, name=shown)), rev


def _names_policy(name: str, dirs) -> bool:
    if "@" in name and not looks_like_path(name):     # an id never holds '@'
        return False
    try:
        find_policy(name, dirs)
        return True
    except PolicyError:
        return False


def _read_disk(path: Path) -> str:
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
    """(read, exists, show) for files as they were at `rev`: files in the repository come from the
    revision (so an `extends` parent is looked up and read there, never in the working tree);
    files outside it (the bundled policies, another folder on the search path) from the disk."""
    try:
        commit = _git(["rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"], root)
    except PolicyError:
        raise PolicyError(f"no revision '{rev}' in the git repository at {root}") from None
    commit = commit.decode().strip()
    listing = _git(["ls-tree", "-r", "-z", "--name-only", commit], root)
    tracked = {p.decode("utf-8", "surrogateescape") for p in listing.split(b"\0") if p}

    def inside(path: Path) -> str | None:
        try:
            rel = os.path.relpath(path.resolve(), root)
        except (OSError, ValueError):
            return None
        return None if rel.startswith("..") else Path(rel).as_posix()

    def exists(path: Path) -> bool:
        rel = inside(path)
        return is_file(path) if rel is None else rel in tracked

    def show(path: Path) -> str:
        return display_name(path) if inside(path) is None else f"{display_name(path)}@{rev}"

    def read(path: Path) -> str:
        rel = inside(path)
        if rel is None:
            return _read_disk(path)
        if rel not in tracked:
            raise PolicyError(f"{rel} does not exist at revision {rev}")
        data = _git(["show", f"{commit}:{rel}"], root)
        return _decode(data, f"{display_name(path)}@{rev}")

    return read, exists, show
