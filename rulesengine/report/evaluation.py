"""The `regime eval` report: one row per entity (and period), a summary of counts per level,
and provenance, as a terminal table, CSV or JSON."""

from __future__ import annotations

import json
from typing import Sequence

from ..engine.outcomes import Outcomes
from .tabular import to_csv, to_markdown


def provenance(outcomes: Outcomes, periods: Sequence[int]):
    """The run's provenance narrowed to the periods an output reports."""
    return outcomes.provenance.for_periods([outcomes.period_labels[t] for t in periods])


def flags(row: dict) -> str:
    """Short words for what a reader must not miss about a row."""
    out = []
    if row["incomplete"]:
        out.append("incomplete: unknown " + ", ".join(row["unknown"]))
    if row["decided"]:
        who = f" by {row['decided_by']}" if row["decided_by"] else ""
        out.append(f"decided{who} (computed {row['computed']})")
    if row["candidate"]:
        out.append(f"candidate for {row['candidate_label']}")
    return "; ".join(out)


def eval_table(outcomes: Outcomes, periods: Sequence[int]) -> tuple[list[str], list[list]]:
    multi = len(periods) > 1
    headers = (["period"] if multi else []) + ["entity", "name", "level", "fired", "flags"]
    rows = []
    for row in outcomes.rows(periods):
        cells = [row["entity"], row["name"], row["label"], ", ".join(row["fired"]) or "-",
                 flags(row)]
        rows.append(([row["period"]] if multi else []) + cells)
    return headers, rows


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


def eval_csv(outcomes: Outcomes, periods: Sequence[int]) -> str:
    headers = ["period", "entity", "name", "type", "level", "label", "computed", "candidate",
               "fired", "unknown", "incomplete", "decided", "decided_by", "decision_reason"]
    rows = [[r[h] for h in headers] for r in outcomes.rows(periods)]
    comments = [outcomes.provenance.line()] if outcomes.provenance else []
    return to_csv(headers, rows, comments)


def eval_markdown(outcomes: Outcomes, periods: Sequence[int]) -> str:
    headers, rows = eval_table(outcomes, periods)
    text = to_markdown(headers, rows)
    text += "\n" + "\n".join(f"- {summary(outcomes, t)}" for t in periods) + "\n"
    if outcomes.provenance:
        text += f"\n_{outcomes.provenance.line()}_\n"
    return text


def eval_json(outcomes: Outcomes, periods: Sequence[int]) -> str:
    doc = {
        "provenance": provenance(outcomes, periods).to_json() if outcomes.provenance else None,
        "levels": [{"id": i, "label": lab} for i, lab in zip(outcomes.level_ids,
                                                             outcomes.level_labels)],
        "summary": {outcomes.period_labels[t]: outcomes.counts(t) for t in periods},
        "rows": outcomes.rows(periods),
    }
    return json.dumps(doc, indent=2)
