"""`regime test`: run policy test cases through both engines, with rule and condition coverage."""

from __future__ import annotations

import sys

import click

from .common import fail_cleanly, policy_path_option


@click.command("test")
@click.argument("policies", nargs=-1)
@policy_path_option
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
@click.option("--min-coverage", type=click.FloatRange(0, 100), default=None, metavar="N",
              help="Exit 1 when a policy's rule coverage (with --conditions, its condition "
                   "coverage) is below N percent.")
@click.option("--conditions", is_flag=True,
              help="Apply --min-coverage to condition coverage instead of rule coverage.")
@click.option("--engine", type=click.Choice(["both", "reference"]), default="both",
              show_default=True,
              help="'both' runs every case through the reference evaluator and the compiled "
                   "kernel; 'reference' skips the kernel.")
@click.option("--gaps", type=click.Choice(["all", "rules", "none"]), default="all",
              show_default=True,
              help="Which coverage gaps to list: rules and conditions, rules only, or none.")
@click.option("--watch", is_flag=True, help="Run the cases again whenever a policy or test "
              "file changes, showing which cases changed status (Ctrl-C stops).")
@fail_cleanly
def command(policies: tuple[str, ...], policy_path: tuple[str, ...], fmt: str,
            min_coverage: float | None, conditions: bool, engine: str, gaps: str,
            watch: bool) -> None:
    """Run policy test cases (ids, policy files, test files or folders; all known policies
    by default) and report rule and condition coverage.

    Exit status 1 when a case fails or is malformed, or coverage is below --min-coverage.
    """
    from ..analysis.testing import coverage_shortfalls, render_json, render_text, run_tests

    if watch:
        from .watch import watch_tests

        return watch_tests(policies, policy_path, engine == "both", gaps)

    results, problems = run_tests(policies, policy_path=policy_path, kernel=engine == "both")
    shortfalls = coverage_shortfalls(results, min_coverage, conditions)
    ok = not any(d.severity == "error" for d in problems) and all(r.ok for r in results) \
        and not shortfalls
    if fmt == "json":
        click.echo(render_json(results, problems, shortfalls, ok))
    else:
        click.echo(render_text(results, problems, shortfalls, gaps))
    sys.exit(0 if ok else 1)
