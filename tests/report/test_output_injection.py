"""Output injection: text from policy and data files (ids, labels, names, types, version,
title, reasons, decisions) never changes an output's structure, never runs, and reads back as
written, in every format eval and diff write: table (plain and rich), Markdown, CSV, JSON,
Parquet, xlsx and charts."""

from __future__ import annotations

import csv
import io
import json
import re
import sys
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

sys.path.insert(0, str(Path(__file__).parent))
import hostile  # noqa: E402

from rulesengine.cli import cli  # noqa: E402
from rulesengine.report import escape  # noqa: E402
from rulesengine.report.table import print_table  # noqa: E402

N_ROWS = 2 * len(hostile.ENTITIES)      # two quarters, every entity


@pytest.fixture(scope="module")
def case(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile")
    paths = hostile.write_case(folder)
    b = folder / "hostile_b.yaml"
    b.write_text(hostile.policy_text(version=hostile.MATH).replace("value: 50", "value: 100"),
                 encoding="utf-8")
    paths["policy_b"] = str(b)
    return paths


def run_eval(case, *args: str):
    result = CliRunner().invoke(cli, ["eval", "--policy", case["policy"], "--data",
                                      case["data"], "--decisions", case["decisions"],
                                      "--engine", "reference", "--period", "all", *args])
    assert result.exit_code == 0, result.output
    return result


def run_diff(case, *args: str):
    result = CliRunner().invoke(cli, ["diff", case["policy"], case["policy_b"], "--data",
                                      case["data"], "--decisions", case["decisions"],
                                      "--period", "2024-Q3", "--engine", "reference", *args])
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture(scope="module")
def reference_rows(case):
    """The rows as JSON gives them: the reference every other format must read back."""
    return json.loads(run_eval(case, "--format", "json").stdout)["rows"]


def _as_text(v) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, list):
        return " ".join(v)
    return str(v)


def test_json_keeps_every_hostile_text(case, reference_rows):
    assert len(reference_rows) == N_ROWS
    assert {r["name"] for r in reference_rows} == {n for _, n, _ in hostile.ENTITIES}
    labels = {r["label"] for r in reference_rows}
    assert {hostile.RICH_TAG, hostile.FORMULA, hostile.UNDERSCORE} <= labels
    decided = {r["decided_by"] for r in reference_rows if r["decided"]}
    assert decided == {hostile.FORMULA, hostile.RICH_TAG}
    doc = json.loads(run_eval(case, "--format", "json").stdout)
    assert doc["provenance"]["policy"]["version"] == hostile.NEWLINE_ROW


def test_csv_is_rfc4180_and_reads_back_as_written(case, reference_rows, tmp_path):
    out = tmp_path / "out.csv"
    run_eval(case, "--out", str(out))
    raw = out.read_bytes().decode("utf-8")
    rows = list(csv.reader(io.StringIO(raw, newline="")))
    assert rows[0][:3] == ["period", "entity", "name"]      # no provenance line before it
    assert len(rows) == 1 + N_ROWS                          # no row smuggled in
    by_col = [dict(zip(rows[0], r)) for r in rows[1:]]
    for got, want in zip(by_col, reference_rows):
        for col in ("entity", "name", "type", "label", "decided_by", "decision_reason"):
            assert got[col] == _as_text(want[col]), col
    frame = pd.read_csv(out, keep_default_na=False)
    assert len(frame) == N_ROWS and list(frame["name"]) == [r["name"] for r in reference_rows]
    prov = json.loads((tmp_path / "out.csv.provenance.json").read_text(encoding="utf-8"))
    assert prov["policy"]["version"] == hostile.NEWLINE_ROW


def test_csv_excel_safe_neutralises_formulas_only_when_asked(case, tmp_path):
    plain, safe = tmp_path / "plain.csv", tmp_path / "safe.csv"
    run_eval(case, "--out", str(plain))
    run_eval(case, "--out", str(safe), "--excel-safe")
    names = lambda p: list(pd.read_csv(p, keep_default_na=False)["name"])  # noqa: E731
    assert hostile.FORMULA in names(plain) and hostile.AT_FORMULA in names(plain)
    got = names(safe)
    assert "'" + hostile.FORMULA in got and "'" + hostile.AT_FORMULA in got
    assert "'" + hostile.PLUS_FORMULA in got
    assert not any(escape.formula_like(n) for n in got)
    assert hostile.RICH_TAG in got          # other text unchanged


def test_parquet_and_xlsx_hold_the_csv_rows(case, tmp_path):
    run_eval(case, "--out", str(tmp_path / "o.csv"))
    run_eval(case, "--out", str(tmp_path / "o.parquet"))
    run_eval(case, "--out", str(tmp_path / "o.xlsx"))
    with open(tmp_path / "o.csv", newline="", encoding="utf-8") as f:
        csv_rows = list(csv.reader(f))
    table = pq.read_table(tmp_path / "o.parquet")
    assert table.column_names == csv_rows[0]
    assert [[_as_text(v) for v in r.values()] for r in table.to_pylist()] == csv_rows[1:]
    meta = json.loads(table.schema.metadata[b"regime.provenance"])
    assert meta["policy"]["version"] == hostile.NEWLINE_ROW
    wb = load_workbook(tmp_path / "o.xlsx")
    ws = wb["eval"]
    cells = [[c for c in row] for row in ws.iter_rows()]
    assert all(c.data_type != "f" for row in cells for c in row)    # nothing runs
    got = [[_as_text(c.value) for c in row] for row in cells]
    # xlsx cannot hold control characters: they are shown as \xNN, as on a terminal
    want = [[escape.xlsx_cell(v) for v in r] for r in csv_rows]
    assert got == want
    prov = dict(((k.value, v.value) for k, v in wb["provenance"].iter_rows(min_row=2)))
    assert prov["policy.version"] == hostile.NEWLINE_ROW


def test_markdown_rows_stay_rows(case):
    text = run_eval(case, "--format", "markdown").stdout
    table = [line for line in text.splitlines() if line.startswith("|")]
    assert len(table) == 2 + N_ROWS
    unescaped_pipes = [len(re.findall(r"(?<!\\)\|", line)) for line in table]
    assert set(unescaped_pipes) == {7}      # six columns in every row
    # no tag, link or math can start: each such character is backslash-escaped
    for special in "<[$*`":
        assert not re.search(r"(?<!\\)" + re.escape(special), text), special
    assert text.startswith("# ")


def test_plain_table_shows_text_literally(case):
    text = run_eval(case).stdout
    assert "\x1b" not in text and "\x07" not in text and "\r" not in text
    assert "\u202e" not in text
    assert hostile.RICH_TAG in text and hostile.RICH_CLOSE in text
    assert "bell\\x07 esc\\x1b[2J" in text
    body = [line for line in text.splitlines() if re.match(r"2024-Q\d  T", line)]
    assert len(body) == N_ROWS


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_rich_table_shows_markup_literally():
    sink = _Terminal()
    print_table(["name", "level"], [[hostile.RICH_CLOSE, hostile.RICH_TAG],
                                    [hostile.CONTROL, ":smile: [bold]x[/bold]"]],
                title=hostile.RICH_CLOSE + " [red]", file=sink)
    text = sink.getvalue()
    assert hostile.RICH_TAG in text and "Two [/]" in text and "[red]" in text
    assert "[bold]x[/bold]" in text and ":smile:" in text
    assert "\x07" not in text and "\u202e" not in text


@pytest.mark.parametrize("suffix", [".svg", ".png"])
def test_charts_draw_hostile_text(case, tmp_path, suffix):
    for period in ("all", "2024-Q4"):
        chart = tmp_path / f"eval-{period}{suffix}"
        result = CliRunner().invoke(cli, [
            "eval", "--policy", case["policy"], "--data", case["data"], "--engine",
            "reference", "--period", period, "--chart", str(chart), "--format", "json"])
        assert result.exit_code == 0, result.output
        assert chart.stat().st_size > 1000
    diff_chart = tmp_path / f"diff{suffix}"
    run_diff(case, "--chart", str(diff_chart), "--format", "json")
    assert diff_chart.stat().st_size > 1000
    if suffix == ".svg":
        svg = (tmp_path / "eval-2024-Q4.svg").read_text(encoding="utf-8")
        assert "St Mary [closed]" in svg and "hostile v1 T9,2099-Q9,EVIL,x" in svg


def test_diff_every_format_keeps_structure(case, tmp_path):
    doc = json.loads(run_diff(case, "--format", "json").stdout)
    assert doc["a"]["version"] == hostile.NEWLINE_ROW and doc["b"]["version"] == hostile.MATH
    moves = doc["moves"]
    assert moves, "raising the cut should move organisations"
    run_diff(case, "--out", str(tmp_path / "d.csv"))
    frame = pd.read_csv(tmp_path / "d.csv", keep_default_na=False)
    assert list(frame["name"]) == [m["name"] for m in moves]
    assert list(frame["B label"]) == [m["after"]["label"] for m in moves]
    run_diff(case, "--out", str(tmp_path / "d.parquet"))
    assert pq.read_table(tmp_path / "d.parquet").column("name").to_pylist() == \
        [m["name"] for m in moves]
    run_diff(case, "--out", str(tmp_path / "d.xlsx"))
    wb = load_workbook(tmp_path / "d.xlsx")
    assert all(c.data_type != "f" for ws in wb for row in ws.iter_rows() for c in row)
    assert {"moves", "transitions", "changes", "provenance"} == set(wb.sheetnames)
    md = run_diff(case, "--format", "markdown").stdout
    assert not re.search(r"(?<!\\)<", md)
    moved_rows = [line for line in md.splitlines() if line.startswith("| T")]
    assert len(moved_rows) == len(moves) >= 3
    text = run_diff(case).stdout
    assert "\x1b" not in text and "\x07" not in text


def test_escape_functions_per_format():
    assert escape.markdown("a|b\nc") == "a\\|b c"
    assert escape.mathtext("$\\frac{$") == "\\$\\frac{\\$"
    assert escape.mathtext("_x").lstrip("\u200b") == "_x"
    assert escape.html("<a href='x'>&") == "&lt;a href=&#x27;x&#x27;&gt;&amp;"
    assert escape.terminal("a\x1b[2Jb\r\nc") == "a\\x1b[2Jb c"
    assert escape.csv_cell("-5", excel_safe=True) == "-5"      # a number, not a formula
    assert escape.csv_cell("=1+1", excel_safe=True) == "'=1+1"
    assert escape.csv_cell("=1+1") == "=1+1"
