"""The Panel: entities × periods × metrics, the one hand-off from data loading to evaluation.

Every metric is a float64 array [periods, entities] with NaN for missing. Ratings are held as
codes into `labels[metric]` (normalised label words such as `requires_improvement`), so a
panel can be loaded before any policy says which scale a rating belongs to. Periods form one
contiguous run of ordinals of one kind (month, quarter or financial year).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np

from ..diagnostics import Pos
from ..periods import Period, first_month, format_period, parse_period

ENTITY_COLUMNS = ("entity", "name", "kind", "type", "parent", "region")
# Optional columns of the entities table: an organisation's lifetime and what it became.
LIFETIME_COLUMNS = ("from", "to", "successor")

# The months a period of each kind spans, from its first month (periods.first_month).
_SPAN = {"month": 1, "quarter": 3, "year": 12}


def normalise_label(text: str) -> str:
    """A rating label as policies write it: 'Requires improvement' -> 'requires_improvement'."""
    return re.sub(r"[^a-z0-9]+", "_", str(text).strip().lower()).strip("_")


@dataclass(frozen=True)
class Entities:
    """The organisations in a panel and their attributes, one row each, in a fixed order."""

    ids: tuple[str, ...]
    names: tuple[str, ...]
    kinds: tuple[str, ...]
    types: tuple[str, ...]
    parents: tuple[str, ...]        # "" for none
    regions: tuple[str, ...]
    # Lifetimes, as months written `2013-04` ("" for open): the first and last month the
    # organisation existed, and the entity it became (mergers, PCT -> CCG -> ICB). Empty
    # tuples (the default) mean no lifetimes: every entity exists throughout.
    starts: tuple[str, ...] = ()
    ends: tuple[str, ...] = ()
    successors: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        n = len(self.ids)
        for name in ("starts", "ends", "successors"):
            if not getattr(self, name) and n:
                object.__setattr__(self, name, ("",) * n)
        for col in (self.names, self.kinds, self.types, self.parents, self.regions,
                    self.starts, self.ends, self.successors):
            if len(col) != n:
                raise ValueError("entity attribute columns differ in length")

    @property
    def has_lifetimes(self) -> bool:
        """Whether any entity has a `from`, `to` or `successor` (found once: every layout asks)."""
        cached = self.__dict__.get("_has_lifetimes")
        if cached is None:
            # counting "" runs in C without a truth test per entity (a third of any()'s time)
            cached = self.__dict__["_has_lifetimes"] = any(
                tuple(col).count("") != len(col)
                for col in (self.starts, self.ends, self.successors))
        return cached

    def alive(self, kind: str, start: int, n_periods: int) -> np.ndarray:
        """bool [periods, entities]: the entity existed in some month of the period (periods of
        `kind` from ordinal `start`). An organisation outside its lifetime is not evaluated."""
        out = np.ones((n_periods, len(self.ids)), dtype=bool)
        if not self.has_lifetimes or not n_periods:
            return out
        first = np.array([first_month(Period(kind, start + t)) for t in range(n_periods)])
        last = first + _SPAN[kind] - 1
        lo, hi = self._lifetime_months()
        return (last[:, None] >= lo[None, :]) & (first[:, None] <= hi[None, :])

    def _lifetime_months(self) -> tuple[np.ndarray, np.ndarray]:
        """int64 [E] each: the first and last month ordinal of every entity's lifetime (open
        ends as the extremes of int64), from the distinct dates, not per entity."""
        cached = self.__dict__.get("_lifetimes_cache")
        if cached is None:
            ends = []
            for column, open_end in ((self.starts, np.iinfo(np.int64).min),
                                     (self.ends, np.iinfo(np.int64).max)):
                codes, values = factorize(column)
                months = np.array([month_ordinal(v) if v else open_end for v in values],
                                  dtype=np.int64)
                ends.append(months[codes] if codes.size else np.zeros(0, np.int64))
            cached = self.__dict__["_lifetimes_cache"] = tuple(ends)
        return cached

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def index(self) -> dict[str, int]:
        return {e: i for i, e in enumerate(self.ids)}

    def attribute(self, name: str) -> tuple[str, ...]:
        """An attribute column by its name in the language: id, name, kind, type, parent, region."""
        return {"id": self.ids, "name": self.names, "kind": self.kinds, "type": self.types,
                "parent": self.parents, "region": self.regions}[name]

    def parent_index(self) -> np.ndarray:
        """For each entity, the row of its parent (the last row with that id), or -1."""
        cached = self.__dict__.get("_parent_index")
        if cached is None:
            codes, values = self.codes("parent")
            if len(values) <= _FEW_VALUES:
                # a few parents (regions, ICSs): find each one's row, not every entity's
                rev = tuple(self.ids)[::-1]
                rows = np.full(len(values), -1, np.int64)
                for i, value in enumerate(values):
                    try:
                        rows[i] = len(rev) - 1 - rev.index(value) if value else -1
                    except ValueError:      # a parent the table does not list
                        pass
                cached = rows[codes] if codes.size else np.zeros(0, np.int64)
            else:
                ids = _strings(self.ids)
                parents = _strings(self.parents)
                order = np.argsort(ids, kind="stable")
                pos = np.searchsorted(ids[order], parents, side="right") - 1
                at = order[np.maximum(pos, 0)] if order.size else np.zeros(len(parents),
                                                                            np.int64)
                found = (pos >= 0) & (parents != "")
                if order.size:
                    found &= ids[at] == parents
                cached = np.where(found, at, -1).astype(np.int64)
            cached.setflags(write=False)
            self.__dict__["_parent_index"] = cached     # a frozen dataclass: cache beside it
        return cached

    def codes(self, name: str) -> tuple[np.ndarray, tuple[str, ...]]:
        """An attribute as integer codes (for grouping) and the distinct values they stand for,
        sorted; computed once per attribute (see `factorize`)."""
        cache = self.__dict__.setdefault("_codes", {})
        hit = cache.get(name)
        if hit is None:
            codes, values = factorize(self.attribute(name))
            codes.setflags(write=False)
            hit = cache[name] = (codes, values)
        return hit

    def of_kinds(self, kinds: frozenset[str]) -> np.ndarray:
        """bool [E]: the entity's kind is one of `kinds` (kept per set of kinds: a policy's
        `entity:` asks the same for every evaluation)."""
        cache = self.__dict__.setdefault("_of_kinds", {})
        hit = cache.get(kinds)
        if hit is None:
            codes, values = self.codes("kind")
            hit = np.array([k in kinds for k in values], dtype=bool)[codes] if values \
                else np.zeros(len(self.ids), dtype=bool)
            hit.setflags(write=False)
            cache[kinds] = hit
        return hit

    def take(self, rows: Sequence[int]) -> "Entities":
        rows = list(rows)
        return Entities(*(tuple(col[i] for i in rows) for col in (
            self.ids, self.names, self.kinds, self.types, self.parents, self.regions,
            self.starts, self.ends, self.successors)))


def month_ordinal(text: str) -> int:
    """A lifetime month as written in `Entities.starts/ends` (`2013-04`) as a month ordinal."""
    year, month = text.split("-")
    return int(year) * 12 + int(month) - 1


# Columns with at most this many distinct values among their first rows are coded through a
# dict; others (ids, names) by sorting a NumPy copy.
_FEW_VALUES = 64


def factorize(column: Sequence[str]) -> tuple[np.ndarray, tuple[str, ...]]:
    """(int64 codes, the distinct values sorted in code point order) of a column of strings.
    A column of a few distinct values (kinds, types, regions: most of them) is coded through
    a dict in C (`map`), without converting a million strings to a NumPy array and sorting
    them (ten times slower); a column of many values is sorted by NumPy."""
    n = len(column)
    if isinstance(column, tuple) and n and column.count(column[0]) == n:
        return np.zeros(n, np.int64), (column[0],)      # one value (every entity a trust)
    if isinstance(column, tuple) and len(set(column[:1000])) <= _FEW_VALUES:
        distinct = set(column)
        if len(distinct) <= _FEW_VALUES:
            values = tuple(sorted(distinct))
            if len(values) == 1:
                return np.zeros(n, np.int64), values
            index = {v: i for i, v in enumerate(values)}
            return np.fromiter(map(index.__getitem__, column), np.int64, n), values
    values, codes = np.unique(_strings(column), return_inverse=True)
    return codes.reshape(-1).astype(np.int64), tuple(values.tolist())


def _strings(column: Sequence[str]) -> np.ndarray:
    """A column of strings as a NumPy unicode array (sorted in code point order, as Python
    sorts str)."""
    return np.array(column, dtype=str) if len(column) else np.zeros(0, dtype="<U1")


@dataclass(frozen=True)
class Panel:
    """Metric values over a contiguous run of periods for a fixed set of entities."""

    period_kind: str                          # month | quarter | year
    start: int                                # ordinal of the first period
    n_periods: int
    entities: Entities
    values: Mapping[str, np.ndarray]          # metric -> float64 [n_periods, n_entities]
    labels: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # rating codes
    sources: tuple[str, ...] = ()             # files it was read from, for provenance
    # Where each rating label was first read, metric -> label -> (file, position), so a label
    # that a policy's scale lacks can be reported at its place in the user's file. Not part
    # of the digest: it is provenance, not content.
    label_sites: Mapping[str, Mapping[str, tuple[str, Pos]]] = field(default_factory=dict)
    # How the data wrote its periods ("nhs": financial-year quarters, 2025/26 Q3), so outputs
    # can write them back the same way (periods.label_style); presentation, not content.
    period_style: str = "calendar"

    def __post_init__(self) -> None:
        shape = (self.n_periods, len(self.entities))
        lazy = getattr(self.values, "lazy_shape", None)
        if lazy is not None:
            # metrics read when first used (data/cache.py), each made in this shape
            if tuple(lazy) != shape:
                raise ValueError(f"the metrics have shape {lazy}, expected {shape}")
            return
        for name, arr in self.values.items():
            if arr.shape != shape:
                raise ValueError(f"metric '{name}' has shape {arr.shape}, expected {shape}")

    @property
    def ordinals(self) -> np.ndarray:
        return np.arange(self.start, self.start + self.n_periods, dtype=np.int64)

    @property
    def period_labels(self) -> list[str]:
        return [format_period(self.period_kind, o) for o in self.ordinals]

    @property
    def metrics(self) -> list[str]:
        return sorted(self.values)

    def period_index(self, label_or_ordinal) -> int:
        ordinal = (label_or_ordinal if isinstance(label_or_ordinal, int)
                   else parse_period(label_or_ordinal, self.period_kind).ordinal)
        i = ordinal - self.start
        if not 0 <= i < self.n_periods:
            raise IndexError(f"period {format_period(self.period_kind, ordinal)} is outside the "
                             f"data ({self.period_labels[0]} to {self.period_labels[-1]})")
        return i

    def digest(self) -> str:
        """A content hash of the data: metrics, labels, periods and entity attributes
        (computed once per panel: a diff binds the same panel once per variant)."""
        cached = self.__dict__.get("_digest")
        if cached is None:
            cached = self.__dict__["_digest"] = self._digest()
        return cached

    def _digest(self) -> str:
        h = hashlib.sha256()
        h.update(f"{self.period_kind}:{self.start}:{self.n_periods}".encode())
        for col in (self.entities.ids, self.entities.names, self.entities.kinds,
                    self.entities.types, self.entities.parents, self.entities.regions):
            h.update("\x1f".join(col).encode())
        if self.entities.has_lifetimes:     # (panels without lifetimes keep their digests)
            for col in (self.entities.starts, self.entities.ends, self.entities.successors):
                h.update(("\x1e" + "\x1f".join(col)).encode())
        for name in sorted(self.values):
            h.update(name.encode())
            h.update(np.ascontiguousarray(self.values[name], dtype=np.float64).tobytes())
            h.update("\x1f".join(self.labels.get(name, ())).encode())
        return h.hexdigest()

    def known(self, key: tuple, compute):
        """A fact about the panel's values (whether a flag holds only 0 and 1, whether a rating
        has a gap to carry over, what a unit check found), computed once: a panel is never
        changed, and checking millions of cells again for every evaluation would cost more
        than the evaluation."""
        facts = self.__dict__.setdefault("_facts", {})
        if key not in facts:
            facts[key] = compute()
        return facts[key]

    def label_of(self, metric: str, code: float) -> str | None:
        if code != code:  # NaN
            return None
        return self.labels[metric][int(code)]
