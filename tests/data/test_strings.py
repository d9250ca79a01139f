"""The dictionary-encoded string column (data/strings.py) that holds the entities table: built
from strings or from codes, it reads as the tuple of its strings would, in one canonical form."""

from __future__ import annotations

import pickle
import random

import numpy as np
import pytest

from rulesengine.data.panel import Entities
from rulesengine.data.strings import Strings

WORDS = ["", "a", "B", "é", "a b", "z", "ICS01", "日本", "trust", "a\u0301"]


def _column(rng: random.Random, n: int, spread: int) -> tuple[str, ...]:
    return tuple(rng.choice(WORDS) + (str(rng.randrange(spread)) if spread > 1 else "")
                 for _ in range(n))


def _check_canonical(col: Strings, expected: tuple[str, ...]) -> None:
    assert tuple(col) == expected
    assert col.values == tuple(sorted(set(expected)))
    assert col.codes.dtype == np.int64 and not col.codes.flags.writeable
    assert [col.values[k] for k in col.codes.tolist()] == list(expected)


@pytest.mark.parametrize("spread", [1, 3, 500])
@pytest.mark.parametrize("n", [0, 1, 7, 2000])
def test_built_from_strings_reads_back_the_strings(spread, n):
    expected = _column(random.Random(n * 1000 + spread), n, spread)
    for given in (expected, list(expected), np.array(expected, dtype=object)):
        col = Strings(given)
        _check_canonical(col, expected)
        assert len(col) == n
        assert all(type(v) is str for v in col)
        if n:
            assert col[0] == expected[0] and col[-1] == expected[-1]
            assert type(col[n // 2]) is str


def test_built_from_codes_is_normalised():
    # values out of order, repeated, unused, and a null (-1)
    col = Strings.from_codes(np.array([3, 0, -1, 1, 3], np.int32), ["z", "b", "z", "a", "q"])
    _check_canonical(col, ("a", "z", "", "b", "a"))
    assert "q" not in col.values
    same = Strings(("a", "z", "", "b", "a"))
    assert col == same and hash(col) == hash(same)
    assert Strings.from_codes([], ["x"]) == Strings(()) and Strings(()).values == ()
    with pytest.raises(ValueError):
        Strings.from_codes([0, 2], ["a", "b"])
    with pytest.raises(ValueError):
        Strings.from_codes([[0]], ["a"])


def test_a_column_of_distinct_ids_many_values_and_unicode():
    rng = random.Random(5)
    ids = tuple(f"{rng.choice(WORDS)}-{i:06d}" for i in range(5000))
    col = Strings(ids)
    _check_canonical(col, ids)
    assert len(col.values) == len(ids)
    assert col.index(ids[4321]) == 4321 and ids[17] in col and "nope" not in col
    assert np.array_equal(col.last_rows()[col.codes], np.arange(len(ids)))
    picked = ("nope", ids[3], ids[4999], "", ids[0])
    assert col.lookup(picked).tolist() == [
        col.values.index(v) if v in col.values else -1 for v in picked]
    many = Strings(picked[1:] * 40)
    assert col.lookup(many).tolist() == [col.values.index(v) if v in col.values else -1
                                         for v in many.values]


def test_sequence_behaviour():
    col = Strings(("b", "a", "b", "", "c"))
    assert list(col) == ["b", "a", "b", "", "c"]
    assert list(reversed(col)) == ["c", "", "b", "a", "b"]
    assert col.index("b") == 0 and col.index("b", 1) == 2 and col.count("b") == 2
    assert col.count("zz") == 0 and "a" in col and 3 not in col
    with pytest.raises(ValueError):
        col.index("zz")
    with pytest.raises(IndexError):
        col[5]
    assert col[1:4] == ("a", "b", "") and col[::-1] == tuple(reversed(tuple(col)))
    assert col[1:4].values == ("", "a", "b")          # only the values the rows hold
    assert col.take([4, 4, 0]) == ("c", "c", "b") and col.take([4, 4, 0]).values == ("b", "c")
    assert col.take([]) == () and len(col.take(np.zeros(0, np.int64))) == 0
    assert col + ("d",) == ("b", "a", "b", "", "c", "d")
    assert Strings.concat([col, Strings(("a",)), ()]) == tuple(col) + ("a",)
    assert Strings.repeat("x", 3) == ("x", "x", "x") and Strings.repeat("x", 0).values == ()
    assert col == ["b", "a", "b", "", "c"] and col != ("b",) and col != Strings(("b",))
    assert Strings.of(col) is col and Strings(col).codes is col.codes
    assert pickle.loads(pickle.dumps(col)) == col
    assert np.array(col).tolist() == list(col) and np.array(col, dtype=object)[4] == "c"
    assert np.array(Strings(())).shape == (0,)
    assert repr(col) == "Strings(['b', 'a', 'b', '', ... (5 rows)])"


def test_entities_share_their_columns_and_agree_with_plain_tuples():
    ids = tuple(f"T{i}" for i in range(300)) + ("ICS1", "ICS2")
    parents = tuple("ICS1" if i % 3 else ("ICS2" if i % 2 else "GONE") for i in range(300)) \
        + ("", "ICS1")
    kinds = ("trust",) * 300 + ("ics",) * 2
    ents = Entities(ids, ids, kinds, ("acute",) * 302, parents, ("R",) * 302)
    again = Entities(*ents.columns())
    assert again == ents and hash(again) == hash(ents)
    assert all(a is b for a, b in zip(again.columns(), ents.columns()))   # no copy, no coding
    index = {e: i for i, e in enumerate(ids)}
    assert ents.parent_index().tolist() == [index.get(p, -1) if p else -1 for p in parents]
    codes, values = ents.codes("kind")
    assert values == ("ics", "trust") and codes is ents.kinds.codes
    rows = [301, 0, 5]
    taken = ents.take(rows)
    assert taken.ids == tuple(ids[r] for r in rows)
    assert taken.parents == tuple(parents[r] for r in rows)
    assert taken.parent_index().tolist() == [-1, -1, -1]    # ICS1 is no longer in the table
    empty = Entities((), (), (), (), (), ())
    assert len(empty) == 0 and not empty.has_lifetimes and empty.parent_index().size == 0
    assert ents.take([]) == empty


def test_entities_from_codes():
    ents = Entities.from_codes({
        "ids": (np.array([1, 0, 2]), ["b", "a", "c"]), "names": (np.zeros(3, int), ["N"]),
        "kinds": (np.array([0, 0, -1]), ["trust"]), "types": (np.zeros(3, int), [""]),
        "parents": (np.array([2, 2, 0]), ["", "x", "c"]), "regions": (np.zeros(3, int), ["R"])})
    assert ents.ids == ("a", "b", "c") and ents.kinds == ("trust", "trust", "")
    assert ents.parent_index().tolist() == [2, 2, -1] and not ents.has_lifetimes
    assert ents == Entities(("a", "b", "c"), ("N",) * 3, ("trust", "trust", ""), ("",) * 3,
                            ("c", "c", ""), ("R",) * 3)


def test_stored_takes_only_the_canonical_form():
    col = Strings(("b", "a", "b"))
    again = Strings.stored(col.codes.astype(np.uint8), list(col.values))
    assert again == col and again.codes.dtype == np.int64
    assert Strings.stored(np.zeros(0, np.int64), []) == Strings(())
    for codes, values in (([1, 0, 1], ["b", "a"]),        # not sorted
                          ([0, 0, 0], ["a", "b"]),        # a value no row holds
                          ([0, 2, 0], ["a", "b"]),        # a code past the values
                          ([0, -1, 0], ["a"]),            # a null
                          ([0, 1, 0], ["a", "a"]),        # repeated
                          ([0, 1, 0], ["a", 1]),          # not a string
                          ([], ["a"])):
        with pytest.raises(ValueError):
            Strings.stored(np.array(codes, np.int64), values)
