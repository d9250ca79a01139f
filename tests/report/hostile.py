"""A policy, a data set and a decisions file whose every free-text field is hostile: CSV and
Markdown structure, rich markup, mathtext, HTML, spreadsheet formulas, control characters."""

from __future__ import annotations

from pathlib import Path

# one text per class of attack; every field below gets some of them
NEWLINE_ROW = "1\nT9,2099-Q9,EVIL,x"       # a CSV/Markdown row smuggled in by a newline
RICH_CLOSE = "Two [/]"                      # rich: closing tag with nothing open
RICH_TAG = "St Mary [closed]"               # rich: a tag that would vanish
MATH = "$\\frac{$"                          # matplotlib mathtext that does not parse
FORMULA = '=HYPERLINK("http://evil.invalid","x")'
AT_FORMULA = "@SUM(1+1)"
PLUS_FORMULA = "+cmd|' /C calc'!A0"
MARKDOWN = "a | b *c* [d](http://e.invalid) <img src=x onerror=alert(1)> \\"
HTML = "<script>alert('x')</script> & \"q\""
CONTROL = "bell\x07 esc\x1b[2J cr\rend \u202eevil"
UNDERSCORE = "_hidden"

TEXTS = (NEWLINE_ROW, RICH_CLOSE, RICH_TAG, MATH, FORMULA, AT_FORMULA, PLUS_FORMULA, MARKDOWN,
         HTML, CONTROL, UNDERSCORE)


def _q(text: str) -> str:
    """A YAML double-quoted scalar."""
    return '"' + "".join(
        {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\x07": "\\a",
         "\x1b": "\\e"}.get(c, c) if c in '\\"\n\r\x07\x1b' else
        (f"\\u{ord(c):04x}" if ord(c) > 0x7e else c) for c in text) + '"'


def policy_text(version: str = NEWLINE_ROW) -> str:
    return "\n".join([
        "policy: hostile",
        f"title: {_q(RICH_CLOSE + ' ' + HTML + ' ' + MATH)}",
        f"version: {_q(version)}",
        "entity: trust",
        "period: quarter",
        "peer_group: type",
        "levels:",
        f"  - {{id: fine, label: {_q(RICH_TAG)}}}",
        f"  - {{id: watch, label: {_q(FORMULA)}}}",
        f"  - {{id: act, label: {_q(MATH + ' ' + MARKDOWN)}}}",
        f"  - {{id: decide, label: {_q(UNDERSCORE)}, decided_by: {_q(AT_FORMULA)}}}",
        "default: fine",
        "params:",
        "  cut: {value: 50, unit: percentile, note: " + _q(CONTROL) + "}",
        "inputs:",
        "  score: {type: number, better: higher, label: " + _q(RICH_CLOSE) + "}",
        "rules:",
        "  - id: low_score",
        "    level: watch",
        "    when: pct_rank(score) <= cut",
        f"    reason: {_q(NEWLINE_ROW + ' ' + RICH_CLOSE)}",
        "  - id: very_low",
        "    level: act",
        "    when: score < 20",
        f"    reason: {_q(MATH)}",
        "",
    ])


ENTITIES = [  # id, name, type
    ("T1", NEWLINE_ROW, "acute"),
    ("T2", RICH_CLOSE, "acute"),
    ("T3", RICH_TAG, MATH),
    ("T4", FORMULA, MATH),
    ("T5", AT_FORMULA, RICH_TAG),
    ("T6", PLUS_FORMULA, RICH_TAG),
    ("T7", MARKDOWN, "acute"),
    ("T8", HTML, UNDERSCORE),
    ("T9", CONTROL, UNDERSCORE),
]


def _csv_field(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def write_case(folder: Path, version: str = NEWLINE_ROW) -> dict[str, str]:
    """Write the policy, data (long CSV and entities.csv) and decisions; return their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "hostile.yaml").write_text(policy_text(version), encoding="utf-8")
    data = folder / "data"
    data.mkdir(exist_ok=True)
    rows = ["entity,name,kind,type,parent,region"]
    rows += [f"{e},{_csv_field(n)},trust,{_csv_field(t)},,{_csv_field(HTML)}"
             for e, n, t in ENTITIES]
    (data / "entities.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    metrics = ["entity,period,metric,value"]
    for q in ("2024-Q3", "2024-Q4"):
        for i, (e, _, _) in enumerate(ENTITIES):
            metrics.append(f"{e},{q},score,{10 + 10 * i}")
    (data / "metrics.csv").write_text("\n".join(metrics) + "\n", encoding="utf-8")
    decisions = folder / "decisions.csv"
    decisions.write_text(
        "entity,period,level,decided_by,reason\n"
        f"T2,2024-Q4,decide,{_csv_field(FORMULA)},{_csv_field(NEWLINE_ROW + RICH_CLOSE)}\n"
        f"T3,2024-Q4,decide,{_csv_field(RICH_TAG)},{_csv_field(MATH + CONTROL)}\n",
        encoding="utf-8")
    return {"policy": str(folder / "hostile.yaml"), "data": str(data),
            "decisions": str(decisions)}
