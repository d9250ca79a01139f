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
"""

from __future__ import annotations

import csv
import io
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable, Iterator, Sequence

import numpy as np

from ..diagnostics import (DataError, Diagnostic, Pos, did_you_mean, sorted_diagnostics,
                           warn_data)
from ..files import CELLS, DATA, ENTITIES, Limit, atomic_output, open_input
from ..periods import KINDS, PeriodError, check_plausible, format_period, parse_period
from .catalogue import METRICS
from .panel import ENTITY_COLUMNS, Entities, Panel, normalise_label

if TYPE_CHECKING:
    from ..check.checker import CheckedPolicy
    from ..policy.model import Policy

MAX_REPORTED = 20
_MAX_KEPT = 5000            # diagnostics kept before counting only (a file of bad rows is huge)

MISSING_WORDS = frozenset({"", "na", "n/a", "nan", "null", "none", "-"})
NOT_RATED = frozenset({"not_rated", "not_yet_rated", "unrated"})
TRUE_WORDS = frozenset({"true", "yes", "1", "1.0"})
FALSE_WORDS = frozenset({"false", "no", "0", "0.0"})
NUMERIC_TYPES = ("percent", "number", "money", "count")
DATA_SUFFIXES = (".csv", ".parquet")

_TYPE_WORDS = {"percent": "a percent", "number": "a number", "money": "an amount of money",
               "count": "a count", "flag": "a flag", "rating": "a rating"}
_WRITE = {"percent": "numbers", "number": "numbers", "money": "numbers", "count": "numbers",
          "flag": "true/false, yes/no or 1/0", "rating": "its labels (e.g. 'good')"}
_KIND_PLURAL = {"month": "months", "quarter": "quarters", "year": "financial years"}
_KIND_SINGULAR = {"month": "a month", "quarter": "a quarter", "year": "a financial year"}


# --- public -------------------------------------------------------------------------------------

def load_panel(path: str | os.PathLike, *, entities: "str | os.PathLike | Entities | None" = None,
               policy: "CheckedPolicy | Policy | None" = None,
               period_kind: str | None = None) -> Panel:
    """Load a file or folder of panel data, validating it; raise DataError listing problems."""
    if period_kind is not None and period_kind not in KINDS:
        raise ValueError(f"period_kind must be one of {KINDS}, not {period_kind!r}")
    return _Loader(policy, period_kind).run(path, entities)


def write_panel(panel: Panel, out: str | os.PathLike, *, fmt: str = "parquet",
                name: str = "metrics") -> list[Path]:
    """Write a panel to a folder as a wide `<name>.parquet` (or `.csv`) plus `entities.csv`."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    if fmt not in ("parquet", "csv"):
        raise ValueError(f"fmt must be 'parquet' or 'csv', not {fmt!r}")
    data_path = out / f"{name}.{fmt}"
    ent_path = out / "entities.csv"
    write_entities(panel.entities, ent_path)
    metrics = panel.metrics
    rows_p, rows_e = _rows_with_data(panel)
    entity_col = [panel.entities.ids[e] for e in rows_e]
    labels = panel.period_labels
    period_col = [labels[p] for p in rows_p]
    if fmt == "parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        arrays = {"entity": pa.array(entity_col, pa.string()).dictionary_encode(),
                  "period": pa.array(period_col, pa.string()).dictionary_encode()}
        for m in metrics:
            vals = panel.values[m][rows_p, rows_e]
            if m in panel.labels:
                words = [None if v != v else panel.labels[m][int(v)] for v in vals]
                arrays[m] = pa.array(words, pa.string()).dictionary_encode()
            else:
                arrays[m] = pa.array(vals, pa.float64(), mask=np.isnan(vals))
        with atomic_output(data_path, "wb") as fh:
            pq.write_table(pa.table(arrays), fh, compression="zstd", compression_level=9)
    else:
        cols = [panel.values[m][rows_p, rows_e] for m in metrics]
        with atomic_output(data_path) as fh:
            w = csv.writer(fh, lineterminator="\n")
            w.writerow(["entity", "period", *metrics])
            for i in range(len(rows_p)):
                w.writerow([entity_col[i], period_col[i],
                            *(_format_cell(panel, m, c[i]) for m, c in zip(metrics, cols))])
    return [data_path, ent_path]


def write_entities(entities: Entities, path: str | os.PathLike) -> None:
    """Write an entities table as CSV (`entity,name,kind,type,parent,region`), atomically."""
    with atomic_output(path) as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(ENTITY_COLUMNS)
        for row in zip(entities.ids, entities.names, entities.kinds, entities.types,
                       entities.parents, entities.regions):
            w.writerow(row)


def _rows_with_data(panel: Panel) -> tuple[np.ndarray, np.ndarray]:
    has = np.zeros((panel.n_periods, len(panel.entities)), dtype=bool)
    for arr in panel.values.values():
        has |= ~np.isnan(arr)
    if has.size:
        # The first and last periods are written even without values (a row of empty cells),
        # so the panel read back covers the same periods (found by the fuzzer).
        for t in (0, panel.n_periods - 1):
            if not has[t].any():
                has[t, 0] = True
    return np.nonzero(has)      # period-major order: all entities of a period, then the next


def _format_cell(panel: Panel, metric: str, v: float) -> str:
    if v != v:
        return ""
    if metric in panel.labels:
        return panel.labels[metric][int(v)]
    if float(v).is_integer() and abs(v) < 1e15:
        return str(int(v))
    return repr(float(v))


# --- units ----------------------------------------------------------------------------------------

def percent_values(inp, arr: np.ndarray) -> np.ndarray:
    """An input's values as the policy reads them (a fresh array): a percent input whose data
    write fractions (`scale: fraction`: 0.75 for 75%) is multiplied by 100."""
    if inp.type == "percent" and inp.scale == "fraction":
        return arr * 100.0
    return arr.copy()


# A percent input whose values all lie in [0, 1] with a median above this looks like fractions;
# genuinely small percentages (0.3% of waits over 52 weeks) have a smaller median.
FRACTION_MEDIAN = 0.05
# ... judged only on this many values or more: a handful of hand-written values (a policy test
# case's) says nothing about a file's unit.
FRACTION_MIN_VALUES = 20


def unit_warnings(policy, inputs, data_name: str) -> list[Diagnostic]:
    """Warnings for inputs whose values (as bound, in percent for percent inputs) look 100x
    off: outside the input's `expect:` range, or, without one, a percent input whose every
    value lies in [0, 1] with a median above FRACTION_MEDIAN. Each names the input, the data
    and the fix, at the input's line in the policy."""
    out = []
    for name, arr in inputs.items():
        d = unit_warning(policy.inputs.get(name), name, arr, data_name)
        if d is not None:
            out.append(d)
    return out


def _median(vals: np.ndarray) -> float:
    """np.median of known values, to the bit (the middle value, or the mean of the middle
    two), without np.median's import of numpy.ma (a few hundredths of a second)."""
    n = vals.size
    if n % 2:
        return float(np.partition(vals, n // 2)[n // 2])
    part = np.partition(vals, [n // 2 - 1, n // 2])
    return float((part[n // 2 - 1] + part[n // 2]) / 2.0)


def unit_warning(inp, name: str, arr: np.ndarray, data_name: str) -> Diagnostic | None:
    """`unit_warnings` for one input (`inp` its definition, None when the policy has none)."""
    if inp is None or inp.type in ("flag", "rating"):
        return None
    vals = arr[~np.isnan(arr)]
    if not vals.size:
        return None
    median = _median(vals)
    fraction = inp.type == "percent" and inp.scale == "fraction"
    message = hint = None
    if inp.expect is not None:
        lo, hi = inp.expect
        if not lo <= median <= hi:
            rng = f"{lo:g}..{hi:g}"
            message = (f"input '{name}': the median of its values in {data_name}, "
                       f"{median:.4g}, is outside its expected range {rng}")
            if lo <= median * 100 <= hi:
                message += ": the data look 100 times too small"
                hint = ("the file holds fractions (0.75 for 75%): declare 'scale: fraction' "
                        "on the input" if inp.type == "percent" and not fraction else
                        "check the unit the file writes this metric in")
            elif lo <= median / 100 <= hi:
                message += ": the data look 100 times too large"
                hint = ("the file holds percentages (75 for 75%): remove 'scale: fraction' "
                        "from the input" if fraction else
                        "check the unit the file writes this metric in")
            else:
                hint = "check the data, or the input's expect: range"
    elif inp.type == "percent" and not fraction and vals.size >= FRACTION_MIN_VALUES \
            and vals.min() >= 0 and vals.max() <= 1 and median > FRACTION_MEDIAN:
        message = (f"input '{name}' is a percent, but every value of it in {data_name} lies "
                   f"between 0 and 1 (median {median:.4g}): the data look 100 times too "
                   f"small")
        hint = ("if the file holds fractions (0.75 for 75%), declare 'scale: fraction' on "
                "the input; if the values really are below 1%, declare their range "
                "(e.g. 'expect: 0..1') to say so")
    if message is None:
        return None
    return Diagnostic(message, file=inp.origin.file, pos=inp.pos, severity="warning",
                      code="units", hint=hint, source_line=inp.origin.line(inp.pos.line))


def warn_units(policy, inputs, data_name: str) -> None:
    """Issue `unit_warnings` as DataWarnings (the command line prints them)."""
    for d in unit_warnings(policy, inputs, data_name):
        warn_data(d)


# --- diagnostics --------------------------------------------------------------------------------

class _Errors:
    """Collects problems; keeps the first few thousand, reports the first 20 in file order."""

    def __init__(self) -> None:
        self.items: list[Diagnostic] = []
        self.count = 0

    def add(self, message: str, file: str | None, line: int | None = None,
            col: int | None = None, hint: str | None = None) -> None:
        self.count += 1
        if len(self.items) < _MAX_KEPT:
            pos = Pos(line, col or 1) if line is not None else None
            self.items.append(Diagnostic(message, file=file, pos=pos, code="data", hint=hint))

    def extend(self, diagnostics: Iterable[Diagnostic]) -> None:
        for d in diagnostics:
            self.count += 1
            self.items.append(d)

    def raise_if_any(self, where: str) -> None:
        if not self.count:
            return
        # Problems in the data files first, in file order; then those located in a policy
        # (inputs the data lacks), which are often the consequence of the former.
        policy = [d for d in self.items if d.code == "missing-input"]
        data = [d for d in self.items if d.code != "missing-input"]
        shown = (sorted_diagnostics(data) + sorted_diagnostics(policy))[:MAX_REPORTED]
        if self.count > len(shown):
            shown.append(Diagnostic(f"{self.count - len(shown)} more problems not shown "
                                    f"(fix these first)", file=where, code="data"))
        raise DataError(shown)


# --- reading files into tables ------------------------------------------------------------------

@dataclass
class _Column:
    """One column of a table: strings as codes into `uniques` (-1 = null), or float numbers."""

    name: str
    col: int                                  # 1-based field number
    codes: np.ndarray | None = None
    uniques: list[str] | None = None
    numbers: np.ndarray | None = None
    arrow: str | None = None                  # a Parquet column's type if not text or numbers
    from_text: bool = False                   # numbers read from a CSV's text

    def take(self, rows: np.ndarray) -> "_Column":
        if self.numbers is not None:
            return _Column(self.name, self.col, numbers=self.numbers[rows], arrow=self.arrow)
        codes = self.codes[rows]
        if len(self.uniques) <= rows.size:
            return _Column(self.name, self.col, codes=codes, uniques=self.uniques,
                           arrow=self.arrow)
        # A few rows of a column with many distinct values (one metric of a long table):
        # keep only their values, so work per distinct value stays proportional to the rows.
        present, inverse = np.unique(codes, return_inverse=True)
        null = present[0] < 0 if present.size else False
        kept = present[1:] if null else present
        new = inverse.astype(np.int64) - (1 if null else 0)
        return _Column(self.name, self.col, codes=new, uniques=[self.uniques[k] for k in kept],
                       arrow=self.arrow)

    def as_strings(self) -> "_Column":
        """The column as strings (numbers written back as text, for ids and periods)."""
        if self.numbers is None:
            return self
        words = ["" if v != v else (str(int(v)) if float(v).is_integer() else repr(float(v)))
                 for v in self.numbers]
        codes, uniques = _encode(words)
        return _Column(self.name, self.col, codes=codes, uniques=uniques)


@dataclass
class _Table:
    file: str                     # as shown to the user
    path: Path
    header: list[str]
    columns: list[_Column]
    lines: np.ndarray             # physical line of each row
    n_rows: int
    header_line: int = 1

    def find(self, name: str) -> _Column | None:
        for c in self.columns:
            if c.name.lower() == name:
                return c
        return None


def _encode(strings: Sequence[str]) -> tuple[np.ndarray, list[str]]:
    """Codes and distinct values; values are stripped once each, not once per cell (two codes
    may then stand for the same text, which every user of the codes allows)."""
    lookup: dict[str, int] = {}
    codes = np.fromiter((lookup.setdefault(s, len(lookup)) for s in strings), dtype=np.int64,
                        count=len(strings))
    return codes, [u.strip() for u in lookup]


def _read_table(path: Path, shown: str, errors: _Errors, limit: Limit = DATA,
                text_names: frozenset[str] = frozenset()) -> _Table | None:
    """A file as a table; a CSV's columns named in `text_names` (ratings and flags, whose
    words are judged as written) are read as text even when they hold numbers."""
    suffix = path.suffix.lower()
    try:
        # One guarded open: a pipe would block the read, a device never end, a folder or a
        # file over the size limit is refused before a byte is read.
        with open_input(path, limit=limit, shown=shown, error=DataError) as fh:
            if suffix not in DATA_SUFFIXES:
                errors.add(f"unknown file format '{path.suffix or path.name}': "
                           f"write CSV (.csv) or Parquet (.parquet)", shown)
                return None
            if suffix == ".csv":
                return _CsvReader(fh, path, shown, errors, text_names).read()
            return _read_parquet(fh, path, shown, errors)
    except DataError as e:
        errors.extend(e.diagnostics)
        return None


_BLOCK = 1 << 18                # bytes read at a time
_MAX_LINE = 64 << 20            # a "line" longer than this is not a table (e.g. NUL bytes)
_FLUSH_CELLS = 1 << 15          # cells of rows held as Python strings before columns are made
_PLAIN_NUMBER = re.compile(r"[ \t]*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?[ \t]*\Z", re.ASCII)


class _Growing:
    """A NumPy array appended to in chunks, grown in place (realloc, so a large array is
    remapped rather than copied next to itself) and trimmed to its length at the end: memory
    stays near the data's size, without the many chunk arrays a concatenation needs."""

    def __init__(self, dtype, capacity: int = 1024) -> None:
        # Pages of the capacity that are never written are never resident: an upper bound on
        # the rows costs address space, not memory.
        self.buf = np.empty(max(capacity, 16), dtype=dtype)
        self.n = 0

    def append(self, values: np.ndarray) -> None:
        need = self.n + len(values)
        if need > len(self.buf):
            self.buf.resize(max(need, 2 * len(self.buf)), refcheck=False)
        self.buf[self.n:need] = values
        self.n = need

    def take(self) -> np.ndarray:
        buf, self.buf = self.buf, np.empty(0, dtype=self.buf.dtype)
        buf.resize(self.n, refcheck=False)
        return buf


class _ColumnBuilder:
    """One column of a CSV, built a chunk of rows at a time: as float numbers while every cell
    is a plain decimal number or a missing word (8 bytes a cell, not a Python string), else as
    codes into the distinct texts."""

    def __init__(self, name: str, col: int, text_only: bool, rows: int) -> None:
        self.name, self.col = name, col
        self.rows = rows
        self.numbers: _Growing | None = None if text_only else _Growing(np.float64, rows)
        # int32: rows are capped far below 2**31 (REGIME_MAX_CELLS), and half the memory.
        self.codes = _Growing(np.int32, 0 if self.numbers is not None else rows)
        self.lookup: dict[str, int] = {}

    def add(self, values: Sequence[str]) -> None:
        if self.numbers is not None:
            nums = _plain_numbers(values)
            if nums is not None:
                self.numbers.append(nums)
                return
            if self.numbers.n:
                # Not all numbers, after rows already kept as numbers: their text is gone,
                # and messages quote values as written ('1e3', not '1000'). The file is read
                # again with this column as text (at most once per column).
                raise _AsText(self.col)
            self.numbers = None
            self.codes = _Growing(np.int32, self.rows)
        self._encode(values)

    def _encode(self, values: Sequence[str]) -> None:
        lookup = self.lookup
        self.codes.append(np.fromiter((lookup.setdefault(v, len(lookup)) for v in values),
                                      dtype=np.int32, count=len(values)))

    def column(self) -> _Column:
        if self.numbers is not None:
            return _Column(self.name, self.col, numbers=self.numbers.take(), from_text=True)
        # Values are stripped once each, not once per cell (two codes may then stand for the
        # same text, which every user of the codes allows).
        return _Column(self.name, self.col, codes=self.codes.take(),
                       uniques=[u.strip() for u in self.lookup])


def _plain_numbers(values: Sequence[str]) -> np.ndarray | None:
    """The values as floats (missing words as NaN), or None if any is not a plain, finite
    decimal number or a missing word."""
    out = np.empty(len(values))
    match = _PLAIN_NUMBER.match
    for i, v in enumerate(values):
        if match(v):
            x = float(v)
            if x - x != 0.0:              # overflowed to infinity: reported with its text
                return None
            out[i] = x
        elif v.strip().lower() in MISSING_WORDS:
            out[i] = np.nan
        else:
            return None
    return out


class _AsText(Exception):
    """A column kept as numbers turned out to hold text: read the file again, it as text."""

    def __init__(self, col: int) -> None:
        self.col = col


class _CsvReader:
    """Read a CSV a block at a time: lines go to the csv module; rows go to columns every few
    thousand cells, so memory holds the table's cells, not the file's text."""

    def __init__(self, fh, path: Path, shown: str, errors: _Errors,
                 text_names: frozenset[str] = frozenset()) -> None:
        self.fh, self.path, self.shown, self.errors = fh, path, shown, errors
        self.text_names = text_names
        self.text_columns: set[int] = set()     # 1-based fields read as text

    def read(self) -> _Table | None:
        errors = self.errors
        kept, count = len(errors.items), errors.count
        while True:
            try:
                return self._read()
            except _AsText as e:
                self.text_columns.add(e.col)
                del errors.items[kept:]             # the next pass finds them again
                errors.count = count
                self.fh.seek(0)

    def _texts(self) -> Iterator[str]:
        """The file's text in pieces that end at a line break; stops (setting `bad`) at bytes
        that are not UTF-8."""
        buf = self.fh.read(_BLOCK)
        if _looks_utf16(buf):
            self.errors.add(_UTF16, self.shown, 1, 1)
            self.bad = True
            return
        offset = 3 if buf.startswith(b"\xef\xbb\xbf") else 0
        buf = buf[offset:]
        while True:
            more = self.fh.read(_BLOCK) if buf is not None else b""
            data = buf + more
            if not more:
                piece, buf = data, None
            else:
                cut = max(data.rfind(b"\n"), data.rfind(b"\r", 0, len(data) - 1))
                if cut < 0:
                    if len(data) > _MAX_LINE:
                        self.errors.add(f"line {self.n_lines + 1} is longer than "
                                        f"{_MAX_LINE:,} bytes: the file is not a CSV table",
                                        self.shown, self.n_lines + 1, 1)
                        self.bad = True
                        return
                    buf = data
                    continue
                piece, buf = data[:cut + 1], data[cut + 1:]
            try:
                text = piece.decode("utf-8")
            except UnicodeDecodeError as e:
                self._not_utf8(piece, e.start)
                return
            self.n_lines += piece.count(b"\n")
            if text:
                yield text
            if buf is None:
                return

    def _not_utf8(self, piece: bytes, at: int) -> None:
        line = self.n_lines + piece.count(b"\n", 0, at) + 1
        line_start = piece.rfind(b"\n", 0, at) + 1
        prefix = piece[line_start:at].decode("utf-8", errors="replace")
        try:
            col = max(1, len(next(csv.reader([prefix]), [])))
        except csv.Error:           # a stray carriage return or quote before the bad byte
            col = 1
        self.errors.add(f"the file is not UTF-8 text: byte 0x{piece[at]:02x} cannot be decoded "
                        f"(save the file as UTF-8)", self.shown, line, col)
        self.bad = True

    def _count_lines(self) -> int:
        """At least the number of records: line breaks (CR, LF) plus one."""
        fh = self.fh
        n = 1
        while True:
            block = fh.read(1 << 20)
            if not block:
                break
            n += block.count(b"\n") + block.count(b"\r")
        fh.seek(0)
        return n

    def _lines(self) -> Iterator[str]:
        for text in self._texts():
            yield from io.StringIO(text, newline="")

    def _read(self) -> _Table | None:
        shown, errors = self.shown, self.errors
        self.bad = False
        self.n_lines = 0                    # physical lines in the blocks decoded so far
        reader = csv.reader(self._lines())
        header: list[str] | None = None
        header_line = 1
        builders: list[_ColumnBuilder] = []
        rows: list[list[str]] = []
        lines: list[int] = []
        # An upper bound on the rows, from a quick count of line breaks, so the columns are
        # allocated once rather than grown (growing leaves freed copies resident).
        self.rows = self._count_lines()
        line_numbers = _Growing(np.int64, 0)
        n_rows = 0
        prev = 0
        width = -1
        max_cells = CELLS.value()

        def flush() -> None:
            nonlocal n_rows
            n_rows += len(rows)
            if n_rows * width > max_cells:
                raise DataError(CELLS.diagnostic(n_rows * width, shown, Pos(lines[-1], 1)))
            for b, values in zip(builders, zip(*rows)):
                b.add(values)
            line_numbers.append(np.array(lines, dtype=np.int64))
            rows.clear()
            lines.clear()

        try:
            for rec in reader:
                start, prev = prev + 1, reader.line_num
                if len(rec) == width:             # the common case first: a full row
                    rows.append(rec)
                    lines.append(start)
                    if len(rows) * width >= _FLUSH_CELLS:
                        flush()
                    continue
                if not rec or (len(rec) == 1 and not rec[0].strip()):
                    continue                      # blank line
                if header is None:
                    header = [h.strip() for h in rec]
                    header_line, width = start, len(rec)
                    # More rows than the cell limit allows are refused when read: no need to
                    # reserve room for them.
                    self.rows = min(self.rows, max_cells // max(width, 1) + 1)
                    line_numbers = _Growing(np.int64, self.rows)
                    builders = self._builders(header)
                    continue
                errors.add(f"the row has {_fields(len(rec))}, but the header has {len(header)}",
                           shown, start, min(len(rec), len(header)) + 1)
        except csv.Error as e:
            if not self.bad:
                errors.add(f"the file is not valid CSV: {e}", shown, reader.line_num, 1)
            return None
        except DataError as e:
            errors.extend(e.diagnostics)
            return None
        if self.bad:
            return None
        if header is None:
            errors.add("the file is empty", shown, 1, 1)
            return None
        if not _check_header(header, shown, errors, header_line):
            return None
        try:
            flush()
        except DataError as e:
            errors.extend(e.diagnostics)
            return None
        columns = [b.column() for b in builders]
        lines_read = line_numbers.take()
        if n_rows and lines_read[-1] < 2 ** 31 - 1:
            lines_read = lines_read.astype(np.int32)      # half the memory of a long table
        return _Table(shown, self.path, header, columns, lines_read, n_rows, header_line)

    def _builders(self, header: list[str]) -> list[_ColumnBuilder]:
        low = [h.lower() for h in header]
        entity_table = self.path.stem.lower() == "entities" or (
            "entity" in low and "period" not in low and bool(set(low) & set(ENTITY_COLUMNS[1:])))
        return [_ColumnBuilder(name, j + 1, entity_table or low[j] in _TEXT_COLUMNS
                               or j + 1 in self.text_columns or name in self.text_names,
                               self.rows)
                for j, name in enumerate(header)]


_RESERVED = frozenset({"entity", "period", "metric", "value"})

# Columns read as text even when they hold numbers: codes such as 001 keep their zeros.
_TEXT_COLUMNS = frozenset({"entity", "period", "metric"})


_UTF16 = "the file looks like UTF-16 text: save it as UTF-8"


def _looks_utf16(data: bytes) -> bool:
    """A UTF-16 byte-order mark, or text whose first two characters are ASCII in UTF-16."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return True
    head = data[:4]
    if len(head) < 4 or any(b >= 0x80 for b in head):
        return False
    little = head[1] == head[3] == 0 and head[0] != 0 and head[2] != 0
    big = head[0] == head[2] == 0 and head[1] != 0 and head[3] != 0
    return little or big


def _fields(n: int) -> str:
    return "1 field" if n == 1 else f"{n} fields"


_OTHER_SEPARATORS = {";": "';'", "\t": "tab", "|": "'|'"}


def separator_hint(header: Sequence[str]) -> str | None:
    """A hint for a header read as one field that holds another separator (';', tab, '|')."""
    if len(header) != 1:
        return None
    for sep, name in _OTHER_SEPARATORS.items():
        if sep in header[0]:
            return f"the file looks {name}-separated: save it with commas between fields"
    return None


def _check_header(header: list[str], shown: str, errors: _Errors, line: int = 1) -> bool:
    ok = True
    seen: dict[str, int] = {}
    for j, name in enumerate(header):
        if not name:
            errors.add(f"column {j + 1} has no name in the header", shown, line, j + 1)
            ok = False
        elif name.lower() in seen:
            errors.add(f"column '{name}' appears twice in the header (first as column "
                       f"{seen[name.lower()]})", shown, line, j + 1)
            ok = False
        else:
            seen[name.lower()] = j + 1
    return ok


_RELEASE_BYTES = 32 << 20


def _read_parquet(fh, path: Path, shown: str, errors: _Errors) -> _Table | None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        if os.fstat(fh.fileno()).st_size == 0:
            errors.add("the file is empty", shown, 1, 1)
            return None
        pf = pq.ParquetFile(fh)
        # The header first: a column named twice makes read_table fail with Arrow's words.
        header = [str(n).strip() for n in pf.schema_arrow.names]
        if not _check_header(header, shown, errors):
            return None
        # The size from the metadata, before decoding: a few megabytes of Parquet can hold
        # hundreds of millions of repeated rows.
        cells = pf.metadata.num_rows * max(1, len(header))
        if cells > CELLS.value():
            errors.extend([CELLS.diagnostic(cells, shown)])
            return None
        raw_names = pf.schema_arrow.names
        # One column at a time where the schema is flat: the decoded Arrow column is freed
        # once converted, so the whole table is never held twice.
        flat = pf.metadata.num_columns == len(raw_names) and len(set(raw_names)) == len(raw_names)
        table = None if flat else pf.read()
        n = pf.metadata.num_rows
        # Handing freed buffers back costs a millisecond a column: worth it only where the
        # decoded columns are big enough for the memory to matter.
        decoded = sum(pf.metadata.row_group(i).total_byte_size
                      for i in range(pf.metadata.num_row_groups))
        release = decoded > _RELEASE_BYTES
        columns = []
        for j, name in enumerate(header):
            if table is not None:
                chunked = table.column(j)
            else:
                part = pf.read(columns=[raw_names[j]])
                if part.num_columns != 1:           # a name Arrow reads as a nested path
                    table = pf.read()
                    chunked = table.column(j)
                else:
                    chunked = part.column(0)
                del part
            column = _parquet_column(pa, chunked.combine_chunks(), name, j, shown, errors)
            del chunked
            if column is None:
                return None
            columns.append(column)
            if table is None and release:
                # The column's Arrow buffers are free now: hand them back, or Arrow's
                # allocator keeps each one resident beside the next.
                pa.default_memory_pool().release_unused()
    except OSError as e:
        errors.add(f"cannot read the file: {e.strerror or e}", shown)
        return None
    except (pa.ArrowException, ValueError) as e:
        errors.add(f"cannot read the file as Parquet: {e}", shown)
        return None
    return _Table(shown, path, header, columns, np.arange(2, n + 2, dtype=_line_type(n + 1)), n)


def _parquet_column(pa, arr, name: str, j: int, shown: str, errors: _Errors) -> _Column | None:
    """One Parquet column as numbers or as codes into its distinct texts."""
    from .arrow import arrow_codes, arrow_floats

    t = arr.type
    vt = t.value_type if pa.types.is_dictionary(t) else t
    # Booleans, dates, times and durations are kept with their type, which numeric
    # inputs refuse (True is not a percent, a duration not a count).
    arrow = str(vt) if (pa.types.is_boolean(vt) or pa.types.is_temporal(vt)) else None
    if pa.types.is_boolean(t) or pa.types.is_integer(t) or pa.types.is_floating(t) \
            or pa.types.is_decimal(t):
        # to_numpy would import pandas; cast imports pyarrow.compute (a tenth of a second),
        # so a column that is float64 already is read as it is
        nums = arrow_floats(arr if t == pa.float64() else arr.cast(pa.float64()))
        return _Column(name, j + 1, numbers=np.asarray(nums, dtype=np.float64), arrow=arrow)
    if not pa.types.is_dictionary(t):
        if pa.types.is_timestamp(t):
            arr = arr.cast(pa.date32())
        try:
            arr = arr.cast(pa.string()).dictionary_encode()
        except pa.ArrowException:
            errors.add(f"column '{name}' has type {t}, which cannot be read as text or "
                       f"numbers", shown, 1, j + 1)
            return None
    elif not pa.types.is_string(t.value_type):
        arr = arr.cast(t.value_type).cast(pa.string()).dictionary_encode()
    codes = arrow_codes(arr.indices).astype(np.int32)
    uniques = [None if u is None else u.strip() for u in arr.dictionary.to_pylist()]
    return _Column(name, j + 1, codes=codes, uniques=uniques, arrow=arrow)


# --- the loader ---------------------------------------------------------------------------------

@dataclass
class _Cells:
    """Values of one metric from one table, after bad entities and periods were dropped."""

    metric: str
    table: _Table
    values: _Column
    ent: np.ndarray
    ordinal: np.ndarray
    lines: np.ndarray
    ent_col: int
    deduplicated: bool            # rows already unique per (entity, period) within the table


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
        self.ids: list[str] = []
        self.index: dict[str, int] = {}
        self.attrs: list[tuple[str, str, str, str, str]] = []   # name kind type parent region
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
            self._use_entities(entities)
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
            self._read_entities(entity_table)
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

    # entities

    def _use_entities(self, ents: Entities) -> None:
        self.table_name = "the entities given"
        for row in zip(ents.ids, ents.names, ents.kinds, ents.types, ents.parents,
                       ents.regions):
            self.index[row[0]] = len(self.ids)
            self.ids.append(row[0])
            self.attrs.append(tuple(row[1:]))

    def _read_entities(self, t: _Table) -> None:
        ent = t.find("entity")
        if ent is None:
            self._missing_columns(t, ["entity"])
            return
        cols = {name: t.find(name) for name in ENTITY_COLUMNS[1:]}
        cols = {k: (c.as_strings() if c is not None else None) for k, c in cols.items()}
        ent = ent.as_strings()
        first_line: dict[str, int] = {}
        parent_at: list[tuple[str, str, int]] = []    # (entity, parent, line)
        for r in range(t.n_rows):
            line = int(t.lines[r])
            eid = _cell(ent, r)
            if not eid:
                self.errors.add("empty entity id in column 'entity'", t.file, line, ent.col)
                continue
            if eid in first_line:
                self.errors.add(f"entity '{_clip(eid)}' appears twice in the entities table "
                                f"(first at line {first_line[eid]})", t.file, line, ent.col)
                continue
            first_line[eid] = line
            values = {k: (_cell(c, r) if c is not None else "") for k, c in cols.items()}
            values["kind"] = values["kind"] or "trust"
            self.index[eid] = len(self.ids)
            self.ids.append(eid)
            self.attrs.append((values["name"], values["kind"], values["type"],
                               values["parent"], values["region"]))
            if values["parent"]:
                parent_at.append((eid, values["parent"], line))
        pcol = cols["parent"].col if cols["parent"] is not None else 1
        parents = {}
        for eid, parent, line in parent_at:
            if parent not in self.index:
                self.errors.add(f"parent '{_clip(parent)}' in column 'parent' is not an entity "
                                f"of the table{did_you_mean(parent, self.ids)}", t.file, line,
                                pcol)
            else:
                parents[eid] = parent
        # Cycles: follow each chain of parents; a chain that meets itself is reported once,
        # at the line of its entity that comes first in the table.
        state: dict[str, int] = {}            # 1 = on the current chain, 2 = done
        for eid in self.ids:
            chain: list[str] = []
            node = eid
            while node in parents and state.get(node) is None:
                state[node] = 1
                chain.append(node)
                node = parents[node]
            if node in parents and state.get(node) == 1:
                loop = chain[chain.index(node):]
                first = min(loop, key=lambda e: first_line[e])
                k = loop.index(first)
                loop = loop[k:] + loop[:k]
                text = " -> ".join(loop + [first])
                self.errors.add(f"the parent hierarchy has a cycle: {text}", t.file,
                                first_line[first], pcol)
            for n in chain:
                state[n] = 2

    # data tables

    def _missing_columns(self, t: _Table, names: Sequence[str]) -> None:
        import difflib

        hint = separator_hint(t.header)
        for name in names:
            close = difflib.get_close_matches(name, [h.lower() for h in t.header], n=1,
                                              cutoff=0.6)
            col = [h.lower() for h in t.header].index(close[0]) + 1 if close else 1
            self.errors.add(f"missing column '{name}'{did_you_mean(name, t.header)}", t.file,
                            t.header_line, col, hint=hint)
            hint = None                     # once is enough

    def _read_data(self, t: _Table) -> list[_Cells]:
        low = [h.lower() for h in t.header]
        long = "metric" in low or "value" in low
        required = ["entity", "period"] + (["metric", "value"] if long else [])
        missing = [c for c in required if c not in low]
        if missing:
            self._missing_columns(t, missing)
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
        firsts = _first_rows(col)
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
                self.index[eid] = len(self.ids)
                self.ids.append(eid)
                self.attrs.append(("", "trust", "", "", ""))
                lookup[k] = self.index[eid]
        if (col.codes < 0).any():
            r = int(np.flatnonzero(col.codes < 0)[0])
            self.errors.add("empty entity id in column 'entity'", t.file, int(t.lines[r]),
                            col.col)
        return lookup[col.codes]

    def _period_rows(self, t: _Table, col: _Column) -> np.ndarray:
        lookup = np.full(len(col.uniques) + 1, _BAD, dtype=np.int32)   # ordinals are small
        firsts = _first_rows(col)
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
            mtype = self._metric_type(metric, group)
            scale = self._scale(metric, mtype)
            label_list = list(scale) if mtype == "rating" else []
            metric_sites: dict[str, tuple[str, Pos]] = {}
            converted = [self._convert(metric, mtype, c, label_list, metric_sites)
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
        names, kinds, types, parents, regions = (tuple(col) for col in zip(*self.attrs))
        entities = Entities(tuple(self.ids), names, kinds, types, parents, regions)
        return Panel(self.kind, start, n_periods, entities, values, labels, tuple(files), sites)

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
                file=t.file, pos=Pos(line, col), severity="warning", code="near-name"))

    def _input(self, metric: str):
        return self.model.inputs.get(metric) if self.model is not None else None

    def _metric_type(self, metric: str, group: list[_Cells]) -> str:
        inp = self._input(metric)
        if inp is not None:
            return inp.type
        if metric in METRICS:
            return METRICS[metric].type
        n_num = n_bool = n_word = 0
        for c in group:
            col = c.values
            if col.numbers is not None:
                n = int((~np.isnan(col.numbers)).sum())
                if col.arrow == "bool":
                    n_bool += n
                else:
                    n_num += n
                continue
            counts = np.bincount(col.codes[col.codes >= 0], minlength=len(col.uniques))
            for k, s in enumerate(col.uniques):
                if not counts[k] or s is None or s.strip().lower() in MISSING_WORDS:
                    continue
                if _number(s) is not None:
                    n_num += int(counts[k])
                elif s.strip().lower() in TRUE_WORDS | FALSE_WORDS:
                    n_bool += int(counts[k])
                else:
                    n_word += int(counts[k])
        if n_word == 0:
            return "flag" if n_bool else "number"
        return "rating" if n_word >= n_num + n_bool else "number"

    def _scale(self, metric: str, mtype: str) -> tuple[str, ...]:
        if mtype != "rating":
            return ()
        inp = self._input(metric)
        if inp is not None and inp.scale and inp.scale in self.model.scales:
            return tuple(normalise_label(x) for x in self.model.scales[inp.scale].labels)
        if metric in METRICS:
            return METRICS[metric].scale
        return ()

    def _convert(self, metric: str, mtype: str, c: _Cells, label_list: list[str],
                 sites: dict[str, tuple[str, Pos]]) -> np.ndarray:
        col, t = c.values, c.table
        colname = col.name
        inp = self._input(metric)
        check_percent = (inp is not None and mtype == "percent"
                         and not (metric in METRICS and METRICS[metric].signed))
        if col.arrow is not None and not (col.arrow == "bool" and mtype == "flag"):
            # A Parquet column of booleans, dates, times or durations: not this metric's type.
            present = ~np.isnan(col.numbers) if col.numbers is not None else col.codes >= 0
            first = np.flatnonzero(present)
            if first.size:
                self.errors.add(f"column '{colname}' has type {col.arrow}, but '{metric}' is "
                                f"{_TYPE_WORDS[mtype]}: write {_WRITE[mtype]}", t.file,
                                int(c.lines[first[0]]), col.col)
            return np.full(present.shape, np.nan)
        if col.from_text and mtype in ("rating", "flag"):
            # Read as numbers for compactness; a rating's or flag's words are judged as text.
            col = col.as_strings()
        if col.numbers is not None:
            vals = col.numbers.copy()
            if mtype == "rating":
                first = np.flatnonzero(~np.isnan(vals))
                if first.size:
                    self.errors.add(f"column '{colname}' holds numbers, but '{metric}' is a "
                                    f"rating: write its labels (e.g. 'good')", t.file,
                                    int(c.lines[first[0]]), col.col)
                return np.full(vals.shape, np.nan)
            bad = ~np.isfinite(vals) & ~np.isnan(vals)
            if mtype == "flag":
                bad |= ~np.isnan(vals) & (vals != 0.0) & (vals != 1.0)
            for i in np.flatnonzero(bad):
                self._bad_value(_fmt(vals[i]), colname, mtype, t.file, int(c.lines[i]), col.col)
            vals[bad] = np.nan
            if check_percent:
                self._percent_range(metric, vals, lambda i: _fmt(vals[i]), c, colname)
            return vals
        uniq_vals = np.full(len(col.uniques) + 1, np.nan)     # last slot: null
        bad_codes: list[int] = []
        if mtype == "rating":
            first_rows = _first_rows(col)
            for k, raw in enumerate(col.uniques):
                if first_rows[k] < 0 or raw is None:
                    continue
                word = normalise_label(raw)
                if raw.strip().lower() in MISSING_WORDS or word in NOT_RATED:
                    continue
                if not word:
                    bad_codes.append(k)
                    continue
                if word not in label_list:
                    label_list.append(word)
                uniq_vals[k] = label_list.index(word)
                line = int(c.lines[first_rows[k]])
                old = sites.get(word)
                if old is None or (old[0] == t.file and old[1].line > line):
                    sites[word] = (t.file, Pos(line, col.col))
            self._check_labels(metric, label_list, sites, colname, col, c, uniq_vals)
        else:
            for k, raw in enumerate(col.uniques):
                if raw is None or raw.strip().lower() in MISSING_WORDS:
                    continue
                v = _parse_value(raw, mtype)
                if v is None:
                    bad_codes.append(k)
                else:
                    uniq_vals[k] = v
        if bad_codes:
            for i in np.flatnonzero(np.isin(col.codes, bad_codes)):
                self._bad_value(col.uniques[col.codes[i]], colname, mtype, t.file,
                                int(c.lines[i]), col.col)
        vals = uniq_vals[col.codes]
        if check_percent:
            self._percent_range(metric, vals, lambda i: col.uniques[col.codes[i]], c, colname)
        return vals

    def _check_labels(self, metric, label_list, sites, colname, col, c, uniq_vals) -> None:
        inp = self._input(metric)
        if inp is None or inp.type != "rating" or not inp.scale \
                or inp.scale not in self.model.scales:
            return
        scale = [normalise_label(x) for x in self.model.scales[inp.scale].labels]
        first_rows = _first_rows(col)
        for k, raw in enumerate(col.uniques):
            if np.isnan(uniq_vals[k]):
                continue
            word = label_list[int(uniq_vals[k])]
            if word not in scale:
                self.errors.add(f"'{_clip(raw)}' in column '{colname}' is not a label of scale "
                                f"'{inp.scale}' ({', '.join(scale)})"
                                f"{did_you_mean(word, scale)}", c.table.file,
                                int(c.lines[first_rows[k]]), col.col)

    def _bad_value(self, raw: str, colname: str, mtype: str, file: str, line: int,
                   col: int) -> None:
        if mtype == "flag":
            msg = (f"'{_clip(raw)}' in column '{colname}' is not a flag (write true/false, "
                   f"yes/no or 1/0)")
        elif mtype == "rating":
            msg = f"'{_clip(raw)}' in column '{colname}' is not a rating label"
        else:
            msg = f"'{_clip(raw)}' in column '{colname}' is not a number"
        self.errors.add(msg, file, line, col)

    def _percent_range(self, metric: str, vals: np.ndarray, raw: Callable[[int], str],
                       c: _Cells, colname: str) -> None:
        inp = self._input(metric)
        top, what = (1, "a percent written as a fraction (scale: fraction)") \
            if inp is not None and inp.scale == "fraction" else (100, "a percent")
        with np.errstate(invalid="ignore"):
            out = np.flatnonzero((vals < 0) | (vals > top))
        for i in out:
            self.errors.add(f"'{_clip(raw(i))}' in column '{colname}' is not between 0 and {top} "
                            f"(input '{metric}' is {what})", c.table.file, int(c.lines[i]),
                            c.values.col)

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
        from .bind import missing_inputs

        return missing_inputs(self.model, self.needed, values, shown)


# --- small helpers ------------------------------------------------------------------------------

_BAD = np.iinfo(np.int32).min


def _line_type(last: int):
    """Line numbers as int32 while they fit (half the memory of a long table's rows)."""
    return np.int32 if last < 2 ** 31 - 1 else np.int64


def _keys(ent: np.ndarray, ordinal: np.ndarray) -> np.ndarray:
    span = int(ordinal.max() - ordinal.min()) + 1 if ordinal.size else 1
    return ent.astype(np.int64) * span + (ordinal - (ordinal.min() if ordinal.size else 0))\
        .astype(np.int64)


def _first_rows(col: _Column) -> np.ndarray:
    """For each distinct value of a string column, the first row holding it (-1 if none)."""
    firsts = np.full(len(col.uniques), -1, dtype=np.int64)
    valid = np.flatnonzero(col.codes >= 0)
    if valid.size:
        u, idx = np.unique(col.codes[valid], return_index=True)
        firsts[u] = valid[idx]
    return firsts


def _cell(col: _Column, r: int) -> str:
    k = col.codes[r]
    return "" if k < 0 else (col.uniques[k] or "").strip()


def _is_entity_table(t: _Table) -> bool:
    low = {h.lower() for h in t.header}
    if t.path.stem.lower() == "entities":
        return True
    return "entity" in low and "period" not in low and bool(low & set(ENTITY_COLUMNS[1:]))


def _clip(text: str, width: int = 60) -> str:
    """A value from a file as quoted in a message: a 5,000-digit cell is not printed whole."""
    return text if len(text) <= width else f"{text[:width - 20]}…{text[-10:]} " \
        f"({len(text):,} characters)"


def _number(text: str) -> float | None:
    s = text.strip()
    # Python's float() also reads "1_000" and other scripts' digits ("٣٣"): numbers in data
    # are written in ASCII decimal, as the policy language reads them.
    if not s or "_" in s or not s.isascii():
        return None
    try:
        v = float(s)
    except ValueError:
        return None
    return v if np.isfinite(v) else None


def _parse_value(raw: str, mtype: str) -> float | None:
    s = raw.strip()
    if mtype == "flag":
        low = s.lower()
        if low in TRUE_WORDS:
            return 1.0
        if low in FALSE_WORDS:
            return 0.0
        return None
    if mtype == "percent" and s.endswith("%"):
        s = s[:-1]
    return _number(s)


def _fmt(v: float) -> str:
    if v != v:
        return ""
    return str(int(v)) if float(v).is_integer() and abs(v) < 1e15 else repr(float(v))
