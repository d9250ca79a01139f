"""The `regime diff` tables for the machine formats (CSV, Parquet, xlsx): who moved, with
level ids beside labels; the transition matrix by id; the policy changes.

CSV and Parquet hold the moves; xlsx holds all three sheets and the provenance. The text and
Markdown forms (`render_text`, `render_markdown`) are here too.
"""

from __future__ import annotations

import json

from ..analysis.diff import DiffResult
from ..periods import format_label, parse_period
from .escape import markdown, terminal
from .tabular import Records, to_markdown

MOVE_COLUMNS = ("entity", "name", "A level", "A label", "A candidate", "B level", "B label",
                "B candidate", "fired under A", "fired under B", "because of")


def relabel(d: DiffResult, style: str) -> DiffResult:
    """The same diff with periods labelled in `style` ("calendar" or "nhs": 2025/26 Q3)."""
    from dataclasses import replace


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


# --- text and Markdown ----------------------------------------------------------------------

def policy_name(ident: dict) -> str:
    """How a diff names one side: `id@revision vVERSION`."""
    rev = f"@{ident['revision']}" if ident.get("revision") else ""
    return f"{ident['id']}{rev} v{ident['version']}"


def moves_table(d: DiffResult) -> tuple[list[str], list[list]]:
    headers = ["entity", "name", "A", "B", "fired under A", "fired under B", "because of"]
    rows = []
    for m in d.moves:
        a = m.before + (f" (candidate {m.before_candidate})" if m.before_candidate else "")
        b = m.after + (f" (candidate {m.after_candidate})" if m.after_candidate else "")
        rows.append([m.entity, m.name, a, b, ", ".join(m.fired_a) or "-",
                     ", ".join(m.fired_b) or "-", "; ".join(m.causes) or "-"])
    return headers, rows


def transition_table(d: DiffResult) -> tuple[list[str], list[list]]:
    headers = ["A \\ B"] + list(d.levels_b)
    rows = [[la] + list(row) for la, row in zip(d.levels_a, d.transitions)]
    return headers, rows


def counts_table(d: DiffResult) -> tuple[list[str], list[list]]:
    la = list(d.counts[0]["a"]) if d.counts else []
    lb = list(d.counts[0]["b"]) if d.counts else []
    headers = ["period"] + [f"A {k}" for k in la] + [f"B {k}" for k in lb]
    rows = [[c["period"]] + [c["a"][k] for k in la] + [c["b"][k] for k in lb]
            for c in d.counts]
    return headers, rows


def render_text(d: DiffResult) -> str:
    """The diff for a terminal or a text file (policy and data text shown literally)."""
    esc = terminal
    lines = [f"A: {esc(policy_name(d.a))} ({esc(d.a['file'])}, sha256:{d.a['hash'][:12]})",
             f"B: {esc(policy_name(d.b))} ({esc(d.b['file'])}, sha256:{d.b['hash'][:12]})",
             f"Period compared: {d.period}", "", "Policy changes:"]
    lines += [f"  {esc(c.describe())}" for c in d.changes] or ["  (none)"]
    if d.not_revertible:
        lines.append("  could not be reverted on their own: "
                     + esc(", ".join(d.not_revertible)))
    lines += ["", "Transitions (rows: A, columns: B):", plain_table(*transition_table(d)), ""]
    lines.append(f"Moved: {len(d.moves)}")
    if d.moves:
        lines.append(plain_table(*moves_table(d)))
    for what, ids in (("Decided on by A only", d.left_scope),
                      ("Decided on by B only", d.entered_scope)):
        if ids:
            shown = ", ".join(ids[:12]) + (f", ... ({len(ids)} in all)" if len(ids) > 12 else "")
            lines.append(f"{what}: {esc(shown)}")
    lines += ["", "Entities per level per period:", plain_table(*counts_table(d))]
    if d.provenance_pair is not None:
        lines.append("Provenance: A " + esc(d.provenance_pair.a.line()))
        lines.append("            B " + esc(d.provenance_pair.b.line()))
    return "\n".join(lines) + "\n"


def plain_table(headers, rows) -> str:
    cells = [[terminal(h) for h in headers]] + [[terminal(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    out = []
    for k, r in enumerate(cells):
        out.append("  " + "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
        if k == 0:
            out.append("  " + "  ".join("-" * w for w in widths))
    return "\n".join(out)


def render_markdown(d: DiffResult) -> str:
    """The diff as Markdown (policy and data text escaped)."""
    esc = markdown
    parts = [f"# {esc(policy_name(d.a))} → {esc(policy_name(d.b))}, {esc(d.period)}", "",
             f"Period compared: {esc(d.period)}", "", "## Policy changes", ""]
    parts += [f"- {esc(c.describe())}" for c in d.changes] or ["- (none)"]
    parts += ["", "## Transitions (rows: A, columns: B)", "", to_markdown(*transition_table(d)),
              f"## Moved ({len(d.moves)})", "", to_markdown(*moves_table(d))]
    for what, ids in (("Decided on by A only", d.left_scope),
                      ("Decided on by B only", d.entered_scope)):
        if ids:
            parts += [f"{what} ({len(ids)}): " + esc(", ".join(ids)), ""]
    parts += ["## Entities per level per period", "", to_markdown(*counts_table(d))]
    if d.provenance_pair is not None:
        parts += [f"_A: {esc(d.provenance_pair.a.line())}_", "",
                  f"_B: {esc(d.provenance_pair.b.line())}_"]
    return "\n".join(parts) + "\n"
