"""`regime eval --watch` and `regime test --watch`: the commands' runs, repeated on change
(the loop itself is rulesengine.authoring.watch)."""

from __future__ import annotations

from pathlib import Path

import click

from ..diagnostics import RegimeError
from .common import evaluate, load_policy, select_periods


def watch_eval(policy_ref, policy_path, data, entities, decisions, engine, param, period,
               stop_event=None) -> None:
    """Evaluate, then after each change show the errors or which entities moved."""
    from ..authoring.watch import attempt, levels_by_entity, watch, what_moved
    from ..policy.load import find_policy, looks_like_path, search_path
    from ..report.evaluation import summary

    named = [Path(x) for x in (data, entities, decisions) if x]
    if "@" not in policy_ref:
        try:
            named.append(find_policy(policy_ref, search_path(policy_path)))
        except RegimeError:     # reported by the first run, with the usual message
            if looks_like_path(policy_ref):
                named.append(Path(policy_ref))

    def run_once():
        checked, revision = load_policy(policy_ref, policy_path)
        outcomes = evaluate(checked, data, entities, decisions, engine, param,
                            revision=revision)
        periods = select_periods(outcomes, period)
        files = [Path(f) for f in checked.policy.files] + named
        return (outcomes, periods), files

    def show(previous, current) -> None:
        outcomes, periods = current
        if previous is not None:
            before = levels_by_entity(*previous)
            for line in what_moved(before, levels_by_entity(outcomes, periods)):
                click.echo(line)
        for t in periods[-4:]:
            click.echo(summary(outcomes, t))

    watch(lambda: attempt(run_once, named), show, stop_event=stop_event)


def watch_tests(policies, policy_path, kernel: bool, gaps: str, stop_event=None) -> None:
    """Run the policy test cases, then again after each change, saying which cases changed."""
    from ..analysis.testing import render_text, run_tests
    from ..authoring.watch import attempt, case_changes, watch

    named = [Path(p) for p in policies if Path(p).exists()]

    def run_once():
        results, problems = run_tests(policies, policy_path=policy_path, kernel=kernel)
        files = {Path(r.file) for r in results} | {Path(c.file) for r in results
                                                    for c in r.cases}
        files |= {Path(d.file) for d in problems if d.file and Path(d.file).exists()}
        return (results, problems), sorted(files | set(named))

    def show(previous, current) -> None:
        results, problems = current
        if previous is not None:
            for line in case_changes(previous[0], results):
                click.echo(line)
        click.echo(render_text(results, problems, [], gaps))

    watch(lambda: attempt(run_once, named), show, stop_event=stop_event)
