"""The entities table's derived arrays (attribute codes, parent rows, lifetimes): built from
the distinct values, they equal the definitions written per entity."""

from __future__ import annotations

import random

import numpy as np
import pytest

from rulesengine.data.panel import Entities, month_ordinal
from rulesengine.data.strings import factorize


def _strings(column):
    """The column as a NumPy unicode array, as np.unique would sort it."""
    return np.array(column, dtype=str) if len(column) else np.zeros(0, dtype="<U1")
from rulesengine.periods import Period, first_month


def _column(rng: random.Random, n: int, spread: int) -> tuple[str, ...]:
    return tuple(rng.choice(["", "a", "B", "é", "a b", "z"]) + str(rng.randrange(spread))
                 for _ in range(n))


@pytest.mark.parametrize("spread", [1, 3, 200])
def test_factorize_equals_sorting_the_strings(spread):
    rng = random.Random(spread)
    for n in (0, 1, 5, 70, 1500):
        column = _column(rng, n, spread)
        codes, values = factorize(column)
        expected_values, expected_codes = np.unique(_strings(column), return_inverse=True)
        assert values == tuple(expected_values.tolist())
        assert codes.dtype == np.int64
        np.testing.assert_array_equal(codes, expected_codes.reshape(-1))


@pytest.mark.parametrize("n_parents", [1, 5, 300])
def test_parent_index_is_the_last_row_with_the_parents_id(n_parents):
    rng = random.Random(n_parents)
    n = 400
    ids = tuple(f"E{rng.randrange(n_parents * 2)}" for _ in range(n))
    parents = tuple(rng.choice([*ids[:n_parents], "", "nowhere"]) for _ in range(n))
    ents = Entities(ids, ids, ("trust",) * n, ("acute",) * n, parents, ("R",) * n)
    expected = [max((i for i, x in enumerate(ids) if x == p), default=-1) if p else -1
                for p in parents]
    np.testing.assert_array_equal(ents.parent_index(), expected)


def test_alive_follows_each_lifetime():
    rng = random.Random(3)
    months = ["", "2012-04", "2013-03", "2013-04", "2014-01"]
    n = 60
    starts = tuple(rng.choice(months) for _ in range(n))
    ends = tuple(rng.choice(months) for _ in range(n))
    ents = Entities(tuple(f"E{i}" for i in range(n)), ("",) * n, ("trust",) * n, ("",) * n,
                    ("",) * n, ("",) * n, starts, ends, ("",) * n)
    start = 2012 * 4          # 2012-Q1
    got = ents.alive("quarter", start, 10)
    for t in range(10):
        first = first_month(Period("quarter", start + t))
        for e in range(n):
            lo = month_ordinal(starts[e]) if starts[e] else first
            hi = month_ordinal(ends[e]) if ends[e] else first + 2
            assert got[t, e] == (first + 2 >= lo and first <= hi), (t, e)


@pytest.mark.parametrize("column", [("trust",) * 5, ("",) * 3, ("b", "b", "a"), ("x",)])
def test_factorize_one_value_and_nearly_one(column):
    codes, values = factorize(column)
    expected_values, expected_codes = np.unique(_strings(column), return_inverse=True)
    assert values == tuple(expected_values.tolist())
    np.testing.assert_array_equal(codes, expected_codes.reshape(-1))


def test_has_lifetimes_when_any_column_is_set():
    base = dict(ids=("A", "B"), names=("", ""), kinds=("k", "k"), types=("", ""),
                parents=("", ""), regions=("", ""))
    assert not Entities(**base).has_lifetimes
    for column in ("starts", "ends", "successors"):
        value = "A" if column == "successors" else "2013-04"
        assert Entities(**base, **{column: ("", value)}).has_lifetimes, column
