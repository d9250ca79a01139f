"""engine/probe.Scenarios: many what-ifs of one cell in one evaluation over [values, entities]
give, row by row, exactly what a what-if probe of each value gives (explain's searches rely on
it: their answers must not depend on how many values were tried at once)."""

from __future__ import annotations

import numpy as np
import pytest

from rulesengine import load_policy
from rulesengine.engine.probe import Probe, Scenarios
from rulesengine.lang import ast
from rulesengine.lang.builtins import BUILTINS
from rulesengine.pipeline.run import evaluate_all


def _nodes(checked) -> list[ast.Node]:
    """Every node that has a value (not a keyword's word: a peer group, a direction, first=;
    nor `members` or `level` inside periods_in)."""
    p = checked.policy
    roots = [d.expr for d in p.defines.values()] + [r.when for r in p.rules]
    no_value = ("group", "direction", "choice", "members", "level_var")
    # a condition on levels (periods_in's) is read on levels, not evaluated as a value
    on_levels = {n.nid for root in roots if root is not None for call in ast.walk(root)
                 if isinstance(call, ast.Call) and BUILTINS[call.func].reads_levels
                 for a in call.args for n in ast.walk(a)}
    return [n for root in roots if root is not None for n in ast.walk(root)
            if not isinstance(n, ast.Keyword) and n.nid not in on_levels
            and getattr(checked.refs.get(n.nid), "kind", None) not in no_value]


def _same(a, b) -> bool:
    return a == b or (a != a and b != b)


# success2015 in 2015/16: members (CCGs) that exist then but not in the data's first years
@pytest.mark.parametrize("policy, period", [("oversight2025", None), ("turnaround2005", None),
                                            ("success2015", "2015/16")])
def test_each_row_is_the_probe_of_its_value(policy, period):
    """Every node of the policy (ranks, metric scores, percentiles of averages, windows over
    earlier periods, operands of lags), for values at, between and beyond the peers' and
    unknown, for two organisations and every input that the policy reads."""
    checked = load_policy(policy)
    done = evaluate_all(checked)
    layout, outcomes = done.layout, done.outcomes
    t = layout.n_periods - 1 if period is None else outcomes.period_labels.index(period)
    probe = Probe(checked, layout, outcomes.raw.level.astype(np.float64))
    nodes = _nodes(checked)
    subjects = np.flatnonzero(outcomes.raw.subject[t])
    checked_cells = 0
    for e in (int(subjects[0]), int(subjects[len(subjects) // 2])):
        for name in sorted(checked.used_inputs):
            col = layout.inputs[name][t]
            known = np.unique(col[~np.isnan(col)])
            if not known.size:
                continue
            values = [float(known[0]), float(known[-1]), float(np.median(known)),
                      float(known[0]) - 1.0, float(known[-1]) * 2 + 1.0, np.nan]
            rows = Scenarios(probe, name, t, e, values)
            for k, x in enumerate(values):
                alone = probe.with_input(name, t, e, x)
                for n in nodes:
                    for tt in (t, t - 1):
                        want = alone.value(n, tt)[e]
                        got = rows.value(n, k, tt)
                        assert _same(got, want), (policy, name, x, n, tt, got, want)
                        checked_cells += 1
            for r in checked.policy.rules:
                want = [probe.with_input(name, t, e, x).value(r.when, t)[e] for x in values]
                assert all(_same(a, b) for a, b in zip(rows.column(r.when), want))
    assert checked_cells > 1000
