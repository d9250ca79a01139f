"""Every bundled policy checks cleanly, runs on the sample data, and gives exactly the same
outcomes through the compiled kernel as through the reference evaluator."""

from __future__ import annotations

import numpy as np
import pytest

import rulesengine
from rulesengine.pipeline.run import prepare, run_backend
from rulesengine.policy.load import bundled_policies_dir, list_policies

POLICIES = [info.id for info in list_policies([bundled_policies_dir()])]


def test_the_bundled_policies_are_all_there():
    assert set(POLICIES) >= {"oversight2021", "oversight2022", "oversight2025", "turnaround2005",
                             "failure2009", "success2015", "special_measures2013"}


@pytest.mark.parametrize("policy_id", POLICIES)
def test_policy_is_clean_and_both_engines_agree_on_the_sample(policy_id):
    checked = rulesengine.load_policy(policy_id)
    assert checked.warnings == [], [w.render() for w in checked.warnings]
    _, layout, _ = prepare(checked)
    reference = run_backend(checked, layout, "reference")
    compiled = run_backend(checked, layout, "numba")
    for field in ("computed", "level", "candidate", "fired", "unknown", "incomplete", "subject"):
        assert np.array_equal(getattr(reference, field), getattr(compiled, field)), field
    # someone is decided on in every period, and at least one rule fires somewhere
    assert reference.subject.any(axis=1).all()
    assert reference.fired.any()


def test_oversight2025_looks_like_the_published_shape():
    """Before the financial override each quartile holds about a quarter of each trust type;
    the override moves deficit trusts out of segments 1-2 (domain.md §10)."""
    result = rulesengine.evaluate("oversight2025", engine="reference").outcomes
    t = result.n_periods - 1            # 2026-Q1, inside NOF 2025/26's dates
    assert result.in_effect[t]
    counts = result.counts(t)
    decided = sum(counts.values())
    assert counts["segment_1"] + counts["segment_2"] < 0.5 * decided
    assert counts["segment_3"] + counts["segment_4"] > 0.5 * decided
    deficit = {r["entity"] for r in result.rows([t]) if "financial_override" in r["fired"]}
    rows = {r["entity"]: r for r in result.rows([t])}
    assert deficit and all(rows[e]["level"] in ("segment_3", "segment_4", "segment_5")
                           for e in deficit)
