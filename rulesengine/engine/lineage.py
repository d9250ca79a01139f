"""Who stands in for an organisation before it existed: the chain of its predecessors
(the entities table's `successor` column, read backwards), for built-ins called with
`follow=successor` (lang/builtins/level.py and time.py give the semantics).

An organisation stands in for itself from its first period on (throughout, if it has no
predecessors); before that, each of its predecessors stands in for it, in the periods that
predecessor would stand in for itself: so a chain (PCT -> CCG -> ICB) is followed
transitively, and a merger has several stand-ins at once. Each slot of the structure is an
(entity, stand-in) pair with the periods it is active in; every entity has at least one
active slot in every period.

Two readings combine several stand-ins, both never better than any of them alone:
- `agree`: a value is known only where every active stand-in has the same known value
  (a merger whose trusts disagree, or a gap in any one of them, is unknown);
- `worst`: a level is the worst (highest) level among the active stand-ins.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..data.panel import Entities, month_ordinals
from ..periods import Period, first_month


@dataclass(frozen=True)
class Lineage:
    ptr: np.ndarray         # int64 [E+1]: entity e's slots are ptr[e]:ptr[e+1], itself first
    idx: np.ndarray         # int64 [K]: the stand-in of each slot
    active: np.ndarray      # bool [P, K]: the slot stands in for its entity in the period

    @staticmethod
    def own(n_periods: int, n_entities: int) -> "Lineage":
        """Each entity stands for itself in every period (no successors)."""
        return Lineage(np.arange(n_entities + 1, dtype=np.int64),
                       np.arange(n_entities, dtype=np.int64),
                       np.ones((n_periods, n_entities), dtype=bool))

    def rows(self, start: int, stop: int) -> "Lineage":
        """The periods start..stop-1 (a layout cut to those periods)."""
        return Lineage(self.ptr, self.idx, self.active[start:stop])

    def agree(self, values: np.ndarray, active: np.ndarray) -> np.ndarray:
        """Per entity, the value its active stand-ins agree on, else unknown. `values` and
        `active` are one period's ([E], [K]) or every period's ([P, E], [P, K])."""
        v = values[..., self.idx]
        lo = np.minimum.reduceat(np.where(active, v, np.inf), self.ptr[:-1], axis=-1)
        hi = np.maximum.reduceat(np.where(active, v, -np.inf), self.ptr[:-1], axis=-1)
        return np.where(lo == hi, lo, np.nan)       # NaN (unknown anywhere) is never equal

    def worst(self, levels: np.ndarray, active: np.ndarray) -> np.ndarray:
        """Per entity, the worst level among its active stand-ins (same shapes as agree)."""
        v = levels[..., self.idx]
        return np.maximum.reduceat(np.where(active, v, -np.inf), self.ptr[:-1], axis=-1)


def lineage(entities: Entities, kind: str | None, start: int, n_periods: int) -> Lineage:
    """The stand-ins of each entity over n_periods periods of `kind` from ordinal `start`
    (None: no period index, so no lifetimes: each entity stands for itself). NumPy over the
    entities; the only loop is one step per generation of predecessors."""
    E = len(entities)
    if kind is None or entities.successors.values in ((), ("",)):
        return Lineage.own(n_periods, E)
    # the period in which each entity begins (0 if it began before the data or has no `from`)
    months = np.array([first_month(Period(kind, start + t)) for t in range(n_periods)])
    last = months + {"month": 1, "quarter": 3, "year": 12}[kind] - 1
    begins = month_ordinals(entities.starts, -1)
    begin = np.where(begins >= 0, np.searchsorted(last, begins, side="left"), 0)
    succ = entities.rows_of(entities.successors)       # codes, a lookup per distinct id
    has_pred = np.zeros(E, bool)
    has_pred[succ[succ >= 0]] = True
    # predecessors of each entity as CSR
    with_succ = np.flatnonzero(succ >= 0)
    order = with_succ[np.argsort(succ[with_succ], kind="stable")]
    pptr = np.zeros(E + 1, np.int64)
    np.cumsum(np.bincount(succ[with_succ], minlength=E), out=pptr[1:])
    # slots: (entity, stand-in, end): the stand-in is active up to (not including) `end`
    ent = [np.arange(E, dtype=np.int64)]
    who = [np.arange(E, dtype=np.int64)]
    end = [np.full(E, n_periods, np.int64)]
    frontier_e, frontier_a = ent[0], who[0]
    for _ in range(E):          # chains move forward in time, so they end; E bounds them
        counts = pptr[frontier_a + 1] - pptr[frontier_a]
        if not counts.any():
            break
        e_new = np.repeat(frontier_e, counts)
        parents = np.repeat(frontier_a, counts)
        offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
        a_new = order[pptr[parents] + offsets]
        ent.append(e_new)
        who.append(a_new)
        end.append(begin[parents])   # a predecessor stands in until its successor begins
        frontier_e, frontier_a = e_new, a_new
    ent_all, who_all, end_all = (np.concatenate(x) for x in (ent, who, end))
    slots = np.argsort(ent_all, kind="stable")      # each entity's own slot first
    ent_all, who_all, end_all = ent_all[slots], who_all[slots], end_all[slots]
    ptr = np.zeros(E + 1, np.int64)
    np.cumsum(np.bincount(ent_all, minlength=E), out=ptr[1:])
    t = np.arange(n_periods)[:, None]
    from_ = np.where(has_pred[who_all], begin[who_all], 0)
    active = (t >= from_[None, :]) & (t < end_all[None, :])
    return Lineage(ptr, who_all, np.ascontiguousarray(active))
