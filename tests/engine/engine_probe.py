"""Evaluate expressions on small hand-made panels, with both backends.

`probe(...)` builds a policy from parts, evaluates it with the reference evaluator and returns
each probed expression's value for every period and entity (NaN = unknown), and the outcomes.
It also checks the compiled kernel on the same panel: a copy of the policy gets, per probe, a
number input holding the reference's values and two rules on an extra judgement level (so they
change no level) — `value == want` and `missing(value)` — and the kernel must fire exactly the
same bits as the reference, and give the same outcomes in every other array.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import yaml

from rulesengine.compile.kernel import evaluate_compiled
from rulesengine.data.panel import Entities
from rulesengine.engine.layout import make_layout
from rulesengine.engine.outcomes import RawOutcomes, rule_mask
from rulesengine.engine.params import resolve_params
from rulesengine.engine.reference import ReferenceEvaluator
from rulesengine.engine.vectorised import evaluate_vectorised
from rulesengine.lang import types as T
from rulesengine.check.checker import CheckedPolicy, check
from rulesengine.policy.load import load_policy_text

N = np.nan
START = 2021 * 4            # 2021-Q1


def entities(*rows: str) -> Entities:
    """Entities from 'id kind type parent region' rows ('-' for an empty field)."""
    cols = [r.split() for r in rows]
    for c in cols:
        assert len(c) == 5, c

    def field(k):
        return tuple("" if c[k] == "-" else c[k] for c in cols)

    return Entities(field(0), tuple(f"Org {c[0]}" for c in cols), field(1), field(2), field(3),
                    field(4))


def trusts(types: Sequence[str], parents: Sequence[str] | None = None) -> Entities:
    """n trusts T0..Tn-1 of the given types (and parents)."""
    n = len(types)
    parents = parents or ["-"] * n
    return entities(*(f"T{k} trust {types[k]} {parents[k]} north" for k in range(n)))


def policy_text(*, inputs: Mapping[str, dict], rules: Sequence[tuple[str, str]] = (),
                defines: Mapping[str, str] | None = None, params: Mapping | None = None,
                levels: Sequence = ("ok", "watch", "bad"), default: str | None = None,
                decide: str = "worst", scales: Mapping | None = None,
                entity="trust", peer_group: str | None = None,
                applies_to: str | None = None) -> str:
    """A policy file from parts; `levels` items are ids or dicts, `rules` (level, when) pairs
    named r0, r1, ..."""
    doc: dict = {"policy": "probe", "entity": entity, "period": "quarter"}
    if peer_group:
        doc["peer_group"] = peer_group
    if applies_to:
        doc["applies_to"] = applies_to
    doc["levels"] = [lv if isinstance(lv, dict) else {"id": lv} for lv in levels]
    doc["default"] = default or doc["levels"][0]["id"]
    doc["decide"] = decide
    if scales:
        doc["scales"] = {k: list(v) for k, v in scales.items()}
    if params:
        doc["params"] = dict(params)
    doc["inputs"] = dict(inputs)
    if defines:
        doc["define"] = dict(defines)
    doc["rules"] = [{"id": f"r{k}", "level": lv, "when": when}
                    for k, (lv, when) in enumerate(rules)]
    return yaml.safe_dump(doc, sort_keys=False, width=10_000, allow_unicode=True)


@dataclass
class Result:
    values: dict[str, np.ndarray]        # probe -> [P, E] float (or object for strings)
    outcomes: RawOutcomes                # the reference's outcomes of the policy as given
    checked: CheckedPolicy

    def __getitem__(self, name: str) -> np.ndarray:
        return self.values[name]

    def fired(self, rule: int) -> np.ndarray:
        """[P, E] bool: rule r<rule> fired."""
        return rule_mask(self.outcomes.fired, rule)

    def unknown(self, rule: int) -> np.ndarray:
        return rule_mask(self.outcomes.unknown, rule)


def _load(text: str) -> CheckedPolicy:
    return check(load_policy_text(text, Path("probe.yaml")))


def _layout(checked, ents, data, n_periods, decisions):
    params = resolve_params(checked.policy, "quarter", START, n_periods)
    inputs = {k: np.asarray(v, dtype=np.float64).reshape(n_periods, len(ents))
              for k, v in data.items()}
    dec = None if decisions is None else np.asarray(decisions, dtype=np.float64)
    return make_layout(checked, ents, inputs, params, n_periods, dec, periods=("quarter", START))


def probe(probes: Mapping[str, str], *, ents: Entities, data: Mapping[str, object],
          inputs: Mapping[str, dict], n_periods: int = 1, decisions=None,
          **parts) -> Result:
    """Evaluate `probes` (name -> expression) on the panel; see the module docstring."""
    defines = dict(parts.pop("defines", None) or {})
    names = {name: f"probe_{name}" for name in probes}
    for name, expr in probes.items():
        defines[names[name]] = expr
    text = policy_text(inputs=inputs, defines=defines, **parts)
    checked = _load(text)
    layout = _layout(checked, ents, data, n_periods, decisions)
    ref = ReferenceEvaluator(checked, layout)
    outcomes = ref.run()
    values = {}
    kinds = {}
    for name in probes:
        node = checked.policy.defines[names[name]].expr
        values[name] = np.stack([ref.eval(node, t) for t in range(n_periods)])
        kinds[name] = checked.types[node.nid]
    _check_kernel(parts, inputs, defines, names, values, kinds, checked, ents, data, n_periods,
                  decisions, outcomes)
    return Result(values, outcomes, checked)


def _check_kernel(parts, inputs, defines, names, values, kinds, checked, ents, data,
                  n_periods, decisions, outcomes) -> None:
    """The compiled kernel computes the same values (read through rules on a judgement level
    of their own) and the same outcomes as the reference."""
    parts = dict(parts)
    levels = [lv if isinstance(lv, dict) else {"id": lv}
              for lv in parts.pop("levels", ("ok", "watch", "bad"))]
    levels.append({"id": "probe_level", "decided_by": "the test"})
    rules = list(parts.pop("rules", ()))
    n_base = len(rules)
    inputs = dict(inputs)
    data = dict(data)
    readers = []
    for name, define in names.items():
        t = kinds[name]
        if t == T.STRING:
            value = None
        elif t == T.BOOL:
            value = f"(if {define} then 1 else 0)"
        elif t.kind in ("rating", "level"):
            value = f"position({define})"
        else:
            value = define
        if value is not None:
            want = f"probe_want_{name}"
            inputs[want] = {"type": "number"}
            v = values[name].astype(np.float64)
            if t == T.BOOL:
                v = np.where(np.isnan(v), np.nan, v)
            elif t.kind in ("rating", "level"):
                v = v + 1.0
            data[want] = v
            rules.append(("probe_level", f"{value} == {want}"))
            readers.append((name, len(rules) - 1, "equal"))
        rules.append(("probe_level", f"missing({define})"))
        readers.append((name, len(rules) - 1, "missing"))
    text = policy_text(inputs=inputs, defines=defines, rules=rules, levels=levels, **parts)
    aux = _load(text)
    layout = _layout(aux, ents, data, n_periods, decisions)
    expected = ReferenceEvaluator(aux, layout).run()
    actual = evaluate_compiled(aux, layout)
    vectorised = evaluate_vectorised(aux, layout)
    for f in ("computed", "level", "candidate", "fired", "unknown", "incomplete", "subject"):
        a, b, c = getattr(expected, f), getattr(actual, f), getattr(vectorised, f)
        assert np.array_equal(a, b), f"kernel differs from the reference in {f}:\n{a}\n{b}\n{text}"
        assert np.array_equal(a, c), \
            f"vectorised engine differs from the reference in {f}:\n{a}\n{c}\n{text}"
    # the probe rules changed no level, and the values read through them are the probes'
    for f in ("computed", "level", "incomplete", "subject"):
        assert np.array_equal(getattr(expected, f), getattr(outcomes, f)), f

    bit = rule_mask

    for name, i, kind in readers:
        v = values[name]
        unknown = np.array([[x is None or (isinstance(x, float) and x != x) for x in row]
                            for row in v])
        if kind == "missing":
            assert np.array_equal(bit(actual.fired, i), unknown), (name, v)
        else:
            assert np.array_equal(bit(actual.fired, i), ~unknown), (name, v)
            assert np.array_equal(bit(actual.unknown, i), unknown), (name, v)
    for i in range(n_base):
        assert np.array_equal(bit(actual.fired, i), bit(outcomes.fired, i))
        assert np.array_equal(bit(actual.unknown, i), bit(outcomes.unknown, i))
