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
from ..lang.builtins import BUILTINS, KWARG_ROLES
from ..check.checker import CheckedPolicy


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
        self.alias: dict[int, int] = {}
        self.by_key: dict[tuple, int] = {}

    def resolve(self, node: ast.Node) -> ast.Node:
        """A name of a define stands for the define's expression (computed once)."""
        while isinstance(node, ast.Name):
            ref = self.c.refs.get(node.nid)
            if ref is None or ref.kind != "define":
                break
            node = self.c.policy.defines[ref.name].expr
        return node

    def run(self) -> Plan:
        p = self.c.policy
        roots = [r.when for r in p.rules]
        if p.applies_to is not None and p.applies_to.expr is not None:
            roots.append(p.applies_to.expr)
        rule_roots = [self.visit(r) for r in (x for x in roots)]
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
        """Register the value of `root` and everything it reads (iteratively, post-order)."""
        root = self.resolve(root)
        stack: list[tuple[ast.Node, bool]] = [(root, False)]
        while stack:
            node, expanded = stack.pop()
            if node.nid in self.values or node.nid in self.alias:
                continue
            children = [self.resolve(c) for c in self.operands(node)]
            if not expanded:
                stack.append((node, True))
                stack.extend((c, False) for c in children
                             if c.nid not in self.values and c.nid not in self.alias)
                continue
            key = self.key(node, children)
            if key in self.by_key:
                # the same expression written twice (say, a metric's rank in three rules)
                self.alias[node.nid] = self.by_key[key]
                continue
            self.by_key[key] = node.nid
            self.values[node.nid] = self.make(node, children)
        return self.alias.get(root.nid, root.nid)

    def key(self, node: ast.Node, children: list[ast.Node]) -> tuple:
        """Structural identity: equal keys compute equal values in every period."""
        deps = tuple(self.alias.get(c.nid, c.nid) for c in children)
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
            if spec.reads_levels:
                # a count kept per call site; the previous level is one value however written
                return ("node", node.nid) if spec.level_counter else (
                    "levels", node.func, spec.follows(node))
            extra = []
            for a in node.args:
                a = self.resolve(a)
                if isinstance(a, ast.Number):
                    extra.append(("n", a.value))
                elif isinstance(a, ast.Name) and self.c.refs.get(a.nid) is not None:
                    r = self.c.refs[a.nid]
                    extra.append((r.kind, r.name))
            kws = tuple(sorted((k.name, k.value.name if isinstance(k.value, ast.Name) else
                                self.alias.get(self.resolve(k.value).nid,
                                               self.resolve(k.value).nid))
                               for k in node.kwargs))
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
