"""The vectorised engine (tier 0) and `--engine auto`: the same outcomes as the reference on
every bundled policy, an engine chosen without compiling, the engine that ran recorded, and
nothing imported that the run does not need. (Random policies: tests/compile/test_agreement.py
compares all three engines.)"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from rulesengine.diagnostics import RegimeError
from rulesengine.pipeline import run
from rulesengine.engine.reference import evaluate_reference
from rulesengine.pipeline.run import choose_engine, prepare, run_backend
from rulesengine.engine.vectorised import evaluate_vectorised, level_dependent
from rulesengine.pipeline.revisions import load_ref

ROOT = Path(__file__).resolve().parents[2]
BUNDLED = sorted(p.stem for p in (ROOT / "policies").glob("*.yaml"))


@pytest.fixture(scope="module")
def sample():
    from rulesengine.data.sample import sample_panel
    return sample_panel()


@pytest.mark.parametrize("policy", BUNDLED)
def test_bundled_policies_agree_with_the_reference(policy, sample):
    checked, _ = load_ref(policy, policy_path=())
    _, layout, _ = prepare(checked, sample)
    expected = evaluate_reference(checked, layout)
    actual = evaluate_vectorised(checked, layout)
    for field in ("computed", "level", "candidate", "fired", "unknown", "incomplete",
                  "subject"):
        assert np.array_equal(getattr(expected, field), getattr(actual, field)), field


def test_level_dependence_goes_through_defines():
    checked, _ = load_ref("oversight2021", policy_path=())
    dependent = level_dependent(checked)
    rules = {r.id: r.when.nid in dependent for r in checked.policy.rules}
    assert any(rules.values()) and not all(rules.values())   # periods_in() in some rules only


def test_auto_picks_by_work_and_names_the_engine_that_ran(sample, monkeypatch, tmp_path):
    # an empty kernel cache of its own: whether the kernel is cached must not depend on
    # which tests ran before (on disk, or loaded into this process by an earlier test)
    from rulesengine.compile import cache
    monkeypatch.setenv("REGIME_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(cache, "_loaded", {})
    checked, _ = load_ref("turnaround2005", policy_path=())
    _, layout, _ = prepare(checked, sample)
    assert choose_engine(checked, layout, "auto") == "vectorised"
    assert choose_engine(checked, layout, "numba") == "fused"         # the old name
    assert run_backend(checked, layout, "auto").engine == "vectorised"
    monkeypatch.setattr(run, "CACHED_FUSED_MIN_WORK", 1)      # worth it if cached: it is not
    assert choose_engine(checked, layout, "auto") == "vectorised"
    monkeypatch.setattr(run, "FUSED_MIN_CELLS", 1)            # worth compiling
    assert choose_engine(checked, layout, "auto") == "fused"
    monkeypatch.setattr(run, "FUSED_MAX_RULES", 0)                    # too many rules
    assert choose_engine(checked, layout, "auto") == "vectorised"
    with pytest.raises(RegimeError, match="unknown engine 'jit'"):
        choose_engine(checked, layout, "jit")


def test_outcomes_record_the_engine(sample):
    from rulesengine.pipeline.run import evaluate

    checked, _ = load_ref("turnaround2005", policy_path=())
    out = evaluate(checked, sample, engine="reference")
    assert out.engine == "reference" and out.provenance.backend == "reference"


def test_a_small_eval_imports_neither_numba_nor_pandas(tmp_path):
    """Start-up: a first eval on the sample runs in tier 0, so numba is never imported, and
    reading the sample's Parquet does not pull in pandas."""
    code = ("import sys, rulesengine\n"
            "out = rulesengine.evaluate('oversight2021')\n"
            "assert out.engine == 'vectorised', out.engine\n"
            "print(sorted(m for m in ('numba', 'pandas', 'matplotlib') if m in sys.modules))\n")
    env = {"PYTHONPATH": str(ROOT), "REGIME_CACHE_DIR": str(tmp_path / "cache"),
           "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_lags_and_windows_longer_than_the_data():
    """Shifting whole arrays: a lag or window reaching before the first period is unknown,
    even when it is longer than the data (probe() holds all three engines equal)."""
    from engine_probe import probe, trusts

    nan = np.nan
    r = probe({"lag": "x[-5]", "mean": "mean_over(x, 4)", "held": "sustained(x > 1, 6)",
               "ever": "ever(x > 4, 5)"},
              ents=trusts(["acute", "acute"]),
              data={"x": [[1.0, 2.0], [3.0, 4.0], [5.0, nan]]},
              inputs={"x": {"type": "number"}}, n_periods=3)
    assert np.isnan(r["lag"]).all() and np.isnan(r["mean"]).all()
    np.testing.assert_array_equal(r["held"], [[0, nan], [0, nan], [0, nan]])
    np.testing.assert_array_equal(r["ever"], [[nan, nan], [nan, nan], [1, nan]])
