"""Policy test cases: entities' inputs over a few periods, and the outcome the policy must give.

A case is written in the policy file (`tests:`) or in a test file beside it
(`<policy folder>/tests/*.yaml` with `tests_for: <policy id or path>` and `tests:`):

```yaml
tests:
  - name: bottom-quartile access puts an acute trust in segment 3
    periods: [2024-Q1, 2024-Q2]       # or 2024-Q1, or {from: 2023-Q1, to: 2024-Q2}
    entity: {id: T1, kind: trust, type: acute, parent: ICS1}
    inputs:                           # the entity's inputs; unspecified inputs are missing
      ae_4hr_pct: [60, 61]            # one value per period
      cqc_overall_rating: good        # or one value for every period (a label of its scale)
      in_special_measures: {2024-Q2: true}   # or from a period on (missing before)
    peers:                            # other entities; kind/type/parent/region as the entity's
      - {id: T2, inputs: {ae_4hr_pct: 80}}
    members: [...]                    # the entity's members (parent = the entity, kind trust)
    params: {bottom_quartile: 20}     # param values for this case
    decisions: [{period: 2024-Q1, level: segment_4, decided_by: region}]
    expect:                           # or a list of these
      period: 2024-Q2                 # default: the last period
      entity: T1                      # default: the entity under test
      level: segment_3                # final level; `computed:` before decisions
      candidate: null                 # the judgement level it is a candidate for
      fired: [key_metrics_bottom_quartile]   # at least these fire; `fired_only:` exactly
      not_fired: [finance_off_plan]
      unknown: []                     # rules whose condition is unknown
      incomplete: false
      applies: true                   # the policy decides on the entity
      values: {bottom_quartile_share: 50%, raw_score: {value: 2.5, tolerance: 0.01}}
    tolerance: 0.001                  # for numeric values (default 1e-9)
```

Each case's panel is built directly (no data files): ratings are labels of their scale, flags
true/false, percentages numbers or `95%`, money numbers or `£1.5m`, null missing; it goes
through the same binding (a rating stands until the next one), layout and params as
`regime eval`. The case runs through the reference evaluator and the compiled kernel; both
must give the expectation. A failure or a malformed case is a diagnostic at the case's own
line and column in its YAML file.

`regime test` runs the cases and reports rule and condition coverage (`coverage.py`).
"""

from .cases import (DEFAULT_TOLERANCE, Case, CaseResult, Check, Expectation, PolicyResult,
                    ReadCase)
from .discovery import discover, run_group, run_tests, validate_test_file
from .reader import read_cases
from .render import coverage_shortfalls, render_json, render_text
from .runner import check_case, evaluate_case, run_cases

__all__ = ["DEFAULT_TOLERANCE", "Case", "CaseResult", "Check", "Expectation", "PolicyResult",
           "ReadCase", "check_case", "coverage_shortfalls", "discover", "evaluate_case",
           "read_cases", "render_json", "render_text", "run_cases", "run_group", "run_tests",
           "validate_test_file"]
