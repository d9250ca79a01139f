"""Diagnostics: the one error type of the project, with positions in the user's own file.

Every stage (YAML load, schema, parser, checker, data loaders) reports problems as
`Diagnostic` values. A stage that cannot go on raises `PolicyError` (or `DataError`)
carrying all the diagnostics found so far, so authors see several problems at once.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Iterable, Sequence


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
    code: str = "error"
    source_line: str | None = None
    hint: str | None = None

    @property
    def location(self) -> str:
        where = self.file or "<input>"
        if self.pos is not None:
            where += f":{self.pos.line}:{self.pos.col}"
        return where

    def headline(self) -> str:
        return f"{self.location}: {self.severity}: {self.message}"

    def render(self) -> str:
        """The diagnostic as an author reads it: headline, source line, caret."""
        lines = [self.headline()]
        if self.source_line is not None and self.pos is not None:
            text = self.source_line.rstrip("\n").expandtabs(1)
            lines.append("    " + text)
            width = 1
            if self.pos.end_col is not None and self.pos.end_col > self.pos.col:
                width = self.pos.end_col - self.pos.col
            width = max(1, min(width, len(text) - self.pos.col + 2))
            lines.append("    " + " " * (self.pos.col - 1) + "^" + "~" * (width - 1))
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


@dataclass(frozen=True)
class Source:
    """A file's name (as shown to the user) and text, for quoting lines under diagnostics."""

    file: str
    text: str = ""

    def line(self, n: int) -> str | None:
        lines = self.text.splitlines()
        return lines[n - 1] if 1 <= n <= len(lines) else None


@dataclass
class Reporter:
    """Collects diagnostics, attaching the file name and source line of each position."""

    source: Source | None = None
    diagnostics: list[Diagnostic] = field(default_factory=list)

    def add(self, message: str, pos: Pos | None = None, *, source: Source | None = None,
            code: str = "error", severity: str = "error", hint: str | None = None) -> Diagnostic:
        src = source or self.source
        d = Diagnostic(message=message, file=src.file if src else None, pos=pos,
                       severity=severity, code=code,
                       source_line=src.line(pos.line) if (src and pos) else None, hint=hint)
        self.diagnostics.append(d)
        return d

    def error(self, message: str, pos: Pos | None = None, **kw) -> Diagnostic:
        return self.add(message, pos, **kw)

    def warning(self, message: str, pos: Pos | None = None, **kw) -> Diagnostic:
        kw.setdefault("code", "warning")
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


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    """The ' (did you mean 'x'?)' suffix for a misspelt name, or '' when nothing is close."""
    close = difflib.get_close_matches(name, sorted(set(candidates)), n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""
