"""The entities table: one row per organisation with its attributes (`entity,name,kind,type,
parent,region`; only `entity` is required, an empty kind means `trust`, `parent` must be
another entity of the table, and parents must not form a cycle).

Optional lifetime columns `from,to,successor`: the first and last period the organisation
existed (any period form, `2013-04`, `2013-04-01`, `2013-Q2`, `2013/14`; `from` is read as
that period's first month, `to` as its last; empty for open), and the entity it became (a
merger, a CCG into an ICB). A successor must exist in the month after its predecessor's last,
and a predecessor with a successor needs its `to`: so a chain of successors always moves
forward in time and never loops.
"""

from __future__ import annotations

from ..diagnostics import did_you_mean
from ..periods import PeriodError, check_plausible, first_month, parse_period
from .panel import _SPAN, ENTITY_COLUMNS, LIFETIME_COLUMNS, Entities, month_ordinal
from .read import _cell, _Errors, _missing_columns, _Table
from .values import _clip


class _Roster:
    """The entities of a panel being loaded, in order: an entities table's rows, or the
    entities given, or (without either) each entity as the data first names it."""

    def __init__(self) -> None:
        self.ids: list[str] = []
        self.index: dict[str, int] = {}
        self.attrs: list[tuple[str, str, str, str, str]] = []   # name kind type parent region
        self.lives: list[tuple[str, str, str]] = []                # from to successor

    def add(self, eid: str, attrs: tuple[str, str, str, str, str],
            life: tuple[str, str, str] = ("", "", "")) -> None:
        self.index[eid] = len(self.ids)
        self.ids.append(eid)
        self.attrs.append(attrs)
        self.lives.append(life)

    def use(self, ents: Entities) -> None:
        for row in zip(ents.ids, ents.names, ents.kinds, ents.types, ents.parents,
                       ents.regions, ents.starts, ents.ends, ents.successors):
            self.add(row[0], tuple(row[1:6]), tuple(row[6:]))

    def entities(self) -> Entities:
        names, kinds, types, parents, regions = (tuple(col) for col in zip(*self.attrs))
        starts, ends, successors = (tuple(col) for col in zip(*self.lives))
        return Entities(tuple(self.ids), names, kinds, types, parents, regions, starts, ends,
                        successors)

    def read(self, t: _Table, errors: _Errors) -> None:
        """Read an entities table, reporting empty and repeated ids, unknown parents and
        cycles of parents to `errors`."""
        ent = t.find("entity")
        if ent is None:
            _missing_columns(t, ["entity"], errors)
            return
        cols = {name: t.find(name) for name in ENTITY_COLUMNS[1:]}
        cols = {k: (c.as_strings() if c is not None else None) for k, c in cols.items()}
        life_cols = {name: t.find(name) for name in LIFETIME_COLUMNS}
        life_cols = {k: (c.as_strings() if c is not None else None)
                     for k, c in life_cols.items()}
        successor_at: list[tuple[str, str, int]] = []    # (entity, successor, line)
        ent = ent.as_strings()
        first_line: dict[str, int] = {}
        parent_at: list[tuple[str, str, int]] = []    # (entity, parent, line)
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
            first_line[eid] = line
            values = {k: (_cell(c, r) if c is not None else "") for k, c in cols.items()}
            values["kind"] = values["kind"] or "trust"
            life = {k: (_cell(c, r) if c is not None else "") for k, c in life_cols.items()}
            start = _month(life["from"], "from", life_cols["from"], t, line, errors)
            end = _month(life["to"], "to", life_cols["to"], t, line, errors)
            if start and end and month_ordinal(end) < month_ordinal(start):
                errors.add(f"entity '{_clip(eid)}' ends ({end}, column 'to') before it begins "
                           f"({start}, column 'from')", t.file, line, life_cols["to"].col)
            if life["successor"]:
                successor_at.append((eid, life["successor"], line))
            self.add(eid, (values["name"], values["kind"], values["type"], values["parent"],
                           values["region"]), (start, end, life["successor"]))
            if values["parent"]:
                parent_at.append((eid, values["parent"], line))
        if successor_at:
            self._check_successors(t, successor_at, life_cols["successor"].col, errors)
        pcol = cols["parent"].col if cols["parent"] is not None else 1
        parents = {}
        for eid, parent, line in parent_at:
            if parent not in self.index:
                errors.add(f"parent '{_clip(parent)}' in column 'parent' is not an entity "
                           f"of the table{did_you_mean(parent, self.ids)}", t.file, line, pcol)
            else:
                parents[eid] = parent
        # Cycles: follow each chain of parents; a chain that meets itself is reported once,
        # at the line of its entity that comes first in the table.
        state: dict[str, int] = {}            # 1 = on the current chain, 2 = done
        for eid in self.ids:
            chain: list[str] = []
            node = eid
            while node in parents and state.get(node) is None:
                state[node] = 1
                chain.append(node)
                node = parents[node]
            if node in parents and state.get(node) == 1:
                loop = chain[chain.index(node):]
                first = min(loop, key=lambda e: first_line[e])
                k = loop.index(first)
                loop = loop[k:] + loop[:k]
                text = " -> ".join(loop + [first])
                errors.add(f"the parent hierarchy has a cycle: {text}", t.file,
                           first_line[first], pcol)
            for n in chain:
                state[n] = 2

    def _check_successors(self, t: _Table, successor_at: list[tuple[str, str, int]],
                          col: int, errors: _Errors) -> None:
        """Each successor is an entity of the table that exists in the month after its
        predecessor's last (so following successors moves forward in time and ends)."""
        for eid, succ, line in successor_at:
            if succ not in self.index:
                errors.add(f"successor '{_clip(succ)}' in column 'successor' is not an entity "
                           f"of the table{did_you_mean(succ, self.ids)}", t.file, line, col)
                continue
            _, end, _ = self.lives[self.index[eid]]
            if not end:
                errors.add(f"entity '{_clip(eid)}' has a successor but no 'to': write the "
                           f"last period it existed", t.file, line, col)
                continue
            s_start, s_end, _ = self.lives[self.index[succ]]
            after = month_ordinal(end) + 1
            if (s_start and month_ordinal(s_start) > after) or \
                    (s_end and month_ordinal(s_end) < after):
                shown = f"{after // 12:04d}-{after % 12 + 1:02d}"
                errors.add(f"successor '{_clip(succ)}' does not exist in {shown}, the month "
                           f"after '{_clip(eid)}' ends (it exists from "
                           f"{s_start or 'the start'} to {s_end or 'the end'})", t.file, line,
                           col)


def _month(text: str, name: str, column, t: _Table, line: int, errors: _Errors) -> str:
    """A lifetime bound as a month `2013-04` ("" when empty or bad, which is reported):
    `from` is its period's first month, `to` its last."""
    if not text:
        return ""
    try:
        period = check_plausible(parse_period(text), text)
    except PeriodError as e:
        errors.add(f"bad date in column '{name}': {e}", t.file, line, column.col)
        return ""
    month = first_month(period) + (_SPAN[period.kind] - 1 if name == "to" else 0)
    return f"{month // 12:04d}-{month % 12 + 1:02d}"
