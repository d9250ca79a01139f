"""Diff two policies (or two versions of one) on the same data: what changed in the policy,
which organisations moved between levels, and which change moved each one.

Attribution re-runs B with each change reverted in turn (a changed param through the
kernel's runtime parameters, anything else as a rebuilt policy variant) and credits a move to
every change whose reversal alters that organisation's outcome. Moves no single reversal
explains are credited to the changes together.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace

import numpy as np

from ..check.checker import CheckedPolicy, check
from ..data.sample import sample_panel
from ..diagnostics import PolicyError, RegimeError
from ..engine.outcomes import Outcomes
from ..engine.reuse import Evaluated
from ..lang import ast
from ..lang.parser import NodeIds
from ..periods import PeriodError, format_period, parse_period
from ..pipeline.run import assemble, choose_engine, prepare, run_backend, through
from ..policy.model import Policy
from ..policy.serialize import policy_data
from ..provenance import ProvenancePair


@dataclass(frozen=True)
class Change:
    kind: str               # setting | levels | scale | param | input | define | rule
    name: str
    action: str             # added | removed | changed
    before: str | None      # as text, for a reader
    after: str | None
    before_value: object = None     # as the policy file holds it (numbers as numbers)
    after_value: object = None

    @property
    def key(self) -> str:
        return f"{self.kind} {self.name}"

    @property
    def supporting(self) -> bool:
        """An added or removed param, input or define acts only through the rules that use
        it, so it cannot be reverted (or credited) on its own."""
        return self.kind in ("param", "input", "define", "scale") and self.action != "changed"

    def describe(self) -> str:
        if self.action == "added":
            return f"{self.kind} {self.name} added: {self.after}"
        if self.action == "removed":
            return f"{self.kind} {self.name} removed (was {self.before})"
        return f"{self.kind} {self.name}: {self.before} -> {self.after}"

    def to_json(self) -> dict:
        return {"kind": self.kind, "name": self.name, "key": self.key, "action": self.action,
                "before": _plain_data(self.before_value),
                "after": _plain_data(self.after_value), "text": self.describe()}


@dataclass(frozen=True)
class Move:
    entity: str
    name: str
    before: str             # level under A (label)
    after: str              # level under B (label)
    before_candidate: str | None
    after_candidate: str | None
    fired_a: tuple[str, ...]
    fired_b: tuple[str, ...]
    causes: tuple[str, ...]  # change keys
    before_id: str = ""     # the same levels by id
    after_id: str = ""
    before_candidate_id: str | None = None
    after_candidate_id: str | None = None

    def to_json(self) -> dict:
        return {"entity": self.entity, "name": self.name,
                "before": {"level": self.before_id, "label": self.before,
                           "candidate": self.before_candidate_id,
                           "candidate_label": self.before_candidate},
                "after": {"level": self.after_id, "label": self.after,
                          "candidate": self.after_candidate_id,
                          "candidate_label": self.after_candidate},
                "fired_a": list(self.fired_a), "fired_b": list(self.fired_b),
                "causes": list(self.causes)}


@dataclass(frozen=True)
class DiffResult:
    a: dict                 # id, version, hash, revision
    b: dict
    period: str
    changes: tuple[Change, ...]
    not_revertible: tuple[str, ...]    # changes whose reversal alone does not check
    levels_a: tuple[str, ...]
    levels_b: tuple[str, ...]
    transitions: tuple[tuple[int, ...], ...]     # rows: A's levels, columns: B's levels
    moves: tuple[Move, ...]
    left_scope: tuple[str, ...]     # decided on by A, not by B (e.g. CCGs after 2022)
    entered_scope: tuple[str, ...]  # decided on by B, not by A
    counts: tuple[dict, ...]                       # per period: {"period", "a": {...}, "b": {...}}
    provenance: dict = field(default_factory=dict)
    level_ids_a: tuple[str, ...] = ()
    level_ids_b: tuple[str, ...] = ()
    provenance_pair: ProvenancePair | None = None     # the records behind `provenance`

    def same_level(self) -> np.ndarray:
        """[A's levels, B's levels]: True where the two are the same level (by id), i.e. the
        cells of the transition matrix where nobody moved."""
        return np.array([[a == b for b in self.level_ids_b] for a in self.level_ids_a],
                        dtype=bool).reshape(len(self.level_ids_a), len(self.level_ids_b))

    def to_json(self) -> dict:
        """The JSON document (see rulesengine/report/schemas/diff.schema.json)."""
        return {
            "a": dict(self.a), "b": dict(self.b), "period": self.period,
            "levels": {"a": [{"id": i, "label": lab} for i, lab in zip(self.level_ids_a,
                                                                       self.levels_a)],
                       "b": [{"id": i, "label": lab} for i, lab in zip(self.level_ids_b,
                                                                       self.levels_b)]},
            "changes": [c.to_json() for c in self.changes],
            "not_revertible": list(self.not_revertible),
            "transitions": {"rows": list(self.level_ids_a), "columns": list(self.level_ids_b),
                            "counts": [list(r) for r in self.transitions]},
            "moves": [m.to_json() for m in self.moves],
            "left_scope": list(self.left_scope), "entered_scope": list(self.entered_scope),
            "counts": [dict(c) for c in self.counts],
            "provenance": dict(self.provenance),
        }


def _plain_data(value):
    """A policy value as JSON data: numbers stay numbers; anything YAML could give that JSON
    cannot hold (dates) becomes text."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, dict):
        return {str(k): _plain_data(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain_data(v) for v in value]
    return str(value)


# --- what changed in the policy --------------------------------------------------------------

def _short(value) -> str:
    if isinstance(value, dict):
        if set(value) <= {"value", "unit", "note", "source", "published"} and "value" in value:
            unit = value.get("unit")
            v = value["value"]
            return f"{v}{'%' if unit == 'percent' else ''}" if unit in (None, "number",
                                                                       "percent") else \
                f"{v} {unit}"
        return ", ".join(f"{k}: {_short(v)}" for k, v in value.items()
                         if k not in ("note", "source", "reason", "label", "meaning"))
    if isinstance(value, list):
        return "[" + ", ".join(_short(v) for v in value) + "]"
    return " ".join(str(value).split())


def structural_diff(a: Policy, b: Policy) -> list[Change]:
    """Every difference between two resolved policies, in file order of B."""
    da, db = policy_data(a), policy_data(b)
    out: list[Change] = []
    for key in ("entity", "applies_to", "period", "peer_group", "default", "decide"):
        if da.get(key) != db.get(key):
            out.append(Change("setting", key, _action(key in da, key in db),
                              _short(da[key]) if key in da else None,
                              _short(db[key]) if key in db else None,
                              da.get(key), db.get(key)))
    # Levels change as one list: they are ordered, and a policy replaces them whole.
    if da["levels"] != db["levels"]:
        out.append(Change("levels", "list", "changed", _levels(da["levels"]),
                          _levels(db["levels"]), da["levels"], db["levels"]))
    for section, kind in (("scales", "scale"), ("params", "param"), ("inputs", "input"),
                          ("define", "define")):
        sa, sb = da.get(section, {}), db.get(section, {})
        for k in list(sb) + [k for k in sa if k not in sb]:
            va, vb = sa.get(k), sb.get(k)
            if va == vb:
                continue
            if kind == "param" and va is not None and vb is not None and \
                    _param_value(va) == _param_value(vb):
                continue        # only a note or source changed: no effect on outcomes
            out.append(Change(kind, k, _action(k in sa, k in sb),
                              _short(va) if va is not None else None,
                              _short(vb) if vb is not None else None, va, vb))
    ra = {r["id"]: r for r in da["rules"]}
    rb = {r["id"]: r for r in db["rules"]}
    for k in list(rb) + [k for k in ra if k not in rb]:
        va, vb = ra.get(k), rb.get(k)
        if va is not None and vb is not None and (va["level"], va["when"]) == (vb["level"],
                                                                              vb["when"]):
            continue
        out.append(Change("rule", k, _action(k in ra, k in rb),
                          f"{va['level']} when {_short(va['when'])}" if va else None,
                          f"{vb['level']} when {_short(vb['when'])}" if vb else None, va, vb))
    return out


def _levels(levels: list[dict]) -> str:
    return ", ".join(lv["id"] + (f" (decided by {lv['decided_by']})" if lv.get("decided_by")
                                 else "") for lv in levels)


def _param_value(spec: dict):
    return (spec.get("value"), tuple((v["from"], v["value"]) for v in spec.get("values", [])),
            spec.get("unit"))


def _action(in_a: bool, in_b: bool) -> str:
    return "changed" if in_a and in_b else ("added" if in_b else "removed")


# --- variants of B ---------------------------------------------------------------------------

def revert(b: CheckedPolicy, a: CheckedPolicy, change: Change) -> CheckedPolicy:
    """B with one change reverted to A's version (raises PolicyError if that does not check).

    The variant is built from the two parsed policies, not by writing and re-reading YAML:
    A's expressions are copied with fresh node ids so they can sit beside B's."""
    pa, pb = a.policy, b.policy
    ids = NodeIds(1 + ast.max_nid([d.expr for d in pb.defines.values()]
                                  + [r.when for r in pb.rules]
                                  + [pb.applies_to.expr if pb.applies_to else None]))

    def fresh(item):
        """A's define or rule with its expression renumbered."""
        field_name = "expr" if hasattr(item, "expr") else "when"
        tree = getattr(item, field_name)
        return replace(item, **{field_name: ast.renumber(tree, ids) if tree else None})

    kind, name = change.kind, change.name
    fields: dict = {}
    if kind == "setting":
        value = getattr(pa, name)
        fields[name] = fresh(value) if name == "applies_to" and value is not None else value
        if name == "default":
            fields["default_pos"] = pa.default_pos
    elif kind == "levels":
        fields["levels"] = pa.levels
    elif kind in ("scale", "param", "input", "define"):
        attr = {"scale": "scales", "param": "params", "input": "inputs", "define": "defines"}[kind]
        table = dict(getattr(pb, attr))
        source = getattr(pa, attr)
        if name in source:
            table[name] = fresh(source[name]) if kind == "define" else source[name]
        else:
            table.pop(name, None)
        fields[attr] = table
    elif kind == "rule":
        rules = list(pb.rules)
        ids_b = [r.id for r in rules]
        a_rule = pa.rule(name)
        if name in ids_b and a_rule is not None:
            rules[ids_b.index(name)] = fresh(a_rule)
        elif name in ids_b:
            del rules[ids_b.index(name)]
        else:
            a_ids = [r.id for r in pa.rules]
            before = a_ids[:a_ids.index(name)]
            at = max((ids_b.index(i) + 1 for i in before if i in ids_b), default=0)
            rules.insert(at, fresh(a_rule))
        fields["rules"] = tuple(rules)
    digest = hashlib.sha256(f"{pb.content_hash} without {change.key}".encode()).hexdigest()
    return check(replace(pb, content_hash=digest, **fields))


# --- the diff --------------------------------------------------------------------------------

def diff(a: CheckedPolicy, b: CheckedPolicy, panel=None, *, decisions=None,
         engine: str = "auto", period: str | None = None, revision_a: str | None = None,
         revision_b: str | None = None, on_progress=None) -> DiffResult:
    """Compare two policies on the same data (the bundled sample when panel is None).

    `on_progress(done, total, what)`, when given, hears of each evaluation as it starts (A, B,
    then one per change attributed), for a progress display."""
    def step(done: int, total: int, what: str) -> None:
        if on_progress is not None:
            on_progress(done, total, what)

    if period == "all":
        raise RegimeError("diff compares one period: give --period P, or leave it out for the "
                          "latest")
    if period == "latest":
        period = None
    if panel is None:
        # read once: attribution evaluates many variants on the same data
        panel = sample_panel()

    memo: dict = {}     # each input converted once for A, B and every variant of B
    step(0, 2, f"evaluating A ({a.policy.id})")
    values_a: dict = {}     # A's expression values, which B shares where it has A's
    out_a, layout_a = _run(a, panel, decisions, engine, revision_a, memo, values=values_a)
    step(1, 2, f"evaluating B ({b.policy.id})")
    values_b: dict = {}     # B's, which B's variants share (engine/reuse.py)
    out_b, layout_b = _run(b, panel, decisions, engine, revision_b, memo, values=values_b,
                           reuse=Evaluated(a, layout_a, values_a))
    del values_a
    reuse = Evaluated(b, layout_b, values_b)
    common = [p for p in out_b.period_labels if p in out_a.period_labels]
    if not common:
        raise RegimeError(f"the two policies share no period: {a.policy.id} uses "
                          f"{out_a.period_kind}s, {b.policy.id} {out_b.period_kind}s")
    label = common[-1] if period is None else _period_label(period, out_b.period_kind)
    if label not in common:
        raise RegimeError(f"period {label} is not evaluated by both policies "
                          f"({common[0]} to {common[-1]})")
    ta, tb = out_a.period_labels.index(label), out_b.period_labels.index(label)
    in_a, in_b = out_a.raw.subject[ta], out_b.raw.subject[tb]
    subject = in_a & in_b       # decided on by both: these can move between levels

    changes = structural_diff(a.policy, b.policy)
    moved = np.flatnonzero(subject & _differs(out_a, ta, out_b, tb))
    causes: dict[int, list[str]] = {int(e): [] for e in moved}
    not_revertible: list[str] = []
    if moved.size:
        attributed = [c for c in changes if not c.supporting]
        for k, change in enumerate(attributed):
            step(2 + k, 2 + len(attributed), f"attributing moves: without {change.key}")
            variant = _variant_outcomes(a, b, change, panel, decisions, engine, revision_b,
                                        memo, label, reuse)
            if variant is None:
                not_revertible.append(change.key)
                continue
            tv = variant.period_labels.index(label) if label in variant.period_labels else None
            if tv is None:
                not_revertible.append(change.key)
                continue
            changed = _differs(variant, tv, out_b, tb)
            for e in moved:
                if changed[e]:
                    causes[int(e)].append(change.key)
    moves = []
    for e in moved:
        e = int(e)
        ents = out_b.entities
        moves.append(Move(
            entity=ents.ids[e], name=ents.names[e],
            before=_label(out_a, ta, e), after=_label(out_b, tb, e),
            before_candidate=_candidate(out_a, ta, e), after_candidate=_candidate(out_b, tb, e),
            fired_a=tuple(out_a.fired_rules(ta, e)), fired_b=tuple(out_b.fired_rules(tb, e)),
            causes=tuple(causes[e]) if causes[e] else (
                ("the changes together",) if changes else ()),
            before_id=out_a.level_ids[out_a.raw.level[ta, e]],
            after_id=out_b.level_ids[out_b.raw.level[tb, e]],
            before_candidate_id=_candidate(out_a, ta, e, ids=True),
            after_candidate_id=_candidate(out_b, tb, e, ids=True)))
    matrix = np.zeros((len(out_a.level_ids), len(out_b.level_ids)), dtype=int)
    for e in np.flatnonzero(subject):
        matrix[out_a.raw.level[ta, e], out_b.raw.level[tb, e]] += 1
    ids = out_b.entities.ids
    left = tuple(ids[e] for e in np.flatnonzero(in_a & ~in_b))
    entered = tuple(ids[e] for e in np.flatnonzero(in_b & ~in_a))
    counts = []
    for p in common:
        counts.append({"period": p, "a": out_a.counts(out_a.period_labels.index(p)),
                       "b": out_b.counts(out_b.period_labels.index(p))})
    pair = ProvenancePair(out_a.provenance.for_periods([label]),
                          out_b.provenance.for_periods([label]))
    return DiffResult(
        a=_identity(a, revision_a), b=_identity(b, revision_b), period=label,
        changes=tuple(changes), not_revertible=tuple(not_revertible),
        levels_a=tuple(out_a.level_labels), levels_b=tuple(out_b.level_labels),
        transitions=tuple(tuple(int(x) for x in row) for row in matrix),
        moves=tuple(moves), left_scope=left, entered_scope=entered, counts=tuple(counts),
        provenance=pair.to_json(), provenance_pair=pair,
        level_ids_a=tuple(out_a.level_ids), level_ids_b=tuple(out_b.level_ids))


def _run(policy: CheckedPolicy, panel, decisions, engine, revision, memo, *, params=None,
         through_label: str | None = None, values: dict | None = None, reuse=None):
    """(outcomes, layout); with `through_label`, only the periods up to that one are
    evaluated (pipeline.run.through), as a variant is compared in that period only. `values`
    is filled with the expressions' values (vectorised engine); `reuse`: an earlier
    evaluation (engine.reuse.Evaluated) whose values this one may share."""
    bound, layout, by_cell = prepare(policy, panel, decisions=decisions, params=params,
                                     memo=memo)
    used = choose_engine(policy, layout, engine)
    labels = bound.period_labels
    if through_label in labels:
        bound, layout, by_cell = through(bound, layout, by_cell, labels.index(through_label))
    if reuse is not None and used == "vectorised":
        shared = reuse.shared(policy, layout)
        if values is not None:
            values.update(shared)           # filled in place with the rest
        elif shared:
            values = shared
    raw = run_backend(policy, layout, used, values=values)
    return (assemble(policy, bound, raw, by_cell, engine, revision, decisions=decisions),
            layout)


def _period_label(text: str, kind: str) -> str:
    """A period as the user typed it (2024-Q4, 2024/25 Q3, 2024-12) in the policies' form."""

    try:
        return format_period(kind, parse_period(text, kind).ordinal)
    except PeriodError as e:
        raise RegimeError(f"--period: {e}") from None


def _variant_outcomes(a, b, change, panel, decisions, engine, revision, memo, label, reuse
                      ) -> Outcomes | None:
    """B without `change`, evaluated up to the period compared (`label`), sharing the values
    of B's evaluation (`reuse`) that the change does not alter."""
    if change.kind == "param" and change.action == "changed":
        spec = policy_data(a.policy)["params"][change.name]
        if "value" in spec:
            # a changed threshold: the same kernel with A's value, no recompiling
            value = a.policy.params[change.name].value
            out, _ = _run(b, panel, decisions, engine, revision, memo,
                          params={change.name: value}, through_label=label, reuse=reuse)
            return out
    try:
        variant = revert(b, a, change)
    except PolicyError:
        return None
    out, _ = _run(variant, panel, decisions, engine, revision, memo, through_label=label,
                  reuse=reuse)
    return out


def _differs(x: Outcomes, tx: int, y: Outcomes, ty: int) -> np.ndarray:
    """Per entity: whether the level or the candidate level differs (compared by id)."""
    lx = np.array(x.level_ids)[x.raw.level[tx]]
    ly = np.array(y.level_ids)[y.raw.level[ty]]
    cx = np.array(x.level_ids + ("",))[x.raw.candidate[tx]]
    cy = np.array(y.level_ids + ("",))[y.raw.candidate[ty]]
    return (lx != ly) | (cx != cy)


def _label(o: Outcomes, t: int, e: int) -> str:
    return o.level_labels[o.raw.level[t, e]]


def _candidate(o: Outcomes, t: int, e: int, ids: bool = False) -> str | None:
    c = int(o.raw.candidate[t, e])
    return (o.level_ids if ids else o.level_labels)[c] if c >= 0 else None


def _identity(p: CheckedPolicy, revision: str | None) -> dict:
    return {"id": p.policy.id, "version": p.policy.version, "hash": p.policy.content_hash,
            "revision": revision, "file": p.policy.file}
