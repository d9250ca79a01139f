"""engine/reuse.py: a diff's variant takes from B's vectorised evaluation only the values it
would compute alike. Every variant of B evaluated with B's shared values must give exactly
the outcomes it gives evaluated on its own, and values that a change alters are never
shared."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from rulesengine.analysis import diff as D
from rulesengine.data.panel import Panel
from rulesengine.engine import reuse as R
from rulesengine.pipeline.run import prepare, run_backend

from engine_probe import START, _load, policy_text, trusts

P, TYPES = 10, ["acute", "acute", "mental", "acute", "mental", "acute", "mental", "acute"]


def panel() -> Panel:
    rng = np.random.default_rng(7)
    ents = trusts(TYPES)
    values = {}
    for name in ("ae", "rtt", "pv"):
        v = np.round(rng.normal(60, 25, (P, len(TYPES))))
        v[rng.random(v.shape) < 0.1] = np.nan
        values[name] = v
    values["lead"] = (rng.random((P, len(TYPES))) < 0.3).astype(float)
    return Panel("quarter", START, P, ents, values)


INPUTS = {"ae": {"type": "percent", "better": "higher"}, "rtt": {"type": "percent"},
          "pv": {"type": "number", "better": "higher"}, "lead": {"type": "flag"}}
DEFINES = {"low_ae": "pct_rank(ae) < low",
           "slow": "sustained(rtt < 50, 3)",
           "label": 'if ae > 50 then "fine" else "poor"',
           "poor": 'label == "poor"',
           "trend": "mean_over(pv, 2) < 40"}
RULES = [("watch", "low_ae or slow"), ("watch", "poor and lead"),
         ("bad", "trend and type == \"acute\""),
         ("bad", "periods_in(level >= watch) >= 2 and low_ae")]


def policy(*, defines=None, rules=None, params=None, inputs=None):
    return _load(policy_text(inputs=inputs or INPUTS, defines=defines or DEFINES,
                             rules=rules or RULES, params=params or {"low": 25}))


VARIANTS = {
    "a param's value": dict(params={"low": 40}),
    "a define": dict(defines={**DEFINES, "slow": "sustained(rtt < 40, 2)"}),
    "a string define": dict(defines={**DEFINES, "label": 'if ae > 70 then "fine" else "poor"'}),
    "a rule added": dict(rules=RULES + [("bad", "pv < 10")]),
    "a rule removed": dict(rules=RULES[1:]),
    "a peer grouping": dict(defines={**DEFINES, "low_ae": "pct_rank(ae, by=all) < low"}),
    "an input's direction": dict(inputs={**INPUTS, "ae": {"type": "percent",
                                                          "better": "lower"}}),
}


@pytest.mark.parametrize("what", list(VARIANTS))
def test_every_variant_with_shared_values_is_the_variant_on_its_own(what):
    data = panel()
    a, b = policy(**VARIANTS[what]), policy()
    memo: dict = {}
    _, layout_b, _ = prepare(b, data, memo=memo)
    values_b: dict = {}
    run_backend(b, layout_b, "vectorised", values=values_b)
    evaluated = R.Evaluated(b, layout_b, values_b)
    changes = [c for c in D.structural_diff(a.policy, b.policy) if not c.supporting]
    assert changes
    for change in changes:
        variant = D.revert(b, a, change)
        _, layout, _ = prepare(variant, data, memo=memo)
        shared = evaluated.shared(variant, layout)
        assert shared, "most of B's values hold for a variant"
        alone = run_backend(variant, layout, "vectorised")
        with_b = run_backend(variant, layout, "vectorised", values=dict(shared))
        assert with_b.equal(alone), change
        # ... and over the first periods only, as a diff of an earlier period evaluates
        short = layout.head(6)
        cut = evaluated.shared(variant, short)
        assert run_backend(variant, short, "vectorised", values=dict(cut)).equal(
            run_backend(variant, short, "vectorised"))


def _nid(checked, define):
    return checked.policy.defines[define].expr.nid


def test_values_a_change_alters_are_not_shared():
    data = panel()
    b = policy()
    memo: dict = {}
    _, layout_b, _ = prepare(b, data, memo=memo)
    values_b: dict = {}
    run_backend(b, layout_b, "vectorised", values=values_b)
    evaluated = R.Evaluated(b, layout_b, values_b)
    # the same policy over the same data: everything but strings and level-dependent values
    same = evaluated.shared(b, layout_b)
    assert _nid(b, "slow") in same and _nid(b, "trend") in same
    assert _nid(b, "label") not in same                  # a string: codes are per evaluation
    periods_rule = b.policy.rules[3].when
    assert periods_rule.nid not in same                  # reads earlier periods' levels
    # a param's other value: what reads it is recomputed, the rest is shared
    lower = replace(layout_b, params={**layout_b.params,
                                      "low": np.full(P, 40.0)})
    shared = evaluated.shared(b, lower)
    assert _nid(b, "low_ae") not in shared and _nid(b, "slow") in shared
    # another define (B with A's version, as a diff reverts it): the define and what refers
    # to it are recomputed
    a = policy(defines={**DEFINES, "slow": "sustained(rtt < 40, 2)"})
    (change,) = D.structural_diff(a.policy, b.policy)
    other = D.revert(b, a, change)
    _, layout_o, _ = prepare(other, data, memo=memo)
    shared = evaluated.shared(other, layout_o)
    assert _nid(other, "slow") not in shared
    assert other.policy.rules[0].when.nid not in shared  # low_ae or slow
    assert _nid(other, "low_ae") in shared
    # without the memo, an input bound without conversion is still the panel's own array
    # (bind makes no copy): what reads it is shared
    _, layout_n, _ = prepare(b, data)
    assert layout_n.inputs["ae"] is layout_b.inputs["ae"]
    assert _nid(b, "low_ae") in evaluated.shared(b, layout_n)
    # a copy of the same values is another array: what reads it is not shared
    copied = replace(layout_n, inputs={**layout_n.inputs, "ae": layout_n.inputs["ae"].copy()})
    assert _nid(b, "low_ae") not in evaluated.shared(b, copied)
    # other data (other input arrays, other entities): nothing is shared
    moved = replace(data, values={**data.values, "ae": data.values["ae"] + 1})
    _, layout_m, _ = prepare(b, moved)
    assert not any(nid in evaluated.shared(b, layout_m) for nid in
                   (_nid(b, "low_ae"), b.policy.rules[0].when.nid))


def test_another_policy_shares_what_it_has_alike():
    """Values are matched by what they are computed from, not by node id: a policy parsed
    again (as B's copy of the policy it extends is) takes all of them."""
    data = panel()
    a, b = policy(), policy()
    assert _nid(a, "slow") != _nid(b, "slow") or \
        a.policy.defines["slow"].expr is not b.policy.defines["slow"].expr
    memo: dict = {}
    _, layout_a, _ = prepare(a, data, memo=memo)
    values_a: dict = {}
    run_backend(a, layout_a, "vectorised", values=values_a)
    _, layout_b, _ = prepare(b, data, memo=memo)
    shared = R.Evaluated(a, layout_a, values_a).shared(b, layout_b)
    for name in ("low_ae", "slow", "trend"):
        assert _nid(b, name) in shared
        assert np.shares_memory(shared[_nid(b, name)], values_a[_nid(a, name)])
    assert _nid(b, "label") not in shared
    assert run_backend(b, layout_b, "vectorised", values=dict(shared)).equal(
        run_backend(b, layout_b, "vectorised"))


def test_diff_with_and_without_sharing_agree(monkeypatch):
    data = panel()
    a, b = policy(**VARIANTS["a define"]), policy(params={"low": 40},
                                                   rules=RULES + [("bad", "pv < 10")])
    shared = D.diff(a, b, data, engine="vectorised")
    monkeypatch.setattr(R.Evaluated, "shared", lambda self, checked, layout: {})
    alone = D.diff(a, b, data, engine="vectorised")
    assert shared.to_json() == alone.to_json()
    assert shared.moves
