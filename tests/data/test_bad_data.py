"""Every kind of bad data gives a DataError with the exact message, file, line and column.

Lines are physical lines of the file (the header is line 1); columns are field numbers.
"""

from __future__ import annotations

import os
import string
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from rulesengine.cli.data import data as data_cli
from rulesengine.data.loaders import load_panel
from rulesengine.diagnostics import DataError

from .helpers import headlines, make_policy, write

ENTITIES = ("entity,name,kind,type,parent,region\n"
            "R1,North,region,,,North\n"
            "T001,One,trust,acute,R1,North\n"
            "T002,Two,trust,acute,R1,North\n")


def test_missing_file(tmp_path):
    path = str(tmp_path / "nope.csv")
    assert headlines(lambda: load_panel(path)) == [
        f"{path}: error: cannot read the file: No such file or directory"]


def test_missing_path_without_a_data_suffix(tmp_path):
    path = str(tmp_path / "nothing_here")
    assert headlines(lambda: load_panel(path)) == [f"{path}: error: no such file or folder"]


def test_not_utf8(tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes(b"entity,period,metric,value\nT1,2023-04,x,1\nT1,2023-05,caf\xe9,2\n")
    assert headlines(lambda: load_panel(path)) == [
        f"{path}:3:3: error: the file is not UTF-8 text: byte 0xe9 cannot be decoded "
        f"(save the file as UTF-8)"]


def test_empty_file(tmp_path):
    path = write(tmp_path, "empty.csv", "\n \n")
    assert headlines(lambda: load_panel(path)) == [f"{path}:1:1: error: the file is empty"]


def test_header_without_rows(tmp_path):
    path = write(tmp_path, "h.csv", "entity,period,x\n")
    assert headlines(lambda: load_panel(path)) == [
        f"{path}:1:1: error: the file has a header but no data rows"]


def test_missing_columns_with_did_you_mean(tmp_path):
    path = write(tmp_path, "m.csv", "entity,perod,metric,valu\nT1,2023-04,x,1\n")
    assert headlines(lambda: load_panel(path)) == [
        f"{path}:1:2: error: missing column 'period'; did you mean 'perod'?",
        f"{path}:1:4: error: missing column 'value'; did you mean 'valu'?"]


def test_wide_table_without_metrics(tmp_path):
    path = write(tmp_path, "w.csv", "entity,period\nT1,2023-04\n")
    assert headlines(lambda: load_panel(path)) == [
        f"{path}:1:2: error: the table has no metric columns: write entity,period,<metric>... "
        f"or entity,period,metric,value"]


def test_duplicate_and_unnamed_header_columns(tmp_path):
    path = write(tmp_path, "d.csv", "entity,period,x,,X\nT1,2023-04,1,2,3\n")
    assert headlines(lambda: load_panel(path)) == [
        f"{path}:1:4: error: column 4 has no name in the header",
        f"{path}:1:5: error: column 'X' appears twice in the header (first as column 3)"]


def test_duplicate_value_in_long_data(tmp_path):
    path = write(tmp_path, "dup.csv", "entity,period,metric,value\n"
                                      "T1,2023-04,x,1\nT1,2023-05,x,2\nT1,2023-04,x,3\n")
    assert headlines(lambda: load_panel(path)) == [
        f"{path}:4:1: error: duplicate value for entity 'T1', period '2023-04', metric 'x' "
        f"(first at line 2)"]


def test_duplicate_value_across_files(tmp_path):
    a = write(tmp_path, "a.csv", "entity,period,x\nT1,2023-04,1\n")
    b = write(tmp_path, "b.csv", "entity,period,metric,value\nT1,2023-05,x,1\nT1,2023-04,x,2\n")
    assert headlines(lambda: load_panel(tmp_path)) == [
        f"{b}:3:1: error: duplicate value for entity 'T1', period '2023-04', metric 'x' "
        f"(first at {a}:2)"]


def test_duplicate_row_in_wide_data(tmp_path):
    path = write(tmp_path, "dup.csv", "entity,period,x,y\nT1,2023-04,1,2\nT1,2023-04,1,2\n")
    assert headlines(lambda: load_panel(path)) == [
        f"{path}:3:1: error: duplicate row for entity 'T1', period '2023-04' (first at line 2)"]


def test_unparseable_number(tmp_path):
    path = write(tmp_path, "n.csv", "entity,period,metric,value\n"
                                    "T1,2023-04,ae_4hr_pct,71\nT1,2023-05,ae_4hr_pct,abc\n"
                                    "T1,2023-06,ae_4hr_pct,1_000\n")
    assert headlines(lambda: load_panel(path)) == [
        f"{path}:3:4: error: 'abc' in column 'value' is not a number",
        f"{path}:4:4: error: '1_000' in column 'value' is not a number"]


def test_non_boolean_flag(tmp_path):
    path = write(tmp_path, "f.csv", "entity,period,deficit_flag\nT1,2023-04,maybe\n"
                                    "T1,2023-05,2\n")
    assert headlines(lambda: load_panel(path)) == [
        f"{path}:2:3: error: 'maybe' in column 'deficit_flag' is not a flag "
        f"(write true/false, yes/no or 1/0)",
        f"{path}:3:3: error: '2' in column 'deficit_flag' is not a flag "
        f"(write true/false, yes/no or 1/0)"]


def test_unknown_rating_label_given_a_policy(tmp_path):
    policy = make_policy(tmp_path, {"cqc_overall_rating": "{type: rating, scale: cqc}"},
                         scales={"cqc": ["outstanding", "good", "requires_improvement",
                                         "inadequate"]})
    path = write(tmp_path, "r.csv", "entity,period,cqc_overall_rating\nT1,2023-04,Good\n"
                                    "T1,2023-05,Requires improvment\n"
                                    "T1,2023-06,Requires improvment\n")
    assert headlines(lambda: load_panel(path, policy=policy)) == [
        f"{path}:3:3: error: 'Requires improvment' in column 'cqc_overall_rating' is not a label "
        f"of scale 'cqc' (outstanding, good, requires_improvement, inadequate); did you mean "
        f"'requires_improvement'?"]


def test_unknown_entity_given_a_table(tmp_path):
    ents = write(tmp_path, "entities.csv", ENTITIES)
    data = write(tmp_path, "d.csv", "entity,period,x\nT001,2023-04,1\nT0002,2023-04,1\n"
                                    "T0002,2023-05,1\n")
    assert headlines(lambda: load_panel(data, entities=ents)) == [
        f"{data}:3:1: error: unknown entity 'T0002' in column 'entity' (not in {ents}); "
        f"did you mean 'T002'?"]


def test_bad_periods(tmp_path):
    path = write(tmp_path, "p.csv", "entity,period,x\nT1,2023-13,1\nT1,2023/25,1\n"
                                    "T1,last year,1\nT1,,1\n")
    assert headlines(lambda: load_panel(path)) == [
        f"{path}:2:2: error: bad period in column 'period': '2023-13' has no month 13",
        f"{path}:3:2: error: bad period in column 'period': '2023/25' is not a financial year: "
        f"2023 is followed by 2024",
        f"{path}:4:2: error: bad period in column 'period': 'last year' is not a period "
        f"(write 2019-03, 2021-Q3, 2021/22 Q3 or 2005/06)",
        f"{path}:5:2: error: empty period in column 'period'"]


def test_mixed_period_kinds(tmp_path):
    path = write(tmp_path, "k.csv", "entity,period,x\nT1,2023-04,1\nT1,2023-Q3,1\n"
                                    "T1,2023/24,1\n")
    assert headlines(lambda: load_panel(path)) == [
        f"{path}:3:2: error: period '2023-Q3' in column 'period' is a quarter, but the data's "
        f"periods are months (the first, '2023-04', is at {path}:2)",
        f"{path}:4:2: error: period '2023/24' in column 'period' is a financial year, but the "
        f"data's periods are months (the first, '2023-04', is at {path}:2)"]


def test_period_kind_asked_for(tmp_path):
    path = write(tmp_path, "k.csv", "entity,period,x\nT1,2023-04,1\n")
    assert headlines(lambda: load_panel(path, period_kind="quarter")) == [
        f"{path}:2:2: error: period '2023-04' in column 'period' is a month, but quarters "
        f"were asked for"]


def test_percent_out_of_range_given_a_policy(tmp_path):
    policy = make_policy(tmp_path, {"ae_4hr_pct": "{type: percent, better: higher}",
                                    "ytd_surplus_deficit_pct": "{type: percent, better: higher}"})
    path = write(tmp_path, "pc.csv", "entity,period,ae_4hr_pct,ytd_surplus_deficit_pct\n"
                                     "T1,2023-04,101.5,-3.5\nT1,2023-05,-1,-4\n")
    # A deficit margin may be negative (the catalogue marks it signed); a 4-hour share may not.
    assert headlines(lambda: load_panel(path, policy=policy)) == [
        f"{path}:2:3: error: '101.5' in column 'ae_4hr_pct' is not between 0 and 100 "
        f"(input 'ae_4hr_pct' is a percent)",
        f"{path}:3:3: error: '-1' in column 'ae_4hr_pct' is not between 0 and 100 "
        f"(input 'ae_4hr_pct' is a percent)"]
    # Without a policy the same file loads: the range belongs to the policy's input type.
    assert load_panel(path).values["ae_4hr_pct"][0, 0] == 101.5


def test_wrong_number_of_fields(tmp_path):
    path = write(tmp_path, "w.csv", "entity,period,metric,value\nT1,2023-04,x\n"
                                    "T1,2023-05,x,1,extra\nT1,2023-06,x,2\n")
    assert headlines(lambda: load_panel(path)) == [
        f"{path}:2:4: error: the row has 3 fields, but the header has 4",
        f"{path}:3:5: error: the row has 5 fields, but the header has 4"]


def test_duplicate_entity_in_table(tmp_path):
    ents = write(tmp_path, "entities.csv", ENTITIES + "T001,Again,trust,acute,R1,North\n")
    write(tmp_path, "d.csv", "entity,period,x\nT001,2023-04,1\n")
    assert headlines(lambda: load_panel(tmp_path)) == [
        f"{ents}:5:1: error: entity 'T001' appears twice in the entities table (first at line 3)"]


def test_parent_not_an_entity(tmp_path):
    ents = write(tmp_path, "entities.csv", "entity,kind,parent\nICS01,ics,\nT1,trust,ICS1\n")
    write(tmp_path, "d.csv", "entity,period,x\nT1,2023-04,1\n")
    assert headlines(lambda: load_panel(tmp_path)) == [
        f"{ents}:3:3: error: parent 'ICS1' in column 'parent' is not an entity of the table; "
        f"did you mean 'ICS01'?"]


def test_cycle_in_parents(tmp_path):
    ents = write(tmp_path, "entities.csv", "entity,kind,parent\nT0,trust,\nA,ics,B\n"
                                           "B,region,C\nC,region,A\nD,trust,D\n")
    write(tmp_path, "d.csv", "entity,period,x\nT0,2023-04,1\n")
    assert headlines(lambda: load_panel(tmp_path)) == [
        f"{ents}:3:3: error: the parent hierarchy has a cycle: A -> B -> C -> A",
        f"{ents}:6:3: error: the parent hierarchy has a cycle: D -> D"]


def test_unknown_file_format(tmp_path):
    path = write(tmp_path, "data.xlsx", "not really")
    assert headlines(lambda: load_panel(path)) == [
        f"{path}: error: unknown file format '.xlsx': write CSV (.csv) or Parquet (.parquet)"]


def test_folder_without_data(tmp_path):
    write(tmp_path, "README.md", "nothing")
    assert headlines(lambda: load_panel(tmp_path)) == [
        f"{tmp_path}: error: the folder has no data files (.csv or .parquet)"]


def test_bad_parquet(tmp_path):
    path = tmp_path / "broken.parquet"
    path.write_bytes(b"PAR1 this is not parquet at all")
    (diag,) = headlines(lambda: load_panel(path))
    assert diag.startswith(f"{path}: error: cannot read the file as Parquet: ")


def test_policy_input_missing_from_data(tmp_path):
    policy = make_policy(tmp_path, {"ae_4hr_pct": "{type: percent, better: higher}",
                                    "rtt_18wk_pct": "{type: percent, better: higher}"})
    path = write(tmp_path, "d.csv", "entity,period,ae_4h_pct,rtt_18wk_pct\nT1,2023-04,70,60\n")
    origin = policy.policy.inputs["ae_4hr_pct"].origin.file
    assert headlines(lambda: load_panel(path, policy=policy)) == [
        f"{origin}:9:3: error: input 'ae_4hr_pct' is not in the data ({path}); "
        f"did you mean 'ae_4h_pct'?"]


def test_empty_entity_id(tmp_path):
    path = write(tmp_path, "e.csv", "entity,period,x\n,2023-04,1\nT1,2023-04,2\n")
    assert headlines(lambda: load_panel(path)) == [
        f"{path}:2:1: error: empty entity id in column 'entity'"]


def test_numbers_where_a_rating_belongs(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "r.parquet"
    pq.write_table(pa.table({"entity": ["T1"], "period": ["2023-04"],
                             "cqc_overall_rating": [2.0]}), path)
    assert headlines(lambda: load_panel(path)) == [
        f"{path}:2:3: error: column 'cqc_overall_rating' holds numbers, but "
        f"'cqc_overall_rating' is a rating: write its labels (e.g. 'good')"]


def test_two_entity_tables_in_a_folder(tmp_path):
    write(tmp_path, "entities.csv", ENTITIES)
    second = write(tmp_path, "orgs.csv", "entity,name,kind\nT001,One,trust\n")
    write(tmp_path, "d.csv", "entity,period,x\nT001,2023-04,1\n")
    assert headlines(lambda: load_panel(tmp_path)) == [
        f"{second}:1:1: error: a second entities table in the folder (the first is "
        f"{tmp_path / 'entities.csv'}); pass the one to use as entities"]


def test_at_most_twenty_problems_are_shown(tmp_path):
    rows = "".join(f"T1,2023-{m:02d},bad{m}\n" for m in range(1, 13)) + \
        "".join(f"T2,2023-{m:02d},worse{m}\n" for m in range(1, 13))
    path = write(tmp_path, "many.csv", "entity,period,ae_4hr_pct\n" + rows)
    lines = headlines(lambda: load_panel(path))
    assert len(lines) == 21
    assert lines[0] == f"{path}:2:3: error: 'bad1' in column 'ae_4hr_pct' is not a number"
    assert lines[19] == f"{path}:21:3: error: 'worse8' in column 'ae_4hr_pct' is not a number"
    assert lines[20] == f"{path}: error: 4 more problems not shown (fix these first)"


def test_validate_command_prints_diagnostics_without_a_traceback(tmp_path):
    path = write(tmp_path, "n.csv", "entity,period,metric,value\nT1,2023-04,x,1\n"
                                    "T1,2023-05,ae_4hr_pct,abc\n")
    result = CliRunner().invoke(data_cli, ["validate", path])
    assert result.exit_code == 1
    assert f"{path}:3:4: error: 'abc' in column 'value' is not a number" in result.output
    assert "Traceback" not in result.output


_CSV_ALPHABET = string.ascii_letters[:6] + string.digits + ",\n\r\"-/Q% .\t\x00é"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet=_CSV_ALPHABET, max_size=200))
def test_any_text_loads_or_gives_diagnostics(tmp_path_factory, text):
    # Whatever the bytes, the loader answers with a Panel or a DataError: never a traceback.
    folder = tmp_path_factory.mktemp("fuzz")
    path = folder / "f.csv"
    path.write_text("entity,period,metric,value\n" + text, encoding="utf-8")
    try:
        load_panel(path)
    except DataError as e:
        assert e.diagnostics and all(d.message for d in e.diagnostics)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=120))
@example(b"e,p\na\rb\x80")        # once: csv.Error while locating the undecodable byte
def test_any_bytes_load_or_give_diagnostics(tmp_path_factory, blob):
    folder = tmp_path_factory.mktemp("fuzzb")
    for name in ("f.csv", "f.parquet"):
        (folder / name).write_bytes(blob)
        try:
            load_panel(folder / name)
        except DataError as e:
            assert e.diagnostics


def test_rating_text_without_a_label(tmp_path):
    path = write(tmp_path, "g.csv", "entity,period,cqc_safe_rating\nT1,2023-04,good\n"
                                    "T1,2023-05,???\n")
    assert headlines(lambda: load_panel(path)) == [
        f"{path}:3:3: error: '???' in column 'cqc_safe_rating' is not a rating label"]


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet=_CSV_ALPHABET + "T", max_size=160))
def test_any_entities_table_loads_or_gives_diagnostics(tmp_path_factory, text):
    folder = tmp_path_factory.mktemp("fuzze")
    (folder / "entities.csv").write_text("entity,kind,parent\n" + text, encoding="utf-8")
    (folder / "d.csv").write_text("entity,period,x\nT,2023-04,1\n", encoding="utf-8")
    try:
        load_panel(folder)
    except DataError as e:
        assert e.diagnostics


# --- bad input found in review -----------------------------------------------------------------

def test_folder_that_can_be_listed_but_not_entered(tmp_path, monkeypatch):
    # chmod 644 on a folder: its names can be listed, but looking at an entry raises
    # PermissionError (root ignores permissions, so the error is simulated).
    folder = tmp_path / "locked"
    folder.mkdir()
    write(folder, "a.csv", "entity,period,x\nT1,2023-04,1\n")
    real_is_file = Path.is_file

    def is_file(self):
        if self.parent == folder:
            raise PermissionError(13, "Permission denied", str(self))
        return real_is_file(self)

    monkeypatch.setattr(Path, "is_file", is_file)
    assert headlines(lambda: load_panel(folder)) == [
        f"{folder}: error: cannot read the folder: Permission denied"]


def test_path_below_a_folder_that_cannot_be_entered(tmp_path, monkeypatch):
    path = tmp_path / "locked" / "a.csv"

    def is_dir(self):
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "is_dir", is_dir)
    assert headlines(lambda: load_panel(path)) == [
        f"{path}: error: cannot read the file or folder: Permission denied"]


def test_periods_with_a_mistyped_year(tmp_path):
    # A year out of the NHS's lifetime would make the panel span thousands of years.
    path = write(tmp_path, "y.csv", "entity,period,x\nT1,2022-04,1\nT2,9999-04,2\n"
                                    "T3,0022-04,3\nT4,2101-01,4\n")
    assert headlines(lambda: load_panel(path)) == [
        f"{path}:3:2: error: bad period in column 'period': '9999-04' is outside the years "
        f"1948 to 2100: is the year mistyped?",
        f"{path}:4:2: error: bad period in column 'period': '0022-04' is outside the years "
        f"1948 to 2100: is the year mistyped?",
        f"{path}:5:2: error: bad period in column 'period': '2101-01' is outside the years "
        f"1948 to 2100: is the year mistyped?"]
    fy = write(tmp_path, "fy.csv", "entity,period,x\nT1,1947/48,1\nT1,1948/49,2\n")
    assert headlines(lambda: load_panel(fy)) == [
        f"{fy}:2:2: error: bad period in column 'period': '1947/48' is outside the years "
        f"1948 to 2100: is the year mistyped?"]
    ok = load_panel(write(tmp_path, "ok.csv", "entity,period,x\nT1,1948-07,1\nT1,2100-12,2\n"))
    assert ok.n_periods == (2100 - 1948) * 12 + 6


def test_impossible_dates_are_not_periods(tmp_path):
    path = write(tmp_path, "d.csv", "entity,period,x\nT1,2021-02-30,1\nT2,2021-04-31,2\n"
                                    "T3,0000-01-01,3\nT4,2020-02-29,4\n")
    assert headlines(lambda: load_panel(path)) == [
        f"{path}:2:2: error: bad period in column 'period': '2021-02-30' is not a date: "
        f"February 2021 has no day 30",
        f"{path}:3:2: error: bad period in column 'period': '2021-04-31' is not a date: "
        f"April 2021 has no day 31",
        f"{path}:4:2: error: bad period in column 'period': '0000-01-01' is not a date: "
        f"there is no year 0"]


def test_parquet_null_metric_name(tmp_path):
    path = tmp_path / "long.parquet"
    pq.write_table(pa.table({"entity": ["T1", "T1"], "period": ["2023-Q1", "2023-Q1"],
                             "metric": [None, "x"], "value": ["70", "1"]}), path)
    assert headlines(lambda: load_panel(path)) == [
        f"{path}:2:3: error: empty metric name in column 'metric'"]


def test_parquet_column_named_twice(tmp_path):
    path = tmp_path / "dup.parquet"
    table = pa.Table.from_arrays([pa.array(["T1"]), pa.array(["2023-Q1"]), pa.array([70.0]),
                                  pa.array([71.0])], names=["entity", "period", "x", "x"])
    pq.write_table(table, path)
    assert headlines(lambda: load_panel(path)) == [
        f"{path}:1:4: error: column 'x' appears twice in the header (first as column 3)"]


def test_parquet_booleans_dates_and_durations_are_not_numbers(tmp_path):
    policy = make_policy(tmp_path, {"ae_4hr_pct": "{type: percent, better: higher}",
                                    "rtt_52wk_count": "{type: count, better: lower}",
                                    "deficit_flag": "{type: flag}"})
    path = tmp_path / "typed.parquet"
    pq.write_table(pa.table({
        "entity": ["T1", "T2"], "period": ["2023-Q1", "2023-Q1"],
        "ae_4hr_pct": pa.array([True, False]),
        "rtt_52wk_count": pa.array([timedelta(days=1), None], pa.duration("us")),
        "deficit_flag": pa.array([date(2023, 1, 1), date(2023, 2, 1)])}), path)
    assert headlines(lambda: load_panel(path, policy=policy)) == [
        f"{path}:2:3: error: column 'ae_4hr_pct' has type bool, but 'ae_4hr_pct' is a "
        f"percent: write numbers",
        f"{path}:2:4: error: column 'rtt_52wk_count' has type duration[us], but "
        f"'rtt_52wk_count' is a count: write numbers",
        f"{path}:2:5: error: column 'deficit_flag' has type date32[day], but 'deficit_flag' is "
        f"a flag: write true/false, yes/no or 1/0"]


def test_parquet_booleans_without_a_type_are_flags(tmp_path):
    path = tmp_path / "b.parquet"
    pq.write_table(pa.table({"entity": ["T1", "T2"], "period": ["2023-Q1", "2023-Q1"],
                             "held": pa.array([True, None])}), path)
    panel = load_panel(path)
    np.testing.assert_array_equal(panel.values["held"], [[1.0, np.nan]])


def test_semicolon_separated_file_gets_a_hint(tmp_path):
    path = write(tmp_path, "s.csv", "entity;period;x\nT1;2023-04;1\n")
    with pytest.raises(DataError) as info:
        load_panel(path)
    diags = info.value.diagnostics
    assert [d.headline() for d in diags] == [
        f"{path}:1:1: error: missing column 'entity'",
        f"{path}:1:1: error: missing column 'period'"]
    assert diags[0].hint == "the file looks ';'-separated: save it with commas between fields"
    assert diags[1].hint is None


def test_utf16_file(tmp_path):
    path = tmp_path / "u.csv"
    path.write_bytes("entity,period,x\nT1,2023-04,1\n".encode("utf-16"))
    assert headlines(lambda: load_panel(path)) == [
        f"{path}:1:1: error: the file looks like UTF-16 text: save it as UTF-8"]
    path.write_bytes("entity,period,x\nT1,2023-04,1\n".encode("utf-16-le"))
    assert headlines(lambda: load_panel(path)) == [
        f"{path}:1:1: error: the file looks like UTF-16 text: save it as UTF-8"]


def test_a_row_of_one_field(tmp_path):
    path = write(tmp_path, "r.csv", "entity,period,x\nT1\nT1,2023-04,1,2\n")
    assert headlines(lambda: load_panel(path)) == [
        f"{path}:2:2: error: the row has 1 field, but the header has 3",
        f"{path}:3:4: error: the row has 4 fields, but the header has 3"]


def test_a_pipe_is_not_read(tmp_path):
    # Reading a named pipe would block for ever.
    path = tmp_path / "fifo.csv"
    os.mkfifo(path)
    assert headlines(lambda: load_panel(path)) == [
        f"{path}: error: cannot read the file: it is a pipe, not a regular file"]
