"""Every file regime reads or writes goes through here: one guarded read, one atomic write.

Reading (`open_input`, `read_input`): a path must name a regular file. A pipe would block the
read forever, a device such as /dev/zero never ends, and a folder cannot be read as a file, so
each is refused with an error naming the file before a byte is read. Formats with a size limit
are refused when larger than it; each limit can be raised with an environment variable:

    policy files (YAML)      REGIME_MAX_POLICY_BYTES     2,000,000 bytes
    decisions files (CSV)    REGIME_MAX_DECISIONS_BYTES  64 MiB
    entities tables          REGIME_MAX_ENTITIES_BYTES   64 MiB
    data files (CSV/Parquet) REGIME_MAX_DATA_BYTES       8 GiB
    cells of data            REGIME_MAX_CELLS            200,000,000 (rows x columns of one
                                                         file, or periods x entities x metrics
                                                         of a panel)

Writing (`atomic_output`, `write_output`): the text goes to a temporary file in the target's
folder, is flushed to disk (fsync) and then renamed over the target, so a full disk or a crash
leaves either the old file or the new one, never a truncated mix. An output never replaces one
of the command's input files, and `replace=False` refuses to replace an existing file (the
commands offer --force for that). Every write-and-rename in regime is this one: command
outputs, `regime fmt`'s in-place rewrite (the file keeps its permissions) and the caches'
entries (`cachedir.write_entry`: mode 0600).
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Iterable, Iterator

from . import codes
from .diagnostics import Diagnostic, RegimeError


@dataclass(frozen=True)
class Limit:
    """A size limit: what it bounds, its default, and the environment variable raising it."""

    what: str
    default: int
    env: str
    unit: str = "bytes"

    def value(self) -> int:
        """The limit in force: the environment variable when set to a whole number > 0."""
        raw = os.environ.get(self.env, "").strip().replace("_", "")
        if raw.isascii() and raw.isdigit() and int(raw) > 0:
            return int(raw)
        return self.default

    def message(self, amount: int | None) -> str:
        """The message for `amount` over the limit (None: reading stopped past it), naming
        the limit."""
        if amount is None:
            return f"{self.what} too large (over the limit of {self.value():,} {self.unit})"
        return f"{self.what} too large ({amount:,} {self.unit}; the limit is {self.value():,})"

    @property
    def hint(self) -> str:
        """How to raise the limit."""
        return f"set the environment variable {self.env} to raise the limit"

    def diagnostic(self, amount: int | None, file: str | None, pos=None) -> Diagnostic:
        return Diagnostic(self.message(amount), file=file, pos=pos, code=codes.TOO_LARGE,
                          hint=self.hint)


POLICY = Limit("policy file", 2_000_000, "REGIME_MAX_POLICY_BYTES")
DECISIONS = Limit("decisions file", 64 << 20, "REGIME_MAX_DECISIONS_BYTES")
ENTITIES = Limit("entities table", 64 << 20, "REGIME_MAX_ENTITIES_BYTES")
DATA = Limit("data file", 8 << 30, "REGIME_MAX_DATA_BYTES")
CELLS = Limit("data", 200_000_000, "REGIME_MAX_CELLS", unit="cells")
LIMITS = (POLICY, DECISIONS, ENTITIES, DATA, CELLS)


def _problem(message: str, shown: str, error: type[RegimeError]) -> RegimeError:
    return error(Diagnostic(message, file=shown, code=codes.IO))


def _kind(mode: int) -> str | None:
    """Why a file of this mode cannot be read as a file, or None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "it is a folder, not a file"
    if stat.S_ISFIFO(mode):
        return "it is a pipe, not a regular file"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "it is a device, not a regular file"
    if stat.S_ISSOCK(mode):
        return "it is a socket, not a regular file"
    return "it is not a regular file"


def _shown(path: str | os.PathLike, shown: str | None) -> str:
    return shown if shown is not None else os.fspath(path)


@contextmanager
def open_input(path: str | os.PathLike, *, limit: Limit | None = None,
               shown: str | None = None,
               error: type[RegimeError] = RegimeError) -> Iterator[IO[bytes]]:
    """Open a file for reading in binary, refusing anything but a regular file within `limit`.

    The file is opened without blocking (a pipe with no writer would otherwise hang here) and
    checked on the open descriptor, so a file swapped for a pipe between a check and the open
    is caught too."""
    name = _shown(path, shown)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) \
        | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(os.fspath(path), flags)
    except IsADirectoryError:
        raise _problem("cannot read the file: it is a folder, not a file", name, error) from None
    except (OSError, ValueError) as e:      # no such file, permission denied, a NUL in the name
        why = e.strerror if isinstance(e, OSError) and e.strerror else str(e)
        raise _problem(f"cannot read the file: {why}", name, error) from None
    try:
        st = os.fstat(fd)
        why = _kind(st.st_mode)
        if why is not None:
            raise _problem(f"cannot read the file: {why}", name, error)
        if limit is not None and st.st_size > limit.value():
            raise error(limit.diagnostic(st.st_size, name))
        if getattr(os, "O_NONBLOCK", 0):
            os.set_blocking(fd, True)       # a regular file: reads as usual from here
        fh = os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
    with fh:
        yield fh


def read_input(path: str | os.PathLike, *, limit: Limit | None = None, shown: str | None = None,
               error: type[RegimeError] = RegimeError) -> bytes:
    """The bytes of a regular file within `limit` (see `open_input`)."""
    name = _shown(path, shown)
    with open_input(path, limit=limit, shown=name, error=error) as fh:
        return read_stream(fh, limit=limit, shown=name, error=error)


def read_stream(fh: IO[bytes], *, limit: Limit | None, shown: str,
                error: type[RegimeError] = RegimeError) -> bytes:
    """All the bytes of an open binary stream (standard input, a file), refusing more than
    `limit` without reading past it."""
    try:
        if limit is None:
            return fh.read()
        # A file may grow after its size was checked (or report size 0, as /proc does), and
        # a pipe has no size: read at most one byte past the limit, to tell.
        data = fh.read(limit.value() + 1)
    except OSError as e:
        raise _problem(f"cannot read the file: {e.strerror or e}", shown, error) from None
    if len(data) > limit.value():
        raise error(limit.diagnostic(None, shown))
    return data


def check_input(path: str | os.PathLike, *, shown: str | None = None,
                error: type[RegimeError] = RegimeError) -> None:
    """Raise unless `path` can be opened as a regular file (for readers that open it
    themselves, such as Parquet's)."""
    with open_input(path, shown=shown, error=error):
        pass


# --- writing ------------------------------------------------------------------------------------

def _same_file(a: Path, b: Path) -> bool:
    """Whether two existing paths are one file (a link, another spelling); False if either
    is absent."""
    try:
        return os.path.samefile(a, b)
    except (OSError, ValueError):
        return False


def _is_regular(path: Path) -> bool:
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except (OSError, ValueError):
        return False


def check_output(path: str | os.PathLike, *, inputs: Iterable[str | os.PathLike] = (),
                 replace: bool = True, option: str = "--out",
                 error: type[RegimeError] = RegimeError) -> None:
    """Refuse an output path before any work is done: one of the inputs, a folder, an existing
    file when `replace` is False."""
    target = Path(path)
    shown = os.fspath(path)
    for src in inputs:
        if src is None:
            continue
        src_path = Path(src)
        clash = os.path.abspath(target) == os.path.abspath(src_path) \
            or _same_file(target, src_path)
        if clash:
            raise error(Diagnostic(f"{option} would replace the input file {os.fspath(src)}",
                                   file=shown, code=codes.IO,
                                   hint="write the output to another file"))
    try:
        exists = target.exists() or target.is_symlink()
        is_dir = target.is_dir()
    except (OSError, ValueError):
        return                          # reported when written
    if is_dir:
        raise error(Diagnostic(f"{option}: it is a folder, not a file", file=shown, code=codes.IO))
    if exists and not replace and _is_regular(target):
        raise error(Diagnostic(f"{option}: the file exists", file=shown, code=codes.IO,
                               hint="pass --force to replace it, or write to another file"))


def input_files(paths: Iterable[str | os.PathLike | None]) -> list[str]:
    """The files a command reads, for `check_output`: each path, and a folder's entries."""
    out: list[str] = []
    for p in paths:
        if p is None:
            continue
        out.append(os.fspath(p))
        try:
            if os.path.isdir(p):
                out += [e.path for e in os.scandir(p)]
        except (OSError, ValueError):
            pass
    return out


@contextmanager
def atomic_output(path: str | os.PathLike, mode: str = "w", *,
                  inputs: Iterable[str | os.PathLike] = (), replace: bool = True,
                  option: str = "--out", error: type[RegimeError] = RegimeError,
                  permissions: int | None = None, into_special: bool = True
                  ) -> Iterator[IO]:
    """Write `path` all at once: yield a temporary file beside it; when the block ends without
    an exception, flush it to disk and rename it over `path` (an exception leaves `path` as it
    was). `mode` is "w" (UTF-8 text, "\\n" newlines) or "wb".

    The file gets `permissions` (say 0o600 for a private cache entry); by default a file it
    replaces keeps its mode and a new file is an ordinary one (0666 less the umask).

    A target that exists and is not a regular file (/dev/stdout, a pipe) is written directly:
    it cannot be replaced, only written to. With `into_special=False` (a cache's own entries,
    where such a thing is only damage) it is replaced like any file. A failed write raises
    OSError naming `path`."""
    if mode not in ("w", "wb"):
        raise ValueError(f"mode must be 'w' or 'wb', not {mode!r}")
    check_output(path, inputs=inputs, replace=replace, option=option, error=error)
    target = Path(path)
    shown = os.fspath(path)
    try:
        existing = os.stat(target).st_mode
    except (OSError, ValueError):
        existing = None
    kwargs = {"encoding": "utf-8", "newline": ""} if mode == "w" else {}
    if existing is not None and _kind(existing) is not None and into_special:
        try:
            with open(target, mode, **kwargs) as fh:
                yield fh
        except OSError as e:
            raise OSError(e.errno, e.strerror, shown) from None
        return
    if permissions is None:
        if existing is not None and _kind(existing) is None:
            permissions = stat.S_IMODE(existing)
        else:
            permissions = 0o666 & ~_umask()
    folder = target.parent
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name[:100]}.", suffix=".tmp",
                                   dir=folder if str(folder) else ".")
        try:
            if permissions != 0o600:             # what mkstemp made it
                os.chmod(tmp, permissions)
            fh = os.fdopen(fd, mode, **kwargs)
        except BaseException:
            os.close(fd)
            raise
        with fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
        tmp = None
        _sync_folder(folder)
    except OSError as e:
        raise OSError(e.errno, e.strerror, shown) from None
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass


def write_output(path: str | os.PathLike, data: str | bytes, *,
                 inputs: Iterable[str | os.PathLike] = (), replace: bool = True,
                 option: str = "--out", error: type[RegimeError] = RegimeError,
                 permissions: int | None = None, into_special: bool = True) -> None:
    """Write text (UTF-8) or bytes to `path` atomically (see `atomic_output`)."""
    mode = "w" if isinstance(data, str) else "wb"
    with atomic_output(path, mode, inputs=inputs, replace=replace, option=option,
                       error=error, permissions=permissions,
                       into_special=into_special) as fh:
        fh.write(data)


def _umask() -> int:
    """The process's umask. Reading it means setting it for a moment, which a file another
    thread creates at that moment would feel: the moment's mask is the strict one, so that
    file is private rather than writable by all."""
    mask = os.umask(0o077)
    os.umask(mask)
    return mask


def _sync_folder(folder: Path) -> None:
    """Make the rename itself durable; not every system can open a folder (then skip)."""
    try:
        fd = os.open(folder if str(folder) else ".", os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError as e:
        if e.errno not in (errno.EINVAL, errno.EBADF, errno.EROFS):
            raise
    finally:
        os.close(fd)
