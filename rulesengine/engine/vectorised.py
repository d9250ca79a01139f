"""The vectorised engine (tier 0): the reference's semantics, array-at-a-time over whole
[periods, entities] arrays, with nothing compiled for the policy.

Each expression node is evaluated once over every period at once, by the reference
evaluator's own methods and the built-ins' reference implementations (one definition each:
engine/reference.py and lang/builtins/, unless an entry brings a `vectorised` one); only the
driver and the handful of methods that know about time differ:

- A value is a float64 array [P, E]. `eval(node, t)` with t <= 0 is the node's value
  shifted t periods back (a lag or a window row): rows before the data are unknown, exactly
  as the reference's `eval` of a period before the data.
- Strings are held as codes into a table of only the strings the policy reads (the
  attributes it names and its literals), so comparing them is comparing numbers, with NaN as
  the unknown string: no Python object per cell.
- Values that depend on the level (`previous(level)`, `periods_in(...)` and everything built
  on them) need the previous period's outcome, so they are evaluated period by period by the
  reference's own driver (`_Stepped`), reading every other value from the vectorised arrays.
- A built-in whose size argument (a window's length, a number of groups) is a param that
  changes between periods is left to the reference evaluator (sizes are one number for the
  whole array here).
"""

from __future__ import annotations

import numpy as np

from ..lang import ast
from ..lang.builtins import BUILTINS
from ..check.checker import CheckedPolicy
from .layout import Layout
from .outcomes import RawOutcomes, decide, rule_bits
from .reference import NAN, ReferenceEvaluator, evaluate_reference
from .sharing import shared_values


def evaluate_vectorised(checked: CheckedPolicy, layout: Layout,
                        values: dict | None = None) -> RawOutcomes:
    """The same outcomes as evaluate_reference, computed over all periods at once.

    `values` (node id -> value over every period), when given, holds values the caller
    knows (engine/reuse.py: a diff's variant takes B's), used as they are, and afterwards
    every value computed."""
    if layout.n_periods == 0 or layout.n_entities == 0 or sizes_vary(checked, layout):
        return evaluate_reference(checked, layout)
    vec = Vectorised(checked, layout)
    if values is not None:
        vec.base = values           # read, and filled in place as values are computed
    p = checked.policy
    roots = [r.when for r in p.rules]
    if p.applies_to is not None and p.applies_to.expr is not None:
        roots.append(p.applies_to.expr)
    if any(vec.stepped(root) for root in roots):
        return _Stepped(vec).run()
    return vec.run()


def sizes_vary(checked: CheckedPolicy, layout: Layout) -> bool:
    """Whether a built-in's size argument is a param with more than one value over the
    periods."""
    p = checked.policy
    roots = [d.expr for d in p.defines.values() if d.expr is not None]
    roots += [r.when for r in p.rules if r.when is not None]
    if p.applies_to is not None and p.applies_to.expr is not None:
        roots.append(p.applies_to.expr)
    for root in roots:
        for node in ast.walk(root):
            spec = BUILTINS.get(node.func) if isinstance(node, ast.Call) else None
            if spec is not None and spec.size is not None and len(node.args) > spec.size:
                size = node.args[spec.size]
                if isinstance(size, ast.Name) and size.name in layout.params:
                    values = layout.params[size.name]
                    if values.size and (values != values[0]).any():
                        return True
    return False


def level_dependent(checked: CheckedPolicy) -> set[int]:
    """Node ids whose value depends on the level of an earlier period (through defines too).
    Linear in the policy's DAG: each node and each define is visited once."""
    p = checked.policy
    seen: dict[int, bool] = {}
    define_dep: dict[str, bool] = {}
    for name in checked.define_order:          # defines in dependency order
        expr = p.defines[name].expr
        define_dep[name] = expr is not None and _visit(checked, expr, seen, define_dep)
    for rule in p.rules:
        if rule.when is not None:
            _visit(checked, rule.when, seen, define_dep)
    if p.applies_to is not None and p.applies_to.expr is not None:
        _visit(checked, p.applies_to.expr, seen, define_dep)
    return {nid for nid, dep in seen.items() if dep}


def _visit(checked, root, seen, define_dep) -> bool:
    for node in reversed(list(ast.walk(root))):     # children before parents
        if node.nid in seen:
            continue
        ref = checked.refs.get(node.nid)
        dep = isinstance(node, ast.Call) and BUILTINS[node.func].reads_levels
        if ref is not None and ref.kind == "define":
            dep = dep or define_dep.get(ref.name, False)
        seen[node.nid] = dep or any(seen.get(c.nid, False) for c in node.children())
    return seen[root.nid]


def shifted(base: np.ndarray, k: int) -> np.ndarray:
    """base's rows moved k periods later; the first k rows (before the data) unknown."""
    if k == 0:
        return base
    out = np.empty_like(base)
    out[:k] = NAN
    if k < base.shape[0]:           # a lag longer than the data is unknown throughout
        out[k:] = base[:base.shape[0] - k]
    return out


class Vectorised(ReferenceEvaluator):
    """The evaluator over [periods, entities] arrays (public: engine/batch.py evaluates a
    batch of variants with it)."""

    def __init__(self, checked: CheckedPolicy, layout: Layout) -> None:
        super().__init__(checked, layout)
        self.shape = (self.P, self.E)
        self.base: dict[int, np.ndarray] = {}
        self.dependent = checked.derived("level_dependent", level_dependent)
        self.table: dict[str, float] = {}
        # the same expression written twice (a metric's rank in three rules) is computed
        # once, as in the fused kernel
        self.alias = checked.derived("shared_values", shared_values)

    def stepped(self, node: ast.Node) -> bool:
        return node.nid in self.dependent

    # --- values over every period ----------------------------------------------------------

    def eval(self, node: ast.Node, t: int) -> np.ndarray:
        """The node over every period, shifted -t periods back (t <= 0)."""
        base = self.base.get(node.nid)
        if base is None:
            canonical = self.alias.get(node.nid, node.nid)
            base = self.base.get(canonical)
            if base is None:
                base = self.base[canonical] = self._eval(node, 0)
            self.base[node.nid] = base
        return shifted(base, -t)

    def before_data(self, node: ast.Node) -> np.ndarray:
        return np.full(self.shape, NAN)

    def alive(self, t: int) -> np.ndarray | None:
        # every period's row: a value here is the node over all periods (t is 0)
        return None if self.L.alive is None else self.L.alive[:self.P]

    def followed(self, node: ast.Node, t: int) -> np.ndarray:
        """The node as each entity's stand-ins agree on it (follow=successor), over every
        period, shifted -t periods back."""
        lineage = self.L.lineage
        if lineage is None:
            return self.eval(node, t)
        memo = self.__dict__.setdefault("followed_memo", {})
        base = memo.get(node.nid)
        if base is None:
            base = memo[node.nid] = lineage.agree(self.eval(node, 0), lineage.active[:self.P])
        return shifted(base, -t)

    def call(self, node: ast.Call, t: int) -> np.ndarray:
        spec = BUILTINS[node.func]
        return (spec.vectorised or spec.reference)(self, node, t)

    def code(self, text: str) -> float:
        """A string's code: equal strings, equal codes."""
        return self.table.setdefault(text, float(len(self.table)))

    def string(self, text: str) -> np.ndarray:
        return np.full(self.shape, self.code(text))

    def value_of(self, ref, t: int) -> np.ndarray:
        if ref.kind == "input":
            return self.L.inputs[ref.name]
        if ref.kind == "param":
            return np.broadcast_to(self.L.params[ref.name][:, None], self.shape)
        if ref.kind == "attr":
            codes, values = self.L.attributes[ref.name]
            lookup = np.array([self.code(v) for v in values] or [0.0])
            return np.repeat(lookup[codes][None, :], self.P, axis=0)
        return super().value_of(ref, t)

    def window_size(self, node: ast.Node, t: int) -> int:
        # constant over the periods (evaluate_vectorised checked), so period 0's value
        return super().window_size(node, 0)

    # --- driver ----------------------------------------------------------------------------

    def run(self) -> RawOutcomes:
        P, E, L, p = self.P, self.E, self.L, self.p
        R = len(p.rules)
        is_true = np.empty((R, P, E), bool)
        is_unknown = np.empty((R, P, E), bool)
        for i, rule in enumerate(p.rules):
            value = self.eval(rule.when, 0)
            np.equal(value, 1.0, out=is_true[i])
            np.isnan(value, out=is_unknown[i])
        fired, unknown = rule_bits(is_true), rule_bits(is_unknown)
        d = decide(is_true, is_unknown, L.rule_levels, L.rule_judgement, L.default_level,
                   p.decide == "first", per_rule=False)
        computed, incomplete, candidate = d.computed, d.incomplete, d.candidate
        del is_true, is_unknown, d
        level = np.where(np.isnan(L.decisions), computed, L.decisions).astype(np.int16)
        subject = L.kind_subject[:P].copy()
        if p.applies_to is not None and p.applies_to.expr is not None:
            subject &= self.eval(p.applies_to.expr, 0) == 1
        return RawOutcomes(computed.astype(np.int16), level, candidate.astype(np.int16), fired,
                           unknown, incomplete, subject)


class _Stepped(ReferenceEvaluator):
    """The reference's period-by-period driver for a policy that reads earlier levels: the
    values that depend on them are evaluated period by period, every other value is a row
    of the vectorised arrays."""

    def __init__(self, vec: Vectorised) -> None:
        super().__init__(vec.c, vec.L)
        self.vec = vec

    def eval(self, node: ast.Node, t: int) -> np.ndarray:
        if t >= 0 and node.nid not in self.vec.dependent:
            return self.vec.eval(node, 0)[t]
        return super().eval(node, t)

    def before_data(self, node: ast.Node) -> np.ndarray:
        return np.full(self.shape, NAN)

    def followed(self, node: ast.Node, t: int) -> np.ndarray:
        if t >= 0 and node.nid not in self.vec.dependent:
            return self.vec.followed(node, 0)[t]
        return super().followed(node, t)

    def string(self, text: str) -> np.ndarray:
        return np.full(self.shape, self.vec.code(text))

    def value_of(self, ref, t: int) -> np.ndarray:
        if ref.kind == "attr":
            return self.vec.value_of(ref, 0)[t]
        return super().value_of(ref, t)

