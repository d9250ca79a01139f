"""explain shows what a window with follow=successor read: its predecessors' values in the
periods before the organisation existed (issue 13)."""

from __future__ import annotations

import rulesengine

POLICY = """\
policy: fx
entity: trust
period: quarter
levels: [{id: ok}, {id: bad}]
default: ok
inputs:
  x: {type: flag}
rules:
  - id: r
    level: bad
    when: sustained(x, 3, follow=successor)
"""
# A and B merge into C in 2021-Q3; both were flagged before
ENTITIES = """\
entity,name,kind,type,parent,region,from,to,successor
A,A,trust,acute,,north,,2021-06,C
B,B,trust,acute,,north,,2021-06,C
C,C,trust,acute,,north,2021-07,,
"""
DATA = "entity,period,x\nA,2021-Q1,1\nB,2021-Q1,1\nA,2021-Q2,1\nB,2021-Q2,0\nC,2021-Q3,1\n"


def test_explain_shows_the_predecessors_values(tmp_path):
    (tmp_path / "fx.yaml").write_text(POLICY)
    (tmp_path / "entities.csv").write_text(ENTITIES)
    (tmp_path / "data.csv").write_text(DATA)
    r = rulesengine.explain(str(tmp_path / "fx.yaml"), "C", str(tmp_path / "data.csv"),
                            entities=str(tmp_path / "entities.csv"), period="2021-Q3")
    # 2021-Q2: A and B disagree (unknown); 2021-Q1: both flagged (true); C's own quarter
    assert ("sustained(x, 3, follow=successor): over the last 3: 2021-Q3 true, "
            "2021-Q2 unknown, 2021-Q1 true (unknown)") in str(r), str(r)
