"""`regime check`: load, validate, parse and type-check policies."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from ..diagnostics import Diagnostic, RegimeError
from .common import load_policy, policy_path_option


def _targets(refs: tuple[str, ...], policy_path: tuple[str, ...]) -> list[str | Path]:
    from ..policy.load import POLICY_SUFFIXES, list_policies, search_path

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


@click.command("check")
@click.argument("policies", nargs=-1)
@policy_path_option
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
def command(policies: tuple[str, ...], policy_path: tuple[str, ...], fmt: str,
            strict: bool) -> None:
    """Check policies (ids, files or folders; all known policies by default).

    Exit status 0 when clean (warnings are shown), 1 on errors.
    """
    from ..check.checker import check
    from ..policy.load import display_name, read_policy, search_path

    dirs = search_path(policy_path)
    results = []
    diagnostics: list[Diagnostic] = []
    n_errors = n_warnings = 0
    for target in _targets(policies, policy_path):
        name = display_name(target) if isinstance(target, Path) else target
        try:
            if isinstance(target, str) and "@" in target:
                checked = load_policy(target, policy_path)[0]    # a policy at a revision
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
