"""decide()'s two forms agree: the per-rule form explain reads, and the level-at-a-time form
the engines use over every cell (per_rule=False)."""

import numpy as np
import pytest

from rulesengine.engine.outcomes import decide


@pytest.mark.parametrize("seed", range(40))
def test_by_level_equals_per_rule(seed):
    rng = np.random.default_rng(seed)
    R = int(rng.integers(0, 12))
    n_levels = int(rng.integers(1, 5))
    cells = (int(rng.integers(1, 4)), int(rng.integers(1, 30)))
    values = rng.choice([0.0, 1.0, np.nan], size=(R,) + cells, p=[0.5, 0.3, 0.2])
    fired, unknown = values == 1.0, np.isnan(values)
    levels = rng.integers(0, n_levels, R)
    judged = rng.random(R) < 0.3
    default = int(rng.integers(0, n_levels))
    a = decide(fired, unknown, levels, judged, default, False)
    b = decide(fired, unknown, levels, judged, default, False, per_rule=False)
    assert np.array_equal(a.computed, b.computed)
    assert np.array_equal(a.candidate, b.candidate)
    assert np.array_equal(a.incomplete, b.incomplete)
    assert b.deciding is None and b.worsening is None


def test_first_keeps_its_one_form():
    fired = np.array([[True], [True]])
    unknown = np.zeros((2, 1), bool)
    d = decide(fired, unknown, np.array([1, 2]), np.array([False, False]), 0, True,
               per_rule=False)
    assert d.computed.tolist() == [1]          # the first fired rule, not the worst
