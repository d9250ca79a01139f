"""Periods as NHS people write them: financial-year quarters (2025/26 Q3) in outputs when
asked for (--period-labels nhs); the same quarters either way."""

from __future__ import annotations

import json

from click.testing import CliRunner

from rulesengine.cli import cli
from rulesengine.periods import format_fy_quarter, format_label, parse_period, written_style


def test_fy_quarter_labels_round_trip():
    for ordinal in range(2000 * 4, 2030 * 4):
        label = format_fy_quarter(ordinal)
        assert parse_period(label).ordinal == ordinal
        assert written_style(label) == "nhs"
    assert format_fy_quarter(parse_period("2025-Q4").ordinal) == "2025/26 Q3"
    assert format_fy_quarter(parse_period("2026-Q1").ordinal) == "2025/26 Q4"
    assert format_label("year", 2025, "nhs") == "2025/26"
    assert format_label("month", parse_period("2025-10").ordinal, "nhs") == "2025-10"
    assert written_style("2025-Q4") == "calendar" and written_style("spring") is None


def _eval(*args):
    result = CliRunner().invoke(cli, ["eval", "--policy", "oversight2025", "--engine",
                                      "reference", "--format", "json", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_eval_writes_financial_year_quarters_when_asked():
    nhs = _eval("--period", "2024/25 Q4", "--period-labels", "nhs")
    assert set(nhs["summary"]) == {"2024/25 Q4"}
    assert {r["period"] for r in nhs["rows"]} == {"2024/25 Q4"}
    assert nhs["provenance"]["periods"]["labels"] == ["2024/25 Q4"]
    calendar = _eval("--period", "2024/25 Q4")
    assert set(calendar["summary"]) == {"2025-Q1"}
    assert nhs["summary"]["2024/25 Q4"] == calendar["summary"]["2025-Q1"]   # the same quarter
    every = _eval("--period", "all", "--period-labels", "nhs")
    assert list(every["summary"])[:2] == ["2004/05 Q1", "2004/05 Q2"]   # the sample's start
