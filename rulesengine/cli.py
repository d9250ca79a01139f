"""The `regime` command line: thin click commands over the library.

User errors (RegimeError) are printed as diagnostics with exit status 1, never as
tracebacks. The CLI knows nothing of numba or YAML: it calls the stages' public functions.
"""

from __future__ import annotations

import json
import os
import sys
from functools import wraps
from pathlib import Path

import click

from .diagnostics import Diagnostic, PolicyError, RegimeError

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
    "--policy-path", "policy_path", multiple=True, type=click.Path(file_okay=False),
    help="A folder of policy files to search before $REGIME_POLICY_PATH and the bundled ones "
         "(repeatable).")


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
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


def main() -> None:
    """Entry point of the `regime` console script."""
    cli(prog_name="regime")


if __name__ == "__main__":
    main()
