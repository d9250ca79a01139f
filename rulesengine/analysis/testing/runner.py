"""Running a case: its panel built directly, evaluated by the reference evaluator and the
compiled kernel, and every expectation checked."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any, Sequence

import numpy as np

from ... import codes
from ...check.checker import CheckedPolicy
from ...compile.kernel import evaluate_compiled
from ...data.bind import bind
from ...data.panel import Panel, normalise_label
from ...diagnostics import Diagnostic, RegimeError, Reporter
from ...engine.layout import make_layout
from ...engine.outcomes import RawOutcomes, rule_bit
from ...engine.params import resolve_params
from ...engine.reference import Reads, ReferenceEvaluator
from ...lang import types as T
from ...periods import format_period
from ...policy.document import Document
from ...policy.effective import outside_warning, policy_mask
from ...quantities import quantity_text
from ..coverage import Coverage
from .cases import Case, CaseResult, Check
from .reader import read_cases

# --- running a case ----------------------------------------------------------------------------

@dataclass
class Run:
    """A case evaluated: the reference evaluator (with every node's value, and the `Reads` of
    the evaluation for coverage) and its outcomes."""

    reference: Any                  # engine.reference.ReferenceEvaluator, after run()
    raw: RawOutcomes
    kernel: RawOutcomes | None


def evaluate_case(checked: CheckedPolicy, case: Case, *, kernel: bool = True) -> Run:
    """Run a case through the reference evaluator and (unless told not to) the kernel."""

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
    ref = ReferenceEvaluator(checked, layout, Reads())
    raw = ref.run()
    compiled = None
    if kernel:

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
                     case.pos, code=codes.TEST_KERNEL)

    def fired(t, e):
        return [r for i, r in enumerate(rule_ids) if rule_bit(raw.fired[t, e], i)]

    def unknown(t, e):
        return [r for i, r in enumerate(rule_ids) if rule_bit(raw.unknown[t, e], i)]

    def status(t, e, rule):
        i = rule_ids.index(rule)
        if rule_bit(raw.fired[t, e], i):
            return "true"
        return "unknown" if rule_bit(raw.unknown[t, e], i) else "false"

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
                report.error(where + msg, c.pos, code=codes.TEST_FAILED)
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
    return quantity_text(float(v), typ.kind)


def _level(level_ids, index) -> str:
    return "none" if index is None else level_ids[index]


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
                                    file=doc.source.file, pos=pos, code=codes.TEST_CASE,
                                    source_line=doc.source.line(pos.line) if pos else None)
                         for d in e.diagnostics]
                results.append(CaseResult(name, doc.source.file, pos, "error", diags))
                continue
            failures = check_case(checked, case, run, doc.source)
            coverage.observe(run.reference, run.raw, {(x.t, x.e) for x in case.expectations})
            results.append(CaseResult(name, doc.source.file, pos,
                                      "failed" if failures else "passed",
                                      failures + _outside_dates(checked, case, doc.source)))
    return results, coverage


def _outside_dates(checked: CheckedPolicy, case: Case, source) -> list[Diagnostic]:
    """A warning (as eval gives) when periods the case checks are outside the policy's
    effective dates: the case then tests outcomes the regime never produced."""
    p = checked.policy
    mask = policy_mask(p, case.period_kind, case.start, case.n_periods)
    checked_periods = sorted({x.t for x in case.expectations})
    labels = [format_period(case.period_kind, case.start + t) for t in checked_periods
              if not mask[t]]
    text = outside_warning(p, labels)
    if text is None:
        return []
    return [Diagnostic(f"test '{case.name}': {text}", file=source.file, pos=case.pos,
                       severity="warning", code=codes.TEST_CASE,
                       source_line=source.line(case.pos.line) if case.pos else None)]
