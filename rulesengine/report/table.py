"""Terminal tables (rich), and the plain fallback used when output is not a terminal.

Cells and titles come from policy and data files, so they are shown literally: rich gets Text
objects (never markup), and both forms show control characters as `\\xNN` (see escape.py)."""

from __future__ import annotations

import sys
from typing import Sequence

import click

from .escape import rich_text, terminal


def print_table(headers: Sequence[str], rows: Sequence[Sequence[object]], *,
                title: str | None = None, file=None) -> None:
    """Print rows as an aligned table: a rich table on a terminal, plain columns otherwise."""
    out = file or sys.stdout
    if out.isatty():
        from rich.console import Console
        from rich.table import Table

        table = Table(title=rich_text(title) if title else None, header_style="bold")
        for h in headers:
            table.add_column(rich_text(h))
        for row in rows:
            table.add_row(*(rich_text("" if v is None else v) for v in row))
        Console(file=out).print(table)
        return
    cells = [[terminal(h) for h in headers]] + [[terminal("" if v is None else v) for v in r]
                                                for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    if title:
        click.echo(terminal(title), file=out)
    for k, r in enumerate(cells):
        click.echo("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip(), file=out)
        if k == 0:
            click.echo("  ".join("-" * w for w in widths), file=out)
