"""`regime diff`: two policies on the same data: what changed and who moved."""

from __future__ import annotations

import click

from .common import (check_targets, command_inputs, engine_option, fail_cleanly, load_panel,
                     load_policy, out_option, policy_path_option)
from .outputs import excel_safe_option, format_option, label_style_for, period_labels_option


@click.command("diff")
@click.argument("policy_a")
@click.argument("policy_b")
@click.option("--data", "data", type=click.Path(exists=True),
              help="Panel data (default: the bundled sample).")
@click.option("--entities", type=click.Path(exists=True, dir_okay=False))
@click.option("--decisions", type=click.Path(exists=True, dir_okay=False))
@engine_option
@click.option("--period", default=None, help="The period to compare (default: the latest).")
@period_labels_option
@format_option
@out_option
@excel_safe_option
@click.option("--chart", type=click.Path(dir_okay=False),
              help="Also draw the transition matrix as a heatmap (.png or .svg).")
@policy_path_option
@fail_cleanly
def command(policy_a, policy_b, data, entities, decisions, engine, period, period_labels, fmt,
            out, excel_safe, chart, policy_path) -> None:
    """Compare two policies (ids, files, or POLICY@REVISION) on the same data: the policy
    changes, the from -> to transitions, who moved and which change moved them."""
    from ..analysis import diff as d
    from ..report.comparison import policy_name, relabel
    from ..report.emit import check_destination, write_diff
    from ..report.formats import choose_format
    from ..report.progress import progress

    check_targets(out, chart, command_inputs(None, policy_a, policy_b, data, entities,
                                             decisions))
    a, rev_a = load_policy(policy_a, policy_path)
    b, rev_b = load_policy(policy_b, policy_path)
    inputs = command_inputs(a, *b.policy.files, data, entities, decisions)
    check_targets(out, chart, inputs)
    # after the inputs are known: replacing an input is the first thing to refuse
    fmt = choose_format(fmt, out)
    check_destination(fmt, out)
    panel = load_panel(b, data, entities)
    with progress(f"diff {policy_a} -> {policy_b}", total=2) as task:
        result = d.diff(a, b, panel, decisions=decisions, engine=engine, period=period,
                        revision_a=rev_a, revision_b=rev_b, on_progress=task.update)
    from ..policy.effective import diff_warning

    warning = diff_warning(a.policy, b.policy, result.period)
    if warning:
        # consecutive frameworks (oversight2021 -> oversight2022) never share dates: the
        # comparison is the point, so it is marked, never refused
        click.echo(f"warning: {warning}", err=True)
    result = relabel(result, label_style_for(period_labels, panel, a, b))
    write_diff(result, fmt=fmt, out=out, excel_safe=excel_safe, inputs=inputs)
    if chart:
        from ..report.charts import transition_chart

        transition_chart(result.transitions, result.levels_a, result.levels_b, chart,
                         xlabel=f"B: {result.b['id']}", ylabel=f"A: {result.a['id']}",
                         title=f"{policy_name(result.a)} -> {policy_name(result.b)}, {result.period}",
                         same=result.same_level())
        click.echo(f"wrote {chart}", err=True)
