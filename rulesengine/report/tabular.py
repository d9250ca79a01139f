"""Rows of cells as CSV, Markdown or a terminal table: one renderer per format.

A `Records` table (typed cells: text, numbers, booleans, None for missing) is what the machine
formats write: CSV here, Parquet and xlsx in `formats.py`; all three hold the same rows.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from typing import Sequence

from .escape import csv_cell, markdown
from .table import print_table


@dataclass(frozen=True)
class Records:
    """A table with typed cells, and the provenance of what produced it."""

    headers: tuple[str, ...]
    rows: tuple[tuple[object, ...], ...]
    provenance: object = None           # rulesengine.provenance.Provenance
    name: str = "results"               # the sheet's name in xlsx

    def column(self, i: int) -> list:
        return [r[i] for r in self.rows]


def _cell(value: object) -> str:
    """A cell for a human reader (Markdown, terminal)."""
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return " ".join(str(v) for v in value)
    if isinstance(value, bool):
        return "yes" if value else ""
    if isinstance(value, float):
        return "" if math.isnan(value) else f"{value:g}"
    return str(value)


def _csv_value(value: object, excel_safe: bool) -> str:
    """A cell as CSV text pandas reads back as the same type: true/false, numbers as Python
    writes them, an empty cell for missing."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return "" if math.isnan(value) else repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, (list, tuple)):
        value = " ".join(str(v) for v in value)
    return csv_cell(str(value), excel_safe=excel_safe)


def to_csv(headers: Sequence[str], rows: Sequence[Sequence[object]], *,
           excel_safe: bool = False) -> str:
    """RFC 4180 CSV: the header on line 1, CRLF line ends, fields quoted where they hold a
    comma, quote or line break. With `excel_safe`, formula-like text gets a leading `'`."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow([csv_cell(str(h), excel_safe=excel_safe) for h in headers])
    for r in rows:
        writer.writerow([_csv_value(v, excel_safe) for v in r])
    return out.getvalue()


def records_csv(records: Records, *, excel_safe: bool = False) -> str:
    return to_csv(records.headers, records.rows, excel_safe=excel_safe)


def to_markdown(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A GitHub-flavoured Markdown table; every cell escaped (see escape.markdown)."""
    lines = ["| " + " | ".join(markdown(h) for h in headers) + " |",
             "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(markdown(_cell(v)) for v in r) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def show(headers: Sequence[str], rows: Sequence[Sequence[object]], *, title: str | None = None,
         file=None) -> None:
    """A terminal table (rich on a terminal, aligned text otherwise)."""
    print_table(headers, [[_cell(v) for v in r] for r in rows], title=title, file=file)
