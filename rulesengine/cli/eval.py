"""`regime eval`: each organisation's level, the rules that fired, and a summary per level."""

from __future__ import annotations

import click

from .common import (check_targets, command_inputs, data_options, evaluate, fail_cleanly,
                     out_option, policy_option, policy_path_option, select_periods,
                     with_options)
from .outputs import excel_safe_option, format_option


@click.command("eval")
@policy_option
@with_options(data_options)
@click.option("--period", default=None, help="A period (2024-Q4, 2024-12, 2024/25), 'latest' "
              "(the default) or 'all'.")
@format_option
@out_option
@excel_safe_option
@click.option("--chart", type=click.Path(dir_okay=False),
              help="Also draw entities per level (.png or .svg): over the periods, or by peer "
                   "group for one period.")
@policy_path_option
@click.option("--watch", is_flag=True, help="Evaluate again whenever the policy or the data "
              "change, showing errors or which organisations moved (Ctrl-C stops).")
@fail_cleanly
def command(policy_ref, data, entities, decisions, engine, param, period, fmt, out, excel_safe,
            chart, policy_path, watch) -> None:
    """Evaluate a policy: each organisation's level, the rules that fired, and why."""
    from ..report.emit import check_destination, write_eval
    from ..report.formats import choose_format
    from .common import load_policy

    if watch:
        from .watch import watch_eval

        return watch_eval(policy_ref, policy_path, data, entities, decisions, engine, param,
                          period)

    check_targets(out, chart, command_inputs(None, policy_ref, data, entities, decisions))
    fmt = choose_format(fmt, out)
    check_destination(fmt, out)
    policy, revision = load_policy(policy_ref, policy_path)
    inputs = command_inputs(policy, data, entities, decisions)
    check_targets(out, chart, inputs)
    outcomes = evaluate(policy, data, entities, decisions, engine, param, revision=revision)
    periods = select_periods(outcomes, period)
    write_eval(outcomes, periods, fmt=fmt, out=out, policy_title=policy.policy.title,
               excel_safe=excel_safe, inputs=inputs)
    if chart:
        from ..report.charts import level_counts_chart

        level_counts_chart(outcomes, chart, periods=periods,
                           peer_group=policy.policy.peer_group or "type")
        click.echo(f"wrote {chart}", err=True)
