"""An explanation as text and as markdown; the sentences under an outcome for any markup."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from .model import Condition, Explanation


@dataclass(frozen=True)
class Markup:
    """How a format writes what the sentences under an outcome mark up."""

    text: Callable[[str], str]                      # words, escaped for the format
    code: Callable[[str], str]                      # an id: `rule_id`, <code>rule_id</code>
    strong: Callable[[str], str]
    deciding: Callable[[str], str] = lambda s: s    # the sentence naming a deciding rule


def outcome_notes(x: Explanation, m: Markup) -> list[str]:
    """The sentences under an outcome: not decided on, the decision, the deciding rules (or
    the default), a judgement candidate, the unknown rules that left it incomplete. One list
    for the Markdown explanation and the HTML report."""
    t, code = m.text, m.code
    by_id = {r.id: r for r in x.rules}
    out = []
    if not x.subject:
        out.append("this policy does not decide on this organisation in this period")
    if x.decision:
        d = x.decision
        who = f" by {t(d['decided_by'])}" if d.get("decided_by") else ""
        reason = f": {t(d['reason'])}" if d.get("reason") else ""
        where = f" ({t(d['where'])})" if d.get("where") else ""
        out.append(f"Decided{who}{reason}{where}; the rules gave {t(x.computed_label)}")
    for rid in x.deciding:
        r = by_id[rid]
        why = f": {t(r.reason)}" if r.reason else ""
        src = f" ({t(r.source)})" if r.source else ""
        out.append(m.deciding(f"because rule {code(rid)} fired{why}{src}"))
    if not x.deciding:
        out.append("no rule that sets a level fired, so the default level applies")
    if x.candidate:
        judged = [r for r in x.rules if r.judgement and r.status == "fired"
                  and r.level == x.candidate]
        label = judged[0].level_label if judged else x.candidate
        out.append(f"candidate for {t(label)} (rule {', '.join(code(r.id) for r in judged)})"
                   + ("" if x.decision else "; awaiting a judgement decision"))
    if x.incomplete:
        names = ", ".join(f"{code(rid)} ({t(by_id[rid].level_label)})" for rid in x.worsening)
        out.append(f"{m.strong('Incomplete')}: missing data leaves rules unknown that could "
                   f"make it worse: {names}")
    return out


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


_MARKDOWN = Markup(text=lambda s: _md(s), code=lambda s: f"`{s}`", strong=lambda s: f"**{s}**")


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
    lines += [f"- {note}" for note in outcome_notes(x, _MARKDOWN)]
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
