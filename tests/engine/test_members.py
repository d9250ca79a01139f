"""Across the hierarchy: member aggregates with unknown members and with no members, Kleene
any/all, and values of the parent (an input, a define, an attribute; none without a parent)."""

from __future__ import annotations

from numpy.testing import assert_array_equal

from engine_probe import N, entities, probe

#                 kind   type    parent
ENTS = entities("R0 region - - north",
                "S0 ics system R0 north", "S1 ics system R0 north", "S2 ics system - north",
                "S3 ics system R0 south",
                "T0 trust acute S0 north", "T1 trust acute S0 north", "T2 trust acute S0 north",
                "T3 trust acute S1 north", "T4 trust acute S1 north",
                "T5 trust acute S3 south", "T6 trust acute S3 south",
                "T7 trust acute ZZ south")         # a parent not in the table: none
#    R0   S0  S1  S2  S3   T0 T1 T2 T3 T4 T5 T6 T7
X = [100, 10, 20, 30, 40, 1, 2, 3, N, 5, 6, 7, 8]
A = [1, 0, 1, 0, N, 1, 0, 1, N, 1, 0, N, 1]
INPUTS = {"x": {"type": "number"}, "a": {"type": "flag"}}


def members(probes, **kw):
    return probe(probes, ents=ENTS, inputs=INPUTS, data={"x": X, "a": A},
                 entity=["trust", "ics", "region"], **kw)


def test_member_aggregates_with_unknown_and_no_members():
    r = members({"count": "count(members, a)", "share": "share(members, a)",
                 "sum": "sum(members, x)", "mean": "mean(members, x)",
                 "min": "min(members, x)", "max": "max(members, x)"})
    trusts = [0] * 8
    # R0's members are S0 S1 S3; S2 and every trust have none
    #                              R0 S0 S1 S2 S3
    assert_array_equal(r["count"][0], [N, 2, N, 0, N] + trusts)
    assert_array_equal(r["share"][0], [N, 200 / 3, N, N, N] + [N] * 8)
    assert_array_equal(r["sum"][0], [70, 6, N, 0, 13] + trusts)
    assert_array_equal(r["mean"][0], [70 / 3, 2, N, N, 6.5] + [N] * 8)
    assert_array_equal(r["min"][0], [10, 1, N, N, 6] + [N] * 8)
    assert_array_equal(r["max"][0], [40, 3, N, N, 7] + [N] * 8)


def test_any_and_all_are_kleene_over_members():
    r = members({"any": "any(members, a)", "all": "all(members, a)",
                 "nested": "any(members, any(members, a))",
                 "cond": "count(members, x >= 2)"})
    #                            R0 S0 S1 S2 S3
    assert_array_equal(r["any"][0], [1, 1, 1, 0, N] + [0] * 8)
    assert_array_equal(r["all"][0], [0, 0, N, 1, 0] + [1] * 8)
    # R0: S0 and S1 have a member meeting a; S3 does not know
    assert_array_equal(r["nested"][0], [1, 0, 0, 0, 0] + [0] * 8)
    assert_array_equal(r["cond"][0], [3, 2, N, 0, 2] + [0] * 8)


def test_parent_values():
    r = members({"x": "parent.x", "sum": "parent.members_sum", "type": 'parent.type == "system"',
                 "flag": "parent.a", "lag": "parent.x[-1]"},
                defines={"members_sum": "sum(members, x)"})
    #                           R0  S0   S1   S2  S3   T0  T1  T2  T3  T4  T5  T6  T7
    assert_array_equal(r["x"][0], [N, 100, 100, N, 100, 10, 10, 10, 20, 20, 40, 40, N])
    assert_array_equal(r["sum"][0], [N, 70, 70, N, 70, 6, 6, 6, N, N, 13, 13, N])
    assert_array_equal(r["type"][0], [0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 0])
    assert_array_equal(r["flag"][0], [N, 1, 1, N, 1, 0, 0, 0, 1, 1, N, N, N])
    assert_array_equal(r["lag"][0], [N] * 13)
