"""Writing an output file: every report, table, chart and sidecar goes through `write`.

The write itself is `rulesengine.files.write_output`, the one guarded writer for every
command: atomic (a temporary file in the same folder, flushed to disk, renamed over the
target), so a full disk or an interrupted run never leaves a truncated results file, and
never over one of the command's input files. This module only turns its OSError into the
command line's error.
"""

from __future__ import annotations

import os
from typing import Iterable

from ..diagnostics import RegimeError
from ..files import input_files, write_output


def write(path: str | os.PathLike, data: str | bytes, *, option: str = "--out",
          inputs: Iterable[str | os.PathLike] = ()) -> None:
    """Write text (UTF-8, newlines as given) or bytes to `path` atomically; never over one of
    `inputs` (the files, or the folders' files, the command read)."""
    try:
        write_output(path, data, inputs=input_files(inputs), option=option)
    except OSError as e:
        raise RegimeError(f"{option} {os.fspath(path)}: cannot write: {e.strerror or e}") \
            from None
