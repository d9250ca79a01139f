"""The README's worked example of ranks ("### Ranks"), evaluated: the table there is read from
the README and every number in it checked against the reference evaluator, so the
documentation of pct_rank, rank, worst_rank, ntile, metric_score and percentile stays true."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from rulesengine import load_policy
from rulesengine.data.panel import Entities, Panel
from rulesengine.engine.probe import Probe
from rulesengine.engine.reference import evaluate_reference
from rulesengine.pipeline.run import prepare
from rulesengine.periods import parse_period

README = Path(__file__).parents[2] / "README.md"
POLICY = """
policy: ranks_readme
title: The README's ranks example
version: "1"
entity: trust
period: quarter
peer_group: type
levels:
  - {id: ok, label: OK}
default: ok
inputs:
  ae_4hr_pct: {type: percent, better: higher}
  wait_weeks: {type: number, better: lower}
define:
  v_pct_rank: pct_rank(ae_4hr_pct)
  v_rank: rank(ae_4hr_pct)
  v_worst_rank: worst_rank(ae_4hr_pct)
  v_ntile_best: ntile(ae_4hr_pct, 4, first=best)
  v_ntile_worst: ntile(ae_4hr_pct, 4, first=worst)
  v_metric_score: metric_score(ae_4hr_pct)
  p25: percentile(ae_4hr_pct, 25, first=lowest)
  p75: percentile(ae_4hr_pct, 75, first=lowest)
  p25_worst: percentile(ae_4hr_pct, 25, first=worst)
  wait_pct_rank: pct_rank(wait_weeks)
  wait_p25: percentile(wait_weeks, 25, first=lowest)
  wait_p25_worst: percentile(wait_weeks, 25, first=worst)
rules:
  - {id: never, level: ok, when: v_pct_rank < 0}
  - {id: never_wait, level: ok, when: wait_pct_rank < 0 or wait_p25 < 0 or wait_p25_worst < 0}
"""


def _example() -> tuple[list[str], list[list[str]], str]:
    text = README.read_text(encoding="utf-8")
    section = text[text.index("### Ranks"):]
    section = section[:section.index("\n## ")]
    lines = [line for line in section.splitlines() if line.startswith("| ")]
    header = next(line for line in lines if line.startswith("| trust |"))
    columns = [c.strip() for c in header.strip("|").split("|")]
    rows = [[c.strip() for c in line.strip("|").split("|")] for line in lines
            if re.match(r"\| T\d ", line)]
    return columns, rows, section


def test_readme_ranks_example_is_what_the_engine_computes(tmp_path):
    columns, rows, section = _example()
    assert columns == ["trust", "A&E 4-hour", "pct_rank", "rank", "worst_rank",
                       "ntile(x, 4, first=best)", "ntile(x, 4, first=worst)", "metric_score"]
    assert len(rows) == 5
    path = tmp_path / "ranks.yaml"
    path.write_text(POLICY, encoding="utf-8")
    checked = load_policy(path)
    assert not [w for w in checked.warnings if w.code == "orientation"]  # all say first=
    ids = tuple(r[0] for r in rows)
    ae = np.array([[float(r[1].rstrip("%")) for r in rows]])
    n = len(ids)
    panel = Panel(period_kind="quarter", start=parse_period("2024-Q1").ordinal, n_periods=1,
                  entities=Entities(ids=ids, names=ids, kinds=("trust",) * n,
                                    types=("acute",) * n, parents=("",) * n,
                                    regions=("R",) * n),
                  values={"ae_4hr_pct": ae, "wait_weeks": ae.copy()}, sources=("README",))
    _, layout, _ = prepare(checked, panel)
    raw = evaluate_reference(checked, layout)
    probe = Probe(checked, layout, raw.level.astype(np.float64))

    def values(define: str) -> np.ndarray:
        return probe.value(checked.policy.defines[define].expr, 0)

    names = {"ntile(x, 4, first=best)": "v_ntile_best",
             "ntile(x, 4, first=worst)": "v_ntile_worst"}
    for j, column in enumerate(columns[2:], start=2):
        got = values(names.get(column, f"v_{column}"))
        expected = [float(r[j]) for r in rows]
        assert got.tolist() == pytest.approx(expected), column
    # the sentences under the table
    p25, p75 = values("p25")[0], values("p75")[0]
    assert f"`percentile(x, 25, first=lowest)` is {p25:g}%" in section
    assert f"`percentile(x, 75, first=lowest)` is {p75:g}%" in " ".join(section.split())
    assert values("p25_worst")[0] == p25        # better: higher: the worst are the lowest
    # better: lower reads the ranks the other way up (ties still take their cluster's lowest
    # percentile), the percentile of values does not
    assert values("wait_pct_rank").tolist() == [0, 25, 25, 75, 100]
    assert "T5's 70 would be the best (`pct_rank` 100), the tied T2 and T3 would have 25" \
        in " ".join(section.split())
    assert values("wait_p25")[0] == p25
    # first=worst reads p on pct_rank's scale: for better: lower, the 75th percentile of values
    assert values("wait_p25_worst")[0] == p75
    assert f"`percentile(x, 25, first=worst)` would be {p75:g}" in " ".join(section.split())
    assert "`ntile(x, 4, first=worst) == 1` (1 + ⌊4 × 1 / 5⌋ = 1 for T4)" in section
