"""`regime doc`: a policy as a document for people who do not read YAML.

The document is built once as a list of blocks (headings, paragraphs, tables, lists) whose
text is plain; one renderer per format (markdown, HTML) escapes every piece of policy text on
the way out, so nothing a policy says can turn into markup.

Rule conditions are put into words by `Words`, which walks the checked expression tree and
knows what each name stands for (an input's label, a param's value, a level's label, a
scale's label); each built-in function is put into words by its registry entry (`words`),
e.g. a condition that the A&E 4-hour performance's percentile rank is at most 25 for three
quarters reads "A&E 4-hour performance in the bottom quartile of its peers for 3 quarters in
a row".

The built-ins' own reference (`regime doc --builtins`, and the README's table) is rendered
from the registry too: `builtin_reference` and `builtin_table`.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Union

from ..lang import ast
from ..diagnostics import RegimeError, did_you_mean
from ..lang.builtins import BUILTINS, FAMILIES, KINDS, RESULTS, builtin
from ..check.checker import CheckedPolicy
from ..lang.printer import number_text

# --- blocks ---------------------------------------------------------------------------------------

Run = tuple[str, str]           # (style, text): style "" plain, "b" bold, "i" italic, "c" code


@dataclass(frozen=True)
class Heading:
    level: int
    text: str


@dataclass(frozen=True)
class Para:
    runs: tuple[Run, ...]


@dataclass(frozen=True)
class Table:
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Bullets:
    items: tuple[tuple[Run, ...], ...]


Block = Union[Heading, Para, Table, Bullets]


# --- conditions in words --------------------------------------------------------------------------

_PERIOD_WORDS = {"month": "month", "quarter": "quarter", "year": "year", None: "period"}
_COMPARE = {"<": "is below", "<=": "is at most", ">": "is above", ">=": "is at least",
            "==": "is", "!=": "is not"}
_SHARE_NAMES = {50: "half", 25: "quartile", 20: "fifth", 10: "decile", 5: "twentieth"}


def _plural(n: str, word: str) -> str:
    return f"{n} {word}" if n == "1" else f"{n} {word}s"


class Words:
    """Expressions of one checked policy in plain English."""

    def __init__(self, checked: CheckedPolicy) -> None:
        self.checked = checked
        self.policy = checked.policy
        self.period = _PERIOD_WORDS.get(self.policy.period, "period")

    # names
    def name(self, node: ast.Name) -> str:
        ref = self.checked.ref(node)
        p = self.policy
        kind = ref.kind if ref else None
        if kind == "input":
            return p.inputs[node.name].label
        if kind == "param":
            return self.param(node.name)
        if kind == "define":
            return node.name.replace("_", " ")
        if kind == "level":
            lv = p.level(node.name)
            return lv.label if lv else node.name
        if kind == "label":
            return node.name.replace("_", " ")
        if kind == "attr":
            return {"kind": "the kind of organisation", "type": "the organisation's type",
                    "id": "the organisation's code", "name": "the organisation's name",
                    "parent": "the organisation's parent", "region": "the organisation's "
                    "region"}[node.name]
        if kind == "level_var":
            return "the level"
        return node.name.replace("_", " ")

    def param(self, name: str) -> str:
        param = self.policy.params[name]
        return _quantity(param.value, param.unit)

    def count(self, node: ast.Node) -> str:
        """A window or whole number (a literal or a param) as digits."""
        if isinstance(node, ast.Number):
            return number_text(node)
        if isinstance(node, ast.Name) and node.name in self.policy.params:
            return _quantity(self.policy.params[node.name].value, "number")
        return self.text(node)

    # the walk (recursion is bounded: the parser refuses trees deeper than 64)
    def text(self, n: ast.Node, inner: bool = False) -> str:
        if isinstance(n, ast.Number):
            return number_text(n)
        if isinstance(n, ast.Bool):
            return "true" if n.value else "false"
        if isinstance(n, ast.String):
            return n.value.replace("_", " ") if n.value else "(empty)"
        if isinstance(n, ast.Name):
            return self.name(n)
        if isinstance(n, ast.Attribute):
            inp = self.policy.inputs.get(n.name)
            return f"its parent's {inp.label if inp else n.name.replace('_', ' ')}"
        if isinstance(n, ast.Unary):
            if n.op == "-":
                return f"minus {self.text(n.operand, True)}"
            if isinstance(n.operand, ast.Binary) and n.operand.op in _COMPARE:
                return self.compare(n.operand, negate=True)
            inner_text = self.text(n.operand, True)
            if isinstance(n.operand, (ast.Name, ast.Attribute)) or inner_text.startswith("("):
                return f"not {inner_text}"
            return f"not ({inner_text})"
        if isinstance(n, ast.Binary):
            return self.binary(n, inner)
        if isinstance(n, ast.In):
            items = ", ".join(self.text(i) for i in n.items)
            return f"{self.text(n.operand)} is {'not ' if n.negated else ''}one of {items}"
        if isinstance(n, ast.Between):
            return (f"{self.text(n.operand)} is between {self.text(n.low)} and "
                    f"{self.text(n.high)}")
        if isinstance(n, ast.If):
            out = (f"{self.text(n.then, True)} if {self.text(n.cond, True)}, otherwise "
                   f"{self.text(n.else_, True)}")
            return f"({out})" if inner else out
        if isinstance(n, ast.Lag):
            return f"{self.text(n.operand, True)} {_plural(str(n.n), self.period)} earlier"
        if isinstance(n, ast.Call):
            return self.call(n)
        return "?"

    def binary(self, n: ast.Binary, inner: bool) -> str:
        if n.op in ("and", "or"):
            parts = []
            stack = [n]
            while stack:     # the chain's operands, in order
                x = stack.pop()
                if isinstance(x, ast.Binary) and x.op == n.op:
                    stack += [x.right, x.left]
                else:
                    parts.append(self.text(x, True))
            if len(parts) == 2:
                out = f"{parts[0]} {n.op} {parts[1]}"
            else:
                out = f"{'all' if n.op == 'and' else 'any'} of: {'; '.join(parts)}"
            return f"({out})" if inner else out
        if n.op in _COMPARE:
            return self.compare(n)
        word = {"+": "plus", "-": "minus", "*": "times", "/": "divided by"}[n.op]
        out = f"{self.text(n.left, True)} {word} {self.text(n.right, True)}"
        return f"({out})" if inner else out

    def compare(self, n: ast.Binary, negate: bool = False) -> str:
        """A comparison in words; `negate` for one under `not`."""
        left, right, op = n.left, n.right, n.op
        if negate:
            op = {"<": ">=", "<=": ">", ">": "<=", ">=": "<", "==": "!=", "!=": "=="}[op]
        ranked = self.rank_phrase(left, op, right) if not negate else None
        if ranked is not None:
            return ranked
        t = self.checked.types.get(left.nid)
        if t is not None and t.kind in ("rating", "level"):
            word = {"<=": "or better", ">=": "or worse", "<": "better than",
                    ">": "worse than"}.get(op)
            if op in ("<=", ">="):
                return f"{self.text(left)} is {self.text(right)} {word}"
            if op in ("<", ">"):
                return f"{self.text(left)} is {word} {self.text(right)}"
        return f"{self.text(left)} {_COMPARE[op]} {self.text(right)}"

    def rank_phrase(self, left: ast.Node, op: str, right: ast.Node) -> str | None:
        """A comparison of a built-in's value that its entry reads better as a whole (a rank
        against a cut-off: "x in the bottom quartile of its peers"), or None."""
        spec = builtin(left)
        if spec is None or spec.compared_words is None or not left.args:
            return None
        value = self._number(right)
        if value is None:
            return None
        return spec.compared_words(self, left, op, value)

    def _number(self, node: ast.Node) -> float | None:
        if isinstance(node, ast.Number):
            return node.value
        if isinstance(node, ast.Name) and node.name in self.policy.params:
            return self.policy.params[node.name].value
        return None

    def peers(self, call: ast.Call) -> str:
        by = call.kwarg("by")
        group = by.value.name if by and isinstance(by.value, ast.Name) else \
            self.policy.peer_group
        if group == "all":
            return "all organisations of its kind"
        if group:
            return f"its peers (organisations of the same {group.replace('_', ' ')})"
        return "its peers"

    # what a built-in's `words` may use (lang/builtins/spec.py)
    def arg(self, n: ast.Call, k: int) -> str:
        """Argument k of a call in words, bracketed if it is compound."""
        return self.text(n.args[k], True) if k < len(n.args) else "?"

    def window(self, n: ast.Call, k: int) -> str:
        """Argument k of a call as a number of periods ("3 quarters")."""
        return _plural(self.count(n.args[k]), self.period) if k < len(n.args) else "?"

    def listed(self, n: ast.Call) -> str:
        return "; ".join(self.text(x, True) for x in n.args)

    def share(self, value: float) -> str:
        """A percentage as a share in words ("quartile", "decile", "15%")."""
        return _share(value)

    def call(self, n: ast.Call) -> str:
        spec = builtin(n)
        if spec is None:
            return f"{n.func}({self.listed(n)})"
        return spec.words(self, n)


def _share(value: float) -> str:
    v = round(value, 6)
    if v in _SHARE_NAMES:
        return _SHARE_NAMES[v]
    return f"{number_text(ast.Number(0, None, (0, 0), value, 'number'))}%"


def _quantity(value: float, unit: str) -> str:
    u = unit if unit in ("percent", "money") else "number"
    return number_text(ast.Number(0, None, (0, 0), value, u))


# --- the document ---------------------------------------------------------------------------------

def document(checked: CheckedPolicy) -> list[Block]:
    """The policy as blocks: title, period, who decides, levels, rules, definitions, params,
    inputs and sources."""
    p = checked.policy
    words = Words(checked)
    blocks: list[Block] = [Heading(1, p.title)]
    facts: list[Run] = [("b", "Policy: "), ("c", p.id)]
    if p.version:
        facts += [("", f", version {p.version}")]
    if p.effective_from or p.effective_to:
        facts += [("", ". "), ("b", "In force: "),
                  ("", f"{p.effective_from or 'no start date'} to "
                       f"{p.effective_to or 'no end date'}")]
    blocks.append(Para(tuple(facts) + (("", "."),)))
    description = _description(p)
    if description:
        blocks.append(Para((("", description),)))
    kinds = " and ".join(f"{k}s" for k in (p.entity or ())) or "organisations"
    scope = [("b", "Who is decided on: "), ("", f"{kinds}, each {words.period}")]
    if p.applies_to is not None and p.applies_to.expr is not None:
        scope += [("", f", where {words.text(p.applies_to.expr)}")]
    blocks.append(Para(tuple(scope) + (("", "."),)))

    default = p.level(p.default) if p.default else None
    how = {"worst": "An organisation is placed at the worst level that any of its rules gives it",
           "first": "An organisation is placed at the level of the first rule, in the order "
                    "below, that applies to it",
           "collect": "Every rule that applies to an organisation is reported"}[p.decide]
    if default is not None:
        how += f"; when no rule applies, it is at {default.label}"
    blocks.append(Para((("b", "Who decides: "), ("", how + "."))))
    for lv in p.levels:
        if lv.decided_by:
            blocks.append(Para((("", f"{lv.label} is a judgement: the rules only make an "
                                     f"organisation a candidate for it, and {lv.decided_by} "
                                     f"decides."),)))

    blocks.append(Heading(2, "Levels"))
    blocks.append(Para((("", "Best first."),)))
    blocks.append(Table(("Level", "Meaning", "Decided by"), tuple(
        (lv.label, lv.meaning or "", lv.decided_by or "the rules") for lv in p.levels)))

    blocks.append(Heading(2, "Rules"))
    used_defines: list[str] = []
    for rule in p.rules:
        lv = p.level(rule.level)
        blocks.append(Heading(3, rule.reason or rule.id.replace("_", " ")))
        blocks.append(Para((("b", "Level: "), ("", lv.label if lv else rule.level),
                            ("", " (rule "), ("c", rule.id), ("", ")"))))
        condition = rule.when
        if isinstance(condition, ast.Name) and condition.name in p.defines and \
                p.defines[condition.name].expr is not None:
            condition = p.defines[condition.name].expr     # the define it names, in words
        if condition is not None:
            blocks.append(Para((("b", "When: "), ("", _sentence(words.text(condition))))))
        for node in ast.walk(condition) if condition is not None else ():
            ref = checked.ref(node) if isinstance(node, ast.Name) else None
            if ref and ref.kind == "define" and ref.name not in used_defines:
                used_defines.append(ref.name)
        if rule.source:
            blocks.append(Para((("b", "Source: "), ("", rule.source))))
        if rule.note:
            blocks.append(Para((("b", "Note: "), ("", rule.note))))

    # the definitions the rules lean on, and those they lean on in turn
    k = 0
    while k < len(used_defines):
        d = p.defines[used_defines[k]]
        for node in ast.walk(d.expr) if d.expr is not None else ():
            ref = checked.ref(node) if isinstance(node, ast.Name) else None
            if ref and ref.kind == "define" and ref.name not in used_defines:
                used_defines.append(ref.name)
        k += 1
    if used_defines:
        blocks.append(Heading(2, "Definitions"))
        items = []
        for name in used_defines:
            expr = p.defines[name].expr
            said = ": " + _sentence(words.text(expr)) if expr is not None else ""
            items.append((("i", name.replace("_", " ")), ("", said)))
        blocks.append(Bullets(tuple(items)))

    if p.params:
        blocks.append(Heading(2, "Parameters"))
        rows = []
        for param in p.params.values():
            if len(param.values) > 1 or param.values[0].start:
                value = "; ".join(f"{_quantity(v.value, param.unit)} from {v.start}"
                                  if v.start else _quantity(v.value, param.unit)
                                  for v in param.values)
            else:
                value = _quantity(param.value, param.unit)
            if param.unit not in ("percent", "money", "number"):
                value += f" {param.unit}"
            published = {True: "yes", False: "no (a modelling choice)", None: "not stated"}[
                param.published]
            rows.append((param.name.replace("_", " "), value, published, param.note or "",
                         param.source or ""))
        blocks.append(Table(("Parameter", "Value", "Published", "Note", "Source"),
                            tuple(rows)))

    if p.inputs:
        blocks.append(Heading(2, "Measures"))
        blocks.append(Table(("Measure", "Kind", "Better"), tuple(
            (inp.label, inp.type + (f" ({inp.unit})" if inp.unit else "")
             + (f" on the scale {', '.join(x.replace('_', ' ') for x in p.scales[inp.scale].labels)}"
                if inp.scale in p.scales else ""), inp.better or "")
            for inp in p.inputs.values())))

    if p.sources:
        blocks.append(Heading(2, "Sources"))
        blocks.append(Bullets(tuple((("", s),) for s in p.sources)))
    return blocks


def _description(policy) -> str | None:
    # yaml: only to read a policy's description (`regime doc --builtins` never needs it)
    from ..policy.document import load_document

    try:
        data = load_document(policy.origin.text, policy.origin.file).data
    except Exception:       # the policy loaded already; its description is optional
        return None
    value = data.get("description") if isinstance(data, dict) else None
    return " ".join(str(value).split()) if value else None


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


# --- renderers ------------------------------------------------------------------------------------

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|~])|&(?=#?[A-Za-z0-9]+;)")


def _md(text: str) -> str:
    """Policy text as markdown that shows it literally: one line, the characters markdown
    would read as markup escaped (and an entity-like `&...;` kept as text)."""
    lead = " " if text[:1].isspace() else ""
    trail = " " if text[-1:].isspace() and text.strip() else ""
    text = " ".join(str(text).split())
    text = _MD_SPECIAL.sub(lambda m: "\\" + (m.group(1) or "&"), text)
    return lead + re.sub(r"^([-+=#]|\d+[.)])", r"\\\1", text) + trail


def _md_code(text: str) -> str:
    runs = re.findall(r"`+", text)
    fence = "`" * (1 + max((len(r) for r in runs), default=0))
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _md_runs(runs) -> str:
    out = []
    for style, text in runs:
        if style == "b":
            out.append(f"**{_md(text.strip())}**" + (" " if text.endswith(" ") else ""))
        elif style == "i":
            out.append(f"*{_md(text)}*")
        elif style == "c":
            out.append(_md_code(text))
        else:
            out.append(_md(text) if text.strip() else text)
    return "".join(out)


def to_markdown(blocks: list[Block]) -> str:
    """The document as GitHub-flavoured markdown."""
    out: list[str] = []
    for b in blocks:
        if isinstance(b, Heading):
            out.append(f"{'#' * b.level} {_md(b.text)}")
        elif isinstance(b, Para):
            out.append(_md_runs(b.runs))
        elif isinstance(b, Table):
            out.append("| " + " | ".join(_md(h) for h in b.headers) + " |")
            out.append("|" + "---|" * len(b.headers))
            out += ["| " + " | ".join(_md(c) for c in row) + " |" for row in b.rows]
        elif isinstance(b, Bullets):
            out.append("\n".join(f"- {_md_runs(item)}" for item in b.items))
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def _h(text: str) -> str:
    lead = " " if text[:1].isspace() else ""
    trail = " " if text[-1:].isspace() and text.strip() else ""
    return lead + html.escape(" ".join(str(text).split()), quote=True) + trail


def _html_runs(runs) -> str:
    tags = {"b": "strong", "i": "em", "c": "code"}
    return "".join(f"<{tags[s]}>{_h(t.strip())}</{tags[s]}>" + (" " if t.endswith(" ") else "")
                   if s in tags else _h(t) if t.strip() else t for s, t in runs)


def to_html(blocks: list[Block]) -> str:
    """The document as one self-contained HTML page."""
    title = next((b.text for b in blocks if isinstance(b, Heading)), "Policy")
    out = ["<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
           f"<title>{_h(title)}</title>",
           "<style>body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;"
           "padding:0 1rem;line-height:1.45}table{border-collapse:collapse;margin:1rem 0}"
           "th,td{border:1px solid #bbb;padding:.3rem .5rem;text-align:left;"
           "vertical-align:top}th{background:#eee}</style>", "</head>", "<body>"]
    for b in blocks:
        if isinstance(b, Heading):
            out.append(f"<h{b.level}>{_h(b.text)}</h{b.level}>")
        elif isinstance(b, Para):
            out.append(f"<p>{_html_runs(b.runs)}</p>")
        elif isinstance(b, Table):
            out.append("<table>")
            out.append("<tr>" + "".join(f"<th>{_h(h)}</th>" for h in b.headers) + "</tr>")
            out += ["<tr>" + "".join(f"<td>{_h(c)}</td>" for c in row) + "</tr>"
                    for row in b.rows]
            out.append("</table>")
        elif isinstance(b, Bullets):
            out.append("<ul>")
            out += [f"<li>{_html_runs(item)}</li>" for item in b.items]
            out.append("</ul>")
    out += ["</body>", "</html>"]
    return "\n".join(out) + "\n"


def render(checked: CheckedPolicy, fmt: str = "markdown") -> str:
    """The policy document in `fmt`: "markdown" or "html"."""
    blocks = document(checked)
    return to_html(blocks) if fmt == "html" else to_markdown(blocks)


# --- the built-in functions: `regime doc --builtin NAME`, `--builtins`, the README's table --------

def _code_runs(text: str) -> tuple[Run, ...]:
    """The registry's own text (never a policy's), its `code` spans as code runs."""
    return tuple(("c" if i % 2 else "", piece) for i, piece in enumerate(text.split("`"))
                 if piece)


def _family_notes(module) -> list[Block]:
    """A family's semantics: its module's docstring, without the note on how it is compiled."""
    paragraphs = [" ".join(p.split()) for p in (module.__doc__ or "").split("\n\n")]
    return [Para(_code_runs(p)) for p in paragraphs if p and not p.startswith("Compiled:")]


def _builtin_blocks(spec, level: int) -> list[Block]:
    facts: list[tuple[Run, ...]] = []
    for name, kind in dict(zip(spec.arg_names(), spec.params)).items():
        facts.append((("c", name), ("", ": ")) + _code_runs(KINDS[kind])
                     + ((("", ", one or more"),) if spec.variadic else ()))
    if spec.kwargs:
        facts.append((("", "keyword arguments: "),
                      ("c", ", ".join(f"{k}=" for k in spec.kwargs))))
    facts.append((("", f"result: {RESULTS[spec.result]}"),))
    if spec.ranks:
        facts.append((("", "ranks its value oriented by the input's "), ("c", "better:"),
                      ("", " (or "), ("c", "better="), ("", ")")))
    if spec.better:
        facts.append((("", f"for its result, {spec.better} is better"),))
    elif spec.better_from is not None:
        facts.append((("", "keeps the direction ("), ("c", "better:"),
                      ("", ") of its values")))
    doc = spec.doc if spec.doc.endswith(".") else spec.doc + "."
    return [Heading(level, spec.signature()), Para((("", doc),)), Bullets(tuple(facts))]


def builtin_document(name: str | None = None) -> list[Block]:
    """The reference of one built-in function (with its family's semantics), or of all of
    them (name None), as blocks."""
    if name is not None:
        spec = BUILTINS.get(name)
        if spec is None:
            raise RegimeError(f"unknown built-in function '{name}'"
                              f"{did_you_mean(name, BUILTINS)}")
        family, heading, module = next(f for f in FAMILIES if f[0] == spec.family)
        blocks = _builtin_blocks(spec, 1)
        blocks.append(Heading(2, f"The family: {heading}"))
        return blocks + _family_notes(module)
    blocks = [Heading(1, "Built-in functions")]
    for family, heading, module in FAMILIES:
        blocks.append(Heading(2, _sentence(heading)[:-1]))
        blocks += _family_notes(module)
        for spec in module.BUILTINS.values():
            blocks += _builtin_blocks(spec, 3)
    return blocks


def render_builtins(name: str | None = None, fmt: str = "markdown") -> str:
    """`regime doc --builtin NAME` (or `--builtins`, name None) in `fmt`."""
    blocks = builtin_document(name)
    return to_html(blocks) if fmt == "html" else to_markdown(blocks)


def builtin_table() -> str:
    """The README's table of built-in functions (tests/authoring/test_builtins_doc.py keeps
    the README's copy equal to it)."""
    out = ["| family | function | what it gives |", "|---|---|---|"]
    for family, heading, module in FAMILIES:
        for i, spec in enumerate(module.BUILTINS.values()):
            out.append(f"| {heading if i == 0 else ''} | {_md_code(spec.signature())} | "
                       f"{_md(spec.doc)} |")
    return "\n".join(out) + "\n"
