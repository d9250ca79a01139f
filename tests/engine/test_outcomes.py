"""How fired rules become outcomes (design.md §5): decide worst / first / collect with
incomplete flags, judgement levels and candidates, decisions overriding the computed level,
subjects (entity kinds and applies_to), and fired/unknown bits beyond one 64-bit word."""

from __future__ import annotations

import pytest
from numpy.testing import assert_array_equal

from engine_probe import N, entities, probe, trusts

FLAGS = {"a": {"type": "flag"}, "b": {"type": "flag"}, "c": {"type": "flag"}}
RULES = [("watch", "a"), ("bad", "b"), ("watch", "c")]
#    e0 e1 e2 e3 e4 e5 e6 e7 e8 e9 e10
A = [1, 1, 1, N, 0, 0, N, 0, N, N, 0]
B = [0, 1, N, 0, 0, 1, N, 0, 1, 0, N]
C = [0, 0, 0, 0, N, N, N, 0, 0, 1, 1]
FIRED = [1, 3, 1, 0, 0, 2, 0, 0, 2, 4, 4]         # bit i = rule r<i>'s condition was true
UNKNOWN = [0, 0, 2, 1, 4, 4, 7, 0, 1, 1, 2]


def decide(mode):
    return probe({}, ents=trusts(["acute"] * 11), inputs=FLAGS,
                 data={"a": A, "b": B, "c": C}, rules=RULES, decide=mode)


def test_decide_worst():
    r = decide("worst").outcomes
    assert_array_equal(r.computed[0], [1, 2, 1, 0, 0, 2, 0, 0, 2, 1, 1])
    # incomplete: an unknown rule whose level is worse than the outcome
    assert_array_equal(r.incomplete[0], [0, 0, 1, 1, 1, 0, 1, 0, 0, 0, 1])
    assert_array_equal(r.fired[0, :, 0], FIRED)
    assert_array_equal(r.unknown[0, :, 0], UNKNOWN)
    assert_array_equal(r.level, r.computed)
    assert_array_equal(r.candidate[0], [-1] * 11)


def test_decide_first():
    r = decide("first").outcomes
    # e1: a fires first, so watch although b (bad) fired too
    assert_array_equal(r.computed[0], [1, 1, 1, 0, 0, 2, 0, 0, 2, 1, 1])
    # only unknown rules before the first fired one count: e2's unknown b comes after a;
    # e10's unknown b comes before c and is worse
    assert_array_equal(r.incomplete[0], [0, 0, 0, 1, 1, 0, 1, 0, 0, 0, 1])
    assert_array_equal(r.fired[0, :, 0], FIRED)
    assert_array_equal(r.unknown[0, :, 0], UNKNOWN)


def test_decide_collect_reports_every_fired_rule_at_the_worst_level():
    r = decide("collect").outcomes
    w = decide("worst").outcomes
    assert r.equal(w)
    assert_array_equal(r.fired[0, :, 0], FIRED)


JUDGED_LEVELS = ["ok", "concern", {"id": "review", "decided_by": "the region"}, "bad",
                 {"id": "intervene", "decided_by": "the secretary of state"}]
JUDGED_RULES = [("concern", "a"), ("review", "b"), ("bad", "c"), ("intervene", "d")]


@pytest.mark.parametrize("mode", ["worst", "first"])
def test_judgement_levels_make_candidates(mode):
    flags = {k: {"type": "flag"} for k in "abcd"}
    #     e0 e1 e2 e3 e4
    data = {"a": [1, 0, 0, 0, N], "b": [1, 1, 1, N, 0], "c": [0, 1, 1, 0, 0],
            "d": [0, 0, 1, N, 1]}
    r = probe({}, ents=trusts(["acute"] * 5), inputs=flags, data=data, levels=JUDGED_LEVELS,
              rules=JUDGED_RULES, decide=mode).outcomes
    # a judgement level is never computed: its rules make candidates for the body to decide
    assert_array_equal(r.computed[0], [1, 3, 3, 0, 0])
    # the worst judgement level fired, when worse than the computed level
    assert_array_equal(r.candidate[0], [2, -1, 4, -1, 4])
    # e3's unknown judgement rules could have made it a candidate for review or intervention,
    # so its outcome is incomplete; e4's unknown a makes its outcome incomplete too
    assert_array_equal(r.incomplete[0], [0, 0, 0, 1, 1])
    assert_array_equal(r.unknown[0, :, 0], [0, 0, 0, 10, 1])


def test_decisions_override_the_level_and_feed_the_next_period():
    flags = {k: {"type": "flag"} for k in "abcd"}
    data = {"a": [[1, 0], [1, 0], [1, 0]], "b": [[1, 0], [1, 0], [1, 0]],
            "c": [[0, 0], [0, 0], [0, 0]], "d": [[0, 0], [0, 0], [0, 0]]}
    levels = JUDGED_LEVELS
    rules = JUDGED_RULES + [("bad", "previous(level) == review and a")]
    decisions = [[2, N], [N, 4], [N, N]]     # e0 put in review in period 0; e1 escalated in 1
    r = probe({"prev": "previous(level)", "streak": "periods_in(level >= review)"},
              ents=trusts(["acute"] * 2), inputs=flags, data=data, n_periods=3,
              levels=levels, rules=rules, decisions=decisions)
    o = r.outcomes
    assert_array_equal(o.computed, [[1, 0], [3, 0], [1, 0]])
    assert_array_equal(o.level, [[2, 0], [3, 4], [1, 0]])
    assert_array_equal(o.candidate, [[2, -1], [-1, -1], [2, -1]])
    assert_array_equal(r["prev"], [[N, N], [2, 0], [3, 4]])
    assert_array_equal(r["streak"], [[0, 0], [1, 0], [2, 1]])
    assert_array_equal(r.fired(4), [[0, 0], [1, 0], [0, 0]])


def test_subjects_are_the_policy_kinds_that_applies_to_selects():
    ents = entities("T0 trust acute S0 north", "T1 trust ambulance S0 north",
                    "T2 trust acute S0 north", "S0 ics - - north")
    r = probe({}, ents=ents, inputs={"x": {"type": "number"}}, data={"x": [1, 1, N, 1]},
              rules=[("bad", "x > 0")], applies_to='type == "acute" and x > 0')
    # T1 is not acute; T2's applies_to is unknown (not known to apply); S0 is not a trust
    assert_array_equal(r.outcomes.subject[0], [1, 0, 0, 0])
    # levels are computed for every entity all the same
    assert_array_equal(r.outcomes.computed[0], [2, 2, 0, 2])
    r2 = probe({}, ents=ents, inputs={"x": {"type": "number"}}, data={"x": [1, 1, N, 1]},
               rules=[("bad", "x > 0")], entity=["trust", "ics"])
    assert_array_equal(r2.outcomes.subject[0], [1, 1, 1, 1])


def test_fired_and_unknown_bits_beyond_one_word():
    n = 70
    rules = [("watch" if k % 2 else "bad", f"x > {k}") for k in range(n)]
    x = [0, 65, 69.5, N]
    r = probe({}, ents=trusts(["acute"] * 4), inputs={"x": {"type": "number"}}, data={"x": x},
              rules=rules, decide="first")
    o = r.outcomes
    assert o.fired.shape == (1, 4, 9)                      # 70 rules: 9 bytes a cell
    for e, v in enumerate(x):
        fired = [k for k in range(n) if r.fired(k)[0, e]]
        unknown = [k for k in range(n) if r.unknown(k)[0, e]]
        if v != v:
            assert fired == [] and unknown == list(range(n))
        else:
            assert fired == [k for k in range(n) if v > k]
            assert unknown == []
    # first mode: the first fired rule is x > 0, a bad rule
    assert_array_equal(o.computed[0], [0, 2, 2, 0])
    assert_array_equal(o.incomplete[0], [0, 0, 0, 1])
    assert int(o.fired[0, 2, 8]) == (1 << 6) - 1          # rules 64..69 for x = 69.5
