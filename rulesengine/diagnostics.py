"""Diagnostics: the one error type of the project, with positions in the user's own file.

Every stage (YAML load, schema, parser, checker, data loaders) reports problems as
`Diagnostic` values. A stage that cannot go on raises `PolicyError` (or `DataError`)
carrying all the diagnostics found so far, so authors see several problems at once.
"""

from __future__ import annotations

import difflib
import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from typing import Iterable, Iterator, Sequence

from . import codes


@dataclass(frozen=True)
class Pos:
    """A position in a source file: 1-based line and column, plus the span's end on the same line."""

    line: int
    col: int
    end_col: int | None = None

    def __str__(self) -> str:
        return f"{self.line}:{self.col}"


@dataclass(frozen=True)
class Diagnostic:
    """One finding, located in a file. `severity` is "error" or "warning"."""

    message: str
    file: str | None = None
    pos: Pos | None = None
    severity: str = "error"
    code: str = codes.ERROR
    source_line: str | None = None
    hint: str | None = None

    @property
    def location(self) -> str:
        """`file:line:col`, `file`, `<input>:line:col`, or "" for a finding tied to no file."""
        if self.file is None and self.pos is None:
            return ""
        where = self.file or "<input>"
        if self.pos is not None:
            where += f":{self.pos.line}:{self.pos.col}"
        return where

    def headline(self) -> str:
        where = self.location
        line = f"{where}: {self.severity}: {self.message}" if where else \
            f"{self.severity}: {self.message}"
        return _CONTROL.sub("\ufffd", line)

    def render(self) -> str:
        """The diagnostic as an author reads it: headline, source line, caret."""
        lines = [self.headline()]
        if self.source_line is not None and self.pos is not None:
            text = _CONTROL.sub("\ufffd", self.source_line.rstrip("\r\n").expandtabs(1))
            col = self.pos.col
            width = 1
            if self.pos.end_col is not None and self.pos.end_col > col:
                width = self.pos.end_col - col
            text, col = _window(text, col, width)
            width = max(1, min(width, len(text) - col + 2))
            lines.append("    " + text)
            lines.append("    " + " " * (col - 1) + "^" + "~" * (width - 1))
        if self.hint:
            lines.append(f"    hint: {self.hint}")
        return "\n".join(lines)

    def to_json(self) -> dict:
        return {
            "file": self.file,
            "line": self.pos.line if self.pos else None,
            "col": self.pos.col if self.pos else None,
            "end_col": self.pos.end_col if self.pos else None,
            "severity": self.severity,
            "code": self.code,
            "message": self.message,
            "source_line": self.source_line,
            "hint": self.hint,
        }


_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")  # never echoed raw
MAX_QUOTED_LINE = 120   # longer source lines are quoted as a window around the caret


def _window(text: str, col: int, width: int) -> tuple[str, int]:
    """Cut a long source line down to a window around column `col`, marking the cuts with
    '…', so a 20,000-character line never floods the terminal; returns (text, new col)."""
    if len(text) <= MAX_QUOTED_LINE:
        return text, col
    before = 40
    start = max(0, col - 1 - before)
    end = min(len(text), max(col - 1 + min(width, 60), start + MAX_QUOTED_LINE - 20))
    snippet = text[start:end]
    if start > 0:
        snippet = "…" + snippet
        col = col - start + 1
    if end < len(text):
        snippet += "…"
    return snippet, col


class RegimeError(Exception):
    """Base of the project's user-facing errors: a list of diagnostics, rendered without a traceback."""

    def __init__(self, diagnostics: Sequence[Diagnostic] | Diagnostic | str):
        if isinstance(diagnostics, str):
            diagnostics = [Diagnostic(diagnostics)]
        elif isinstance(diagnostics, Diagnostic):
            diagnostics = [diagnostics]
        self.diagnostics: list[Diagnostic] = list(diagnostics)
        super().__init__(self.render())

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "error"]

    def render(self) -> str:
        return "\n".join(d.render() for d in self.diagnostics)


class PolicyError(RegimeError):
    """A policy file that cannot be loaded, validated, parsed or checked."""


class DataError(RegimeError):
    """A data file that cannot be loaded or does not fit the policy."""


# Line breaks as YAML counts them (PyYAML's reader), so a quoted line is the one the
# YAML parser's marks and our positions refer to.
_LINE_BREAK = re.compile("\r\n|[\r\n\x85\u2028\u2029]")


def split_lines(text: str) -> list[str]:
    """`text` split at YAML line breaks (\\r\\n, \\r, \\n, NEL, LS, PS), breaks dropped."""
    return _LINE_BREAK.split(text)


def line_starts(text: str) -> list[int]:
    """Offset of the first character of each line of `text`, by YAML's line breaks."""
    return [0] + [m.end() for m in _LINE_BREAK.finditer(text)]


@dataclass(frozen=True)
class Source:
    """A file's name (as shown to the user) and text, for quoting lines under diagnostics."""

    file: str
    text: str = ""

    @cached_property
    def lines(self) -> list[str]:
        """The file's lines (split once: a file with many diagnostics stays linear)."""
        return split_lines(self.text)

    def line(self, n: int) -> str | None:
        lines = self.lines
        if not 1 <= n <= len(lines) or (n == len(lines) and not lines[-1]):
            return None
        return lines[n - 1]


@dataclass
class Reporter:
    """Collects diagnostics, attaching the file name and source line of each position."""

    source: Source | None = None
    diagnostics: list[Diagnostic] = field(default_factory=list)

    def add(self, message: str, pos: Pos | None = None, *, source: Source | None = None,
            code: str = codes.ERROR, severity: str = "error", hint: str | None = None) -> Diagnostic:
        src = source or self.source
        d = Diagnostic(message=message, file=src.file if src else None, pos=pos,
                       severity=severity, code=code,
                       source_line=src.line(pos.line) if (src and pos) else None, hint=hint)
        self.diagnostics.append(d)
        return d

    def error(self, message: str, pos: Pos | None = None, **kw) -> Diagnostic:
        return self.add(message, pos, **kw)

    def warning(self, message: str, pos: Pos | None = None, **kw) -> Diagnostic:
        kw.setdefault("code", codes.WARNING)
        return self.add(message, pos, severity="warning", **kw)

    @property
    def has_errors(self) -> bool:
        return any(d.severity == "error" for d in self.diagnostics)

    def raise_if_errors(self, cls: type[RegimeError] = PolicyError) -> None:
        if self.has_errors:
            raise cls(sorted_diagnostics(self.diagnostics))


def sorted_diagnostics(diags: Iterable[Diagnostic]) -> list[Diagnostic]:
    """File order: by file, line, column; diagnostics without a position first."""
    return sorted(diags, key=lambda d: (d.file or "", d.pos.line if d.pos else 0,
                                        d.pos.col if d.pos else 0))


MAX_NUMBER_CHARS = 100   # a number written longer is refused: no real figure needs more


def elide(text: str, keep: int = 12) -> str:
    """A long literal cut down for a message: its first and last characters and its length
    (an error about a 5,000-digit number must not print them all)."""
    if len(text) <= 2 * keep + 8:
        return text
    return f"{text[:keep]}…{text[-keep:]} ({len(text):,} characters)"


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    """The ' (did you mean 'x'?)' suffix for a misspelt name, or '' when nothing is close."""
    close = difflib.get_close_matches(name, sorted(set(candidates)), n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


# --- warnings about data (dataio) ---------------------------------------------------------------

class DataWarning(UserWarning):
    """A finding about data that does not stop a run (values that look 100x off, decisions
    that apply to nothing), issued with `warnings.warn` so library callers see it too; the
    command line prints its diagnostic."""

    def __init__(self, diagnostic: Diagnostic):
        self.diagnostic = diagnostic
        super().__init__(diagnostic.render())


def warn_data(diagnostic: Diagnostic) -> None:
    """Issue a DataWarning for `diagnostic` (a warning-severity copy of it)."""
    import warnings
    from dataclasses import replace

    warnings.warn(DataWarning(replace(diagnostic, severity="warning")), stacklevel=3)


@contextmanager
def data_warnings_to(echo) -> Iterator[None]:
    """Within the block, pass each DataWarning's rendered diagnostic to `echo` (every one, not
    once per place); other warnings are shown as usual."""
    import warnings

    def show(message, category, filename, lineno, file=None, line=None):
        if isinstance(message, DataWarning):
            echo(message.diagnostic.render())
        else:
            original(message, category, filename, lineno, file, line)

    with warnings.catch_warnings():
        original = warnings.showwarning
        warnings.simplefilter("always", DataWarning)
        warnings.showwarning = show
        yield
