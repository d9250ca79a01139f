"""regime eval end to end: formats, periods, params, decisions, charts, engines, and clean
errors for bad input."""

from __future__ import annotations

import csv
import io
import json

import pytest
from click.testing import CliRunner

import rulesengine
from rulesengine.cli import cli


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


def test_eval_table_on_the_sample_summarises_every_level():
    result = run("eval", "--policy", "oversight2025", "--engine", "reference")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    summary = next(line for line in lines if line.startswith("2026-Q1: 220 entities"))
    for label in ("Segment 1", "Segment 2", "Segment 3", "Segment 4"):
        assert f"{label}: " in summary
    assert lines[-1].startswith("policy oversight2025 v1.0 sha256:")
    assert lines[-1].endswith("(reference)")


def test_eval_json_rows_carry_level_rules_flags_and_provenance():
    result = run("eval", "--policy", "oversight2021", "--engine", "vectorised", "--format",
                 "json")
    doc = json.loads(result.stdout)
    assert doc["provenance"]["policy"]["id"] == "oversight2021"
    assert len(doc["provenance"]["data"]["digest"]) == 64
    rows = doc["rows"]
    # with no --period, the latest period the data cover inside the policy's effective dates
    # (2021-07-01 to 2022-06-30)
    assert {r["period"] for r in rows} == {"2022-Q2"}
    assert all(r["in_effect"] for r in rows)
    assert sum(doc["summary"]["2022-Q2"].values()) == len(rows)
    kinds = {r["entity"][0] for r in rows}
    assert kinds == {"T", "C", "I"}     # trusts, CCGs and ICSs are decided on in 2021/22
    fired = [r for r in rows if r["fired"]]
    assert fired and all(r["level"] in ("segment_1", "segment_3") or r["candidate"] or
                         set(r["fired"]) & {"consistently_high_performing"} or
                         r["level"] == "segment_2" for r in fired)
    assert any(r["incomplete"] and r["unknown"] for r in rows) or \
        all(not r["incomplete"] for r in rows)


def test_eval_csv_all_periods_and_out_file(tmp_path):
    out = tmp_path / "sof.csv"
    result = run("eval", "--policy", "oversight2021", "--engine", "vectorised", "--period",
                 "all", "--format", "csv", "--out", str(out))
    assert result.exit_code == 0, result.output
    text = out.read_text()
    assert text.startswith("period,entity,name,")       # the header on line 1
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len({r["period"] for r in rows}) == 88       # the sample's 2004-Q2 to 2026-Q1
    assert {"entity", "level", "fired", "incomplete", "decided"} <= set(rows[0])
    prov = json.loads((tmp_path / "sof.csv.provenance.json").read_text())
    assert prov["policy"]["id"] == "oversight2021" and len(prov["periods"]["labels"]) == 88


def test_eval_engines_give_the_same_table():
    a = run("eval", "--policy", "turnaround2005", "--engine", "reference", "--period", "all",
            "--format", "csv")
    b = run("eval", "--policy", "turnaround2005", "--engine", "numba", "--period", "all",
            "--format", "csv")
    assert a.exit_code == 0 and b.exit_code == 0, a.output + b.output
    assert a.stdout == b.stdout
    # the provenance (which differs: the engine) is on stderr, never in the table
    # (the engine that ran: `numba` is the old name of `fused`)
    assert '"backend": "reference"' in a.stderr and '"backend": "fused"' in b.stderr


def test_eval_param_override_changes_outcomes():
    from rulesengine.policy.effective import default_period

    base = rulesengine.evaluate("turnaround2005", engine="vectorised").outcomes
    more = rulesengine.pipeline.run.evaluate(rulesengine.load_policy("turnaround2005"),
                                           engine="vectorised", params={"cohort_percentile": 40})
    t = default_period(base)            # the CLI's default: 2006/07, the last year in force
    assert more.counts(t)["not_in_turnaround"] < base.counts(t)["not_in_turnaround"]
    result = run("eval", "--policy", "turnaround2005", "--engine", "vectorised", "--param",
                 "cohort_percentile=40", "--format", "json")
    doc = json.loads(result.stdout)
    assert doc["summary"][base.period_labels[t]] == more.counts(t)


def test_eval_decisions_override_and_show_who_decided(tmp_path):
    decisions = tmp_path / "decisions.csv"
    decisions.write_text("entity,period,level,decided_by,reason\n"
                         "T005,2022-Q2,segment_4,NHS England region,RSP entry agreed\n")
    result = run("eval", "--policy", "oversight2021", "--engine", "vectorised", "--decisions",
                 str(decisions), "--format", "json")
    assert result.exit_code == 0, result.output
    row = next(r for r in json.loads(result.stdout)["rows"] if r["entity"] == "T005")
    assert row["level"] == "segment_4" and row["decided"]
    assert row["decided_by"] == "NHS England region" and row["computed"] != "segment_4"


@pytest.mark.parametrize("content, message", [
    ("entity,period,level\nT005,2025-Q1,segment_9\n",
     "decisions.csv:2:3: error: 'segment_9' in column 'level' is not a level of policy "
     "'oversight2021' (segment_1, segment_2, segment_3, segment_4); did you mean 'segment_4'?"),
    ("entity,period,level\nT9999,2025-Q1,segment_4\n",
     "decisions.csv:2:1: error: unknown entity 'T9999' in column 'entity'"),
    ("entity,period,level\nT005,2025-Q7,segment_4\n",
     "decisions.csv:2:2: error: '2025-Q7' is not a period"),
    ("entity,when,level\n", "decisions.csv:1:1: error: decisions file lacks column 'period'"),
])
def test_bad_decisions_give_located_errors(tmp_path, monkeypatch, content, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "decisions.csv").write_text(content)
    result = run("eval", "--policy", "oversight2021", "--engine", "vectorised", "--decisions",
                 "decisions.csv")
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("args, message", [
    (["--policy", "oversight2O21"], "no policy named 'oversight2O21'"),
    (["--policy", "oversight2021", "--period", "2031-Q1"], "the data covers 2004-Q2 to 2026-Q1"),
    (["--policy", "oversight2021", "--period", "spring"], "'spring' is not a period"),
    (["--policy", "oversight2021", "--param", "nonsense"], "write NAME=VALUE"),
    (["--policy", "oversight2021", "--param", "no_such=3"], "has no param 'no_such'"),
    (["--policy", "oversight2021", "--chart", "x.gif"], "must end in .png or .svg"),
])
def test_eval_bad_arguments_are_clean_errors(tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    result = run("eval", "--engine", "vectorised", *args)
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output


def test_eval_chart_is_written(tmp_path):
    chart = tmp_path / "counts.svg"
    result = run("eval", "--policy", "oversight2025", "--engine", "vectorised", "--chart",
                 str(chart))
    assert result.exit_code == 0, result.output
    svg = chart.read_text()
    # with no --period: the latest period inside the policy's effective dates
    assert svg.startswith("<?xml") and "Segment 1" in svg and "2026-Q1" in svg


def test_python_api_rows_and_frame():
    result = rulesengine.evaluate("oversight2025", engine="vectorised")
    rows = result.rows()
    assert rows and {"entity", "level", "fired"} <= set(rows[0])
    try:
        import pandas  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match="pip install pandas"):
            result.to_frame()
    else:
        assert len(result.to_frame()) == len(rows)


def test_eval_outside_the_effective_dates_warns_and_strict_dates_refuses():
    """Issue 13, done when: `regime eval --policy oversight2021 --period 2025-Q1` warns that
    the period is outside 2021-07-01 to 2022-06-30; `--strict-dates` refuses it."""
    result = run("eval", "--policy", "oversight2021", "--engine", "vectorised", "--period",
                 "2025-Q1", "--format", "csv")
    assert result.exit_code == 0, result.output
    assert "outside the dates policy 'oversight2021' was in force (2021-07-01 to 2022-06-30)" \
        in result.output
    strict = run("eval", "--policy", "oversight2021", "--engine", "vectorised", "--period",
                 "2025-Q1", "--strict-dates")
    assert strict.exit_code == 1
    assert "--strict-dates" in strict.output and "2021-07-01 to 2022-06-30" in strict.output


def test_eval_format_follows_the_out_suffix(tmp_path):
    import pandas as pd
    import pyarrow.parquet as pq

    for suffix in ("csv", "parquet", "xlsx", "json", "md"):
        result = run("eval", "--policy", "oversight2025", "--engine", "vectorised", "--out",
                     str(tmp_path / f"o.{suffix}"))
        assert result.exit_code == 0, result.output
    csv_frame = pd.read_csv(tmp_path / "o.csv")
    assert list(csv_frame.columns[:3]) == ["period", "entity", "name"]
    assert csv_frame["incomplete"].dtype == bool
    table = pq.read_table(tmp_path / "o.parquet").to_pandas()
    assert table["entity"].tolist() == csv_frame["entity"].tolist()
    assert table["incomplete"].tolist() == csv_frame["incomplete"].tolist()
    xlsx = pd.read_excel(tmp_path / "o.xlsx", sheet_name="eval")
    assert xlsx["level"].tolist() == csv_frame["level"].tolist()
    assert json.loads((tmp_path / "o.json").read_text())["rows"]
    assert (tmp_path / "o.md").read_text().startswith("# NHS Oversight Framework 2025/26")


@pytest.mark.parametrize("args, message", [
    (["--format", "csv", "--out", "x.xlsx"], "--out x.xlsx is a xlsx file name but --format is "
                                             "csv"),
    (["--out", "x.dat"], "the suffix '.dat' names no format"),
])
def test_eval_format_and_out_must_agree(tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    result = run("eval", "--policy", "oversight2025", "--engine", "vectorised", *args)
    assert result.exit_code == 1 and message in result.output
    assert not list(tmp_path.iterdir())     # refused before anything was written


@pytest.mark.parametrize("engine", ["reference", "numba"])
def test_eval_show_gives_the_values_the_rules_saw(engine):
    """Every row's shown values reproduce the rules that fired: a quartile rule fired exactly
    when raw_score sits in its band of cut points, the financial override exactly when the
    trust is in deficit and in the top half."""
    result = run("eval", "--policy", "oversight2025", "--engine", engine, "--show",
                 "inputs,defines,ranks", "--format", "json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)["rows"]
    checked = 0
    for row in rows:
        v = row["shown"]
        if v["raw_score"] is None:
            continue
        score, c1, c2, c3 = v["raw_score"], v["cut_1"], v["cut_2"], v["cut_3"]
        fired = set(row["fired"])
        assert ("delivery_quartile_1" in fired) == (score <= c1)
        assert ("delivery_quartile_2" in fired) == (c1 < score <= c2)
        assert ("delivery_quartile_4" in fired) == (score > c3)
        flags = (v["deficit_flag"], v["deficit_support_flag"])
        # missing data is unknown, not false: `or` is true if either is, unknown otherwise
        assert v["in_deficit"] == (True if True in flags else
                                   False if flags == (False, False) else None)
        assert ("financial_override" in fired) == (score <= c2 and v["in_deficit"] is True)
        assert v["percentile(raw_score, quartile_1, first=lowest)"] == c1
        checked += 1
    assert checked > 100
    assert isinstance(rows[0]["shown"]["deficit_flag"], bool)


def test_eval_show_columns_in_csv_and_a_clear_error_for_a_typo():
    import pandas as pd

    result = run("eval", "--policy", "oversight2025", "--engine", "vectorised", "--show",
                 "inputs", "--format", "csv")
    frame = pd.read_csv(io.StringIO(result.stdout))
    assert frame["ae_4hr_pct"].dtype == float and "raw_score" not in frame
    bad = run("eval", "--policy", "oversight2025", "--show", "input")
    assert bad.exit_code == 1
    assert "'input' is not one of inputs, defines, ranks, all; did you mean 'inputs'?" in \
        bad.output
