"""Type-1 A&E 4-hour performance in March 2019 (NHS-R `ae_attendances`): the trusts in the
bottom quartile by the project's `pct_rank`, against an independent computation.

Issue "Panel data and the reference evaluator", done when: 4-hour performance of type-1
trusts in March 2019 from ae_attendances, bottom quartile by the project's pct_rank, compared
with an independent computation written in the test itself.

The engine's path: `import_ae_attendances` (the project's importer) -> Panel ->
a small monthly policy with `pct_rank(ae_type1_4hr_pct) <= 25` -> both backends.
The independent path: the CSV read with the csv module, type-1 rows only, performance
1 - breaches/attendances as an exact fraction, the percentile rank as documented
(100 x #worse peers / (n - 1), ties share the lowest), compared in integers.
"""

from __future__ import annotations

from collections import defaultdict
from fractions import Fraction

import numpy as np

import rulesengine
from rulesengine.data.nhse import import_ae_attendances

from .helpers import bottom_quartile, fired, load_test_policy, need, read_csv

RULE = "type1_4hr_bottom_quartile"
POLICY = f"""\
policy: ae_type1_bottom_quartile
title: Type-1 A&E 4-hour performance in the bottom quartile (real-data test)
version: "1"
sources: ["NHS England, A&E Attendances and Emergency Admissions (via NHS-R ae_attendances)"]
entity: trust
period: month
peer_group: type
levels:
  - {{id: not_flagged, label: "Not flagged"}}
  - {{id: bottom_quartile, label: "Bottom quartile"}}
default: not_flagged
inputs:
  ae_type1_4hr_pct: {{type: percent, better: higher, label: "A&E type-1 4-hour performance"}}
rules:
  - id: {RULE}
    level: bottom_quartile
    when: pct_rank(ae_type1_4hr_pct) <= 25
    reason: "Type-1 4-hour performance in the bottom quartile of type-1 trusts"
"""


def independent(path) -> tuple[dict[str, dict[str, Fraction]], list[str]]:
    """Type-1 4-hour performance by month (YYYY-MM) and org, as exact fractions. A type-1 row
    with attendances but no breaches did not report the measure (data README): left out."""
    perf: dict[str, dict[str, Fraction]] = defaultdict(dict)
    unreported = []
    for row in read_csv(path):
        if row["type"] != "1":
            continue
        month, org = row["period"][:7], row["org_code"]
        att, br = int(row["attendances"]), int(row["breaches"])
        assert org not in perf[month], f"duplicate type-1 row for {org} in {month}"
        if att > 0 and br == 0:
            unreported.append(f"{org} {month}")
            continue
        if att > 0:
            perf[month][org] = Fraction(att - br, att)
    return perf, unreported


def test_type1_bottom_quartile_march_2019(tmp_path):
    (csv_path,) = need("nhsr_ae_attendances_2016_2019/ae_attendances.csv")
    perf, unreported = independent(csv_path)
    expected = bottom_quartile(perf["2019-03"], better="higher")

    panel = import_ae_attendances(csv_path)
    policy = load_test_policy(tmp_path, "ae_type1_bottom_quartile", POLICY)
    ref = rulesengine.evaluate(policy, panel, engine="reference")
    jit = rulesengine.evaluate(policy, panel, engine="numba")
    assert ref.raw.equal(jit.raw), "the reference and numba backends disagree"

    t = ref.period_labels.index("2019-03")
    got = fired(ref, t, RULE)
    n = len(perf["2019-03"])
    print(f"\nae_attendances 2019-03: {n} type-1 trusts, {len(unreported)} type-1 rows without "
          f"breaches left out (whole file); bottom quartile by regime: {len(got)}, "
          f"independent: {len(expected)}; missing from regime: {sorted(expected - got)}, "
          f"extra in regime: {sorted(got - expected)}")

    # The importer's values are the same performances (as percentages).
    idx = panel.entities.index
    vals = panel.values["ae_type1_4hr_pct"][panel.period_index("2019-03")]
    for org, p in perf["2019-03"].items():
        assert np.isclose(vals[idx[org]], 100 * float(p), rtol=0, atol=1e-9), org
    assert int(np.sum(~np.isnan(vals))) == n

    assert n == 134                      # SOURCE.md: 134-139 type-1 trusts a month
    assert len(expected) == 34           # ranks 0..33 of 133 steps are <= 25%
    assert got == expected
    # The fired rule decides the level, and only those trusts are flagged.
    levels = {ref.entities.ids[e] for e in np.flatnonzero(ref.raw.level[t] == 1)}
    assert levels == expected


def test_type1_bottom_quartile_every_month(tmp_path):
    """The same comparison for each of the 36 months, April 2016 to March 2019."""
    (csv_path,) = need("nhsr_ae_attendances_2016_2019/ae_attendances.csv")
    perf, _ = independent(csv_path)
    panel = import_ae_attendances(csv_path)
    policy = load_test_policy(tmp_path, "ae_type1_bottom_quartile", POLICY)
    out = rulesengine.evaluate(policy, panel, engine="reference")
    assert sorted(perf) == list(out.period_labels) and len(perf) == 36
    bad = {}
    for t, month in enumerate(out.period_labels):
        expected = bottom_quartile(perf[month], better="higher")
        got = fired(out, t, RULE)
        if got != expected:
            bad[month] = (sorted(expected - got), sorted(got - expected))
    sizes = [len(perf[m]) for m in out.period_labels]
    print(f"\nae_attendances 2016-04..2019-03: {min(sizes)}-{max(sizes)} type-1 trusts a month; "
          f"months where regime and the independent computation differ: {bad or 'none'}")
    assert bad == {}
