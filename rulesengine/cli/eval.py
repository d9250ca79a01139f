"""`regime eval`: each organisation's level, the rules that fired, and a summary per level."""

from __future__ import annotations

import click

from .common import (check_targets, data_options, evaluate, fail_cleanly, out_option,
                     policy_option, policy_path_option, select_periods, with_options, write,
                     writing)


@click.command("eval")
@policy_option
@with_options(data_options)
@click.option("--period", default=None, help="A period (2024-Q4, 2024-12, 2024/25), 'latest' "
              "(the default) or 'all'.")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json", "markdown"]),
              default="table", show_default=True)
@out_option
@click.option("--chart", type=click.Path(dir_okay=False),
              help="Also draw entities per level over the periods (.png or .svg).")
@policy_path_option
@click.option("--watch", is_flag=True, help="Evaluate again whenever the policy or the data "
              "change, showing errors or which organisations moved (Ctrl-C stops).")
@fail_cleanly
def command(policy_ref, data, entities, decisions, engine, param, period, fmt, out, chart,
            policy_path, watch) -> None:
    """Evaluate a policy: each organisation's level, the rules that fired, and why."""
    from ..report import evaluation as report
    from .common import load_policy

    if watch:
        from .watch import watch_eval

        return watch_eval(policy_ref, policy_path, data, entities, decisions, engine, param,
                          period)

    check_targets(out, chart)
    policy, revision = load_policy(policy_ref, policy_path)
    outcomes = evaluate(policy, data, entities, decisions, engine, param, revision=revision)
    periods = select_periods(outcomes, period)
    if fmt == "json":
        write(report.eval_json(outcomes, periods), out)
    elif fmt == "csv":
        write(report.eval_csv(outcomes, periods), out)
    elif fmt == "markdown":
        write(report.eval_markdown(outcomes, periods), out)
    else:
        from ..report.tabular import show

        headers, rows = report.eval_table(outcomes, periods)
        title = f"{policy.policy.title} ({policy.policy.id} v{policy.policy.version})"
        if out:
            with writing("--out", out), open(out, "w", encoding="utf-8") as f:
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
        from ..report.charts import level_counts_chart

        with writing("--chart", chart):
            level_counts_chart(outcomes, chart)
        click.echo(f"wrote {chart}", err=True)
