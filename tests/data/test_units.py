"""Units that cannot be mixed up (`scale: fraction`, `expect:`), and data the policy would
silently ignore: a metric named like an input but for case, decisions for periods outside the
data or for entities the policy does not decide on."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from click.testing import CliRunner

from rulesengine.cli import cli
from rulesengine.data.bind import bind
from rulesengine.cli.data import data as data_cli
from rulesengine.data.loaders import load_panel
from rulesengine.data.units import unit_warnings
from rulesengine.diagnostics import DataWarning, PolicyError
from rulesengine.pipeline.run import evaluate
from rulesengine.check.checker import check
from rulesengine.policy.load import load_policy_text

from .helpers import headlines, write

HEAD = """policy: units
entity: trust
period: month
levels:
  - {id: fine, label: Fine}
  - {id: flagged, label: Flagged}
default: fine
"""


def policy(tmp_path, inputs: str, rules: str = "  - {id: low, level: flagged, when: 'x < 76%'}"):
    text = HEAD + "inputs:\n" + inputs + "rules:\n" + rules + "\n"
    path = tmp_path / "p.yaml"
    path.write_text(text, encoding="utf-8")
    return str(path), check(load_policy_text(text, path))


# NHS England's way of writing 75%: 0.75 (20 trusts: the fraction check needs 20 values).
FRACTION_VALUES = [0.75, 0.8, 0.9] + [0.85] * 17
FRACTIONS = "entity,period,x\n" + "".join(f"T{i + 1},2023-04,{v}\n"
                                          for i, v in enumerate(FRACTION_VALUES))


def caught(func):
    with warnings.catch_warnings(record=True) as found:
        warnings.simplefilter("always")
        result = func()
    return result, [w.message.diagnostic for w in found if isinstance(w.message, DataWarning)]


# --- scale: fraction ----------------------------------------------------------------------------

def test_fractions_are_read_as_percent_with_scale_fraction(tmp_path):
    _, checked = policy(tmp_path, "  x: {type: percent, better: higher, scale: fraction}\n")
    data = write(tmp_path, "d.csv", FRACTIONS)
    bound, found = caught(lambda: bind(checked, load_panel(data, policy=checked)))
    assert np.allclose(bound.inputs["x"][0], np.array(FRACTION_VALUES) * 100)
    assert found == []
    outcomes = evaluate(checked, data, engine="reference")
    assert [outcomes.level_ids[int(v)] for v in outcomes.raw.level[0]][:3] == \
        ["flagged", "fine", "fine"]


def test_a_fraction_input_refuses_values_above_one(tmp_path):
    _, checked = policy(tmp_path, "  x: {type: percent, better: higher, scale: fraction}\n")
    data = write(tmp_path, "d.csv", "entity,period,x\nT1,2023-04,75\n")
    assert headlines(lambda: load_panel(data, policy=checked)) == [
        f"{data}:2:3: error: '75' in column 'x' is not between 0 and 1 (input 'x' is a percent "
        f"written as a fraction (scale: fraction))"]


def test_scale_fraction_belongs_to_percent_inputs(tmp_path):
    with pytest.raises(PolicyError) as info:
        policy(tmp_path, "  x: {type: number, better: higher, scale: fraction}\n",
               "  - {id: low, level: flagged, when: 'x < 76'}")
    assert "input 'x' has a scale but is not a rating (scale: fraction or percent is for " \
           "percent inputs)" in info.value.diagnostics[0].message


# --- looking 100x off -----------------------------------------------------------------------------

def test_fractions_in_a_percent_input_warn_in_validate_and_eval(tmp_path, monkeypatch):
    monkeypatch.setenv("REGIME_NO_POLICY_CACHE", "1")
    path, _ = policy(tmp_path, "  x: {type: percent, better: higher}\n")
    data = write(tmp_path, "d.csv", FRACTIONS)
    expected = (f"{path}:9:3: warning: input 'x' is a percent, but every value of it in {data} "
                f"lies between 0 and 1 (median 0.85): the data look 100 times too small")
    for args in (["data", "validate", data, "--policy", path],
                 ["eval", "--policy", path, "--data", data, "--engine", "reference"]):
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 0, result.output
        assert expected in result.stderr, result.stderr
        assert "hint: if the file holds fractions (0.75 for 75%), declare 'scale: fraction'" \
            in result.stderr


def test_a_handful_of_values_is_not_judged(tmp_path):
    # A policy test case's few hand-written values say nothing about a file's unit.
    _, checked = policy(tmp_path, "  x: {type: percent, better: higher}\n")
    data = write(tmp_path, "d.csv", "entity,period,x\nT1,2023-04,0.75\nT2,2023-04,0.8\n")
    _, found = caught(lambda: bind(checked, load_panel(data, policy=checked)))
    assert found == []


def test_small_genuine_percentages_do_not_warn(tmp_path):
    _, checked = policy(tmp_path, "  x: {type: percent, better: lower}\n",
                        "  - {id: high, level: flagged, when: 'x > 1%'}")
    data = write(tmp_path, "d.csv", "entity,period,x\n" + "".join(
        f"T{i},2023-04,{v}\n" for i, v in enumerate([0.3, 0.01, 0.02] * 10)))
    _, found = caught(lambda: bind(checked, load_panel(data, policy=checked)))
    assert found == []


@pytest.mark.parametrize("spec, csv, words", [
    ("{type: percent, better: higher, expect: 50..100}", FRACTIONS, "100 times too small"),
    ("{type: percent, better: higher, scale: fraction, expect: 50..100}",
     "entity,period,x\nT1,2023-04,0.0075\nT2,2023-04,0.008\n", "100 times too small"),
    ("{type: number, better: higher, expect: 0.5..1}",
     "entity,period,x\nT1,2023-04,75\nT2,2023-04,80\n", "100 times too large"),
    ("{type: number, better: higher, expect: 50..100}",
     "entity,period,x\nT1,2023-04,5\nT2,2023-04,8\n", "outside its expected range 50..100"),
])
def test_values_outside_expect_warn(spec, csv, words, tmp_path):
    rule = "  - {id: low, level: flagged, when: 'x < 76" + ("%" if "percent" in spec else "") \
        + "'}"
    _, checked = policy(tmp_path, f"  x: {spec}\n", rule)
    data = write(tmp_path, "d.csv", csv)
    _, found = caught(lambda: bind(checked, load_panel(data, policy=checked)))
    assert len(found) == 1 and words in found[0].message
    assert found[0].severity == "warning" and found[0].file.endswith("p.yaml")


def test_values_inside_expect_do_not_warn(tmp_path):
    _, checked = policy(tmp_path, "  x: {type: percent, better: lower, expect: 0..1}\n",
                        "  - {id: high, level: flagged, when: 'x > 0.5%'}")
    data = write(tmp_path, "d.csv", FRACTIONS)      # genuinely below 1%: expect says so
    _, found = caught(lambda: bind(checked, load_panel(data, policy=checked)))
    assert found == []


@pytest.mark.parametrize("expect, message", [
    ("100..50", "input 'x': expect 100..50 is empty: write the lower bound first"),
])
def test_a_bad_expect_is_an_error(expect, message, tmp_path):
    with pytest.raises(PolicyError) as info:
        policy(tmp_path, f"  x: {{type: percent, better: higher, expect: '{expect}'}}\n")
    assert message in [d.message for d in info.value.diagnostics]


def test_expect_must_be_a_range(tmp_path):
    with pytest.raises(PolicyError):
        policy(tmp_path, "  x: {type: percent, better: higher, expect: 'about 70'}\n")


def test_unit_warnings_skip_inputs_without_values(tmp_path):
    _, checked = policy(tmp_path, "  x: {type: percent, better: higher}\n")
    assert unit_warnings(checked.policy, {"x": np.full((2, 2), np.nan)}, "d.csv") == []


# --- names and decisions that would be silently ignored -------------------------------------

def test_a_metric_named_like_an_input_but_for_case_is_reported(tmp_path):
    path, _ = policy(tmp_path, "  x: {type: percent, better: higher}\n"
                               "  a: {type: number, better: higher}\n")
    data = write(tmp_path, "d.csv", "entity,period,x,A\nT1,2023-04,70,1\n")
    result = CliRunner().invoke(data_cli, ["validate", data, "--policy", path])
    assert result.exit_code == 0, result.output
    assert (f"{data}:1:4: warning: metric 'A' is not an input of policy 'units' and is "
            f"ignored; did you mean 'a'?") in result.stderr


def test_a_used_input_missing_but_for_case_suggests_the_metric(tmp_path):
    path, checked = policy(tmp_path, "  a: {type: number, better: higher}\n",
                           "  - {id: low, level: flagged, when: 'a < 5'}")
    data = write(tmp_path, "long.csv", "entity,period,metric,value\nT1,2023-04,A,1\n")
    with pytest.warns(DataWarning, match="metric 'A' is not an input"):
        lines = headlines(lambda: load_panel(data, policy=checked))
    assert lines[-1] == f"{path}:9:3: error: input 'a' is not in the data ({data}); did you " \
                        f"mean 'A'?"


def test_decisions_outside_the_data_or_for_other_kinds_warn(tmp_path, monkeypatch):
    monkeypatch.setenv("REGIME_NO_POLICY_CACHE", "1")
    path, _ = policy(tmp_path, "  x: {type: percent, better: higher}\n")
    data = write(tmp_path, "d.csv", "entity,period,x\nT1,2023-04,70\nR1,2023-04,80\n")
    ents = write(tmp_path, "e.csv", "entity,kind\nT1,trust\nR1,region\n")
    dec = write(tmp_path, "dec.csv", "entity,period,level,decided_by,reason\n"
                                     "T1,2019-04,fine,SoS,old\nR1,2023-04,flagged,SoS,region\n"
                                     "T1,2023-04,fine,SoS,now\n")
    result = CliRunner().invoke(cli, ["eval", "--policy", path, "--data", data, "--entities",
                                      ents, "--decisions", dec, "--engine", "reference"])
    assert result.exit_code == 0, result.output
    assert (f"{dec}:2:2: warning: a decision for T1 in 2019-04 is ignored: the data cover "
            f"2023-04 to 2023-04") in result.stderr
    assert (f"{dec}:3:1: warning: a decision for R1 is ignored: it is a region, and policy "
            f"'units' decides on trust") in result.stderr


def test_metrics_named_alike_but_for_case_are_refused(tmp_path):
    # A long file could hold x and X; written wide they would be one column twice.
    data = write(tmp_path, "long.csv", "entity,period,metric,value\nT1,2023-04,x,1\n"
                                       "T1,2023-04,X,2\n")
    assert headlines(lambda: load_panel(data)) == [
        f"{data}:3:3: error: metric 'X' differs from metric 'x' (line 2) only by case: write "
        f"each metric's name one way"]


@pytest.mark.parametrize("name", ["entity", "Period", "value"])
def test_a_metric_cannot_take_a_column_name(name, tmp_path):
    data = write(tmp_path, "long.csv", f"entity,period,metric,value\nT1,2023-04,{name},1\n")
    assert headlines(lambda: load_panel(data)) == [
        f"{data}:2:3: error: '{name}' cannot name a metric: entity, period, metric and value "
        f"are the table's own columns"]
