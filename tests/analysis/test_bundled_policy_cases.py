"""Every bundled policy's own test cases (the `tests:` of policies/*.yaml), one pytest item per
case, run through the reference evaluator and the compiled kernel; and every bundled policy's
cases fire every one of its rules. A broken policy test fails CI here."""

from __future__ import annotations

from functools import lru_cache

import pytest

from rulesengine.analysis import testing as policy_tests
from rulesengine.policy.load import bundled_policies_dir, list_policies

BUNDLED = [info.path for info in list_policies([bundled_policies_dir()])]


@lru_cache(maxsize=None)
def results(path) -> policy_tests.PolicyResult:
    """All of a policy's cases, run once and shared by its tests."""
    found, problems = policy_tests.run_tests([str(path)])
    assert problems == []
    (result,) = found
    return result


def _case_names(path) -> list[str]:
    from rulesengine.policy.document import load_document

    doc = load_document(path.read_text(encoding="utf-8"), str(path))
    tests = doc.data.get("tests") or []
    return [str(case.get("name", f"case {i + 1}")) if isinstance(case, dict) else f"case {i + 1}"
            for i, case in enumerate(tests)]


CASES = [(path, i) for path in BUNDLED for i, _ in enumerate(_case_names(path))]


def test_every_bundled_policy_has_cases():
    assert {p.stem for p in BUNDLED} >= {"oversight2021", "oversight2022", "oversight2025",
                                         "turnaround2005", "failure2009", "success2015",
                                         "special_measures2013"}
    assert all(_case_names(p) for p in BUNDLED)


@pytest.mark.parametrize("path, index", CASES,
                         ids=[f"{p.stem}::{_case_names(p)[i]}" for p, i in CASES])
def test_bundled_policy_case(path, index):
    result = results(path)
    assert not result.diagnostics, "\n".join(d.render() for d in result.diagnostics)
    case = result.cases[index]
    assert case.status == "passed", "\n".join(d.render() for d in case.diagnostics)


@pytest.mark.parametrize("path", BUNDLED, ids=[p.stem for p in BUNDLED])
def test_bundled_policy_cases_fire_every_rule(path):
    coverage = results(path).coverage
    assert coverage.rule_percent == 100.0, "\n".join(coverage.rule_gaps())
