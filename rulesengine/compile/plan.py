"""The planner: order a checked policy's expressions into stages split at cross-section
operators, and work out which values must be kept (for a later stage, for a cross-section
operator, or as history for lags and windows).

Within a stage every value is elementwise, so the code generator fuses the whole stage into
one loop over entities. A cross-section operator (peer ranks, member aggregates, a parent's
define) needs its argument for all entities first, so it runs between two stage loops.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..lang import ast
from ..lang.builtins import BUILTINS
from ..check.checker import CheckedPolicy
from ..engine.sharing import Sharing, roots


@dataclass
class Value:
    """One computed value: a node of the policy (defines are computed once, at their root)."""

    node: ast.Node
    stage: int = 0
    cross: bool = False         # computed by a library kernel between stage loops
    materialize: bool = False   # kept in an [E] array for a later stage or a library kernel
    history: bool = False       # kept in a ring buffer for lags and windows
    leaf: bool = False          # a constant or a direct read: emitted wherever it is needed
    deps: list[int] = field(default_factory=list)     # nids of the values it reads


@dataclass
class Plan:
    values: dict[int, Value]              # by nid of the (resolved) node, in topological order
    rule_roots: list[int]                 # per rule, the nid of its condition's value
    applies_root: int | None
    n_stages: int
    history_of: dict[int, list[ast.Node]]  # value nid -> nodes reading its history (lags/windows)
    level_counters: list[ast.Call]     # calls whose count the kernel keeps up per level
    alias: dict[int, int] = field(default_factory=dict)  # nid -> nid of an identical value

    def canonical(self, nid: int) -> int:
        """The nid under which a node's value is computed (equal expressions share one)."""
        return self.alias.get(nid, nid)

    def stage_values(self, s: int) -> list[Value]:
        return [v for v in self.values.values() if v.stage == s and not v.cross]

    def cross_values(self, s: int) -> list[Value]:
        """Cross-section values computed just before stage loop s."""
        return [v for v in self.values.values() if v.stage == s and v.cross]


def plan(checked: CheckedPolicy) -> Plan:
    """Stages, materialisation and history for a checked policy."""
    return _Planner(checked).run()


class _Planner:
    def __init__(self, checked: CheckedPolicy) -> None:
        self.c = checked
        self.values: dict[int, Value] = {}
        self.history_of: dict[int, list[ast.Node]] = {}
        self.level_counters: list[ast.Call] = []
        self.sharing = Sharing(checked, self.add)
        self.alias = self.sharing.alias

    def run(self) -> Plan:
        p = self.c.policy
        rule_roots = [self.visit(r) for r in roots(self.c)]
        applies_root = rule_roots.pop() if (p.applies_to is not None and
                                            p.applies_to.expr is not None) else None
        final = max((v.stage for v in self.values.values()), default=0)
        self.schedule_late(final, rule_roots + ([applies_root] if applies_root else []))
        for v in self.values.values():
            for d in v.deps:
                dep = self.values[d]
                if dep.leaf and not v.cross:
                    continue        # re-read in the consumer's loop: cheaper than storing
                if v.cross and self.is_input(dep.node):
                    continue        # library kernels read the input's row directly
                if dep.stage < v.stage or v.cross:
                    dep.materialize = True
        for nid in rule_roots + ([applies_root] if applies_root is not None else []):
            root = self.values[nid]
            if root.stage < final and not root.leaf:
                root.materialize = True
        for nid in self.history_of:
            self.values[nid].history = True
        return Plan(self.values, rule_roots, applies_root, final + 1, self.history_of,
                    self.level_counters, self.alias)

    def schedule_late(self, final: int, roots: list[int]) -> None:
        """Move each elementwise value to the last loop that can hold it: the fewer values
        cross a loop boundary, the fewer are stored in arrays."""
        latest = {nid: final for nid in self.values}
        for nid in reversed(list(self.values)):
            v = self.values[nid]
            if not v.cross:
                v.stage = max(v.stage, latest[nid])
            for d in v.deps:
                bound = v.stage - 1 if v.cross else v.stage
                latest[d] = min(latest[d], bound)
        for nid in reversed(list(self.values)):
            v = self.values[nid]
            if not v.cross:
                v.stage = min(v.stage, latest[nid])

    def is_input(self, node: ast.Node) -> bool:
        ref = self.c.refs.get(node.nid)
        return isinstance(node, ast.Name) and ref is not None and ref.kind == "input"

    def visit(self, root: ast.Node) -> int:
        """Register the value of `root` and everything it reads; a repeat of a value is
        computed once (engine/sharing.py)."""
        return self.sharing.visit(root)

    def add(self, node: ast.Node, children: list[ast.Node]) -> None:
        self.values[node.nid] = self.make(node, children)

    def make(self, node: ast.Node, children: list[ast.Node]) -> Value:
        deps = [self.alias.get(c.nid, c.nid) for c in children]
        stages = [self.values[d].stage for d in deps]
        spec = BUILTINS[node.func] if isinstance(node, ast.Call) else None
        # a count that follows successors reads other entities' levels: counted back by
        # its emitter, not kept up as each level is decided
        if spec is not None and spec.level_counter and not spec.follows(node):
            self.level_counters.append(node)
        if isinstance(node, ast.Lag):
            # reads only earlier periods of its operand: available from the first stage
            self.history_of.setdefault(deps[0], []).append(node)
            return Value(node, stage=0, deps=[])
        if spec is not None and spec.lookback is not None:
            if spec.history or spec.follows(node):   # following reads the stand-ins' past
                self.history_of.setdefault(deps[0], []).append(node)
            return Value(node, stage=max(stages, default=0), deps=deps)
        cross = (spec is not None and spec.cross) or (
            isinstance(node, ast.Attribute) and bool(deps))
        if cross:
            return Value(node, stage=max(stages, default=0) + 1, cross=True, deps=deps)
        leaf = isinstance(node, (ast.Number, ast.Bool, ast.String, ast.Name, ast.Attribute))
        return Value(node, stage=max(stages, default=0), deps=deps, leaf=leaf)
