"""Probe: the value of any expression node in one period, for explanations and what-ifs.

It runs the reference semantics lazily — only the nodes asked for, with memoisation — and
takes the levels of the periods before from a completed evaluation, so `previous(level)`
means what it meant there. A what-if probe is the same over a layout with one input cell
changed.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..lang import ast
from ..check.checker import CheckedPolicy
from .layout import Layout
from .reference import ReferenceEvaluator


class Probe:
    def __init__(self, checked: CheckedPolicy, layout: Layout, levels: np.ndarray,
                 _reads: dict[int, frozenset[str]] | None = None) -> None:
        self.checked = checked
        self.layout = layout
        self.levels = levels
        self._ref = ReferenceEvaluator(checked, layout)
        self._ref.levels[:] = levels
        self._reads = _reads if _reads is not None else _input_reads(checked)

    def value(self, node: ast.Node, t: int) -> np.ndarray:
        """The node's value for every entity in period t."""
        return self._ref.eval(node, t)

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
