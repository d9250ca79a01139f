"""Options for commands that write a table in a chosen format (eval, diff)."""

from __future__ import annotations

import click

from ..report.formats import FORMATS

format_option = click.option(
    "--format", "fmt", type=click.Choice(FORMATS), default=None,
    help="table, csv, json, markdown, parquet or xlsx (default: from --out's suffix, else a "
         "table).")

excel_safe_option = click.option(
    "--excel-safe", is_flag=True,
    help="CSV: prefix text that a spreadsheet would run as a formula (= + - @) with ' so it "
         "shows as text (off by default: the data are written as they are).")



period_labels_option = click.option(
    "--period-labels", "period_labels", type=click.Choice(["auto", "calendar", "nhs"]),
    default="auto", show_default=True,
    help="How quarters are written in the output: calendar (2025-Q4) or nhs, as financial-year "
         "quarters (2025/26 Q3, the same quarter); auto: nhs when the policy says period: "
         "fy_quarter or the data's periods are written so, else calendar. --period takes "
         "either form.")


def label_style_for(asked: str, panel, *policies) -> str:
    """--period-labels resolved for the policies (`period: fy_quarter` in any) and the data
    they read (a panel's period_style; None, the bundled sample, is in calendar quarters)."""
    from ..periods import label_style

    nhs = any(p.policy.period_labels == "nhs" for p in policies)
    return label_style(asked, policy_labels="nhs" if nhs else None,
                       data_style=getattr(panel, "period_style", None))
