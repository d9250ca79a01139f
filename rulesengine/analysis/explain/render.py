"""An explanation as text and as markdown."""

from __future__ import annotations

from .model import Condition, Explanation


# --- rendering -------------------------------------------------------------------------------

def render_text(x: Explanation) -> str:
    """The explanation in plain words."""
    lines = []
    where = ", ".join(p for p in (x.type.replace("_", " ") + " " + x.kind
                                  if x.type else x.kind, x.parent) if p)
    lines.append(f"{x.entity} {x.name} ({where}), {x.period}")
    lines.append(f"Policy: {x.policy_title} ({x.policy_id} v{x.policy_version})")
    lines.append("")
    meaning = f": {x.level_meaning}" if x.level_meaning else ""
    lines.append(f"Outcome: {x.level_label}{meaning}")
    if not x.subject:
        lines.append("  (this policy does not decide on this organisation in this period)")
    by_id = {r.id: r for r in x.rules}
    if x.decision:
        d = x.decision
        who = f" by {d['decided_by']}" if d.get("decided_by") else ""
        reason = f": {d['reason']}" if d.get("reason") else ""
        lines.append(f"  Decided{who}{reason} ({d['where']})")
        lines.append(f"  The rules gave {x.computed_label}:")
    if x.deciding:
        for rid in x.deciding:
            r = by_id[rid]
            why = f": {r.reason}" if r.reason else ""
            src = f" [{r.source}]" if r.source else ""
            lines.append(f"  because rule {rid} fired{why}{src}")
    else:
        lines.append("  no rule that sets a level fired, so the default level applies")
    if x.candidate:
        judged = [r for r in x.rules if r.judgement and r.status == "fired"
                  and r.level == x.candidate]
        label = judged[0].level_label if judged else x.candidate
        names = ", ".join(r.id for r in judged)
        pending = "" if x.decision else "; awaiting a judgement decision"
        lines.append(f"  Candidate for {label} (rule {names}){pending}")
    if x.incomplete:
        unknown = [by_id[rid] for rid in x.worsening]
        names = ", ".join(f"{r.id} ({r.level_label})" for r in unknown)
        lines.append(f"  Incomplete: missing data leaves rules unknown that could make it worse: "
                     f"{names}")
    if x.moves:
        decided = " (the rules' level; a decision sets the final one)" if x.decision else ""
        lines.append("")
        lines.append(f"What would move it{decided}: one input changed in {x.period}, other "
                     f"organisations' values as they are")
        for m in x.moves:
            lines.append(f"  to reach {m.level_label}: {m.text}")
    lines.append("")
    lines.append("Rules:")
    seen: set[str] = set()         # a define is opened up once, then referred to
    for r in x.rules:
        mark = {"fired": "FIRED", "not fired": "not fired", "unknown": "UNKNOWN"}[r.status]
        lines.append(f"  [{mark}] {r.id} -> {r.level_label}"
                     + (" (judgement)" if r.judgement else ""))
        if r.reason:
            lines.append(f"      {r.reason}" + (f" [{r.source}]" if r.source else ""))
        for c in r.conditions:
            lines += _condition_lines(c, 6, seen)
        if r.flip is not None:
            lines.append(f"      Flips: {r.flip.text}.")
        elif r.flip_note:
            lines.append(f"      Flips: {r.flip_note}.")
    if x.missing:
        lines.append("")
        lines.append("Missing data this period: " + ", ".join(x.missing))
    prov = x.provenance
    if prov:
        lines.append("")
        pol, data, eng = prov["policy"], prov["data"], prov["engine"]
        rev = f"@{pol['revision']}" if pol.get("revision") else ""
        lines.append(f"Provenance: policy {pol['id']}{rev} v{pol['version']} "
                     f"sha256:{pol['hash'][:12]}; data sha256:{data['digest'][:12]}; "
                     f"regime {eng['version']} ({eng['backend']})")
    return "\n".join(lines) + "\n"


def _condition_lines(c: Condition, indent: int, seen: set[str]) -> list[str]:
    pad = " " * indent
    if c.define is not None:
        if c.define in seen:
            return [f"{pad}{c.define} is {c.value} (as above)"]
        seen.add(c.define)
        text = f": {c.detail}" if len(c.detail) <= 72 else ""
        out = [f"{pad}{c.define} is {c.value}{text}"]
        for p in c.parts:
            out += _condition_lines(p, indent + 2, seen)
        return out
    out = [f"{pad}{c.text}: {c.detail} ({c.value})"]
    out += [f"{pad}  {line}" for line in c.context]
    return out


def _md(text: str) -> str:
    """Text for a Markdown table cell or line: pipes, backslashes, emphasis, code and HTML
    characters escaped, so a policy's words cannot change the document's structure."""
    out = text.replace("\\", "\\\\")
    for ch in "|*`[]<>#":
        out = out.replace(ch, "\\" + ch)
    return " ".join(out.split())


def render_markdown(x: Explanation) -> str:
    """The explanation as Markdown, for a briefing note or an issue."""
    where = ", ".join(p for p in (x.type.replace("_", " ") + " " + x.kind
                                  if x.type else x.kind, x.parent) if p)
    lines = [f"## {_md(x.entity)} {_md(x.name)} ({_md(where)}), {_md(x.period)}", "",
             f"Policy: {_md(x.policy_title)} ({_md(x.policy_id)} v{_md(x.policy_version)})", ""]
    meaning = f": {_md(x.level_meaning)}" if x.level_meaning else ""
    lines.append(f"**Outcome: {_md(x.level_label)}**{meaning}")
    lines.append("")
    by_id = {r.id: r for r in x.rules}
    if not x.subject:
        lines.append("- this policy does not decide on this organisation in this period")
    if x.decision:
        d = x.decision
        who = f" by {_md(d['decided_by'])}" if d.get("decided_by") else ""
        reason = f": {_md(d['reason'])}" if d.get("reason") else ""
        lines.append(f"- Decided{who}{reason} ({_md(d['where'])}); the rules gave "
                     f"{_md(x.computed_label)}")
    for rid in x.deciding:
        r = by_id[rid]
        why = f": {_md(r.reason)}" if r.reason else ""
        src = f" ({_md(r.source)})" if r.source else ""
        lines.append(f"- because rule `{rid}` fired{why}{src}")
    if not x.deciding:
        lines.append("- no rule that sets a level fired, so the default level applies")
    if x.candidate:
        judged = [r for r in x.rules if r.judgement and r.status == "fired"
                  and r.level == x.candidate]
        label = judged[0].level_label if judged else x.candidate
        lines.append(f"- candidate for {_md(label)} (rule "
                     f"{', '.join(f'`{r.id}`' for r in judged)})"
                     + ("" if x.decision else "; awaiting a judgement decision"))
    if x.incomplete:
        names = ", ".join(f"`{rid}` ({_md(by_id[rid].level_label)})" for rid in x.worsening)
        lines.append(f"- **Incomplete**: missing data leaves rules unknown that could make it "
                     f"worse: {names}")
    if x.moves:
        lines += ["", "### What would move it", "",
                  f"One input changed in {_md(x.period)}, other organisations' values as they "
                  f"are" + ("; the rules' level (a decision sets the final one)"
                            if x.decision else "") + ".", "",
                  "| to reach | change |", "|---|---|"]
        lines += [f"| {_md(m.level_label)} | {_md(m.text)} |" for m in x.moves]
    lines += ["", "### Rules", "", "| rule | level | status | conditions | what would flip it |",
              "|---|---|---|---|---|"]
    for r in x.rules:
        conds = "<br>".join(_md(f"{c.text}: {c.detail} ({c.value})") if c.define is None
                            else _md(f"{c.define} is {c.value}") for c in r.conditions)
        flip = r.flip.text if r.flip is not None else (r.flip_note or "")
        level = r.level_label + (" (judgement)" if r.judgement else "")
        status = r.status.upper() if r.status != "not fired" else r.status
        lines.append(f"| `{r.id}` | {_md(level)} | {status} | {conds} | {_md(flip)} |")
    if x.missing:
        lines += ["", "Missing data this period: " + ", ".join(f"`{m}`" for m in x.missing)]
    prov = x.provenance
    if prov:
        pol, data, eng = prov["policy"], prov["data"], prov["engine"]
        rev = f"@{pol['revision']}" if pol.get("revision") else ""
        lines += ["", f"Provenance: policy {_md(pol['id'] + rev)} v{_md(pol['version'])} "
                      f"sha256:{pol['hash'][:12]}; data sha256:{data['digest'][:12]}; "
                      f"regime {_md(eng['version'])} ({_md(eng['backend'])})"]
    return "\n".join(lines) + "\n"
