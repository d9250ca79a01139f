"""Terminal tables (rich), and the plain fallback used when output is not a terminal."""

from __future__ import annotations

import sys
from typing import Sequence

import click


def print_table(headers: Sequence[str], rows: Sequence[Sequence[object]], *,
                title: str | None = None, file=None) -> None:
    """Print rows as an aligned table: a rich table on a terminal, plain columns otherwise."""
    out = file or sys.stdout
    if out.isatty():
        from rich.console import Console
        from rich.table import Table

        table = Table(title=title, header_style="bold")
        for h in headers:
            table.add_column(h)
        for row in rows:
            table.add_row(*("" if v is None else str(v) for v in row))
        Console(file=out).print(table)
        return
    cells = [[str(h) for h in headers]] + [["" if v is None else str(v) for v in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    if title:
        click.echo(title, file=out)
    for k, r in enumerate(cells):
        click.echo("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip(), file=out)
        if k == 0:
            click.echo("  ".join("-" * w for w in widths), file=out)
