"""HTML: a report to share (`regime report`) and the tables notebooks show.

The report is one self-contained file: inline CSS, a little inline JavaScript and an inline
SVG chart, nothing fetched from the network (the Content-Security-Policy says so too), so it
can be mailed or put on a shared drive and opened anywhere. Every piece of policy or data
text goes through `esc()`: a policy is untrusted input and its words must not become markup.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Sequence

from ..analysis.explain import Explainer, Markup, outcome_notes

if TYPE_CHECKING:
    from ..analysis.diff import DiffResult
    from ..analysis.explain import Condition, Explanation
    from ..engine.outcomes import Outcomes


def esc(x) -> str:
    """Text as HTML (quotes too, so it is safe inside attribute values)."""
    return html.escape("" if x is None else str(x), quote=True)


def level_colours(n: int) -> list[str]:
    """A colour per level, best (green) to worst (red), readable with dark text."""
    stops = [(0x2e, 0x9e, 0x5b), (0xf2, 0xc1, 0x4e), (0xe0, 0x5a, 0x3a), (0x7a, 0x1f, 0x4a)]
    if n <= 1:
        return ["#2e9e5b"]
    out = []
    for i in range(n):
        x = i / (n - 1) * (len(stops) - 1)
        k = min(int(x), len(stops) - 2)
        f = x - k
        rgb = [round(a + (b - a) * f) for a, b in zip(stops[k], stops[k + 1])]
        out.append("#%02x%02x%02x" % tuple(rgb))
    return out


def table_html(headers: Sequence[str], rows: Sequence[Sequence], cls: str = "regime") -> str:
    """A plain table, every cell escaped."""
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in row) + "</tr>"
                   for row in rows)
    return f'<table class="{esc(cls)}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


# --- fragments (notebooks and the report) -------------------------------------------------------

def counts_chart(labels: Sequence[str], counts: Sequence[int], title: str) -> str:
    """Organisations per level as an inline SVG bar chart, one bar per level."""
    width, bar_h, gap, left = 560, 26, 8, 150
    top = 34
    height = top + len(labels) * (bar_h + gap) + 8
    most = max(list(counts) + [1])
    colours = level_colours(len(labels))
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" class="chart" '
             f'width="{width}" height="{height}" viewBox="0 0 {width} {height}">',
             f"<title>{esc(title)}</title>",
             f'<text x="0" y="18" class="chart-title">{esc(title)}</text>']
    for i, (label, n) in enumerate(zip(labels, counts)):
        y = top + i * (bar_h + gap)
        w = round((width - left - 60) * n / most)
        parts.append(f'<text x="{left - 8}" y="{y + bar_h * 0.68:.1f}" text-anchor="end">'
                     f'{esc(label)}</text>')
        parts.append(f'<rect x="{left}" y="{y}" width="{w}" height="{bar_h}" '
                     f'fill="{colours[i]}"><title>{esc(label)}: {n}</title></rect>')
        parts.append(f'<text x="{left + w + 6}" y="{y + bar_h * 0.68:.1f}">{n}</text>')
    parts.append("</svg>")
    return "".join(parts)


def evaluation_fragment(outcomes: "Outcomes", t: int, limit: int | None = None) -> str:
    """One period's outcomes as a table (what a notebook cell shows for an Evaluation)."""
    rows = outcomes.rows([t])
    counts = outcomes.counts(t)
    summary = ", ".join(f"{esc(label)} {counts[i]}" for i, label in
                        zip(outcomes.level_ids, outcomes.level_labels))
    shown = rows if limit is None else rows[:limit]
    table = table_html(["entity", "name", "type", "level", "fired", "flags"],
                       [[r["entity"], r["name"], r["type"], r["label"], ", ".join(r["fired"]),
                         _flags(r)] for r in shown])
    more = (f"<p>{len(rows) - len(shown)} more rows: .to_frame() has them all</p>"
            if len(shown) < len(rows) else "")
    return (f"<p><b>{esc(outcomes.period_labels[t])}</b>: {len(rows)} organisations: "
            f"{summary}</p>{table}{more}")


def _flags(row: dict) -> str:
    flags = []
    if row.get("incomplete"):
        flags.append("incomplete")
    if row.get("decided"):
        flags.append(f"decided by {row.get('decided_by') or 'a decision'}")
    if row.get("candidate"):
        flags.append(f"candidate for {row.get('candidate_label') or row['candidate']}")
    return "; ".join(flags)


def explanation_fragment(x: "Explanation") -> str:
    """An explanation as HTML: the outcome, the deciding rules, what would move it, and every
    rule with its conditions."""
    out = [f'<div class="explanation" data-entity="{esc(x.entity)}">']
    meaning = f": {esc(x.level_meaning)}" if x.level_meaning else ""
    out.append(f'<p class="outcome">Outcome: <b>{esc(x.level_label)}</b>{meaning} '
               f'<span class="muted">({esc(x.period)}; {esc(x.policy_id)} '
               f'v{esc(x.policy_version)})</span></p>')
    items = outcome_notes(x, _HTML)
    out.append("<ul>" + "".join(f"<li>{i}</li>" for i in items) + "</ul>")
    if x.moves:
        out.append("<p><b>What would move it</b> (one input changed, other organisations' "
                   "values as they are):</p><ul>")
        out += [f"<li>to reach {esc(m.level_label)}: {esc(m.text)}</li>" for m in x.moves]
        out.append("</ul>")
    out.append('<table class="rules"><thead><tr><th>rule</th><th>level</th><th>status</th>'
               '<th>conditions</th></tr></thead><tbody>')
    for r in x.rules:
        conds = "".join(_condition_html(c) for c in r.conditions)
        flip = r.flip.text if r.flip is not None else r.flip_note
        if flip:
            conds += f'<div class="flip">Flips: {esc(flip)}</div>'
        status = esc(r.status)
        cls = {"fired": "fired", "unknown": "unknown"}.get(r.status, "")
        out.append(f'<tr class="{cls}"><td><code>{esc(r.id)}</code></td>'
                   f'<td>{esc(r.level_label)}{" (judgement)" if r.judgement else ""}</td>'
                   f'<td>{status}</td><td>{conds}</td></tr>')
    out.append("</tbody></table>")
    if x.missing:
        out.append(f'<p class="muted">Missing data this period: '
                   f'{esc(", ".join(x.missing))}</p>')
    out.append("</div>")
    return "".join(out)


_HTML = Markup(text=esc, code=lambda s: f"<code>{esc(s)}</code>", strong=lambda s: f"<b>{s}</b>",
               deciding=lambda s: f'<span class="deciding">{s}</span>')


def _condition_html(c: "Condition") -> str:
    if c.define is not None:
        parts = "".join(_condition_html(p) for p in c.parts)
        return (f'<div class="cond"><code>{esc(c.define)}</code> is {esc(c.value)}'
                f'<div class="parts">{parts}</div></div>')
    context = "".join(f'<div class="muted">{esc(line)}</div>' for line in c.context)
    return (f'<div class="cond"><code>{esc(c.text)}</code>: {esc(c.detail)} '
            f'({esc(c.value)}){context}</div>')


def diff_fragment(d: "DiffResult") -> str:
    """A comparison: its policy changes, the transition matrix (movers highlighted, the
    unchanged diagonal greyed) and who moved because of which change."""
    # lark (through analysis.diff): only a report that compares two policies
    from .comparison import moves_table

    out = [f"<p><b>{esc(d.a.get('id'))} v{esc(d.a.get('version'))}</b> &rarr; "
           f"<b>{esc(d.b.get('id'))} v{esc(d.b.get('version'))}</b>, {esc(d.period)}</p>"]
    if d.changes:
        out.append("<p>Changes:</p><ul>" + "".join(f"<li>{esc(c.describe())}</li>"
                                                    for c in d.changes) + "</ul>")
    same = d.same_level() if d.level_ids_a and d.level_ids_b else None
    most = max([max(row) for row in d.transitions if row] + [1])
    head = "".join(f"<th>{esc(label)}</th>" for label in d.levels_b)
    rows = []
    for i, (label, row) in enumerate(zip(d.levels_a, d.transitions)):
        cells = []
        for j, n in enumerate(row):
            if same is not None and same[i, j]:
                style = 'class="same"'
            elif n:
                alpha = 0.25 + 0.75 * n / most
                style = f'class="moved" style="background: rgba(214, 72, 48, {alpha:.2f})"'
            else:
                style = ""
            cells.append(f"<td {style}>{n}</td>")
        rows.append(f"<tr><th>{esc(label)}</th>{''.join(cells)}</tr>")
    out.append(f'<table class="matrix"><caption>Transition matrix: rows '
               f'{esc(d.a.get("id"))} (A), columns {esc(d.b.get("id"))} (B); grey cells did '
               f'not move</caption><thead><tr><th>A \\ B</th>{head}</tr></thead>'
               f'<tbody>{"".join(rows)}</tbody></table>')
    headers, moves = moves_table(d)
    out.append(f"<p>{len(moves)} organisation{'s' if len(moves) != 1 else ''} moved.</p>")
    if moves:
        out.append(table_html(headers, moves, "moves"))
    return "".join(out)


# --- the report page ----------------------------------------------------------------------------

_CSS = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 24px;
       color: #1d232a; max-width: 1200px; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 18px; margin: 28px 0 8px; }
.muted { color: #5f6b76; font-size: 12px; }
table { border-collapse: collapse; margin: 8px 0; }
th, td { border-bottom: 1px solid #dde2e6; padding: 4px 8px; text-align: left;
         vertical-align: top; }
thead th { background: #f3f5f7; }
#orgs th[data-col] { cursor: pointer; user-select: none; }
#orgs th[data-col]::after { content: " \\2195"; color: #9aa5ae; }
#orgs th[aria-sort="ascending"]::after { content: " \\2191"; color: #1d232a; }
#orgs th[aria-sort="descending"]::after { content: " \\2193"; color: #1d232a; }
.level { display: inline-block; padding: 0 8px; border-radius: 10px; color: #111;
         font-weight: 600; }
button.expand { border: 1px solid #b8c2ca; background: #fff; border-radius: 4px; width: 26px;
                cursor: pointer; }
tr.detail > td { background: #fafbfc; padding: 8px 16px 16px 40px; }
table.rules tr.fired td { background: #fff4e5; } table.rules tr.unknown td { background: #eef3ff; }
.cond { margin: 2px 0; } .parts { margin-left: 16px; } .flip { color: #5f6b76; margin-top: 2px; }
.deciding { font-weight: 600; }
table.matrix td { text-align: center; min-width: 56px; }
table.matrix td.same { background: #e9ecef; color: #6c757d; }
table.matrix td.moved { font-weight: 700; }
.controls { margin: 8px 0; display: flex; gap: 12px; align-items: center; }
.controls input { padding: 4px 8px; width: 280px; }
.chart-title { font-weight: 600; font-size: 14px; }
svg.chart text { font: 12px system-ui, sans-serif; fill: #1d232a; }
"""

_JS = """
(function () {
  var table = document.getElementById('orgs');
  var body = table.tBodies[0];
  function pairs() {
    var out = [], rows = body.rows;
    for (var i = 0; i < rows.length; i++) {
      if (rows[i].classList.contains('org')) { out.push([rows[i], rows[i].nextElementSibling]); }
    }
    return out;
  }
  body.addEventListener('click', function (ev) {
    var button = ev.target.closest('button.expand');
    if (!button) { return; }
    var detail = button.closest('tr').nextElementSibling;
    var open = detail.hidden;
    detail.hidden = !open;
    button.setAttribute('aria-expanded', open ? 'true' : 'false');
    button.textContent = open ? '\\u2212' : '+';
  });
  var heads = table.tHead.rows[0].cells;
  for (var h = 0; h < heads.length; h++) {
    (function (th) {
      if (!th.dataset.col) { return; }
      th.addEventListener('click', function () {
        var col = parseInt(th.dataset.col, 10);
        var dir = th.getAttribute('aria-sort') === 'ascending' ? -1 : 1;
        for (var k = 0; k < heads.length; k++) { heads[k].removeAttribute('aria-sort'); }
        th.setAttribute('aria-sort', dir === 1 ? 'ascending' : 'descending');
        var list = pairs();
        list.sort(function (a, b) {
          var x = a[0].cells[col], y = b[0].cells[col];
          var kx = x.dataset.key !== undefined ? x.dataset.key : x.textContent;
          var ky = y.dataset.key !== undefined ? y.dataset.key : y.textContent;
          var nx = parseFloat(kx), ny = parseFloat(ky);
          if (!isNaN(nx) && !isNaN(ny) && String(nx) === kx && String(ny) === ky) {
            return dir * (nx - ny);
          }
          return dir * kx.localeCompare(ky);
        });
        list.forEach(function (p) { body.appendChild(p[0]); body.appendChild(p[1]); });
      });
    })(heads[h]);
  }
  var search = document.getElementById('filter');
  var level = document.getElementById('level-filter');
  function apply() {
    var q = search.value.trim().toLowerCase();
    var lv = level.value;
    var shown = 0;
    pairs().forEach(function (p) {
      var ok = (!q || p[0].textContent.toLowerCase().indexOf(q) >= 0) &&
               (!lv || p[0].dataset.level === lv);
      p[0].hidden = !ok;
      if (!ok) {
        p[1].hidden = true;
        var b = p[0].querySelector('button.expand');
        b.textContent = '+';
        b.setAttribute('aria-expanded', 'false');
      }
      if (ok) { shown++; }
    });
    document.getElementById('shown').textContent = shown;
  }
  search.addEventListener('input', apply);
  level.addEventListener('change', apply);
})();
"""


def report_page(outcomes: "Outcomes", t: int, explanations: Sequence["Explanation"], *,
                title: str, comparison: "DiffResult | None" = None) -> str:
    """The whole report as one HTML document."""
    prov = outcomes.provenance
    level_ids, labels = outcomes.level_ids, outcomes.level_labels
    counts = outcomes.counts(t)
    colours = dict(zip(level_ids, level_colours(len(level_ids))))
    index = {lv: i for i, lv in enumerate(level_ids)}
    level_labels = dict(zip(level_ids, labels))
    period = outcomes.period_labels[t]
    version = f"{prov.policy_id} v{prov.policy_version}" if prov else ""
    chart = counts_chart(labels, [counts[i] for i in level_ids],
                         f"Organisations per level, {version}, {period}")
    options = "".join(f'<option value="{esc(i)}">{esc(label)}</option>'
                      for i, label in zip(level_ids, labels))
    rows = []
    for x in explanations:
        fired = ", ".join(r.id for r in x.rules if r.status == "fired")
        flags = []
        if x.incomplete:
            flags.append("incomplete")
        if x.decision:
            flags.append("decided")
        if x.candidate:
            flags.append(f"candidate for {level_labels.get(x.candidate, x.candidate)}")
        deciding = ", ".join(x.deciding) or "default level"
        rows.append(
            f'<tr class="org" data-entity="{esc(x.entity)}" data-level="{esc(x.level)}">'
            f'<td><button class="expand" type="button" aria-expanded="false" '
            f'aria-label="explain {esc(x.entity)}">+</button></td>'
            f"<td>{esc(x.entity)}</td><td>{esc(x.name)}</td><td>{esc(x.type)}</td>"
            f"<td>{esc(x.parent)}</td>"
            f'<td data-key="{index.get(x.level, 0)}"><span class="level" '
            f'style="background: {colours.get(x.level, "#ccc")}">{esc(x.level_label)}</span></td>'
            f"<td>{esc(deciding)}</td><td>{esc(fired)}</td><td>{esc('; '.join(flags))}</td></tr>"
            f'<tr class="detail" hidden><td colspan="9">{explanation_fragment(x)}</td></tr>')
    summary = table_html(["level", "organisations"],
                         [[label, counts[i]] for i, label in zip(level_ids, labels)], "summary")
    against = ""
    if comparison is not None:
        against = (f'<h2 id="diff">Compared with {esc(comparison.b.get("id"))} '
                   f'v{esc(comparison.b.get("version"))}</h2>{diff_fragment(comparison)}')
    provenance = f'<p class="muted">{esc(prov.line())}</p>' if prov else ""
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(title)}</title>
<style>{_CSS}</style>
</head>
<body>
<h1>{esc(title)}</h1>
<p class="muted">{esc(period)} &middot; {len(explanations)} organisations</p>
<h2>Summary</h2>
<div class="summary">{chart}{summary}</div>
{against}
<h2>Organisations</h2>
<div class="controls">
<input id="filter" type="search" placeholder="Filter: code, name, rule, level..." aria-label="filter organisations">
<select id="level-filter" aria-label="level"><option value="">every level</option>{options}</select>
<span class="muted"><span id="shown">{len(explanations)}</span> shown; click a heading to sort, + to see why</span>
</div>
<table id="orgs">
<thead><tr><th></th><th data-col="1">code</th><th data-col="2">name</th><th data-col="3">type</th>
<th data-col="4">parent</th><th data-col="5">level</th><th data-col="6">decided by rule</th>
<th data-col="7">fired</th><th data-col="8">flags</th></tr></thead>
<tbody>
{"".join(rows)}
</tbody>
</table>
{provenance}
<script>{_JS}</script>
</body>
</html>
"""


def build_report(checked, outcomes: "Outcomes", layout, t: int, *,
                 comparison: "DiffResult | None" = None) -> str:
    """Explain every organisation the policy decides on in period t (without the what-if
    searches, which would take minutes over a whole country) and lay out the page."""
    import numpy as np

    subjects = np.flatnonzero(outcomes.raw.subject[t])
    ids = outcomes.entities.ids
    explainer = Explainer(checked, outcomes, layout)
    explanations = [explainer.explain(ids[int(e)], t, what_if=False) for e in subjects]
    p = checked.policy
    title = f"{p.title} ({p.id} v{p.version}): {outcomes.period_labels[t]}"
    return report_page(outcomes, t, explanations, title=title, comparison=comparison)
