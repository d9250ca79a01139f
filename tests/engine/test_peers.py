"""Across peers, per period: ranks with ties (pct_rank ties share the lowest percentile of
their cluster; rank and worst_rank are competition ranks), groups of one, all-missing groups,
kinds never ranked together, by= and better=, zscore, percentile, peer_count, and the NOF
2025/26 metric score by rank, standard and floor with tie clusters."""

from __future__ import annotations

import numpy as np
from numpy.testing import assert_allclose, assert_array_equal

from engine_probe import N, entities, probe, trusts

# T0..T5 acute (T4 missing), T6 alone in its group, T7/T8 a group with no values, and an ICS
# of type acute that must never rank with the trusts.
ENTS = entities("T0 trust acute - north", "T1 trust acute - north", "T2 trust acute - south",
                "T3 trust acute - south", "T4 trust acute - north", "T5 trust acute - south",
                "T6 trust ambulance - north", "T7 trust mental_health - north",
                "T8 trust mental_health - south", "S0 ics acute - north")
X = [10, 20, 20, 30, N, 40, 50, N, N, 25]
Q = [0, 1, 1, 2, N, 3, 0, N, N, 0]
INPUTS = {"x": {"type": "number", "better": "higher"},
          "q": {"type": "rating", "scale": "cqc"}}
SCALES = {"cqc": ["outstanding", "good", "requires_improvement", "inadequate"]}


def peers(probes, **kw):
    return probe(probes, ents=ENTS, inputs=INPUTS, data={"x": X, "q": Q}, scales=SCALES,
                 entity=["trust", "ics"], **kw)


def test_ranks_with_ties_groups_of_one_and_missing_groups():
    r = peers({"pct": "pct_rank(x)", "rank": "rank(x)", "worst": "worst_rank(x)",
               "ntile": "ntile(x, 4)", "count": "peer_count(x)"})
    #                            T0 T1  T2  T3  T4 T5   T6 T7 T8 S0
    assert_array_equal(r["pct"][0], [0, 25, 25, 75, N, 100, N, N, N, N])
    assert_array_equal(r["rank"][0], [5, 3, 3, 2, N, 1, 1, N, N, 1])
    assert_array_equal(r["worst"][0], [1, 2, 2, 4, N, 5, 1, N, N, 1])
    assert_array_equal(r["ntile"][0], [4, 2, 2, 1, N, 1, N, N, N, N])
    # how many peers have a value, for every member of the group (the missing one too)
    assert_array_equal(r["count"][0], [5, 5, 5, 5, 5, 5, 1, 0, 0, 1])


def test_better_lower_and_ratings_rank_the_other_way():
    r = peers({"pct_low": "pct_rank(x, better=lower)", "rank_low": "rank(x, better=lower)",
               "pct_q": "pct_rank(q)", "rank_q": "rank(q)",
               "rank_neg": "rank(-x)", "rank_scaled": "rank(x * 2 + 1)"})
    assert_array_equal(r["pct_low"][0], [100, 50, 50, 25, N, 0, N, N, N, N])
    assert_array_equal(r["rank_low"][0], [1, 2, 2, 4, N, 5, 1, N, N, 1])
    # a rating is better the nearer the top of its scale
    assert_array_equal(r["pct_q"][0], [100, 50, 50, 25, N, 0, N, N, N, N])
    assert_array_equal(r["rank_q"][0], [1, 2, 2, 4, N, 5, 1, N, N, 1])
    # the direction follows the measure through arithmetic: -x is better when lower
    assert_array_equal(r["rank_neg"][0], [5, 3, 3, 2, N, 1, 1, N, N, 1])
    assert_array_equal(r["rank_scaled"][0], [5, 3, 3, 2, N, 1, 1, N, N, 1])


def test_peer_groups_by_attribute_all_and_id():
    r = peers({"all": "pct_rank(x, by=all)", "region": "rank(x, by=region)",
               "alone": "rank(x, by=id)", "alone_pct": "pct_rank(x, by=id)"})
    # by=all: every trust (not the ICS): 10 20 20 30 40 50
    assert_array_equal(r["all"][0], [0, 20, 20, 60, N, 80, 100, N, N, N])
    # north: T0 10, T1 20, T6 50; south: T2 20, T3 30, T5 40
    assert_array_equal(r["region"][0], [3, 2, 3, 2, N, 1, 1, N, N, 1])
    assert_array_equal(r["alone"][0], [1, 1, 1, 1, N, 1, 1, N, N, 1])
    assert_array_equal(r["alone_pct"][0], [N] * 10)


def test_policy_peer_group_setting():
    r = peers({"rank": "rank(x)"}, peer_group="region")
    assert_array_equal(r["rank"][0], [3, 2, 3, 2, N, 1, 1, N, N, 1])


def test_zscore_uses_the_population_sd():
    r = peers({"z": "zscore(x)", "z_low": "zscore(x, better=lower)"})
    vals = np.array([10, 20, 20, 30, 40.0])
    sd = np.sqrt(np.mean((vals - 24.0) ** 2))
    want = (np.array([10, 20, 20, 30, N, 40]) - 24.0) / sd
    assert_allclose(r["z"][0][:6], want, rtol=0, atol=1e-12)
    assert_allclose(r["z_low"][0][:6], -want, rtol=0, atol=1e-12)
    assert_array_equal(r["z"][0][6:], [N, N, N, N])


def test_a_group_of_equal_values():
    r = probe({"z": "zscore(x)", "pct": "pct_rank(x)", "rank": "rank(x)",
               "ntile": "ntile(x, 4)", "score": "metric_score(x)"},
              ents=trusts(["acute"] * 3 + ["ambulance"]),
              inputs={"x": {"type": "number", "better": "higher"}}, data={"x": [7, 7, 7, 7]})
    assert_array_equal(r["z"][0], [0, 0, 0, N])
    # one tie cluster: all share the lowest percentile and the best rank, group and score
    assert_array_equal(r["pct"][0], [0, 0, 0, N])
    assert_array_equal(r["rank"][0], [1, 1, 1, 1])
    assert_array_equal(r["ntile"][0], [1, 1, 1, N])
    assert_array_equal(r["score"][0], [1, 1, 1, N])


def test_percentile_interpolates_within_the_group():
    r = peers({"p50": "percentile(x, 50)", "p25": "percentile(x, 25%)",
               "p90": "percentile(x, 90)", "p0": "percentile(x, 0)",
               "p100": "percentile(x, 100)", "p_bad": "percentile(x, x * 10)"})
    # the acute trusts' values are 10 20 20 30 40; every member gets the group's percentile
    assert_array_equal(r["p50"][0], [20] * 6 + [50, N, N, 25])
    assert_array_equal(r["p25"][0], [20] * 6 + [50, N, N, 25])
    assert_allclose(r["p90"][0], [36] * 6 + [50, N, N, 25], rtol=1e-15)
    assert_array_equal(r["p0"][0], [10] * 6 + [50, N, N, 25])
    assert_array_equal(r["p100"][0], [40] * 6 + [50, N, N, 25])
    # p outside 0-100 (or unknown) gives no percentile
    assert_array_equal(r["p_bad"][0], [40, N, N, N, N, N, N, N, N, N])


def test_metric_score_by_rank_with_tie_clusters():
    r = peers({"score": "metric_score(x)", "low": "metric_score(x, better=lower)",
               "q": "metric_score(q)"})
    #                                T0   T1   T2   T3   T4 T5
    assert_array_equal(r["score"][0], [4.0, 2.5, 2.5, 1.75, N, 1.0, N, N, N, N])
    assert_array_equal(r["low"][0], [1.0, 1.75, 1.75, 3.25, N, 4.0, N, N, N, N])
    assert_array_equal(r["q"][0], [1.0, 1.75, 1.75, 3.25, N, 4.0, N, N, N, N])


def test_metric_score_by_standard_and_floor():
    r = peers({"standard": "metric_score(x, standard=25)",
               "floor": "metric_score(x, floor=15)",
               "standard_low": "metric_score(x, better=lower, standard=20)",
               "floor_q": "metric_score(q, floor=good)"})
    # meeting the standard scores 1; the rest spread from 2 to 4 among themselves; a lone
    # scorer meeting it is 1
    assert_array_equal(r["standard"][0], [4.0, 2.0, 2.0, 1.0, N, 1.0, 1.0, N, N, 1.0])
    # below the floor scores 4; the rest spread from 1 to 3; a lone scorer above it is 1
    assert_array_equal(r["floor"][0], [4.0, 2.33, 2.33, 1.67, N, 1.0, 1.0, N, N, 1.0])
    # lower is better: at or below 20 meets the standard
    assert_array_equal(r["standard_low"][0], [1.0, 1.0, 1.0, 2.0, N, 4.0, 2.0, N, N, 2.0])
    # a rating worse than 'good' is below the floor
    assert_array_equal(r["floor_q"][0], [1.0, 2.0, 2.0, 4.0, N, 4.0, 1.0, N, N, 1.0])


def test_metric_score_with_unknown_per_entity_thresholds():
    ents = trusts(["acute"] * 4)
    r = probe({"s": "metric_score(x, standard=target)"}, ents=ents,
              inputs={"x": {"type": "number", "better": "higher"}, "target": {"type": "number"}},
              data={"x": [10, 20, 30, 40], "target": [5, N, 50, 50]})
    # T1 has no target: it is not scored; T2 and T3 miss theirs and spread from 2 to 4
    assert_array_equal(r["s"][0], [1.0, N, 4.0, 2.0])


def test_metric_score_only_the_ends_reach_the_ends():
    """In a large group the second best rounds to 1.00 but scores 1.01; the second worst rounds
    to 4.00 but scores 3.99."""
    n = 700
    ents = trusts(["acute"] * n)
    r = probe({"s": "metric_score(x)"}, ents=ents,
              inputs={"x": {"type": "number", "better": "higher"}},
              data={"x": np.arange(n, dtype=float)})
    s = r["s"][0]
    assert s[n - 1] == 1.0 and s[0] == 4.0
    assert s[n - 2] == 1.01 and s[1] == 3.99
    assert s[n // 2] == round(1 + 3 * (n - 1 - n // 2) / (n - 1), 2)
    assert np.all(np.diff(s) <= 0)


def test_ntile_first_worst_counts_as_pct_rank_does():
    """first=worst: 1 + floor(k × worse / n), group 1 the worst (pct_rank's way up); first=best
    and the old form without first=: 1 + floor(k × better / n), group 1 the best. Checked
    against the compiled kernel too (engine_probe)."""
    r = peers({"worst": "ntile(x, 4, first=worst)", "best": "ntile(x, 4, first=best)",
               "old": "ntile(x, 4)", "worst_low": "ntile(x, 4, first=worst, better=lower)",
               "pct": "pct_rank(x)"})
    #                               T0 T1 T2 T3  T4 T5 T6 T7 T8 S0
    assert_array_equal(r["worst"][0], [1, 1, 1, 3, N, 4, N, N, N, N])
    assert_array_equal(r["best"][0], [4, 2, 2, 1, N, 1, N, N, N, N])
    assert_array_equal(r["old"][0], r["best"][0])
    assert_array_equal(r["worst_low"][0], [4, 2, 2, 1, N, 1, N, N, N, N])
    # the bottom quartile by pct_rank is the first group counted from the worst
    known = ~np.isnan(r["pct"][0])
    assert_array_equal((r["pct"][0] <= 25)[known], (r["worst"][0] == 1)[known])


def test_percentile_first_worst_reads_p_as_pct_rank_does():
    r = peers({"low25": "percentile(x, 25, first=lowest)", "old25": "percentile(x, 25)",
               "worst25": "percentile(x, 25, first=worst)",
               "worst25_low": "percentile(x, 25, first=worst, better=lower)",
               "low75": "percentile(x, 75, first=lowest)"})
    # the acute trusts' values are 10 20 20 30 40
    assert_array_equal(r["low25"][0], [20] * 6 + [50, N, N, 25])
    assert_array_equal(r["old25"][0], r["low25"][0])
    # better: higher, so the worst are the lowest: the same cut
    assert_array_equal(r["worst25"][0], r["low25"][0])
    # better: lower: the worst quarter's cut is the 75th percentile of the values
    assert_array_equal(r["worst25_low"][0], r["low75"][0])
    assert r["low75"][0][0] == 30


def test_ntile_and_percentile_without_first_warn():
    from engine_probe import _load, policy_text

    checked = _load(policy_text(inputs=INPUTS, scales=SCALES,
                                defines={"a": "ntile(x, 4)", "b": "percentile(x, 50)",
                                         "c": "ntile(x, 4, first=worst)",
                                         "d": "percentile(x, 50, first=lowest)"}))
    found = [w.message for w in checked.warnings if w.code == "orientation"]
    assert found == [
        "ntile(): without first=, group 1 is the best: the opposite way from pct_rank "
        "(0 = worst); write first=best to keep this meaning, or first=worst to count from the "
        "worst as pct_rank does",
        "percentile(): without first=, p counts from the lowest value whatever 'better' says, "
        "unlike pct_rank (0 = worst); write first=lowest to keep this meaning, or first=worst "
        "to read p as pct_rank does"]
