"""Over time, per entity: lags and windows in the first periods (too little history is
unknown), Kleene windows, effective-dated params and window sizes, previous(level) and
periods_in streaks, with decisions overriding levels and feeding both."""

from __future__ import annotations

from numpy.testing import assert_array_equal

from engine_probe import N, probe, trusts

X = [[1, 10], [2, N], [3, 30], [4, 40]]          # 4 periods x 2 entities
NUM = {"x": {"type": "number"}}


def test_lags_before_the_data_are_unknown():
    r = probe({"lag1": "x[-1]", "lag2": "x[-2]", "lag_of_lag": "(x[-1])[-1]",
               "lag_of_sum": "(x + 1)[-1]"},
              ents=trusts(["acute"] * 2), inputs=NUM, data={"x": X}, n_periods=4)
    assert_array_equal(r["lag1"], [[N, N], [1, 10], [2, N], [3, 30]])
    assert_array_equal(r["lag2"], [[N, N], [N, N], [1, 10], [2, N]])
    assert_array_equal(r["lag_of_lag"], r["lag2"])
    assert_array_equal(r["lag_of_sum"], [[N, N], [2, 11], [3, N], [4, 31]])


def test_windows_with_too_little_history_are_unknown():
    r = probe({"change": "change(x, 2)", "mean": "mean_over(x, 2)", "sum": "sum_over(x, 3)",
               "min": "min_over(x, 2)", "max": "max_over(x, 2)", "one": "mean_over(x, 1)",
               "of_expr": "mean_over(x * 2, 2)"},
              ents=trusts(["acute"] * 2), inputs=NUM, data={"x": X}, n_periods=4)
    assert_array_equal(r["change"], [[N, N], [N, N], [2, 20], [2, N]])
    assert_array_equal(r["mean"], [[N, N], [1.5, N], [2.5, N], [3.5, 35]])
    assert_array_equal(r["sum"], [[N, N], [N, N], [6, N], [9, N]])
    assert_array_equal(r["min"], [[N, N], [1, N], [2, N], [3, 30]])
    assert_array_equal(r["max"], [[N, N], [2, N], [3, N], [4, 40]])
    assert_array_equal(r["one"], X)
    assert_array_equal(r["of_expr"], [[N, N], [3, N], [5, N], [7, 70]])


def test_median_over_the_window():
    """median_over (added by CONTRIBUTING.md's recipe): the middle value, or the mean of the
    middle two; unknown if any period of the window is, or lies before the data. Over an
    input, over a computed value (the kernel keeps its history) and over a param-sized
    window; probe() checks the vectorised engine and the kernel give the same."""
    x = [[1, 5, 2], [3, N, 2], [2, 7, 2], [10, 8, 4]]
    r = probe({"odd": "median_over(x, 3)", "even": "median_over(x, 2)",
               "of_expr": "median_over(x * 2, 2)", "sized": "median_over(x, w)"},
              ents=trusts(["acute"] * 3), inputs=NUM, data={"x": x}, n_periods=4,
              params={"w": {"values": [{"from": "2021-Q1", "value": 2}]}})
    assert_array_equal(r["odd"], [[N, N, N], [N, N, N], [2, N, 2], [3, N, 2]])
    assert_array_equal(r["even"], [[N, N, N], [2, N, 2], [2.5, N, 2], [6, 7.5, 3]])
    assert_array_equal(r["of_expr"], [[N, N, N], [4, N, 4], [5, N, 4], [12, 15, 6]])
    assert_array_equal(r["sized"], r["even"])


def test_sustained_and_ever_are_kleene_over_the_window():
    a = [[1, 0, 0], [1, N, 0], [1, 1, 0], [1, 1, 1]]
    r = probe({"sustained": "sustained(a, 2)", "ever": "ever(a, 2)",
               "count": "count_over(a, 2)"},
              ents=trusts(["acute"] * 3), inputs={"a": {"type": "flag"}}, data={"a": a},
              n_periods=4)
    # the period before the data is unknown: sustained cannot be true in the first period,
    # but one false makes it false; ever is true with one true period
    assert_array_equal(r["sustained"], [[N, 0, 0], [1, 0, 0], [1, N, 0], [1, 1, 0]])
    assert_array_equal(r["ever"], [[1, N, N], [1, N, 0], [1, 1, 0], [1, 1, 1]])
    # count_over is unknown if any period of the window is
    assert_array_equal(r["count"], [[N, N, N], [2, N, 0], [2, N, 0], [2, 2, 1]])


def test_effective_dated_params_and_window_sizes():
    params = {
        # a window of 1 quarter until 2021-Q3, then 3 quarters
        "w": {"values": [{"from": "2021-Q1", "value": 1}, {"from": "2021-Q3", "value": 3}]},
        # before its first dated value a param takes that earliest value
        "v": {"values": [{"from": "2021-Q2", "value": 5}, {"from": "2021-Q4", "value": 7}]},
        "pct": {"values": [{"from": "2021-Q1", "value": "50%"}, {"from": "2021-Q2",
                                                                 "value": "60%"}]},
    }
    r = probe({"sum": "sum_over(x, w)", "v": "x * 0 + v", "above": "x * 10% >= pct",
               "sustained": "sustained(x > 1, w)"},
              ents=trusts(["acute"] * 2),
              inputs=NUM, data={"x": [[1, 10], [2, N], [3, 30], [4, 40]]}, n_periods=4,
              params=params)
    assert_array_equal(r["sum"], [[1, 10], [2, N], [6, N], [9, N]])
    assert_array_equal(r["v"], [[5, 5], [5, N], [5, 5], [7, 7]])
    assert_array_equal(r["above"], [[0, 1], [0, N], [0, 1], [0, 1]])
    # a window of 1 in the first half-year, then 3: x > 1 held in Q2, Q3 and Q4
    assert_array_equal(r["sustained"], [[0, 1], [1, N], [0, N], [1, N]])


def test_a_threshold_that_changes_mid_life():
    params = {"pct": {"values": [{"from": "2021-Q1", "value": "50%"},
                                 {"from": "2021-Q3", "value": "60%"}]}}
    r = probe({"below": "p < pct"}, ents=trusts(["acute"] * 2),
              inputs={"p": {"type": "percent"}}, data={"p": [[55, 45]] * 4}, n_periods=4,
              params=params)
    assert_array_equal(r["below"], [[0, 1], [0, 1], [1, 1], [1, 1]])


LEVEL_RULES = [("bad", "x >= 3"), ("watch", "x >= 2")]


def test_previous_level_and_streaks_follow_the_outcome():
    # e0 climbs ok -> watch -> bad -> bad; e1 is bad, decided ok in period 1, then ok
    x = [[1, 4], [2, 4], [3, 1], [4, 1]]
    decisions = [[N, N], [N, 0], [N, N], [N, N]]
    r = probe({"prev": "previous(level)", "in_watch": "periods_in(level >= watch)",
               "in_bad": "periods_in(level == bad)", "any": "periods_in(level >= ok)",
               "not_ok": "periods_in(not (level == ok))", "prev2": "previous(level)[-1]"},
              ents=trusts(["acute"] * 2), inputs=NUM, data={"x": x}, n_periods=4,
              rules=LEVEL_RULES, decisions=decisions)
    assert_array_equal(r.outcomes.computed, [[0, 2], [1, 2], [2, 0], [2, 0]])
    assert_array_equal(r.outcomes.level, [[0, 2], [1, 0], [2, 0], [2, 0]])
    # the decided level, not the computed one, is the previous level
    assert_array_equal(r["prev"], [[N, N], [0, 2], [1, 0], [2, 0]])
    assert_array_equal(r["prev2"], [[N, N], [N, N], [0, 2], [1, 0]])
    # streaks count whole periods up to the previous one
    assert_array_equal(r["in_watch"], [[0, 0], [0, 1], [1, 0], [2, 0]])
    assert_array_equal(r["in_bad"], [[0, 0], [0, 1], [0, 0], [1, 0]])
    assert_array_equal(r["any"], [[0, 0], [1, 1], [2, 2], [3, 3]])
    assert_array_equal(r["not_ok"], r["in_watch"])


def test_a_streak_rule_escalates_and_a_decision_resets_it():
    # segment-4-style rule: two periods in a row at bad or worse escalates to worst
    rules = [("bad", "x >= 3"), ("worst", "periods_in(level >= bad) >= 2")]
    x = [[5, 5]] * 5
    decisions = [[N, N], [N, N], [N, 1], [N, N], [N, N]]
    r = probe({}, ents=trusts(["acute"] * 2), inputs=NUM, data={"x": x}, n_periods=5,
              rules=rules, decisions=decisions, levels=("ok", "watch", "bad", "worst"))
    assert_array_equal(r.outcomes.level, [[2, 2], [2, 2], [3, 1], [3, 2], [3, 2]])
    assert_array_equal(r.fired(1), [[0, 0], [0, 0], [1, 1], [1, 0], [1, 0]])
