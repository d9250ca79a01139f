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
