"""Rule and condition coverage of a policy's test cases.

Coverage is by rule and by condition of the policy, not by line of Python (as cel-go's and
OPA's testers measure it). It is computed from the reference evaluator's memoised value of
every expression node, at the cells (entity, period) a test case asserts on:

- **rule coverage**: which rules fired in at least one asserted cell, and which were seen not
  firing;
- **condition coverage**: for every condition reachable from a rule's `when` (through
  defines) or from `applies_to` — each operand of `and`/`or`, the operand of `not`, every
  comparison (`==`, `<`, `in`, `between`, ...), the condition of an `if`, and every condition
  argument of a built-in function (an argument of kind `cond` in its registry entry) —
  whether it was seen true and seen false.

A node is looked at where the evaluator computed it for the asserted cells: inside a window
(a built-in with a `lookback`) in the periods it looks at, inside a lag in the earlier period,
inside a member aggregate (`count(members, c)`) for the members, inside a condition on levels
on the levels of the earlier periods. Each condition is reported at its own position in the policy
file it was written in (a policy that extends another reports the parent's conditions at the
parent file's lines).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from ..diagnostics import Pos, Source
from ..engine.outcomes import RawOutcomes
from ..engine.reference import ReferenceEvaluator
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
            if isinstance(node, ast.Name) and ref is not None and ref.kind == "define" \
                    and ref.name not in seen_defines:
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

    # --- observing ------------------------------------------------------------------------

    def observe(self, ref: ReferenceEvaluator, raw: RawOutcomes, cells: Iterable[Cell]) -> None:
        """Record what the rules and conditions did at `cells` of one evaluated case."""
        cells = frozenset(cells)
        if not cells:
            return
        for i, rule in enumerate(self.checked.policy.rules):
            word, bit = divmod(i, 64)
            for t, e in cells:
                if (int(raw.fired[t, e, word]) >> bit) & 1:
                    self.fired.add(rule.id)
                else:
                    self.not_fired.add(rule.id)
        self._walk(ref, cells)

    def _walk(self, ref: ReferenceEvaluator, cells: frozenset[Cell]) -> None:
        checked = self.checked
        p = checked.policy
        parent = ref.L.parent
        children: dict[int, list[int]] = {}
        for child, par in enumerate(parent.tolist()):
            if par >= 0:
                children.setdefault(par, []).append(child)
        roots = [r.when for r in p.rules if r.when is not None]
        if p.applies_to is not None and p.applies_to.expr is not None:
            roots.append(p.applies_to.expr)
        stack: list[tuple[ast.Node, bool, frozenset[Cell]]] = [(r, False, cells) for r in roots]
        done: set[tuple[int, bool, frozenset[Cell]]] = set()
        while stack:
            node, on_levels, where = stack.pop()
            key = (node.nid, on_levels, where)
            if key in done or not where:
                continue
            done.add(key)
            if node.nid in self.sites:
                self._record(ref, node, on_levels, where)
            if on_levels:
                stack += [(c, True, where) for c in node.children()]
                continue
            ref_ = checked.refs.get(node.nid)
            spec = BUILTINS[node.func] if isinstance(node, ast.Call) else None
            if isinstance(node, ast.Name) and ref_ is not None and ref_.kind == "define":
                d = p.defines[ref_.name]
                if d.expr is not None:
                    stack.append((d.expr, False, where))
            elif isinstance(node, ast.Lag):
                stack.append((node.operand, False, _shift(where, node.n)))
            elif spec is not None and spec.lookback is not None:
                earlier: set[Cell] = set()
                for t, e in where:
                    n = ref.window_size(node.args[spec.size], t)
                    back = (0, n) if spec.lookback == "ends" else range(n)
                    earlier |= {(t - k, e) for k in back if t - k >= 0}
                stack += [(a, False, frozenset(earlier)) for a in spec.value_args(node.args)]
            elif spec is not None and spec.level_counter:
                before = frozenset((k, e) for t, e in where for k in range(t))
                stack.append((node.args[0], True, before))
            elif spec is not None and spec.over_members:
                members = frozenset((t, c) for t, e in where for c in children.get(e, ()))
                stack += [(a, False, members) for a in spec.value_args(node.args)]
            else:
                stack += [(c, False, where) for c in node.children()]

    def _record(self, ref: ReferenceEvaluator, node: ast.Node, on_levels: bool,
                where: frozenset[Cell]) -> None:
        for t, e in where:
            if t < 0:
                continue
            if on_levels:
                v = ref.level_condition(node, ref.levels[t])[e]
            else:
                v = ref.eval(node, t)[e]
            if isinstance(v, str):
                continue
            if v == 1:
                self.seen_true.add(node.nid)
            elif v == 0:
                self.seen_false.add(node.nid)

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


def _shift(cells: frozenset[Cell], n: int) -> frozenset[Cell]:
    return frozenset((t - n, e) for t, e in cells if t - n >= 0)


def _percent(part: int, whole: int) -> float:
    return 100.0 * part / whole if whole else 100.0

