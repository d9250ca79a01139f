"""Probe: the value of any expression node in one period, for explanations and what-ifs.

It runs the reference semantics lazily — only the nodes asked for, with memoisation — and
takes the levels of the periods before from a completed evaluation, so `previous(level)`
means what it meant there. A what-if probe is the same over a layout with one input cell
changed; `Scenarios` is many such what-ifs of one cell at once, one row each.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..lang import ast
from ..lang.builtins import BUILTINS
from ..check.checker import CheckedPolicy
from .layout import Layout
from .reference import ReferenceEvaluator, Tracer


class Probe:
    """`tracer` (engine/reference.Tracer) hears what the probe's evaluations read (explain
    reads a window's periods from it); a what-if probe made by with_input has none."""

    def __init__(self, checked: CheckedPolicy, layout: Layout, levels: np.ndarray,
                 _reads: dict[int, frozenset[str]] | None = None,
                 tracer: Tracer | None = None) -> None:
        self.checked = checked
        self.layout = layout
        self.levels = levels
        self._ref = ReferenceEvaluator(checked, layout, tracer)
        self._ref.levels[:] = levels
        self._reads = _reads if _reads is not None else _input_reads(checked)

    def value(self, node: ast.Node, t: int) -> np.ndarray:
        """The node's value for every entity in period t."""
        return self._ref.eval(node, t)

    def builtin(self, name: str, call: ast.Call, t: int) -> np.ndarray:
        """Built-in `name`'s reference implementation over `call`'s arguments, for every
        entity in period t: explain asks `rank` and `peer_count` for a ranking call's
        position among its peers rather than ranking again by rules of its own."""
        return BUILTINS[name].reference(self._ref, call, t)

    def followed(self, node: ast.Node, t: int) -> np.ndarray:
        """The node's value in period t as each entity's stand-ins agree on it (what a window
        with follow=successor reads before the entity existed)."""
        return self._ref.followed(node, t)

    def with_input(self, name: str, t: int, e: int, value: float) -> "Probe":
        """A probe over the same data with input `name` of entity e in period t set to value."""
        arr = self.layout.inputs[name].copy()
        arr[t, e] = value
        layout = replace(self.layout, inputs={**self.layout.inputs, name: arr})
        probe = Probe(self.checked, layout, self.levels, self._reads)
        # Values that cannot see the change carry over: every earlier period, and this
        # period's values of nodes that do not read the changed input.
        probe._ref.memo = {key: v for key, v in self._ref.memo.items()
                           if key[1] < t or name not in self._reads.get(key[0], ())}
        return probe


class Scenarios:
    """Period t's values with input `name` of entity e set to each of several values: one
    evaluation over [values, entities] arrays (row k: the k-th value), which the built-ins'
    reference implementations handle as they handle the vectorised engine's [periods,
    entities]. Nodes that do not read `name`, and other periods, are the base probe's. So a
    search tries hundreds of values for the price of a few evaluations, and each row is
    exactly what `base.with_input(name, t, e, value)` gives.

    Only entity e's values are kept (`value(node, k)`): a what-if asks about the organisation
    changed, and keeping whole rows for every value tried would hold hundreds of megabytes."""

    def __init__(self, base: Probe, name: str, t: int, e: int, values) -> None:
        self.base, self.name, self.t, self.e = base, name, t, e
        self.values = np.asarray(values, dtype=np.float64)
        rows = _Rows(base, name, t, e, self.values)
        p = base.checked.policy
        roots = [p.defines[d].expr for d in base.checked.define_order]
        roots += [r.when for r in p.rules]
        if p.applies_to is not None:
            roots.append(p.applies_to.expr)
        for root in roots:
            if root is not None:
                rows.eval(root, t)
        # entity e's column of every value that the change can reach
        self._columns = {nid: v[:, e] for (nid, tt), v in rows.memo.items() if tt == t}

    def __len__(self) -> int:
        return len(self.values)

    def column(self, node: ast.Node) -> np.ndarray:
        """Entity e's values of node in period t, one per value."""
        if self.name not in self.base._reads.get(node.nid, ()):
            return np.full(len(self.values), self.base.value(node, self.t)[self.e])
        column = self._columns.get(node.nid)
        if column is None:
            column = np.array([self.value(node, k) for k in range(len(self.values))])
        return column

    def value(self, node: ast.Node, k: int, t: int | None = None):
        """Entity e's value of node with the k-th value (in period t: only the changed period
        differs from the base)."""
        t = self.t if t is None else t
        if t != self.t or self.name not in self.base._reads.get(node.nid, ()):
            return self.base.value(node, t)[self.e]
        column = self._columns.get(node.nid)
        if column is None:      # a node the policy's roots do not evaluate in period t
            # (an operand of a lag): evaluated for this one value
            probe = self.base.with_input(self.name, self.t, self.e, float(self.values[k]))
            return probe.value(node, t)[self.e]
        return column[k]


class _Rows(ReferenceEvaluator):
    """The reference evaluator over [values, entities] in one period (see Scenarios)."""

    def __init__(self, base: Probe, name: str, t: int, e: int, values: np.ndarray) -> None:
        super().__init__(base.checked, base.layout)
        self.levels = base.levels
        # `changed`, not `name`: ReferenceEvaluator.name is a method
        self.base, self.changed, self.t, self.e, self.values = base, name, t, e, values
        self.shape = (len(values), self.E)

    def eval(self, node: ast.Node, t: int) -> np.ndarray:
        if t < 0:
            return self.before_data(node)
        if t != self.t or self.changed not in self.base._reads.get(node.nid, ()):
            return np.broadcast_to(self.base.value(node, t), self.shape)
        return super().eval(node, t)

    def value_of(self, ref, t: int) -> np.ndarray:
        if ref.kind == "input" and ref.name == self.changed and t == self.t:
            column = np.repeat(self.L.inputs[self.changed][t][None, :], len(self.values), axis=0)
            column[:, self.e] = self.values
            return column
        return super().value_of(ref, t)


def _input_reads(checked: CheckedPolicy) -> dict[int, frozenset[str]]:
    """For each node, the inputs its value depends on (through defines and parents)."""
    p = checked.policy
    reads: dict[int, frozenset[str]] = {}

    def visit(root: ast.Node) -> frozenset[str]:
        # post-order over the tree; defines are resolved through their own roots
        order = list(ast.walk(root))
        for node in reversed(order):
            if node.nid in reads:
                continue
            found: set[str] = set()
            ref = checked.refs.get(node.nid)
            if ref is not None and ref.kind == "input":
                found.add(ref.name)
            elif ref is not None and ref.kind == "define" and p.defines[ref.name].expr is not None:
                found |= visit(p.defines[ref.name].expr)
            for child in node.children():
                found |= reads.get(child.nid, frozenset())
            reads[node.nid] = frozenset(found)
        return reads[root.nid]

    for name in checked.define_order:
        if p.defines[name].expr is not None:
            visit(p.defines[name].expr)
    for rule in p.rules:
        if rule.when is not None:
            visit(rule.when)
    if p.applies_to is not None and p.applies_to.expr is not None:
        visit(p.applies_to.expr)
    return reads
