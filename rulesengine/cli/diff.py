"""`regime diff`: two policies on the same data: what changed and who moved."""

from __future__ import annotations

import json

import click

from .common import (check_targets, engine_option, fail_cleanly, load_panel, load_policy,
                     out_option, policy_path_option, write, writing)


@click.command("diff")
@click.argument("policy_a")
@click.argument("policy_b")
@click.option("--data", "data", type=click.Path(exists=True),
              help="Panel data (default: the bundled sample).")
@click.option("--entities", type=click.Path(exists=True, dir_okay=False))
@click.option("--decisions", type=click.Path(exists=True, dir_okay=False))
@engine_option
@click.option("--period", default=None, help="The period to compare (default: the latest).")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json", "markdown"]),
              default="table", show_default=True)
@out_option
@click.option("--chart", type=click.Path(dir_okay=False),
              help="Also draw the transition matrix as a heatmap (.png or .svg).")
@policy_path_option
@fail_cleanly
def command(policy_a, policy_b, data, entities, decisions, engine, period, fmt, out, chart,
            policy_path) -> None:
    """Compare two policies (ids, files, or POLICY@REVISION) on the same data: the policy
    changes, the from -> to transitions, who moved and which change moved them."""
    from ..analysis import diff as d
    from ..report.tabular import to_csv

    check_targets(out, chart)
    a, rev_a = load_policy(policy_a, policy_path)
    b, rev_b = load_policy(policy_b, policy_path)
    panel = load_panel(b, data, entities)
    result = d.diff(a, b, panel, decisions=decisions, engine=engine, period=period,
                    revision_a=rev_a, revision_b=rev_b)
    if fmt == "json":
        write(json.dumps(result.to_json(), indent=2), out)
    elif fmt == "csv":
        headers, rows = d.moves_table(result)
        comments = [f"A {d._name(result.a)} sha256:{result.a['hash'][:12]}",
                    f"B {d._name(result.b)} sha256:{result.b['hash'][:12]}",
                    f"period {result.period}"]
        write(to_csv(headers, rows, comments), out)
    elif fmt == "markdown":
        write(d.render_markdown(result), out)
    else:
        write(d.render_text(result), out)
    if chart:
        import numpy as np

        from ..report.charts import transition_chart

        with writing("--chart", chart):
            transition_chart(np.array(result.transitions), result.levels_a, result.levels_b,
                             chart, xlabel=f"B: {result.b['id']}", ylabel=f"A: {result.a['id']}",
                             title=f"{d._name(result.a)} -> {d._name(result.b)}, "
                                   f"{result.period}")
        click.echo(f"wrote {chart}", err=True)
