"""The backend-neutral arrays an evaluation needs, prepared once from policy, data and params.

Both the reference evaluator and the compiled kernel read a Layout, so they see exactly the
same inputs: input arrays, param values per period, peer-group codes, the parent of each
entity, the decisions array and the rules' levels.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from collections.abc import Mapping

import weakref

import numpy as np

from ..data.panel import Entities
from ..lang import ast
from ..lang.builtins import PEER_FUNCTIONS, peer_grouping
from ..check.checker import CheckedPolicy
from .lineage import Lineage, lineage

ALL = "all"


@dataclass(frozen=True)
class Layout:
    n_periods: int
    n_entities: int
    entities: Entities
    inputs: Mapping[str, np.ndarray]        # float64 [P, E]
    params: Mapping[str, np.ndarray]        # float64 [P]
    groups: Mapping[str, np.ndarray]        # peer grouping (attribute or "all") -> int64 [E]
    attributes: Mapping[str, tuple[np.ndarray, tuple[str, ...]]]  # name -> (codes, values)
    kind_subject: np.ndarray                # bool [P, E]: of a kind the policy decides on
                                            # and in existence in the period (lifetimes)
    decisions: np.ndarray                   # float64 [P, E]: decided level index or NaN
                                            # (a read-only broadcast NaN when none)
    rule_levels: np.ndarray                 # int64 [R]
    rule_judgement: np.ndarray              # bool [R]: the rule's level needs a decision
    default_level: int
    n_levels: int
    # bool [P, E]: the entity exists in the period (None: all do); members(...) count only these
    alive: np.ndarray | None = None
    # the stand-ins before each entity existed, for follow=successor (None: the policy never
    # follows successors); engine/lineage.py
    lineage: Lineage | None = None

    @property
    def parent(self) -> np.ndarray:
        """int64 [E]: the row of each entity's parent, -1 = none. Found when first read (and
        then kept with the entities): only policies that read parents or members pay."""
        return self.entities.parent_index()

    def head(self, n: int) -> "Layout":
        """The first `n` periods (views of the same arrays, still C-contiguous)."""
        return replace(self, n_periods=n, inputs={k: v[:n] for k, v in self.inputs.items()},
                       params={k: v[:n] for k, v in self.params.items()},
                       decisions=self.decisions[:n], kind_subject=self.kind_subject[:n],
                       alive=None if self.alive is None else self.alive[:n],
                       lineage=None if self.lineage is None else self.lineage.rows(0, n))


class _Attributes(Mapping):
    """Entity attributes as (codes, values), each computed when first read: an evaluation
    pays only for the attributes its policy reads (ids and names are one value per entity)."""

    NAMES = ("id", "name", "kind", "type", "parent", "region")

    def __init__(self, entities: Entities) -> None:
        self._entities = entities

    def __getitem__(self, name: str) -> tuple[np.ndarray, tuple[str, ...]]:
        if name not in self.NAMES:
            raise KeyError(name)
        return self._entities.codes(name)

    def __iter__(self):
        return iter(self.NAMES)

    def __len__(self) -> int:
        return len(self.NAMES)


def peer_groupings(checked: CheckedPolicy) -> set[str]:
    """Every grouping the policy's peer functions use: the policy's peer_group or a by=."""
    return set(_shape(checked).groupings)


@dataclass(frozen=True)
class _Shape:
    """What a layout takes from the checked policy alone, found once per checked policy (a
    walk of every expression, the rules' levels): an evaluation at NHS sizes is so quick
    that these would otherwise be much of its cost."""

    groupings: tuple[str, ...]
    rule_levels: tuple[int, ...]
    rule_judgement: tuple[bool, ...]
    kinds: frozenset[str]
    default_level: int
    n_levels: int


_shapes: dict[int, tuple[weakref.ref, _Shape]] = {}


def _shape(checked: CheckedPolicy) -> _Shape:
    hit = _shapes.get(id(checked))
    if hit is not None and hit[0]() is checked:
        return hit[1]
    p = checked.policy
    groupings = {peer_grouping(node, p) for node in all_nodes(checked)
                 if isinstance(node, ast.Call) and node.func in PEER_FUNCTIONS}
    level_index = {lv.id: lv.index for lv in p.levels}
    shape = _Shape(
        groupings=tuple(sorted(groupings)),
        rule_levels=tuple(level_index[r.level] for r in p.rules),
        rule_judgement=tuple(bool(p.levels[level_index[r.level]].decided_by)
                             for r in p.rules),
        kinds=frozenset(p.entity or ()), default_level=level_index[p.default],
        n_levels=len(p.levels))
    key = id(checked)
    # kept while the checked policy lives (the weak reference's callback drops it)
    _shapes[key] = (weakref.ref(checked, lambda _, key=key: _shapes.pop(key, None)), shape)
    return shape


def all_nodes(checked: CheckedPolicy):
    p = checked.policy
    roots = [d.expr for d in p.defines.values() if d.expr is not None]
    roots += [r.when for r in p.rules if r.when is not None]
    if p.applies_to is not None and p.applies_to.expr is not None:
        roots.append(p.applies_to.expr)
    for root in roots:
        yield from ast.walk(root)


def make_layout(checked: CheckedPolicy, entities: Entities, inputs: Mapping[str, np.ndarray],
                params: Mapping[str, np.ndarray], n_periods: int,
                decisions: np.ndarray | None = None,
                periods: tuple[str, int] | None = None) -> Layout:
    """Prepare a Layout; `inputs` are the bound input arrays in the policy's periods, which
    are `periods` (kind, first ordinal) when the entities' lifetimes are to be applied: an
    organisation outside its lifetime is not evaluated there."""
    p = checked.policy
    shape = _shape(checked)
    n = len(entities)
    kind_codes, _ = entities.codes("kind")
    groups: dict[str, np.ndarray] = {}
    for by in shape.groupings:
        if by == ALL:
            groups[by] = kind_codes.copy()
        else:
            codes, values = entities.codes(by)
            if p.peer_groups and by == (p.peer_group or "type"):
                # the policy's `peer_groups:` merge attribute values (specialist into acute)
                merged = sorted({p.peer_group_of(v) for v in values})
                remap = np.array([merged.index(p.peer_group_of(v)) for v in values],
                                 dtype=np.int64)
                codes, values = (remap[codes] if len(codes) else codes), tuple(merged)
            # peers share both the kind and the attribute: trusts never rank against ICSs
            groups[by] = kind_codes * (len(values) + 1) + codes
    attributes = _Attributes(entities)
    rule_levels = np.array(shape.rule_levels, dtype=np.int64)
    rule_judgement = np.array(shape.rule_judgement, dtype=bool)
    of_kind = entities.of_kinds(shape.kinds)
    alive = None
    if periods is not None and entities.has_lifetimes:
        alive = entities.alive(periods[0], periods[1], n_periods)
        kind_subject = alive & of_kind
    else:
        kind_subject = np.repeat(of_kind[None, :], n_periods, axis=0)
    follows = any(isinstance(node, ast.Call) and node.kwarg("follow") is not None
                  for node in all_nodes(checked))
    if decisions is None:
        # no decisions: one NaN seen in every cell, not an array of them (8 bytes a cell)
        decisions = np.broadcast_to(np.float64(np.nan), (n_periods, n))
    return Layout(
        n_periods=n_periods, n_entities=n, entities=entities,
        inputs={k: np.ascontiguousarray(v, dtype=np.float64) for k, v in inputs.items()},
        params={k: np.ascontiguousarray(v, dtype=np.float64) for k, v in params.items()},
        groups=groups, attributes=attributes,
        kind_subject=np.ascontiguousarray(kind_subject),
        decisions=(decisions if not any(decisions.strides)
                   else np.ascontiguousarray(decisions, dtype=np.float64)),
        rule_levels=rule_levels, rule_judgement=rule_judgement,
        default_level=shape.default_level, n_levels=shape.n_levels, alive=alive,
        lineage=(lineage(entities, periods[0] if periods else None,
                         periods[1] if periods else 0, n_periods) if follows else None))
