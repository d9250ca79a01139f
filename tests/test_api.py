"""The Python API (rulesengine/api.py): evaluate, explain, diff and test on data given as a
DataFrame (long or wide), a pyarrow Table, a path or a Panel; results as tables."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import rulesengine as regime

ROOT = Path(__file__).parents[1]
DEMO = ROOT / "tests" / "analysis" / "data" / "explain_demo.yaml"
DECISIONS = ROOT / "tests" / "analysis" / "data" / "explain_decisions.csv"

# the explain demo's six trusts, last quarter only (tests/analysis/test_explain.py has three)
WIDE = pd.DataFrame({
    "entity": ["T1", "T2", "T3", "T4", "T5", "T6"],
    "period": ["2024-Q3"] * 6,
    "ae_4hr_pct": [60.0, 74, 82, 85, 78, 80],
    "deficit_gbp": [3.1e6, 0.4e6, 1.0e6, -0.2e6, 2.4e6, 1.9e6],
    "cqc_overall_rating": ["good", None, "good", "outstanding", "good", "requires_improvement"],
    "governance_failure_flag": [False, False, True, False, False, False],
})
ENTITIES = pd.DataFrame({"entity": WIDE.entity, "name": [f"Demo Trust {e}" for e in WIDE.entity],
                         "kind": "trust", "type": "acute", "parent": "", "region": "R1"})


def _long(wide: pd.DataFrame) -> pd.DataFrame:
    # values of every type in one column, as a long table holds them
    return wide.melt(id_vars=["entity", "period"], var_name="metric", value_name="value") \
        .dropna(subset=["value"])


def test_long_and_wide_frames_a_table_and_a_path_agree(tmp_path):
    wide = regime.evaluate(DEMO, WIDE, entities=ENTITIES, engine="reference")
    long = regime.evaluate(DEMO, _long(WIDE), entities=ENTITIES, engine="reference")
    table = regime.evaluate(DEMO, pa.Table.from_pandas(WIDE), entities=ENTITIES,
                            engine="reference")
    WIDE.to_csv(tmp_path / "wide.csv", index=False)
    ENTITIES.to_csv(tmp_path / "entities.csv", index=False)
    path = regime.evaluate(DEMO, tmp_path / "wide.csv", entities=tmp_path / "entities.csv",
                           engine="reference")
    for other in (long, table, path):
        assert other.raw.equal(wide.raw)
    frame = wide.to_frame()
    assert list(frame.entity) == list(WIDE.entity)
    assert dict(zip(frame.entity, frame.level)) == {"T1": "red", "T2": "amber", "T3": "green",
                                                    "T4": "green", "T5": "red", "T6": "red"}
    assert bool(frame.set_index("entity").loc["T2", "incomplete"])   # its rating is missing
    assert wide.counts() == {"green": 2, "amber": 1, "red": 3, "black": 0}
    # the frame's name, not a temporary file, is the data's source
    assert wide.outcomes.provenance.to_json()["data"]["sources"] == ["DataFrame"]


def test_an_indexed_frame_and_pandas_periods():
    indexed = WIDE.assign(period=pd.PeriodIndex(["2024Q3"] * 6, freq="Q")) \
        .set_index(["entity", "period"])
    a = regime.evaluate(DEMO, indexed, entities=ENTITIES, engine="reference")
    b = regime.evaluate(DEMO, WIDE, entities=ENTITIES, engine="reference")
    assert a.period_labels == ("2024-Q3",) and a.raw.equal(b.raw)


def test_params_and_decisions():
    base = regime.evaluate(DEMO, WIDE, entities=ENTITIES, engine="reference")
    looser = regime.evaluate(DEMO, WIDE, entities=ENTITIES, engine="reference",
                             params={"deficit_limit": "£3.5m"})
    assert base.to_frame().set_index("entity").loc["T1", "fired"] == ["access_bottom_quartile",
                                                                      "deficit_over_limit"]
    assert "deficit_over_limit" not in looser.to_frame().set_index("entity").loc["T1", "fired"]
    decisions = pd.DataFrame([{"entity": "T3", "period": "2024-Q3", "level": "black",
                               "decided_by": "the regulator", "reason": "board failed"}])
    decided = regime.evaluate(DEMO, WIDE, entities=ENTITIES, engine="reference",
                              decisions=decisions)
    row = decided.to_frame().set_index("entity").loc["T3"]
    assert row.level == "black" and row.computed == "green" and row.decided_by == "the regulator"
    with pytest.raises(regime.RegimeError, match="deficit_limit"):
        regime.evaluate(DEMO, WIDE, entities=ENTITIES, params={"deficit_limit": "95%"})


def test_bad_frames_are_reported_by_row():
    bad = WIDE.copy()
    bad.loc[2, "period"] = "2024-Q5"
    with pytest.raises(regime.DataError) as e:
        regime.evaluate(DEMO, bad, entities=ENTITIES, engine="reference")
    assert "DataFrame:4:2" in str(e.value) and "Traceback" not in str(e.value)
    with pytest.raises(TypeError, match="DataFrame"):
        regime.evaluate(DEMO, [1, 2, 3])


def test_explain_diff_and_test():
    x = regime.explain(DEMO, "T1", WIDE, entities=ENTITIES, engine="reference")
    assert x.level == "red" and "because rule deficit_over_limit fired" in str(x)
    assert x.to_json()["rules"][1]["fired"] is True
    assert list(x.to_frame().rule)[:2] == ["access_bottom_quartile", "deficit_over_limit"]
    assert "because rule" in x._repr_html_() and x.markdown().startswith("## T1")
    d = regime.diff("oversight2021", "oversight2022", engine="vectorised")
    moved = d.to_frame()
    assert len(moved) == len(d.moves) and {"entity", "A", "B", "because of"} <= set(moved)
    m = d.transitions()
    assert int(np.asarray(m).sum()) == sum(map(sum, d.result.transitions))
    assert "Transition matrix" in d._repr_html_()
    report = regime.test(str(ROOT / "policies" / "special_measures2013.yaml"), kernel=False)
    assert report.ok and (report.to_frame().status == "passed").all()
    assert "cases passed" in report._repr_html_()


def test_evaluation_shows_as_a_table_in_a_notebook():
    r = regime.evaluate(DEMO, WIDE, entities=ENTITIES, engine="reference")
    page = r._repr_html_()
    assert page.count("<tr>") == 1 + 6 and "2024-Q3" in page
    hostile = WIDE.assign(entity=["<b>T1</b>", "T2", "T3", "T4", "T5", "T6"])
    ents = ENTITIES.assign(entity=hostile.entity)
    page = regime.evaluate(DEMO, hostile, entities=ents, engine="reference")._repr_html_()
    assert "<b>T1</b>" not in page and "&lt;b&gt;T1&lt;/b&gt;" in page


def test_evaluation_reads_as_outcomes_did():
    """rulesengine.evaluate once returned Outcomes: rows(), counts(t) and to_frame() with period
    indices keep working, beside periods by name."""
    r = regime.evaluate(DEMO, WIDE, entities=ENTITIES, engine="reference")
    assert r.counts(0) == r.counts("2024-Q3") == r.counts() == r.outcomes.counts(0)
    assert r.rows() == r.outcomes.rows() == r.rows([0]) == r.rows("latest") == r.rows("all")
    assert len(r.to_frame("2024-Q3")) == 6
    with pytest.raises(regime.RegimeError, match="2024-Q3"):
        r.rows("2023-Q1")
