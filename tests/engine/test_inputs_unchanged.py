"""bind hands the engines the panel's own arrays where no conversion is needed (no copy per
evaluation): no engine may write into them, and the facts bind keeps with the panel (flag
values, rating gaps, unit warnings) are found once."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rulesengine.check.checker import check
from rulesengine.data import bind as B
from rulesengine.data.panel import Entities, Panel
from rulesengine.pipeline.run import prepare, run_backend
from rulesengine.policy.load import load_policy_text

POLICY = """\
policy: views
entity: trust
period: quarter
levels:
  - {id: good}
  - {id: fair}
  - {id: poor}
default: fair
decide: worst
scales:
  cqc: [outstanding, good, requires_improvement, inadequate]
inputs:
  ae: {type: percent, better: higher}
  pv: {type: number, better: higher}
  cqc: {type: rating, scale: cqc}
  lead: {type: flag}
rules:
  - id: poor
    level: poor
    when: pv <= -5 or (cqc == inadequate and lead) or pct_rank(ae) < 10
  - id: good
    level: good
    when: ae >= 75 and change(pv, 2) >= 0 and cqc <= good
"""


def _panel(seed: int = 3, n: int = 40, periods: int = 6) -> Panel:
    rng = np.random.default_rng(seed)
    shape = (periods, n)
    values = {
        "ae": np.round(rng.uniform(0, 100, shape), 0),
        "pv": np.round(rng.normal(0, 5, shape), 0),
        "cqc": rng.integers(0, 4, shape).astype(float),
        "lead": (rng.random(shape) < 0.3).astype(float),
    }
    for arr in values.values():
        arr[rng.random(shape) < 0.1] = np.nan
    values["cqc"][0] = 1.0            # gaps after the first quarter are carried forward
    ids = tuple(f"T{i}" for i in range(n))
    ents = Entities(ids, ids, ("trust",) * n, ("acute",) * n, ("",) * n, ("R",) * n)
    return Panel("quarter", 2022 * 4, periods, ents, values,
                 labels={"cqc": ("outstanding", "good", "requires_improvement", "inadequate")})


def test_no_engine_writes_into_the_panels_arrays():
    checked = check(load_policy_text(POLICY, Path("views.yaml")))
    panel = _panel()
    before = {k: v.copy() for k, v in panel.values.items()}
    _, layout, _ = prepare(checked, panel)
    assert layout.inputs["ae"] is panel.values["ae"]        # bound without a copy
    assert layout.inputs["lead"] is panel.values["lead"]
    assert not np.shares_memory(layout.inputs["cqc"], panel.values["cqc"])   # carried forward
    outcomes = [run_backend(checked, layout, engine)
                for engine in ("reference", "vectorised", "fused")]
    assert outcomes[0].equal(outcomes[1]) and outcomes[0].equal(outcomes[2])
    for name, arr in before.items():
        np.testing.assert_array_equal(panel.values[name], arr, err_msg=name)


def test_facts_about_the_panel_are_found_once(monkeypatch):
    checked = check(load_policy_text(POLICY, Path("views.yaml")))
    panel = _panel(seed=4)
    calls = []
    real = B._flag_values
    monkeypatch.setattr(B, "_flag_values", lambda arr: calls.append(1) or real(arr))
    first = B.bind(checked, panel)
    second = B.bind(checked, panel)
    assert len(calls) == 1
    for name in first.inputs:
        np.testing.assert_array_equal(first.inputs[name], second.inputs[name])
    # a new panel of the same values is checked afresh
    B.bind(checked, Panel(panel.period_kind, panel.start, panel.n_periods, panel.entities,
                          dict(panel.values), panel.labels))
    assert len(calls) == 2


def test_a_bad_flag_is_refused_every_time():
    checked = check(load_policy_text(POLICY, Path("views.yaml")))
    panel = _panel(seed=5)
    panel.values["lead"][2, 3] = 0.5
    for _ in range(2):
        with pytest.raises(B.DataError, match="is a flag, but the data holds 0.5"):
            B.bind(checked, panel)
