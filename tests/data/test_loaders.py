"""load_panel on good data in every format: long and wide CSV, Parquet, folders, entities."""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from rulesengine.data.loaders import load_panel, write_panel
from rulesengine.data.panel import Entities
from rulesengine.diagnostics import Pos
from rulesengine.periods import parse_period

from .helpers import make_policy, write

LONG = """entity,period,metric,value
T1,2023-04,ae_4hr_pct,71.5
T2,2023-04,ae_4hr_pct,65
T1,2023-06,ae_4hr_pct,NA
T2,2023-06,ae_4hr_pct,70.25
T1,2023-04,deficit_flag,yes
T2,2023-06,deficit_flag,False
T1,2023-04,cqc_overall_rating,Requires improvement
T2,2023-06,cqc_overall_rating,good
"""


def month(text: str) -> int:
    return parse_period(text).ordinal


def test_long_csv_values_periods_and_bare_entities(tmp_path):
    panel = load_panel(write(tmp_path, "long.csv", LONG))
    assert panel.period_kind == "month"
    # The run is contiguous: May has no rows but is a period of the panel, all missing.
    assert panel.period_labels == ["2023-04", "2023-05", "2023-06"]
    assert panel.entities.ids == ("T1", "T2")
    assert panel.entities.kinds == ("trust", "trust")
    assert panel.entities.parents == ("", "")
    ae = panel.values["ae_4hr_pct"]
    assert ae.dtype == np.float64 and ae.shape == (3, 2)
    np.testing.assert_array_equal(ae, [[71.5, 65.0], [np.nan, np.nan], [np.nan, 70.25]])
    np.testing.assert_array_equal(panel.values["deficit_flag"],
                                  [[1.0, np.nan], [np.nan, np.nan], [np.nan, 0.0]])


def test_long_csv_ratings_are_codes_into_normalised_labels(tmp_path):
    path = write(tmp_path, "long.csv", LONG)
    panel = load_panel(path)
    labels = panel.labels["cqc_overall_rating"]
    # The catalogue's scale comes first, so codes are positions in it.
    assert labels == ("outstanding", "good", "requires_improvement", "inadequate")
    codes = panel.values["cqc_overall_rating"]
    assert panel.label_of("cqc_overall_rating", codes[0, 0]) == "requires_improvement"
    assert panel.label_of("cqc_overall_rating", codes[2, 1]) == "good"
    assert panel.label_of("cqc_overall_rating", codes[1, 0]) is None
    assert panel.label_sites["cqc_overall_rating"]["requires_improvement"] == (path, Pos(8, 4))
    assert panel.label_sites["cqc_overall_rating"]["good"] == (path, Pos(9, 4))


def test_metrics_outside_the_catalogue_are_typed_by_their_values(tmp_path):
    path = write(tmp_path, "x.csv", "entity,period,score,band,done\n"
                                    "A,2021-Q3,1.5,Amber,true\nA,2021-Q4,2,red,0\n")
    panel = load_panel(path)
    assert panel.period_kind == "quarter"
    np.testing.assert_array_equal(panel.values["score"][:, 0], [1.5, 2.0])
    np.testing.assert_array_equal(panel.values["done"][:, 0], [1.0, 0.0])
    assert panel.labels["band"] == ("amber", "red")
    np.testing.assert_array_equal(panel.values["band"][:, 0], [0.0, 1.0])
    assert "score" not in panel.labels


def test_wide_csv_with_financial_quarters_and_percent_signs(tmp_path):
    path = write(tmp_path, "wide.csv",
                 "Entity , Period,ae_4hr_pct,rtt_18wk_pct\n"
                 "T1,2021/22 Q3,\"71.5%\",60\n"
                 "T1,2021/22 Q4,,61.5\n")
    panel = load_panel(path)
    # 2021/22 Q3 is Oct-Dec 2021: calendar 2021-Q4.
    assert panel.period_labels == ["2021-Q4", "2022-Q1"]
    np.testing.assert_array_equal(panel.values["ae_4hr_pct"][:, 0], [71.5, np.nan])
    np.testing.assert_array_equal(panel.values["rtt_18wk_pct"][:, 0], [60.0, 61.5])


def test_financial_years_and_day_dates(tmp_path):
    years = load_panel(write(tmp_path, "y.csv", "entity,period,deficit_gbp\n"
                                                "T1,2005/06,100\nT1,2007/2008,50\n"))
    assert years.period_kind == "year"
    assert years.period_labels == ["2005/06", "2006/07", "2007/08"]
    months = load_panel(write(tmp_path, "m.csv", "entity,period,x\nT1,2019-03-01,1\n"))
    assert months.period_labels == ["2019-03"]


def test_parquet_long_and_wide(tmp_path):
    wide = pa.table({"entity": ["T1", "T2", "T1"], "period": ["2023-04", "2023-04", "2023-05"],
                     "ae_4hr_pct": pa.array([70.0, None, 72.5]),
                     "never_events_6m": pa.array([1, 0, None], pa.int32()),
                     "deficit_flag": pa.array([True, False, None]),
                     "cqc_overall_rating": pa.array(["Good", None, "Inadequate"])
                     .dictionary_encode()})
    pq.write_table(wide, tmp_path / "wide.parquet")
    panel = load_panel(tmp_path / "wide.parquet")
    np.testing.assert_array_equal(panel.values["ae_4hr_pct"], [[70.0, np.nan], [72.5, np.nan]])
    np.testing.assert_array_equal(panel.values["never_events_6m"], [[1, 0], [np.nan, np.nan]])
    np.testing.assert_array_equal(panel.values["deficit_flag"], [[1, 0], [np.nan, np.nan]])
    np.testing.assert_array_equal(panel.values["cqc_overall_rating"], [[1, np.nan], [3, np.nan]])
    # Parquet rows are numbered as if the header were line 1.
    assert panel.label_sites["cqc_overall_rating"]["inadequate"][1] == Pos(4, 6)

    long = pa.table({"entity": ["T1", "T1"], "period": ["2023-Q1", "2023-Q2"],
                     "metric": ["x", "x"], "value": ["1.5", "2.5"]})
    pq.write_table(long, tmp_path / "long.parquet")
    panel = load_panel(tmp_path / "long.parquet")
    np.testing.assert_array_equal(panel.values["x"][:, 0], [1.5, 2.5])


def test_folder_merges_files_and_finds_the_entities_table(tmp_path):
    write(tmp_path, "entities.csv",
          "entity,name,kind,type,parent,region\n"
          "R1,North,region,,,North\n"
          "S1,System one,ics,,R1,North\n"
          "T1,Trust one,trust,acute,S1,North\n"
          "T2,Trust two,,mental_health,S1,North\n")
    write(tmp_path, "a_long.csv", "entity,period,metric,value\nT1,2023-04,x,1\n")
    write(tmp_path, "b_wide.csv", "entity,period,y\nT2,2023-05,2\n")
    write(tmp_path, "notes.txt", "not data: ignored")
    panel = load_panel(tmp_path)
    # Every entity of the table is in the panel, in the table's order, with data or not.
    assert panel.entities.ids == ("R1", "S1", "T1", "T2")
    assert panel.entities.kinds == ("region", "ics", "trust", "trust")
    assert panel.entities.parents == ("", "R1", "S1", "S1")
    assert list(panel.entities.parent_index()) == [-1, 0, 1, 1]
    assert panel.metrics == ["x", "y"]
    assert panel.values["x"][0, 2] == 1.0 and panel.values["y"][1, 3] == 2.0
    assert len(panel.sources) == 2


def test_entities_given_as_a_file_or_an_object(tmp_path):
    ents = write(tmp_path, "orgs.csv", "entity,kind\nT1,trust\nT9,trust\n")
    data = write(tmp_path, "d.csv", "entity,period,x\nT1,2023-04,1\n")
    panel = load_panel(data, entities=ents)
    assert panel.entities.ids == ("T1", "T9")
    given = Entities(("T1",), ("One",), ("trust",), ("acute",), ("",), ("London",))
    panel = load_panel(data, entities=given)
    assert panel.entities == given


def test_period_kind_argument(tmp_path):
    path = write(tmp_path, "q.csv", "entity,period,x\nT1,2023-Q1,1\n")
    assert load_panel(path, period_kind="quarter").period_kind == "quarter"


def test_policy_types_override_inference(tmp_path):
    # '1' and '0' under a flag input stay flags; a rating input keeps the policy's scale order.
    policy = make_policy(tmp_path, {"done": "{type: flag}",
                                    "grade": "{type: rating, scale: g}"},
                         scales={"g": ["high", "medium", "low"]})
    path = write(tmp_path, "d.csv", "entity,period,done,grade\nT1,2023-04,1,low\n")
    panel = load_panel(path, policy=policy)
    assert panel.labels["grade"] == ("high", "medium", "low")
    assert panel.values["grade"][0, 0] == 2.0
    assert panel.values["done"][0, 0] == 1.0


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_write_panel_round_trip(tmp_path, fmt):
    source = load_panel(write(tmp_path, "long.csv", LONG))
    write_panel(source, tmp_path / "out", fmt=fmt)
    again = load_panel(tmp_path / "out")
    assert again.digest() == source.digest()
    for m in source.metrics:
        np.testing.assert_array_equal(again.values[m], source.values[m])


def test_blank_lines_and_byte_order_mark(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes("\ufeffentity,period,x\n\nT1,2023-04,1\n".encode("utf-8"))
    panel = load_panel(path)
    assert panel.values["x"][0, 0] == 1.0
    assert not math.isnan(panel.values["x"][0, 0])
