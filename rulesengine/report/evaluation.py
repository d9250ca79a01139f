"""The `regime eval` report: one row per entity (and period), a summary of counts per level,
and provenance, as a terminal table, Markdown, CSV, JSON, Parquet or xlsx.

Every format takes its rows from `eval_records` (typed cells) or `eval_table` (cells for a
reader), and its provenance from `provenance()`; the JSON form follows
`schemas/eval.schema.json`.
"""

from __future__ import annotations

import json
import math
from typing import Sequence

from ..engine.outcomes import Outcomes
from ..periods import format_label, parse_period
from .escape import markdown
from .tabular import Records, to_markdown

RECORD_COLUMNS = ("period", "entity", "name", "type", "level", "label", "computed",
                  "candidate", "fired", "unknown", "incomplete", "decided", "decided_by",
                  "decision_reason", "in_effect")


def relabel(outcomes: Outcomes, style: str) -> Outcomes:
    """The same outcomes with periods labelled in `style` ("calendar" or "nhs": 2025/26 Q3),
    for writing out; look periods up (--period) before relabelling."""
    from dataclasses import replace


    if style == "calendar":
        return outcomes
    kind = outcomes.period_kind
    labels = tuple(format_label(kind, parse_period(p, kind).ordinal, style)
                   for p in outcomes.period_labels)
    prov = outcomes.provenance
    if prov is not None:
        prov = replace(prov, periods=tuple(labels[outcomes.period_labels.index(p)]
                                           if p in outcomes.period_labels else p
                                           for p in prov.periods))
    return replace(outcomes, period_labels=labels, provenance=prov)


def provenance(outcomes: Outcomes, periods: Sequence[int]):
    """The run's provenance narrowed to the periods an output reports."""
    return outcomes.provenance.for_periods([outcomes.period_labels[t] for t in periods])


def flags(row: dict) -> str:
    """Short words for what a reader must not miss about a row."""
    out = []
    if not row.get("in_effect", True):
        out.append("outside the policy's effective dates")
    if row["incomplete"]:
        out.append("incomplete: unknown " + ", ".join(row["unknown"]))
    if row["decided"]:
        who = f" by {row['decided_by']}" if row["decided_by"] else ""
        out.append(f"decided{who} (computed {row['computed']})")
    if row["candidate"]:
        out.append(f"candidate for {row['candidate_label']}")
    return "; ".join(out)


def _extra(shown, t: int, e: int) -> list:
    return [] if shown is None else shown.values(t, e)


def eval_table(outcomes: Outcomes, periods: Sequence[int], shown=None
               ) -> tuple[list[str], list[list]]:
    """Headers and rows for a reader (terminal, Markdown); `shown` adds --show columns."""
    multi = len(periods) > 1
    headers = (["period"] if multi else []) + ["entity", "name", "level", "fired", "flags"]
    headers += list(shown.headers) if shown is not None else []
    rows = []
    for t in periods:
        for row, e in _rows(outcomes, t):
            cells = [row["entity"], row["name"], row["label"], ", ".join(row["fired"]) or "-",
                     flags(row)]
            rows.append(([row["period"]] if multi else []) + cells + _extra(shown, t, e))
    return headers, rows


def _rows(outcomes: Outcomes, t: int):
    import numpy as np

    for e in np.flatnonzero(outcomes.raw.subject[t]):
        yield outcomes.row(t, int(e)), int(e)


def eval_records(outcomes: Outcomes, periods: Sequence[int], shown=None) -> Records:
    """The machine-readable table (CSV, Parquet, xlsx): typed cells, lists of rules as
    space-separated ids."""
    headers = RECORD_COLUMNS + (tuple(shown.headers) if shown is not None else ())
    rows = []
    for t in periods:
        for row, e in _rows(outcomes, t):
            cells = [row[h] for h in RECORD_COLUMNS]
            cells = [" ".join(c) if isinstance(c, list) else c for c in cells]
            rows.append(tuple(cells) + tuple(_extra(shown, t, e)))
    return Records(headers, tuple(rows), provenance(outcomes, periods), name="eval")


def summary(outcomes: Outcomes, t: int) -> str:
    counts = outcomes.counts(t)
    labels = dict(zip(outcomes.level_ids, outcomes.level_labels))
    total = sum(counts.values())
    incomplete = int((outcomes.raw.incomplete[t] & outcomes.raw.subject[t]).sum())
    parts = ", ".join(f"{labels[k]}: {v}" for k, v in counts.items())
    extra = f"; {incomplete} incomplete" if incomplete else ""
    subject = outcomes.raw.subject[t]
    cand = outcomes.raw.candidate[t][subject]
    waiting = [f"{labels[lv]}: {int((cand == i).sum())}" for i, lv in
               enumerate(outcomes.level_ids) if (cand == i).any()]
    if waiting:
        extra += "; candidates awaiting a decision — " + ", ".join(waiting)
    return f"{outcomes.period_labels[t]}: {total} entities — {parts}{extra}"


def title(policy_title: str, outcomes: Outcomes, periods: Sequence[int]) -> str:
    """`Title (id v1.0), 2025-Q1` (raw text: each format escapes it)."""
    prov = outcomes.provenance
    labels = [outcomes.period_labels[t] for t in periods]
    when = labels[0] if len(labels) == 1 else f"{labels[0]} to {labels[-1]}"
    who = f" ({prov.policy_id} v{prov.policy_version})" if prov else ""
    return f"{policy_title}{who}, {when}"


def eval_markdown(outcomes: Outcomes, periods: Sequence[int], *, policy_title: str = "",
                  shown=None) -> str:
    headers, rows = eval_table(outcomes, periods, shown)
    text = f"# {markdown(title(policy_title or 'Evaluation', outcomes, periods))}\n\n"
    text += to_markdown(headers, rows)
    text += "\n" + "\n".join(f"- {markdown(summary(outcomes, t))}" for t in periods) + "\n"
    if outcomes.provenance:
        text += f"\n_{markdown(provenance(outcomes, periods).line())}_\n"
    return text


def _json_value(v):
    if isinstance(v, float) and not math.isfinite(v):
        return None         # missing data: JSON has no NaN
    return v


def eval_document(outcomes: Outcomes, periods: Sequence[int], shown=None) -> dict:
    """The JSON document (see schemas/eval.schema.json)."""
    rows = []
    for t in periods:
        for row, e in _rows(outcomes, t):
            if shown is not None:
                row["shown"] = {h: _json_value(v)
                                for h, v in zip(shown.headers, shown.values(t, e))}
            rows.append(row)
    return {
        "provenance": provenance(outcomes, periods).to_json() if outcomes.provenance else None,
        "levels": [{"id": i, "label": lab} for i, lab in zip(outcomes.level_ids,
                                                             outcomes.level_labels)],
        "summary": {outcomes.period_labels[t]: outcomes.counts(t) for t in periods},
        "rows": rows,
    }


def eval_json(outcomes: Outcomes, periods: Sequence[int], shown=None) -> str:
    return json.dumps(eval_document(outcomes, periods, shown), indent=2, allow_nan=False) + "\n"
