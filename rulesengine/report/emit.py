"""Writing a command's result in the chosen format, to --out or stdout: the one place where
eval and diff output meets files, so every format gets the same provenance and the same
atomic write.

CSV's provenance: with --out FILE.csv it goes to FILE.csv.provenance.json beside it; with
stdout it goes to stderr as one line of JSON, so stdout stays a plain RFC 4180 table.
"""

from __future__ import annotations

import json
import sys
from typing import Iterable, Sequence

import click

from ..diagnostics import RegimeError
from . import evaluation as report
from .escape import terminal as esc
from .formats import BINARY, provenance_json, provenance_path, to_parquet, to_xlsx
from .output import write
from .tabular import records_csv, show


def check_destination(fmt: str, out: str | None) -> None:
    """Refuse, before any work, a binary format bound for a terminal."""
    if out is None and fmt in BINARY and sys.stdout.isatty():
        raise RegimeError(f"--format {fmt} writes a binary file: give --out FILE.{fmt} or "
                          f"redirect stdout")


def _emit(payload: str | bytes, out: str | None, inputs: Iterable) -> None:
    if out:
        write(out, payload, inputs=inputs)
        click.echo(f"wrote {out}", err=True)
    elif isinstance(payload, bytes):
        sys.stdout.buffer.write(payload)
        sys.stdout.buffer.flush()
    else:
        click.echo(payload, nl=not payload.endswith("\n"))


def _csv(records, provenance, out: str | None, inputs: Iterable, excel_safe: bool) -> None:
    text = records_csv(records, excel_safe=excel_safe)
    if out:
        write(out, text, inputs=inputs)
        if provenance is not None:
            side = provenance_path(out)
            write(side, provenance_json(provenance), inputs=inputs)
        click.echo(f"wrote {out}" + (f" and {side}" if provenance is not None else ""),
                   err=True)
    else:
        click.echo(text, nl=False)
        if provenance is not None:
            click.echo("provenance: " + json.dumps(provenance.to_json(), ensure_ascii=False),
                       err=True)


def write_eval(outcomes, periods: Sequence[int], *, fmt: str, out: str | None,
               policy_title: str, shown=None, excel_safe: bool = False,
               inputs: Iterable = ()) -> None:
    """`regime eval`'s result in `fmt` (table, csv, json, markdown, parquet, xlsx)."""
    inputs = tuple(inputs)
    if fmt == "json":
        _emit(report.eval_json(outcomes, periods, shown), out, inputs)
    elif fmt == "markdown":
        _emit(report.eval_markdown(outcomes, periods, policy_title=policy_title, shown=shown),
              out, inputs)
    elif fmt in ("csv", "parquet", "xlsx"):
        records = report.eval_records(outcomes, periods, shown)
        if fmt == "csv":
            _csv(records, records.provenance, out, inputs, excel_safe)
        elif fmt == "parquet":
            _emit(to_parquet(records), out, inputs)
        else:
            _emit(to_xlsx([records], records.provenance), out, inputs)
    else:
        _emit(eval_text(outcomes, periods, policy_title, shown, terminal=out is None), out,
              inputs)


def eval_text(outcomes, periods, policy_title: str, shown=None, *, terminal: bool) -> str:
    """The table, the summaries and the provenance line; on a terminal the table is drawn by
    rich straight to stdout and only the rest is returned."""
    import io

    headers, rows = report.eval_table(outcomes, periods, shown)
    title = report.title(policy_title, outcomes, periods)
    sink = io.StringIO()
    if terminal and sys.stdout.isatty():
        show(headers, rows, title=title)
    else:
        show(headers, rows, title=title, file=sink)
    for t in periods[-1:] if len(periods) > 4 else periods:
        sink.write(esc(report.summary(outcomes, t)) + "\n")
    if outcomes.provenance is not None:
        sink.write(esc(report.provenance(outcomes, periods).line()) + "\n")
    return sink.getvalue()


def write_diff(result, *, fmt: str, out: str | None, excel_safe: bool = False,
               inputs: Iterable = ()) -> None:
    """`regime diff`'s result in `fmt`."""
    # lark (through analysis.diff): only `regime diff` writes a comparison
    from . import comparison

    inputs = tuple(inputs)
    if fmt == "json":
        _emit(json.dumps(result.to_json(), indent=2, allow_nan=False) + "\n", out, inputs)
    elif fmt == "markdown":
        _emit(comparison.render_markdown(result), out, inputs)
    elif fmt == "csv":
        _csv(comparison.moves_records(result), result.provenance_pair, out, inputs, excel_safe)
    elif fmt == "parquet":
        _emit(to_parquet(comparison.moves_records(result)), out, inputs)
    elif fmt == "xlsx":
        _emit(to_xlsx(comparison.diff_sheets(result), result.provenance_pair), out, inputs)
    else:
        _emit(comparison.render_text(result), out, inputs)
