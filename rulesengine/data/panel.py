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
from .strings import Strings

ENTITY_COLUMNS = ("entity", "name", "kind", "type", "parent", "region")
# Optional columns of the entities table: an organisation's lifetime and what it became.
LIFETIME_COLUMNS = ("from", "to", "successor")

# The months a period of each kind spans, from its first month (periods.first_month).
_SPAN = {"month": 1, "quarter": 3, "year": 12}


def normalise_label(text: str) -> str:
    """A rating label as policies write it: 'Requires improvement' -> 'requires_improvement'."""
    return re.sub(r"[^a-z0-9]+", "_", str(text).strip().lower()).strip("_")


_COLUMNS = ("ids", "names", "kinds", "types", "parents", "regions", "starts", "ends",
            "successors")


@dataclass(frozen=True)
class Entities:
    """The organisations in a panel and their attributes, one row each, in a fixed order.

    Each column is a `Strings` (codes into sorted distinct values, data/strings.py): built
    from plain sequences of str once, shared when given a Strings, so grouping and lookups
    work on codes and a new Entities over existing columns costs nothing per row."""

    ids: Strings
    names: Strings
    kinds: Strings
    types: Strings
    parents: Strings        # "" for none
    regions: Strings
    # Lifetimes, as months written `2013-04` ("" for open): the first and last month the
    # organisation existed, and the entity it became (mergers, PCT -> CCG -> ICB). Empty
    # columns (the default) mean no lifetimes: every entity exists throughout.
    starts: Strings = ()
    ends: Strings = ()
    successors: Strings = ()

    def __post_init__(self) -> None:
        n = len(self.ids)
        for name in _COLUMNS:
            col = getattr(self, name)
            if name in ("starts", "ends", "successors") and not len(col):
                col = Strings.repeat("", n)
            object.__setattr__(self, name, Strings.of(col))
        for name in _COLUMNS[1:]:
            if len(getattr(self, name)) != n:
                raise ValueError("entity attribute columns differ in length")

    @classmethod
    def from_codes(cls, columns: Mapping[str, tuple[np.ndarray, Sequence[str]]]
                   ) -> "Entities":
        """Entities from (codes, values) per column name (`ids`, `names`, ...; the lifetime
        columns may be left out), each normalised as `Strings.from_codes` does."""
        return cls(*(Strings.from_codes(*columns[name]) if name in columns else ()
                     for name in _COLUMNS))

    def columns(self) -> tuple[Strings, ...]:
        """The nine columns in their order (ids ... successors)."""
        return tuple(getattr(self, name) for name in _COLUMNS)

    @property
    def has_lifetimes(self) -> bool:
        """Whether any entity has a `from`, `to` or `successor`."""
        return any(col.values not in ((), ("",))
                   for col in (self.starts, self.ends, self.successors))

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
            cached = self.__dict__["_lifetimes_cache"] = (
                month_ordinals(self.starts, np.iinfo(np.int64).min),
                month_ordinals(self.ends, np.iinfo(np.int64).max))
        return cached

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def index(self) -> dict[str, int]:
        """id -> row (the last row, should an id repeat)."""
        return dict(zip(self.ids, range(len(self.ids))))

    def attribute(self, name: str) -> Strings:
        """An attribute column by its name in the language: id, name, kind, type, parent, region."""
        return {"id": self.ids, "name": self.names, "kind": self.kinds, "type": self.types,
                "parent": self.parents, "region": self.regions}[name]

    def rows_of(self, column: Strings) -> np.ndarray:
        """int64 [len(column)]: for each row of `column` (parents, successors), the row whose
        id it names (the last such row), or -1 for "" and ids the table lacks; NumPy over the
        rows, a lookup per distinct value."""
        if not len(column):
            return np.zeros(0, np.int64)
        codes = self.ids.lookup(column)
        known = codes >= 0
        rows = np.full(len(column.values), -1, np.int64)
        rows[known] = self.ids.last_rows()[codes[known]]
        empty = column.code_of("")
        if empty >= 0:
            rows[empty] = -1
        if len(rows) == 1:          # one value (no entity has a parent): no gather
            return np.full(len(column), rows[0], np.int64)
        return rows[column.codes]

    def parent_index(self) -> np.ndarray:
        """For each entity, the row of its parent (the last row with that id), or -1."""
        cached = self.__dict__.get("_parent_index")
        if cached is None:
            cached = self.rows_of(self.parents)
            cached.setflags(write=False)
            self.__dict__["_parent_index"] = cached     # a frozen dataclass: cache beside it
        return cached

    def codes(self, name: str) -> tuple[np.ndarray, tuple[str, ...]]:
        """An attribute as integer codes (for grouping; read-only) and the distinct values
        they stand for, sorted: the column's own."""
        col = self.attribute(name)
        return col.codes, col.values

    def of_kinds(self, kinds: frozenset[str]) -> np.ndarray:
        """bool [E]: the entity's kind is one of `kinds` (kept per set of kinds: a policy's
        `entity:` asks the same for every evaluation)."""
        cache = self.__dict__.setdefault("_of_kinds", {})
        hit = cache.get(kinds)
        if hit is None:
            codes, values = self.codes("kind")
            wanted = np.array([k in kinds for k in values], dtype=bool)
            # one answer for every entity (all trusts): no gather over the codes
            hit = (np.full(len(codes), bool(wanted[0])) if wanted.size and
                   (wanted.all() or not wanted.any()) else
                   wanted[codes] if wanted.size else np.zeros(len(codes), dtype=bool))
            hit.setflags(write=False)
            cache[kinds] = hit
        return hit

    def take(self, rows: Sequence[int]) -> "Entities":
        rows = np.asarray(rows, dtype=np.int64).reshape(-1)
        return Entities(*(col.take(rows) for col in self.columns()))


def month_ordinal(text: str) -> int:
    """A lifetime month as written in `Entities.starts/ends` (`2013-04`) as a month ordinal."""
    year, month = text.split("-")
    return int(year) * 12 + int(month) - 1


def month_ordinals(column: Strings, empty: int) -> np.ndarray:
    """int64 [rows]: each row's month (`2013-04`) as an ordinal, `empty` for "": one parse per
    distinct month."""
    months = np.array([month_ordinal(v) if v else empty for v in column.values], np.int64)
    return months[column.codes] if len(column) else np.zeros(0, np.int64)


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
        # each entity column as its distinct values and its codes' bytes: the same rows give
        # the same canonical codes (data/strings.py), and no string is made per row
        columns = self.entities.columns()
        if not self.entities.has_lifetimes:  # (as if a table without the lifetime columns)
            columns = columns[:6]
        for col in columns:
            h.update(b"\x1e" + "\x1f".join(col.values).encode() + b"\x1d")
            h.update(np.ascontiguousarray(col.codes, dtype="<i8").tobytes())
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
