"""A policy is untrusted input (design.md §6): its names and strings never become code.

A hostile policy uses names that shadow the kernel's own identifiers (np, lib, e, t, prm, v1,
x0, kernel, ...), dunder names, and strings with quotes, backslashes and Python code. Either
the checker refuses it, or it compiles to a kernel that holds none of its text: the generated
source is identical to that of the same policy with every name and string replaced by a
harmless one, and the kernel's results are the reference's."""

from __future__ import annotations

import io
import re
import tokenize
from pathlib import Path

import numpy as np
import pytest
import yaml

from rulesengine.compile.kernel import compile_policy, evaluate_compiled
from rulesengine.data.panel import Entities
from rulesengine.diagnostics import PolicyError
from rulesengine.engine.layout import make_layout
from rulesengine.engine.params import resolve_params
from rulesengine.engine.reference import evaluate_reference
from rulesengine.check.checker import check
from rulesengine.policy.load import load_policy_text

MARKER = Path("/tmp/regime-injection-marker")
PAYLOAD = f'"); __import__("os").system("touch {MARKER}") #'
STRINGS = [
    PAYLOAD,                                   # in single quotes in the expression
    "'''\\n\\x00\\\\ \\N{BULLET} {kernel} %s",  # backslashes, escapes, braces, triple quotes
    "acute",                                   # an ordinary one, for contrast
]
# input names that are also the kernel's identifiers or Python's
INPUT_NAMES = ["np", "lib", "e", "t", "prm", "v1", "x0", "kernel", "__import__", "nan",
               "range", "P", "E", "out_level", "m1", "h1", "strc", "par", "decisions",
               "__builtins__"]


def hostile_policy() -> tuple[str, list[str], list[str]]:
    """The policy text, every name in it, and every string literal in its expressions."""
    inputs = {}
    for k, name in enumerate(INPUT_NAMES):
        kind = ["percent", "number", "flag", "rating"][k % 4]
        spec = {"type": kind}
        if kind == "rating":
            spec["scale"] = "__class__"
        elif kind != "flag":
            spec["better"] = "higher" if k % 3 else "lower"
        inputs[name] = spec
    flags = [n for n, s in inputs.items() if s["type"] == "flag"]
    numbers = [n for n, s in inputs.items() if s["type"] in ("percent", "number")]
    ratings = [n for n, s in inputs.items() if s["type"] == "rating"]
    params = {"os": 50, "__globals__": {"values": [{"from": "2021-Q1", "value": 1},
                                                   {"from": "2021-Q2", "value": 2}]},
              "exec": "25%"}
    defines = {
        "eval": f"pct_rank({numbers[0]}) <= exec or {flags[0]}",
        "__code__": f"mean_over({numbers[1]}, __globals__) > os",
        "self": f"type == '{STRINGS[0]}' or type == \"{STRINGS[1]}\" or type == '{STRINGS[2]}'",
        "cls": f"count(members, {flags[1]}) + 1",
    }
    rules = [
        ("__del__", "comp", "self"),
        ("__new__", "final", f"eval and not __code__ or sum_of({', '.join(numbers[2:5])}) > 10"),
        ("__init_subclass__", "final", f"__code__ or {ratings[0]} >= __subclasses__"),
        ("getattr", "cand", f"cls > 10 or parent.{numbers[5]} < {numbers[6]}"),
        ("globals", "inc", f"max_of({', '.join(ratings[1:])}) == system"),
        ("open", "comp", "previous(level) == final and periods_in(level >= comp) >= 1"),
    ]
    doc = {
        "policy": "__import__",
        "title": 'evil"""\n\\\'; import os',
        "entity": ["trust", "ics"],
        "period": "quarter",
        "levels": [{"id": "ok", "label": "'); os.system('x')"},
                   {"id": "comp", "meaning": "\\\n\"\"\""},
                   {"id": "final"},
                   {"id": "cand", "decided_by": "__import__('os')"},
                   {"id": "inc"}],
        "default": "ok",
        "decide": "worst",
        "scales": {"__class__": ["__init__", "__subclasses__", "system"]},
        "params": params,
        "inputs": inputs,
        "define": defines,
        "rules": [{"id": i, "level": lv, "when": w,
                   "reason": f"{PAYLOAD}\nline two \\ \"quoted\""} for i, lv, w in rules],
    }
    text = yaml.safe_dump(doc, sort_keys=False, width=10_000, allow_unicode=True)
    names = (list(inputs) + list(params) + list(defines) + ["__class__", "__init__",
             "__subclasses__", "system"] + ["ok", "comp", "final", "cand", "inc"])
    return text, names, STRINGS


def renamed(text: str, names: list[str], strings: list[str]) -> str:
    """The same policy with every name replaced by zz_NNN (in the same sorted order, since the
    compiler numbers inputs by sorted name) and every string literal by a plain word."""
    mapping = {n: f"zz_{k:03d}" for k, n in enumerate(sorted(set(names)))}
    doc = yaml.safe_load(text)

    def expr(s: str) -> str:
        for k, lit in enumerate(strings):
            s = s.replace(lit, f"str{k}")
        return re.sub(r"[A-Za-z_][A-Za-z0-9_]*",
                      lambda m: mapping.get(m.group(0), m.group(0)), s)

    doc["inputs"] = {mapping[k]: ({**v, "scale": mapping[v["scale"]]} if "scale" in v else v)
                     for k, v in doc["inputs"].items()}
    doc["params"] = {mapping[k]: v for k, v in doc["params"].items()}
    doc["define"] = {mapping[k]: expr(v) for k, v in doc["define"].items()}
    doc["scales"] = {mapping[k]: [mapping[x] for x in v] for k, v in doc["scales"].items()}
    doc["levels"] = [{**lv, "id": mapping[lv["id"]]} for lv in doc["levels"]]
    doc["default"] = mapping[doc["default"]]
    doc["rules"] = [{**r, "level": mapping[r["level"]], "when": expr(r["when"])}
                    for r in doc["rules"]]
    return yaml.safe_dump(doc, sort_keys=False, width=10_000, allow_unicode=True)


def load(text: str):
    return check(load_policy_text(text, Path("hostile.yaml")))


def test_hostile_names_and_strings_never_reach_the_source():
    text, names, strings = hostile_policy()
    checked = load(text)
    harmless = load(renamed(text, names, strings))
    source = compile_policy(checked).generated.source
    # the same kernel, character for character: nothing in it came from the names or strings
    assert source == compile_policy(harmless).generated.source
    # and directly: no string of the policy, no dunder name, no payload
    tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    assert [t.string for t in tokens if t.type == tokenize.STRING] == ["'numpy'"]
    identifiers = {t.string for t in tokens if t.type == tokenize.NAME}
    assert not {n for n in identifiers if n.startswith("__")}
    for needle in ("system", "os", "__import__", "__class__", "__globals__", "eval", "exec",
                   "getattr", "open", "self", "cls", "str0", MARKER.name, "\\", '"'):
        assert needle not in identifiers and (len(needle) < 3 or needle not in source), needle
    # the policy's names travel only as data: the argument spec names the inputs
    assert {name for role, name in compile_policy(checked).generated.args
            if role == "input"} <= set(INPUT_NAMES)
    assert set(compile_policy(checked).generated.strings) == set(strings)


def test_a_hostile_policy_evaluates_as_data():
    text, _, strings = hostile_policy()
    checked = load(text)
    n, periods = 8, 4
    # hostile data too: entity attributes are strings the kernel only compares
    types = [strings[0], strings[1], strings[2], "x'); import os #", "", strings[0], "a\\b",
             "ics"]
    kinds = ["trust"] * 6 + ["ics", "ics"]
    parents = ["S0", "S0", "S1", "S1", "", "S0", "", ""]
    ids = [f"T{k}" for k in range(6)] + ["S0", "S1"]
    ents = Entities(tuple(ids), tuple(f'Org "{k}"' for k in ids), tuple(kinds), tuple(types),
                    tuple(parents), ("north",) * n)
    rng = np.random.default_rng(11)
    inputs = {}
    for name, spec in checked.policy.inputs.items():
        values = {"flag": [0.0, 1.0], "rating": [0.0, 1.0, 2.0]}.get(spec.type,
                                                                    [0.0, 10.0, 50.0, 50.0])
        x = rng.choice(values, size=(periods, n))
        x[rng.random((periods, n)) < 0.2] = np.nan
        inputs[name] = x
    layout = make_layout(checked, ents, inputs,
                         resolve_params(checked.policy, "quarter", 2021 * 4, periods), periods)
    MARKER.unlink(missing_ok=True)
    expected = evaluate_reference(checked, layout)
    actual = evaluate_compiled(checked, layout)
    assert actual.equal(expected)
    assert not MARKER.exists()
    # the strings were compared as data: rule __del__ fires exactly for those types
    want = np.array([t in strings for t in types])
    assert np.array_equal(expected.fired[:, :, 0] & 1, np.tile(want, (periods, 1)))


@pytest.mark.parametrize("name", ["level", "members", "if", "and", "type", "mean_of",
                                  "a-b", "x; import os", "x\nimport os", "é", "1x", ""])
def test_names_the_checker_refuses(name):
    doc = {"policy": "p", "entity": "trust", "period": "quarter",
           "levels": [{"id": "ok"}, {"id": "bad"}], "default": "ok",
           "inputs": {name: {"type": "number"}, "y": {"type": "number"}},
           "rules": [{"id": "r", "level": "bad", "when": "y > 1"}]}
    with pytest.raises(PolicyError):
        load(yaml.safe_dump(doc, allow_unicode=True))
