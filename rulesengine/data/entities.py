"""The entities table: one row per organisation with its attributes (`entity,name,kind,type,
parent,region`; only `entity` is required, an empty kind means `trust`, `parent` must be
another entity of the table, and parents must not form a cycle).

Optional lifetime columns `from,to,successor`: the first and last period the organisation
existed (any period form, `2013-04`, `2013-04-01`, `2013-Q2`, `2013/14`; `from` is read as
that period's first month, `to` as its last; empty for open), and the entity it became (a
merger, a CCG into an ICB). A successor must exist in the month after its predecessor's last,
and a predecessor with a successor needs its `to`: so a chain of successors always moves
forward in time and never loops.
"""

from __future__ import annotations

import numpy as np

from ..diagnostics import did_you_mean
from ..periods import PeriodError, check_plausible, first_month, parse_period
from .panel import _SPAN, ENTITY_COLUMNS, LIFETIME_COLUMNS, Entities, month_ordinals
from .read import _Errors, _missing_columns, _Table
from .strings import Strings
from .values import _clip


class _Roster:
    """The entities of a panel being loaded, in order: an entities table's rows, or the
    entities given, or (without either) each entity as the data first names it.

    A table read or entities given are kept as columns (`Strings`); entities the data names
    later are added a row at a time. `ids` and `index` list every entity so far (the loaders
    look ids up while reading the data)."""

    def __init__(self) -> None:
        self.ids: list[str] = []
        self.index: dict[str, int] = {}
        self.table: Entities | None = None       # the table read or the entities given
        self.attrs: list[tuple[str, str, str, str, str]] = []   # name kind type parent region
        self.lives: list[tuple[str, str, str]] = []              # from to successor

    def add(self, eid: str, attrs: tuple[str, str, str, str, str],
            life: tuple[str, str, str] = ("", "", "")) -> None:
        self.index[eid] = len(self.ids)
        self.ids.append(eid)
        self.attrs.append(attrs)
        self.lives.append(life)

    def use(self, ents: Entities) -> None:
        self._put(ents)

    def _put(self, ents: Entities) -> None:
        if self.table is not None or self.ids:
            raise RuntimeError("the roster already has entities")
        self.table = ents
        self.ids.extend(ents.ids)
        self.index.update(zip(self.ids, range(len(self.ids))))

    def entities(self) -> Entities:
        parts = [self.table] if self.table is not None else []
        n_added = len(self.attrs)
        if n_added or not parts:
            attrs = tuple(zip(*self.attrs)) if n_added else ((),) * 5
            lives = tuple(zip(*self.lives)) if n_added else ((),) * 3
            parts.append(Entities(tuple(self.ids[len(self.ids) - n_added:]), *attrs, *lives))
        if len(parts) == 1:
            return parts[0]
        return Entities(*(Strings.concat(cols) for cols in zip(*(p.columns() for p in parts))))

    def read(self, t: _Table, errors: _Errors) -> None:
        """Read an entities table, reporting empty and repeated ids, unknown parents and
        cycles of parents to `errors`. NumPy over the rows: Python work is per distinct
        value and per problem found."""
        ent = t.find("entity")
        if ent is None:
            _missing_columns(t, ["entity"], errors)
            return
        cols = {name: t.find(name) for name in ENTITY_COLUMNS[1:]}
        cols = {k: (c.as_strings() if c is not None else None) for k, c in cols.items()}
        life_cols = {name: t.find(name) for name in LIFETIME_COLUMNS}
        life_cols = {k: (c.as_strings() if c is not None else None)
                     for k, c in life_cols.items()}
        ent = ent.as_strings()
        lines = np.asarray(t.lines[:t.n_rows])
        all_rows = np.arange(t.n_rows, dtype=np.int64)
        ids = _strings(ent, all_rows)
        # empty ids, then ids seen on an earlier row: reported and the row left out
        empty = ids.codes == ids.code_of("") if len(ids) else np.zeros(0, bool)
        for r in np.flatnonzero(empty).tolist():
            errors.add("empty entity id in column 'entity'", t.file, int(lines[r]), ent.col)
        candidates = np.flatnonzero(~empty)
        first_of = np.full(len(ids.values), -1, np.int64)
        if candidates.size:
            u, at = np.unique(ids.codes[candidates], return_index=True)
            first_of[u] = candidates[at]
        repeated = candidates[first_of[ids.codes[candidates]] != candidates]
        for r in repeated.tolist():
            errors.add(f"entity '{_clip(ids[r])}' appears twice in the entities table "
                       f"(first at line {int(lines[first_of[ids.codes[r]]])})", t.file,
                       int(lines[r]), ent.col)
        rows = np.setdiff1d(candidates, repeated, assume_unique=True)
        line_of = lines[rows]
        columns = {name: _strings(cols[name], rows, "trust" if name == "kind" else "")
                   for name in ENTITY_COLUMNS[1:]}
        starts = self._months(t, "from", life_cols["from"], rows, line_of, errors)
        ends = self._months(t, "to", life_cols["to"], rows, line_of, errors)
        lo, hi = month_ordinals(starts, -1), month_ordinals(ends, -1)
        for k in np.flatnonzero((lo >= 0) & (hi >= 0) & (hi < lo)).tolist():
            errors.add(f"entity '{_clip(ids[rows[k]])}' ends ({ends[k]}, column 'to') before "
                       f"it begins ({starts[k]}, column 'from')", t.file, int(line_of[k]),
                       life_cols["to"].col)
        successors = _strings(life_cols["successor"], rows)
        table = Entities(ids.take(rows), columns["name"], columns["kind"], columns["type"],
                         columns["parent"], columns["region"], starts, ends, successors)
        self._put(table)
        if table.successors.values not in ((), ("",)):
            self._check_successors(t, table, line_of, life_cols["successor"].col, errors)
        pcol = cols["parent"].col if cols["parent"] is not None else 1
        parent = table.rows_of(table.parents)
        named = table.parents.codes != table.parents.code_of("")
        for k in np.flatnonzero(named & (parent < 0)).tolist():
            name = table.parents[k]
            errors.add(f"parent '{_clip(name)}' in column 'parent' is not an entity "
                       f"of the table{did_you_mean(name, table.ids.values)}", t.file,
                       int(line_of[k]), pcol)
        for loop in _cycles(parent):
            # reported once, at the line of its entity that comes first in the table
            first = min(loop, key=lambda k: line_of[k])
            at = loop.index(first)
            loop = loop[at:] + loop[:at]
            text = " -> ".join(table.ids[k] for k in loop + [first])
            errors.add(f"the parent hierarchy has a cycle: {text}", t.file,
                       int(line_of[first]), pcol)

    @staticmethod
    def _months(t: _Table, name: str, column, rows: np.ndarray, line_of: np.ndarray,
                errors: _Errors) -> Strings:
        """A lifetime column as months `2013-04` ("" when empty or bad, each bad row
        reported): one parse per distinct text."""
        texts = _strings(column, rows)
        months, bad = [], []
        for text in texts.values:
            month, problem = _month(text, name)
            months.append(month)
            bad.append(problem)
        for k in np.flatnonzero(np.array([p is not None for p in bad], bool)[texts.codes]
                                if len(texts) else np.zeros(0, bool)).tolist():
            errors.add(f"bad date in column '{name}': {bad[texts.codes[k]]}", t.file,
                       int(line_of[k]), column.col)
        return Strings.from_codes(texts.codes, months)

    def _check_successors(self, t: _Table, table: Entities, line_of: np.ndarray, col: int,
                          errors: _Errors) -> None:
        """Each successor is an entity of the table that exists in the month after its
        predecessor's last (so following successors moves forward in time and ends)."""
        succ = table.successors
        named = succ.codes != succ.code_of("")
        row = table.rows_of(succ)
        begin = month_ordinals(table.starts, np.iinfo(np.int64).min)
        end = month_ordinals(table.ends, -1)
        for k in np.flatnonzero(named & (row < 0)).tolist():
            errors.add(f"successor '{_clip(succ[k])}' in column 'successor' is not an entity "
                       f"of the table{did_you_mean(succ[k], table.ids.values)}", t.file,
                       int(line_of[k]), col)
        for k in np.flatnonzero(named & (row >= 0) & (end < 0)).tolist():
            errors.add(f"entity '{_clip(table.ids[k])}' has a successor but no 'to': write "
                       f"the last period it existed", t.file, int(line_of[k]), col)
        checked = np.flatnonzero(named & (row >= 0) & (end >= 0))
        s = row[checked]
        after = end[checked] + 1
        s_end = month_ordinals(table.ends, np.iinfo(np.int64).max)[s]
        for k, a in zip(checked[(begin[s] > after) | (s_end < after)].tolist(),
                        after[(begin[s] > after) | (s_end < after)].tolist()):
            j = int(row[k])
            shown = f"{a // 12:04d}-{a % 12 + 1:02d}"
            errors.add(f"successor '{_clip(succ[k])}' does not exist in {shown}, the month "
                       f"after '{_clip(table.ids[k])}' ends (it exists from "
                       f"{table.starts[j] or 'the start'} to {table.ends[j] or 'the end'})",
                       t.file, int(line_of[k]), col)


def _strings(column, rows: np.ndarray, empty: str = "") -> Strings:
    """A table's column at `rows` as Strings, its texts stripped (as `_cell` reads a cell),
    an empty or null cell as `empty`; None (no such column): `empty` on every row."""
    if column is None:
        return Strings.repeat(empty, len(rows))
    texts = [(u or "").strip() or empty for u in column.uniques] + [empty]
    codes = np.where(column.codes < 0, len(texts) - 1, column.codes)
    return Strings.from_codes(codes[rows], texts)


def _cycles(parent: np.ndarray) -> list[list[int]]:
    """The cycles of a parent pointer array (-1: none), each as its rows in parent order.
    After E steps up, every row is at the root of its chain (-1) or on a cycle; the steps
    are taken by doubling (log E passes of NumPy), and only the cycles found are walked."""
    n = len(parent)
    up = parent.copy()
    steps = 1
    while steps < n and (up >= 0).any():
        up = np.where(up >= 0, up[np.maximum(up, 0)], -1)
        steps *= 2
    out: list[list[int]] = []
    seen: set[int] = set()
    for start in np.unique(up[up >= 0]).tolist():
        if start in seen:
            continue
        loop = [start]
        node = int(parent[start])
        while node != start:
            loop.append(node)
            node = int(parent[node])
        seen.update(loop)
        out.append(loop)
    return out


def _month(text: str, name: str) -> tuple[str, str | None]:
    """A lifetime bound as a month `2013-04` ("" when empty or bad) and the problem with a
    bad one: `from` is its period's first month, `to` its last."""
    if not text:
        return "", None
    try:
        period = check_plausible(parse_period(text), text)
    except PeriodError as e:
        return "", str(e)
    month = first_month(period) + (_SPAN[period.kind] - 1 if name == "to" else 0)
    return f"{month // 12:04d}-{month % 12 + 1:02d}", None
