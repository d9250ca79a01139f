"""The JSON Schemas shipped in rulesengine/report/schemas describe the real outputs."""

from __future__ import annotations

import json

import pytest
import yaml
from click.testing import CliRunner

from rulesengine import load_policy
from rulesengine.cli import cli
from rulesengine.policy.serialize import policy_data
from rulesengine.report.formats import SCHEMAS, validator


def invoke(*args: str) -> dict:
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.mark.parametrize("name", SCHEMAS)
def test_schemas_are_valid_json_schemas(name):
    validator(name).check_schema(validator(name).schema)


def test_eval_json_follows_its_schema(sample_2019_22):
    doc = invoke("eval", "--policy", "oversight2021", "--data", str(sample_2019_22),
                 "--period", "all", "--format", "json", "--show", "all")
    validator("eval").validate(doc)
    # every quarter of the data (2019/20 to 2022/23 Q1) is reported
    assert len(doc["provenance"]["periods"]["labels"]) == len({r["period"] for r in doc["rows"]})
    broken = dict(doc, rows=[dict(doc["rows"][0], incomplete="false")])
    assert not validator("eval").is_valid(broken)   # the schema does constrain the rows


def test_diff_json_follows_its_schema_with_typed_values(tmp_path):
    data = policy_data(load_policy("turnaround2005").policy)
    before = data["params"]["cohort_percentile"]["value"]
    data["params"]["cohort_percentile"]["value"] = 40
    b = tmp_path / "turnaround_b.yaml"
    b.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    doc = invoke("diff", "turnaround2005", str(b), "--engine", "reference", "--format", "json")
    validator("diff").validate(doc)
    change = doc["changes"][0]
    assert change["key"] == "param cohort_percentile"
    assert change["before"]["value"] == before and change["after"]["value"] == 40
    move = doc["moves"][0]
    assert move["before"]["level"] in doc["transitions"]["rows"]
    assert {"level", "label"} <= set(move["after"])
