"""The provenance record: every --param override, decisions file, engine and period that made
an output is recorded, in the documented JSON form."""

from __future__ import annotations

import hashlib
import json
from importlib import resources

import jsonschema
import pytest
from click.testing import CliRunner

import rulesengine
from rulesengine.cli import cli
from rulesengine.pipeline.run import evaluate


def schema(name: str) -> dict:
    return json.loads(resources.files("rulesengine.report").joinpath(
        f"schemas/{name}.schema.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def turnaround():
    return rulesengine.load_policy("turnaround2005")


def test_param_overrides_change_the_provenance(turnaround):
    base = evaluate(turnaround, engine="reference").provenance
    cut = evaluate(turnaround, engine="reference",
                   params={"cohort_percentile": 40}).provenance
    assert base != cut
    assert base.to_json()["params"] == {}
    assert cut.to_json()["params"] == {"cohort_percentile": 40.0}
    assert "params cohort_percentile=40" in cut.line()
    assert "params" not in base.line()


def test_engine_and_decisions_are_recorded(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    decisions = tmp_path / "decisions.csv"
    content = b"entity,period,level,decided_by,reason\nT005,2025-Q1,segment_4,region,RSP\n"
    decisions.write_bytes(content)
    prov = evaluate(rulesengine.load_policy("oversight2021"), engine="reference",
                    decisions=decisions).provenance
    doc = prov.to_json()
    assert doc["engine"]["backend"] == "reference" and doc["engine"]["numba"] is None
    assert doc["decisions"] == [{"file": "decisions.csv",
                                 "digest": hashlib.sha256(content).hexdigest()}]
    assert f"decisions decisions.csv sha256:{hashlib.sha256(content).hexdigest()[:12]}" \
        in prov.line()
    jsonschema.validate(doc, schema("provenance"))


def test_provenance_names_the_periods_reported(turnaround):
    out = evaluate(turnaround, engine="reference")
    assert out.provenance.periods == out.period_labels
    last = out.provenance.for_periods(out.period_labels[-1:]).to_json()["periods"]
    assert last == {"kind": "year", "labels": [out.period_labels[-1]]}


def test_eval_json_records_param_overrides_and_validates():
    result = CliRunner().invoke(cli, ["eval", "--policy", "turnaround2005", "--engine",
                                      "reference", "--param", "cohort_percentile=40",
                                      "--format", "json"])
    assert result.exit_code == 0, result.output
    prov = json.loads(result.stdout)["provenance"]
    assert prov["params"] == {"cohort_percentile": 40.0}
    # one period: the latest the sample covers inside turnaround2005's dates
    assert prov["periods"]["labels"] == ["2006/07"]
    jsonschema.validate(prov, schema("provenance"))
