"""Judgement decisions: a CSV of (entity, period, level, decided_by, reason) that overrides the
computed level, as a Secretary of State, regulator or region decided.

A decision applies to its period only; `previous(level)` in the next period sees it, so a
decision carries into later rules (e.g. how long an entity has been in a segment).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import codes
from ..diagnostics import DataError, Diagnostic, Pos, did_you_mean, warn_data
from ..files import DECISIONS, read_input
from ..periods import PeriodError, format_period, parse_period
from ..policy.load import display_name
from ..policy.model import Policy
from .panel import Entities

COLUMNS = ("entity", "period", "level", "decided_by", "reason")


@dataclass(frozen=True)
class Decision:
    """One judgement decision as the decisions file gives it (outputs cite `where`)."""

    entity: str
    period: str
    level: str
    decided_by: str
    reason: str
    where: str                  # file:line, for provenance


def load_decisions(path: str | Path, policy: Policy, entities: Entities, period_kind: str,
                   start: int, n_periods: int
                   ) -> tuple[np.ndarray, dict[tuple[int, int], Decision]]:
    """The decisions as a [periods, entities] array of level indexes (NaN = none) plus the
    decisions themselves by (period index, entity index)."""

    name = display_name(Path(path))
    data = read_input(path, limit=DECISIONS, shown=name, error=DataError)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        bom = 3 if data.startswith(b"\xef\xbb\xbf") else 0
        at = e.start + bom
        line = data.count(b"\n", 0, at) + 1
        col = at - (data.rfind(b"\n", 0, at) + 1) + 1
        raise DataError(Diagnostic(f"decisions file is not UTF-8 text (byte 0x{data[at]:02x} "
                                   f"cannot be decoded; save the file as UTF-8)", file=name,
                                   pos=Pos(line, col))) from None
    lines, rows = _records(text, name)
    if not rows:
        raise DataError(Diagnostic("decisions file is empty", file=name, pos=Pos(1, 1)))
    header = [h.strip().lower() for h in rows[0]]
    errors: list[Diagnostic] = []
    missing = [c for c in COLUMNS[:3] if c not in header]
    if missing:
        raise DataError(Diagnostic(
            f"decisions file lacks column '{missing[0]}' (it needs {', '.join(COLUMNS)})"
            f"{did_you_mean(missing[0], header)}", file=name, pos=Pos(1, 1)))
    col = {c: header.index(c) for c in COLUMNS if c in header}
    ids = entities.ids          # looked up by code: no dict of every entity per file
    levels = {lv.id: lv.index for lv in policy.levels}
    out = np.full((n_periods, len(entities)), np.nan)
    decisions: dict[tuple[int, int], Decision] = {}

    ignored: list[tuple[int, str, str]] = []           # (line, column, message)
    kinds = tuple(policy.entity or ())
    span = (f"{format_period(period_kind, start)} to "
            f"{format_period(period_kind, start + n_periods - 1)}") if n_periods else "nothing"

    def err(message: str, line: int, column: str) -> None:
        errors.append(Diagnostic(message, file=name, pos=Pos(line, col[column] + 1),
                                 code=codes.DECISION))

    for line, row in zip(lines[1:], rows[1:]):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) < len(header):
            row = row + [""] * (len(header) - len(row))
        entity = row[col["entity"]].strip()
        level = row[col["level"]].strip()
        period_text = row[col["period"]].strip()
        code = ids.code_of(entity)
        if code < 0:
            err(f"unknown entity '{entity}' in column 'entity'"
                f"{did_you_mean(entity, ids.values)}", line, "entity")
            continue
        if level not in levels:
            err(f"'{level}' in column 'level' is not a level of policy '{policy.id}' "
                f"({', '.join(levels)}){did_you_mean(level, levels)}", line, "level")
            continue
        try:
            ordinal = parse_period(period_text, period_kind).ordinal
        except PeriodError as e:
            err(f"{e} (column 'period')", line, "period")
            continue
        t = ordinal - start
        e = int(ids.last_rows()[code])
        if not 0 <= t < n_periods:
            # Not an error (a decisions file may cover more years than the data), but not
            # silently dropped either: it is in play nowhere.
            ignored.append((line, "period", f"a decision for {entity} in {period_text} is "
                            f"ignored: the data cover {span}"))
            continue
        if kinds and entities.kinds[e] not in kinds:
            ignored.append((line, "entity", f"a decision for {entity} is ignored: it is "
                            f"{_a(entities.kinds[e])}, and policy '{policy.id}' decides on "
                            f"{', '.join(kinds)}"))
            continue
        if (t, e) in decisions:
            err(f"a second decision for {entity} in {period_text} "
                f"(the first is at {decisions[(t, e)].where})", line, "period")
            continue
        out[t, e] = levels[level]
        decisions[(t, e)] = Decision(
            entity=entity, period=period_text, level=level,
            decided_by=row[col["decided_by"]].strip() if "decided_by" in col else "",
            reason=row[col["reason"]].strip() if "reason" in col else "",
            where=f"{name}:{line}")
        if len(errors) >= 20:
            break
    if errors:
        raise DataError(errors)
    for line, column, message in ignored[:_MAX_WARNED]:
        warn_data(Diagnostic(message, file=name, pos=Pos(line, col[column] + 1),
                             severity="warning", code=codes.DECISION_IGNORED))
    if len(ignored) > _MAX_WARNED:
        warn_data(Diagnostic(f"{len(ignored) - _MAX_WARNED} more decisions are ignored",
                             file=name, severity="warning", code=codes.DECISION_IGNORED))
    return out, decisions


_MAX_WARNED = 10


def _a(kind: str) -> str:
    return f"an {kind}" if kind[:1].lower() in "aeiou" else f"a {kind or 'entity'}"


def _records(text: str, name: str) -> tuple[list[int], list[list[str]]]:
    """The CSV records with the line each starts on (a quoted reason may span lines)."""
    reader = csv.reader(io.StringIO(text))
    lines: list[int] = []
    rows: list[list[str]] = []
    start = 1
    try:
        for row in reader:
            lines.append(start)
            rows.append(row)
            start = reader.line_num + 1
    except csv.Error as e:
        raise DataError(Diagnostic(f"cannot read this row as CSV: {e}", file=name,
                                   pos=Pos(start, 1))) from None
    return lines, rows
