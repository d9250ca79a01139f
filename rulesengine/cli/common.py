"""What every `regime` command shares: the error handler, the options that several commands
take, and the steps from a command line's words to a loaded policy, a panel and outcomes.

User errors (RegimeError) are printed as diagnostics with exit status 1, never as tracebacks.
The command line knows nothing of numba or YAML: it calls the stages' public functions.
"""

from __future__ import annotations

import json
import os
import sys
from functools import wraps
from pathlib import Path
from typing import Sequence

import click

from ..diagnostics import RegimeError, data_warnings_to


def fail_cleanly(func):
    """Run a command; a RegimeError becomes its diagnostics (on stdout as JSON when the command
    was asked for `--format json`, else on stderr) and exit status 1."""

    @wraps(func)
    def wrapper(*args, **kwargs):
        try:
            with data_warnings_to(lambda text: click.echo(text, err=True)):
                return func(*args, **kwargs)
        except RegimeError as e:
            if kwargs.get("fmt") == "json":
                click.echo(json.dumps({"ok": False, "diagnostics":
                                       [d.to_json() for d in e.diagnostics]}, indent=2))
            else:
                click.echo(e.render(), err=True)
            sys.exit(1)

    return wrapper


def with_options(options):
    """Apply a list of click options to a command, in the order listed."""

    def decorate(f):
        for option in reversed(options):
            f = option(f)
        return f
    return decorate


policy_path_option = click.option(
    "--policy-path", "policy_path", multiple=True, type=click.Path(exists=True, file_okay=False),
    help="A folder of policy files to search before $REGIME_POLICY_PATH and the bundled ones "
         "(repeatable).")

policy_option = click.option(
    "--policy", "policy_ref", required=True,
    help="A policy id (oversight2021), a file, or either @ a git revision.")

engine_option = click.option(
    "--engine", type=click.Choice(["auto", "vectorised", "fused", "reference", "numba"]),
    default="auto", show_default=True,
    help="vectorised: NumPy over whole arrays, nothing compiled; fused: one compiled kernel for "
         "the policy (numba is its old name); reference: the period-by-period oracle; auto: "
         "fused when the data is large enough to repay compiling it, else vectorised.")

out_option = click.option("--out", type=click.Path(dir_okay=False),
                          help="Write to a file instead of stdout.")

data_options = [
    click.option("--data", "data", type=click.Path(exists=True),
                 help="Panel data: a CSV/Parquet file or a folder of them (default: the bundled "
                      "sample)."),
    click.option("--entities", type=click.Path(exists=True, dir_okay=False),
                 help="Entities table (entity,name,kind,type,parent,region)."),
    click.option("--decisions", type=click.Path(exists=True, dir_okay=False),
                 help="Judgement decisions (entity,period,level,decided_by,reason)."),
    engine_option,
    click.option("--param", "param", multiple=True, metavar="NAME=VALUE",
                 help="Override a policy parameter (repeatable)."),
]


# --- from words to objects ----------------------------------------------------------------------

def load_policy(ref: str, policy_path: tuple[str, ...]):
    """(checked policy, revision) from an id, a path, or `id@revision` / `path@revision`."""
    from ..pipeline.revisions import load_ref

    return load_ref(ref, policy_path=policy_path)


def select_periods(outcomes, period: str | None) -> list[int]:
    """The period indices `--period` names (engine.outcomes.select_periods; imported when
    used, so commands that evaluate nothing do not load NumPy)."""
    from ..engine.outcomes import select_periods as select

    return select(outcomes, period)


def parse_params(policy, values: tuple[str, ...]) -> dict[str, float]:
    from ..engine.params import parse_overrides

    return parse_overrides(policy, values)


def load_panel(policy, data, entities):
    """The panel named on the command line, or None for the bundled sample."""
    if data is not None:
        from ..data.loaders import load_panel as load

        return load(data, entities=entities, policy=policy)
    if entities is not None:
        raise RegimeError("--entities needs --data (the bundled sample has its own entities)")
    return None


def evaluate(policy, data, entities, decisions, engine, param, revision=None):
    from ..pipeline.run import evaluate as run

    return run(policy, load_panel(policy, data, entities), decisions=decisions, engine=engine,
               params=parse_params(policy, param), revision=revision)


# --- output files -------------------------------------------------------------------------------

def command_inputs(policy=None, *paths: str | None) -> list[str]:
    """The files a command reads (the policy's files, its data, entities, decisions), which
    its outputs must never replace."""
    from ..files import input_files

    return input_files([*(policy.policy.files if policy is not None else ()), *paths])


def check_targets(out: str | None = None, chart: str | None = None,
                  inputs: Sequence[str] = ()) -> None:
    """Refuse an output file before any work is done, so a long evaluation is not lost to a
    typo in --out or --chart; an output never replaces one of the command's `inputs`
    (re-running a command over its own earlier output is normal, and replaces it)."""
    from ..files import check_output

    for option, path in (("--out", out), ("--chart", chart)):
        if path is not None and path.strip():
            check_output(path, inputs=inputs, option=option)
    for option, path in (("--out", out), ("--chart", chart)):
        if path is None:
            continue
        if not path.strip():
            raise RegimeError(f"{option}: give a file name")
        p = Path(path)
        if option == "--chart" and p.suffix.lower() not in (".png", ".svg"):
            raise RegimeError(f"--chart {path}: a chart file must end in .png or .svg")
        folder = p.parent
        try:
            if not folder.is_dir():
                raise RegimeError(f"{option} {path}: there is no folder '{folder}'")
            if not os.access(folder, os.W_OK) or (p.exists() and not os.access(p, os.W_OK)):
                raise RegimeError(f"{option} {path}: cannot write there (permission denied)")
        except OSError as e:
            raise RegimeError(f"{option} {path}: cannot write there ({e.strerror})") from None


def write(text: str, out: str | None, inputs: Sequence[str] = ()) -> None:
    """Text to `--out` (atomically, never over one of `inputs`; reported on stderr) or to
    stdout."""
    if out:
        from ..report.output import write as write_file

        write_file(out, text, inputs=inputs)
        click.echo(f"wrote {out}", err=True)
    else:
        click.echo(text, nl=not text.endswith("\n"))
