"""The `regime diff` tables for the machine formats (CSV, Parquet, xlsx): who moved, with
level ids beside labels; the transition matrix by id; the policy changes.

CSV and Parquet hold the moves; xlsx holds all three sheets and the provenance. (The text
and Markdown forms are rendered by `analysis.diff.render_text` / `render_markdown`.)
"""

from __future__ import annotations

import json

from ..analysis.diff import DiffResult
from .tabular import Records

MOVE_COLUMNS = ("entity", "name", "A level", "A label", "A candidate", "B level", "B label",
                "B candidate", "fired under A", "fired under B", "because of")


def relabel(d: DiffResult, style: str) -> DiffResult:
    """The same diff with periods labelled in `style` ("calendar" or "nhs": 2025/26 Q3)."""
    from dataclasses import replace

    from ..periods import format_label, parse_period

    if style == "calendar" or d.provenance_pair is None:
        return d
    kind = d.provenance_pair.b.period_kind or "quarter"

    def label(p: str) -> str:
        return format_label(kind, parse_period(p, kind).ordinal, style)

    pair = type(d.provenance_pair)(
        *(replace(x, periods=tuple(label(p) for p in x.periods))
          for x in (d.provenance_pair.a, d.provenance_pair.b)))
    return replace(d, period=label(d.period),
                   counts=tuple(dict(c, period=label(c["period"])) for c in d.counts),
                   provenance=pair.to_json(), provenance_pair=pair)


def moves_records(d: DiffResult) -> Records:
    rows = tuple((m.entity, m.name, m.before_id, m.before, m.before_candidate_id, m.after_id,
                  m.after, m.after_candidate_id, " ".join(m.fired_a), " ".join(m.fired_b),
                  "; ".join(m.causes))
                 for m in d.moves)
    return Records(MOVE_COLUMNS, rows, d.provenance_pair, name="moves")


def transitions_records(d: DiffResult) -> Records:
    headers = ("A level", "A label") + tuple(d.level_ids_b)
    rows = tuple((i, lab) + tuple(row) for i, lab, row in zip(d.level_ids_a, d.levels_a,
                                                             d.transitions))
    return Records(headers, rows, d.provenance_pair, name="transitions")


def changes_records(d: DiffResult) -> Records:
    def value(v):
        return None if v is None else (v if isinstance(v, (int, float, str)) and
                                       not isinstance(v, bool) else json.dumps(v, default=str))

    rows = tuple((c.kind, c.name, c.action, value(c.to_json()["before"]),
                  value(c.to_json()["after"]), c.describe()) for c in d.changes)
    return Records(("kind", "name", "action", "before", "after", "description"), rows,
                   d.provenance_pair, name="changes")


def diff_sheets(d: DiffResult) -> list[Records]:
    return [moves_records(d), transitions_records(d), changes_records(d)]
