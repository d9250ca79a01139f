"""Policy test cases: entities' inputs over a few periods, and the outcome the policy must give.

A case is written in the policy file (`tests:`) or in a test file beside it
(`<policy folder>/tests/*.yaml` with `tests_for: <policy id or path>` and `tests:`):

```yaml
tests:
  - name: bottom-quartile access puts an acute trust in segment 3
    periods: [2024-Q1, 2024-Q2]       # or 2024-Q1, or {from: 2023-Q1, to: 2024-Q2}
    entity: {id: T1, kind: trust, type: acute, parent: ICS1}
    inputs:                           # the entity's inputs; unspecified inputs are missing
      ae_4hr_pct: [60, 61]            # one value per period
      cqc_overall_rating: good        # or one value for every period (a label of its scale)
      in_special_measures: {2024-Q2: true}   # or from a period on (missing before)
    peers:                            # other entities; kind/type/parent/region as the entity's
      - {id: T2, inputs: {ae_4hr_pct: 80}}
    members: [...]                    # the entity's members (parent = the entity, kind trust)
    params: {bottom_quartile: 20}     # param values for this case
    decisions: [{period: 2024-Q1, level: segment_4, decided_by: region}]
    expect:                           # or a list of these
      period: 2024-Q2                 # default: the last period
      entity: T1                      # default: the entity under test
      level: segment_3                # final level; `computed:` before decisions
      candidate: null                 # the judgement level it is a candidate for
      fired: [key_metrics_bottom_quartile]   # at least these fire; `fired_only:` exactly
      not_fired: [finance_off_plan]
      unknown: []                     # rules whose condition is unknown
      incomplete: false
      applies: true                   # the policy decides on the entity
      values: {bottom_quartile_share: 50%, raw_score: {value: 2.5, tolerance: 0.01}}
    tolerance: 0.001                  # for numeric values (default 1e-9)
```

Each case's panel is built directly (no data files): ratings are labels of their scale, flags
true/false, percentages numbers or `95%`, money numbers or `£1.5m`, null missing; it goes
through the same binding (a rating stands until the next one), layout and params as
`regime eval`. The case runs through the reference evaluator and the compiled kernel; both
must give the expectation. A failure or a malformed case is a diagnostic at the case's own
line and column in its YAML file.

`regime test` runs the cases and reports rule and condition coverage (`coverage.py`).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ..diagnostics import (Diagnostic, PolicyError, Pos, RegimeError, Reporter, did_you_mean,
                           elide)
from ..engine.outcomes import RawOutcomes
from ..lang import types as T
from ..check.checker import CheckedPolicy
from ..periods import PeriodError, format_period, parse_period
from ..policy.document import Document, load_document
from .coverage import Coverage

DEFAULT_TOLERANCE = 1e-9
MAX_CASE_PERIODS = 600          # fifty years of months: a case is small, a typo is not
MAX_CASE_ENTITIES = 1000
_PERIOD_EXAMPLE = {"month": "2024-03", "quarter": "2024-Q1", "year": "2024/25"}
_PLURAL = {"month": "months", "quarter": "quarters", "year": "financial years"}


# --- parsed cases ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Check:
    """One expectation of a case: `key` (level, fired, values, ...) with its expected value."""

    key: str
    expected: Any
    pos: Pos | None
    name: str | None = None         # the rule or value it is about
    tolerance: float = DEFAULT_TOLERANCE


@dataclass(frozen=True)
class Expectation:
    t: int
    e: int
    checks: tuple[Check, ...]


@dataclass(frozen=True)
class Case:
    """A test case read and validated against its policy, ready to run."""

    name: str
    file: str
    pos: Pos
    period_kind: str
    start: int                          # ordinal of the first period
    n_periods: int
    entities: Any                       # data.panel.Entities
    values: dict[str, np.ndarray]       # input -> [P, E] (ratings as positions on the scale)
    params: dict[str, float]
    decisions: np.ndarray               # [P, E] level index or NaN
    expectations: tuple[Expectation, ...]


@dataclass
class CaseResult:
    name: str
    file: str
    pos: Pos | None
    status: str                         # passed | failed | error (malformed)
    diagnostics: list[Diagnostic] = field(default_factory=list)

    def to_json(self) -> dict:
        return {"name": self.name, "file": self.file,
                "line": self.pos.line if self.pos else None,
                "col": self.pos.col if self.pos else None, "status": self.status,
                "diagnostics": [d.to_json() for d in self.diagnostics]}


@dataclass
class PolicyResult:
    """The cases of one policy, run, with the coverage they reached."""

    policy: str
    file: str
    cases: list[CaseResult] = field(default_factory=list)
    coverage: Coverage | None = None
    diagnostics: list[Diagnostic] = field(default_factory=list)   # the policy or a test file

    def count(self, status: str) -> int:
        return sum(c.status == status for c in self.cases)

    @property
    def ok(self) -> bool:
        return not any(d.severity == "error" for d in self.diagnostics) and \
            all(c.status == "passed" for c in self.cases)

    def to_json(self) -> dict:
        return {"policy": self.policy, "file": self.file, "ok": self.ok,
                "passed": self.count("passed"), "failed": self.count("failed"),
                "errors": self.count("error"),
                "cases": [c.to_json() for c in self.cases],
                "coverage": self.coverage.to_json() if self.coverage else None,
                "diagnostics": [d.to_json() for d in self.diagnostics]}


# --- reading a case ----------------------------------------------------------------------------

class _Reader:
    """Reads one case of a document against a checked policy; problems go to `report`."""

    def __init__(self, checked: CheckedPolicy, doc: Document, base: tuple, report: Reporter):
        self.c = checked
        self.p = checked.policy
        self.doc = doc
        self.base = base
        self.report = report
        self.data: dict = doc.data
        for part in base:
            self.data = self.data[part]
        name = self.data.get("name") if isinstance(self.data, dict) else None
        self.name = name if isinstance(name, str) and name else f"case {base[-1] + 1}"
        self.kind = self.p.period or "quarter"
        self.ok = True

    # where ------------------------------------------------------------------------------

    def pos(self, *path) -> Pos | None:
        return self.doc.pos(self.base + path)

    def key_pos(self, *path) -> Pos | None:
        return self.doc.key(self.base + path)

    def error(self, message: str, pos: Pos | None) -> None:
        self.ok = False
        self.report.error(f"test '{self.name}': {message}", pos, code="test-case")

    # the case ---------------------------------------------------------------------------

    def read(self) -> Case | None:
        if not isinstance(self.data, dict):
            self.error("a test case must be a mapping (name:, periods:, expect:, ...)",
                       self.pos())
            return None
        if not isinstance(self.data.get("name"), str) or not self.data["name"]:
            self.error("a test case needs a name (text saying what it shows)",
                       self.pos("name") if "name" in self.data else self.pos())
        for required in ("periods", "expect"):
            if required not in self.data:
                self.error(f"needs '{required}'", self.pos())
        if not self.ok:
            return None
        periods = self.periods()
        if periods is None:
            return None
        self.start, self.n = periods
        self.labels = [format_period(self.kind, o) for o in range(self.start,
                                                                   self.start + self.n)]
        entities, inputs_at = self.entities()
        if entities is None:
            return None
        self.ids = list(entities.ids)
        values = self.all_inputs(inputs_at)
        params = self.params()
        decisions = self.decisions()
        expectations = self.expectations()
        if not self.ok:
            return None
        return Case(self.name, self.doc.source.file, self.key_pos("name") or self.pos(),
                    self.kind, self.start, self.n, entities, values, params, decisions,
                    tuple(expectations))

    # periods ----------------------------------------------------------------------------

    def period(self, text, *path, at_key: bool = False) -> int | None:
        """The ordinal of a written period of the policy's kind, or None (reported)."""
        where = self.key_pos(*path) if at_key else self.pos(*path)
        if not isinstance(text, str):
            self.error(f"{_show(text)} is not a period (write e.g. "
                       f"{_PERIOD_EXAMPLE[self.kind]})", where)
            return None
        try:
            period = parse_period(text)
        except PeriodError as e:
            self.error(str(e), where)
            return None
        if period.kind != self.kind:
            self.error(f"'{text}' is a {period.kind}, but policy '{self.p.id}' works on "
                       f"{_PLURAL[self.kind]} (write e.g. {_PERIOD_EXAMPLE[self.kind]})", where)
            return None
        return period.ordinal

    def periods(self) -> tuple[int, int] | None:
        spec = self.data["periods"]
        if isinstance(spec, dict):
            first = self.period(spec.get("from"), "periods", "from")
            last = self.period(spec.get("to"), "periods", "to")
            if first is None or last is None:
                return None
            if last < first:
                self.error(f"periods: '{spec['to']}' is before '{spec['from']}'",
                           self.pos("periods", "to"))
                return None
        else:
            texts = spec if isinstance(spec, list) else [spec]
            if not texts:
                self.error("periods must not be empty", self.pos("periods"))
                return None
            ordinals = [self.period(x, "periods", i) if isinstance(spec, list)
                        else self.period(x, "periods") for i, x in enumerate(texts)]
            if None in ordinals:
                return None
            for i in range(1, len(ordinals)):
                if ordinals[i] != ordinals[i - 1] + 1:
                    self.error(f"periods must be consecutive: '{texts[i]}' does not follow "
                               f"'{texts[i - 1]}' (write {{from: {texts[0]}, to: ...}} for a "
                               "longer run)", self.pos("periods", i))
                    return None
            first, last = ordinals[0], ordinals[-1]
        n = last - first + 1
        if n > MAX_CASE_PERIODS:
            self.error(f"{n} periods is more than a test case may have ({MAX_CASE_PERIODS})",
                       self.pos("periods"))
            return None
        return first, n

    def period_index(self, text, *path, at_key: bool = False) -> int | None:
        ordinal = self.period(text, *path, at_key=at_key)
        if ordinal is None:
            return None
        t = ordinal - self.start
        if not 0 <= t < self.n:
            self.error(f"period '{text}' is outside the case's periods ({self.labels[0]} to "
                       f"{self.labels[-1]})", self.key_pos(*path) if at_key else self.pos(*path))
            return None
        return t

    # entities ---------------------------------------------------------------------------

    def entities(self):
        from ..data.panel import Entities

        subject = self.data.get("entity") or {}
        if not isinstance(subject, dict):
            self.error("'entity' must be a mapping (id, kind, type, parent, region)",
                       self.pos("entity"))
            return None, None
        if "inputs" in subject:
            self.error("the entity's inputs go in the case's 'inputs', not inside 'entity'",
                       self.key_pos("entity", "inputs"))
        self.attribute_types(subject, ("entity",))
        kinds = self.p.entity or ("trust",)
        sid = str(subject.get("id", "subject"))
        rows = [(sid, str(subject.get("name", sid)), str(subject.get("kind", kinds[0])),
                 str(subject.get("type", "")), str(subject.get("parent", "")),
                 str(subject.get("region", "")))]
        inputs_at: list[tuple[dict, tuple]] = [(self.data.get("inputs") or {}, ("inputs",))]
        seen = {sid: self.pos("entity", "id")}
        for group in ("peers", "members"):
            items = self.data.get(group) or []
            if not isinstance(items, list):
                self.error(f"'{group}' must be a list of entities", self.pos(group))
                continue
            for k, other in enumerate(items):
                if not isinstance(other, dict):
                    self.error(f"{group}[{k}] must be a mapping (id, type, inputs, ...)",
                               self.pos(group, k))
                    continue
                self.attribute_types(other, (group, k))
                default_id = f"{'peer' if group == 'peers' else 'member'}{k + 1}"
                oid = str(other.get("id", default_id))
                if oid in seen:
                    self.error(f"entity id '{oid}' is used twice", self.pos(group, k, "id")
                               if "id" in other else self.pos(group, k))
                    continue
                seen[oid] = self.pos(group, k)
                if group == "peers":
                    kind, typ, parent = rows[0][2], rows[0][3], rows[0][4]
                else:
                    kind, typ, parent = "trust", "", sid
                rows.append((oid, str(other.get("name", oid)), str(other.get("kind", kind)),
                             str(other.get("type", typ)), str(other.get("parent", parent)),
                             str(other.get("region", rows[0][5]))))
                inputs_at.append((other.get("inputs") or {}, (group, k, "inputs")))
        if len(rows) > MAX_CASE_ENTITIES:
            self.error(f"{len(rows)} entities is more than a test case may have "
                       f"({MAX_CASE_ENTITIES})", self.pos())
            return None, None
        columns = list(zip(*rows))
        return Entities(*(tuple(col) for col in columns)), inputs_at

    def attribute_types(self, spec: dict, path: tuple) -> None:
        for key in ("id", "name", "kind", "type", "parent", "region"):
            if key in spec and not isinstance(spec[key], str):
                self.error(f"entity {key} must be text, not {_show(spec[key])}",
                           self.pos(*path, key))

    # inputs -----------------------------------------------------------------------------

    def all_inputs(self, inputs_at) -> dict[str, np.ndarray]:
        E = len(self.ids)
        values: dict[str, np.ndarray] = {}
        for e, (spec, path) in enumerate(inputs_at):
            if not isinstance(spec, dict):
                self.error("inputs must be a mapping of input names to values", self.pos(*path))
                continue
            for name, series in spec.items():
                inp = self.p.inputs.get(name)
                if inp is None:
                    self.error(f"unknown input '{name}'{did_you_mean(name, self.p.inputs)}",
                               self.key_pos(*path, name))
                    continue
                arr = self.series(inp, series, path + (name,))
                if arr is None:
                    continue
                values.setdefault(name, np.full((self.n, E), np.nan))[:, e] = arr
        return values

    def series(self, inp, spec, path: tuple) -> np.ndarray | None:
        """An input's values over the case's periods, from any of the three forms."""
        out = np.full(self.n, np.nan)
        if isinstance(spec, list):
            if len(spec) != self.n:
                self.error(f"input '{inp.name}' has {len(spec)} value"
                           f"{'s' * (len(spec) != 1)} for {self.n} period"
                           f"{'s' * (self.n != 1)} ({self.labels[0]} to {self.labels[-1]})",
                           self.pos(*path))
                return None
            ok = True
            for t, raw in enumerate(spec):
                v = self.scalar(inp, raw, path + (t,))
                ok &= v is not None
                out[t] = np.nan if v is None else v
            return out if ok else None
        if isinstance(spec, dict):
            points = []
            for key, raw in spec.items():
                t = self.period_index(key, *path, key, at_key=True)
                v = self.scalar(inp, raw, path + (key,))
                if t is None or v is None:
                    return None
                points.append((t, v))
            for t, v in sorted(points):
                out[t:] = v
            return out
        v = self.scalar(inp, spec, path)
        if v is None:
            return None
        out[:] = v
        return out

    def scalar(self, inp, raw, path: tuple) -> float | None:
        """One value of an input as the evaluators hold it (NaN missing), or None (reported)."""
        where = self.pos(*path)
        if raw is None:
            return math.nan
        if inp.type == "rating":
            labels = self.scale_labels(inp.scale)
            return self.label(raw, inp.scale, labels, f"input '{inp.name}'", where)
        if inp.type == "flag":
            if isinstance(raw, bool):
                return 1.0 if raw else 0.0
            self.error(f"input '{inp.name}' is a flag: write true or false (or null for "
                       f"missing), not {_show(raw)}", where)
            return None
        number = self.quantity(raw, inp.type)
        if number is None:
            forms = {"percent": "a number or a percentage such as 95%",
                     "money": "a number or an amount such as £1.5m"}.get(inp.type, "a number")
            self.error(f"input '{inp.name}' is {T.describe(T.Type(inp.type))}: write {forms}"
                       f" (or null for missing), not {_show(raw)}", where)
        elif not math.isfinite(number):
            # the data loaders refuse these too: a case must be data that could exist
            self.error(f"input '{inp.name}': {_show(raw)} is not a finite number (write null "
                       "for missing)", where)
            return None
        elif inp.type == "percent" and not 0 <= number <= 100 and not _signed(inp.name):
            self.error(f"input '{inp.name}' is a percentage: {_show(raw)} is not between 0 and "
                       "100", where)
            return None
        return number

    @staticmethod
    def quantity(raw, unit: str) -> float | None:
        from ..policy.build import parse_quantity

        if isinstance(raw, bool):
            return None
        if isinstance(raw, (int, float)):
            return float(raw)
        try:
            number, written = parse_quantity(str(raw).strip())
        except ValueError:
            return None
        if written != "number" and written != unit:
            return None
        return number

    def scale_labels(self, scale: str) -> list[str]:
        from ..data.panel import normalise_label

        return [normalise_label(x) for x in self.p.scales[scale].labels]

    def label(self, raw, scale: str, labels: list[str], what: str, where) -> float | None:
        from ..data.panel import normalise_label

        shown = ", ".join(labels)
        if not isinstance(raw, str):
            self.error(f"{what} is a rating: write a label of scale '{scale}' ({shown}), not "
                       f"{_show(raw)}", where)
            return None
        word = normalise_label(raw)
        if word not in labels:
            self.error(f"'{raw}' is not a label of scale '{scale}' ({shown})"
                       f"{did_you_mean(word, labels)}", where)
            return None
        return float(labels.index(word))

    # params and decisions ---------------------------------------------------------------

    def params(self) -> dict[str, float]:
        from ..policy.build import parse_quantity

        spec = self.data.get("params") or {}
        out: dict[str, float] = {}
        if not isinstance(spec, dict):
            self.error("params must be a mapping of param names to values", self.pos("params"))
            return out
        for name, raw in spec.items():
            if name not in self.p.params:
                self.error(f"unknown param '{name}'{did_you_mean(name, self.p.params)}",
                           self.key_pos("params", name))
                continue
            try:
                if isinstance(raw, bool):
                    raise ValueError
                out[name] = parse_quantity(raw)[0]
                if not math.isfinite(out[name]):
                    raise ValueError
            except ValueError:
                self.error(f"param '{name}': {_show(raw)} is not a number, a percentage or an "
                           "amount of money", self.pos("params", name))
        return out

    def decisions(self) -> np.ndarray:
        out = np.full((self.n, len(self.ids)), np.nan)
        levels = {lv.id: lv.index for lv in self.p.levels}
        spec = self.data.get("decisions") or []
        if not isinstance(spec, list):
            self.error("decisions must be a list of {period, level, decided_by}",
                       self.pos("decisions"))
            return out
        for k, d in enumerate(spec):
            if not isinstance(d, dict):
                self.error("a decision must be a mapping (period, level, decided_by)",
                           self.pos("decisions", k))
                continue
            entity = str(d.get("entity", self.ids[0]))
            if entity not in self.ids:
                self.error(f"decision for unknown entity '{entity}'"
                           f"{did_you_mean(entity, self.ids)}", self.pos("decisions", k,
                                                                          "entity"))
                continue
            level = d.get("level")
            if not isinstance(level, str) or level not in levels:
                self.error(f"'{level}' is not a level of policy '{self.p.id}' "
                           f"({', '.join(levels)}){did_you_mean(str(level), levels)}",
                           self.pos("decisions", k, "level"))
                continue
            t = self.period_index(d.get("period"), "decisions", k, "period")
            if t is None:
                continue
            e = self.ids.index(entity)
            if not np.isnan(out[t, e]):
                self.error(f"a second decision for {entity} in {self.labels[t]}",
                           self.pos("decisions", k))
                continue
            out[t, e] = levels[level]
        return out

    # expectations -----------------------------------------------------------------------

    def expectations(self) -> list[Expectation]:
        spec = self.data["expect"]
        items = [(spec, ("expect",))] if isinstance(spec, dict) else \
            [(x, ("expect", j)) for j, x in enumerate(spec)] if isinstance(spec, list) else []
        if not items:
            self.error("expect must be a mapping (level, fired, ...) or a list of them",
                       self.pos("expect"))
        out = []
        for item, path in items:
            if not isinstance(item, dict):
                self.error("an expectation must be a mapping (period, level, fired, ...)",
                           self.pos(*path))
                continue
            exp = self.expectation(item, path)
            if exp is not None:
                out.append(exp)
        return out

    def expectation(self, item: dict, path: tuple) -> Expectation | None:
        t = self.n - 1
        if "period" in item:
            t = self.period_index(item["period"], *path, "period")
        e = 0
        if "entity" in item:
            entity = str(item["entity"])
            if entity in self.ids:
                e = self.ids.index(entity)
            else:
                self.error(f"expect: no entity '{entity}' in this case"
                           f"{did_you_mean(entity, self.ids)}", self.pos(*path, "entity"))
                e = None
        checks: list[Check] = []
        levels = {lv.id: lv for lv in self.p.levels}
        rules = [r.id for r in self.p.rules]
        known = {"period", "entity", "level", "computed", "candidate", "fired", "not_fired",
                 "fired_only", "unknown", "incomplete", "applies", "values"}
        for key, value in item.items():
            where = self.pos(*path, key)
            if key not in known:
                self.error(f"unknown key '{key}' in expect{did_you_mean(key, known)}",
                           self.key_pos(*path, key))
            elif key in ("level", "computed", "candidate"):
                if value is None and key == "candidate":
                    checks.append(Check(key, None, where))
                elif not isinstance(value, str) or value not in levels:
                    self.error(f"expect {key}: '{value}' is not a level of policy "
                               f"'{self.p.id}' ({', '.join(levels)})"
                               f"{did_you_mean(str(value), levels)}", where)
                elif key == "candidate" and not levels[value].decided_by:
                    judged = [lv.id for lv in self.p.levels if lv.decided_by]
                    self.error(f"expect candidate: '{value}' is not a judgement level (it has no "
                               f"decided_by), so nothing is a candidate for it"
                               + (f"; the judgement levels are {', '.join(judged)}" if judged
                                  else "; this policy has no judgement levels"), where)
                else:
                    checks.append(Check(key, levels[value].index, where))
            elif key in ("fired", "not_fired", "fired_only", "unknown"):
                if not isinstance(value, list):
                    self.error(f"expect {key} must be a list of rule ids", where)
                    continue
                good = True
                for k, rule in enumerate(value):
                    if rule not in rules:
                        good = False
                        self.error(f"expect {key}: no rule '{rule}' in policy '{self.p.id}'"
                                   f"{did_you_mean(str(rule), rules)}", self.pos(*path, key, k))
                if not good:
                    continue
                if key == "fired_only":
                    checks.append(Check(key, tuple(value), where))
                else:
                    checks += [Check(key, True, self.pos(*path, key, k), name=rule)
                               for k, rule in enumerate(value)]
            elif key in ("incomplete", "applies"):
                if not isinstance(value, bool):
                    self.error(f"expect {key} must be true or false, not {_show(value)}", where)
                else:
                    checks.append(Check(key, value, where))
            elif key == "values":
                checks += self.values(value, path + ("values",))
        if t is None or e is None:
            return None
        return Expectation(t, e, tuple(checks))

    def values(self, spec, path: tuple) -> list[Check]:
        if not isinstance(spec, dict):
            self.error("expect values must be a mapping of define or input names to values",
                       self.pos(*path))
            return []
        tolerance = self.data.get("tolerance", DEFAULT_TOLERANCE)
        if isinstance(tolerance, bool) or not isinstance(tolerance, (int, float)) \
                or not tolerance >= 0:
            self.error("tolerance must be a number of at least 0", self.pos("tolerance"))
            tolerance = DEFAULT_TOLERANCE
        out = []
        names = list(self.p.defines) + list(self.p.inputs)
        for name, raw in spec.items():
            where = self.pos(*path, name)
            tol = tolerance
            if isinstance(raw, dict):
                if "value" not in raw or set(raw) - {"value", "tolerance"}:
                    self.error(f"expect values: '{name}' takes a value, or {{value, tolerance}}",
                               where)
                    continue
                tol = raw.get("tolerance", tolerance)
                if isinstance(tol, bool) or not isinstance(tol, (int, float)) or not tol >= 0:
                    self.error("tolerance must be a number of at least 0",
                               self.pos(*path, name, "tolerance"))
                    continue
                raw = raw["value"]
                where = self.pos(*path, name, "value")
            typ = self.type_of(name)
            if typ is None:
                self.error(f"expect values: no define or input '{name}' in policy "
                           f"'{self.p.id}'{did_you_mean(name, names)}",
                           self.key_pos(*path, name))
                continue
            expected = self.expected_value(name, typ, raw, where)
            if expected is not _BAD:
                out.append(Check("values", expected, where, name=name, tolerance=float(tol)))
        return out

    def type_of(self, name: str) -> T.Type | None:
        if name in self.p.defines:
            d = self.p.defines[name]
            return self.c.types.get(d.expr.nid, T.ERROR) if d.expr is not None else T.ERROR
        if name in self.p.inputs:
            inp = self.p.inputs[name]
            return T.of_input(inp.type, inp.scale)
        return None

    def expected_value(self, name: str, typ: T.Type, raw, where):
        if raw is None:
            return None
        what = f"'{name}' is {T.describe(typ)}"
        if typ.kind == "bool":
            if isinstance(raw, bool):
                return 1.0 if raw else 0.0
            self.error(f"expect values: {what}: write true, false or null, not {_show(raw)}",
                       where)
        elif typ.numeric:
            number = self.quantity(raw, typ.kind)
            if number is not None:
                return number
            self.error(f"expect values: {what}: write a number, not {_show(raw)}", where)
        elif typ.kind == "rating":
            v = self.label(raw, typ.scale, self.scale_labels(typ.scale),
                           f"expect values: '{name}'", where)
            return _BAD if v is None else v
        elif typ.kind == "level":
            levels = [lv.id for lv in self.p.levels]
            if raw in levels:
                return float(levels.index(raw))
            self.error(f"expect values: {what}: '{raw}' is not a level of policy "
                       f"'{self.p.id}'{did_you_mean(str(raw), levels)}", where)
        elif typ.kind == "string":
            if isinstance(raw, str):
                return raw
            self.error(f"expect values: {what}: write a string, not {_show(raw)}", where)
        else:
            self.error(f"expect values: '{name}' has no value to compare (it does not check)",
                       where)
        return _BAD


_BAD = object()


def _signed(metric: str) -> bool:
    """A percentage that may be negative (a deficit as a share of income): the data loaders'
    rule, from the metric catalogue."""
    from ..data.catalogue import METRICS

    return metric in METRICS and METRICS[metric].signed


def _show(raw) -> str:
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if raw is None:
        return "null"
    if isinstance(raw, str):
        return f"'{elide(raw)}'"      # a 5,000-digit "number" is not printed whole
    if isinstance(raw, (list, dict)):
        return "a list" if isinstance(raw, list) else "a mapping"
    return f"{raw:g}" if isinstance(raw, float) else str(raw)


@dataclass(frozen=True)
class ReadCase:
    """A case as read: the Case (None when malformed), its name, position and problems."""

    case: Case | None
    name: str
    pos: Pos | None
    diagnostics: tuple[Diagnostic, ...]


def read_cases(checked: CheckedPolicy, doc: Document) -> list[ReadCase]:
    """The cases of a document's `tests:`, each read and validated against the policy."""
    tests = doc.data.get("tests") if isinstance(doc.data, dict) else None
    out = []
    for i, _ in enumerate(tests if isinstance(tests, list) else []):
        report = Reporter(doc.source)
        reader = _Reader(checked, doc, ("tests", i), report)
        case = reader.read()
        out.append(ReadCase(case, reader.name,
                            doc.key(("tests", i, "name")) or doc.pos(("tests", i)),
                            tuple(report.diagnostics)))
    return out


# --- running a case ----------------------------------------------------------------------------

@dataclass
class Run:
    """A case evaluated: the reference evaluator (with every node's value) and its outcomes."""

    reference: Any                  # engine.reference.ReferenceEvaluator, after run()
    raw: RawOutcomes
    kernel: RawOutcomes | None


def evaluate_case(checked: CheckedPolicy, case: Case, *, kernel: bool = True) -> Run:
    """Run a case through the reference evaluator and (unless told not to) the kernel."""
    from ..data.bind import bind
    from ..data.panel import Panel, normalise_label
    from ..engine.layout import make_layout
    from ..engine.params import resolve_params
    from ..engine.reference import ReferenceEvaluator

    p = checked.policy
    P, E = case.n_periods, len(case.entities)
    values = {name: np.full((P, E), np.nan) for name in p.inputs}
    values.update(case.values)
    labels = {name: tuple(normalise_label(x) for x in p.scales[p.inputs[name].scale].labels)
              for name in values if p.inputs[name].type == "rating"}
    panel = Panel(p.period or "quarter", case.start, P, case.entities, values, labels,
                  sources=(f"test case '{case.name}'",))
    # Every input is bound, not only those the rules read, so that `values:` can show a
    # define no rule uses yet.
    bound = bind(replace(checked, used_inputs=tuple(p.inputs)), panel)
    params = resolve_params(p, bound.period_kind, bound.start, bound.n_periods, case.params)
    layout = make_layout(checked, bound.entities, bound.inputs, params, bound.n_periods,
                         case.decisions)
    ref = ReferenceEvaluator(checked, layout)
    raw = ref.run()
    compiled = None
    if kernel:
        from ..compile.kernel import evaluate_compiled

        compiled = evaluate_compiled(checked, layout)
    return Run(ref, raw, compiled)


def check_case(checked: CheckedPolicy, case: Case, run: Run, source) -> list[Diagnostic]:
    """The failed expectations of an evaluated case, as diagnostics at their positions."""
    p = checked.policy
    report = Reporter(source)
    level_ids = [lv.id for lv in p.levels]
    rule_ids = [r.id for r in p.rules]
    raw = run.raw
    ids = case.entities.ids
    if run.kernel is not None and not raw.equal(run.kernel):
        report.error(f"test '{case.name}': the compiled kernel and the reference evaluator "
                     f"disagree: {_disagreement(run.raw, run.kernel, case, level_ids)}",
                     case.pos, code="test-kernel")

    def fired(t, e):
        return [r for i, r in enumerate(rule_ids) if _bit(raw.fired[t, e], i)]

    def unknown(t, e):
        return [r for i, r in enumerate(rule_ids) if _bit(raw.unknown[t, e], i)]

    def status(t, e, rule):
        i = rule_ids.index(rule)
        if _bit(raw.fired[t, e], i):
            return "true"
        return "unknown" if _bit(raw.unknown[t, e], i) else "false"

    for exp in case.expectations:
        t, e = exp.t, exp.e
        period = format_period(case.period_kind, case.start + t)
        where = f"test '{case.name}': {ids[e]} in {period}: "
        fired_now = fired(t, e)
        because = f" (fired: {', '.join(fired_now) or 'none'})"
        for c in exp.checks:
            msg = None
            if c.key in ("level", "computed"):
                got = int(getattr(raw, c.key)[t, e])
                if got != c.expected:
                    what = "level" if c.key == "level" else "computed level"
                    decided = " (decided)" if c.key == "level" and \
                        not np.isnan(case.decisions[t, e]) else ""
                    msg = (f"expected {what} {level_ids[c.expected]}, got {level_ids[got]}"
                           f"{decided}{because}")
            elif c.key == "candidate":
                got = int(raw.candidate[t, e])
                got = None if got < 0 else got
                if got != c.expected:
                    msg = (f"expected candidate {_level(level_ids, c.expected)}, got "
                           f"{_level(level_ids, got)}{because}")
            elif c.key == "fired":
                s = status(t, e, c.name)
                if s != "true":
                    msg = f"expected rule '{c.name}' to fire; its condition was {s}"
            elif c.key == "not_fired":
                if status(t, e, c.name) == "true":
                    msg = f"expected rule '{c.name}' not to fire; it fired"
            elif c.key == "unknown":
                s = status(t, e, c.name)
                if s != "unknown":
                    msg = f"expected rule '{c.name}' to be unknown; its condition was {s}"
            elif c.key == "fired_only":
                if sorted(fired_now) != sorted(c.expected):
                    msg = (f"expected exactly these rules to fire: "
                           f"{', '.join(c.expected) or 'none'}; fired: "
                           f"{', '.join(fired_now) or 'none'}")
            elif c.key == "incomplete":
                got = bool(raw.incomplete[t, e])
                if got != c.expected:
                    unk = unknown(t, e)
                    msg = (f"expected incomplete: {str(c.expected).lower()}, got "
                           f"{str(got).lower()} (unknown: {', '.join(unk) or 'none'})")
            elif c.key == "applies":
                got = bool(raw.subject[t, e])
                if got != c.expected:
                    msg = (f"expected the policy {'to apply' if c.expected else 'not to apply'}"
                           f" to {ids[e]}; it {'does' if got else 'does not'}")
            elif c.key == "values":
                msg = _value_mismatch(checked, run, c, t, e)
            if msg is not None:
                report.error(where + msg, c.pos, code="test-failed")
    return report.diagnostics


def _value_mismatch(checked: CheckedPolicy, run: Run, c: Check, t: int, e: int) -> str | None:
    p = checked.policy
    if c.name in p.defines:
        node = p.defines[c.name].expr
        got = run.reference.eval(node, t)[e]
        typ = checked.types.get(node.nid, T.ERROR)
    else:
        got = run.reference.L.inputs[c.name][t, e] if c.name in run.reference.L.inputs \
            else math.nan
        inp = p.inputs[c.name]
        typ = T.of_input(inp.type, inp.scale)
    got_missing = got is None or (isinstance(got, float) and math.isnan(got))
    if c.expected is None or got_missing:
        if c.expected is None and got_missing:
            return None
    elif isinstance(c.expected, str) or isinstance(got, str):
        if got == c.expected:
            return None
    elif typ.numeric:
        if abs(float(got) - c.expected) <= c.tolerance:
            return None
    elif float(got) == c.expected:
        return None
    shown_tol = f" (tolerance {c.tolerance:g})" if typ.numeric and c.expected is not None \
        and not got_missing else ""
    return (f"expected {c.name} = {_format(p, typ, c.expected)}, got "
            f"{_format(p, typ, got)}{shown_tol}")


def _format(policy, typ: T.Type, v) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "unknown" if typ.kind == "bool" else "missing"
    if isinstance(v, str):
        return f"'{v}'"
    if typ.kind == "bool":
        return "true" if v == 1 else "false"
    if typ.kind == "rating":
        return policy.scales[typ.scale].labels[int(v)]
    if typ.kind == "level":
        return policy.levels[int(v)].id
    v = float(v)
    text = f"{v:.10g}"
    if typ.kind == "percent":
        return text + "%"
    if typ.kind == "money":
        return ("-£" if v < 0 else "£") + f"{abs(v):,.10g}"
    return text


def _level(level_ids, index) -> str:
    return "none" if index is None else level_ids[index]


def _bit(words: np.ndarray, i: int) -> bool:
    return bool((int(words[i // 64]) >> (i % 64)) & 1)


def _disagreement(a: RawOutcomes, b: RawOutcomes, case: Case, level_ids) -> str:
    for name in ("level", "computed", "candidate", "fired", "unknown", "incomplete", "subject"):
        x, y = getattr(a, name), getattr(b, name)
        if np.array_equal(x, y):
            continue
        where = np.argwhere(x != y)[0]
        t, e = int(where[0]), int(where[1])
        period = format_period(case.period_kind, case.start + t)
        return (f"{name} of {case.entities.ids[e]} in {period}: reference "
                f"{_raw(name, x[t, e], level_ids)}, kernel {_raw(name, y[t, e], level_ids)}")
    return "outcomes differ"


def _raw(name, value, level_ids) -> str:
    if name in ("level", "computed", "candidate"):
        return _level(level_ids, None if int(value) < 0 else int(value))
    if isinstance(value, np.ndarray):
        return "0x" + "".join(f"{int(w):016x}" for w in value[::-1])
    return str(bool(value)).lower()


# --- a policy's cases --------------------------------------------------------------------------

def run_cases(checked: CheckedPolicy, docs: Sequence[Document], *, kernel: bool = True,
              coverage: Coverage | None = None) -> tuple[list[CaseResult], Coverage]:
    """Run every case of `docs` (the policy's own file and test files) against a policy."""
    coverage = coverage or Coverage(checked)
    results: list[CaseResult] = []
    for doc in docs:
        for item in read_cases(checked, doc):
            name, pos, case = item.name, item.pos, item.case
            if case is None:
                results.append(CaseResult(name, doc.source.file, pos, "error",
                                          list(item.diagnostics)))
                continue
            try:
                run = evaluate_case(checked, case, kernel=kernel)
            except RegimeError as e:
                diags = [Diagnostic(f"test '{name}': cannot evaluate the case: {d.message}",
                                    file=doc.source.file, pos=pos, code="test-case",
                                    source_line=doc.source.line(pos.line) if pos else None)
                         for d in e.diagnostics]
                results.append(CaseResult(name, doc.source.file, pos, "error", diags))
                continue
            failures = check_case(checked, case, run, doc.source)
            coverage.observe(run.reference, run.raw, {(x.t, x.e) for x in case.expectations})
            results.append(CaseResult(name, doc.source.file, pos,
                                      "failed" if failures else "passed", failures))
    return results, coverage


# --- finding policies and test files ------------------------------------------------------------

TEST_FILE_KEY = "tests_for"
TESTS_FOLDER = "tests"


@dataclass
class _Group:
    """A policy to test and where its cases come from."""

    path: Path
    inline: bool = False                # the policy file's own `tests:`
    test_files: list[Path] = field(default_factory=list)


def _yaml_files(folder: Path) -> list[Path]:
    from ..policy.load import POLICY_SUFFIXES

    try:
        return sorted(p for p in folder.iterdir() if p.suffix in POLICY_SUFFIXES
                      and p.is_file() and not p.name.startswith("."))
    except OSError:
        return []


def _read_doc(path: Path) -> Document:
    from ..policy.load import read_policy_file, display_name

    return load_document(read_policy_file(path), display_name(path))


def _test_file_doc(path: Path) -> Document | None:
    """The document of a test file (a YAML mapping with `tests_for:`), else None."""
    try:
        doc = _read_doc(path)
    except PolicyError:
        return None
    return doc if isinstance(doc.data, dict) and TEST_FILE_KEY in doc.data else None


def _test_file_schema() -> dict:
    from ..policy.schema import policy_schema

    full = policy_schema()
    return {"$schema": full.get("$schema"), "$defs": full["$defs"], "type": "object",
            "additionalProperties": False, "required": [TEST_FILE_KEY, "tests"],
            "properties": {TEST_FILE_KEY: {"type": "string", "minLength": 1},
                           "tests": {"type": "array",
                                     "items": {"$ref": "#/$defs/test_case"}},
                           "notes": {"type": "string"}}}


def validate_test_file(doc: Document) -> list[Diagnostic]:
    """Schema problems of a test file, located as `regime check` locates a policy's."""
    import jsonschema

    from ..policy import schema as policy_schema

    schema = _test_file_schema()
    validator = jsonschema.validators.validator_for(schema)(schema)
    report = Reporter(doc.source)
    seen = set()
    for error in validator.iter_errors(doc.data):
        for leaf in policy_schema._leaves(error):
            path = tuple(leaf.absolute_path)
            message, at_key, key, hint = policy_schema._message(leaf)
            if (path, message) in seen:
                continue
            seen.add((path, message))
            pos = doc.key(path + (key,)) if key is not None else (
                doc.key(path) if at_key else doc.pos(path))
            report.error(message.replace("the policy", "the test file"), pos, code="schema",
                         hint=hint)
    return report.diagnostics


def test_file_target(doc: Document, path: Path, dirs: Sequence[Path]) -> Path:
    """The policy file a test file's `tests_for:` names: an id (looked up beside the tests
    folder first) or a path relative to the test file."""
    from ..policy.load import find_policy

    ref = str(doc.data[TEST_FILE_KEY])
    here = path.parent
    try:
        return find_policy(ref, [here.parent, here] + list(dirs), relative_to=here)
    except PolicyError as e:
        raise PolicyError(Diagnostic(f"{TEST_FILE_KEY}: {e.diagnostics[0].message}",
                                     file=doc.source.file, pos=doc.pos((TEST_FILE_KEY,)),
                                     code="test-file",
                                     source_line=doc.source.line(
                                         doc.pos((TEST_FILE_KEY,)).line))) from None


def discover(refs: Sequence[str], dirs: Sequence[Path]) -> tuple[list[_Group], list[Diagnostic]]:
    """The policies to test for command-line references (ids, policy files, test files,
    folders; every policy in `dirs` when there are none), with their test files."""
    from ..policy.load import find_policy, list_policies

    groups: dict[Path, _Group] = {}
    problems: list[Diagnostic] = []

    def group(path: Path) -> _Group:
        key = path.resolve()
        if key not in groups:
            groups[key] = _Group(path)
        return groups[key]

    def add_test_file(path: Path, only_for: Path | None = None) -> None:
        doc = _test_file_doc(path)
        if doc is None:
            return
        try:
            target = test_file_target(doc, path, dirs)
        except PolicyError as e:
            if only_for is None:
                problems.extend(e.diagnostics)
            return
        if only_for is not None and target.resolve() != only_for.resolve():
            return
        g = group(target)
        if path.resolve() not in {f.resolve() for f in g.test_files}:
            g.test_files.append(path)

    def add_policy(path: Path) -> None:
        group(path).inline = True
        for f in _yaml_files(path.parent / TESTS_FOLDER):
            add_test_file(f, only_for=path)

    def add_folder(folder: Path) -> None:
        for f in _yaml_files(folder):
            if _test_file_doc(f) is not None:
                add_test_file(f)
            else:
                add_policy(f)
        for f in _yaml_files(folder / TESTS_FOLDER):
            add_test_file(f)

    if not refs:
        for info in list_policies(dirs):
            add_policy(info.path)
    for ref in refs:
        p = Path(ref)
        if p.is_dir():
            add_folder(p)
        elif p.is_file() and _test_file_doc(p) is not None:
            add_test_file(p)
        elif p.is_file():
            add_policy(p)
        else:
            try:
                add_policy(find_policy(ref, dirs))
            except PolicyError as e:
                problems.extend(e.diagnostics)
    return list(groups.values()), problems


def run_group(g: _Group, dirs: Sequence[Path], *, kernel: bool = True) -> PolicyResult:
    """Load and check a group's policy, then run the cases of its file and test files."""
    from ..check.checker import check
    from ..policy.load import display_name, read_policy

    name = display_name(g.path)
    try:
        checked = check(read_policy(g.path, dirs=dirs))
    except RegimeError as e:
        return PolicyResult(g.path.stem, name, diagnostics=list(e.diagnostics))
    p = checked.policy
    result = PolicyResult(p.id, p.file)
    docs: list[Document] = []
    if g.inline:
        docs.append(load_document(p.origin.text, p.origin.file))
    for f in g.test_files:
        try:
            doc = _read_doc(f)
        except PolicyError as e:
            result.diagnostics += e.diagnostics
            continue
        problems = validate_test_file(doc)
        if problems:
            result.diagnostics += problems
            continue
        docs.append(doc)
    result.cases, result.coverage = run_cases(checked, docs, kernel=kernel)
    return result


def run_tests(refs: Sequence[str] = (), *, policy_path: Sequence[str] = (),
              kernel: bool = True) -> tuple[list[PolicyResult], list[Diagnostic]]:
    """Run the test cases of the policies `refs` names (all known policies by default)."""
    from ..policy.load import search_path

    dirs = search_path(policy_path)
    groups, problems = discover(refs, dirs)
    return [run_group(g, dirs, kernel=kernel) for g in groups], problems


# --- reporting ---------------------------------------------------------------------------------

def coverage_shortfalls(results: Sequence[PolicyResult], minimum: float | None,
                        conditions: bool) -> list[str]:
    """One line per policy whose coverage is below `minimum` percent."""
    if minimum is None:
        return []
    out = []
    what = "condition" if conditions else "rule"
    for r in results:
        if r.coverage is None:
            continue
        value = r.coverage.condition_percent if conditions else r.coverage.rule_percent
        if value + 1e-9 < minimum:
            out.append(f"{r.file}: {what} coverage {value:.1f}% is below the minimum "
                       f"{minimum:g}%")
    return out


def render_text(results: Sequence[PolicyResult], problems: Sequence[Diagnostic],
                shortfalls: Sequence[str], gaps: str = "all") -> str:
    lines: list[str] = [d.render() for d in problems]
    for r in results:
        n = len(r.cases)
        lines.append(f"{r.file} ({r.policy}): {n} case{'s' * (n != 1)}")
        for d in r.diagnostics:
            lines.append(d.render())
        for c in r.cases:
            mark = {"passed": "ok   ", "failed": "FAIL ", "error": "ERROR"}[c.status]
            where = f"{c.file}:{c.pos.line}" if c.pos else c.file
            lines.append(f"  {mark} {c.name}" + ("" if c.status == "passed" else
                                                  f"  ({where})"))
            for d in c.diagnostics:
                lines.append(d.render())
        if r.coverage is not None:
            lines.append("  " + r.coverage.summary())
            if gaps in ("rules", "all"):
                lines += r.coverage.rule_gaps()
            if gaps == "all":
                lines += r.coverage.condition_gaps()
    passed = sum(r.count("passed") for r in results)
    failed = sum(r.count("failed") for r in results)
    errors = sum(r.count("error") for r in results)
    total = passed + failed + errors
    lines.append(f"{len(results)} polic{'y' if len(results) == 1 else 'ies'}, {total} "
                 f"case{'s' * (total != 1)}: {passed} passed, {failed} failed, {errors} "
                 f"malformed")
    lines += list(shortfalls)
    return "\n".join(lines)


def render_json(results: Sequence[PolicyResult], problems: Sequence[Diagnostic],
                shortfalls: Sequence[str], ok: bool) -> str:
    return json.dumps({
        "ok": ok,
        "summary": {"policies": len(results),
                    "passed": sum(r.count("passed") for r in results),
                    "failed": sum(r.count("failed") for r in results),
                    "errors": sum(r.count("error") for r in results)},
        "policies": [r.to_json() for r in results],
        "coverage_shortfalls": list(shortfalls),
        "diagnostics": [d.to_json() for d in problems],
    }, indent=2)

