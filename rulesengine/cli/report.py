"""`regime report`: one self-contained HTML file to share: summary counts with a chart, a
sortable, filterable table of organisations, each expandable to its explanation, and with
--against, the comparison with another policy."""

from __future__ import annotations

import click

from ..diagnostics import RegimeError
from .common import (check_targets, command_inputs, data_options, fail_cleanly, load_panel,
                     load_policy, parse_params, policy_option, policy_path_option,
                     select_periods, with_options, write)
from .outputs import label_style_for, period_labels_option


@click.command("report")
@policy_option
@click.option("--against", "against_ref", default=None,
              help="Another policy (id, file or POLICY@REVISION) to compare with.")
@with_options(data_options)
@click.option("--period", default=None, help="The period to report (default: the latest inside "
              "the policy's effective dates).")
@period_labels_option
@click.option("--out", type=click.Path(dir_okay=False), required=True,
              help="The HTML file to write, e.g. report.html.")
@policy_path_option
@fail_cleanly
def command(policy_ref, against_ref, data, entities, decisions, engine, param, period,
            period_labels, out, policy_path) -> None:
    """Write an HTML report of a policy's outcomes (and, with --against, how another policy
    would change them) that opens in any browser without a network."""
    from ..pipeline.run import evaluate_all
    from ..report.comparison import relabel as relabel_comparison
    from ..report.evaluation import relabel
    from ..report.html import build_report

    if not out.lower().endswith((".html", ".htm")):
        raise RegimeError(f"--out {out}: the report is HTML; give a file name ending in .html")
    check_targets(out, inputs=command_inputs(None, policy_ref, against_ref, data, entities,
                                             decisions))
    if period is not None and period.strip().lower() == "all":
        raise RegimeError("report looks at one period: give --period P, or leave it out for "
                          "the latest")
    policy, revision = load_policy(policy_ref, policy_path)
    inputs = command_inputs(policy, data, entities, decisions)
    check_targets(out, inputs=inputs)
    panel = load_panel(policy, data, entities)
    params = parse_params(policy, param)
    done = evaluate_all(policy, panel, decisions=decisions, engine=engine, params=params,
                        revision=revision)
    layout, outcomes = done.layout, done.outcomes
    from ..policy.effective import check_periods, default_period

    t = default_period(outcomes) if period is None else select_periods(outcomes, period)[0]
    warning = check_periods(outcomes, [t], policy.policy.id)
    if warning:
        click.echo(f"warning: {warning}", err=True)
    comparison = None
    if against_ref is not None:
        from ..analysis.diff import diff

        other, other_revision = load_policy(against_ref, policy_path)
        comparison = diff(policy, other, panel, decisions=decisions, engine=engine,
                          period=outcomes.period_labels[t], revision_a=revision,
                          revision_b=other_revision)
    style = label_style_for(period_labels, panel, policy,
                            *([other] if against_ref is not None else []))
    if comparison is not None:
        comparison = relabel_comparison(comparison, style)
    outcomes = relabel(outcomes, style)
    write(build_report(policy, outcomes, layout, t, comparison=comparison), out, inputs)
