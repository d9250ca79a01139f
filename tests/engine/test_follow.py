"""follow=successor: a window or an earlier level read through an organisation's
predecessors before it existed (engine/lineage.py, lang/builtins/level.py and time.py), in the
reference, the vectorised engine and the compiled kernel (engine_probe checks all three);
and members(...) counting only members that exist in the period."""

from __future__ import annotations

import numpy as np

from engine_probe import N, probe
from rulesengine.data.panel import Entities
from rulesengine.engine.lineage import lineage

# Quarters from 2021-Q1. A and B merge into C from 2021-Q3; D and E merge into F.
ENTS = Entities(
    ids=("A", "B", "C", "D", "E", "F"), names=tuple("ABCDEF"), kinds=("trust",) * 6,
    types=("acute",) * 6, parents=("",) * 6, regions=("north",) * 6,
    starts=("", "", "2021-07", "", "", "2021-07"),
    ends=("2021-06", "2021-06", "", "2021-06", "2021-06", ""),
    successors=("C", "C", "", "F", "F", ""))
A, B, C, D, E, F = range(6)

#            A  B  C  D  E  F
Y = [[1, 0, N, 0, 0, N],       # bad when y: A bad in Q1, B bad in Q2, C bad from Q3
     [0, 1, N, 0, 0, N],
     [N, N, 1, N, N, 0],
     [N, N, 1, N, N, 0]]
X = [[1, 1, N, 1, 0, N],       # the predecessors of C agree; those of F do not (Q2)
     [1, 1, N, 1, 0, N],
     [N, N, 1, N, N, 1],
     [N, N, 0, N, N, 1]]
Z = [[4, 4, N, 4, 5, N],
     [4, 4, N, 4, 5, N],
     [N, N, 10, N, N, 10],
     [N, N, 12, N, N, 10]]
INPUTS = {"y": {"type": "flag"}, "x": {"type": "flag"}, "z": {"type": "number"}}


def run(probes):
    return probe(probes, ents=ENTS, data={"y": Y, "x": X, "z": Z}, inputs=INPUTS,
                 n_periods=4, rules=[("bad", "y")])


def test_previous_level_follows_the_worst_predecessor():
    r = run({"own": "previous(level)", "followed": "previous(level, follow=successor)"})
    bad, ok = 2.0, 0.0
    # C's first period reads A and B's previous quarter: B was bad, so C's history is bad
    assert r["followed"][2, C] == bad and r["own"][2, C] == ok
    assert r["followed"][1, C] == bad        # Q1: A bad, B ok -> the worst
    assert r["followed"][2, F] == ok         # D and E were ok
    assert r["followed"][3, C] == bad        # from its first period on, its own level
    # organisations without predecessors read their own levels, as without the option
    assert np.array_equal(r["followed"][:, [A, B, D, E]], r["own"][:, [A, B, D, E]],
                          equal_nan=True)
    assert np.isnan(r["followed"][0]).all()


def test_periods_in_counts_through_predecessors():
    r = run({"own": "periods_in(level == bad)",
             "followed": "periods_in(level == bad, follow=successor)"})
    assert r["followed"][3, C] == 3 and r["own"][3, C] == 1
    assert r["followed"][2, C] == 2
    assert r["followed"][3, F] == 0


def test_window_conditions_agree_or_are_unknown():
    r = run({"sus": "sustained(x, 3, follow=successor)", "plain": "sustained(x, 3)",
             "ever": "ever(x, 2, follow=successor)", "count": "count_over(x, 2, follow=successor)"})
    assert r["sus"][2, C] == 1 and np.isnan(r["plain"][2, C])
    # F's predecessors disagree in Q1 and Q2: unknown, never true or false by accident
    assert np.isnan(r["sus"][2, F])
    assert r["ever"][2, F] == 1              # its own quarter is enough for ever()
    assert r["sus"][3, C] == 0               # its own quarter is false
    assert r["count"][2, C] == 2 and np.isnan(r["count"][2, F])


def test_windows_over_values_follow():
    r = run({"mean": "mean_over(z, 2, follow=successor)",
             "change": "change(z, 1, follow=successor)",
             "median": "median_over(z, 3, follow=successor)", "own": "mean_over(z, 2)"})
    assert r["mean"][2, C] == 7 and np.isnan(r["own"][2, C])
    assert r["change"][2, C] == 6 and r["change"][3, C] == 2
    assert np.isnan(r["mean"][2, F])          # D and E's values differ: unknown
    assert r["median"][2, C] == 4


def test_a_chain_is_followed_transitively():
    ents = Entities(ids=("P", "Q", "R"), names=tuple("PQR"), kinds=("trust",) * 3,
                    types=("acute",) * 3, parents=("",) * 3, regions=("",) * 3,
                    starts=("", "2021-04", "2021-07"), ends=("2021-03", "2021-06", ""),
                    successors=("Q", "R", ""))
    L = lineage(ents, "quarter", 2021 * 4, 3)
    v = np.array([[1.0, N, N], [N, 2.0, N], [N, N, 3.0]])
    assert L.agree(v, L.active).tolist()[0] == [1.0, 1.0, 1.0]
    assert L.agree(v, L.active)[1, 2] == 2.0 and L.agree(v, L.active)[2, 2] == 3.0


def test_members_outside_their_lifetime_are_not_counted():
    ents = Entities(ids=("S", "A", "B", "C"), names=tuple("SABC"),
                    kinds=("ics", "trust", "trust", "trust"), types=("", "acute", "acute", "acute"),
                    parents=("", "S", "S", "S"), regions=("",) * 4,
                    starts=("", "", "", "2021-07"), ends=("", "2021-06", "2021-06", ""),
                    successors=("", "C", "C", ""))
    x = [[1, 0, 1, N], [1, 1, 1, N], [N, N, N, 1]]
    r = probe({"count": "count(members, x)", "share": "share(members, x)",
               "all": "all(members, x)", "n": "sum(members, 1)"},
              ents=ents, data={"x": x}, inputs={"x": {"type": "flag"}}, n_periods=3,
              entity=["ics", "trust"])
    S = 0
    # before 2021-Q3 the members are A and B (C's missing values do not count); then C alone
    assert r["count"][:, S].tolist() == [1, 2, 1]
    assert r["share"][:, S].tolist() == [50, 100, 100]
    assert r["all"][:, S].tolist() == [0, 1, 1]
    assert r["n"][:, S].tolist() == [2, 2, 1]
