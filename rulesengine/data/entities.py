"""The entities table: one row per organisation with its attributes (`entity,name,kind,type,
parent,region`; only `entity` is required, an empty kind means `trust`, `parent` must be
another entity of the table, and parents must not form a cycle)."""

from __future__ import annotations

from ..diagnostics import did_you_mean
from .panel import ENTITY_COLUMNS, Entities
from .read import _cell, _Errors, _missing_columns, _Table
from .values import _clip


class _Roster:
    """The entities of a panel being loaded, in order: an entities table's rows, or the
    entities given, or (without either) each entity as the data first names it."""

    def __init__(self) -> None:
        self.ids: list[str] = []
        self.index: dict[str, int] = {}
        self.attrs: list[tuple[str, str, str, str, str]] = []   # name kind type parent region

    def add(self, eid: str, attrs: tuple[str, str, str, str, str]) -> None:
        self.index[eid] = len(self.ids)
        self.ids.append(eid)
        self.attrs.append(attrs)

    def use(self, ents: Entities) -> None:
        for row in zip(ents.ids, ents.names, ents.kinds, ents.types, ents.parents,
                       ents.regions):
            self.add(row[0], tuple(row[1:]))

    def entities(self) -> Entities:
        names, kinds, types, parents, regions = (tuple(col) for col in zip(*self.attrs))
        return Entities(tuple(self.ids), names, kinds, types, parents, regions)

    def read(self, t: _Table, errors: _Errors) -> None:
        """Read an entities table, reporting empty and repeated ids, unknown parents and
        cycles of parents to `errors`."""
        ent = t.find("entity")
        if ent is None:
            _missing_columns(t, ["entity"], errors)
            return
        cols = {name: t.find(name) for name in ENTITY_COLUMNS[1:]}
        cols = {k: (c.as_strings() if c is not None else None) for k, c in cols.items()}
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
            self.add(eid, (values["name"], values["kind"], values["type"], values["parent"],
                           values["region"]))
            if values["parent"]:
                parent_at.append((eid, values["parent"], line))
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
