"""Rule and condition coverage of a policy's test cases.

Coverage is by rule and by condition of the policy, not by line of Python (as cel-go's and
OPA's testers measure it). It listens to the reference evaluator (a `Reads` tracer, as OPA's
cover/ listens to evaluation events) and looks at the cells (entity, period) a test case
asserts on:

- **rule coverage**: which rules fired in at least one asserted cell, and which were seen not
  firing;
- **condition coverage**: for every condition reachable from a rule's `when` (through
  defines) or from `applies_to` — each operand of `and`/`or`, the operand of `not`, every
  comparison (`==`, `<`, `in`, `between`, ...), the condition of an `if`, and every condition
  argument of a built-in function (an argument of kind `cond` in its registry entry) —
  whether it was seen true and seen false.

A condition is looked at wherever evaluation read it for the asserted cells: from each rule's
value at an asserted cell, coverage follows the values that evaluation read — a window's
earlier periods, a lag's earlier period, each earlier period's levels under `periods_in` —
exactly as the evaluator read them, so it restates no built-in's meaning. The one thing the
events do not say is which entities a value came from: a member aggregate (a registry entry
with `over_members`) reads its argument at the entity's members, and `parent.x` at its parent.
Each condition is reported at its own position in the policy file it was written in (a policy
that extends another reports the parent's conditions at the parent file's lines).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

import numpy as np

from ..diagnostics import Pos, Source
from ..engine.outcomes import RawOutcomes, rule_bit
from ..engine.reference import Read, Reads, ReferenceEvaluator
from ..lang import ast
from ..lang.builtins import BUILTINS
from ..check.checker import CheckedPolicy

COMPARISONS = ("==", "!=", "<", "<=", ">", ">=")

Cell = tuple[int, int]          # (period index, entity index)


@dataclass(frozen=True)
class ConditionSite:
    """One condition of the policy: where it is written and its text."""

    nid: int
    file: str
    pos: Pos
    text: str
    source_line: str | None

    def where(self) -> str:
        return f"{self.file}:{self.pos.line}:{self.pos.col}"


@dataclass(frozen=True)
class RuleSite:
    id: str
    file: str
    pos: Pos

    def where(self) -> str:
        return f"{self.file}:{self.pos.line}:{self.pos.col}"


def condition_sites(checked: CheckedPolicy) -> dict[int, ConditionSite]:
    """Every condition reachable from the rules and applies_to, in file order."""
    p = checked.policy
    roots: list[tuple[ast.Node, str, Source]] = []
    for rule in p.rules:
        if rule.when is not None:
            roots.append((rule.when, rule.text, rule.origin))
    if p.applies_to is not None and p.applies_to.expr is not None:
        roots.append((p.applies_to.expr, p.applies_to.text, p.applies_to.origin))
    sites: dict[int, ConditionSite] = {}
    seen_defines: set[str] = set()
    while roots:
        root, text, origin = roots.pop()
        for node in ast.walk(root):
            ref = checked.refs.get(node.nid)
            if isinstance(node, (ast.Name, ast.Attribute)) and ref is not None \
                    and ref.kind == "define" and ref.name not in seen_defines:
                seen_defines.add(ref.name)
                d = p.defines[ref.name]
                if d.expr is not None:
                    roots.append((d.expr, d.text, d.origin))
            for cond in _conditions_at(node):
                if cond.nid not in sites and not isinstance(cond, (ast.Bool, ast.Number)):
                    sites[cond.nid] = ConditionSite(
                        cond.nid, origin.file, cond.pos,
                        " ".join(text[cond.span[0]:cond.span[1]].split()),
                        origin.line(cond.pos.line))
    return dict(sorted(sites.items(), key=lambda kv: (kv[1].file, kv[1].pos.line,
                                                      kv[1].pos.col, kv[0])))


def _conditions_at(node: ast.Node) -> list[ast.Node]:
    """The conditions a node makes: itself if it is a comparison, and its boolean operands."""
    out: list[ast.Node] = []
    if isinstance(node, ast.Binary) and node.op in COMPARISONS:
        out.append(node)
    elif isinstance(node, (ast.In, ast.Between)):
        out.append(node)
    if isinstance(node, ast.Binary) and node.op in ("and", "or"):
        out += _operands(node, node.op)
    elif isinstance(node, ast.Unary) and node.op == "not":
        out.append(node.operand)
    elif isinstance(node, ast.If):
        out.append(node.cond)
    elif isinstance(node, ast.Call):
        out += BUILTINS[node.func].conditions(list(node.args))
    return out


def _operands(node: ast.Node, op: str) -> list[ast.Node]:
    """`a and b and c` as [a, b, c] (a chain of one operator is one n-ary condition)."""
    out: list[ast.Node] = []
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, ast.Binary) and n.op == op:
            stack += [n.right, n.left]
        else:
            out.append(n)
    return out


class Coverage:
    """Rule and condition outcomes seen over any number of test cases of one policy."""

    def __init__(self, checked: CheckedPolicy) -> None:
        self.checked = checked
        p = checked.policy
        self.rules = [RuleSite(r.id, r.origin.file, r.pos) for r in p.rules]
        self.fired: set[str] = set()
        self.not_fired: set[str] = set()
        self.sites = condition_sites(checked)
        self.seen_true: set[int] = set()
        self.seen_false: set[int] = set()
        self._nodes = {n.nid: n for root in _roots(checked) for n in ast.walk(root)}

    # --- observing ------------------------------------------------------------------------

    def observe(self, ref: ReferenceEvaluator, raw: RawOutcomes, cells: Iterable[Cell]) -> None:
        """Record what the rules and conditions did at `cells` of one evaluated case. `ref`
        is the evaluator that computed `raw`, made with a `Reads` tracer."""
        cells = frozenset(cells)
        if not cells:
            return
        if not isinstance(ref.tracer, Reads):
            raise TypeError("coverage observes an evaluator made with a Reads tracer: "
                            "ReferenceEvaluator(checked, layout, Reads())")
        for i, rule in enumerate(self.checked.policy.rules):
            for t, e in cells:
                if rule_bit(raw.fired[t, e], i):
                    self.fired.add(rule.id)
                else:
                    self.not_fired.add(rule.id)
        self._follow(ref, ref.tracer, cells)

    def _follow(self, ref: ReferenceEvaluator, reads: Reads, cells: frozenset[Cell]) -> None:
        """From each rule's (and applies_to's) value at the cells, every value evaluation read
        for them, recording the conditions' values at the entities they were read for."""
        p = self.checked.policy
        roots = [r.when for r in p.rules if r.when is not None]
        if p.applies_to is not None and p.applies_to.expr is not None:
            roots.append(p.applies_to.expr)
        parent = ref.L.parent.tolist()
        members: dict[int, list[int]] = {}
        for child, par in enumerate(parent):
            if par >= 0:
                members.setdefault(par, []).append(child)
        stack: list[tuple[Read, frozenset[int]]] = [
            ((root.nid, t), frozenset(e for tt, e in cells if tt == t))
            for root in roots for t in sorted({t for t, _ in cells})]
        seen: dict[Read, set[int]] = {}
        while stack:
            key, where = stack.pop()
            done = seen.setdefault(key, set())
            new = where - done
            if not new:
                continue
            done |= new
            nid, t = key[0], key[1]
            if t is not None and t < 0:
                continue            # before the data: unknown, and nothing read beneath
            if nid in self.sites:
                self._record(nid, reads.values[key], new)
            node = self._nodes.get(nid)
            if isinstance(node, ast.Call) and BUILTINS[node.func].over_members:
                at = frozenset(c for e in new for c in members.get(e, ()))
            elif isinstance(node, ast.Attribute):
                at = frozenset(parent[e] for e in new if parent[e] >= 0)
            else:
                at = frozenset(new)
            if at:
                stack += [(read, at) for read in reads.read_by(key)]

    def _record(self, nid: int, value: np.ndarray, entities: set[int]) -> None:
        # a value is over the entities, last axis; a condition on levels may be read on
        # several periods' levels at once (periods_in), each row one period's
        for e in entities:
            for v in np.ravel(value[..., e]).tolist():
                if isinstance(v, str):
                    continue
                if v == 1:
                    self.seen_true.add(nid)
                elif v == 0:
                    self.seen_false.add(nid)

    # --- reading ----------------------------------------------------------------------------

    @property
    def rule_percent(self) -> float:
        return _percent(len(self.fired & {r.id for r in self.rules}), len(self.rules))

    @property
    def condition_outcomes(self) -> tuple[int, int]:
        """(outcomes seen, outcomes possible): two per condition, true and false."""
        seen = len(self.seen_true & self.sites.keys()) + len(self.seen_false & self.sites.keys())
        return seen, 2 * len(self.sites)

    @property
    def condition_percent(self) -> float:
        return _percent(*self.condition_outcomes)

    def rule_gaps(self) -> list[str]:
        """`file:line:col: rule 'x' never fired` lines, in rule order."""
        out = []
        for r in self.rules:
            if r.id not in self.fired:
                out.append(f"{r.where()}: rule '{r.id}' never fired")
            if r.id not in self.not_fired:
                out.append(f"{r.where()}: rule '{r.id}' never seen not firing")
        return out

    def condition_gaps(self) -> list[str]:
        """`file:line:col: condition '...' never false` lines, in file order."""
        out = []
        for nid, site in self.sites.items():
            missing = self._missing(nid)
            if missing:
                out.append(f"{site.where()}: condition '{site.text}' {missing}")
        return out

    def _missing(self, nid: int) -> str | None:
        t, f = nid in self.seen_true, nid in self.seen_false
        if t and f:
            return None
        if t:
            return "never false"
        if f:
            return "never true"
        return "never true or false"

    def summary(self) -> str:
        fired = len(self.fired & {r.id for r in self.rules})
        not_fired = len(self.not_fired & {r.id for r in self.rules})
        seen, possible = self.condition_outcomes
        return (f"rule coverage {fired}/{len(self.rules)} rules fired "
                f"({self.rule_percent:.1f}%), {not_fired}/{len(self.rules)} seen not firing; "
                f"condition coverage {seen}/{possible} outcomes ({self.condition_percent:.1f}%)")

    def to_json(self) -> dict:
        seen, possible = self.condition_outcomes
        return {
            "rules": {
                "total": len(self.rules),
                "fired": len(self.fired & {r.id for r in self.rules}),
                "seen_not_firing": len(self.not_fired & {r.id for r in self.rules}),
                "percent": round(self.rule_percent, 2),
                "items": [{"id": r.id, "file": r.file, "line": r.pos.line, "col": r.pos.col,
                           "fired": r.id in self.fired, "not_fired": r.id in self.not_fired}
                          for r in self.rules],
            },
            "conditions": {
                "total": len(self.sites),
                "outcomes_seen": seen,
                "outcomes": possible,
                "percent": round(self.condition_percent, 2),
                "items": [{"file": s.file, "line": s.pos.line, "col": s.pos.col,
                           "text": s.text, "true": nid in self.seen_true,
                           "false": nid in self.seen_false}
                          for nid, s in self.sites.items()],
            },
        }


def _roots(checked: CheckedPolicy) -> list[ast.Node]:
    """Every expression of the policy: the rules', the defines' and applies_to's."""
    p = checked.policy
    roots = [r.when for r in p.rules] + [d.expr for d in p.defines.values()]
    if p.applies_to is not None:
        roots.append(p.applies_to.expr)
    return [r for r in roots if r is not None]


def _percent(part: int, whole: int) -> float:
    return 100.0 * part / whole if whole else 100.0

