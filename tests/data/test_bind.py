"""bind(): inputs to the policy's periods and scales, by the documented conversion rules."""

from __future__ import annotations

import numpy as np
import pytest

from rulesengine.data.bind import aggregate, bind, carry_forward
from rulesengine.data.loaders import load_panel
from rulesengine.data.panel import Entities, Panel
from rulesengine.diagnostics import DataError
from rulesengine.periods import parse_period

from .helpers import headlines, make_policy, write

nan = np.nan
CQC = {"cqc": ["outstanding", "good", "requires_improvement", "inadequate"]}


def panel_of(kind: str, start: str, columns: dict[str, list], labels=None) -> Panel:
    """A one-entity panel from per-metric lists of values."""
    n = len(next(iter(columns.values())))
    values = {k: np.array(v, dtype=float).reshape(n, 1) for k, v in columns.items()}
    ents = Entities(("T1",), ("",), ("trust",), ("acute",), ("",), ("",))
    return Panel(kind, parse_period(start).ordinal, n, ents, values, labels or {}, ("test",))


def test_month_to_quarter_by_type(tmp_path):
    policy = make_policy(tmp_path, {
        "pct": "{type: percent, better: higher}",
        "num": "{type: number, better: lower}",
        "cnt": "{type: count, better: lower}",
        "gbp": "{type: money, better: higher}",
        "flg": "{type: flag}",
    })
    #                 Apr  May  Jun | Jul  Aug  Sep | Oct  Nov  Dec
    panel = panel_of("month", "2023-04", {
        "pct": [70, nan, 80, nan, nan, nan, 60, 61, 62],
        "num": [1, 2, 3, 4, 5, nan, 7, 8, 9],
        "cnt": [1, 2, 3, 4, nan, 6, 7, 8, 9],
        "gbp": [10, 20, 30, 40, 50, 60, nan, nan, nan],
        "flg": [0, 0, 1, nan, 0, 0, 0, 0, 0],
    })
    bound = bind(policy, panel)
    assert bound.period_kind == "quarter"
    assert bound.period_labels == ["2023-Q2", "2023-Q3", "2023-Q4"]
    col = {k: v[:, 0].tolist() for k, v in bound.inputs.items()}
    np.testing.assert_array_equal(col["pct"], [75, nan, 61])       # mean of what is there
    np.testing.assert_array_equal(col["num"], [2, 4.5, 8])
    np.testing.assert_array_equal(col["cnt"], [6, nan, 24])        # a gap is not a zero
    np.testing.assert_array_equal(col["gbp"], [60, 150, nan])
    np.testing.assert_array_equal(col["flg"], [1, nan, 0])         # Kleene any


def test_flag_any_is_true_whatever_else_is_missing(tmp_path):
    policy = make_policy(tmp_path, {"flg": "{type: flag}"})
    panel = panel_of("month", "2023-04", {"flg": [nan, 1, nan]})
    assert bind(policy, panel).inputs["flg"][0, 0] == 1.0


def test_month_to_financial_year(tmp_path):
    policy = make_policy(tmp_path, {"cnt": "{type: count, better: lower}",
                                    "pct": "{type: percent, better: higher}"}, period="year")
    # Jan 2023 - Apr 2024: Jan-Mar 2023 close 2022/23 (a partial year), then 2023/24, then one
    # month of 2024/25.
    cnt = [1] * 16
    pct = list(range(16))
    bound = bind(policy, panel_of("month", "2023-01", {"cnt": cnt, "pct": pct}))
    assert bound.period_labels == ["2022/23", "2023/24", "2024/25"]
    np.testing.assert_array_equal(bound.inputs["cnt"][:, 0], [nan, 12, nan])
    np.testing.assert_array_equal(bound.inputs["pct"][:, 0], [1, 8.5, 15])


def test_quarter_to_financial_year(tmp_path):
    policy = make_policy(tmp_path, {"gbp": "{type: money, better: higher}"}, period="year")
    # 2023-Q1 is Jan-Mar: the end of 2022/23. 2023-Q2..2024-Q1 make 2023/24.
    bound = bind(policy, panel_of("quarter", "2023-Q1", {"gbp": [5, 1, 2, 3, 4]}))
    assert bound.period_labels == ["2022/23", "2023/24"]
    np.testing.assert_array_equal(bound.inputs["gbp"][:, 0], [nan, 10])


def test_explicit_aggregates(tmp_path):
    policy = make_policy(tmp_path, {
        "lo": "{type: number, better: lower, aggregate: min}",
        "hi": "{type: number, better: lower, aggregate: max}",
        "lst": "{type: number, better: lower, aggregate: last}",
        "tot": "{type: percent, better: lower, aggregate: sum}",
        "avg": "{type: count, better: lower, aggregate: mean}",
        "every": "{type: flag, aggregate: all}",
    })
    panel = panel_of("month", "2023-04", {
        "lo": [3, nan, 1, nan, nan, nan],
        "hi": [3, nan, 1, nan, nan, nan],
        "lst": [3, 2, nan, nan, nan, nan],
        "tot": [1, 2, 3, 1, nan, 1],
        "avg": [1, 2, nan, nan, nan, nan],
        "every": [1, 1, 1, 1, nan, 0],
    })
    got = {k: v[:, 0].tolist() for k, v in bind(policy, panel).inputs.items()}
    np.testing.assert_array_equal(got["lo"], [1, nan])
    np.testing.assert_array_equal(got["hi"], [3, nan])
    np.testing.assert_array_equal(got["lst"], [2, nan])
    np.testing.assert_array_equal(got["tot"], [6, nan])
    np.testing.assert_array_equal(got["avg"], [1.5, nan])
    np.testing.assert_array_equal(got["every"], [1, 0])


def test_catalogue_aggregate_when_the_policy_says_none(tmp_path):
    # A waiting list is a snapshot: the quarter's figure is its last month, not the sum.
    policy = make_policy(tmp_path, {"rtt_waiting_list_size": "{type: count, better: lower}"})
    panel = panel_of("month", "2023-04", {"rtt_waiting_list_size": [100, 110, 120]})
    assert bind(policy, panel).inputs["rtt_waiting_list_size"][0, 0] == 120
    # The policy's own aggregate wins over the catalogue's.
    policy = make_policy(tmp_path, {"rtt_waiting_list_size":
                                    "{type: count, better: lower, aggregate: max}"})
    assert bind(policy, panel).inputs["rtt_waiting_list_size"][0, 0] == 120
    policy = make_policy(tmp_path, {"rtt_waiting_list_size":
                                    "{type: count, better: lower, aggregate: sum}"})
    assert bind(policy, panel).inputs["rtt_waiting_list_size"][0, 0] == 330


def test_ratings_map_to_the_policy_scale_and_carry_forward(tmp_path):
    # The panel's codes follow its own label order; the bound values follow the policy's scale.
    labels = {"cqc_overall_rating": ("inadequate", "good", "outstanding")}
    panel = panel_of("month", "2023-04", {
        "cqc_overall_rating": [nan, 1, nan, nan, nan, 0, nan, nan, nan, nan, 2, nan],
    }, labels)
    policy = make_policy(tmp_path, {"cqc_overall_rating": "{type: rating, scale: cqc}"},
                         period="month", scales=CQC)
    monthly = bind(policy, panel).inputs["cqc_overall_rating"][:, 0]
    # good (1) from May, inadequate (3) from Sep, outstanding (0) from Feb; nothing before May.
    np.testing.assert_array_equal(monthly, [nan, 1, 1, 1, 1, 3, 3, 3, 3, 3, 0, 0])
    policy = make_policy(tmp_path, {"cqc_overall_rating": "{type: rating, scale: cqc}"},
                         period="quarter", scales=CQC)
    quarterly = bind(policy, panel).inputs["cqc_overall_rating"][:, 0]
    # Quarter Jul-Sep has no rating of its own in Jul/Aug, but the carried rating stands.
    np.testing.assert_array_equal(quarterly, [1, 3, 3, 0])


def test_ratings_carry_forward_into_a_quarter_without_any(tmp_path):
    labels = {"r": ("good", "inadequate")}
    panel = panel_of("month", "2023-04", {"r": [1, nan, nan, nan, nan, nan]}, labels)
    policy = make_policy(tmp_path, {"r": "{type: rating, scale: cqc}"}, scales=CQC)
    np.testing.assert_array_equal(bind(policy, panel).inputs["r"][:, 0], [3, 3])


def test_carry_forward_and_aggregate_helpers():
    x = np.array([[nan, 1], [2, nan], [nan, nan], [nan, 5]])
    np.testing.assert_array_equal(carry_forward(x), [[nan, 1], [2, 1], [2, 1], [2, 5]])
    start, n, out = aggregate(np.arange(6.0).reshape(6, 1), "month",
                              parse_period("2023-02").ordinal, "quarter", "sum")
    assert (start, n) == (parse_period("2023-Q1").ordinal, 3)
    np.testing.assert_array_equal(out[:, 0], [nan, 9, nan])


def test_same_period_kind_reads_the_panel_array_without_a_copy(tmp_path):
    policy = make_policy(tmp_path, {"pct": "{type: percent, better: higher}"}, period="month")
    panel = panel_of("month", "2023-04", {"pct": [1, 2, 3]})
    bound = bind(policy, panel)
    arr = bound.inputs["pct"]
    assert arr.dtype == np.float64 and arr.flags.c_contiguous
    assert np.shares_memory(arr, panel.values["pct"])    # nothing writes into an input
    assert bound.data_digest == panel.digest()
    assert bound.sources == ("test",)
    assert bound.entities is panel.entities


def test_data_coarser_than_the_policy(tmp_path):
    policy = make_policy(tmp_path, {"pct": "{type: percent, better: higher}"}, period="month")
    panel = panel_of("quarter", "2023-Q1", {"pct": [1, 2]})
    assert headlines(lambda: bind(policy, panel)) == [
        f"{policy.policy.file}: error: policy 'data_test' works on months, but the data (test) "
        f"has quarters: a figure for a longer period cannot be split into shorter ones"]


def test_missing_inputs_are_listed_with_suggestions(tmp_path):
    policy = make_policy(tmp_path, {"ae_4hr_pct": "{type: percent, better: higher}",
                                    "ae_12hr_pct": "{type: percent, better: lower}",
                                    "rtt_18wk_pct": "{type: percent, better: higher}",
                                    "shmi": "{type: number, better: lower}"})
    panel = panel_of("month", "2023-04", {"ae_4hr_pc": [1], "shmi": [1.0]})
    at = {k: f"{v.origin.file}:{v.pos}" for k, v in policy.policy.inputs.items()}
    # 'ae_4hr_pc' is offered once, for the input it resembles most.
    assert headlines(lambda: bind(policy, panel)) == [
        f"{at['ae_4hr_pct']}: error: input 'ae_4hr_pct' is not in the data (test); did you mean "
        f"'ae_4hr_pc'?",
        f"{at['ae_12hr_pct']}: error: input 'ae_12hr_pct' is not in the data (test)",
        f"{at['rtt_18wk_pct']}: error: input 'rtt_18wk_pct' is not in the data (test)"]


def test_unknown_label_names_its_place_in_the_data(tmp_path):
    path = write(tmp_path, "r.csv", "entity,period,cqc_overall_rating\nT1,2023-04,Good\n"
                                    "T1,2023-05,Requires Improvment\n")
    panel = load_panel(path)
    policy = make_policy(tmp_path, {"cqc_overall_rating": "{type: rating, scale: cqc}"},
                         scales=CQC)
    assert headlines(lambda: bind(policy, panel)) == [
        f"{path}:3:3: error: rating label 'requires_improvment' of metric 'cqc_overall_rating' "
        f"is not in scale 'cqc' (outstanding, good, requires_improvement, inadequate); "
        f"did you mean 'requires_improvement'?"]


def test_labels_of_the_catalogue_scale_that_the_data_never_uses_are_fine(tmp_path):
    # The panel's labels start with the catalogue's CQC scale; a policy with a shorter scale
    # only fails on labels that actually occur.
    path = write(tmp_path, "r.csv", "entity,period,cqc_overall_rating\nT1,2023-04,good\n")
    policy = make_policy(tmp_path, {"cqc_overall_rating": "{type: rating, scale: ok}"},
                         scales={"ok": ["good", "poor"]})
    bound = bind(policy, load_panel(path))
    assert bound.inputs["cqc_overall_rating"][0, 0] == 0


def test_type_mismatches(tmp_path):
    policy = make_policy(tmp_path, {"grade": "{type: rating, scale: cqc}",
                                    "score": "{type: number, better: higher}",
                                    "flg": "{type: flag}"}, scales=CQC, period="month")
    panel = panel_of("month", "2023-04", {"grade": [1], "score": [0], "flg": [0.5]},
                     labels={"score": ("good",)})
    at = {k: f"{v.origin.file}:{v.pos}" for k, v in policy.policy.inputs.items()}
    assert headlines(lambda: bind(policy, panel)) == [
        f"{at['grade']}: error: input 'grade' is a rating, but the data holds numbers for it, "
        f"not labels",
        f"{at['score']}: error: input 'score' is a number, but the data holds rating labels "
        f"for it (good)",
        f"{at['flg']}: error: input 'flg' is a flag, but the data holds 0.5 for entity 'T1' in "
        f"2023-04 (flags are 1 or 0)"]


def test_binding_the_bundled_policies_to_the_sample():
    from rulesengine import load_policy
    from rulesengine.data.sample import sample_panel

    panel = sample_panel()
    for pid in ("oversight2021", "oversight2025", "turnaround2005"):
        checked = load_policy(pid)
        bound = bind(checked, panel)
        assert set(bound.inputs) == set(checked.used_inputs)
        for arr in bound.inputs.values():
            assert arr.shape == (bound.n_periods, len(panel.entities))


def test_only_converted_inputs_are_new_arrays(tmp_path):
    """Numbers, flags and ratings whose data codes are the scale's positions are the panel's
    own arrays; a reordered scale, a rating with a gap to carry over and fractions are new
    arrays, and the panel is unchanged by any of it."""
    policy = make_policy(tmp_path, {
        "pct": "{type: percent, better: higher}",
        "frac": "{type: percent, better: higher, scale: fraction}",
        "flg": "{type: flag}",
        "cqc": "{type: rating, scale: cqc}",
        "gap": "{type: rating, scale: cqc}",
        "rev": "{type: rating, scale: cqc}",
    }, period="month", scales=CQC)
    cols = {"pct": [1, 2, 3], "frac": [0.5, 0.25, nan], "flg": [1, 0, nan],
            "cqc": [0, 3, 2], "gap": [1, nan, 2], "rev": [0, 1, nan]}
    labels = {"cqc": tuple(CQC["cqc"]), "gap": tuple(CQC["cqc"]),
              "rev": ("inadequate", "outstanding")}
    panel = panel_of("month", "2023-04", cols, labels)
    before = {k: v.copy() for k, v in panel.values.items()}
    bound = bind(policy, panel)
    for name in ("pct", "flg", "cqc"):
        assert bound.inputs[name] is panel.values[name], name
    for name in ("frac", "gap", "rev"):
        assert not np.shares_memory(bound.inputs[name], panel.values[name]), name
    np.testing.assert_array_equal(bound.inputs["frac"][:, 0], [50, 25, nan])
    np.testing.assert_array_equal(bound.inputs["gap"][:, 0], [1, 1, 2])
    np.testing.assert_array_equal(bound.inputs["rev"][:, 0], [3, 0, 0])   # carried forward
    for name, arr in before.items():
        np.testing.assert_array_equal(panel.values[name], arr)


@pytest.mark.parametrize("values, ok", [
    ([1, 0, nan], True), ([nan, nan, nan], True), ([0, 0, 0], True), ([1, 1, nan], True),
    ([0.5, 0.5, 0.5], False), ([1, 0, 0.5], False), ([2, 1, 0], False), ([0, -1, nan], False),
    ([1, 1, 2], False), ([nan, 0.25, nan], False)])
def test_a_flag_holds_only_one_zero_or_missing(values, ok, tmp_path):
    policy = make_policy(tmp_path, {"flg": "{type: flag}"}, period="month")
    panel = panel_of("month", "2023-04", {"flg": values})
    if ok:
        assert bind(policy, panel).inputs["flg"] is panel.values["flg"]
    else:
        with pytest.raises(DataError, match="is a flag, but the data holds"):
            bind(policy, panel)


def test_the_expect_check_by_counts_agrees_with_the_median():
    """unit_warning decides "inside expect:" by counting values below and above the range;
    the median (the middle value, or the mean of the middle two) decides the same."""
    from types import SimpleNamespace

    from rulesengine.data.units import _median, unit_warning

    rng = np.random.default_rng(7)
    origin = SimpleNamespace(file="p.yaml", line=lambda n: "")
    for _ in range(400):
        n = int(rng.integers(1, 12))
        arr = rng.integers(0, 10, n).astype(float)
        arr[rng.random(n) < 0.2] = nan
        lo, hi = sorted(float(x) for x in rng.integers(0, 10, 2))
        inp = SimpleNamespace(type="number", scale=None, expect=(lo, hi), origin=origin,
                              pos=SimpleNamespace(line=1, col=1))
        known = arr[~np.isnan(arr)]
        inside = not known.size or lo <= _median(known) <= hi
        assert (unit_warning(inp, "x", arr.reshape(-1, 1), "d") is None) == inside, \
            (arr, lo, hi)
