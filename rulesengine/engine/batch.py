"""Many variants of one policy over one data set: what they share is computed once.

A sweep evaluates a policy thousands of times over the same data, each time with other values
of a few params (and, with noise, other values of a few inputs). Most of the policy reads
none of those: peer ranks of the inputs, aggregates over members, flags, ratings, whatever
depends only on the data and on params not swept. `specialise` splits the policy in two:

- the **shared values**: every expression whose value is the same in every variant. Which
  ones are is decided by engine/reuse.py's per-node digests (a node's digest covers everything
  its value is computed from): a node is shared when its digest does not change when the
  varying params and inputs are given other values. They are evaluated once, over every
  period, by the vectorised engine.
- the **residual policy**: the policy with each shared value that a varying expression reads
  replaced by a name for it, read as an input. Only what varies is left in it (comparisons
  with the swept thresholds, what combines them, the rules), so each variant costs a small
  fraction of a whole evaluation, and any engine evaluates it: the compiled kernel of the
  residual serves every variant (compile/batch.py binds its arguments once).

Two more cuts, both exact for the results a sweep reports (the final level and whether an
organisation is decided on):

- Rules for a judgement level (`decided_by:`) only make a candidate; they never change the
  computed level (outcomes.decide), so the residual leaves them out.
- Every built-in looks back a bounded number of periods, except those that read earlier
  levels. When the residual reads no level, a period's outcome depends only on the `reach`
  periods before it, so the residual runs from `reach` periods before the first period
  looked at (the shared values were computed over every period, so they are exact there).

Exactness: a shared value is the value the whole policy would compute (same engine
semantics; the engines agree exactly), and the residual computes the rest as the whole
policy would; tests/analysis/test_sweep_batch.py holds batched results equal to single
evaluations for random variants and draws.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, fields, replace
from typing import Mapping, Sequence

import numpy as np

from ..check.checker import CheckedPolicy
from ..check.scope import Ref
from ..lang import ast
from ..lang import types as T
from ..lang.builtins import BUILTINS, KWARG_ROLES
from .layout import Layout, all_nodes
from .reuse import signatures
from .vectorised import Vectorised, level_dependent, sizes_vary
from .reference import ReferenceEvaluator

UNBOUNDED = -1


@dataclass(frozen=True)
class Specialised:
    """A policy specialised to one data set and one set of varying params and inputs."""

    checked: CheckedPolicy      # the residual policy
    layout: Layout              # its layout: periods start.., shared values as inputs
    start: int                  # the first period of the original layout it holds
    varying_params: tuple[str, ...]
    varying_inputs: tuple[str, ...]
    shared: int                 # shared values the residual reads (computed once)
    nodes: int                  # expression nodes of the whole policy
    residual_nodes: int         # expression nodes left to evaluate per variant
    dropped_rules: int          # judgement rules left out (they never change the level)

    @property
    def n_periods(self) -> int:
        return self.layout.n_periods

    def layout_for(self, params: Mapping[str, float],
                   inputs: Mapping[str, np.ndarray] | None = None) -> Layout:
        """The residual's layout for one variant: swept params at their values in every
        period, varying inputs (already cut to the residual's periods) replaced."""
        P = self.layout.n_periods
        prm = dict(self.layout.params)
        for name, value in params.items():
            prm[name] = np.full(P, float(value))
        ins = dict(self.layout.inputs)
        for name, arr in (inputs or {}).items():
            ins[name] = np.ascontiguousarray(arr, dtype=np.float64)
        return replace(self.layout, params=prm, inputs=ins)


def unspecialised(checked: CheckedPolicy, layout: Layout, *, params: Sequence[str] = (),
                  inputs: Sequence[str] = ()) -> Specialised:
    """The whole policy as its own residual (nothing shared, every period): for what
    `specialise` cannot take apart (a chain of defines deeper than Python's stack)."""
    n = sum(1 for _ in all_nodes(checked))
    return Specialised(checked, layout, 0, tuple(params), tuple(inputs), 0, n, n, 0)


def _other(arr: np.ndarray) -> np.ndarray:
    """An array that differs from `arr` in every cell (so every digest that reads it moves)."""
    return np.where(arr == 0.0, 1.0, 0.0)


def _roots(checked: CheckedPolicy) -> tuple[list, list]:
    """(rules that can set the computed level, the rules left out)."""
    p = checked.policy
    judged = {lv.id for lv in p.levels if lv.decided_by}
    kept = [r for r in p.rules if r.level not in judged]
    return kept, [r for r in p.rules if r.level in judged]


def _value_operands(checked: CheckedPolicy, node: ast.Node) -> list[ast.Node]:
    """The nodes whose values `node` reads (as compile/plan.py's planner: not a built-in's
    size, words or level conditions), defines through their names."""
    if isinstance(node, (ast.Name, ast.Attribute)):
        ref = checked.refs.get(node.nid)
        if ref is not None and ref.kind == "define":
            expr = checked.policy.defines[ref.name].expr
            return [expr] if expr is not None else []
        return []
    if isinstance(node, ast.Call):
        spec = BUILTINS[node.func]
        return spec.value_args(list(node.args)) + [
            k.value for k in node.kwargs if KWARG_ROLES.get(k.name) == "value"]
    return list(node.children())


def _is_leaf(checked: CheckedPolicy, node: ast.Node) -> bool:
    """Read directly by every engine: literals, inputs, params, attributes, a parent's input."""
    if isinstance(node, (ast.Number, ast.Bool, ast.String)):
        return True
    if isinstance(node, (ast.Name, ast.Attribute)):
        ref = checked.refs.get(node.nid)
        return ref is None or ref.kind != "define"
    return False


def specialise(checked: CheckedPolicy, layout: Layout, *, params: Sequence[str] = (),
               inputs: Sequence[str] = (), looked_at: Sequence[int] = (),
               ceilings: Mapping[str, float] | None = None) -> Specialised:
    """The residual of `checked` over `layout` when `params` and `inputs` vary; it holds the
    periods from as far back as the periods `looked_at` need (all when empty) to the last of
    them. `ceilings`: the largest value each varying param takes (window lengths set how far
    back the residual must start)."""
    p = checked.policy
    kept, dropped = _roots(checked)
    roots = [r.when for r in kept if r.when is not None]
    if p.applies_to is not None and p.applies_to.expr is not None:
        roots.append(p.applies_to.expr)

    # Which nodes vary: the digests of reuse.py, with the varying params and inputs given
    # other values. Level-dependent values and strings are never shared (as in reuse.py).
    moved = replace(layout,
                    params={**layout.params, **{n: _other(layout.params[n]) for n in params
                                                if n in layout.params}},
                    inputs={**layout.inputs, **{n: layout.inputs[n].copy() for n in inputs
                                                if n in layout.inputs}})
    before, after = signatures(checked, layout), signatures(checked, moved)
    stepped = checked.derived("level_dependent", level_dependent)
    shared_nids = {nid for nid, sig in before.items()
                   if after.get(nid) == sig and nid not in stepped
                   and checked.types.get(nid) != T.STRING}

    rewriter = _Residual(checked, shared_nids, before)
    new_rules = tuple(replace(r, when=rewriter.rewrite(r.when) if r.when is not None else None)
                      for r in kept)
    applies = p.applies_to
    if applies is not None and applies.expr is not None:
        applies = replace(applies, expr=rewriter.rewrite(applies.expr))
    defines = {name: rewriter.defines[name] for name in p.defines if name in rewriter.defines}

    # the shared values, once, over every period of the data
    values = _shared_values(checked, layout, rewriter.frontier)

    synthetic = dict(rewriter.frontier)
    # The residual's own identity (compile_policy memoises plans by it) is its expressions
    # as rewritten: which values are shared, and which are one array, can change with the
    # data (two inputs bound to one array give one shared rank).
    key = hashlib.sha256(repr((p.content_hash, [r.id for r in kept], [r.when for r in new_rules],
                               sorted((n, repr(d.expr)) for n, d in defines.items()),
                               applies.expr if applies is not None else None)).encode()
                         ).hexdigest()
    policy = replace(p, rules=new_rules, defines=defines, applies_to=applies,
                     content_hash=f"{p.content_hash}:residual:{key[:16]}")
    residual = replace(checked, policy=policy,
                       types={**checked.types, **rewriter.types},
                       refs={**checked.refs, **rewriter.refs},
                       define_order=tuple(n for n in checked.define_order if n in defines),
                       used_inputs=tuple(sorted(rewriter.inputs_read | set(synthetic))),
                       diagnostics=())

    # how far back the periods looked at reach, in the residual
    reach = _reach(residual, layout, ceilings or {})
    stop = (max(looked_at) + 1) if looked_at else layout.n_periods
    start = 0 if (reach == UNBOUNDED or not looked_at) else max(0, min(looked_at) - reach)
    ins = {name: layout.inputs[name][start:stop] for name in rewriter.inputs_read
           if name in layout.inputs}
    ins.update({name: values[name][start:stop] for name in synthetic})
    level_index = {lv.id: lv.index for lv in p.levels}
    cut = replace(layout, n_periods=stop - start, inputs=ins,
                  params={k: v[start:stop] for k, v in layout.params.items()},
                  decisions=layout.decisions[start:stop],
                  kind_subject=layout.kind_subject[start:stop],
                  alive=None if layout.alive is None else layout.alive[start:stop],
                  lineage=None if layout.lineage is None else layout.lineage.rows(start, stop),
                  rule_levels=np.array([level_index[r.level] for r in kept], dtype=np.int64),
                  rule_judgement=np.zeros(len(kept), dtype=bool))
    whole = sum(1 for _ in all_nodes(checked))
    return Specialised(residual, cut, start, tuple(params), tuple(inputs), len(synthetic),
                       whole, sum(1 for _ in all_nodes(residual)), len(dropped))


class _Residual:
    """Rewrites expressions: a shared value read by a varying one becomes a name read as an
    input (one name per digest, so a value written several times is read from one array)."""

    def __init__(self, checked: CheckedPolicy, shared: set[int], digests: dict[int, bytes]):
        self.c = checked
        self.shared = shared
        self.digests = digests
        self.memo: dict[int, ast.Node] = {}
        self.defines: dict[str, object] = {}
        self.frontier: dict[str, ast.Node] = {}     # input name -> the original node
        self.by_digest: dict[bytes, str] = {}
        self.types: dict[int, T.Type] = {}
        self.refs: dict[int, Ref] = {}
        self.inputs_read: set[str] = set()
        self.next_nid = max((n.nid for n in all_nodes(checked)), default=0) + 1
        taken = set(checked.policy.inputs) | set(checked.policy.params) | set(
            checked.policy.defines)
        self.prefix = "shared"
        while any(t.startswith(self.prefix) for t in taken):
            self.prefix = "_" + self.prefix

    def define(self, name: str) -> None:
        if name in self.defines:
            return
        d = self.c.policy.defines[name]
        self.defines[name] = d          # placed first: a define is visited once
        if d.expr is not None:
            self.defines[name] = replace(d, expr=self.rewrite(d.expr))

    def rewrite(self, node: ast.Node) -> ast.Node:
        hit = self.memo.get(node.nid)
        if hit is not None:
            return hit
        out = self._rewrite(node)
        self.memo[node.nid] = out
        return out

    def _rewrite(self, node: ast.Node) -> ast.Node:
        c = self.c
        if node.nid in self.shared and not _is_leaf(c, node):
            return self.read(node)
        if isinstance(node, (ast.Name, ast.Attribute)):
            ref = c.refs.get(node.nid)
            if ref is not None and ref.kind == "define":
                self.define(ref.name)
            elif ref is not None and ref.kind == "input":
                self.inputs_read.add(ref.name)
            return node
        if isinstance(node, ast.Call):
            spec = BUILTINS[node.func]
            if spec.reads_levels:
                return node             # its argument is a condition on levels, not a value
            values = set(range(len(node.args))) if spec.values is None else set(spec.values)
            args = tuple(self.rewrite(a) if i in values else a for i, a in enumerate(node.args))
            kwargs = tuple(replace(k, value=self.rewrite(k.value))
                           if KWARG_ROLES.get(k.name) == "value" else k for k in node.kwargs)
            return replace(node, args=args, kwargs=kwargs)
        changes = {}
        for f in fields(node):
            value = getattr(node, f.name)
            if isinstance(value, ast.Node):
                changes[f.name] = self.rewrite(value)
            elif isinstance(value, tuple) and value and isinstance(value[0], ast.Node):
                changes[f.name] = tuple(self.rewrite(v) for v in value)
        return replace(node, **changes) if changes else node

    def read(self, node: ast.Node) -> ast.Name:
        """A name, read as an input, for a shared value."""
        digest = self.digests[node.nid]
        name = self.by_digest.get(digest)
        if name is None:
            name = self.by_digest[digest] = f"{self.prefix}{len(self.by_digest)}"
            self.frontier[name] = node
        nid = self.next_nid
        self.next_nid += 1
        self.types[nid] = self.c.types.get(node.nid)
        self.refs[nid] = Ref("input", name)
        return ast.Name(nid, node.pos, node.span, name)


def _shared_values(checked: CheckedPolicy, layout: Layout,
                   frontier: Mapping[str, ast.Node]) -> dict[str, np.ndarray]:
    """Each shared value over every period ([P, E]), by the vectorised engine (or, where a
    window's length changes between periods, which it does not handle, the reference's)."""
    if not frontier:
        return {}
    if layout.n_periods == 0 or layout.n_entities == 0 or sizes_vary(checked, layout):
        ref = ReferenceEvaluator(checked, layout)
        return {name: np.array([ref.eval(node, t) for t in range(layout.n_periods)],
                               dtype=np.float64).reshape(layout.n_periods, layout.n_entities)
                for name, node in frontier.items()}
    vec = Vectorised(checked, layout)
    return {name: np.ascontiguousarray(vec.eval(node, 0), dtype=np.float64)
            for name, node in frontier.items()}


def _reach(checked: CheckedPolicy, layout: Layout, ceilings: Mapping[str, float]) -> int:
    """How many periods before a period its rules read (UNBOUNDED if they read levels)."""
    p = checked.policy
    roots = [r.when for r in p.rules if r.when is not None]
    if p.applies_to is not None and p.applies_to.expr is not None:
        roots.append(p.applies_to.expr)
    memo: dict[int, int] = {}

    def size(node: ast.Node) -> int:
        if isinstance(node, ast.Number):
            return int(node.value)
        if node.name in ceilings:
            return int(np.ceil(ceilings[node.name]))
        values = layout.params[node.name]
        return int(values.max()) if values.size else 0

    def go(node: ast.Node) -> int:
        if node.nid in memo:
            return memo[node.nid]
        own = 0
        if isinstance(node, ast.Lag):
            own = node.n
        elif isinstance(node, ast.Call):
            spec = BUILTINS[node.func]
            if spec.reads_levels:
                memo[node.nid] = UNBOUNDED
                return UNBOUNDED
            if spec.lookback is not None:
                n = size(node.args[spec.size])
                own = n if spec.lookback == "ends" else max(n - 1, 0)
        below = 0
        for child in _value_operands(checked, node):
            r = go(child)
            if r == UNBOUNDED:
                memo[node.nid] = UNBOUNDED
                return UNBOUNDED
            below = max(below, r)
        memo[node.nid] = own + below
        return own + below

    reach = 0
    for root in roots:
        r = go(root)
        if r == UNBOUNDED:
            return UNBOUNDED
        reach = max(reach, r)
    return reach
