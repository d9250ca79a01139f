"""The on-disk kernel cache.

A kernel's source is written to `<cache root>/kernels/<key>/kernel.py` (for people reading it;
what runs is the source generated in this process, never the file) and numba's machine code
for it is kept beside it in `__pycache__`, so a second process loads instead of compiling. The
key hashes the generated source (which follows from the checked policy's structure, not its
param values), the engine version, the numba version and the library kernels' source.

numba's files are pickles of machine code, so each is stored with its SHA-256 in a first line
and copied into a private staging folder (compile/numba_cache.py) only when it matches: a
damaged or half-written file is a miss, never loaded. A lock file serialises two processes
compiling the same kernel; an entry that still fails to load is emptied and rebuilt. A problem
with the cache's location turns caching off for the run, with one warning
(`rulesengine.cachedir`), and the kernel is compiled in the process's scratch folder.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import stat
import sys
import types
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Callable

from .. import cachedir
from ..version import __version__

ENV_CACHE_DIR = cachedir.ENV_CACHE_DIR
_VERIFIED = b"regime-sha256:"      # first line of a stored numba file: the payload's digest


def cache_dir() -> Path:
    """The folder kernels are cached in: `kernels` under the cache root, or under the
    process's scratch folder when caching is off."""
    return cachedir.folder("kernels") or _scratch_kernels()


def _scratch_kernels() -> Path:
    return cachedir.private_subfolder(cachedir.scratch(), "kernels")


@lru_cache(maxsize=1)
def _library_digest() -> str:
    # numba's version from its metadata: deciding whether a kernel is cached must not
    # import numba (half a second) when the answer may be not to use it
    from importlib.metadata import version


    text = (Path(__file__).parent / "library.py").read_bytes()
    return hashlib.sha256(text + __version__.encode() + version("numba").encode()).hexdigest()


def kernel_key(source: str) -> str:
    """The cache key of a generated kernel."""
    return hashlib.sha256(source.encode() + _library_digest().encode()).hexdigest()[:32]


_loaded: dict[str, Callable] = {}


def is_cached(source: str) -> bool:
    """Whether the kernel for `source` is loaded, or on disk with numba's machine code beside
    it (nothing is compiled or imported to find out)."""
    key = kernel_key(source)
    if key in _loaded:
        return True
    folder = cache_dir() / key
    try:
        return _holds(folder / "kernel.py", source) and any((folder / "__pycache__").iterdir())
    except OSError:
        return False


def get_kernel(source: str, warm: Callable[[Callable], None]) -> Callable:
    """The compiled kernel for `source`: from memory, from the disk cache, or compiled now.
    `warm(fn)` runs it once on a tiny input, so compiling (or loading) happens under the lock."""
    key = kernel_key(source)
    fn = _loaded.get(key)
    if fn is not None:
        return fn
    folder = cache_dir() / key
    try:
        fn = _load_or_build(folder, key, source, warm)
    except OSError as e:
        if cachedir.scratch() in folder.parents:
            raise
        cachedir.disable(f"cannot use {folder}: {e.strerror or e}")
        fn = _load_or_build(_scratch_kernels() / key, key, source, warm)
    _loaded[key] = fn
    return fn


def _load_or_build(folder: Path, key: str, source: str, warm) -> Callable:
    _make_entry(folder)
    stored = folder / "__pycache__"
    with _locked(folder):
        path = folder / "kernel.py"
        if not _holds(path, source):
            _write_source(path, source)
        staging = _fresh(cachedir.private_subfolder(cachedir.scratch(), "staging") / key)
        have = _unpack(stored, staging)
        from . import numba_cache  # imports numba: only when a kernel is loaded or built

        numba_cache.install()
        numba_cache.stage(path, staging, source)
        try:
            fn = _define(source, path, key)
            warm(fn)
        except Exception:
            # A stale entry numba cannot use (or a kernel that cannot run): rebuild it once.
            _reset(folder)
            _write_source(path, source)
            staging, have = _fresh(staging), {}
            fn = _define(source, path, key)
            warm(fn)
        _pack(staging, stored, have)
    return fn


def _define(source: str, path: Path, key: str):
    """The kernel function, compiled by Python from the generated source in memory (a file in
    the cache is never executed); `path` names it, so numba's locator finds its staging."""
    name = f"rulesengine_kernel_{key}"
    module = types.ModuleType(name)
    module.__file__ = str(path)
    sys.modules[name] = module
    exec(compile(source, str(path), "exec"), module.__dict__)  # noqa: S102 - our own codegen
    return module.kernel


# --- the entry folder -----------------------------------------------------------------------

def _make_entry(folder: Path) -> None:
    if folder.is_dir() and not folder.is_symlink():
        return
    if folder.is_symlink() or folder.exists():      # a file (or link) where an entry should be
        folder.unlink()
    try:
        folder.mkdir(mode=0o700)
    except FileExistsError:
        pass


@contextmanager
def _locked(folder: Path):
    """Hold the entry's lock file. Anything else in its place (a folder, a pipe, a link) is
    damage: removed, and a private lock file made instead."""
    lock = folder / ".lock"
    try:
        mode = os.lstat(lock).st_mode
    except FileNotFoundError:
        mode = None
    if mode is not None and stat.S_ISDIR(mode):
        shutil.rmtree(lock, ignore_errors=True)
    elif mode is not None and not stat.S_ISREG(mode):
        lock.unlink(missing_ok=True)
    fd = os.open(lock, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _write_source(path: Path, text: str) -> None:
    cachedir.write_entry(path, text.encode("utf-8"))


def _holds(path: Path, source: str) -> bool:
    """Whether the file holds exactly this source (a garbled file, even one that is not
    UTF-8, is just not the source: it gets rewritten)."""
    return cachedir.read_entry(path) == source.encode("utf-8")


def _reset(folder: Path) -> None:
    for child in folder.iterdir():
        if child.name == ".lock":
            continue
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child, ignore_errors=True)
        else:
            child.unlink(missing_ok=True)


# --- numba's files: verified copies in, new files out ---------------------------------------

def _fresh(folder: Path) -> Path:
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(mode=0o700, parents=True)
    return folder


def _unpack(stored: Path, staging: Path) -> dict[str, str]:
    """Copy each stored numba file whose digest matches into `staging`; {name: digest}."""
    have: dict[str, str] = {}
    try:
        names = sorted(os.listdir(stored))
    except OSError:
        return have
    for name in names:
        if not name.endswith((".nbi", ".nbc")):
            continue
        data = cachedir.read_entry(stored / name)
        if data is None:
            continue            # a folder, a pipe, unreadable, or gone: a miss
        head, _, payload = data.partition(b"\n")
        digest = hashlib.sha256(payload).hexdigest()
        if head != _VERIFIED + digest.encode():
            continue            # damaged or unverified: numba compiles instead
        (staging / name).write_bytes(payload)
        have[name] = digest
    return have


def _pack(staging: Path, stored: Path, have: dict[str, str]) -> None:
    """Store what numba wrote in `staging` that the entry does not already hold."""
    for name in sorted(os.listdir(staging)):
        if not name.endswith((".nbi", ".nbc")):
            continue
        payload = (staging / name).read_bytes()
        digest = hashlib.sha256(payload).hexdigest()
        if have.get(name) == digest:
            continue
        if stored.is_symlink() or (stored.exists() and not stored.is_dir()):
            stored.unlink()
        stored.mkdir(mode=0o700, exist_ok=True)
        cachedir.write_entry(stored / name, _VERIFIED + digest.encode() + b"\n" + payload)
