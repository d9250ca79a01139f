"""Where numba keeps the machine code of regime's own functions, and how far it is trusted.

numba's cache files (`.nbi` index, `.nbc` code) are pickles holding machine code: loading one
runs whatever it holds, so they are only as trustworthy as the folder they are in. A locator
placed first in numba's list decides that folder for regime's functions (and only those):

- a generated kernel (compile/cache.py): a private staging folder of this process. The kernel
  cache copies in only files whose SHA-256 it recorded when it wrote them, and publishes what
  numba wrote back under the entry's lock, so numba never reads a damaged or half-written file
  from the shared cache, even one being changed while it runs.
- the library kernels (the package's own files): `$NUMBA_CACHE_DIR` when set, else the
  package's `__pycache__` (as trusted as the package's code beside it), else the `numba`
  folder of regime's cache root, else the process's scratch folder. Each must pass the
  ownership and permission check of `rulesengine.cachedir`; a folder that fails is skipped
  with one warning.

Setting NUMBA_CACHE_LOCATOR_CLASSES replaces numba's list, and this locator with it: the user
then decides where numba's code comes from.
"""

from __future__ import annotations

import hashlib
import os
import threading
from functools import lru_cache
from pathlib import Path

from numba.core import caching
from numba.core import config as numba_config

from .. import cachedir

_PACKAGE = Path(__file__).resolve().parent.parent
_lock = threading.Lock()
_staged: dict[str, tuple[str, str]] = {}   # kernel source file -> (staging folder, stamp)


class RegimeLocator(caching._CacheLocator):
    """numba's cache folder for a function of regime's (see the module's docstring)."""

    def __init__(self, py_func, py_file: str, folder: str, stamp: str):
        self._py_file = py_file
        self._lineno = py_func.__code__.co_firstlineno
        self._folder = folder
        self._stamp = stamp

    def get_cache_path(self) -> str:
        return self._folder

    def get_source_stamp(self) -> str:
        return self._stamp

    def get_disambiguator(self) -> str:
        return str(self._lineno)

    @classmethod
    def from_function(cls, py_func, py_file):
        with _lock:
            staged = _staged.get(py_file)
        if staged is not None:
            return cls(py_func, py_file, *staged)
        if not _in_package(py_file):
            return None          # not regime's: numba's own locators decide
        return cls(py_func, py_file, library_folder(py_file), _file_stamp(py_file))


def install() -> None:
    """Put RegimeLocator first in numba's list of cache locators (once)."""
    impl = getattr(caching, "CacheImpl", None) or getattr(caching, "_CacheImpl")
    with _lock:
        if RegimeLocator not in impl._locator_classes:
            impl._locator_classes.insert(0, RegimeLocator)


def stage(source_file: Path, folder: Path, source: str) -> None:
    """numba's cache of the kernel defined in `source_file` lives in `folder` (private to this
    process), stamped with the source text, which is what was compiled."""
    stamp = hashlib.sha256(source.encode("utf-8")).hexdigest()
    with _lock:
        _staged[str(source_file)] = (str(folder), stamp)


def _in_package(py_file: str) -> bool:
    try:
        return Path(py_file).resolve().is_relative_to(_PACKAGE)
    except (OSError, ValueError):
        return False


@lru_cache(maxsize=None)
def _file_stamp(py_file: str) -> str:
    try:
        return hashlib.sha256(Path(py_file).read_bytes()).hexdigest()
    except OSError:
        return ""


@lru_cache(maxsize=None)
def library_folder(py_file: str) -> str:
    """Where numba caches the functions of one of the package's files (see the docstring)."""
    sub = _subpath(py_file)
    if numba_config.CACHE_DIR:
        base = Path(numba_config.CACHE_DIR)
        problem = _usable(base, parents=True) or _usable(base / sub, parents=False)
        if problem is None:
            return str(base / sub)
        cachedir.warn_once(f"numba's cache folder is not used for regime's kernels: {problem}")
    in_tree = Path(py_file).parent / "__pycache__"
    if _usable(in_tree, parents=False) is None:
        return str(in_tree)
    shared = cachedir.folder("numba")
    if shared is not None:
        problem = _usable(shared / sub, parents=False)
        if problem is None:
            return str(shared / sub)
        cachedir.disable(problem)
    folder = cachedir.private_subfolder(cachedir.scratch(), "numba") / sub
    folder.mkdir(mode=0o700, exist_ok=True)
    return str(folder)


def _usable(folder: Path, *, parents: bool) -> str | None:
    """Why `folder` (created mode 0700 when missing) cannot hold numba's cache, or None."""
    try:
        if not folder.exists():
            folder.mkdir(mode=0o700, parents=parents)
        problem = cachedir.unsafe(folder)
        if problem is None and parents:
            problem = cachedir.unsafe_parents(folder)
        return problem
    except (OSError, ValueError) as e:
        return f"cannot use {folder}: {getattr(e, 'strerror', None) or e}"


def _subpath(py_file: str) -> str:
    # as numba names a file's folder inside NUMBA_CACHE_DIR: short, and unique per folder
    folder = os.path.dirname(os.path.abspath(py_file))
    return f"{os.path.basename(folder)}_{hashlib.sha1(folder.encode()).hexdigest()}"
