"""Reading the entities table with NumPy over its rows (data/entities.py) finds the same
entities and reports the same problems, at the same places, as reading it a row at a time
(the definition below, as the loader was first written)."""

from __future__ import annotations

import random

import pytest

from rulesengine.data.entities import _month, _Roster
from rulesengine.data.panel import ENTITY_COLUMNS, LIFETIME_COLUMNS, Entities, month_ordinal
from rulesengine.data.read import _cell, _Errors, _read_table
from rulesengine.data.values import _clip
from rulesengine.diagnostics import did_you_mean


def _row_at_a_time(t, errors) -> Entities:
    """The entities table read one row at a time: the definition the NumPy reading keeps."""
    ent = t.find("entity").as_strings()
    cols = {k: (c.as_strings() if c is not None else None)
            for k, c in ((n, t.find(n)) for n in ENTITY_COLUMNS[1:])}
    life_cols = {k: (c.as_strings() if c is not None else None)
                 for k, c in ((n, t.find(n)) for n in LIFETIME_COLUMNS)}
    ids, rows, first_line, index, line_of = [], [], {}, {}, {}

    def month(text, name, line):
        value, problem = _month(text, name)
        if problem is not None:
            errors.add(f"bad date in column '{name}': {problem}", t.file, line,
                       life_cols[name].col)
        return value

    for r in range(t.n_rows):
        line = int(t.lines[r])
        eid = _cell(ent, r)
        if not eid:
            errors.add("empty entity id in column 'entity'", t.file, line, ent.col)
            continue
        if eid in first_line:
            errors.add(f"entity '{_clip(eid)}' appears twice in the entities table "
                       f"(first at line {first_line[eid]})", t.file, line, ent.col)
            continue
        first_line[eid] = line_of[eid] = line
        v = {k: (_cell(c, r) if c is not None else "") for k, c in cols.items()}
        life = {k: (_cell(c, r) if c is not None else "") for k, c in life_cols.items()}
        start, end = month(life["from"], "from", line), month(life["to"], "to", line)
        if start and end and month_ordinal(end) < month_ordinal(start):
            errors.add(f"entity '{_clip(eid)}' ends ({end}, column 'to') before it begins "
                       f"({start}, column 'from')", t.file, line, life_cols["to"].col)
        index[eid] = len(ids)
        ids.append(eid)
        rows.append((eid, v["name"], v["kind"] or "trust", v["type"], v["parent"], v["region"],
                     start, end, life["successor"]))
    for eid, *_, end, succ in rows:
        if not succ:
            continue
        col, line = life_cols["successor"].col, line_of[eid]
        if succ not in index:
            errors.add(f"successor '{_clip(succ)}' in column 'successor' is not an entity "
                       f"of the table{did_you_mean(succ, ids)}", t.file, line, col)
        elif not end:
            errors.add(f"entity '{_clip(eid)}' has a successor but no 'to': write the "
                       f"last period it existed", t.file, line, col)
        else:
            s_start, s_end = rows[index[succ]][6:8]
            after = month_ordinal(end) + 1
            if (s_start and month_ordinal(s_start) > after) or \
                    (s_end and month_ordinal(s_end) < after):
                errors.add(f"successor '{_clip(succ)}' does not exist in "
                           f"{after // 12:04d}-{after % 12 + 1:02d}, the month after "
                           f"'{_clip(eid)}' ends (it exists from {s_start or 'the start'} "
                           f"to {s_end or 'the end'})", t.file, line, col)
    pcol = cols["parent"].col if cols["parent"] is not None else 1
    parents = {}
    for eid, _, _, _, parent, *_ in rows:
        if parent and parent not in index:
            errors.add(f"parent '{_clip(parent)}' in column 'parent' is not an entity "
                       f"of the table{did_you_mean(parent, ids)}", t.file, line_of[eid], pcol)
        elif parent:
            parents[eid] = parent
    state: dict[str, int] = {}
    for eid in ids:
        chain, node = [], eid
        while node in parents and state.get(node) is None:
            state[node] = 1
            chain.append(node)
            node = parents[node]
        if node in parents and state.get(node) == 1:
            loop = chain[chain.index(node):]
            first = min(loop, key=lambda e: first_line[e])
            k = loop.index(first)
            loop = loop[k:] + loop[:k]
            errors.add(f"the parent hierarchy has a cycle: {' -> '.join(loop + [first])}",
                       t.file, first_line[first], pcol)
        for n in chain:
            state[n] = 2
    return Entities(*(tuple(c) for c in zip(*rows))) if rows else Entities((), (), (), (), (), ())


def _table(rng: random.Random, n: int) -> str:
    ids = [rng.choice(["T", "C", "Ü", "ICS"]) + str(rng.randrange(n + 3)) for _ in range(n)]
    ids[rng.randrange(n)] = ""                            # an empty id
    dates = ["", "", "", "2013-04", "2015-Q2", "2016/17", "2019-03-31", "not a date",
             "2031-13"]
    lines = ["entity,name,kind,type,parent,region,from,to,successor"]
    for i, eid in enumerate(ids):
        parent = rng.choice(["", "", rng.choice(ids), "  " + rng.choice(ids), "GONE"])
        successor = rng.choice(["", "", "", rng.choice(ids), "NOWHERE"])
        lines.append(",".join([
            eid if rng.random() > 0.05 else f" {eid} ", f"Name {i}",
            rng.choice(["", "trust", "ics"]), rng.choice(["", "acute", "mental health"]),
            parent, rng.choice(["", "North", "South"]), rng.choice(dates), rng.choice(dates),
            successor]))
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("seed", range(12))
def test_numpy_reading_equals_reading_row_by_row(tmp_path, seed):
    rng = random.Random(seed)
    path = tmp_path / "entities.csv"
    path.write_text(_table(rng, rng.choice([3, 10, 40, 200])), encoding="utf-8")
    got_errors, want_errors = _Errors(), _Errors()
    table = _read_table(path, "entities.csv", got_errors)
    roster = _Roster()
    roster.read(table, got_errors)
    want = _row_at_a_time(_read_table(path, "entities.csv", _Errors()), want_errors)

    def shown(errors):
        return sorted((d.pos.line, d.pos.col, d.message) for d in errors.items)

    assert shown(got_errors) == shown(want_errors)
    assert roster.entities() == want
    assert roster.ids == list(want.ids) and roster.index == want.index


def test_roster_adds_entities_the_data_names_after_a_table(tmp_path):
    roster = _Roster()
    roster.use(Entities(("A", "B"), ("a", "b"), ("trust", "ics"), ("", ""), ("B", ""),
                        ("", "")))
    roster.add("C", ("", "trust", "", "", ""))
    ents = roster.entities()
    assert ents.ids == ("A", "B", "C") and ents.kinds == ("trust", "ics", "trust")
    assert ents.parent_index().tolist() == [1, -1, -1] and roster.index == {"A": 0, "B": 1, "C": 2}
    bare = _Roster()
    bare.add("X", ("", "trust", "", "", ""))
    assert bare.entities() == Entities(("X",), ("",), ("trust",), ("",), ("",), ("",))
    assert len(_Roster().entities()) == 0
