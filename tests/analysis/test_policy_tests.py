"""The policy test runner (`regime test`): passing and failing cases with their messages and
positions, malformed cases, the three forms of input series, decisions, tolerances, test files
beside a policy, rule and condition coverage on small policies, --min-coverage and JSON."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from rulesengine.analysis import testing as policy_tests
from rulesengine.cli.test import command as policy_test_command
from rulesengine.diagnostics import PolicyError
from rulesengine.check.checker import check
from rulesengine.policy.load import read_policy

MINI = """\
policy: mini
title: A small policy for the runner's tests
entity: trust
period: quarter
levels:
  - {id: green, label: Green}
  - {id: amber, label: Amber}
  - {id: red, label: Red, decided_by: the region}
default: green
scales:
  cqc: [outstanding, good, requires_improvement, inadequate]
params:
  floor: "90%"
inputs:
  ae_4hr_pct: {type: percent, better: higher}
  cqc_overall_rating: {type: rating, scale: cqc}
  deficit: {type: flag}
  spend: {type: money}
define:
  low_ae: ae_4hr_pct < floor
  spend_m: spend / 1000000
rules:
  - id: slow
    level: amber
    when: low_ae and not deficit
  - id: failing
    level: red
    when: cqc_overall_rating == inadequate or deficit
"""

PASSING = """\
tests:
  - name: slow A&E is amber
    periods: 2024-Q1
    inputs: {ae_4hr_pct: 85, deficit: false, cqc_overall_rating: good}
    expect: {level: amber, fired: [slow], not_fired: [failing], candidate: null}
"""


def policy_file(tmp_path: Path, tests: str, text: str = MINI, name: str = "mini.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text + tests, encoding="utf-8")
    return path


def run(path: Path, *, kernel: bool = False) -> policy_tests.PolicyResult:
    results, problems = policy_tests.run_tests([str(path)], kernel=kernel)
    assert problems == []
    assert len(results) == 1
    return results[0]


def line_of(path: Path, text: str) -> int:
    """The 1-based line of the first line of `path` containing `text`."""
    for n, line in enumerate(path.read_text().splitlines(), start=1):
        if text in line:
            return n
    raise AssertionError(f"{text!r} not in {path}")


def headlines(result: policy_tests.PolicyResult) -> list[str]:
    return [d.headline() for c in result.cases for d in c.diagnostics]


# --- passing and failing -----------------------------------------------------------------------

def test_a_passing_case(tmp_path):
    result = run(policy_file(tmp_path, PASSING))
    assert [(c.name, c.status) for c in result.cases] == [("slow A&E is amber", "passed")]
    assert result.ok
    assert result.cases[0].pos.line == line_of(tmp_path / "mini.yaml", "- name: slow")


def test_a_failing_case_names_the_case_the_cell_and_what_came_out_at_the_expected_value(tmp_path):
    path = policy_file(tmp_path, """\
tests:
  - name: slow A&E is amber
    periods: [2024-Q1, 2024-Q2]
    entity: {id: T1, type: acute}
    inputs: {ae_4hr_pct: [95, 85], deficit: false, cqc_overall_rating: good}
    expect:
      period: 2024-Q2
      level: green
""")
    result = run(path)
    assert [c.status for c in result.cases] == ["failed"]
    line = line_of(path, "level: green")
    assert headlines(result) == [
        f"{path}:{line}:14: error: test 'slow A&E is amber': T1 in 2024-Q2: expected level "
        "green, got amber (fired: slow)"]
    d = result.cases[0].diagnostics[0]
    assert d.source_line == "      level: green"
    assert "^~~~~" in d.render()
    assert not result.ok


def test_every_kind_of_expectation_reports_its_own_failure(tmp_path):
    path = policy_file(tmp_path, """\
tests:
  - name: everything wrong
    periods: 2024-Q1
    inputs: {ae_4hr_pct: 85, deficit: true, cqc_overall_rating: good, spend: £2.5m}
    tolerance: 0.01
    expect:
      computed: amber
      candidate: null
      fired: [slow]
      not_fired: [failing]
      fired_only: []
      unknown: [failing]
      incomplete: true
      applies: false
      values: {low_ae: false, spend_m: 2.6, cqc_overall_rating: inadequate}
""")
    messages = [h.split(": error: test 'everything wrong': subject in 2024-Q1: ")[1]
                for h in headlines(run(path))]
    assert messages == [
        "expected computed level amber, got green (fired: failing)",
        "expected candidate none, got red (fired: failing)",
        "expected rule 'slow' to fire; its condition was false",
        "expected rule 'failing' not to fire; it fired",
        "expected exactly these rules to fire: none; fired: failing",
        "expected rule 'failing' to be unknown; its condition was true",
        "expected incomplete: true, got false (unknown: none)",
        "expected the policy not to apply to subject; it does",
        "expected low_ae = false, got true",
        "expected spend_m = £2.6, got £2.5 (tolerance 0.01)",
        "expected cqc_overall_rating = inadequate, got good",
    ]


def test_values_within_the_tolerance_pass(tmp_path):
    path = policy_file(tmp_path, """\
tests:
  - name: spend in millions
    periods: 2024-Q1
    inputs: {spend: 2504000}
    expect: {values: {spend_m: {value: 2.5, tolerance: 0.005}}}
  - name: a missing input is a missing value
    periods: 2024-Q1
    expect: {values: {spend_m: null, low_ae: null}, unknown: [slow, failing], incomplete: true}
""")
    result = run(path)
    assert headlines(result) == []
    assert [c.status for c in result.cases] == ["passed", "passed"]


def test_input_series_forms_and_a_rating_standing_until_re_rated(tmp_path):
    path = policy_file(tmp_path, """\
tests:
  - name: series
    periods: {from: 2024-Q1, to: 2024-Q4}
    inputs:
      ae_4hr_pct: [80, 95, null, 85]
      deficit: {2024-Q3: true}
      cqc_overall_rating: {2024-Q1: inadequate, 2024-Q2: null, 2024-Q4: good}
    expect:
      - {period: 2024-Q1, fired_only: [failing], unknown: [slow], values: {deficit: null}}
      - {period: 2024-Q2, level: green, values: {cqc_overall_rating: inadequate, low_ae: false}}
      - {period: 2024-Q3, fired_only: [failing], values: {deficit: true, ae_4hr_pct: null}}
      - {period: 2024-Q4, values: {cqc_overall_rating: good, ae_4hr_pct: 85%}}
""")
    result = run(path)
    assert headlines(result) == []
    assert [c.status for c in result.cases] == ["passed"]


def test_decisions_override_the_level_and_peers_rank_against_each_other(tmp_path):
    ranked = MINI.replace("  low_ae: ae_4hr_pct < floor",
                          "  low_ae: pct_rank(ae_4hr_pct) <= 25")
    path = policy_file(tmp_path, """\
tests:
  - name: the worst of three is amber, and the region's decision stands
    periods: [2024-Q1, 2024-Q2]
    entity: {id: T1, type: acute}
    inputs: {ae_4hr_pct: 70, deficit: false, cqc_overall_rating: good}
    peers:
      - {id: T2, inputs: {ae_4hr_pct: 80, deficit: false, cqc_overall_rating: good}}
      - {id: T3, type: community, inputs: {ae_4hr_pct: 10, deficit: false}}
    decisions: [{period: 2024-Q2, level: red, decided_by: the region}]
    expect:
      - {period: 2024-Q1, level: amber, fired_only: [slow]}
      - {period: 2024-Q1, entity: T2, level: green}
      - {period: 2024-Q1, entity: T3, level: green, values: {low_ae: null}}
      - {period: 2024-Q2, level: red, computed: amber}
""", text=ranked)
    assert headlines(run(path)) == []


# --- malformed cases ---------------------------------------------------------------------------

MALFORMED = [
    ("inputs: {ae_4hr: 85}", "ae_4hr",
     "unknown input 'ae_4hr'; did you mean 'ae_4hr_pct'?"),
    ("inputs: {ae_4hr_pct: high}", "high",
     "input 'ae_4hr_pct' is a percentage: write a number or a percentage such as 95% (or null "
     "for missing), not 'high'"),
    ("inputs: {ae_4hr_pct: £3m}", "£3m",
     "input 'ae_4hr_pct' is a percentage: write a number or a percentage such as 95% (or null "
     "for missing), not '£3m'"),
    ("inputs: {ae_4hr_pct: 1000}", "1000",
     "input 'ae_4hr_pct' is a percentage: 1000 is not between 0 and 100"),
    ("inputs: {deficit: 1}", "1}",
     "input 'deficit' is a flag: write true or false (or null for missing), not 1"),
    ("inputs: {cqc_overall_rating: grood}", "grood",
     "'grood' is not a label of scale 'cqc' (outstanding, good, requires_improvement, "
     "inadequate); did you mean 'good'?"),
    ("inputs: {cqc_overall_rating: 3}", "3}",
     "input 'cqc_overall_rating' is a rating: write a label of scale 'cqc' (outstanding, good, "
     "requires_improvement, inadequate), not 3"),
    ("inputs: {ae_4hr_pct: [80, 81]}", "[80, 81]",
     "input 'ae_4hr_pct' has 2 values for 1 period (2024-Q1 to 2024-Q1)"),
    ("inputs: {ae_4hr_pct: {2023-Q4: 80}}", "2023-Q4",
     "period '2023-Q4' is outside the case's periods (2024-Q1 to 2024-Q1)"),
    ("params: {flor: 80}", "flor",
     "unknown param 'flor'; did you mean 'floor'?"),
    ("decisions: [{period: 2024-Q1, level: amberr}]", "amberr",
     "'amberr' is not a level of policy 'mini' (green, amber, red); did you mean 'amber'?"),
    ("expect: {level: amberr}", "amberr",
     "expect level: 'amberr' is not a level of policy 'mini' (green, amber, red); did you mean "
     "'amber'?"),
    ("expect: {candidate: amber}", "amber",
     "expect candidate: 'amber' is not a judgement level (it has no decided_by), so nothing is a "
     "candidate for it; the judgement levels are red"),
    ("expect: {fired: [slw]}", "slw",
     "expect fired: no rule 'slw' in policy 'mini'; did you mean 'slow'?"),
    ("expect: {entity: T9}", "T9",
     "expect: no entity 'T9' in this case"),
    ("expect: {values: {low: true}}", "low: true",
     "expect values: no define or input 'low' in policy 'mini'; did you mean 'low_ae'?"),
    ("expect: {values: {low_ae: 3}}", "3}",
     "expect values: 'low_ae' is a true/false condition: write true, false or null, not 3"),
    ("expect: {values: {cqc_overall_rating: bad}}", "bad",
     "'bad' is not a label of scale 'cqc' (outstanding, good, requires_improvement, "
     "inadequate)"),
]


@pytest.mark.parametrize("line, at, message", MALFORMED, ids=[m[2][:40] for m in MALFORMED])
def test_a_malformed_case_is_a_located_diagnostic(tmp_path, line, at, message):
    expect = "" if line.startswith("expect") else "    expect: {level: green}\n"
    path = policy_file(tmp_path, f"""\
tests:
  - name: bad
    periods: 2024-Q1
    {line}
{expect}""")
    result = run(path)
    assert [c.status for c in result.cases] == ["error"]
    n = line_of(path, line)
    col = path.read_text().splitlines()[n - 1].index(at) + 1
    assert headlines(result) == [f"{path}:{n}:{col}: error: test 'bad': {message}"]
    assert not result.ok


@pytest.mark.parametrize("line, at", [
    ("inputs: {ae_4hr_pct: .inf}", ".inf"), ("params: {floor: .nan}", ".nan"),
    ("expect: {values: {ae_4hr_pct: {value: 80, tolerance: .nan}}}", ".nan")])
def test_a_non_finite_value_in_a_case_is_refused_where_it_is(tmp_path, line, at):
    # the YAML dialect refuses .nan and .inf anywhere in a policy file (README, "YAML dialect")
    expect = "" if line.startswith("expect") else "    expect: {level: green}\n"
    path = policy_file(tmp_path, f"tests:\n  - name: bad\n    periods: 2024-Q1\n    {line}\n"
                                 f"{expect}")
    results, _ = policy_tests.run_tests([str(path)], kernel=False)
    (result,) = results
    n = line_of(path, line)
    col = path.read_text().splitlines()[n - 1].index(at) + 1
    assert [d.headline() for d in result.diagnostics] == [
        f"{path}:{n}:{col}: error: {at} is not a finite number"]


@pytest.mark.parametrize("periods, message", [
    ("2024-03", "'2024-03' is a month, but policy 'mini' works on quarters (write e.g. 2024-Q1)"),
    ("2024-Q5", "'2024-Q5' is not a period (write 2019-03, 2021-Q3, 2021/22 Q3 or 2005/06)"),
    ("[2024-Q1, 2024-Q3]", "periods must be consecutive: '2024-Q3' does not follow '2024-Q1' "
                           "(write {from: 2024-Q1, to: ...} for a longer run)"),
    ("{from: 2024-Q2, to: 2024-Q1}", "periods: '2024-Q1' is before '2024-Q2'"),
    ("{from: 1900-Q1, to: 2100-Q1}", "801 periods is more than a test case may have (600)"),
])
def test_periods_must_be_consecutive_periods_of_the_policys_kind(tmp_path, periods, message):
    path = policy_file(tmp_path, f"""\
tests:
  - name: bad periods
    periods: {periods}
    expect: {{level: green}}
""")
    assert [h.split(": error: ", 1)[1] for h in headlines(run(path))] == \
        [f"test 'bad periods': {message}"]


def test_several_problems_in_one_case_are_all_reported_and_other_cases_still_run(tmp_path):
    path = policy_file(tmp_path, """\
tests:
  - name: two problems
    periods: 2024-Q1
    inputs: {ae_4hr: 85, deficit: maybe}
    expect: {level: green}
""" + PASSING.replace("tests:\n", ""))
    result = run(path)
    assert [c.status for c in result.cases] == ["error", "passed"]
    assert len(result.cases[0].diagnostics) == 2


def test_a_structurally_wrong_case_fails_the_policys_schema(tmp_path):
    path = policy_file(tmp_path, """\
tests:
  - name: typo
    periods: 2024-Q1
    expct: {level: green}
""")
    result = run(path)
    assert result.cases == []
    assert [d.headline() for d in result.diagnostics] == [
        f"{path}:{line_of(path, '- name: typo')}:5: error: tests[0] is missing the required key "
        "'expect'",
        f"{path}:{line_of(path, 'expct:')}:5: error: unknown key 'expct' in tests[0]; did you "
        "mean 'expect'?"]
    assert not result.ok


# --- the compiled kernel -----------------------------------------------------------------------

def test_a_kernel_that_disagrees_with_the_reference_fails_the_case(tmp_path, monkeypatch):
    import rulesengine.analysis.testing.runner as runner
    from rulesengine.engine.reference import evaluate_reference

    def wrong(checked, layout, **kw):
        raw = evaluate_reference(checked, layout)
        level = raw.level.copy()
        level[0, 0] = 0
        return type(raw)(**{**raw.__dict__, "level": level})

    monkeypatch.setattr(runner, "evaluate_compiled", wrong)     # the kernel the runner calls
    result = run(policy_file(tmp_path, PASSING), kernel=True)
    assert [c.status for c in result.cases] == ["failed"]
    assert [d.message for d in result.cases[0].diagnostics] == [
        "test 'slow A&E is amber': the compiled kernel and the reference evaluator disagree: "
        "level of subject in 2024-Q1: reference amber, kernel green"]


# --- test files beside a policy ----------------------------------------------------------------

def test_a_test_file_beside_the_policy_is_run_with_it(tmp_path):
    policy = policy_file(tmp_path, PASSING)
    (tmp_path / "tests").mkdir()
    more = tmp_path / "tests" / "mini_deficits.yaml"
    more.write_text("""\
tests_for: mini
tests:
  - name: a deficit makes a candidate for red
    periods: 2024-Q1
    inputs: {ae_4hr_pct: 95, deficit: true, cqc_overall_rating: good}
    expect: {level: green, candidate: red, fired_only: [failing]}
  - name: a wrong expectation in a test file is reported in the test file
    periods: 2024-Q1
    inputs: {deficit: true}
    expect: {candidate: null}
""", encoding="utf-8")
    result = run(policy)
    assert [(c.file, c.status) for c in result.cases] == [
        (str(policy), "passed"), (str(more), "passed"), (str(more), "failed")]
    n = line_of(more, "candidate: null")
    col = more.read_text().splitlines()[n - 1].index("null") + 1
    assert headlines(result) == [
        f"{more}:{n}:{col}: error: test 'a wrong expectation in a "
        "test file is reported in the test file': subject in 2024-Q1: expected candidate none, "
        "got red (fired: failing)"]
    # naming the test file runs its cases only
    only = run(more)
    assert [c.file for c in only.cases] == [str(more), str(more)]
    # a folder runs the policy with its test files
    assert len(run(tmp_path).cases) == 3


def test_a_test_file_naming_no_policy_or_with_a_bad_key_is_reported(tmp_path):
    policy_file(tmp_path, PASSING)
    (tmp_path / "tests").mkdir()
    lost = tmp_path / "tests" / "lost.yaml"
    lost.write_text("tests_for: minni\ntests: []\n", encoding="utf-8")
    results, problems = policy_tests.run_tests([str(lost)])
    assert results == []
    assert [d.headline() for d in problems] == [
        f"{lost}:1:12: error: tests_for: no policy named 'minni' (looked in "
        f"{tmp_path}, {lost.parent}, " + problems[0].message.split(f"{lost.parent}, ", 1)[1]]
    assert "did you mean 'mini'?" in problems[0].message
    bad = tmp_path / "tests" / "bad.yaml"
    bad.write_text("tests_for: mini\ntest: []\n", encoding="utf-8")
    result = run(bad)
    assert [d.message for d in result.diagnostics][0] == \
        "unknown key 'test' in the test file; did you mean 'tests'?"
    assert not result.ok


# --- coverage ----------------------------------------------------------------------------------

def test_rule_and_condition_coverage_of_one_case(tmp_path):
    path = policy_file(tmp_path, PASSING)
    cov = run(path).coverage
    assert cov.fired == {"slow"} and cov.not_fired == {"failing"}
    assert cov.rule_percent == 50.0
    # the conditions: low_ae, not deficit, deficit (in slow); ae_4hr_pct < floor (define);
    # cqc_overall_rating == inadequate, deficit (in failing) -- six, twelve outcomes
    assert len(cov.sites) == 6
    assert cov.condition_outcomes == (6, 12)
    n = line_of(path, "when: low_ae and not deficit")
    f = line_of(path, "when: cqc_overall_rating == inadequate or deficit")
    last = path.read_text().splitlines()[f - 1].rindex("deficit") + 1
    d = line_of(path, "low_ae: ae_4hr_pct < floor")
    assert cov.rule_gaps() == [
        f"{path}:{line_of(path, 'id: slow')}:9: rule 'slow' never seen not firing",
        f"{path}:{line_of(path, 'id: failing')}:9: rule 'failing' never fired"]
    assert cov.condition_gaps() == [
        f"{path}:{d}:11: condition 'ae_4hr_pct < floor' never false",
        f"{path}:{n}:11: condition 'low_ae' never false",
        f"{path}:{n}:22: condition 'not deficit' never false",
        f"{path}:{n}:26: condition 'deficit' never true",
        f"{path}:{f}:11: condition 'cqc_overall_rating == inadequate' never true",
        f"{path}:{f}:{last}: condition 'deficit' never true",
    ]


def test_coverage_grows_with_cases_and_counts_only_the_asserted_cells(tmp_path):
    path = policy_file(tmp_path, PASSING + """\
  - name: the peer's values do not count, the entity's do
    periods: 2024-Q1
    inputs: {ae_4hr_pct: 95, deficit: false, cqc_overall_rating: inadequate}
    peers: [{id: P, inputs: {ae_4hr_pct: 95, deficit: true, cqc_overall_rating: good}}]
    expect: {candidate: red, fired_only: [failing]}
""")
    cov = run(path).coverage
    assert cov.fired == {"slow", "failing"} and cov.not_fired == {"slow", "failing"}
    assert cov.rule_percent == 100.0
    # the peer's deficit (true) is not asserted on, so 'deficit' is still never true
    assert cov.condition_outcomes == (9, 12)
    assert [g.split(": ", 1)[1] for g in cov.condition_gaps()] == [
        "condition 'not deficit' never false", "condition 'deficit' never true",
        "condition 'deficit' never true"]


TIMED = """\
policy: timed
title: Windows, lags, members and level history
entity: [trust, ics]
period: quarter
levels:
  - {id: ok, label: OK}
  - {id: watch, label: Watch}
  - {id: act, label: Act}
default: ok
inputs:
  late: {type: flag}
define:
  is_ics: kind == "ics"
rules:
  - id: late_three
    level: watch
    when: sustained(late, 3)
  - id: late_before
    level: watch
    when: late[-1] and not late
  - id: members_late
    level: act
    when: is_ics and count(members, late) >= 2
  - id: long_watch
    level: act
    when: periods_in(level == watch) >= 2
"""


def test_conditions_inside_windows_lags_members_and_level_history_are_seen_where_evaluated(
        tmp_path):
    path = policy_file(tmp_path, """\
tests:
  - name: a trust late for four quarters, then on time
    periods: {from: 2024-Q1, to: 2025-Q1}
    entity: {id: T1, kind: trust, parent: I1}
    inputs: {late: [true, true, true, true, false]}
    peers: [{id: T2, inputs: {late: true}}, {id: I1, kind: ics, parent: ""}]
    expect:
      - {period: 2024-Q3, level: watch, fired_only: [late_three]}
      - {period: 2025-Q1, level: act, fired_only: [late_before, long_watch]}
      - {period: 2025-Q1, entity: I1, level: ok, values: {is_ics: true}}
""", text=TIMED, name="timed.yaml")
    result = run(path)
    assert headlines(result) == []
    cov = result.coverage
    gaps = [g.split(": ", 1)[1] for g in cov.condition_gaps()]
    # sustained's argument is seen true (2024) and false (2025-Q1) through its window; the
    # members of I1 (T1 false, T2 true in 2025-Q1) are seen both ways; the level history is
    # seen at watch (2024-Q3, Q4) and not (2024-Q1, Q2). The lag only ever saw a late quarter,
    # and I1 has one member late in the only period asserted for it.
    assert gaps == [
        "condition 'late[-1]' never false",
        "condition 'count(members, late) >= 2' never true",
    ]
    assert cov.condition_outcomes == (len(cov.sites) * 2 - 2, len(cov.sites) * 2)


# --- the command -------------------------------------------------------------------------------

def invoke(*args: str):
    return CliRunner().invoke(policy_test_command, list(args), catch_exceptions=False)


def test_the_command_prints_each_case_and_the_coverage_and_exits_0(tmp_path):
    path = policy_file(tmp_path, PASSING)
    out = invoke(str(path), "--engine", "reference")
    assert out.exit_code == 0, out.output
    lines = out.output.splitlines()
    assert lines[0] == f"{path} (mini): 1 case"
    assert lines[1] == "  ok    slow A&E is amber"
    assert lines[2] == ("  rule coverage 1/2 rules fired (50.0%), 1/2 seen not firing; "
                        "condition coverage 6/12 outcomes (50.0%)")
    assert f"{path}:{line_of(path, 'id: failing')}:9: rule 'failing' never fired" in lines
    assert lines[-1] == "1 policy, 1 case: 1 passed, 0 failed, 0 malformed"
    quiet = invoke(str(path), "--engine", "reference", "--gaps", "none").output
    assert "never" not in quiet


def test_a_failing_case_exits_1(tmp_path):
    path = policy_file(tmp_path, PASSING.replace("level: amber", "level: red"))
    out = invoke(str(path), "--engine", "reference")
    assert out.exit_code == 1
    assert f"  FAIL  slow A&E is amber  ({path}:{line_of(path, '- name: slow')})" in out.output
    assert "expected level red, got amber (fired: slow)" in out.output
    assert out.output.splitlines()[-1] == "1 policy, 1 case: 0 passed, 1 failed, 0 malformed"


def test_min_coverage_on_rules_or_conditions(tmp_path):
    path = str(policy_file(tmp_path, PASSING))
    assert invoke(path, "--engine", "reference", "--min-coverage", "50").exit_code == 0
    low = invoke(path, "--engine", "reference", "--min-coverage", "60")
    assert low.exit_code == 1
    assert low.output.splitlines()[-1] == \
        f"{path}: rule coverage 50.0% is below the minimum 60%"
    conditions = invoke(path, "--engine", "reference", "--min-coverage", "50.1", "--conditions")
    assert conditions.exit_code == 1
    assert conditions.output.splitlines()[-1] == \
        f"{path}: condition coverage 50.0% is below the minimum 50.1%"


def test_json_output(tmp_path):
    path = policy_file(tmp_path, PASSING + """\
  - name: wrong
    periods: 2024-Q1
    inputs: {deficit: true}
    expect: {level: red}
""")
    out = invoke(str(path), "--engine", "reference", "--format", "json")
    assert out.exit_code == 1
    data = json.loads(out.output)
    assert data["ok"] is False
    assert data["summary"] == {"policies": 1, "passed": 1, "failed": 1, "errors": 0}
    (pol,) = data["policies"]
    assert [c["status"] for c in pol["cases"]] == ["passed", "failed"]
    failed = pol["cases"][1]
    assert failed["line"] == line_of(path, "- name: wrong")
    assert failed["diagnostics"][0]["message"] == (
        "test 'wrong': subject in 2024-Q1: expected level red, got green (fired: failing)")
    assert failed["diagnostics"][0]["line"] == line_of(path, "expect: {level: red}")
    cov = pol["coverage"]
    assert cov["rules"]["percent"] == 100.0 and cov["rules"]["fired"] == 2
    assert cov["conditions"]["total"] == 6
    assert {i["text"] for i in cov["conditions"]["items"]} >= {"ae_4hr_pct < floor", "low_ae"}


def test_an_unknown_policy_is_reported(tmp_path):
    out = invoke(str(tmp_path / "nope.yaml"))
    assert out.exit_code == 1
    assert "no policy file at" in out.output


def test_read_cases_gives_each_cases_own_position(tmp_path):
    path = policy_file(tmp_path, PASSING + PASSING.replace("tests:\n", "").replace(
        "slow A&E is amber", "again"))
    checked = check(read_policy(path))
    from rulesengine.policy.document import load_document

    doc = load_document(checked.policy.origin.text, checked.policy.file)
    cases = policy_tests.read_cases(checked, doc)
    assert [(c.name, c.pos.line) for c in cases] == [
        ("slow A&E is amber", line_of(path, "- name: slow")),
        ("again", line_of(path, "- name: again"))]
    case = cases[0].case
    assert case.values["ae_4hr_pct"].shape == (1, 1)
    assert np.isnan(case.decisions).all()


# --- hostile cases -----------------------------------------------------------------------------

_VALUES = ["null", "true", "3", "-1", "1e400", "'x'", "[]", "{}", "[1, 2]", "{a: 1}", "[[1]]",
           "2024-Q1", "2024-03", "2024/25", "green", "red", "£1m", "95%", "inadequate",
           "[2024-Q1, 2024-Q2]", "{from: 2024-Q1, to: 2024-Q3}", "{2024-Q1: 1}", "{value: 1}",
           "[slow]", "[nope]", "{id: x}", "[{id: x, inputs: {deficit: true}}]",
           "[{period: 2024-Q1, level: red}]", "[{period: [1], level: [1]}]"]
_KEYS = ["periods", "entity", "inputs", "peers", "members", "params", "decisions", "expect",
         "tolerance", "name"]
_EXPECT_KEYS = ["period", "entity", "level", "computed", "candidate", "fired", "not_fired",
                "fired_only", "unknown", "incomplete", "applies", "values"]


def test_no_case_however_malformed_raises():
    """Cases read without the schema (as a test file's would be, were it unchecked): every
    problem is a diagnostic, every well-formed case evaluates and checks."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from rulesengine.policy.document import load_document
    from rulesengine.policy.load import load_policy_text

    checked = check(load_policy_text(MINI, Path("mini.yaml")))
    value = st.sampled_from(_VALUES)
    mapping = st.dictionaries(st.sampled_from(_EXPECT_KEYS + ["ae_4hr_pct", "deficit",
                                                              "cqc_overall_rating", "bogus"]),
                              value, max_size=3).map(
        lambda d: "{" + ", ".join(f"{k}: {v}" for k, v in d.items()) + "}")

    @settings(max_examples=200, deadline=None)
    @given(st.dictionaries(st.sampled_from(_KEYS), st.one_of(value, mapping), max_size=6))
    def run_one(case):
        case = {"name": "'c'", "periods": "2024-Q1", "expect": "{level: green}", **case}
        text = "tests:\n  - " + "\n    ".join(f"{k}: {v}" for k, v in case.items()) + "\n"
        try:
            doc = load_document(text, "t.yaml")
        except PolicyError as e:      # 1e400: refused by the YAML dialect, where it is
            assert all(d.pos is not None for d in e.diagnostics)
            return
        for item in policy_tests.read_cases(checked, doc):
            assert (item.case is None) == bool(item.diagnostics)
            if item.case is not None:
                run = policy_tests.evaluate_case(checked, item.case, kernel=False)
                for d in policy_tests.check_case(checked, item.case, run, doc.source):
                    assert d.pos is not None and d.message.startswith(f"test '{item.name}': ")
            for d in item.diagnostics:
                assert d.pos is not None and d.message.startswith(f"test '{item.name}': ")

    run_one()


def test_a_case_checking_periods_outside_the_policys_dates_is_warned_about(tmp_path):
    """As eval does: the case still runs (and passes), with a warning naming the range."""
    dated = MINI.replace("period: quarter\n",
                         "period: quarter\neffective: {from: 2021-07-01, to: 2022-06-30}\n")
    path = policy_file(tmp_path, """\
tests:
  - name: inside
    periods: 2022-Q1
    inputs: {ae_4hr_pct: 85, deficit: false, cqc_overall_rating: good}
    expect: {level: amber}
  - name: outside
    periods: [2022-Q2, 2022-Q3, 2022-Q4]
    inputs: {ae_4hr_pct: 85, deficit: false, cqc_overall_rating: good}
    expect:
      - {period: 2022-Q2, level: amber}
      - {period: 2022-Q4, level: amber}
""", text=dated)
    result = run(path)
    assert [(c.name, c.status) for c in result.cases] == [("inside", "passed"),
                                                          ("outside", "passed")]
    assert result.cases[0].diagnostics == []
    (warning,) = result.cases[1].diagnostics
    assert warning.severity == "warning"
    # only the periods the case checks are named (2022-Q3 is history it does not check)
    assert warning.headline() == (
        f"{path}:{line_of(path, '- name: outside')}:5: warning: test 'outside': 2022-Q4 is "
        f"outside the period policy 'mini' was in force (2021-07-01 to 2022-06-30): the "
        f"regime did not apply then, so these outcomes are hypothetical")
    assert result.ok
