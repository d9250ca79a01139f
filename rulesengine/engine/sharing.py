"""Structural identity within one policy: which expressions compute the same value.

The same expression is often written more than once (oversight2021 ranks each metric in
three rules); every engine computes it once. Two nodes are the same value when they are the
same construct over the same operands (a define's name standing for its expression), read
the same names, and carry the same options and ranking direction: expressions are pure, so
equal keys compute equal values in every period. The fused planner (compile/plan.py) and
the vectorised engine both ask this one definition. (Across two evaluations, where inputs
and params may differ, engine/reuse.py compares digests that also cover the data.)
"""

from __future__ import annotations

from typing import Callable

from ..check.checker import CheckedPolicy
from ..lang import ast
from ..lang.builtins import BUILTINS, KWARG_ROLES


class Sharing:
    """Walks a policy's expressions, handing each new value to `on_value(node, operands)` in
    dependency order (operands first), and mapping each repeat to its first occurrence."""

    def __init__(self, checked: CheckedPolicy,
                 on_value: Callable[[ast.Node, list[ast.Node]], None] | None = None) -> None:
        self.c = checked
        self.on_value = on_value
        self.alias: dict[int, int] = {}      # nid -> nid of an identical, earlier value
        self.seen: set[int] = set()          # nids of first occurrences
        self.by_key: dict[tuple, int] = {}

    def canonical(self, nid: int) -> int:
        """The nid under which a node's value is computed."""
        return self.alias.get(nid, nid)

    def resolve(self, node: ast.Node) -> ast.Node:
        """A name of a define stands for the define's expression (computed once)."""
        while isinstance(node, ast.Name):
            ref = self.c.refs.get(node.nid)
            if ref is None or ref.kind != "define":
                break
            node = self.c.policy.defines[ref.name].expr
        return node

    def visit(self, root: ast.Node) -> int:
        """Register the value of `root` and everything it reads (iteratively, post-order);
        the nid its value is computed under."""
        root = self.resolve(root)
        stack: list[tuple[ast.Node, bool]] = [(root, False)]
        while stack:
            node, expanded = stack.pop()
            if node.nid in self.seen or node.nid in self.alias:
                continue
            children = [self.resolve(c) for c in self.operands(node)]
            if not expanded:
                stack.append((node, True))
                stack.extend((c, False) for c in children
                             if c.nid not in self.seen and c.nid not in self.alias)
                continue
            key = self.key(node, children)
            if key in self.by_key:
                # the same expression written twice (say, a metric's rank in three rules)
                self.alias[node.nid] = self.by_key[key]
                continue
            self.by_key[key] = node.nid
            self.seen.add(node.nid)
            if self.on_value is not None:
                self.on_value(node, children)
        return self.canonical(root.nid)

    def key(self, node: ast.Node, children: list[ast.Node]) -> tuple:
        """Structural identity: equal keys compute equal values in every period."""
        deps = tuple(self.canonical(c.nid) for c in children)
        ref = self.c.refs.get(node.nid)
        if isinstance(node, (ast.Name, ast.Attribute)):
            if ref is None or ref.kind == "level_var":
                return ("node", node.nid)
            return (type(node).__name__, ref.kind, ref.name, ref.index)
        if isinstance(node, ast.Number):
            return ("Number", node.value, node.unit)
        if isinstance(node, (ast.Bool, ast.String)):
            return (type(node).__name__, node.value)
        if isinstance(node, (ast.Unary, ast.Binary)):
            return (type(node).__name__, node.op, deps)
        if isinstance(node, ast.In):
            return ("In", node.negated, deps)
        if isinstance(node, ast.Lag):
            return ("Lag", node.n, deps)
        if isinstance(node, ast.Call):
            spec = BUILTINS[node.func]
            kws = tuple(sorted((k.name, k.value.name if isinstance(k.value, ast.Name) else
                                self.canonical(self.resolve(k.value).nid))
                               for k in node.kwargs))
            if spec.reads_levels:
                # a count kept per call site; the previous level is one value however written
                return ("node", node.nid) if spec.level_counter else ("levels", node.func, kws)
            extra = []                      # the arguments that are not values
            for a in node.args:
                a = self.resolve(a)
                if isinstance(a, ast.Number):
                    extra.append(("n", a.value))
                elif isinstance(a, (ast.String, ast.Bool)):
                    extra.append((type(a).__name__, a.value))
                elif isinstance(a, ast.Name) and self.c.refs.get(a.nid) is not None:
                    r = self.c.refs[a.nid]
                    extra.append((r.kind, r.name))
            return ("Call", node.func, deps, tuple(extra), kws,
                    self.c.directions.get(node.nid))
        return (type(node).__name__, deps)

    def operands(self, node: ast.Node) -> list[ast.Node]:
        """The nodes whose values this node reads in the current period or from history."""
        if isinstance(node, ast.Name):
            return []
        if isinstance(node, ast.Attribute):
            ref = self.c.refs[node.nid]
            if ref.kind == "define":
                return [self.c.policy.defines[ref.name].expr]
            return []
        if isinstance(node, ast.Call):
            # not `members` or `level` (words), sizes and digits (literals or params), nor
            # what reads levels (the kernel keeps that state itself)
            args = BUILTINS[node.func].value_args(list(node.args))
            return args + [kw.value for kw in node.kwargs if KWARG_ROLES[kw.name] == "value"]
        return [c for c in node.children()]


def roots(checked: CheckedPolicy) -> list[ast.Node]:
    """The expressions every evaluation computes, in the planner's order: each rule's
    condition, then `applies_to`'s."""
    p = checked.policy
    out = [r.when for r in p.rules]
    if p.applies_to is not None and p.applies_to.expr is not None:
        out.append(p.applies_to.expr)
    return out


def shared_values(checked: CheckedPolicy) -> dict[int, int]:
    """nid -> the nid of the identical value met first, for every repeat among the values
    the policy's rules and `applies_to` read."""
    sharing = Sharing(checked)
    for root in roots(checked):
        sharing.visit(root)
    return sharing.alias
