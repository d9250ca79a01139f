"""The explainer: an outcome, its rules and their conditions, with the peer context of ranks
and windows; what would change it is in whatif.py."""

from __future__ import annotations

from dataclasses import asdict

import numpy as np

from ...diagnostics import RegimeError, did_you_mean
from ...engine.layout import Layout
from ...engine.outcomes import Outcomes, decide
from ...engine.probe import Probe
from ...engine.reference import Reads
from ...lang import ast
from ...lang.builtins import BUILTINS, peer_grouping
from ...check.checker import CheckedPolicy
from .format import Format, ordinal
from .model import Condition, Explanation, Operand, RuleExplanation
from .whatif import Point, WhatIf, ranking


# --- the explainer ---------------------------------------------------------------------------

def explain(checked: CheckedPolicy, outcomes: Outcomes, layout: Layout, entity: str,
            t: int, *, what_if: bool = True) -> Explanation:
    """Explain entity's outcome in period index t. what_if=False leaves out what would flip
    each rule and move the outcome (the searches are most of the work), for a report that
    explains every organisation."""
    return Explainer(checked, outcomes, layout).explain(entity, t, what_if=what_if)


class Explainer:
    """Explanations of one evaluation: what they all share (every expression's values over
    all organisations, the expressions' texts) is computed once, so a report explaining every
    organisation evaluates the policy once, not once per organisation."""

    def __init__(self, checked: CheckedPolicy, outcomes: Outcomes, layout: Layout) -> None:
        self.checked, self.outcomes, self.layout = checked, outcomes, layout
        # what evaluation read, heard as it reads it: a window's periods (window_detail)
        self.reads = Reads()
        self.probe = Probe(checked, layout, outcomes.raw.level.astype(np.float64),
                           tracer=self.reads)
        self.fmt = Format(checked, outcomes)
        self.texts: dict[int, str] = {}
        self._rankings: dict[int, list[ast.Call]] = {}
        p = checked.policy
        for d in p.defines.values():
            self._index_text(d.expr, d.text)
        for r in p.rules:
            self._index_text(r.when, r.text)

    def _index_text(self, root: ast.Node | None, text: str) -> None:
        if root is None:
            return
        for n in ast.walk(root):
            self.texts[n.nid] = " ".join(text[n.span[0]:n.span[1]].split())

    def rankings(self, root: ast.Node) -> list[ast.Call]:
        """The calls ranking a value among peers under root (not through defines)."""
        found = self._rankings.get(root.nid)
        if found is None:
            found = self._rankings[root.nid] = [n for n in ast.walk(root) if ranking(n)]
        return found

    def explain(self, entity: str, t: int, *, what_if: bool = True) -> Explanation:
        """Explain entity's outcome in period index t (see explain())."""
        ids = self.outcomes.entities.ids
        if entity not in ids:
            raise RegimeError(f"no entity '{entity}' in the data"
                              f"{did_you_mean(entity, ids.values)}")
        return _Explainer(self, ids.index(entity), t, what_if).run()


class _Explainer(WhatIf):
    def __init__(self, shared: Explainer, e: int, t: int, what_if: bool = True) -> None:
        self.what_if = what_if
        self.shared = shared
        self.c = shared.checked
        self.p = shared.checked.policy
        self.o = shared.outcomes
        self.L = shared.layout
        self.e = e
        self.t = t
        self.probe = shared.probe
        self.fmt = shared.fmt
        self.texts = shared.texts
        self._points: dict[tuple[str, float], Point] = {}
        self._signatures: dict[tuple[int, str, float], bytes] = {}
        self._watches: dict[tuple[int, ...], int] = {}
        self._conditions: dict[int, list[ast.Node]] = {}
        self._own_inputs: dict[int, list[str]] = {}
        self._candidates: dict[tuple[str, float], tuple[list[float], list[float]]] = {}
        self._peer_values: dict[str, np.ndarray] = {}
        self._constants: list[float] | None = None
        self._levels: dict[tuple[str, float], int] = {}
        self._watched: list[ast.Node] | None = None

    # values --------------------------------------------------------------------------------

    def val(self, node: ast.Node, probe: Probe | Point | None = None, t: int | None = None):
        t = self.t if t is None else t
        v = probe.value(node, t) if isinstance(probe, Point) else \
            (probe or self.probe).value(node, t)[self.e]
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
        """A window's values in the periods its evaluation read, in the order read (this
        period first): the built-in's own implementation says which, not a rule here."""
        self.val(node)          # evaluated (or memoised) by the traced probe
        inner = node.args[0]
        periods = [read[1] for read in self.shared.reads.read_by((node.nid, self.t))
                   if read[0] == inner.nid]
        follows = BUILTINS[node.func].follows(node)
        values = []
        for tt in periods:
            if tt < 0:
                values.append("before the data")
            elif follows and tt < self.t:   # read through its predecessors before it existed
                v = self.probe.followed(inner, tt)[self.e]
                shown = self.fmt.value(v if isinstance(v, str) else float(v),
                                       self.c.types.get(inner.nid))
                values.append(f"{self.o.period_labels[tt]} {shown}")
            else:
                values.append(f"{self.o.period_labels[tt]} {self.shown(inner, t=tt)}")
        return f"over the last {len(periods)}: " + ", ".join(values)

    def rank_context(self, side: ast.Node, comparison: ast.Node) -> list[str]:
        """Peer context for rank calls on an input: value, position among peers, cut-off."""
        out = []
        for n in self.shared.rankings(self.resolve(side)[0]):
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
        """(the peers in words, the position among them, how many): the call's own grouping
        and direction, ranked by the `rank` and `peer_count` built-ins."""
        by = peer_grouping(call, self.p)
        x = self.probe.value(arg, self.t)
        if x.dtype == object:
            return "", 0, 0
        size = int(self.probe.builtin("peer_count", call, self.t)[self.e])
        position = int(self.probe.builtin("rank", call, self.t)[self.e]) \
            if x[self.e] == x[self.e] else 0
        ents = self.o.entities
        kind = ents.kinds[self.e]
        if by == "all":
            desc = f"{kind}s"
        elif by == "type":
            desc = f"{ents.types[self.e].replace('_', ' ')} {kind}s".strip()
        else:
            desc = f"{kind}s with {by} {ents.attribute(by)[self.e]}"
        return desc, position, size
