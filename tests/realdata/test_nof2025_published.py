"""NHS Oversight Framework 2025/26: the policy's final step on NHS England's published Q3
2025/26 average metric scores and deficit flags, against the published segments.

Issue "The regimes as policies", done when: its final step (quartiles of the average metric
score within acute trusts, then the financial override) applied to the published average
scores and deficit flags in ../shared/data/nof_2025_26_q3/ reproduces the published segments
for at least 90% of the trusts held (129 of the 134 segmented), with the mismatches listed in
the test's output.

`policies/oversight2025.yaml` computes its raw score only from metric scores, so a small
policy here `extends: oversight2025` and overrides the `raw_score` define to read the
published score as an input. Everything after it is the policy's own: the cut points
`percentile(raw_score, quartile_n)` within the peer group, the four quartile rules and the
financial override (`deficit_flag or deficit_support_flag`). The segment 5 rules are removed:
PIP entry is a judgement on a capability rating that is not published.

NHS England quartiles acute trusts as one group (specialist trusts included): the 11 specialist
trusts keep the type `specialist` and the policy's `peer_groups:` (acute: [acute, specialist])
ranks them with the acute trusts, as the methodology does. The league table has one deficit flag ("Trust in financial
deficit"); it is the `deficit_flag` input and `deficit_support_flag` is 0.
"""

from __future__ import annotations

import numpy as np

import rulesengine
from rulesengine.data.panel import Entities, Panel
from rulesengine.periods import parse_period

from .helpers import load_test_policy, need, read_csv

POLICY = """\
policy: oversight2025_published_scores
title: NOF 2025/26 final step on NHS England's published average metric scores
extends: oversight2025
inputs:
  published_avg_metric_score:
    type: number
    better: lower
    label: "Average metric score as published (OF5002; 1 best, 4 worst)"
define:
  raw_score: round(published_avg_metric_score, 2)
rules:
  - {id: pip_low_capability, remove: true}
  - {id: pip_governance_failure, remove: true}
"""
SEGMENTED = 134          # acute trusts NHS England segmented (the file holds 129)
SEGMENT = {"segment_1": 1, "segment_2": 2, "segment_3": 3, "segment_4": 4}


def independent_segments(score: np.ndarray, deficit: np.ndarray) -> np.ndarray:
    """Step 2 and 3 of the manual as the policy reads it, in plain NumPy: quartiles by the
    25th/50th/75th percentiles (linear interpolation), then segment 1 or 2 in deficit -> 3."""
    c1, c2, c3 = np.percentile(score, [25, 50, 75])
    seg = np.where(score <= c1, 1, np.where(score <= c2, 2, np.where(score <= c3, 3, 4)))
    return np.where((seg <= 2) & (deficit == 1), 3, seg)


def test_nof2025_final_step_reproduces_published_segments(tmp_path):
    (path,) = need("nof_2025_26_q3/nof_q3_2025_26_segments.csv")
    rows = [r for r in read_csv(path) if r["trust_type"] == "Acute trust" and r["lt_segment"]]
    assert len(rows) == 129
    # The league-table score is metric OF5002 for every acute trust (SOURCE.md).
    assert all(r["lt_avg_score"] == r["overall_avg_metric_score"] for r in rows)
    codes = tuple(r["org_code"] for r in rows)
    score = np.array([float(r["lt_avg_score"]) for r in rows])
    deficit = np.array([float(r["lt_in_deficit"]) for r in rows])
    published = np.array([int(float(r["lt_segment"])) for r in rows])
    assert set(deficit) == {0.0, 1.0}

    n = len(rows)
    # Each trust keeps its own type (specialist acute trusts as 'specialist'): the policy's
    # `peer_groups:` puts them in NHS England's acute peer group, as the methodology does.
    types = tuple("specialist" if r["trust_subtype"] == "Acute - Specialist" else "acute"
                  for r in rows)
    assert types.count("specialist") == 11
    entities = Entities(codes, tuple(r["org_name"] for r in rows), ("trust",) * n,
                        types, ("",) * n, tuple(r["region"] for r in rows))
    quarter = parse_period("2025/26 Q3")
    panel = Panel("quarter", quarter.ordinal, 1, entities,
                  {"published_avg_metric_score": score[None, :].copy(),
                   "deficit_flag": deficit[None, :].copy(),
                   "deficit_support_flag": np.zeros((1, n))},
                  sources=(str(path),))
    policy = load_test_policy(tmp_path, "oversight2025_published_scores", POLICY)
    assert set(policy.used_inputs) == {"published_avg_metric_score", "deficit_flag",
                                       "deficit_support_flag"}
    ref = rulesengine.evaluate(policy, panel, engine="reference")
    jit = rulesengine.evaluate(policy, panel, engine="numba")
    assert ref.raw.equal(jit.raw), "the reference and numba backends disagree"

    computed = np.array([SEGMENT[ref.level_ids[lv]] for lv in ref.raw.level[0]])
    assert not ref.raw.incomplete[0].any()
    # The engine does exactly what the policy says (checked against plain NumPy) ...
    np.testing.assert_array_equal(computed, independent_segments(score, deficit))

    # ... and that reproduces NHS England's segments for at least 90% of the trusts held.
    match = computed == published
    cuts = np.percentile(score, [25, 50, 75])
    lines = [f"\nNOF 2025/26 Q3, acute: {int(match.sum())} of {n} published segments reproduced "
             f"({100 * match.mean():.1f}%); cut points from the {n} published scores "
             f"(PERCENTILE.INC): {', '.join(f'{c:.4g}' for c in cuts)}"]
    lines.append("  mismatches (trust, average score, in deficit, published, computed, fired):")
    for e in np.flatnonzero(~match):
        lines.append(f"    {codes[e]:5} {score[e]:.2f}  deficit={int(deficit[e])}  "
                     f"published={published[e]}  computed={computed[e]}  "
                     f"{','.join(ref.fired_rules(0, int(e)))}")
    # Where NHS England's own boundaries fall among the trusts held.
    for k in (1, 2, 3):
        lo = score[published <= k].max() if k < 3 else score[published == 3].max()
        hi = score[(published > k) & ((deficit == 0) | (k == 3))].min()
        below = (int((score <= lo).sum()), int((score < hi).sum()))
        span = f"{below[0]}" if below[0] == below[1] else f"{below[0]}-{below[1]}"
        lines.append(f"  published boundary {k}/{k + 1} lies between {lo:.2f} and {hi:.2f}: "
                     f"{span} of the {n} held trusts below it ({100 * below[1] / n:.0f}%), at "
                     f"most {below[1] + SEGMENTED - n} of {SEGMENTED} with the trusts not held "
                     f"({100 * (below[1] + SEGMENTED - n) / SEGMENTED:.1f}% against "
                     f"{25 * k}%); computed cut {cuts[k - 1]:.4g}")
    print("\n".join(lines))

    assert match.mean() >= 0.90
    assert int(match.sum()) >= 120      # issue 13: no fewer than before the peer groups changed
    # Every miss is at a quartile boundary: one segment away, never across the override.
    assert np.all(np.abs(computed - published) <= 1)
    assert np.all(computed[deficit == 1] >= 3) and np.all(published[deficit == 1] >= 3)
