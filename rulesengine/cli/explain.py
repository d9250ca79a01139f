"""`regime explain`: why an organisation landed where it did."""

from __future__ import annotations

import json

import click

from ..diagnostics import RegimeError
from .common import (check_targets, command_inputs, data_options, fail_cleanly, load_panel,
                     load_policy, out_option, parse_params, policy_option, policy_path_option,
                     select_periods, with_options, write)
from .outputs import label_style_for, period_labels_option


@click.command("explain")
@policy_option
@click.option("--entity", required=True, help="The organisation's code, e.g. RX1.")
@with_options(data_options)
@click.option("--period", default=None, help="The period to explain (default: the latest inside "
              "the policy's effective dates).")
@period_labels_option
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown"]),
              default="text", show_default=True)
@out_option
@click.option("--strict-dates", is_flag=True,
              help="Refuse periods outside the policy's effective dates instead of warning.")
@policy_path_option
@fail_cleanly
def command(policy_ref, entity, data, entities, decisions, engine, param, period,
            period_labels, fmt, out, strict_dates, policy_path) -> None:
    """Why an organisation landed where it did: deciding rules, every rule's conditions with
    their values and peer context, what would flip each rule, missing data, decisions."""
    from ..analysis.explain import explain, render_markdown, render_text
    from ..pipeline.run import evaluate_all
    from ..report.evaluation import relabel

    check_targets(out, inputs=command_inputs(None, policy_ref, data, entities, decisions))
    policy, revision = load_policy(policy_ref, policy_path)
    inputs = command_inputs(policy, data, entities, decisions)
    check_targets(out, inputs=inputs)
    params = parse_params(policy, param)
    panel = load_panel(policy, data, entities)
    done = evaluate_all(policy, panel, decisions=decisions, engine=engine, params=params,
                        revision=revision)
    layout, outcomes = done.layout, done.outcomes
    if period is not None and period.strip().lower() == "all":
        raise RegimeError("explain looks at one period: give --period P, or leave it out for "
                          "the latest")
    from ..policy.effective import check_periods, default_period

    t = default_period(outcomes) if period is None else select_periods(outcomes, period)[0]
    warning = check_periods(outcomes, [t], policy.policy.id, strict=strict_dates)
    if warning:
        click.echo(f"warning: {warning}", err=True)
    outcomes = relabel(outcomes, label_style_for(period_labels, panel, policy))
    result = explain(policy, outcomes, layout, entity, t)
    if fmt == "json":
        write(json.dumps(result.to_json(), indent=2), out, inputs)
    elif fmt == "markdown":
        write(render_markdown(result), out, inputs)
    else:
        write(render_text(result), out, inputs)
