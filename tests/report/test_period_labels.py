"""Periods as NHS people write them: financial-year quarters (2025/26 Q3) in outputs when
asked for (--period-labels nhs); the same quarters either way."""

from __future__ import annotations

import json
from pathlib import Path

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


# --- automatic: NHS labels where the data or the policy uses them ----------------------------

BANDS = Path(__file__).parents[1] / "analysis" / "data" / "explain_bands.yaml"


def _write_data(path: Path, quarters: tuple[str, str]) -> Path:
    lines = ["entity,period,raw_score,deficit_gbp"]
    for e in range(1, 6):
        for q in quarters:
            lines.append(f"T{e},{q},{e}.{e},{e * 100000}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _run(*args) -> str:
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


def test_data_written_in_financial_year_quarters_comes_out_so(tmp_path):
    """The analyst's case: NHS England's file says 2025/26 Q3, so does every output, unless
    calendar labels are asked for."""
    data = str(_write_data(tmp_path / "fy.csv", ("2025/26 Q2", "2025/26 Q3")))
    rows = _run("eval", "--policy", str(BANDS), "--data", data, "--format", "csv").splitlines()
    assert rows[1].startswith("2025/26 Q3,T1,")
    calendar = _run("eval", "--policy", str(BANDS), "--data", data, "--format", "csv",
                    "--period-labels", "calendar").splitlines()
    assert calendar[1].startswith("2025-Q4,T1,")            # the same quarter
    assert _run("explain", "--policy", str(BANDS), "--data", data, "--entity", "T3") \
        .splitlines()[0] == "T3  (trust), 2025/26 Q3"
    report = tmp_path / "report.html"
    _run("report", "--policy", str(BANDS), "--data", data, "--out", str(report))
    page = report.read_text(encoding="utf-8")
    assert "2025/26 Q3" in page and "2025-Q4" not in page


def test_a_policy_on_financial_year_quarters_writes_them(tmp_path):
    """`period: fy_quarter`: a quarterly policy whose outputs write NHS labels, on data in
    calendar quarters too; its checks and evaluation are those of `period: quarter`."""
    policy = tmp_path / "fy_policy.yaml"
    policy.write_text(BANDS.read_text(encoding="utf-8").replace("period: quarter",
                                                                "period: fy_quarter"),
                      encoding="utf-8")
    data = str(_write_data(tmp_path / "calendar.csv", ("2025-Q3", "2025-Q4")))
    fy = _run("eval", "--policy", str(policy), "--data", data, "--format", "csv").splitlines()
    plain = _run("eval", "--policy", str(BANDS), "--data", data, "--format", "csv").splitlines()
    assert fy[1].startswith("2025/26 Q3,T1,") and plain[1].startswith("2025-Q4,T1,")
    # the same outcomes, labelled differently
    assert [r.split(",", 1)[1] for r in fy[1:]] == [r.split(",", 1)[1] for r in plain[1:]]
    moved = json.loads(_run("diff", str(BANDS), str(policy), "--data", data, "--format", "json"))
    assert moved["period"] == "2025/26 Q3"
