"""Explain an outcome: why an organisation landed where it did, in words an analyst can paste
into a briefing.

For one entity and period: the level and the rule(s) that decided it; for every rule whether it
fired, did not, or was unknown, with each condition's operands, their values, thresholds and the
peer context of ranks; the smallest change to one input that would flip each rule (found by
re-evaluating, and checked by re-evaluating with the margin applied); the missing data that left
the outcome incomplete; and a judgement decision if one overrides.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, replace

import numpy as np

from ..diagnostics import RegimeError, did_you_mean
from ..engine.layout import Layout
from ..engine.outcomes import Outcomes, decide
from ..engine.probe import Probe
from ..lang import ast
from ..lang.builtins import BUILTINS, builtin, peer_grouping
from ..lang.checker import CheckedPolicy
from ..lang.types import Type


def _ranking(n: ast.Node) -> bool:
    """A call ranking its first argument among peers (explain shows the peer context)."""
    spec = builtin(n)
    return spec is not None and spec.ranks and bool(n.args)


@dataclass(frozen=True)
class Crossing:
    """Where a value must go to change an outcome: `after` changes it; `boundary` is the shown
    value; `strict` means the outcome changes only beyond the boundary, not at it."""

    after: float
    boundary: float
    strict: bool


# --- results ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Flip:
    input: str
    label: str
    before: float | None
    after: float
    text: str                   # "stops firing if A&E 4-hour performance rises by 2.1 points (to 75.0%)"


@dataclass(frozen=True)
class Move:
    """The smallest change to one input this period that moves the organisation to `level`
    (input None: no change to a single input does)."""

    level: str
    level_label: str
    input: str | None
    label: str | None
    before: float | None
    after: float | None
    text: str                   # "Delivery score falls below 2.6 (a change of more than 1)"


@dataclass(frozen=True)
class Operand:
    """One side of a comparison: its text, its value typed (a number, true/false, a rating
    label or level id, None when missing) and its value as shown."""

    text: str
    value: float | int | bool | str | None
    type: str                   # percent | money | count | number | bool | rating | level | string
    shown: str


@dataclass(frozen=True)
class Condition:
    text: str                   # the expression as written
    value: str                  # true | false | unknown
    detail: str                 # operands with their values
    context: tuple[str, ...] = ()
    define: str | None = None   # when the condition is a named define
    parts: tuple["Condition", ...] = ()
    op: str | None = None       # the comparison (<=, between, in, ...) when it is one
    operands: tuple[Operand, ...] = ()


@dataclass(frozen=True)
class RuleExplanation:
    id: str
    level: str
    level_label: str
    status: str                 # fired | not fired | unknown
    reason: str | None
    source: str | None
    judgement: bool
    deciding: bool
    conditions: tuple[Condition, ...]
    flip: Flip | None
    flip_note: str | None
    level_index: int = 0        # position of its level, 0 = best


@dataclass(frozen=True)
class Explanation:
    entity: str
    name: str
    kind: str
    type: str
    parent: str
    period: str
    policy_id: str
    policy_title: str
    policy_version: str
    level: str
    level_label: str
    level_meaning: str
    computed: str
    computed_label: str
    candidate: str | None
    incomplete: bool
    subject: bool
    decision: dict | None
    deciding: tuple[str, ...]
    worsening: tuple[str, ...]  # unknown rules that could make it worse: why it is incomplete
    rules: tuple[RuleExplanation, ...]
    missing: tuple[str, ...]
    moves: tuple[Move, ...] = ()    # to each other level, best first
    provenance: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        """A JSON document with typed values (numbers as numbers, true/false/null for truth
        values) and ids beside labels; rulesengine/report/schemas/explain.json describes it."""
        doc = asdict(self)
        doc["rules"] = [_rule_json(r) for r in self.rules]
        if self.decision is not None:
            level = self.decision.get("level")
            doc["decision"] = {**self.decision, "level_label": next(
                (r.level_label for r in self.rules if r.level == level), level)}
        labels = {r.level: r.level_label for r in self.rules}
        doc["candidate_label"] = labels.get(self.candidate) if self.candidate else None
        return _finite(doc)


_TRUTH = {"true": True, "false": False, "unknown": None}


def _condition_json(c: Condition) -> dict:
    return {"text": c.text, "value": _TRUTH[c.value], "detail": c.detail,
            "define": c.define, "op": c.op,
            "operands": [asdict(o) for o in c.operands], "context": list(c.context),
            "parts": [_condition_json(p) for p in c.parts]}


def _rule_json(r: "RuleExplanation") -> dict:
    doc = asdict(r)
    doc["fired"] = {"fired": True, "not fired": False, "unknown": None}[r.status]
    doc["conditions"] = [_condition_json(c) for c in r.conditions]
    return doc


def _finite(x):
    """NaN and infinities have no JSON spelling: they become null (missing)."""
    if isinstance(x, float) and not math.isfinite(x):
        return None
    if isinstance(x, dict):
        return {k: _finite(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_finite(v) for v in x]
    return x


# --- formatting ------------------------------------------------------------------------------

def _trim(x: float, digits: int) -> str:
    text = f"{x:,.{digits}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def format_money(x: float) -> str:
    sign = "-" if x < 0 else ""
    a = abs(x)
    if a >= 1e9:
        return f"{sign}£{_trim(a / 1e9, 2)}bn"
    if a >= 1e6:
        return f"{sign}£{_trim(a / 1e6, 2)}m"
    if a >= 1e3:
        return f"{sign}£{_trim(a / 1e3, 1)}k"
    return f"{sign}£{_trim(a, 0)}"


class _Format:
    def __init__(self, checked: CheckedPolicy, outcomes: Outcomes) -> None:
        self.c = checked
        self.p = checked.policy
        self.level_labels = dict(zip(outcomes.level_ids, outcomes.level_labels))

    def typed(self, x, t: Type | None):
        """The value for JSON: numbers as numbers, truth values as booleans, ratings and
        levels by id, None when missing."""
        if isinstance(x, str):
            return x
        if x is None or (isinstance(x, float) and math.isnan(x)):
            return None
        kind = t.kind if t is not None else "number"
        if kind == "bool":
            return x == 1
        if kind == "rating":
            labels = self.p.scales[t.scale].labels
            return labels[int(x)] if 0 <= int(x) < len(labels) else float(x)
        if kind == "level":
            ids = [lv.id for lv in self.p.levels]
            return ids[int(x)] if 0 <= int(x) < len(ids) else float(x)
        if kind == "count" and float(x).is_integer():
            return int(x)
        return float(x)

    def value(self, x, t: Type | None) -> str:
        if isinstance(x, str):
            return f'"{x}"'
        if x is None or (isinstance(x, float) and math.isnan(x)):
            return "unknown" if t is not None and t.kind == "bool" else "missing"
        kind = t.kind if t is not None else "number"
        if kind == "bool":
            return "true" if x == 1 else "false"
        if kind == "percent":
            return f"{_trim(x, 1)}%"
        if kind == "money":
            return format_money(x)
        if kind == "count":
            return _trim(x, 1)
        if kind == "rating":
            labels = self.p.scales[t.scale].labels
            i = int(x)
            return labels[i].replace("_", " ") if 0 <= i < len(labels) else str(x)
        if kind == "level":
            ids = [lv.id for lv in self.p.levels]
            i = int(x)
            return self.level_labels.get(ids[i], ids[i]) if 0 <= i < len(ids) else str(x)
        return _trim(x, 3 if abs(x) < 10 else 2)

    def change(self, delta: float, t: Type) -> str:
        a = abs(delta)
        if t.kind == "percent":
            return f"{_trim(a, 1)} point{'s' if a != 1 else ''}"
        if t.kind == "money":
            return format_money(a)
        return self.value(a, t)


def ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


# --- the explainer ---------------------------------------------------------------------------

def explain(checked: CheckedPolicy, outcomes: Outcomes, layout: Layout, entity: str,
            t: int, *, what_if: bool = True) -> Explanation:
    """Explain entity's outcome in period index t. what_if=False leaves out what would flip
    each rule and move the outcome (the searches are most of the work), for a report that
    explains every organisation."""
    ids = outcomes.entities.ids
    if entity not in ids:
        raise RegimeError(f"no entity '{entity}' in the data{did_you_mean(entity, ids)}")
    return _Explainer(checked, outcomes, layout, ids.index(entity), t, what_if).run()


class _Explainer:
    def __init__(self, checked: CheckedPolicy, outcomes: Outcomes, layout: Layout, e: int,
                 t: int, what_if: bool = True) -> None:
        self.what_if = what_if
        self.c = checked
        self.p = checked.policy
        self.o = outcomes
        self.L = layout
        self.e = e
        self.t = t
        self.probe = Probe(checked, layout, outcomes.raw.level.astype(np.float64))
        self.fmt = _Format(checked, outcomes)
        self._probes: dict[tuple[str, float], Probe] = {}
        self._peer_values: dict[str, np.ndarray] = {}
        self._constants: list[float] | None = None
        self._levels: dict[tuple[str, float], int] = {}
        self._watched: list[ast.Node] | None = None
        self.texts: dict[int, str] = {}
        for d in self.p.defines.values():
            self._index_text(d.expr, d.text)
        for r in self.p.rules:
            self._index_text(r.when, r.text)

    def _index_text(self, root: ast.Node | None, text: str) -> None:
        if root is None:
            return
        for n in ast.walk(root):
            self.texts[n.nid] = " ".join(text[n.span[0]:n.span[1]].split())

    # values --------------------------------------------------------------------------------

    def val(self, node: ast.Node, probe: Probe | None = None, t: int | None = None):
        v = (probe or self.probe).value(node, self.t if t is None else t)[self.e]
        return v if isinstance(v, str) else float(v)

    def shown(self, node: ast.Node, probe: Probe | None = None, t: int | None = None) -> str:
        return self.fmt.value(self.val(node, probe, t), self.c.types.get(node.nid))

    def status(self, value: float) -> str:
        return "unknown" if value != value else ("fired" if value == 1 else "not fired")

    def truth(self, value: float) -> str:
        return "unknown" if value != value else ("true" if value == 1 else "false")

    def resolve(self, node: ast.Node) -> tuple[ast.Node, str | None]:
        if isinstance(node, ast.Name):
            ref = self.c.refs.get(node.nid)
            if ref is not None and ref.kind == "define":
                d = self.p.defines[ref.name]
                if d.expr is not None:
                    return d.expr, ref.name
        return node, None

    # driver --------------------------------------------------------------------------------

    def run(self) -> Explanation:
        o, t, e = self.o, self.t, self.e
        raw = o.raw
        ents = o.entities
        level = o.level_ids[raw.level[t, e]]
        computed = o.level_ids[raw.computed[t, e]]
        cand = int(raw.candidate[t, e])
        decision = o.decisions.get((t, e))
        rules = []
        deciding, worsening = self.decided()
        for i, rule in enumerate(self.p.rules):
            rules.append(self.explain_rule(i, rule, rule.id in deciding))
        missing = self.missing_inputs()
        lv = self.p.level(level)
        return Explanation(
            entity=ents.ids[e], name=ents.names[e], kind=ents.kinds[e], type=ents.types[e],
            parent=ents.parents[e], period=o.period_labels[t], policy_id=self.p.id,
            policy_title=self.p.title, policy_version=self.p.version,
            level=level, level_label=lv.label, level_meaning=lv.meaning,
            computed=computed, computed_label=self.p.level(computed).label,
            candidate=o.level_ids[cand] if cand >= 0 else None,
            incomplete=bool(raw.incomplete[t, e]), subject=bool(raw.subject[t, e]),
            decision=asdict(decision) if decision else None, deciding=tuple(deciding),
            worsening=tuple(worsening),
            rules=tuple(rules), missing=tuple(missing), moves=tuple(self.moves()),
            provenance=o.provenance.to_json() if o.provenance else {})

    def decided(self) -> tuple[list[str], list[str]]:
        """(deciding rules, unknown rules that could make it worse), by the engines' own
        decide(): explain restates no rule of how fired rules combine."""
        o, t, e = self.o, self.t, self.e
        fired = set(o.fired_rules(t, e))
        unknown = set(o.unknown_rules(t, e))
        rules = self.p.rules
        f = np.array([[r.id in fired] for r in rules], bool).reshape(len(rules), 1)
        u = np.array([[r.id in unknown] for r in rules], bool).reshape(len(rules), 1)
        d = decide(f, u, self.L.rule_levels, self.L.rule_judgement, self.L.default_level,
                   self.p.decide == "first")
        return ([r.id for i, r in enumerate(rules) if d.deciding[i, 0]],
                [r.id for i, r in enumerate(rules) if d.worsening[i, 0]])

    def missing_inputs(self) -> list[str]:
        out = []
        for name in self.c.used_inputs:
            v = self.L.inputs[name][self.t, self.e]
            if v != v:
                out.append(name)
        return out

    # rules ---------------------------------------------------------------------------------

    def explain_rule(self, i: int, rule, deciding: bool) -> RuleExplanation:
        lv = self.p.level(rule.level)
        if rule.when is None:
            raise RegimeError(f"rule '{rule.id}' has no condition")
        value = self.val(rule.when)
        status = self.status(value)
        conditions = tuple(self.conditions(rule.when))
        flip, note = self.flip(rule, value) if self.what_if else (None, None)
        return RuleExplanation(
            id=rule.id, level=rule.level, level_label=lv.label, status=status,
            reason=rule.reason, source=rule.source, judgement=bool(lv.decided_by),
            deciding=deciding, conditions=conditions, flip=flip, flip_note=note,
            level_index=lv.index)

    def conditions(self, node: ast.Node, depth: int = 0) -> list[Condition]:
        """The conditions of a rule: and/or/not and defines opened up, atoms explained."""
        inner, define = self.resolve(node)
        if define is not None:
            return [Condition(text=define, value=self.truth(self.val(inner)),
                              detail=self.texts.get(inner.nid, ""), define=define,
                              parts=tuple(self.conditions(inner, depth + 1)) if depth < 4
                              else ())]
        if isinstance(inner, ast.Binary) and inner.op in ("and", "or"):
            return self.conditions(inner.left, depth) + self.conditions(inner.right, depth)
        if isinstance(inner, ast.Unary) and inner.op == "not":
            cond = self.atom(inner)
            return [cond]
        return [self.atom(inner)]

    def atom(self, node: ast.Node) -> Condition:
        value = self.truth(self.val(node))
        text = self.texts.get(node.nid, "")
        context: list[str] = []
        op: str | None = None
        operands: tuple[ast.Node, ...] = ()
        if isinstance(node, ast.Binary) and node.op in ("==", "!=", "<", "<=", ">", ">="):
            detail = f"{self.shown(node.left)} {node.op} {self.shown(node.right)}"
            for side in (node.left, node.right):
                context += self.rank_context(side, node)
            op, operands = node.op, (node.left, node.right)
        elif isinstance(node, ast.Between):
            detail = (f"{self.shown(node.operand)} between {self.shown(node.low)} and "
                      f"{self.shown(node.high)}")
            context += self.rank_context(node.operand, node)
            op, operands = "between", (node.operand, node.low, node.high)
        elif isinstance(node, ast.In):
            items = ", ".join(self.shown(i) for i in node.items)
            detail = f"{self.shown(node.operand)} {'not in' if node.negated else 'in'} [{items}]"
            op, operands = ("not in" if node.negated else "in"), (node.operand, *node.items)
        elif isinstance(node, ast.Call) and BUILTINS[node.func].lookback is not None:
            detail = self.window_detail(node)
        elif isinstance(node, ast.Unary) and node.op == "not":
            detail = f"not {self.truth(self.val(node.operand))}"
        else:
            detail = self.shown(node)
        return Condition(text=text, value=value, detail=detail, context=tuple(context), op=op,
                         operands=tuple(self.operand(n) for n in operands))

    def operand(self, node: ast.Node) -> Operand:
        t = self.c.types.get(node.nid)
        x = self.val(node)
        kind = "string" if isinstance(x, str) else (t.kind if t is not None else "number")
        return Operand(self.texts.get(node.nid, ""), self.fmt.typed(x, t), kind,
                       self.fmt.value(x, t))

    def window_detail(self, node: ast.Call) -> str:
        size = node.args[BUILTINS[node.func].size]
        n = int(size.value) if isinstance(size, ast.Number) else int(
            self.L.params[size.name][self.t])
        inner = node.args[0]
        values = []
        for k in range(n):
            tt = self.t - k
            if tt < 0:
                values.append("before the data")
            else:
                values.append(f"{self.o.period_labels[tt]} {self.shown(inner, t=tt)}")
        return f"over the last {n}: " + ", ".join(values)

    def rank_context(self, side: ast.Node, comparison: ast.Node) -> list[str]:
        """Peer context for rank calls on an input: value, position among peers, cut-off."""
        out = []
        for n in ast.walk(self.resolve(side)[0]):
            if not _ranking(n):
                continue
            arg, _ = self.resolve(n.args[0])
            x = self.val(arg)
            if isinstance(x, str):
                continue
            group_desc, position, size = self.peer_position(n, arg)
            label = self.label_of(arg)
            line = f"{label} {self.shown(arg)}"
            if x == x and size:
                line += f": {ordinal(position)} of {size} {group_desc}"
            ref = self.c.refs.get(arg.nid)
            if ref is not None and ref.kind == "input" and x == x and self.what_if:
                cut = self.search(ref.name, lambda probe: self.val(comparison, probe),
                                  root=comparison)
                if cut is not None:
                    shown = self.fmt.value(cut.boundary, self.c.types[arg.nid])
                    side = ("above" if cut.boundary > x else "below") if cut.strict else "at"
                    line += f"; the condition turns {side} {shown}"
            out.append(line)
        return out

    def label_of(self, node: ast.Node) -> str:
        ref = self.c.refs.get(node.nid)
        if ref is not None and ref.kind == "input":
            return self.p.inputs[ref.name].label
        return self.texts.get(node.nid, "value")

    def peer_position(self, call: ast.Call, arg: ast.Node) -> tuple[str, int, int]:
        kw = call.kwarg("by")
        by = kw.value.name if kw is not None else (self.p.peer_group or "type")
        groups = self.L.groups[by]
        x = self.probe.value(arg, self.t)
        if x.dtype == object:
            return "", 0, 0
        lower = self.c.directions.get(call.nid) == "lower"
        y = -x if lower else x
        peers = (groups == groups[self.e]) & ~np.isnan(y)
        size = int(peers.sum())
        position = 1 + int((y[peers] > y[self.e]).sum()) if y[self.e] == y[self.e] else 0
        ents = self.o.entities
        kind = ents.kinds[self.e]
        if by == "all":
            desc = f"{kind}s"
        elif by == "type":
            desc = f"{ents.types[self.e].replace('_', ' ')} {kind}s".strip()
        else:
            desc = f"{kind}s with {by} {ents.attribute(by)[self.e]}"
        return desc, position, size

    # what would move the outcome ---------------------------------------------------------

    def level_at(self, name: str, x: float) -> int:
        """The computed level with this organisation's `name` set to x this period: every rule
        re-evaluated (ranks against the peers' unchanged values), then decide()."""
        key = (name, x)
        if key not in self._levels:
            self._levels[key] = self.decide_level(self.probe_at(name, x))
        return self._levels[key]

    def decide_level(self, probe: Probe) -> int:
        values = np.array([self.val(r.when, probe) for r in self.p.rules], np.float64)
        d = decide((values == 1).reshape(-1, 1), np.isnan(values).reshape(-1, 1),
                   self.L.rule_levels, self.L.rule_judgement, self.L.default_level,
                   self.p.decide == "first")
        return int(d.computed[0])

    def verified_level(self, name: str, x: float) -> int:
        """The level at x from a fresh evaluation (no values carried over from the search)."""
        arr = self.L.inputs[name].copy()
        arr[self.t, self.e] = x
        layout = replace(self.L, inputs={**self.L.inputs, name: arr})
        return self.decide_level(Probe(self.c, layout, self.probe.levels))

    def moves(self) -> list[Move]:
        """For each other level a rule can give, the smallest change to one of this
        organisation's inputs this period that gives it, verified by re-evaluation."""
        o, t, e = self.o, self.t, self.e
        if not o.raw.subject[t, e] or not self.what_if:
            return []
        current = int(o.raw.computed[t, e])
        inputs: list[str] = []
        for rule in self.p.rules:
            for name in self.own_inputs(rule.when):
                if name not in inputs and self.L.inputs[name][t, e] == \
                        self.L.inputs[name][t, e]:
                    inputs.append(name)
        out = []
        for lv in self.p.levels:
            if lv.decided_by or lv.index == current:
                continue            # a judgement level is set by a decision, not by a change
            best: tuple[float, Move] | None = None
            for name in inputs:
                found = self.move_input(name, lv)
                if found is not None and (best is None or found[0] < best[0]):
                    best = found
            if best is None:
                out.append(Move(lv.id, lv.label, None, None, None, None,
                                "no change to a single input of this organisation this period "
                                "reaches it"))
            else:
                out.append(best[1])
        return out

    def move_input(self, name: str, lv) -> tuple[float, Move] | None:
        inp = self.p.inputs[name]
        v = float(self.L.inputs[name][self.t, self.e])
        if inp.type in ("flag", "rating"):
            for x in self.options(name, v):
                if self.level_at(name, x) == lv.index and self.verified_level(name, x) == \
                        lv.index:
                    text = f"{inp.label} becomes {self.fmt.value(x, self.input_type(name))}"
                    return abs(x - v) / 4.0, Move(lv.id, lv.label, name, inp.label, v, x, text)
            return None
        if self._watched is None:
            self._watched = [n for r in self.p.rules if r.when is not None
                             for n in self.conditions_of(r.when)]
        crossing = self.nearest(name, v, lambda x: self.level_at(name, x) == lv.index,
                                self.signature(name, self._watched))
        if crossing is None or self.verified_level(name, crossing.after) != lv.index:
            return None
        return self.cost(name, v, crossing), Move(
            lv.id, lv.label, name, inp.label, v, crossing.after,
            self.change_text(name, v, crossing))

    # what would flip a rule ----------------------------------------------------------------

    def own_inputs(self, root: ast.Node) -> list[str]:
        """Inputs of this entity a condition reads (not its members' or its parent's)."""
        out: list[str] = []
        seen: set[int] = set()
        stack = [root]
        while stack:
            n = stack.pop()
            if n.nid in seen:
                continue
            seen.add(n.nid)
            if isinstance(n, ast.Call) and BUILTINS[n.func].over_members:
                continue
            if isinstance(n, ast.Attribute):
                continue
            ref = self.c.refs.get(n.nid)
            if isinstance(n, ast.Name) and ref is not None:
                if ref.kind == "input" and ref.name not in out:
                    out.append(ref.name)
                elif ref.kind == "define":
                    d = self.p.defines[ref.name]
                    if d.expr is not None:
                        stack.append(d.expr)
                continue
            stack.extend(n.children())
        return out

    def flip(self, rule, value: float) -> tuple[Flip | None, str | None]:
        inputs = self.own_inputs(rule.when)
        status = self.status(value)
        if status == "unknown":
            return self.unknown_flip(rule, inputs)
        best: tuple[float, Flip] | None = None
        for name in inputs:
            found = self.flip_input(rule, name, status)
            if found is None:
                continue
            f, relative = found
            if best is None or relative < best[0]:
                best = (relative, f)
        if best is None:
            if not inputs:
                return None, ("no change to this organisation's own inputs flips it (it reads "
                              "none: it depends on other organisations or earlier periods)")
            return None, "no change to a single input of this organisation this period flips it"
        return best[1], None

    def rule_status(self, rule, probe: Probe) -> str:
        return self.status(self.val(rule.when, probe))

    def input_type(self, name: str) -> Type:
        inp = self.p.inputs[name]
        if inp.type == "rating":
            return Type("rating", inp.scale)
        return Type("bool") if inp.type == "flag" else Type(inp.type)

    def options(self, name: str, v: float) -> list[float]:
        """The other values a flag or rating input can take, nearest first."""
        inp = self.p.inputs[name]
        if inp.type == "flag":
            return [1.0 - v]
        n = len(self.p.scales[inp.scale].labels)
        return [float(i) for i in sorted(range(n), key=lambda i: abs(i - v)) if i != v]

    def flip_input(self, rule, name: str, status: str) -> tuple[Flip, float] | None:
        inp = self.p.inputs[name]
        v = float(self.L.inputs[name][self.t, self.e])
        if v != v:
            return None
        goal = "not fired" if status == "fired" else "fired"
        verb = "stops firing" if status == "fired" else "fires"
        if inp.type in ("flag", "rating"):
            for o in self.options(name, v):
                probe = self.probe.with_input(name, self.t, self.e, o)
                if self.rule_status(rule, probe) == goal:
                    shown = self.fmt.value(o, self.input_type(name))
                    text = f"{verb} if {inp.label} becomes {shown}"
                    return Flip(name, inp.label, v, o, text), abs(o - v) / 4.0
            return None
        crossing = self.search(name, lambda probe: self.val(rule.when, probe), goal_status=goal,
                               root=rule.when)
        if crossing is None:
            return None
        text = f"{verb} if {self.change_text(name, v, crossing)}"
        return Flip(name, inp.label, v, crossing.after, text), self.cost(name, v, crossing)

    def cost(self, name: str, v: float, crossing: Crossing) -> float:
        """How big a change is, relative to the spread of the input among all entities, so
        changes to different inputs compare."""
        spread = self.spread(name) or max(abs(v), 1.0)
        return abs(crossing.after - v) / spread

    def change_text(self, name: str, v: float, crossing: Crossing) -> str:
        """The change in words: "A&E 4-hour performance rises by 2 points (to 76%)"."""
        inp = self.p.inputs[name]
        typ = self.input_type(name)
        up = crossing.after > v
        direction = "rises" if up else "falls"
        boundary = self.fmt.value(crossing.boundary, typ)
        delta = crossing.boundary - v
        if crossing.strict and boundary == self.fmt.value(v, typ):
            # the boundary is the value itself: any move that way changes it, typically
            # because the organisation shares its value with peers and ties share a rank
            where = "above" if up else "below"
            move = "rise" if up else "fall"
            ties = self.tied(name, v)
            if ties:
                return (f"{inp.label} {direction} {where} {boundary}: it is tied with {ties} "
                        f"other{'s' if ties != 1 else ''} at {boundary}, and any {move} moves "
                        f"it past the tie")
            return f"{inp.label} {direction} {where} {boundary} (any {move} does it)"
        if crossing.strict:
            where = "above" if up else "below"
            return (f"{inp.label} {direction} {where} {boundary} (a change of more than "
                    f"{self.fmt.change(delta, typ)})")
        return f"{inp.label} {direction} by {self.fmt.change(delta, typ)} (to {boundary})"

    def tied(self, name: str, v: float) -> int:
        """How many other organisations in this one's peer group share its value of `name`."""
        groups = self.L.groups.get(self.peer_grouping(name))
        col = self.L.inputs[name][self.t]
        same = col == v
        if groups is not None:
            same &= groups == groups[self.e]
        return int(same.sum()) - 1

    def peer_grouping(self, name: str) -> str:
        """The grouping the policy ranks input `name` within (its first rank call's by=)."""
        for root in [d.expr for d in self.p.defines.values()] + [r.when for r in self.p.rules]:
            if root is None:
                continue
            for n in ast.walk(root):
                if _ranking(n):
                    arg, _ = self.resolve(n.args[0])
                    ref = self.c.refs.get(arg.nid)
                    if ref is not None and ref.kind == "input" and ref.name == name:
                        return peer_grouping(n, self.p)
        return self.p.peer_group or "type"

    def spread(self, name: str) -> float:
        col = self.L.inputs[name][self.t]
        col = col[~np.isnan(col)]
        return float(col.max() - col.min()) if col.size else 0.0

    def candidates(self, name: str, v: float) -> tuple[list[float], list[float]]:
        """Values of input `name` to try, above and below v, nearest first.

        An outcome can change only where some value it reads changes: a rank where the value
        passes a peer's, a comparison at its threshold. So the candidates are the values of
        the peers it is ranked among (when it is ranked) and the points between them, the
        policy's numbers and the points just either side, a grid over the range of values
        and steps doubling away from v (for thresholds far outside it). Trying them nearest
        first finds a band (a condition true only between two values) that steps alone would
        jump over."""
        inp = self.p.inputs[name]
        col = self.L.inputs[name][self.t]
        known = np.unique(col[~np.isnan(col)])
        scale = max(self.spread(name), abs(v), 1e-6)
        tiny = scale * 1e-9
        points: set[float] = set()
        peers = self.peer_values(name)
        if peers.size:
            points.update(peers.tolist())
            points.update(((peers[1:] + peers[:-1]) / 2.0).tolist())
        for c in self.constants():
            points.update((c, c - tiny, c + tiny))
        if known.size:
            lo, hi = float(known.min()), float(known.max())
            pad = max(hi - lo, scale * 0.1)
            points.update(np.linspace(lo - pad, hi + pad, 33).tolist())
        step = scale * 1e-3
        for _ in range(44):
            points.update((v + step, v - step))
            step *= 2.0
        lo_bound, hi_bound = (0.0, 100.0) if inp.type == "percent" else (-np.inf, np.inf)
        if inp.type == "count":
            lo_bound = 0.0
            points = {float(math.floor(x)) for x in points} | {float(math.ceil(x))
                                                                for x in points}
        pts = [min(max(float(x), lo_bound), hi_bound) for x in points if math.isfinite(x)]
        up = sorted({x for x in pts if x > v})
        down = sorted({x for x in pts if x < v}, reverse=True)
        return up, down

    def peer_values(self, name: str) -> np.ndarray:
        """The distinct values of `name` this period among the organisations this one is
        compared with by a peer function (rank, percentile, ...) reading it; none when no
        peer function reads it."""
        if name not in self._peer_values:
            mask = np.zeros(self.L.n_entities, bool)
            for call in self.peer_calls():
                if name in self.own_inputs(call.args[0]):
                    groups = self.L.groups.get(peer_grouping(call, self.p))
                    mask |= (groups == groups[self.e]) if groups is not None else True
            col = self.L.inputs[name][self.t]
            self._peer_values[name] = np.unique(col[mask & ~np.isnan(col)])
        return self._peer_values[name]

    def peer_calls(self) -> list[ast.Call]:
        roots = [d.expr for d in self.p.defines.values()] + [r.when for r in self.p.rules]
        return [n for root in roots if root is not None for n in ast.walk(root)
                if isinstance(n, ast.Call) and BUILTINS[n.func].family == "peer" and n.args]

    def constants(self) -> list[float]:
        """The numbers a policy compares with this period: params and literals."""
        if self._constants is None:
            found = {float(a[self.t]) for a in self.L.params.values()}
            roots = [d.expr for d in self.p.defines.values()] + [r.when for r in self.p.rules]
            for root in roots:
                if root is not None:
                    found.update(float(n.value) for n in ast.walk(root)
                                 if isinstance(n, ast.Number))
            self._constants = sorted(x for x in found if math.isfinite(x))
        return self._constants

    def probe_at(self, name: str, x: float) -> Probe:
        """A what-if probe with this organisation's `name` set to x this period; the last few
        are kept, since a search asks several questions of the same value."""
        key = (name, x)
        probe = self._probes.get(key)
        if probe is None:
            probe = self.probe.with_input(name, self.t, self.e, x)
            if len(self._probes) >= 16:
                self._probes.pop(next(iter(self._probes)))
            self._probes[key] = probe
        return probe

    def conditions_of(self, root: ast.Node) -> list[ast.Node]:
        """Every true/false node under root, through defines: what a search watches to know
        whether anything changed between two values it tried."""
        out: list[ast.Node] = []
        seen: set[int] = set()
        stack = [root]
        while stack:
            n = stack.pop()
            if n.nid in seen:
                continue
            seen.add(n.nid)
            t = self.c.types.get(n.nid)
            if t is not None and t.kind == "bool":
                out.append(n)
            spec = builtin(n)
            if spec is not None and (spec.over_members or spec.reads_levels):
                continue    # conditions over members or over levels: not this entity's own
            inner, define = self.resolve(n)
            if define is not None:
                stack.append(inner)
            stack.extend(n.children())
        return out

    def signature(self, name: str, nodes: list[ast.Node]):
        def sig(x: float) -> tuple:
            probe = self.probe_at(name, x)
            return tuple(self.truth(self.val(n, probe)) for n in nodes)
        return sig

    def search(self, name: str, evaluate, goal_status: str | None = None,
               root: ast.Node | None = None) -> Crossing | None:
        """The nearest value of input `name` (this entity, this period) at which `evaluate`'s
        truth changes (or reaches goal_status), rounded outward to the shown precision and
        confirmed by evaluating it. `root`: the condition evaluated, watched between the
        values tried."""
        v = float(self.L.inputs[name][self.t, self.e])
        if v != v:
            return None
        base = evaluate(self.probe)

        def changed(x: float) -> bool:
            r = evaluate(self.probe_at(name, x))
            if goal_status is not None:
                return self.status(r) == goal_status
            return not (r == base or (r != r and base != base))

        sig = self.signature(name, self.conditions_of(root)) if root is not None else None
        return self.nearest(name, v, changed, sig)

    def nearest(self, name: str, v: float, reaches, signature=None) -> Crossing | None:
        """The value nearest v at which reaches(value) holds, either way: the candidates in
        order, then bisection between the last that does not and the first that does.

        With many candidates, every k-th is tried first, and the ones between two of those
        only when reaches() holds at the second or signature() (the truth of every condition
        involved) differs between them: a condition that turned and turned back again between
        two tries needs the value it watches to turn round, which ranks and thresholds on one
        organisation's value do not."""
        integer = self.p.inputs[name].type == "count"
        scale = max(self.spread(name), abs(v), 1e-6)
        best: Crossing | None = None
        for points in self.candidates(name, v):
            if best is not None:
                points = [x for x in points if abs(x - v) <= abs(best.after - v)]
            hit = self.first_hit(points, v, reaches, signature)
            if hit is None:
                continue
            lo, hi = hit             # lo does not reach it, hi does
            for _ in range(80):
                if integer and abs(hi - lo) <= 1:
                    break
                if not integer and abs(hi - lo) <= scale * 1e-10:
                    break
                mid = (lo + hi) / 2.0
                if integer:
                    mid = math.floor(mid) if hi > lo else math.ceil(mid)
                    if mid in (lo, hi):
                        break
                if reaches(mid):
                    hi = mid
                else:
                    lo = mid
            crossing = self.shown_value(v, hi - v, self.p.inputs[name].type, reaches)
            if best is None or abs(crossing.after - v) < abs(best.after - v):
                best = crossing
        return best

    @staticmethod
    def first_hit(points: list[float], v: float, reaches, signature) -> tuple[float, float] | None:
        """(the last point before it, the first point where reaches() holds), or None."""
        def scan(i: int, j: int) -> tuple[float, float] | None:
            for k in range(i, j):
                if reaches(points[k]):
                    return (points[k - 1] if k else v), points[k]
            return None

        if signature is None or len(points) <= 40:
            return scan(0, len(points))
        k = math.ceil(len(points) / 32)
        coarse = list(range(k - 1, len(points), k))
        if coarse[-1] != len(points) - 1:
            coarse.append(len(points) - 1)
        prev, prev_sig = -1, signature(v)
        for c in coarse:
            now = signature(points[c])
            if now != prev_sig or reaches(points[c]):
                found = scan(prev + 1, c + 1)
                if found is not None:
                    return found
            prev, prev_sig = c, now
        return None

    def shown_value(self, v: float, delta: float, kind: str, changed) -> Crossing:
        """What to report for a change of `delta` found by bisection (just past the boundary):
        the boundary rounded to the precision the explanation shows, when reaching it changes
        the outcome; the rounded boundary as a strict one when only values beyond it do (the
        value itself, when any move that way does); else one shown step further."""
        a = abs(delta)
        if kind == "percent":
            unit = 0.1
        elif kind == "count":
            unit = 1.0
        elif kind == "money":
            unit = 10.0 ** max(3, math.floor(math.log10(a)) - 1) if a > 0 else 1000.0
        else:
            shown = 0.001 if abs(v) < 10 else 0.01      # as _Format.value shows numbers
            unit = max(10.0 ** (math.floor(math.log10(a)) - 2), shown) if a > 0 else shown
        digits = max(0, -math.floor(math.log10(unit)))
        nearest = round(round((v + delta) / unit) * unit, digits)
        step = math.copysign(unit, delta)
        if (nearest - v) * delta > 0:
            if changed(nearest):
                return Crossing(nearest, nearest, False)
            just_past = nearest + step * 1e-6
            if changed(just_past):
                return Crossing(just_past, nearest, True)
        elif abs(nearest - v) < unit / 2 and kind != "count":
            # the boundary is v itself, to the precision shown: v + delta (just past it) is
            # the verified value
            return Crossing(v + delta, v, True)
        further = round(nearest + step, digits)
        if (further - v) * delta > 0 and changed(further):
            return Crossing(further, further, False)
        return Crossing(v + delta, v + delta, False)

    def unknown_flip(self, rule, inputs: list[str]) -> tuple[Flip | None, str | None]:
        missing = [n for n in inputs if self.L.inputs[n][self.t, self.e] !=
                   self.L.inputs[n][self.t, self.e]]
        if not missing:
            return None, "unknown through values of other organisations or earlier periods"
        labels = ", ".join(self.p.inputs[n].label for n in missing)
        if len(missing) > 1:
            return None, f"unknown because these are missing: {labels}"
        name = missing[0]
        inp = self.p.inputs[name]
        col = self.L.inputs[name][self.t]
        if inp.type == "flag":
            candidates = [0.0, 1.0]
        elif inp.type == "rating":
            candidates = [float(i) for i in range(len(self.p.scales[inp.scale].labels))]
        else:
            candidates = sorted(set(float(x) for x in col[~np.isnan(col)]))
        fires = [x for x in candidates
                 if self.rule_status(rule, self.probe.with_input(name, self.t, self.e, x))
                 == "fired"]
        ityp = Type(inp.type) if inp.type not in ("rating", "flag") else (
            Type("rating", inp.scale) if inp.type == "rating" else Type("bool"))
        note = f"unknown because {inp.label} is missing"
        if not fires:
            return None, note + "; it would not fire for any value its peers have"
        if len(fires) == len(candidates):
            return None, note + "; it would fire for any value its peers have"
        if fires == candidates[:len(fires)]:
            return None, (note + f"; it would fire if {inp.label} were at most "
                          f"{self.fmt.value(fires[-1], ityp)}")
        if fires == candidates[-len(fires):]:
            return None, (note + f"; it would fire if {inp.label} were at least "
                          f"{self.fmt.value(fires[0], ityp)}")
        return None, note + "; it would fire for some of the values its peers have"


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
