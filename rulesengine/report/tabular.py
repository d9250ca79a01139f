"""Rows of cells as CSV, Markdown or a terminal table: one renderer per format."""

from __future__ import annotations

import csv
import io
from typing import Sequence

from .table import print_table


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return " ".join(str(v) for v in value)
    if isinstance(value, bool):
        return "yes" if value else ""
    return str(value)


def to_csv(headers: Sequence[str], rows: Sequence[Sequence[object]],
           comments: Sequence[str] = ()) -> str:
    """CSV text; `comments` become leading '# ' lines (provenance)."""
    out = io.StringIO()
    for c in comments:
        out.write(f"# {c}\n")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(headers)
    for r in rows:
        writer.writerow([_cell(v) for v in r])
    return out.getvalue()


def to_markdown(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    def esc(v: object) -> str:
        return _cell(v).replace("|", "\\|")

    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(esc(v) for v in r) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def show(headers: Sequence[str], rows: Sequence[Sequence[object]], *, title: str | None = None,
         file=None) -> None:
    """A terminal table (rich on a terminal, aligned text otherwise)."""
    print_table(headers, [[_cell(v) for v in r] for r in rows], title=title, file=file)
