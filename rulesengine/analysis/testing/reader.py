"""Reading test cases from YAML: every value checked as the loaders check data, every
problem a diagnostic at its line and column."""

from __future__ import annotations

import math

import numpy as np

from ... import codes
from ...check.checker import CheckedPolicy
from ...data.catalogue import METRICS
from ...data.panel import Entities, normalise_label
from ...diagnostics import Pos, Reporter, did_you_mean, elide
from ...lang import types as T
from ...periods import PeriodError, format_period, parse_period
from ...policy.document import Document
from ...quantities import parse_quantity
from .cases import (_PERIOD_EXAMPLE, _PLURAL, DEFAULT_TOLERANCE, MAX_CASE_ENTITIES,
                    MAX_CASE_PERIODS, Case, Check, Expectation, ReadCase)

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
        self.report.error(f"test '{self.name}': {message}", pos, code=codes.TEST_CASE)

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
        return [normalise_label(x) for x in self.p.scales[scale].labels]

    def label(self, raw, scale: str, labels: list[str], what: str, where) -> float | None:
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
