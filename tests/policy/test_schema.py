"""Schema validation messages, word for word, and where they point."""

from __future__ import annotations

import json

import jsonschema
import pytest

from rulesengine.policy.document import load_document
from rulesengine.policy.schema import policy_schema, validate

VALID = """\
policy: p
entity: trust
period: quarter
levels:
  - {id: segment_2}
  - {id: segment_3}
default: segment_2
"""


def messages(text: str) -> list[str]:
    """`line:col: message (hint)` for every schema violation in `text`."""
    out = []
    for d in validate(load_document(text, "p.yaml")):
        where = f"{d.pos.line}:{d.pos.col}" if d.pos else "-"
        out.append(f"{where}: {d.message}" + (f" ({d.hint})" if d.hint else ""))
    return out


def test_the_schema_is_valid_json_schema_and_accepts_a_plain_policy():
    jsonschema.validators.validator_for(policy_schema()).check_schema(policy_schema())
    assert messages(VALID) == []


@pytest.mark.parametrize("extra, expected", [
    # unknown keys, with the closest valid word
    ("rule: []\n", ["8:1: unknown key 'rule' in the policy; did you mean 'rules'?"]),
    ("colour: red\n", ["8:1: unknown key 'colour' in the policy"]),
    ("inputs:\n  x: {type: flag, labl: X}\n",
     ["9:19: unknown key 'labl' in inputs.x; did you mean 'label'?"]),
    # missing required keys
    ("inputs:\n  x: {better: higher}\n", ["9:3: inputs.x is missing the required key 'type'"]),
    ("rules:\n  - {level: segment_3, when: x}\n",
     ["9:5: rules[0] is missing the required key 'id'"]),
    ("rules:\n  - {id: r, level: segment_3}\n",
     ["9:5: rules[0] is missing the required key 'when'"]),
    ("rules:\n  - {id: r}\n", ["9:5: rules[0] is missing the required key 'level'",
                               "9:5: rules[0] is missing the required key 'when'"]),
    ("timetable: {stages: [{id: a, working_days: 5}]}\n",
     ["8:1: timetable is missing the required key 'starts'"]),
    # wrong types
    ("title: 3\n", ["8:8: title must be a string, not a number"]),
    ("levels: {a: 1}\n", ["5:9: levels must be a list, not a mapping"]),
    ("rules:\n  r1: {id: r}\n", ["8:1: rules must be a list, not a mapping"]),
    ("inputs:\n  x: flag\n", ["9:6: inputs.x must be a mapping, not a string"]),
    ("sources: [3]\n", ["8:11: sources[0] must be a string or a mapping with 'title', not a "
                        "number"]),
    ("timetable: {starts: x, stages: [{id: a, working_days: 1.5}]}\n",
     ["8:55: timetable.stages[0].working_days must be a whole number, not a number"]),
    # expressions YAML did not read as text
    ("define:\n  x: 3\n", ["9:6: define.x must be an expression written as text, not a number "
                           "(YAML reads this value as a number; put the expression in quotes)"]),
    ("applies_to: true\n", ["8:13: applies_to must be an expression written as text, not "
                            "true/false (YAML reads this value as true/false; put the "
                            "expression in quotes)"]),
    ("rules:\n  - {id: r, level: segment_3, when: {a: b}}\n",
     ["9:37: rules[0].when must be an expression written as text, not a mapping (YAML reads "
      "this value as a mapping; put the expression in quotes)"]),
    ("define:\n  x: ''\n", ["9:6: define.x must not be empty"]),
    # enumerations
    ("decide: wrost\n", ["8:9: decide: 'wrost' is not one of worst, first, collect; did you "
                         "mean 'worst'?"]),
    ("inputs:\n  x: {type: percentage}\n",
     ["9:13: inputs.x.type: 'percentage' is not one of percent, number, money, count, flag, "
      "rating; did you mean 'percent'?"]),
    ("inputs:\n  x: {type: percent, better: up}\n",
     ["9:30: inputs.x.better: 'up' is not one of higher, lower"]),
    # identifiers
    ("scales:\n  cqc: [good, 'requires improvement']\n",
     ["9:15: scales.cqc[1]: 'requires improvement' is not a valid name (use letters, digits "
      "and '_', not starting with a digit)"]),
    ("params:\n  2nd: 1\n", ["9:3: params: '2nd' is not a valid name (use letters, digits "
                             "and '_', not starting with a digit)"]),
    ("inputs:\n  " + "x" * 65 + ": {type: flag}\n",
     ["9:3: inputs: the name 'xxxxxxxxxxxxxxxxxxxxxxxx…' is too long (at most 64 "
      "characters)"]),
    ("inputs:\n  ok: {type: flag}\n  2nd: {type: flag}\n",
     ["10:3: inputs: '2nd' is not a valid name (use letters, digits and '_', not starting with "
      "a digit)"]),
    # params
    ("params:\n  n: three\n",
     ["9:6: params.n must be a number, a percentage such as '25%', an amount such as "
      "'£1.5m', or a mapping with 'value' (or 'values')"]),
    ("params:\n  n: '£1.5 m'\n",
     ["9:6: params.n must be a number, a percentage such as '25%', an amount such as "
      "'£1.5m', or a mapping with 'value' (or 'values')"]),
    ("params:\n  n: {unit: quarters}\n",
     ["9:3: params.n needs 'value' (or 'values' for values that change over time)"]),
    ("params:\n  n: {value: 1, values: [{from: 2021-Q1, value: 2}]}\n",
     ["9:6: params.n has both 'value' and 'values'; give one of them"]),
    ("params:\n  n: {values: [{value: 2}]}\n",
     ["9:16: params.n.values[0] is missing the required key 'from'"]),
    ("params:\n  n: {values: []}\n", ["9:15: params.n.values must not be empty"]),
    ("params:\n  n: {value: 1, published: 'no'}\n",
     ["9:28: params.n.published must be true or false, not a string ('no' is text in a policy "
      "file (YAML 1.2): write true or false)"]),
    ("params:\n  n: {value: 1, published: yes}\n",
     ["9:28: params.n.published must be true or false, not a string ('yes' is text in a policy "
      "file (YAML 1.2): write true or false)"]),
    ("params:\n  n: 0x10\n",
     ["9:6: params.n must be a number, a percentage such as '25%', an amount such as '£1.5m', "
      "or a mapping with 'value' (or 'values') ('0x10' is text in a policy file (YAML 1.2): "
      "numbers are written in decimal, without ':' or '_')"]),
    # dates
    ("effective: {from: 1/7/2021}\n",
     ["8:19: effective.from: '1/7/2021' is not a date (write YYYY-MM-DD)"]),
    ("effective: {from: 2021-07-01, to: 2022-6-30}\n",
     ["8:35: effective.to: '2022-6-30' is not a date (write YYYY-MM-DD)"]),
    # lists and the oneOf of entity
    ("scales:\n  cqc: [good]\n", ["9:8: scales.cqc must have at least 2 items, not 1"]),
    ("levels: []\n", ["5:9: levels must not be empty"]),
    ("rules:\n  - {id: r, remove: false}\n", ["9:21: rules[0].remove must be true"]),
])
def test_schema_messages(extra, expected):
    assert messages(VALID.replace("default: segment_2\n", "default: segment_2\n" + extra)
                    if not extra.startswith(("levels:", "effective:"))
                    else _with(extra)) == expected


def _with(extra: str) -> str:
    """VALID with a top-level key replaced (levels) or added before the others (effective)."""
    if extra.startswith("levels:"):
        return VALID.replace("levels:\n  - {id: segment_2}\n  - {id: segment_3}\n", "") + extra
    return VALID + extra


@pytest.mark.parametrize("entity, expected", [
    ("trust", []),
    ("[trust, ccg]", []),
    ("3", ["2:9: entity must be a string or a list, not a number"]),
    ("[trust, 3]", ["2:17: entity[1] must be a string, not a number"]),
    ("[]", ["2:9: entity must not be empty"]),
    ("nhs-trust", ["2:9: entity: 'nhs-trust' is not a valid name (use letters, digits and '_', "
                   "not starting with a digit)"]),
])
def test_entity_forms(entity, expected):
    assert messages(VALID.replace("entity: trust", f"entity: {entity}")) == expected


def test_missing_policy_id_points_at_the_top():
    assert messages(VALID.replace("policy: p\n", "")) == [
        "1:1: the policy is missing the required key 'policy'"]


def test_every_violation_is_reported_in_one_pass():
    text = VALID + "decide: wrost\ncolour: red\ninputs:\n  x: {type: flg}\n"
    assert len(messages(text)) == 3


def test_the_shipped_schema_file_is_the_one_validated_against():
    from importlib.resources import files

    from rulesengine.policy import schema
    shipped = json.loads(files("rulesengine.policy").joinpath("schema.json").read_text("utf-8"))
    assert shipped == policy_schema()
    schema.compile_fast_path()          # the language server's compiled check leaves it as is
    assert shipped == policy_schema()
