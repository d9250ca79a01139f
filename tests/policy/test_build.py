"""Building model items from a document: quantities and units of params, items with their
positions, and every expression's nodes located at the file's own line and column."""

from __future__ import annotations

from pathlib import Path

import pytest

from rulesengine.diagnostics import split_lines
from rulesengine.lang import ast
from rulesengine.quantities import parse_quantity
from rulesengine.policy.load import load_policy_text, read_policy

ROOT = Path(__file__).resolve().parent.parent.parent
SAMPLE = ROOT / "tests" / "corpus" / "parents" / "oversight_sample.yaml"
REAL = sorted({SAMPLE, *(ROOT / "policies").glob("*.yaml")})


@pytest.mark.parametrize("value, quantity", [
    (25, (25.0, "number")),
    (2.5, (2.5, "number")),
    ("25%", (25.0, "percent")),
    ("-1.5%", (-1.5, "percent")),
    ("£4", (4.0, "money")),
    ("£3k", (3000.0, "money")),
    ("£1.5m", (1_500_000.0, "money")),
    ("-£2bn", (-2_000_000_000.0, "money")),
])
def test_param_quantities(value, quantity):
    assert parse_quantity(value) == quantity


def test_param_units_and_effective_dated_values():
    text = """\
policy: p
params:
  a: {value: 3, unit: pct}
  b: {value: 3, unit: GBP}
  c: {value: 3, unit: quarters}
  d: "5%"
  e:
    values:
      - {from: 2021-Q1, value: "£1m"}
      - {from: 2022-Q1, value: "£2m"}
"""
    p = load_policy_text(text, Path("p.yaml"), dirs=[], name="p.yaml")
    assert [(n, q.unit, q.kind) for n, q in p.params.items()] == [
        ("a", "percent", "percent"), ("b", "money", "money"), ("c", "quarters", "number"),
        ("d", "percent", "percent"), ("e", "money", "money")]
    assert [(v.start, v.value) for v in p.params["e"].values] == [("2021-Q1", 1e6),
                                                                  ("2022-Q1", 2e6)]
    assert p.params["e"].value == 2e6
    assert p.params["e"].pos.line == 7


def test_items_carry_their_positions():
    p = read_policy(SAMPLE, dirs=[])
    lines = split_lines(SAMPLE.read_text(encoding="utf-8"))

    def at(pos) -> str:
        return lines[pos.line - 1][pos.col - 1:]

    assert at(p.level("segment_4").pos).startswith("segment_4")
    assert [lv.index for lv in p.levels] == [0, 1, 2, 3]
    assert at(p.inputs["shmi"].pos).startswith("shmi:")
    assert at(p.params["deficit_limit"].pos).startswith("deficit_limit:")
    assert at(p.defines["quality_concern"].pos).startswith("quality_concern:")
    assert at(p.rule("dramatic_drop").pos).startswith("dramatic_drop")
    assert at(p.rule("dramatic_drop").level_pos).startswith("segment_3")
    assert at(p.default_pos).startswith("segment_2")
    assert at(p.pos).startswith("policy:")


def _expressions(policy):
    for d in policy.defines.values():
        yield d.origin, d.expr
    for r in policy.rules:
        yield r.origin, r.when


@pytest.mark.parametrize("path", REAL, ids=lambda p: p.name)
def test_every_name_is_located_at_its_own_text(path):
    """Through plain, quoted, folded and literal scalars alike, each name, call and literal in
    a real policy points at itself in the file."""
    policy = read_policy(path, dirs=[path.parent])
    checked = 0
    for origin, expr in _expressions(policy):
        lines = split_lines(origin.text)
        for node in ast.walk(expr):
            if isinstance(node, ast.Name):
                line, col, word = node.pos.line, node.pos.col, node.name
            elif isinstance(node, ast.Call):
                line, col, word = node.func_pos.line, node.func_pos.col, node.func + "("
            elif isinstance(node, ast.Attribute):
                line, col, word = node.pos.line, node.pos.col, f"{node.obj}.{node.name}"
            else:
                continue
            assert lines[line - 1][col - 1:].startswith(word), (origin.file, line, col, word)
            if node.pos.end_col is not None and isinstance(node, ast.Name):
                assert lines[line - 1][col - 1:node.pos.end_col - 1] == word
            checked += 1
    assert checked >= 20        # every policy names at least twenty things
