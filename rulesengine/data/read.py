"""Reading CSV and Parquet files into tables of columns, and collecting the problems found.

A CSV is read a block at a time (memory holds the table's cells, not the file's text); a column
is kept as float numbers while every cell is a plain number, else as codes into its distinct
texts. Parquet is read a column at a time. UTF-16 text, other separators and a header naming a
column twice are reported with the fix. Every problem carries the file as given, the physical
line (the header is line 1; for Parquet, the row number plus one) and the 1-based field number.
"""

from __future__ import annotations

import csv
import difflib
import io
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator, Sequence

import numpy as np

from .. import codes
from ..diagnostics import DataError, Diagnostic, Pos, did_you_mean, sorted_diagnostics
from ..files import CELLS, DATA, Limit, open_input
from .arrow import arrow_codes, arrow_floats
from .panel import ENTITY_COLUMNS, LIFETIME_COLUMNS
from .values import MISSING_WORDS

MAX_REPORTED = 20
_MAX_KEPT = 5000            # diagnostics kept before counting only (a file of bad rows is huge)
DATA_SUFFIXES = (".csv", ".parquet")


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
            self.items.append(Diagnostic(message, file=file, pos=pos, code=codes.DATA, hint=hint))

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
                                    f"(fix these first)", file=where, code=codes.DATA))
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
        # one word per distinct number, in the order of first appearance (the order in which
        # the data names entities, when there is no entities table)
        distinct, first, inverse = np.unique(self.numbers, return_index=True,
                                             return_inverse=True)
        order = np.argsort(first, kind="stable")
        rank = np.empty(len(order), np.int64)
        rank[order] = np.arange(len(order))
        words = ["" if v != v else (str(int(v)) if float(v).is_integer() else repr(float(v)))
                 for v in distinct[order].tolist()]
        return _Column(self.name, self.col, codes=rank[inverse.reshape(-1)], uniques=words)

    def first_rows(self) -> np.ndarray:
        """For each distinct value of a string column, the first row holding it (-1 if none)."""
        firsts = np.full(len(self.uniques), -1, dtype=np.int64)
        valid = np.flatnonzero(self.codes >= 0)
        if valid.size:
            u, idx = np.unique(self.codes[valid], return_index=True)
            firsts[u] = valid[idx]
        return firsts


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
        entity_table = _entity_header(self.path, header)
        return [_ColumnBuilder(name, j + 1, entity_table or low[j] in _TEXT_COLUMNS
                               or j + 1 in self.text_columns or name in self.text_names,
                               self.rows)
                for j, name in enumerate(header)]


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


def _missing_columns(t: _Table, names: Sequence[str], errors: _Errors) -> None:
    """Report columns the table lacks, at the header column nearest in name."""
    hint = separator_hint(t.header)
    for name in names:
        close = difflib.get_close_matches(name, [h.lower() for h in t.header], n=1,
                                          cutoff=0.6)
        col = [h.lower() for h in t.header].index(close[0]) + 1 if close else 1
        errors.add(f"missing column '{name}'{did_you_mean(name, t.header)}", t.file,
                   t.header_line, col, hint=hint)
        hint = None                     # once is enough


def _line_type(last: int):
    """Line numbers as int32 while they fit (half the memory of a long table's rows)."""
    return np.int32 if last < 2 ** 31 - 1 else np.int64


def _cell(col: _Column, r: int) -> str:
    k = col.codes[r]
    return "" if k < 0 else (col.uniques[k] or "").strip()


def _is_entity_table(t: _Table) -> bool:
    return _entity_header(t.path, t.header)


def _entity_header(path: Path, header: Sequence[str]) -> bool:
    """A table is the entities table if its file is `entities.*`, or it has an `entity` column,
    entity attributes and no `period` column."""
    low = {h.lower() for h in header}
    if path.stem.lower() == "entities":
        return True
    return "entity" in low and "period" not in low and \
        bool(low & set(ENTITY_COLUMNS[1:] + LIFETIME_COLUMNS))
