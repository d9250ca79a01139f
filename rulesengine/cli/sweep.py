"""`regime sweep`: a policy over many parameter variants and noisy draws of its data."""

from __future__ import annotations

import json
import sys

import click

from ..diagnostics import RegimeError
from .common import (data_options, fail_cleanly, load_panel, load_policy, parse_params,
                     policy_option, policy_path_option, with_options)


@click.command("sweep")
@policy_option
@with_options(data_options)
@click.option("--grid", "grids", multiple=True, metavar="NAME=START:STOP:STEP",
              help="Values of a param (STOP included; or NAME=a,b,c); several --grid give "
                   "their Cartesian product.")
@click.option("--sample", "n_sample", type=click.IntRange(min=1), default=None, metavar="N",
              help="Sample N variants over the --range bounds (see --method).")
@click.option("--range", "ranges", multiple=True, metavar="NAME=LO:HI",
              help="Bounds of a param for --sample (repeatable).")
@click.option("--method", type=click.Choice(["lhs", "sobol", "morris"]), default="lhs",
              show_default=True,
              help="lhs: Latin hypercube (scipy.stats.qmc); sobol: Saltelli's scheme, N x (2k+2) "
                   "variants, for Sobol indices (SALib); morris: N trajectories for Morris "
                   "screening (SALib).")
@click.option("--noise", "noises", multiple=True, metavar="METRIC=SD",
              help="Perturb an input by normal noise: SD in its own unit (=2 is 2 points for a "
                   "percent) or METRIC=5%rel relative to the value (repeatable).")
@click.option("--draws", type=click.IntRange(min=1), default=None,
              help="Noisy draws per variant (default 100 with --noise, else 1).")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True)
@click.option("--period", default=None,
              help="A period, a financial year (2021/22: its quarters), 'latest' (the default) "
                   "or 'all'.")
@click.option("--out", "out", type=click.Path(file_okay=False),
              help="A folder for the Parquet tables (variants, counts, organisations, "
                   "sensitivity, dependence), the charts and provenance.json.")
@click.option("--dask", default=None, metavar="local[:N]|tcp://HOST:PORT",
              help="Run variant batches on Dask: a local cluster of N worker processes, or an "
                   "existing scheduler.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True, help="The summary printed on stdout.")
@policy_path_option
@fail_cleanly
def command(policy_ref, data, entities, decisions, engine, param, grids, n_sample, ranges,
            method, noises, draws, seed, period, out, dask, fmt, policy_path) -> None:
    """Evaluate a policy over parameter variants (--grid, or --sample with --range) and noisy
    draws of its data (--noise): level counts per variant, each organisation's probability of
    each level and its stability, and each param's sensitivity."""
    from ..analysis import sweep as sw

    if grids and (n_sample or ranges):
        raise RegimeError("give either --grid or --sample with --range, not both")
    if ranges and not n_sample:
        raise RegimeError("--range needs --sample N")
    if not (grids or n_sample or noises):
        raise RegimeError("nothing to sweep: give --grid, --sample with --range, or --noise")
    policy, _ = load_policy(policy_ref, policy_path)
    for name in [sw.parse_grid(g)[0] for g in grids] + [sw.parse_range(r)[0] for r in ranges]:
        if name not in policy.policy.params:
            from ..diagnostics import did_you_mean

            raise RegimeError(f"policy '{policy.policy.id}' has no param '{name}'"
                              + did_you_mean(name, policy.policy.params))
    if grids:
        design = sw.grid_design([sw.parse_grid(g) for g in grids])
    elif n_sample:
        parsed = [sw.parse_range(r) for r in ranges]
        design = sw.sampled_design(parsed, n_sample, method, seed,
                                   integral=sw.integral_params(policy, [r[0] for r in parsed]))
    else:
        import numpy as np

        design = sw.Design("none", (), np.empty((0, 0)))
    noise = [sw.parse_noise(n) for n in noises]
    draws = draws or (100 if noise else 1)
    if draws > 1 and not noise:
        raise RegimeError("--draws needs --noise (without noise every draw is the same)")
    folder = _out_folder(out) if out else None
    result = sw.sweep(policy, load_panel(policy, data, entities), design=design, noise=noise,
                      draws=draws, seed=seed, period=period, decisions=decisions,
                      params=parse_params(policy, param), engine=engine, dask=dask,
                      progress=_progress(design.n_variants))
    if folder is not None:
        from ..report.sweep_output import write_sweep

        for path in write_sweep(result, folder):
            click.echo(f"wrote {path}", err=True)
    if fmt == "json":
        from ..report.sweep_output import summary_json

        click.echo(json.dumps(summary_json(result), indent=2))
    else:
        from ..report.sweep_output import print_summary

        print_summary(result)


def _out_folder(out: str):
    from pathlib import Path

    folder = Path(out)
    if not out.strip():
        raise RegimeError("--out: give a folder name")
    if folder.exists() and not folder.is_dir():
        raise RegimeError(f"--out {out}: this is a file, not a folder")
    if not folder.parent.is_dir():
        raise RegimeError(f"--out {out}: there is no folder '{folder.parent}'")
    return folder


def _progress(total: int):
    """A progress bar on a terminal for long sweeps; nothing when stderr is piped."""
    if total < 50 or not sys.stderr.isatty():
        return None
    from rich.progress import Progress

    bar = Progress(transient=True)
    task = bar.add_task("evaluating variants", total=total)
    bar.start()

    def update(done: int, n: int) -> None:
        bar.update(task, completed=done)
        if done >= n:
            bar.stop()
    return update
