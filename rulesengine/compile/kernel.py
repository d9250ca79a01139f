"""Run a checked policy through its compiled kernel: plan, generate, fetch from the cache,
lay the Layout out as kernel arguments, call, and wrap the outputs as RawOutcomes."""

from __future__ import annotations

import os
import re
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from ..engine.layout import Layout
from ..engine.lineage import Lineage
from ..engine.outcomes import RawOutcomes, n_bytes
from ..lang import ast
from ..lang.builtins import BUILTINS
from ..check.checker import CheckedPolicy
from .cache import get_kernel
from .cache import is_cached as source_cached
from .codegen import Generated, generate
from .plan import Plan, plan

# Parallel loops pay once there is enough work per period to share among threads.
PARALLEL_MIN_CELLS = 2_000_000
ENV_PARALLEL = "REGIME_PARALLEL"   # "1" forces prange loops, "0" forbids them


@dataclass(frozen=True)
class Compiled:
    plan: Plan
    generated: Generated


_compiled: "OrderedDict[tuple[str, bool], Compiled]" = OrderedDict()


def compile_policy(checked: CheckedPolicy, *, parallel: bool = False) -> Compiled:
    """Plan and generate, memoised by the policy's content hash (the same text parses to the
    same node ids, so the same plan)."""
    key = (checked.policy.content_hash, parallel)
    hit = _compiled.get(key)
    if hit is None:
        p = plan(checked)
        hit = _compiled[key] = Compiled(p, generate(checked, p, parallel=parallel))
        if len(_compiled) > 256:
            _compiled.popitem(last=False)
    return hit


def use_parallel(layout: Layout) -> bool:
    forced = os.environ.get(ENV_PARALLEL)
    if forced in ("0", "1"):
        return forced == "1"
    return layout.n_periods * layout.n_entities >= PARALLEL_MIN_CELLS


def is_cached(checked: CheckedPolicy, layout: Layout) -> bool:
    """Whether the kernel that would run on this layout is loaded or cached on disk."""
    return source_cached(compile_policy(checked, parallel=use_parallel(layout)).generated.source)


def evaluate_compiled(checked: CheckedPolicy, layout: Layout, *,
                      parallel: bool | None = None) -> RawOutcomes:
    """Evaluate with the policy's compiled kernel; the same outcomes as the reference."""
    parallel = use_parallel(layout) if parallel is None else parallel
    compiled = compile_policy(checked, parallel=parallel)
    gen = compiled.generated
    fn = get_kernel(gen.source, lambda f: _warm(f, checked, compiled, layout))
    args, outs = arguments(checked, compiled, layout)
    fn(*args)
    return RawOutcomes(**outs)


def _warm(fn, checked: CheckedPolicy, compiled: Compiled, layout: Layout) -> None:
    """Call the kernel on the first period and entity of the real layout (same types), so
    that compiling or loading from numba's cache happens under the cache lock."""
    small = _slice(layout)
    args, _ = arguments(checked, compiled, small)
    fn(*args)


def _slice(layout: Layout) -> Layout:
    from dataclasses import replace

    return replace(layout, n_periods=min(1, layout.n_periods),
                   inputs={k: v[:1] for k, v in layout.inputs.items()},
                   params={k: v[:1] for k, v in layout.params.items()},
                   decisions=layout.decisions[:1], kind_subject=layout.kind_subject[:1])


def _csr(codes: np.ndarray, n_groups: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(ptr, idx): members of each code value, in ascending entity order."""
    _, inverse = np.unique(codes, return_inverse=True)
    n = int(inverse.max()) + 1 if inverse.size else 0
    order = np.argsort(inverse, kind="stable").astype(np.int64)
    ptr = np.zeros(n + 1, np.int64)
    np.cumsum(np.bincount(inverse, minlength=n), out=ptr[1:])
    return ptr, order


def _children(parent: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    E = parent.size
    has = parent >= 0
    idx = np.flatnonzero(has)
    order = idx[np.argsort(parent[has], kind="stable")].astype(np.int64)
    ptr = np.zeros(E + 1, np.int64)
    np.cumsum(np.bincount(parent[has], minlength=E), out=ptr[1:])
    return ptr, order


def _ring_sizes(checked: CheckedPolicy, compiled: Compiled, layout: Layout) -> np.ndarray:
    sizes = []
    for nid, _, _ in compiled.generated.history:
        need = 1
        for reader in compiled.plan.history_of[nid]:
            if isinstance(reader, ast.Lag):
                need = max(need, reader.n)
            else:           # a window: its size argument
                size = reader.args[BUILTINS[reader.func].size]
                if isinstance(size, ast.Number):
                    need = max(need, int(size.value))
                else:
                    values = layout.params[size.name]
                    need = max(need, int(values.max()) if values.size else 1)
        sizes.append(1 << need.bit_length())   # a power of two above need: slots are masked
    return np.array(sizes, dtype=np.int64)


def _string_table(layout: Layout, gen: Generated) -> np.ndarray:
    """Every string the kernel compares, sorted and distinct: "" (code 0: the parent
    attributes of an entity without a parent), the policy's literals, and the values of only
    the attributes it reads. Built with NumPy, no Python work per entity."""
    read = sorted({name for role, name in gen.args if role in ("attr", "parent_attr")})
    pool = [np.array(["", *gen.strings], dtype=str)]
    pool += [np.array(layout.attributes[name][1], dtype=str) for name in read
             if layout.attributes[name][1]]
    return np.unique(np.concatenate(pool))


def _attribute_codes(layout: Layout, name: str, table: np.ndarray) -> np.ndarray:
    """An entity attribute as codes in the kernel's string table."""
    codes, values = layout.attributes[name]
    if not values:
        return np.zeros(codes.size)
    lookup = np.searchsorted(table, np.array(values, dtype=str)).astype(np.float64)
    return lookup[codes]


_NO_PARENT = np.zeros(0, np.int64)
_NO_PARENT.setflags(write=False)        # the type of Entities.parent_index()
_NONE = np.zeros(1, np.int64)
_reads_cache: dict[str, frozenset[str]] = {}


def _reads(gen: Generated) -> frozenset[str]:
    """Which of the entity-wide arguments (par, cp, ci, strc) the kernel's body reads, and
    which attribute roles (attr, parent_attr) it takes. The names are the compiler's own
    identifiers (codegen.header), never text from a policy."""
    hit = _reads_cache.get(gen.source)
    if hit is None:
        head = gen.source.index("def kernel(")
        body = gen.source[gen.source.index("\n", head):]    # after the line that lists them all
        roles = {role for role, _ in gen.args}
        # the attribute arguments' roles stand for the string table and the parents they need
        hit = frozenset([v for v in ("par", "cp", "ci", "strc")
                         if re.search(rf"\b{v}\b", body)]
                        + [r for r in ("attr", "parent_attr") if r in roles])
        if len(_reads_cache) > 256:
            _reads_cache.clear()
        _reads_cache[gen.source] = hit
    return hit


def arguments(checked: CheckedPolicy, compiled: Compiled, layout: Layout):
    """The kernel's arguments for a layout, and the output arrays it fills."""
    gen = compiled.generated
    P, E = layout.n_periods, layout.n_entities
    R = len(checked.policy.rules)
    outs = dict(
        computed=np.zeros((P, E), np.int16), level=np.zeros((P, E), np.int16),
        candidate=np.zeros((P, E), np.int16),
        fired=np.zeros((P, E, n_bytes(R)), np.uint8),
        unknown=np.zeros((P, E, n_bytes(R)), np.uint8),
        incomplete=np.zeros((P, E), np.bool_), subject=np.zeros((P, E), np.bool_))
    names = list(checked.policy.params)
    reads = _reads(gen)
    # Only what this kernel reads: the parents, their children and the string table cost
    # passes over the entities (the parents a sort of the ids, the first time) that a policy
    # reading none of them should not pay for. Every kernel takes them as arguments; one that
    # never reads them gets placeholders of the same types (a parent index is read-only).
    table = _string_table(layout, gen) if reads & {"strc", "attr", "parent_attr"} else None
    parent = layout.parent if reads & {"par", "cp", "ci", "parent_attr"} else _NO_PARENT
    cp, ci = _children(parent) if reads & {"cp", "ci"} else (_NONE, _NONE)
    fixed = {
        "params": (np.ascontiguousarray(np.stack([layout.params[n] for n in names]),
                                        dtype=np.float64) if names else np.zeros((0, P))),
        "parent": parent,
        "children_ptr": cp, "children_idx": ci,
        "strings": (np.searchsorted(table, np.array(gen.strings, dtype=str)).astype(np.float64)
                    if gen.strings else np.zeros(1)),
        "rings": _ring_sizes(checked, compiled, layout) if gen.history else np.zeros(1, np.int64),
        "kind_subject": layout.kind_subject,
        # no decisions (a broadcast NaN): the kernel skips reading them
        "decisions": (np.full((1, 1), np.nan) if not any(layout.decisions.strides)
                      else layout.decisions),
        "has_decisions": bool(any(layout.decisions.strides)),
        "rule_levels": np.ascontiguousarray(layout.rule_levels, dtype=np.int64),
        "rule_judged": np.ascontiguousarray(layout.rule_judgement, dtype=np.bool_),
    }
    roles = {role for role, _ in gen.args}
    if "lineage_ptr" in roles:      # follow=successor (engine/lineage.py)
        lineage = layout.lineage if layout.lineage is not None else Lineage.own(P, E)
        fixed.update(lineage_ptr=lineage.ptr, lineage_idx=lineage.idx,
                     lineage_active=np.ascontiguousarray(lineage.active))
    if "alive" in roles:            # members(...) read only members that exist
        fixed["alive"] = (np.ones((P, E), np.bool_) if layout.alive is None
                          else np.ascontiguousarray(layout.alive))
    groups = {}
    for by, codes in layout.groups.items():
        if ("group_ptr", by) in gen.args:
            groups[by] = _csr(codes)
    args = []
    for role, name in gen.args:
        if role == "input":
            args.append(layout.inputs[name])
        elif role in fixed:
            args.append(fixed[role])
        elif role == "attr":
            args.append(_attribute_codes(layout, name, table))
        elif role == "parent_attr":
            codes = _attribute_codes(layout, name, table)
            args.append(np.where(parent >= 0, codes[np.maximum(parent, 0)], 0.0))
        elif role == "group_ptr":
            args.append(groups[name][0])
        elif role == "group_idx":
            args.append(groups[name][1])
        elif role == "out":
            args.append(outs[name])
        else:  # pragma: no cover
            raise AssertionError(role)
    return args, outs
