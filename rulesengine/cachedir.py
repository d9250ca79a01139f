"""Where regime's caches live, and whether a folder may hold them.

One root, `$REGIME_CACHE_DIR`, else `$XDG_CACHE_HOME/regime`, else `~/.cache/regime`, with one
folder per cache:

    kernels/    generated kernel sources and their verified machine code (compile/cache.py)
    policies/   checked policies as plain JSON (pipeline/cache.py)
    numba/      numba's cache of the library kernels, when the installed package's own
                `__pycache__` cannot hold it (compile/numba_cache.py)
    data/       the bundled sample's panel as verified NumPy arrays (data/cache.py)

A cache entry is only as trustworthy as the folder it sits in: numba's machine code is code,
and a forged policy entry could change results. So, as ssh does with `~/.ssh`, a folder is used
only when it is owned by the current user, writable by nobody else, and every folder above it
is owned by the user or root and writable by nobody else (or sticky, as /tmp is). Folders
regime creates are mode 0700. Any problem with the location (a file, /dev/full, someone else's
folder, no permission) turns persistent caching off for the rest of the process, with one
warning on stderr saying why; evaluation then uses a private scratch folder (mkdtemp, removed at
exit), so it gives the same results, only slower.
"""

from __future__ import annotations

import atexit
import hashlib
import os
import shutil
import stat
import sys
import tempfile
import threading
from functools import lru_cache
from pathlib import Path

from .diagnostics import RegimeError
from .files import read_input, write_output
from .version import __version__

ENV_CACHE_DIR = "REGIME_CACHE_DIR"
KINDS = ("kernels", "policies", "numba", "data")

_lock = threading.Lock()
_off: dict[str, str] = {}        # root -> why caching is off there (warned once)
_scratch: list[Path] = []        # this process's private folder, made on first need


def root() -> Path:
    """The configured cache root (not checked: see `folder`)."""
    env = os.environ.get(ENV_CACHE_DIR)
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "regime"


def folder(kind: str) -> Path | None:
    """The persistent folder of one cache, checked and created (mode 0700); None when caching
    is off for this process (after one warning saying why)."""
    if kind not in KINDS:
        raise ValueError(f"unknown cache {kind!r}")
    top = root()
    with _lock:
        if str(top) in _off:
            return None
    try:
        problem = _prepare(top) or _prepare(top / kind, parents=False)
    except (OSError, ValueError) as e:     # ValueError: a NUL byte in the variable
        problem = f"cannot use {top}: {_why(e)}"
    if problem:
        disable(problem, top)
        return None
    return top / kind


def disable(reason: str, top: Path | None = None) -> None:
    """Turn persistent caching off for this process (warning once on stderr)."""
    top = root() if top is None else top
    with _lock:
        if str(top) in _off:
            return
        _off[str(top)] = reason
    warn_once(f"caching is off for this run: {reason} (set {ENV_CACHE_DIR} to a folder only "
              f"you can write to)")


_warned: set[str] = set()


def warn_once(message: str) -> None:
    """One line on stderr, the first time this message comes up in the process."""
    with _lock:
        if message in _warned:
            return
        _warned.add(message)
    print(f"regime: warning: {message}", file=sys.stderr)


def scratch() -> Path:
    """This process's private folder (mode 0700, removed at exit): where kernels compile when
    there is no persistent cache."""
    with _lock:
        if not _scratch:
            try:
                made = Path(tempfile.mkdtemp(prefix="regime-cache-"))
            except OSError as e:
                raise RegimeError(f"no folder to compile kernels in (the cache is off and no "
                                  f"temporary folder is writable: {_why(e)}); set "
                                  f"{ENV_CACHE_DIR}, or use --engine reference") from None
            _scratch.append(made)
            atexit.register(shutil.rmtree, made, True)
        return _scratch[0]


def private_subfolder(base: Path, name: str) -> Path:
    """`base/name`, created mode 0700 if missing (under a folder already checked)."""
    path = base / name
    try:
        path.mkdir(mode=0o700)
    except FileExistsError:
        pass
    return path


def read_entry(path: Path) -> bytes | None:
    """A cache entry's bytes, or None when there is no regular file to read (missing, a
    folder, a pipe that would block the read, unreadable): a miss."""

    try:
        return read_input(path)
    except (RegimeError, OSError):
        return None


def write_entry(path: Path, data: bytes) -> None:
    """Replace a cache entry all at once (files.write_output), private (0600): whatever is in
    its place (a folder, a pipe, a link) is damage and is replaced, not written into. Raises
    OSError when it cannot be written."""

    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    write_output(path, data, permissions=0o600, into_special=False)


def unsafe(path: Path) -> str | None:
    """Why an existing folder may not hold a cache, or None when it may: it must be a folder,
    owned by the current user, not writable by others, and writable by the user."""
    st = os.stat(path)
    if not stat.S_ISDIR(st.st_mode):
        return f"{path} is not a folder"
    uid = _uid()
    if uid is not None and st.st_uid != uid:
        return f"{path} belongs to another user (uid {st.st_uid})"
    if st.st_mode & 0o022:
        return f"{path} can be written by other users (mode {stat.S_IMODE(st.st_mode):o})"
    if not os.access(path, os.W_OK | os.X_OK):
        return f"{path} is not writable"
    return None


def unsafe_parents(path: Path) -> str | None:
    """Why a folder above `path` lets someone else replace it, or None: each must be owned by
    the user or root and not writable by others, unless sticky (as /tmp is)."""
    uid = _uid()
    for parent in path.parents:
        st = os.stat(parent)
        if uid is not None and st.st_uid not in (0, uid):
            return f"{parent} (above the cache) belongs to another user (uid {st.st_uid})"
        if st.st_mode & 0o022 and not st.st_mode & stat.S_ISVTX:
            return (f"{parent} (above the cache) can be written by other users "
                    f"(mode {stat.S_IMODE(st.st_mode):o})")
    return None


def _prepare(path: Path, *, parents: bool = True) -> str | None:
    """Create `path` (mode 0700) if missing; why it may not hold a cache, or None."""
    real = Path(os.path.realpath(path))
    if not real.exists() and not real.is_symlink():
        if parents:
            problem = _missing_parent(real)
            if problem:
                return problem
        real.parent.mkdir(parents=True, exist_ok=True)
        try:
            real.mkdir(mode=0o700)
        except FileExistsError:        # another process made it first: checked below
            pass
    problem = unsafe(real)
    if problem is None and parents:
        problem = unsafe_parents(real)
    return problem


def _missing_parent(path: Path) -> str | None:
    """The nearest existing folder above `path` must not be a file (mkdir would say only
    'Not a directory')."""
    for parent in path.parents:
        if parent.exists():
            return None if parent.is_dir() else f"{parent} is not a folder"
    return None


def _uid() -> int | None:
    return os.geteuid() if hasattr(os, "geteuid") else None


def _why(e: BaseException) -> str:
    return (e.strerror if isinstance(e, OSError) and e.strerror else str(e))


# --- what an entry was written by ------------------------------------------------------------

@lru_cache(maxsize=1)
def engine_stamp() -> str:
    """The regime version and the name, size and modification time of every file of the
    package's code: an edited checker or model never reads entries an older one wrote."""
    digest = hashlib.sha256(__version__.encode())
    top = Path(__file__).resolve().parent
    for folder, subfolders, files in sorted(os.walk(top)):
        subfolders[:] = sorted(d for d in subfolders if d != "__pycache__")
        for name in sorted(files):
            if name.endswith((".py", ".lark", ".json")):
                try:
                    st = os.stat(os.path.join(folder, name))
                except OSError:
                    continue
                digest.update(f"{folder}/{name}:{st.st_size}:{st.st_mtime_ns}\n".encode(
                    "utf-8", "surrogateescape"))
    return digest.hexdigest()[:32]
