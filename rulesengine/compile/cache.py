"""The on-disk kernel cache.

A kernel's source is written to `<cache>/<key>/kernel.py` and imported; numba's own cache
(`cache=True`) keeps the machine code beside it, so a second process loads instead of
compiling. The key hashes the generated source (which follows from the checked policy's
structure, not its param values), the engine version, the numba version and the library
kernels' source. A lock file serialises two processes compiling the same kernel; an entry
that fails to load is deleted and rebuilt.
"""

from __future__ import annotations

import fcntl
import hashlib
import importlib.util
import os
import shutil
import sys
import tempfile
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Callable

ENV_CACHE_DIR = "REGIME_CACHE_DIR"


def cache_dir() -> Path:
    """$REGIME_CACHE_DIR, else the user cache directory (XDG) under regime/kernels."""
    env = os.environ.get(ENV_CACHE_DIR)
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "regime" / "kernels"


@lru_cache(maxsize=1)
def _library_digest() -> str:
    # numba's version from its metadata: deciding whether a kernel is cached must not
    # import numba (half a second) when the answer may be not to use it
    from importlib.metadata import version

    from .. import __version__

    text = (Path(__file__).parent / "library.py").read_bytes()
    return hashlib.sha256(text + __version__.encode() + version("numba").encode()).hexdigest()


def kernel_key(source: str) -> str:
    """The cache key of a generated kernel."""
    return hashlib.sha256(source.encode() + _library_digest().encode()).hexdigest()[:32]


_loaded: dict[str, Callable] = {}


@contextmanager
def _locked(folder: Path):
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".lock", "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _write_atomically(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".kernel-", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


def _holds(path: Path, source: str) -> bool:
    """Whether the file holds exactly this source (a garbled file, even one that is not
    UTF-8, is just not the source: it gets rewritten)."""
    try:
        return path.read_bytes() == source.encode("utf-8")
    except OSError:
        return False


def _import(path: Path, key: str):
    name = f"rulesengine_kernel_{key}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def is_cached(source: str) -> bool:
    """Whether the kernel for `source` is loaded or in the disk cache (nothing is compiled)."""
    key = kernel_key(source)
    return key in _loaded or _holds(cache_dir() / key / "kernel.py", source)


def get_kernel(source: str, warm: Callable[[Callable], None]) -> Callable:
    """The compiled kernel for `source`: from memory, from the disk cache, or compiled now.
    `warm(fn)` runs it once on a tiny input, so compiling (or loading) happens under the lock."""
    key = kernel_key(source)
    fn = _loaded.get(key)
    if fn is not None:
        return fn
    folder = cache_dir() / key
    with _locked(folder):
        path = folder / "kernel.py"
        if not _holds(path, source):
            _write_atomically(path, source)
        try:
            fn = _import(path, key).kernel
            warm(fn)
        except Exception:
            # A corrupt or stale entry (numba index, machine code or source): rebuild it once.
            _reset(folder)
            _write_atomically(path, source)
            fn = _import(path, key).kernel
            warm(fn)
    _loaded[key] = fn
    return fn


def _reset(folder: Path) -> None:
    for child in folder.iterdir():
        if child.name == ".lock":
            continue
        if child.is_dir():
            shutil.rmtree(child, ignore_errors=True)
        else:
            child.unlink(missing_ok=True)
