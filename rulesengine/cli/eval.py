"""`regime eval`: each organisation's level, the rules that fired, and a summary per level."""

from __future__ import annotations

import click

from .common import (check_targets, command_inputs, data_options, fail_cleanly, load_panel,
                     out_option, parse_params, policy_option, policy_path_option,
                     select_periods, with_options)
from .outputs import excel_safe_option, format_option, label_style_for, period_labels_option


@click.command("eval")
@policy_option
@with_options(data_options)
@click.option("--period", default=None, help="A period (2024-Q4, 2024/25 Q3, 2024-12, 2024/25), "
              "'latest' (the default: the latest inside the policy's effective dates) or 'all'.")
@period_labels_option
@format_option
@out_option
@excel_safe_option
@click.option("--show", "show", default=None, metavar="inputs,defines,ranks",
              help="Add columns: the input values, define values and peer ranks the rules use "
                   "(a comma-separated list, or all).")
@click.option("--chart", type=click.Path(dir_okay=False),
              help="Also draw entities per level (.png or .svg): over the periods, or by peer "
                   "group for one period.")
@click.option("--strict-dates", is_flag=True,
              help="Refuse periods outside the policy's effective dates instead of warning.")
@policy_path_option
@click.option("--watch", is_flag=True, help="Evaluate again whenever the policy or the data "
              "change, showing errors or which organisations moved (Ctrl-C stops).")
@fail_cleanly
def command(policy_ref, data, entities, decisions, engine, param, period, period_labels, fmt,
            out, excel_safe, show, chart, strict_dates, policy_path, watch) -> None:
    """Evaluate a policy: each organisation's level, the rules that fired, and why."""
    from ..report.emit import check_destination, write_eval
    from ..report.evaluation import relabel
    from ..report.formats import choose_format
    from ..report.progress import progress
    from .common import load_policy

    if watch:
        from .watch import watch_eval

        return watch_eval(policy_ref, policy_path, data, entities, decisions, engine, param,
                          period)

    check_targets(out, chart, command_inputs(None, policy_ref, data, entities, decisions))
    kinds: tuple[str, ...] = ()
    if show:
        from ..report.shown import parse_show

        kinds = parse_show(show)
    policy, revision = load_policy(policy_ref, policy_path)
    inputs = command_inputs(policy, data, entities, decisions)
    check_targets(out, chart, inputs)
    # after the inputs are known: replacing an input is the first thing to refuse
    fmt = choose_format(fmt, out)
    check_destination(fmt, out)
    # a cold run compiles the policy's kernel (seconds): a spinner says so on a terminal
    with progress(f"evaluating {policy.policy.id} ({engine})"):
        outcomes, shown, periods, warning, panel = _evaluate(
            policy, revision, data, entities, decisions, engine, param, kinds, period,
            strict_dates)
    if warning:
        click.echo(f"warning: {warning}", err=True)
    outcomes = relabel(outcomes, label_style_for(period_labels, panel, policy))
    write_eval(outcomes, periods, fmt=fmt, out=out, policy_title=policy.policy.title,
               shown=shown, excel_safe=excel_safe, inputs=inputs)
    if chart:
        from ..report.charts import level_counts_chart

        level_counts_chart(outcomes, chart, periods=periods,
                           peer_group=policy.policy.peer_group or "type")
        click.echo(f"wrote {chart}", err=True)


def _evaluate(policy, revision, data, entities, decisions, engine, param, kinds, period,
              strict):
    """(outcomes, the --show columns or None, the periods to show, a warning about them or
    None, the panel read). Only the periods up to the last one shown are evaluated (pipeline.run.through):
    the others cannot change what is shown."""
    from ..pipeline.run import finish, period_frame, prepare

    if kinds:
        params = parse_params(policy, param)
        panel = load_panel(policy, data, entities)
    else:
        panel = load_panel(policy, data, entities)
        params = parse_params(policy, param)
    prepared = prepare(policy, panel, decisions=decisions, params=params)
    frame = period_frame(policy, prepared[0])
    periods, warning = _periods(frame, period, policy.policy.id, strict)
    # the whole range the policy was in force stays, so a warning about it reads the same
    inside = [t for t, ok in enumerate(frame.in_effect) if ok]
    done = finish(policy, prepared, engine, revision, params=params, decisions=decisions,
                  last=max(periods + inside[-1:]))
    layout, outcomes = done.layout, done.outcomes
    shown = None
    if kinds:
        # the values behind each row need the evaluation's layout, as explain does
        from ..report.shown import Shown

        shown = Shown(policy, outcomes, layout, kinds)
    return outcomes, shown, periods, warning, panel


def _periods(frame, period, policy_id, strict):
    """The periods `--period` names (with none, the latest the data cover inside the
    policy's effective dates) and a warning naming those outside them (refused with
    --strict-dates), or None."""
    from ..policy.effective import check_periods, default_period

    if period is None:
        periods = [default_period(frame)]
    else:
        periods = select_periods(frame, period)
    return periods, check_periods(frame, periods, policy_id, strict=strict)
