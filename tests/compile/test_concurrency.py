"""Eight processes evaluate different policies against one cold shared cache while a ninth
damages its files at random (truncating, flipping bits, writing garbage, deleting, putting a
folder in a file's place): every process still gets the checked policy it would load without a
cache, and the reference engine's outcomes.

The default run shares kernels between the policies (four policies per kernel structure,
differing in parameter values, which are not part of a kernel), so processes also race for
the same kernel entries and locks; the slow run gives each policy its own kernel."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
WORKER = HERE / "concurrency_worker.py"

RULES = [
    '  - {{id: low, level: watch, when: "pct_rank(x) <= 25 or y > {t}"}}\n'
    '  - {{id: sustained_low, level: bad, when: "sustained(x < {t}, 2)"}}\n',
    '  - {{id: high, level: watch, when: "y > cut and x < {t}"}}\n'
    '  - {{id: missing, level: bad, when: "y > {t} or missing(x)"}}\n',
]


def policy(folder: Path, number: int, structure: int, threshold: float) -> Path:
    text = ("policy: p{n}\nentity: trust\nperiod: quarter\n"
            "levels: [{{id: ok}}, {{id: watch}}, {{id: bad}}]\ndefault: ok\n"
            "params:\n  cut: {cut}\n"
            "inputs:\n  x: {{type: percent, better: higher}}\n"
            "  y: {{type: percent, better: lower}}\nrules:\n").format(n=number, cut=30 + number)
    path = folder / f"p{number}.yaml"
    path.write_text(text + RULES[structure % len(RULES)].format(t=threshold), encoding="utf-8")
    return path


def env(cache: Path) -> dict:
    return dict(os.environ, REGIME_CACHE_DIR=str(cache), PYTHONPATH=os.pathsep.join(
        [str(ROOT)] + [p for p in [os.environ.get("PYTHONPATH")] if p]))


def run_all(tmp_path: Path, policies: list[Path], rounds: int) -> None:
    cache = tmp_path / "shared"
    go, stop = tmp_path / "go", tmp_path / "stop"
    workers = [subprocess.Popen([sys.executable, str(WORKER), "evaluate", str(p), str(rounds),
                                 str(go)], env=env(cache), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True) for p in policies]
    corruptor = subprocess.Popen([sys.executable, str(WORKER), "corrupt", str(cache),
                                  str(stop), "11"], env=env(cache), stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True)
    go.write_text("go")
    try:
        outputs = [w.communicate(timeout=900) for w in workers]
    finally:
        stop.write_text("stop")
        damage = corruptor.communicate(timeout=60)
        for w in workers:
            if w.poll() is None:
                w.kill()
    assert corruptor.returncode == 0, damage[1]
    assert json.loads(damage[0])["damaged"] > 0
    for path, w, (out, err) in zip(policies, workers, outputs):
        assert w.returncode == 0, f"{path.name}: {err}"
        result = json.loads(out.strip().splitlines()[-1])
        assert len(result["rounds"]) == rounds
        for r in result["rounds"]:
            assert r == {"policy_equal": True, "outcomes_equal": True}, path.name
        assert "Traceback" not in err


def test_eight_processes_one_cold_cache_and_a_corruptor(tmp_path):
    policies = [policy(tmp_path, k, k % 2, 40.5 + k % 2) for k in range(8)]
    run_all(tmp_path, policies, rounds=2)


@pytest.mark.slow
def test_eight_kernels_one_cold_cache_and_a_corruptor(tmp_path):
    policies = [policy(tmp_path, k, k % 2, 40.25 + k) for k in range(8)]
    run_all(tmp_path, policies, rounds=4)
