"""The `regime` command line: thin click commands over the library.

User errors (RegimeError) are printed as diagnostics with exit status 1, never as
tracebacks. The CLI knows nothing of numba or YAML: it calls the stages' public functions.
"""

from __future__ import annotations

import json
import os
import sys
from contextlib import contextmanager
from functools import wraps
from pathlib import Path

import click

from .diagnostics import Diagnostic, RegimeError

FORMATS = ("table", "csv", "json")


def _fail_cleanly(func):
    """Run a command; a RegimeError becomes its diagnostics on stderr and exit status 1."""

    @wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except RegimeError as e:
            fmt = kwargs.get("fmt")
            if fmt == "json":
                click.echo(json.dumps({"ok": False, "diagnostics":
                                       [d.to_json() for d in e.diagnostics]}, indent=2))
            else:
                click.echo(e.render(), err=True)
            sys.exit(1)

    return wrapper


policy_path_option = click.option(
    "--policy-path", "policy_path", multiple=True, type=click.Path(exists=True, file_okay=False),
    help="A folder of policy files to search before $REGIME_POLICY_PATH and the bundled ones "
         "(repeatable).")


class _LazyGroup(click.Group):
    """Commands defined in other modules, imported only when run (or listed in --help), so
    `regime eval` does not pay for the test runner's or the data tools' imports."""

    lazy = {"test": ("rulesengine.analysis.testing", "test_cmd"),
            "data": ("rulesengine.data.commands", "data")}

    def list_commands(self, ctx):
        return sorted(set(super().list_commands(ctx)) | set(self.lazy))

    def get_command(self, ctx, name):
        if name in self.lazy and name not in self.commands:
            import importlib

            module, attr = self.lazy[name]
            self.add_command(getattr(importlib.import_module(module), attr), name)
        return super().get_command(ctx, name)


@click.group(cls=_LazyGroup,
             context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="regime", prog_name="regime")
def cli() -> None:
    """regime: NHS intervention regimes as policy files, evaluated over organisations' metrics."""


# --- list ---------------------------------------------------------------------------------------

@cli.command("list")
@policy_path_option
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True)
@_fail_cleanly
def list_cmd(policy_path: tuple[str, ...], fmt: str) -> None:
    """List the policies found in the search path."""
    from .policy.load import display_name, list_policies, search_path

    infos = list_policies(search_path(policy_path))
    if fmt == "json":
        click.echo(json.dumps([{"id": i.id, "title": i.title, "version": i.version,
                                "path": str(i.path)} for i in infos], indent=2))
        return
    from .report.table import print_table

    print_table(["policy", "version", "title", "file"],
                [[i.id, i.version, i.title, display_name(i.path)] for i in infos])


# --- check --------------------------------------------------------------------------------------

def _check_targets(refs: tuple[str, ...], policy_path: tuple[str, ...]) -> list[str | Path]:
    from .policy.load import POLICY_SUFFIXES, list_policies, search_path

    if not refs:
        return [i.path for i in list_policies(search_path(policy_path))]
    targets: list[str | Path] = []
    for ref in refs:
        p = Path(ref)
        if p.is_dir():
            targets += sorted(f for f in p.iterdir() if f.suffix in POLICY_SUFFIXES)
        elif p.is_file():
            targets.append(p)
        else:
            targets.append(ref)
    return targets


@cli.command("check")
@click.argument("policies", nargs=-1)
@policy_path_option
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
def check_cmd(policies: tuple[str, ...], policy_path: tuple[str, ...], fmt: str,
              strict: bool) -> None:
    """Check policies (ids, files or folders; all known policies by default).

    Exit status 0 when clean (warnings are shown), 1 on errors.
    """
    from .lang.checker import check
    from .policy.load import display_name, read_policy, search_path

    dirs = search_path(policy_path)
    results = []
    diagnostics: list[Diagnostic] = []
    n_errors = n_warnings = 0
    for target in _check_targets(policies, policy_path):
        name = display_name(target) if isinstance(target, Path) else target
        try:
            if isinstance(target, str) and "@" in target:
                checked = _load_policy(target, policy_path)[0]    # a policy at a revision
            else:
                checked = check(read_policy(target, dirs=dirs))
            found = list(checked.diagnostics)
        except RegimeError as e:
            found = e.diagnostics
        errors = sum(d.severity == "error" for d in found)
        warnings = len(found) - errors
        n_errors += errors
        n_warnings += warnings
        diagnostics += found
        results.append({"policy": name, "ok": errors == 0, "errors": errors,
                        "warnings": warnings})
    failed = n_errors > 0 or (strict and n_warnings > 0)
    if fmt == "json":
        click.echo(json.dumps({"ok": not failed, "policies": results,
                               "diagnostics": [d.to_json() for d in diagnostics]}, indent=2))
    else:
        for d in diagnostics:
            click.echo(d.render(), err=d.severity == "error")
        click.echo(f"checked {len(results)} polic{'y' if len(results) == 1 else 'ies'}: "
                   f"{n_errors} error{'s' * (n_errors != 1)}, "
                   f"{n_warnings} warning{'s' * (n_warnings != 1)}")
    sys.exit(1 if failed else 0)


# --- eval ---------------------------------------------------------------------------------------

def _load_policy(ref: str, policy_path: tuple[str, ...]):
    """(checked policy, revision) from an id, a path, or `id@revision` / `path@revision`."""
    from .policy.revisions import load_ref

    return load_ref(ref, policy_path=policy_path)


def _periods(outcomes, period: str | None) -> list[int]:
    if period is not None:
        period = period.strip()
        period = period.lower() if period.lower() in ("latest", "all") else period
    if period is None or period == "latest":
        return [outcomes.n_periods - 1]
    if period == "all":
        return list(range(outcomes.n_periods))
    from .periods import PeriodError, format_period, parse_period

    try:
        ordinal = parse_period(period, outcomes.period_kind).ordinal
    except PeriodError as e:
        raise RegimeError(f"--period: {e}") from None
    labels = list(outcomes.period_labels)
    label = format_period(outcomes.period_kind, ordinal)
    if label not in labels:
        raise RegimeError(f"--period {period}: the data covers {labels[0]} to {labels[-1]}")
    return [labels.index(label)]


def _params(policy, values: tuple[str, ...]) -> dict[str, float]:
    from .engine.params import parse_overrides

    return parse_overrides(policy, values)


def _targets(out: str | None = None, chart: str | None = None) -> None:
    """Refuse an output file before any work is done, so a long evaluation is not lost to a
    typo in --out or --chart."""
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


@contextmanager
def _writing(option: str, path: str):
    """Turn a failed write (disk full, a folder removed meanwhile) into a clean error."""
    try:
        yield
    except OSError as e:
        raise RegimeError(f"{option} {path}: cannot write: {e.strerror or e}") from None


def _write(text: str, out: str | None) -> None:
    if out:
        with _writing("--out", out):
            Path(out).write_text(text, encoding="utf-8")
        click.echo(f"wrote {out}", err=True)
    else:
        click.echo(text, nl=not text.endswith("\n"))


data_options = [
    click.option("--data", "data", type=click.Path(exists=True),
                 help="Panel data: a CSV/Parquet file or a folder of them (default: the bundled "
                      "sample)."),
    click.option("--entities", type=click.Path(exists=True, dir_okay=False),
                 help="Entities table (entity,name,kind,type,parent,region)."),
    click.option("--decisions", type=click.Path(exists=True, dir_okay=False),
                 help="Judgement decisions (entity,period,level,decided_by,reason)."),
    click.option("--engine", type=click.Choice(["numba", "reference"]), default="numba",
                 show_default=True, help="Compiled kernel or the NumPy reference evaluator."),
    click.option("--param", "param", multiple=True, metavar="NAME=VALUE",
                 help="Override a policy parameter (repeatable)."),
]


def _with(options):
    def decorate(f):
        for option in reversed(options):
            f = option(f)
        return f
    return decorate


def _panel(policy, data, entities):
    """The panel named on the command line, or None for the bundled sample."""
    if data is not None:
        from .data.loaders import load_panel
        return load_panel(data, entities=entities, policy=policy)
    if entities is not None:
        raise RegimeError("--entities needs --data (the bundled sample has its own entities)")
    return None


def _evaluate(policy, data, entities, decisions, engine, param, revision=None):
    from .engine.run import evaluate

    return evaluate(policy, _panel(policy, data, entities), decisions=decisions, engine=engine,
                    params=_params(policy, param), revision=revision)


@cli.command("eval")
@click.option("--policy", "policy_ref", required=True,
              help="A policy id (oversight2021), a file, or either @ a git revision.")
@_with(data_options)
@click.option("--period", default=None, help="A period (2024-Q4, 2024-12, 2024/25), 'latest' "
              "(the default) or 'all'.")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json", "markdown"]),
              default="table", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False), help="Write to a file instead of stdout.")
@click.option("--chart", type=click.Path(dir_okay=False),
              help="Also draw entities per level over the periods (.png or .svg).")
@policy_path_option
@_fail_cleanly
def eval_cmd(policy_ref, data, entities, decisions, engine, param, period, fmt, out, chart,
             policy_path) -> None:
    """Evaluate a policy: each organisation's level, the rules that fired, and why."""
    from .report import evaluation as report

    _targets(out, chart)
    policy, revision = _load_policy(policy_ref, policy_path)
    outcomes = _evaluate(policy, data, entities, decisions, engine, param, revision=revision)
    periods = _periods(outcomes, period)
    if fmt == "json":
        _write(report.eval_json(outcomes, periods), out)
    elif fmt == "csv":
        _write(report.eval_csv(outcomes, periods), out)
    elif fmt == "markdown":
        _write(report.eval_markdown(outcomes, periods), out)
    else:
        from .report.tabular import show

        headers, rows = report.eval_table(outcomes, periods)
        title = f"{policy.policy.title} ({policy.policy.id} v{policy.policy.version})"
        if out:
            with _writing("--out", out), open(out, "w", encoding="utf-8") as f:
                show(headers, rows, title=title, file=f)
                for t in periods[-1:] if len(periods) > 4 else periods:
                    f.write(report.summary(outcomes, t) + "\n")
                f.write(outcomes.provenance.line() + "\n")
        else:
            show(headers, rows, title=title)
            for t in periods[-1:] if len(periods) > 4 else periods:
                click.echo(report.summary(outcomes, t))
            click.echo(outcomes.provenance.line())
    if chart:
        from .report.charts import level_counts_chart

        with _writing("--chart", chart):
            level_counts_chart(outcomes, chart)
        click.echo(f"wrote {chart}", err=True)


# --- explain ------------------------------------------------------------------------------------

@cli.command("explain")
@click.option("--policy", "policy_ref", required=True,
              help="A policy id, a file, or either @ a git revision.")
@click.option("--entity", required=True, help="The organisation's code, e.g. RX1.")
@_with(data_options)
@click.option("--period", default=None, help="The period to explain (default: the latest).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
@click.option("--out", type=click.Path(dir_okay=False), help="Write to a file instead of stdout.")
@policy_path_option
@_fail_cleanly
def explain_cmd(policy_ref, entity, data, entities, decisions, engine, param, period, fmt, out,
                policy_path) -> None:
    """Why an organisation landed where it did: deciding rules, every rule's conditions with
    their values and peer context, what would flip each rule, missing data, decisions."""
    from .analysis.explain import explain, render_text
    from .engine.run import assemble, prepare, run_backend

    _targets(out)
    policy, revision = _load_policy(policy_ref, policy_path)
    bound, layout, by_cell = prepare(policy, _panel(policy, data, entities),
                                     decisions=decisions, params=_params(policy, param))
    raw = run_backend(policy, layout, engine)
    outcomes = assemble(policy, bound, raw, by_cell, engine, revision)
    if period is not None and period.strip().lower() == "all":
        raise RegimeError("explain looks at one period: give --period P, or leave it out for "
                          "the latest")
    t = _periods(outcomes, period)[0]
    result = explain(policy, outcomes, layout, entity, t)
    if fmt == "json":
        _write(json.dumps(result.to_json(), indent=2), out)
    else:
        _write(render_text(result), out)


# --- diff ---------------------------------------------------------------------------------------

@cli.command("diff")
@click.argument("policy_a")
@click.argument("policy_b")
@click.option("--data", "data", type=click.Path(exists=True),
              help="Panel data (default: the bundled sample).")
@click.option("--entities", type=click.Path(exists=True, dir_okay=False))
@click.option("--decisions", type=click.Path(exists=True, dir_okay=False))
@click.option("--engine", type=click.Choice(["numba", "reference"]), default="numba",
              show_default=True)
@click.option("--period", default=None, help="The period to compare (default: the latest).")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json", "markdown"]),
              default="table", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False), help="Write to a file instead of stdout.")
@click.option("--chart", type=click.Path(dir_okay=False),
              help="Also draw the transition matrix as a heatmap (.png or .svg).")
@policy_path_option
@_fail_cleanly
def diff_cmd(policy_a, policy_b, data, entities, decisions, engine, period, fmt, out, chart,
             policy_path) -> None:
    """Compare two policies (ids, files, or POLICY@REVISION) on the same data: the policy
    changes, the from -> to transitions, who moved and which change moved them."""
    from .analysis import diff as d
    from .report.tabular import to_csv

    _targets(out, chart)
    a, rev_a = _load_policy(policy_a, policy_path)
    b, rev_b = _load_policy(policy_b, policy_path)
    panel = _panel(b, data, entities)
    result = d.diff(a, b, panel, decisions=decisions, engine=engine, period=period,
                    revision_a=rev_a, revision_b=rev_b)
    if fmt == "json":
        _write(json.dumps(result.to_json(), indent=2), out)
    elif fmt == "csv":
        headers, rows = d.moves_table(result)
        comments = [f"A {d._name(result.a)} sha256:{result.a['hash'][:12]}",
                    f"B {d._name(result.b)} sha256:{result.b['hash'][:12]}",
                    f"period {result.period}"]
        _write(to_csv(headers, rows, comments), out)
    elif fmt == "markdown":
        _write(d.render_markdown(result), out)
    else:
        _write(d.render_text(result), out)
    if chart:
        import numpy as np

        from .report.charts import transition_chart

        with _writing("--chart", chart):
            transition_chart(np.array(result.transitions), result.levels_a, result.levels_b,
                             chart, xlabel=f"B: {result.b['id']}", ylabel=f"A: {result.a['id']}",
                             title=f"{d._name(result.a)} -> {d._name(result.b)}, "
                                   f"{result.period}")
        click.echo(f"wrote {chart}", err=True)


def main() -> None:
    """Entry point of the `regime` console script."""
    cli(prog_name="regime")


if __name__ == "__main__":
    main()
