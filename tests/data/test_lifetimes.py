"""Organisations of their era: the entities table's `from`, `to` and `successor` columns, read
with clear errors, written back, cached, and applied by every engine (an organisation outside
its lifetime is not evaluated: not a subject, so no outcome, never a level)."""

from __future__ import annotations

import numpy as np
from numpy.testing import assert_array_equal

from rulesengine.data.loaders import load_panel, write_panel
from rulesengine.data.panel import Entities
from rulesengine.pipeline.run import evaluate

from .helpers import headlines, make_policy, write

ENTITIES = """entity,kind,from,to,successor
A,trust,,2022-06,C
B,trust,2021/22,2022-06-30,C
C,trust,2022-Q3,,
"""
DATA = """entity,period,x
A,2022-01,1
B,2022-05,2
C,2022-07,3
C,2022-12,4
"""


def test_lifetimes_are_read_as_months(tmp_path):
    write(tmp_path, "entities.csv", ENTITIES)
    write(tmp_path, "m.csv", DATA)
    ents = load_panel(tmp_path).entities
    # `from` is its period's first month, `to` its last: 2021/22 from April 2021, 2022-06-30
    # in June 2022, 2022-Q3 from July 2022.
    assert ents.starts == ("", "2021-04", "2022-07")
    assert ents.ends == ("2022-06", "2022-06", "")
    assert ents.successors == ("C", "C", "")


def test_alive_in_any_month_of_the_period(tmp_path):
    ents = Entities(("A", "B", "C"), ("",) * 3, ("trust",) * 3, ("",) * 3, ("",) * 3,
                    ("",) * 3, ("", "2021-04", "2022-08"), ("2022-06", "2022-05", ""),
                    ("C", "C", ""))
    # quarters 2022-Q1 .. 2022-Q4: C begins in August, inside Q3
    assert_array_equal(ents.alive("quarter", 2022 * 4, 4),
                       [[1, 1, 0], [1, 1, 0], [0, 0, 1], [0, 0, 1]])
    # financial years 2021/22 and 2022/23: A and B exist in some month of 2022/23 too
    assert_array_equal(ents.alive("year", 2021, 2), [[1, 1, 0], [1, 1, 1]])
    # without lifetimes everyone exists throughout
    plain = Entities(("A",), ("",), ("trust",), ("",), ("",), ("",))
    assert not plain.has_lifetimes and plain.alive("month", 0, 2).all()


def test_bad_lifetimes_are_reported_at_their_cells(tmp_path):
    ents = write(tmp_path, "e.csv", """entity,kind,from,to,successor
A,trust,,2022-13,Cx
B,trust,2023,2022-06-30,A
C,trust,2022-07,2021-01,
D,trust,,,C
E,trust,,2020-03,C
""")
    data = write(tmp_path, "m.csv", "entity,period,x\nA,2022-04,1\n")
    assert headlines(lambda: load_panel(data, entities=ents)) == [
        f"{ents}:2:4: error: bad date in column 'to': '2022-13' has no month 13",
        f"{ents}:2:5: error: successor 'Cx' in column 'successor' is not an entity of the "
        f"table; did you mean 'C'?",
        f"{ents}:3:3: error: bad date in column 'from': '2023' is not a period (write "
        f"2019-03, 2021-Q3, 2021/22 Q3 or 2005/06)",
        f"{ents}:4:4: error: entity 'C' ends (2021-01, column 'to') before it begins "
        f"(2022-07, column 'from')",
        f"{ents}:5:5: error: entity 'D' has a successor but no 'to': write the last period "
        f"it existed",
        # a successor must exist the month after: a chain of successors cannot loop back
        f"{ents}:6:5: error: successor 'C' does not exist in 2020-04, the month after 'E' "
        f"ends (it exists from 2022-07 to 2021-01)",
    ]


def test_lifetimes_survive_writing_and_the_cache(tmp_path):
    (tmp_path / "in").mkdir()
    write(tmp_path / "in", "entities.csv", ENTITIES)
    write(tmp_path / "in", "m.csv", DATA)
    panel = load_panel(tmp_path / "in")
    write_panel(panel, tmp_path / "out", fmt="csv")
    header = (tmp_path / "out" / "entities.csv").read_text().splitlines()[0]
    assert header == "entity,name,kind,type,parent,region,from,to,successor"
    again = load_panel(tmp_path / "out")
    assert again.entities == panel.entities and again.digest() == panel.digest()


def test_without_lifetimes_the_entities_table_and_digest_are_unchanged(tmp_path):
    write(tmp_path, "m.csv", DATA)
    panel = load_panel(tmp_path / "m.csv")
    write_panel(panel, tmp_path / "out", fmt="csv")
    header = (tmp_path / "out" / "entities.csv").read_text().splitlines()[0]
    assert header == "entity,name,kind,type,parent,region"


def test_an_organisation_outside_its_lifetime_is_not_evaluated(tmp_path):
    """By every engine: no outcome (not a subject) in a period it did not exist in."""
    write(tmp_path, "entities.csv", ENTITIES)
    write(tmp_path, "m.csv", DATA)
    checked = make_policy(tmp_path, {"x": "{type: number}"}, period="month")
    subjects = {}
    for engine in ("reference", "vectorised", "fused"):
        raw = evaluate(checked, tmp_path, engine=engine).raw
        subjects[engine] = raw.subject
        assert_array_equal(raw.subject, subjects["reference"])
    # months 2022-01 .. 2022-12; A and B to June, C from July
    expected = np.zeros((12, 3), bool)
    expected[:6, 0] = expected[:6, 1] = True
    expected[6:, 2] = True
    assert_array_equal(subjects["reference"], expected)
