"""System Oversight Framework 2021/22: the policy's bottom-quartile access tests on real A&E
and RTT snapshots (British Red Cross NHS capacity data, 2021-22), against an independent
computation.

Issue "The regimes as policies", done when: oversight2021's access rules on ../shared/data/
(A&E and RTT snapshots) give the bottom-quartile trusts an independent computation in the test
gives.

`policies/oversight2021.yaml` tests each key metric with `pct_rank(x) <= bottom_quartile`
inside its `bottom_quartile_share` define, and its rule `key_metrics_bottom_quartile` fires
when half or more of the metrics a trust reports are in the bottom quartile of its peer group
(trust type). A small policy here `extends: oversight2021`, keeps that rule, removes the
others, and adds one rule per access metric with the same test (`pct_rank(...) <=
bottom_quartile`, the policy's own param), so the fired bits give the bottom-quartile set per
metric.

Data: the three snapshots of `brc_nhs_capacity_2021_2022` (A&E month, RTT month): (2021-06,
2021-05), (2021-11, 2021-10), (2022-05, 2022-04). Each pair falls in one calendar quarter, and
the panel is monthly, so the policy's quarters take each snapshot through the engine's own
month -> quarter aggregation. `ae_4hr_pct` is `% Type 1 <= 4 hours` (NaN for trusts that did
not report, e.g. the Clinical Review of Standards field-test sites); `rtt_18wk_pct` is
1 - `% Waiting 18+ Weeks` of the `Incomplete Pathways` rows. Trusts: the English acute trusts
of the CQC trust-type list (non-specialist -> `acute`, specialist -> `specialist`, ranked in
separate peer groups as the policy's `peer_group: type` says); Welsh trusts (region W00)
excluded. The other eleven key metrics are absent (NaN), so the share is over A&E and RTT.
"""

from __future__ import annotations

from collections import Counter

import numpy as np

import rulesengine
from rulesengine.data.panel import Entities, Panel
from rulesengine.periods import parse_period

from .helpers import bottom_quartile, fired, load_test_policy, need, read_csv

SNAPSHOTS = (("2021-06", "2021-05", "2021-Q2"), ("2021-11", "2021-10", "2021-Q4"),
             ("2022-05", "2022-04", "2022-Q2"))
TYPES = {"Acute hospital - NHS non-specialist": "acute",
         "Acute hospital - NHS specialist": "specialist"}
KEPT = "key_metrics_bottom_quartile"
REMOVED = ("dramatic_drop", "sustained_bottom_decile", "finance_off_plan", "cqc_quality_concern",
           "governance_concern", "ccg_streamlined_commissioning", "longstanding_segment_3",
           "severe_finance_gap", "catastrophic_governance_failure", "cqc_special_measures_route",
           "special_measures_carried_over", "consistently_high_performing",
           "system_quality_concern", "system_providers_in_intensive_support")
METRIC_RULES = {"ae_4hr_pct": "ae_4hr_bottom_quartile", "rtt_18wk_pct": "rtt_18wk_bottom_quartile"}
POLICY = """\
policy: oversight2021_access
title: SOF 2021/22 bottom-quartile access tests on real A&E and RTT snapshots
extends: oversight2021
define:
  # The snapshots carry no licence flags: the access tests are checked as if every trust met
  # the licence condition of segments 3 and 4.
  licence_test_met: "true"
  ae_4hr_bottom_quartile: pct_rank(ae_4hr_pct) <= bottom_quartile
  rtt_18wk_bottom_quartile: pct_rank(rtt_18wk_pct) <= bottom_quartile
rules:
""" + "".join(f"  - {{id: {r}, remove: true}}\n" for r in REMOVED) + """\
  - id: ae_4hr_bottom_quartile
    level: segment_3
    when: ae_4hr_bottom_quartile
    reason: "A&E 4-hour performance in the bottom quartile of the peer group"
  - id: rtt_18wk_bottom_quartile
    level: segment_3
    when: rtt_18wk_bottom_quartile
    reason: "RTT 18-week performance in the bottom quartile of the peer group"
"""


def read_data():
    ae_path, rtt_path, types_path, etr22, etr25 = need(
        "brc_nhs_capacity_2021_2022/england_trust_ae_snapshots.csv",
        "brc_nhs_capacity_2021_2022/england_trust_rtt_snapshots.csv",
        "trust_reference/brc_open_trust_types_2022.csv",
        "trust_reference/etr_2022-03.csv", "trust_reference/etr_2025.csv")
    categories = {r["trust_code"]: r["primary_category"] for r in read_csv(types_path)}
    types = {c: TYPES[v] for c, v in categories.items() if v in TYPES}
    wales = {r["org_code"] for path in (etr22, etr25) for r in read_csv(path)
             if r["nhs_region_code"] == "W00"}
    ae = read_csv(ae_path)
    rtt = [r for r in read_csv(rtt_path) if r["Referral Treatment Type"] == "Incomplete Pathways"]
    # Trusts reporting either metric with no CQC category at all (left out, listed in the output).
    reporting = ({r["Trust Code"] for r in ae if r["% Type 1 <= 4 hours"]}
                 | {r["Trust Code"] for r in rtt if r["% Waiting 18+ Weeks"]})
    untyped = sorted(reporting - {c for c, v in categories.items() if v})
    return ae, rtt, types, wales, untyped


def independent(ae, rtt, types, wales):
    """Per snapshot quarter, per metric, per peer group: the bottom-quartile trusts, from the
    CSV values as printed (A&E: share within 4 hours, higher is better; RTT: share waiting
    18+ weeks, lower is better)."""
    out: dict[str, dict[str, set[str]]] = {}
    known: dict[str, dict[str, set[str]]] = {}
    for ae_month, rtt_month, quarter in SNAPSHOTS:
        columns = {"ae_4hr_pct": ([r for r in ae if r["data_period"] == ae_month],
                                  "% Type 1 <= 4 hours", "higher"),
                   "rtt_18wk_pct": ([r for r in rtt if r["data_period"] == rtt_month],
                                    "% Waiting 18+ Weeks", "lower")}
        out[quarter], known[quarter] = {}, {}
        for metric, (rows, column, better) in columns.items():
            codes = [r["Trust Code"] for r in rows]
            assert len(codes) == len(set(codes)), f"duplicate trusts in {metric} {quarter}"
            values = {r["Trust Code"]: float(r[column]) for r in rows
                      if r[column] and r["Trust Code"] in types
                      and r["Trust Code"] not in wales}
            known[quarter][metric] = set(values)
            flagged = set()
            for group in set(types.values()):
                flagged |= bottom_quartile({c: v for c, v in values.items()
                                            if types[c] == group}, better=better)
            out[quarter][metric] = flagged
    return out, known


def build_panel(ae, rtt, types, wales, metrics) -> Panel:
    codes = sorted({r["Trust Code"] for r in ae + rtt
                    if r["Trust Code"] in types and r["Trust Code"] not in wales})
    names = {r["Trust Code"]: r["Trust Name"] for r in ae + rtt}
    index = {c: i for i, c in enumerate(codes)}
    start = parse_period("2021-05").ordinal
    n_months = parse_period("2022-05").ordinal - start + 1
    values = {m: np.full((n_months, len(codes)), np.nan) for m in metrics}
    for r in ae:
        if r["Trust Code"] in index and r["% Type 1 <= 4 hours"]:
            t = parse_period(r["data_period"]).ordinal - start
            values["ae_4hr_pct"][t, index[r["Trust Code"]]] = 100 * float(r["% Type 1 <= 4 hours"])
    for r in rtt:
        if r["Trust Code"] in index and r["% Waiting 18+ Weeks"]:
            t = parse_period(r["data_period"]).ordinal - start
            values["rtt_18wk_pct"][t, index[r["Trust Code"]]] = \
                100 * (1 - float(r["% Waiting 18+ Weeks"]))
    n = len(codes)
    entities = Entities(tuple(codes), tuple(names[c] for c in codes), ("trust",) * n,
                        tuple(types[c] for c in codes), ("",) * n, ("",) * n)
    return Panel("month", start, n_months, entities, values,
                 sources=("brc_nhs_capacity_2021_2022",))


def test_oversight2021_access_bottom_quartile(tmp_path):
    ae, rtt, types, wales, untyped = read_data()
    expected, known = independent(ae, rtt, types, wales)

    policy = load_test_policy(tmp_path, "oversight2021_access", POLICY)
    assert [r.id for r in policy.policy.rules] == [KEPT, *METRIC_RULES.values()]
    panel = build_panel(ae, rtt, types, wales, policy.used_inputs)
    ref = rulesengine.evaluate(policy, panel, engine="reference")
    jit = rulesengine.evaluate(policy, panel, engine="numba")
    assert ref.raw.equal(jit.raw), "the reference and numba backends disagree"
    assert ref.period_labels == ("2021-Q2", "2021-Q3", "2021-Q4", "2022-Q1", "2022-Q2")

    print(f"\noversight2021 access tests, {len(panel.entities)} English acute trusts "
          f"({Counter(panel.entities.types)['specialist']} specialist); reporting A&E or RTT "
          f"without a CQC trust type (left out): {untyped}")
    mismatches = {}
    for _, _, quarter in SNAPSHOTS:
        t = ref.period_labels.index(quarter)
        parts = []
        for metric, rule in METRIC_RULES.items():
            got = fired(ref, t, rule)
            want = expected[quarter][metric]
            acute = {c for c in known[quarter][metric] if types[c] == "acute"}
            parts.append(f"{metric} {len([c for c in want if types[c] == 'acute'])} of "
                         f"{len(acute)} acute, {len([c for c in want if types[c] != 'acute'])} "
                         f"specialist")
            if got != want:
                mismatches[(quarter, metric)] = (sorted(want - got), sorted(got - want))
        # The policy's own rule: half or more of the reported key metrics in the bottom quartile.
        # With two metrics reported that is either of them; with one, that one.
        got = fired(ref, t, KEPT)
        want = expected[quarter]["ae_4hr_pct"] | expected[quarter]["rtt_18wk_pct"]
        parts.append(f"{KEPT} {len(got)}")
        if got != want:
            mismatches[(quarter, KEPT)] = (sorted(want - got), sorted(got - want))
        print(f"  {quarter}: bottom quartile: " + "; ".join(parts))
    print(f"  mismatches (missing from regime, extra in regime): {mismatches or 'none'}")

    assert mismatches == {}
    for _, _, quarter in SNAPSHOTS:
        acute_ae = {c for c in known[quarter]["ae_4hr_pct"] if types[c] == "acute"}
        acute_rtt = {c for c in known[quarter]["rtt_18wk_pct"] if types[c] == "acute"}
        assert 100 <= len(acute_ae) <= 110 and 115 <= len(acute_rtt) <= 125
        # A quarter of the peer group, give or take the rounding of 25% of n - 1.
        for metric, group in (("ae_4hr_pct", acute_ae), ("rtt_18wk_pct", acute_rtt)):
            flagged = expected[quarter][metric] & group
            assert len(flagged) == 1 + int(0.25 * (len(group) - 1)), (quarter, metric)
    # The field-test sites that did not report 4-hour performance are never flagged on A&E.
    t = ref.period_labels.index("2021-Q2")
    assert "RYJ" not in fired(ref, t, METRIC_RULES["ae_4hr_pct"])
    assert "RYJ" in known["2021-Q2"]["rtt_18wk_pct"]
    # Quarters without a snapshot have no data, so nothing fires there.
    for quarter in ("2021-Q3", "2022-Q1"):
        assert not ref.raw.fired[ref.period_labels.index(quarter)].any()
