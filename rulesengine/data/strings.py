"""A column of strings held as integer codes into its distinct values (dictionary encoded):
the entities table's columns, so that grouping, lookups and hashing work on NumPy arrays
instead of a Python string per row, while a read site that prints one row still gets a str.

A column is kept in one canonical form: `values` are the distinct strings that occur, sorted
in code point order (as Python sorts str), and `codes` (int64, read-only) index them. Two
columns with the same rows therefore have equal codes and values, and a code's order is its
value's order (a sort by code is a sort by text).

`values` is a tuple of str, not a NumPy unicode array: a NumPy string array has one width for
all its values, so one long name would widen every name of a million-row table; reading a
row needs a Python str anyway; and most columns (kind, type, region, parent) have a handful
of values. Where a column of many values must be searched (ids, for parents and
successors), `array()` makes the NumPy copy once per column.
"""

from __future__ import annotations

import operator
from bisect import bisect_left
from itertools import repeat
from typing import Iterable, Iterator, Sequence

import numpy as np

# Columns with at most this many distinct values among their first rows are coded through a
# dict; others (ids, names) by sorting a NumPy copy.
_FEW_VALUES = 64


class Strings(Sequence):
    """A read-only sequence of str stored as codes into sorted distinct values."""

    __slots__ = ("codes", "values", "_array", "_hash", "_last_rows")

    def __init__(self, column: "Iterable[str] | Strings" = ()) -> None:
        """The column of the given strings (a Strings is shared, not copied)."""
        if isinstance(column, Strings):
            codes, values = column.codes, column.values
        else:
            codes, values = factorize(column if isinstance(column, (tuple, list, np.ndarray))
                                      else tuple(column))
        self._set(codes, values)

    def _set(self, codes: np.ndarray, values: tuple[str, ...]) -> None:
        if codes.flags.writeable:
            codes.setflags(write=False)
        self.codes = codes
        self.values = values
        self._array = self._hash = self._last_rows = None

    @classmethod
    def _canonical(cls, codes: np.ndarray, values: tuple[str, ...]) -> "Strings":
        """Trusted: `values` sorted, distinct and every one used; `codes` int64."""
        out = cls.__new__(cls)
        out._set(codes, values)
        return out

    @classmethod
    def of(cls, column: "Sequence[str] | Strings") -> "Strings":
        """`column` itself if it is a Strings, else its strings coded once."""
        return column if isinstance(column, Strings) else cls(column)

    @classmethod
    def from_codes(cls, codes, values: Sequence[str | None]) -> "Strings":
        """The column whose row r is `values[codes[r]]` (-1 or None: ""). `values` may be in
        any order, repeat a string, or hold values no row uses: they are normalised with work
        per distinct value and NumPy over the rows, never Python per row."""
        codes = np.asarray(codes)
        if codes.ndim != 1 or (codes.size and codes.dtype.kind not in "iu"):
            raise ValueError("codes must be a one-dimensional integer array")
        texts = list(values)
        if None in texts:
            texts = ["" if v is None else v for v in texts]
        n_values = len(texts)
        if codes.size and (codes.max() >= n_values or codes.min() < -1):
            raise ValueError("a code is outside the values")
        if not codes.size:
            return cls._canonical(np.zeros(0, np.int64), ())
        if _is_canonical(codes, texts):         # (a column as stored): taken as it is
            return cls._canonical(codes.astype(np.int64, copy=False), tuple(texts))
        texts.append("")                        # the slot a null (-1) points at
        codes = np.where(codes < 0, n_values, codes).astype(np.int64, copy=False)
        used = np.flatnonzero(np.bincount(codes, minlength=n_values + 1))
        if len(used) <= _FEW_VALUES:
            distinct = sorted({str(texts[k]) for k in used.tolist()})
            position = {v: i for i, v in enumerate(distinct)}
            remap = np.zeros(n_values + 1, np.int64)
            remap[used] = [position[str(texts[k])] for k in used.tolist()]
            return cls._canonical(remap[codes], tuple(distinct))
        # many values (ids, names): sorted by NumPy, not as Python objects
        kept = np.array(texts, dtype=str)[used]
        distinct, inverse = np.unique(kept, return_inverse=True)
        remap = np.zeros(n_values + 1, np.int64)
        remap[used] = inverse.reshape(-1)
        return cls._canonical(remap[codes], tuple(distinct.tolist()))

    @classmethod
    def stored(cls, codes: np.ndarray, values: Sequence[str]) -> "Strings":
        """A column from its canonical form as `codes` and `values` hold it (values sorted,
        distinct and each used; every code indexes one): ValueError for anything else, so
        that a damaged copy is refused rather than read as other strings."""
        codes = np.asarray(codes)
        if codes.ndim != 1 or codes.dtype.kind not in "iu" \
                or not _is_canonical(codes, list(values)):
            raise ValueError("not a column's codes and values")
        return cls._canonical(codes.astype(np.int64), tuple(values))

    @classmethod
    def repeat(cls, value: str, n: int) -> "Strings":
        """n rows of one value."""
        return cls._canonical(np.zeros(n, np.int64), (value,) if n else ())

    @classmethod
    def concat(cls, columns: Sequence["Sequence[str] | Strings"]) -> "Strings":
        """The rows of `columns`, one after the other (work per distinct value, not row)."""
        parts = [cls.of(c) for c in columns]
        distinct = sorted(set().union(*(p.values for p in parts)))
        position = {v: i for i, v in enumerate(distinct)}
        codes = [np.array([position[v] for v in p.values], np.int64)[p.codes]
                 for p in parts if len(p)]
        return cls._canonical(np.concatenate(codes) if codes else np.zeros(0, np.int64),
                              tuple(distinct))

    # --- the sequence -----------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.codes)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return self.take(np.arange(len(self.codes))[i])
        return self.values[self.codes[i]]

    def __iter__(self) -> Iterator[str]:
        return map(self.values.__getitem__, self.codes.tolist())

    def __reversed__(self) -> Iterator[str]:
        return map(self.values.__getitem__, self.codes[::-1].tolist())

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        """The rows as a NumPy unicode array (np.array(column)), from the codes."""
        out = self.array()[self.codes] if len(self) else np.zeros(0, dtype="<U1")
        return out if dtype is None else out.astype(dtype)

    def tolist(self) -> list[str]:
        return list(self)

    def code_of(self, value: str) -> int:
        """The code of `value`, or -1 when no row holds it."""
        k = bisect_left(self.values, value)
        return k if k < len(self.values) and self.values[k] == value else -1

    def __contains__(self, value) -> bool:
        return isinstance(value, str) and self.code_of(value) >= 0

    def index(self, value, start: int = 0, stop: int | None = None) -> int:
        """The first row holding `value` (as tuple.index; ValueError when none does)."""
        k = self.code_of(value) if isinstance(value, str) else -1
        if k >= 0:
            rows = np.flatnonzero(self.codes[start:stop] == k)
            if rows.size:
                return int(rows[0]) + (start if start >= 0 else max(len(self) + start, 0))
        raise ValueError(f"{value!r} is not in the column")

    def count(self, value) -> int:
        k = self.code_of(value) if isinstance(value, str) else -1
        return int(np.count_nonzero(self.codes == k)) if k >= 0 else 0

    def take(self, rows) -> "Strings":
        """The column of the given rows, in that order (rows may repeat)."""
        rows = np.asarray(rows, dtype=np.int64).reshape(-1)
        codes = self.codes[rows]
        if not codes.size:
            return Strings._canonical(codes, ())
        used = np.bincount(codes, minlength=len(self.values)) > 0
        if used.all():
            return Strings._canonical(codes, self.values)
        kept = np.flatnonzero(used)
        remap = np.full(len(self.values), -1, np.int64)
        remap[kept] = np.arange(kept.size)
        return Strings._canonical(remap[codes], tuple(self.values[k] for k in kept.tolist()))

    def __add__(self, other):
        if isinstance(other, (Strings, tuple, list)):
            return Strings.concat([self, other])
        return NotImplemented

    def __eq__(self, other) -> bool:
        if isinstance(other, Strings):
            return other is self or (self.values == other.values
                                     and np.array_equal(self.codes, other.codes))
        if isinstance(other, (tuple, list)):
            return len(other) == len(self) and tuple(self) == tuple(other)
        return NotImplemented

    def __ne__(self, other):
        eq = self.__eq__(other)
        return eq if eq is NotImplemented else not eq

    def __hash__(self) -> int:
        # From the canonical form (equal columns hash alike); not the hash of the equal
        # tuple, so a Strings and a tuple are not interchangeable as keys of one dict.
        if self._hash is None:
            self._hash = hash((self.values, self.codes.tobytes()))
        return self._hash

    def __repr__(self) -> str:
        head = ", ".join(repr(v) for v in self[:4]) if len(self) else ""
        more = f", ... ({len(self)} rows)" if len(self) > 4 else ""
        return f"Strings([{head}{more}])"

    def __reduce__(self):
        return (Strings._canonical, (np.array(self.codes), self.values))

    # --- searching ------------------------------------------------------------------------

    def array(self) -> np.ndarray:
        """The distinct values as a NumPy unicode array (sorted), made once per column."""
        if self._array is None:
            self._array = (np.array(self.values, dtype=str) if self.values
                           else np.zeros(0, dtype="<U1"))
        return self._array

    def lookup(self, values: "Strings | Sequence[str]") -> np.ndarray:
        """int64 [len(values)]: the code in this column of each of `values` (-1: absent)."""
        other = values.values if isinstance(values, Strings) else tuple(values)
        if len(other) <= _FEW_VALUES or len(self.values) <= _FEW_VALUES:
            return np.array([self.code_of(v) for v in other], dtype=np.int64)
        mine = self.array()
        theirs = values.array() if isinstance(values, Strings) else np.array(other, dtype=str)
        pos = np.searchsorted(mine, theirs)
        found = pos < len(mine)
        found[found] = mine[pos[found]] == theirs[found]
        # NumPy drops trailing NULs of a string: check the hits against the str themselves
        hits = np.flatnonzero(found)
        if hits.size and any(self.values[p] != other[h] for p, h in
                             zip(pos[hits].tolist(), hits.tolist())):
            return np.array([self.code_of(v) for v in other], dtype=np.int64)
        return np.where(found, pos, -1).astype(np.int64)

    def last_rows(self) -> np.ndarray:
        """int64 [len(values)]: the last row holding each value (read-only, made once)."""
        if self._last_rows is None:
            rows = np.full(len(self.values), -1, np.int64)
            if len(self.codes) == len(self.values):       # every value once (ids)
                rows[self.codes] = np.arange(len(self.codes))
            elif len(self.codes):
                order = np.argsort(self.codes, kind="stable")
                sorted_codes = self.codes[order]
                last = np.flatnonzero(np.r_[sorted_codes[1:] != sorted_codes[:-1], True])
                rows[sorted_codes[last]] = order[last]
            rows.setflags(write=False)
            self._last_rows = rows
        return self._last_rows


def _is_canonical(codes: np.ndarray, values: list) -> bool:
    """`values` are str, strictly increasing, and every one is used by `codes` (all of which
    index one); checked in C over the values and NumPy over the codes."""
    if not codes.size:
        return not values
    return bool(codes.min() >= 0 and codes.max() < len(values)
                and all(map(isinstance, values, repeat(str)))
                and all(map(operator.lt, values, values[1:]))
                and np.bincount(codes, minlength=len(values)).all())


def factorize(column: Sequence[str]) -> tuple[np.ndarray, tuple[str, ...]]:
    """(int64 codes, the distinct values sorted in code point order) of a column of strings.
    A column of a few distinct values (kinds, types, regions: most of them) is coded through
    a dict in C (`map`), without converting a million strings to a NumPy array and sorting
    them (ten times slower); a column of many values is sorted by NumPy."""
    if isinstance(column, Strings):
        return column.codes, column.values
    if isinstance(column, np.ndarray):
        column = column.tolist()
    n = len(column)
    if not n:
        return np.zeros(0, np.int64), ()
    if isinstance(column, list):
        column = tuple(column)
    if column.count(column[0]) == n:
        return np.zeros(n, np.int64), (str(column[0]),)     # one value (every entity a trust)
    if len(set(column[:1000])) <= _FEW_VALUES:
        distinct = set(column)
        if len(distinct) <= _FEW_VALUES:
            values = tuple(sorted(distinct))
            index = {v: i for i, v in enumerate(values)}
            return np.fromiter(map(index.__getitem__, column), np.int64, n), \
                tuple(str(v) for v in values)
    values, codes = np.unique(np.array(column, dtype=str), return_inverse=True)
    return codes.reshape(-1).astype(np.int64), tuple(values.tolist())
