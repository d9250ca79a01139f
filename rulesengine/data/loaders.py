"""Loading panel data: long and wide CSV, Parquet, folders of them, and the entities table.

Formats (column names are matched without regard to case or surrounding spaces):

- long: `entity,period,metric,value`, one value per row (other columns are ignored);
- wide: `entity,period,<metric>,<metric>...`, one row per entity and period;
- Parquet, long or wide, with the same columns;
- the entities table: `entity,name,kind,type,parent,region` (only `entity` is required; an
  empty kind means `trust`; `parent` must be another entity of the table).

A folder is read as every `.csv` and `.parquet` file in it (other files are left alone); a file
named `entities.csv`, or a table with an `entity` column, entity attributes and no `period`
column, is the entities table. An entities table passed as `entities=` wins over one found in
the folder. Without any entities table, every entity in the data becomes a bare trust.

Periods are written as in `rulesengine.periods` (`2019-03`, `2019-03-01`, `2021-Q3`,
`2021/22 Q3`, `2005/06`) in the years 1948 to 2100 (`periods.check_plausible`: an earlier or
later year is a typo); a panel holds one kind, and its periods are the contiguous run from
the first to the last one (periods without data are missing). Values are read by the type of
the metric: the policy's input type when a policy is given, else the catalogue's, else inferred
from the values (all numbers: a number; numbers and true/false words: a flag; mostly words:
a rating). Missing values are empty cells and `NA`, `N/A`, `NaN`, `null`, `none`, `-`; for a
rating also `Not rated`. Flags are true/false, yes/no or 1/0 (stored 1.0/0.0). Ratings are
labels, stored as codes into `Panel.labels` after `normalise_label`, with the scale's labels
first when a policy or the catalogue gives the scale.

Every problem is a `DataError` whose diagnostics carry the file as given, the physical line
(the header is line 1) and the column as the 1-based field number. For Parquet, the line is
the row number plus one, as if the header were line 1. Up to 20 problems are reported at once.

This module assembles the panel; the steps live beside it: `read` (files into tables of
columns, and the problems found), `entities` (the entities table), `values` (missing and
true/false words, a metric's type, converting cells), `write` (a panel back to files) and
`units` (values that look 100 times off).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .. import codes
from ..diagnostics import Diagnostic, Pos, did_you_mean, warn_data
from ..files import CELLS, DATA, ENTITIES
from ..periods import (KINDS, PeriodError, check_plausible, format_period, parse_period,
                       written_style)
from .bind import missing_inputs
from .catalogue import METRICS
from .entities import _Roster
from .panel import Entities, Panel
from .read import (DATA_SUFFIXES, _Column, _Errors, _is_entity_table, _missing_columns,
                   _read_table, _Table)
from .values import MISSING_WORDS, _Cells, _clip, _Values
# Writing is part of the loaders' public surface (`write_panel` reads back as the same panel).
from .write import write_entities, write_panel

if TYPE_CHECKING:
    from ..check.checker import CheckedPolicy
    from ..policy.model import Policy

_KIND_PLURAL = {"month": "months", "quarter": "quarters", "year": "financial years"}
_KIND_SINGULAR = {"month": "a month", "quarter": "a quarter", "year": "a financial year"}
_RESERVED = frozenset({"entity", "period", "metric", "value"})

__all__ = ["load_panel", "write_entities", "write_panel"]


# --- public -------------------------------------------------------------------------------------

def load_panel(path: str | os.PathLike, *, entities: "str | os.PathLike | Entities | None" = None,
               policy: "CheckedPolicy | Policy | None" = None,
               period_kind: str | None = None) -> Panel:
    """Load a file or folder of panel data, validating it; raise DataError listing problems."""
    if period_kind is not None and period_kind not in KINDS:
        raise ValueError(f"period_kind must be one of {KINDS}, not {period_kind!r}")
    return _Loader(policy, period_kind).run(path, entities)


# --- the loader ---------------------------------------------------------------------------------

@dataclass
class _Loader:
    policy: "CheckedPolicy | Policy | None"
    period_kind: str | None
    errors: _Errors = field(default_factory=_Errors)

    def __post_init__(self) -> None:
        # A CheckedPolicy is told by its `used_inputs` (importing the checker is slow).
        if hasattr(self.policy, "used_inputs"):
            self.model = self.policy.policy
            self.needed = tuple(self.policy.used_inputs)
        elif self.policy is not None:
            self.model = self.policy
            self.needed = tuple(self.policy.inputs)
        else:
            self.model = None
            self.needed = ()
        self.roster = _Roster()
        self.ids, self.index = self.roster.ids, self.roster.index     # read often: aliases
        self.values_of = _Values(self.model, self.errors)
        self.table_name: str | None = None
        self.kind: str | None = self.period_kind
        self.kind_first: tuple[str, str, int] | None = None     # (period text, file, line)

    # entry point

    def run(self, path: str | os.PathLike, entities) -> Panel:
        shown = os.fspath(path)
        p = Path(path)
        tables: list[_Table] = []
        entity_table: _Table | None = None
        if isinstance(entities, Entities):
            self.table_name = "the entities given"
            self.roster.use(entities)
        elif entities is not None:
            ent_shown = os.fspath(entities)
            entity_table = _read_table(Path(entities), ent_shown, self.errors, ENTITIES)
            self.table_name = ent_shown
            if entity_table is None:
                self.errors.raise_if_any(ent_shown)
        try:
            is_dir = p.is_dir()
            exists = is_dir or p.exists()
        except OSError as e:                  # e.g. a parent folder that cannot be entered
            self.errors.add(f"cannot read the file or folder: {e.strerror or e}", shown)
            self.errors.raise_if_any(shown)
        if is_dir:
            files = self._folder_files(p, shown)
            found: _Table | None = None
            for f in files:
                t = _read_table(f, os.path.join(shown, f.name), self.errors,
                                ENTITIES if f.stem.lower() == "entities" else DATA,
                                self._text_names())
                if t is None:
                    continue
                if _is_entity_table(t):
                    if entities is not None:
                        continue          # the table passed in wins over the folder's own
                    if found is not None:
                        self.errors.add(f"a second entities table in the folder (the first is "
                                        f"{found.file}); pass the one to use as entities",
                                        t.file, 1, 1)
                        continue
                    found = t
                else:
                    tables.append(t)
            if found is not None:
                entity_table, self.table_name = found, found.file
        elif exists or p.suffix.lower() in DATA_SUFFIXES:
            t = _read_table(p, shown, self.errors, DATA, self._text_names())
            if t is not None:
                tables.append(t)
        else:
            self.errors.add("no such file or folder", shown)
        if entity_table is not None:
            self.roster.read(entity_table, self.errors)
        # Unknown entities can only be judged against a clean table.
        self.errors.raise_if_any(shown)
        cells = []
        for t in tables:
            cells.extend(self._read_data(t))
        panel = self._assemble(cells, [t.file for t in tables], shown)
        return panel

    def _text_names(self) -> frozenset[str]:
        """Metrics whose values are words, judged as written: the policy's rating and flag
        inputs, else the catalogue's."""
        types = {name: m.type for name, m in METRICS.items()}
        if self.model is not None:
            types.update({name: inp.type for name, inp in self.model.inputs.items()})
        return frozenset(name for name, t in types.items() if t in ("rating", "flag"))

    def _folder_files(self, p: Path, shown: str) -> list[Path]:
        """The folder's data files, sorted; an unreadable folder is reported, not raised."""
        try:
            entries = sorted(p.iterdir())
            # Telling a file from a folder needs the folder's search (x) permission: without
            # it, each entry can be listed but not looked at.
            files = [f for f in entries if f.suffix.lower() in DATA_SUFFIXES and f.is_file()]
        except OSError as e:
            self.errors.add(f"cannot read the folder: {e.strerror or e}", shown)
            return []
        if not files:
            self.errors.add("the folder has no data files (.csv or .parquet)", shown)
        return files


    def _read_data(self, t: _Table) -> list[_Cells]:
        low = [h.lower() for h in t.header]
        long = "metric" in low or "value" in low
        required = ["entity", "period"] + (["metric", "value"] if long else [])
        missing = [c for c in required if c not in low]
        if missing:
            _missing_columns(t, missing, self.errors)
            return []
        metric_cols = [c for c in t.columns if c.name.lower() not in ("entity", "period")]
        if not long and not metric_cols:
            self.errors.add("the table has no metric columns: write entity,period,<metric>... "
                            "or entity,period,metric,value", t.file, t.header_line,
                            len(t.header))
            return []
        if t.n_rows == 0:
            self.errors.add("the file has a header but no data rows", t.file, t.header_line, 1)
            return []
        ent_col = t.find("entity").as_strings()
        per_col = t.find("period").as_strings()
        ent = self._entity_rows(t, ent_col)
        ordinal = self._period_rows(t, per_col)
        ok = (ent >= 0) & (ordinal != _BAD)
        cells: list[_Cells] = []
        if long:
            mcol = t.find("metric").as_strings()
            vcol = t.find("value")
            if (mcol.codes < 0).any():                 # a null in Parquet
                r = int(np.flatnonzero(mcol.codes < 0)[0])
                self.errors.add("empty metric name in column 'metric'", t.file,
                                int(t.lines[r]), mcol.col)
            for k, name in enumerate(mcol.uniques):
                rows_k = mcol.codes == k
                if not name:
                    r = int(np.flatnonzero(rows_k)[0])
                    self.errors.add("empty metric name in column 'metric'", t.file,
                                    int(t.lines[r]), mcol.col)
                    continue
                rows = np.flatnonzero(rows_k & ok)
                if rows.size:
                    cells.append(_Cells(name, t, vcol.take(rows), ent[rows], ordinal[rows],
                                        t.lines[rows], ent_col.col, False))
            # The cells hold their own rows now: the table's columns are no longer needed,
            # and a long table's columns are several times the size of its values.
            for c in t.columns:
                c.codes = c.numbers = c.uniques = None
            return cells
        rows = np.flatnonzero(ok)
        rows = self._drop_duplicate_rows(t, rows, ent, ordinal, ent_col.col)
        # The metrics of a wide table share their rows: index once, not once per metric.
        ent, ordinal, lines = ent[rows], ordinal[rows], t.lines[rows]
        for c in metric_cols:
            values = c if rows.size == t.n_rows else c.take(rows)
            cells.append(_Cells(c.name, t, values, ent, ordinal, lines, ent_col.col, True))
        return cells

    def _entity_rows(self, t: _Table, col: _Column) -> np.ndarray:
        lookup = np.full(len(col.uniques) + 1, -1, dtype=np.int32)   # last slot: null
        firsts = col.first_rows()
        for k, raw in enumerate(col.uniques):
            eid = (raw or "").strip()
            r = firsts[k]
            if r < 0:
                continue
            line = int(t.lines[r])
            if not eid or eid.lower() in MISSING_WORDS:
                self.errors.add("empty entity id in column 'entity'", t.file, line, col.col)
            elif eid in self.index:
                lookup[k] = self.index[eid]
            elif self.table_name is not None:
                self.errors.add(f"unknown entity '{_clip(eid)}' in column 'entity' (not in "
                                f"{self.table_name}){did_you_mean(eid, self.ids)}", t.file,
                                line, col.col)
            else:
                self.roster.add(eid, ("", "trust", "", "", ""))
                lookup[k] = self.index[eid]
        if (col.codes < 0).any():
            r = int(np.flatnonzero(col.codes < 0)[0])
            self.errors.add("empty entity id in column 'entity'", t.file, int(t.lines[r]),
                            col.col)
        return lookup[col.codes]

    def _period_rows(self, t: _Table, col: _Column) -> np.ndarray:
        lookup = np.full(len(col.uniques) + 1, _BAD, dtype=np.int32)   # ordinals are small
        firsts = col.first_rows()
        # Visit distinct periods in the order of their first row, so the panel's kind is the
        # kind of the first period in the file.
        for k in sorted(range(len(col.uniques)), key=lambda k: firsts[k]):
            r = firsts[k]
            if r < 0:
                continue
            text = (col.uniques[k] or "").strip()
            line = int(t.lines[r])
            if not text or text.lower() in MISSING_WORDS:
                self.errors.add("empty period in column 'period'", t.file, line, col.col)
                continue
            try:
                period = check_plausible(parse_period(text), text)
            except PeriodError as e:
                self.errors.add(f"bad period in column 'period': {e}", t.file, line, col.col)
                continue
            if self.kind is None:
                self.kind = period.kind
                self.kind_first = (text, t.file, line)
            if period.kind != self.kind:
                if self.kind_first is None:
                    why = f"{_KIND_PLURAL[self.kind]} were asked for"
                else:
                    first, ffile, fline = self.kind_first
                    why = (f"the data's periods are {_KIND_PLURAL[self.kind]} (the first, "
                           f"'{first}', is at {ffile}:{fline})")
                self.errors.add(f"period '{_clip(text)}' in column 'period' is "
                                f"{_KIND_SINGULAR[period.kind]}, but {why}", t.file, line,
                                col.col)
                continue
            lookup[k] = period.ordinal
        if (col.codes < 0).any():
            r = int(np.flatnonzero(col.codes < 0)[0])
            self.errors.add("empty period in column 'period'", t.file, int(t.lines[r]), col.col)
        return lookup[col.codes]

    def _drop_duplicate_rows(self, t: _Table, rows: np.ndarray, ent: np.ndarray,
                             ordinal: np.ndarray, ent_col: int) -> np.ndarray:
        if rows.size < 2:
            return rows
        key = _keys(ent[rows], ordinal[rows])
        _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
        dup = np.flatnonzero(first[inverse] != np.arange(rows.size))
        for i in dup:
            r, r0 = rows[i], rows[first[inverse[i]]]
            self.errors.add(f"duplicate row for entity '{self.ids[ent[r]]}', period "
                            f"'{format_period(self.kind, int(ordinal[r]))}' (first at line "
                            f"{int(t.lines[r0])})", t.file, int(t.lines[r]), ent_col)
        return np.delete(rows, dup) if dup.size else rows

    # metrics

    def _assemble(self, cells: list[_Cells], files: list[str], shown: str) -> Panel:
        cells = [c for c in cells if c.ent.size]
        by_metric: dict[str, list[_Cells]] = {}
        for c in cells:
            by_metric.setdefault(c.metric, []).append(c)
        if self.kind is None or not cells:
            if not self.errors.count:
                self.errors.add("no data: the files hold no values", shown)
            self.errors.raise_if_any(shown)
        # The columns of a wide table share one ordinal array: look at each once.
        shared = {id(c.ordinal): c.ordinal for c in cells}.values()
        start = min(int(o.min()) for o in shared)
        stop = max(int(o.max()) for o in shared)
        n_periods, n_ent = stop - start + 1, len(self.ids)
        # Every metric is a [periods, entities] array: a few sparse rows spread over many
        # years and entities would need far more memory than the file.
        n_cells = n_periods * n_ent * len(by_metric)
        if n_cells > CELLS.value():
            self.errors.extend([CELLS.diagnostic(n_cells, shown)])
            self.errors.raise_if_any(shown)
        values: dict[str, np.ndarray] = {}
        labels: dict[str, tuple[str, ...]] = {}
        sites: dict[str, dict[str, tuple[str, Pos]]] = {}
        flat: dict[int, np.ndarray] = {}
        for metric, group in by_metric.items():
            mtype = self.values_of.metric_type(metric, group)
            scale = self.values_of.scale(metric, mtype)
            label_list = list(scale) if mtype == "rating" else []
            metric_sites: dict[str, tuple[str, Pos]] = {}
            converted = [self.values_of.convert(metric, mtype, c, label_list, metric_sites)
                         for c in group]
            arr = np.full((n_periods, n_ent), np.nan)
            if len(group) == 1 and group[0].deduplicated:
                # One wide column: its cells are unique; their positions are shared by the
                # table's other metrics, so compute them once.
                c = group[0]
                key = id(c.ent)
                if key not in flat:
                    flat[key] = (c.ordinal - start).astype(np.int64) * n_ent + c.ent
                arr.ravel()[flat[key]] = converted[0]
            else:
                vals = np.concatenate(converted)
                ent = np.concatenate([c.ent for c in group])
                ordinal = np.concatenate([c.ordinal for c in group])
                keep = self._first_values(metric, group, ent, ordinal)
                arr[ordinal[keep] - start, ent[keep]] = vals[keep]
            values[metric] = arr
            if mtype == "rating":
                labels[metric] = tuple(label_list)
                sites[metric] = metric_sites
        self._same_but_for_case(by_metric)
        self._warn_near_names(by_metric)
        for d in self._missing_inputs(values, shown):
            self.errors.extend([d])
        self.errors.raise_if_any(shown)
        entities = self.roster.entities()
        style = written_style(self.kind_first[0]) if self.kind_first else None
        return Panel(self.kind, start, n_periods, entities, values, labels, tuple(files), sites,
                     period_style=style or "calendar")

    def _where_named(self, c: _Cells) -> tuple[int, int]:
        """(line, column) where a metric's name is written: a wide table's header, or a long
        table's first row naming it."""
        t = c.table
        if c.deduplicated:
            return t.header_line, c.values.col
        mcol = t.find("metric")
        return int(c.lines[0]), mcol.col if mcol is not None else 1

    def _same_but_for_case(self, by_metric: dict[str, list[_Cells]]) -> None:
        """Metrics named alike but for case (`x` and `X` in a long file) are refused, as two
        such columns of a wide file are: they could not be written as one table, and are
        almost always one metric spelt two ways (found by the fuzzer)."""
        first: dict[str, tuple[str, _Cells]] = {}
        for metric, group in by_metric.items():
            c = group[0]
            if metric.strip().lower() in _RESERVED:
                # A metric called `entity` (or period, metric, value) cannot be a column of a
                # wide table, nor written as one (found by the fuzzer).
                line, col = self._where_named(c)
                self.errors.add(f"'{_clip(metric)}' cannot name a metric: entity, period, "
                                f"metric and value are the table's own columns",
                                c.table.file, line, col)
                continue
            seen = first.setdefault(metric.lower(), (metric, c))
            if seen[0] == metric:
                continue
            other, oc = seen
            line, col = self._where_named(c)
            oline, _ = self._where_named(oc)
            where = f"line {oline}" if oc.table.file == c.table.file else \
                f"{oc.table.file}:{oline}"
            self.errors.add(f"metric '{_clip(metric)}' differs from metric '{_clip(other)}' "
                            f"({where}) only by case: write each metric's name one way",
                            c.table.file, line, col)

    def _warn_near_names(self, by_metric: dict[str, list[_Cells]]) -> None:
        """A metric the policy has no input for, named like one of its inputs but for case
        (`A` for `a`), would be silently ignored: say so where the name is written."""
        if self.model is None:
            return
        lower = {}
        for name in self.model.inputs:
            lower.setdefault(name.lower(), name)
        for metric, group in by_metric.items():
            near = lower.get(metric.lower())
            if metric in self.model.inputs or near is None or near in by_metric:
                continue
            c = group[0]
            t = c.table
            line, col = self._where_named(c)
            warn_data(Diagnostic(
                f"metric '{metric}' is not an input of policy '{self.model.id}' and is "
                f"ignored; did you mean '{near}'? (names are matched exactly, case included)",
                file=t.file, pos=Pos(line, col), severity="warning", code=codes.NEAR_NAME))

    def _first_values(self, metric: str, group: list[_Cells], ent: np.ndarray,
                      ordinal: np.ndarray) -> np.ndarray:
        """Rows to keep: the first value for each (entity, period); the rest are duplicates."""
        files = [c.table.file for c in group for _ in range(c.ent.size)]
        lines = np.concatenate([c.lines for c in group])
        cols = [c.ent_col for c in group for _ in range(c.ent.size)]
        key = _keys(ent, ordinal)
        _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
        first_of = first[inverse]
        dup = np.flatnonzero(first_of != np.arange(key.size))
        for i in dup:
            j = first_of[i]
            where = f"line {lines[j]}" if files[j] == files[i] else f"{files[j]}:{lines[j]}"
            self.errors.add(f"duplicate value for entity '{self.ids[ent[i]]}', period "
                            f"'{format_period(self.kind, int(ordinal[i]))}', metric "
                            f"'{metric}' (first at {where})", files[i], int(lines[i]), cols[i])
        return np.sort(first)

    def _missing_inputs(self, values: dict, shown: str) -> list[Diagnostic]:
        if self.model is None:
            return []
        return missing_inputs(self.model, self.needed, values, shown)


_BAD = np.iinfo(np.int32).min


def _keys(ent: np.ndarray, ordinal: np.ndarray) -> np.ndarray:
    span = int(ordinal.max() - ordinal.min()) + 1 if ordinal.size else 1
    return ent.astype(np.int64) * span + (ordinal - (ordinal.min() if ordinal.size else 0))\
        .astype(np.int64)
