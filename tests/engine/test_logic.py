"""Three-valued logic, comparisons, arithmetic, missing data and strings (reference.py's
docstring; design.md §5 "missing data is unknown, not false"). Each probe also checks that the
compiled kernel computes the same values."""

from __future__ import annotations

from numpy.testing import assert_array_equal

from engine_probe import N, probe, trusts

FLAGS = {"a": {"type": "flag"}, "b": {"type": "flag"}}
# every pair of true (1), false (0) and unknown (N)
A = [1, 1, 1, 0, 0, 0, N, N, N]
B = [1, 0, N, 1, 0, N, 1, 0, N]


def test_kleene_truth_tables():
    r = probe({"and": "a and b", "or": "a or b", "not": "not a", "eq": "a == b",
               "ne": "a != b", "and_or": "a and b or not a"},
              ents=trusts(["acute"] * 9), inputs=FLAGS, data={"a": A, "b": B})
    assert_array_equal(r["and"][0], [1, 0, N, 0, 0, 0, N, 0, N])
    assert_array_equal(r["or"][0], [1, 1, 1, 1, 0, N, 1, N, N])
    assert_array_equal(r["not"][0], [0, 0, 0, 1, 1, 1, N, N, N])
    assert_array_equal(r["eq"][0], [1, 0, N, 0, 1, N, N, N, N])
    assert_array_equal(r["ne"][0], [0, 1, N, 1, 0, N, N, N, N])
    # (a and b) or (not a): true when a is false, whatever b is
    assert_array_equal(r["and_or"][0], [1, 0, N, 1, 1, 1, N, N, N])


def test_comparisons_with_unknowns_are_unknown():
    x = [1, 2, 3, N, 2]
    y = [2, 2, 2, 2, N]
    r = probe({"lt": "x < y", "le": "x <= y", "gt": "x > y", "ge": "x >= y", "eq": "x == y",
               "ne": "x != y"},
              ents=trusts(["acute"] * 5), inputs={"x": {"type": "number"}, "y": {"type": "number"}},
              data={"x": x, "y": y})
    assert_array_equal(r["lt"][0], [1, 0, 0, N, N])
    assert_array_equal(r["le"][0], [1, 1, 0, N, N])
    assert_array_equal(r["gt"][0], [0, 0, 1, N, N])
    assert_array_equal(r["ge"][0], [0, 1, 1, N, N])
    assert_array_equal(r["eq"][0], [0, 1, 0, N, N])
    assert_array_equal(r["ne"][0], [1, 0, 1, N, N])


def test_in_and_between_are_kleene():
    x = [1, 2, N, 10, 0, 1.5]
    lo = [N, N, 0, N, 1, 1]
    r = probe({"in": "x in [1, 3]", "not_in": "x not in [1, 3]",
               "in_unknown": "x in [1, lo]",
               "between": "x between 1 and 2", "between_unknown_low": "x between lo and 5"},
              ents=trusts(["acute"] * 6),
              inputs={"x": {"type": "number"}, "lo": {"type": "number"}},
              data={"x": x, "lo": lo})
    assert_array_equal(r["in"][0], [1, 0, N, 0, 0, 0])
    assert_array_equal(r["not_in"][0], [0, 1, N, 1, 1, 1])
    # 1 is in the list whatever lo is; 2 might equal the unknown lo
    assert_array_equal(r["in_unknown"][0], [1, N, N, N, 0, 0])
    assert_array_equal(r["between"][0], [1, 1, N, 0, 0, 1])
    # above the known upper bound: false even though the lower bound is unknown
    assert_array_equal(r["between_unknown_low"][0], [N, N, N, 0, 0, 1])


def test_if_with_an_unknown_condition_is_unknown():
    a = [1, 0, N, N]
    x = [5, 5, 5, 5]
    y = [7, 7, 7, 5]
    r = probe({"v": "if a then x else y", "same": "if a then x else x",
               "s": 'if a then "p" else "q"', "s_missing": 'missing(if a then "p" else "q")'},
              ents=trusts(["acute"] * 4), inputs={"a": {"type": "flag"}, "x": {"type": "number"},
                                                  "y": {"type": "number"}},
              data={"a": a, "x": x, "y": y})
    assert_array_equal(r["v"][0], [5, 7, N, N])
    # unknown even where both branches agree: the condition was not known
    assert_array_equal(r["same"][0], [5, 5, N, N])
    assert list(r["s"][0][:2]) == ["p", "q"] and r["s"][0][2] is None
    assert_array_equal(r["s_missing"][0], [0, 0, 1, 1])


def test_arithmetic_and_division_by_zero():
    x = [6, 6, 0, N, -3]
    y = [3, 0, 0, 2, 2]
    r = probe({"div": "x / y", "sum": "x + y", "diff": "x - y", "prod": "x * y",
               "neg": "-x", "div_is_missing": "missing(x / y)"},
              ents=trusts(["acute"] * 5), inputs={"x": {"type": "number"}, "y": {"type": "number"}},
              data={"x": x, "y": y})
    assert_array_equal(r["div"][0], [2, N, N, N, -1.5])
    assert_array_equal(r["sum"][0], [9, 6, 0, N, -1])
    assert_array_equal(r["diff"][0], [3, 6, 0, N, -5])
    assert_array_equal(r["prod"][0], [18, 0, 0, N, -6])
    assert_array_equal(r["neg"][0], [-6, -6, 0, N, 3])
    assert_array_equal(r["div_is_missing"][0], [0, 1, 1, 1, 0])


def test_units_literals():
    r = probe({"pct": "p >= 95%", "money": "m <= -£1.5m", "k": "m + £500k"},
              ents=trusts(["acute"] * 3),
              inputs={"p": {"type": "percent"}, "m": {"type": "money"}},
              data={"p": [95, 94.9, N], "m": [-1.5e6, -1e6, N]})
    assert_array_equal(r["pct"][0], [1, 0, N])
    assert_array_equal(r["money"][0], [1, 0, N])
    assert_array_equal(r["k"][0], [-1e6, -5e5, N])


def test_missing_and_coalesce():
    x = [1, N, N, N]
    y = [2, 3, N, N]
    r = probe({"missing": "missing(x)", "coalesce": "coalesce(x, y, 0)",
               "coalesce2": "coalesce(x, y)", "flag": "missing(a)"},
              ents=trusts(["acute"] * 4),
              inputs={"x": {"type": "number"}, "y": {"type": "number"}, "a": {"type": "flag"}},
              data={"x": x, "y": y, "a": [0, 1, N, 0]})
    # missing() is never unknown itself
    assert_array_equal(r["missing"][0], [0, 1, 1, 1])
    assert_array_equal(r["coalesce"][0], [1, 3, 0, 0])
    assert_array_equal(r["coalesce2"][0], [1, 3, N, N])
    assert_array_equal(r["flag"][0], [0, 0, 1, 0])


def test_abs_round_half_to_even_and_position():
    x = [2.5, 3.5, -1.5, 0.125, -2.0, N]
    r = probe({"abs": "abs(x)", "r0": "round(x, 0)", "r2": "round(x, 2)",
               "pos": "position(q)", "pos_level": "position(previous(level))"},
              ents=trusts(["acute"] * 6), scales={"cqc": ["good", "fair", "poor"]},
              inputs={"x": {"type": "number"}, "q": {"type": "rating", "scale": "cqc"}},
              data={"x": x, "q": [0, 1, 2, N, 0, 1]})
    assert_array_equal(r["abs"][0], [2.5, 3.5, 1.5, 0.125, 2, N])
    assert_array_equal(r["r0"][0], [2, 4, -2, 0, -2, N])
    assert_array_equal(r["r2"][0], [2.5, 3.5, -1.5, 0.12, -2, N])
    assert_array_equal(r["pos"][0], [1, 2, 3, N, 1, 2])
    # there is no previous period in the first one
    assert_array_equal(r["pos_level"][0], [N] * 6)


def test_ratings_compare_on_their_scale_order():
    q = [0, 1, 2, N]
    r = probe({"worse": "q >= fair", "eq": "q == poor", "in": "q in [good, poor]",
               "between": "q between good and fair", "max_of": "max_of(q, fair)"},
              ents=trusts(["acute"] * 4), scales={"cqc": ["good", "fair", "poor"]},
              inputs={"q": {"type": "rating", "scale": "cqc"}}, data={"q": q})
    assert_array_equal(r["worse"][0], [0, 1, 1, N])
    assert_array_equal(r["eq"][0], [0, 0, 1, N])
    assert_array_equal(r["in"][0], [1, 0, 1, N])
    assert_array_equal(r["between"][0], [1, 1, 0, N])
    # max_of skips the missing value: the worse of the two labels
    assert_array_equal(r["max_of"][0], [1, 1, 2, 1])


def test_entity_attributes_and_strings():
    ents = trusts(["acute", "ambulance", "mental_health", "-"])
    r = probe({"acute": 'type == "acute"', "in": 'type in ["acute", "ambulance"]',
               "kind": "kind != 'trust'", "empty": 'type == ""', "id": 'id == "T2"',
               "no_parent": 'parent.type == ""', "no_parent_missing": "missing(parent.type)"},
              ents=ents, inputs={"x": {"type": "number"}}, data={"x": [1, 2, 3, 4]})
    assert_array_equal(r["acute"][0], [1, 0, 0, 0])
    assert_array_equal(r["in"][0], [1, 1, 0, 0])
    assert_array_equal(r["kind"][0], [0, 0, 0, 0])
    assert_array_equal(r["empty"][0], [0, 0, 0, 1])
    assert_array_equal(r["id"][0], [0, 0, 1, 0])
    # an entity with no parent has an empty parent type: known, not unknown
    assert_array_equal(r["no_parent"][0], [1, 1, 1, 1])
    assert_array_equal(r["no_parent_missing"][0], [0, 0, 0, 0])


def test_mean_min_max_sum_count_of_skip_missing_values():
    x = [1, N, N, 4]
    y = [3, 2, N, N]
    a = [1, 0, N, 1]
    r = probe({"mean": "mean_of(x, y)", "min": "min_of(x, y)", "max": "max_of(x, y)",
               "sum": "sum_of(x, y)", "count": "count_of(a, x > 0, y > 2)"},
              ents=trusts(["acute"] * 4),
              inputs={"x": {"type": "number"}, "y": {"type": "number"}, "a": {"type": "flag"}},
              data={"x": x, "y": y, "a": a})
    assert_array_equal(r["mean"][0], [2, 2, N, 4])
    assert_array_equal(r["min"][0], [1, 2, N, 4])
    assert_array_equal(r["max"][0], [3, 2, N, 4])
    assert_array_equal(r["sum"][0], [4, 2, N, 4])
    # count_of is unknown if any condition is unknown
    assert_array_equal(r["count"][0], [3, N, N, N])
