"""Writing an output file: every report, table, chart and sidecar goes through `write`.

The write is atomic (a temporary file in the same folder, flushed to disk, renamed over the
target), so a full disk or an interrupted run never leaves a truncated results file, and an
existing file is replaced only by a complete one. `rulesengine.files.write_output` (the one
guarded writer for every command) does this; until it is in this tree, the same steps run
here.
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path
from typing import Iterable

from ..diagnostics import RegimeError


def write(path: str | os.PathLike, data: str | bytes, *, option: str = "--out",
          inputs: Iterable[str | os.PathLike] = ()) -> None:
    """Write text (UTF-8, newlines as given) or bytes to `path` atomically; never over one of
    `inputs` (the files, or the folders' files, the command read). A path that exists and is
    not a regular file (/dev/stdout, a pipe) is written directly: it can only be written to."""
    payload = data.encode("utf-8") if isinstance(data, str) else data
    inputs = _input_files(inputs)
    try:
        try:
            from ..files import write_output
        except ImportError:
            _refuse_inputs(path, inputs, option)
            _atomic_write(path, payload, option)
        else:
            write_output(path, payload, inputs=inputs, option=option)
    except OSError as e:
        raise RegimeError(f"{option} {os.fspath(path)}: cannot write: {e.strerror or e}") \
            from None


def _input_files(paths) -> list[str]:
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


def _refuse_inputs(path, inputs, option: str) -> None:
    target = Path(path)
    for f in inputs:
        try:
            if target.exists() and Path(f).exists() and os.path.samefile(target, f):
                raise RegimeError(f"{option} {path} would replace the input file {f}: write "
                                  f"the output to another file")
        except OSError:
            continue


def _atomic_write(path, payload: bytes, option: str) -> None:
    target = Path(path)
    try:
        special = target.exists() and not stat.S_ISREG(os.stat(target).st_mode)
    except OSError:
        special = False
    if special:
        with open(target, "wb") as f:
            f.write(payload)
        return
    folder = target.parent if str(target.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name[:100]}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            mask = os.umask(0)
            os.umask(mask)
            os.chmod(tmp, 0o666 & ~mask)    # mkstemp's 0600 is not what a results file needs
            f.write(payload)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    try:
        dfd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dfd)       # make the rename itself durable
    except OSError:
        pass
    finally:
        os.close(dfd)
