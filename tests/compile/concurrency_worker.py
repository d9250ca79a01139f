"""Run in a fresh process by test_concurrency.py.

    python concurrency_worker.py evaluate POLICY.yaml ROUNDS GO_FILE
        load the policy through the shared cache ($REGIME_CACHE_DIR), evaluate it with the
        compiled kernel, and compare with the reference engine on the policy loaded without
        any cache; ROUNDS times, forgetting the kernels held in memory between rounds so each
        round goes back to the disk cache. Prints one JSON line.
    python concurrency_worker.py corrupt CACHE_DIR STOP_FILE SEED
        damage files under CACHE_DIR at random until STOP_FILE exists; prints how many.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import sys
import time
from pathlib import Path


def wait_for(flag: Path) -> None:
    deadline = time.monotonic() + 120
    while not flag.exists() and time.monotonic() < deadline:
        time.sleep(0.01)


def evaluate(policy: Path, rounds: int, go: Path) -> dict:
    import numpy as np

    from rulesengine.compile import cache
    from rulesengine.compile.kernel import evaluate_compiled
    from rulesengine.data.panel import Entities
    from rulesengine.engine.layout import make_layout
    from rulesengine.engine.params import resolve_params
    from rulesengine.engine.reference import evaluate_reference
    from rulesengine.check.checker import check
    from rulesengine.policy.load import load_policy_text
    from rulesengine.pipeline.revisions import load_ref

    trusted = check(load_policy_text(policy.read_text(encoding="utf-8"), policy))
    n, periods = 12, 5
    ents = Entities(tuple(f"T{k}" for k in range(n)), tuple(f"Trust {k}" for k in range(n)),
                    ("trust",) * n, tuple("acute" if k % 3 else "ambulance" for k in range(n)),
                    ("",) * n, ("north",) * n)
    rng = np.random.default_rng(7)
    inputs = {}
    for name in trusted.policy.inputs:
        x = rng.choice([10.0, 20.0, 20.0, 35.0, 50.0, 80.0], size=(periods, n))
        x[rng.random((periods, n)) < 0.15] = np.nan
        inputs[name] = x
    params = resolve_params(trusted.policy, "quarter", 2021 * 4, periods)
    layout = make_layout(trusted, ents, inputs, params, periods)
    expected = evaluate_reference(trusted, layout)

    wait_for(go)
    results = []
    for _ in range(rounds):
        cache._loaded.clear()          # back to the disk cache for the kernel too
        checked = load_ref(str(policy))[0]
        got = evaluate_compiled(checked, make_layout(checked, ents, inputs, params, periods))
        results.append({"policy_equal": checked == trusted,
                        "outcomes_equal": bool(got.equal(expected))})
    return {"rounds": results, "fired": int(expected.fired.sum())}


def corrupt(folder: Path, stop: Path, seed: int) -> dict:
    rng = random.Random(seed)
    done = 0
    while not stop.exists():
        files = [p for p in folder.rglob("*") if p.is_file() and p.name != ".lock"]
        if not files:
            time.sleep(0.02)
            continue
        target = rng.choice(files)
        action = rng.choice(["truncate", "flip", "garbage", "delete", "folder"])
        try:
            data = target.read_bytes()
            if action == "truncate":
                target.write_bytes(data[:rng.randrange(len(data) + 1)])
            elif action == "flip" and data:
                buf = bytearray(data)
                for _ in range(rng.randint(1, 8)):
                    buf[rng.randrange(len(buf))] ^= 1 << rng.randrange(8)
                target.write_bytes(bytes(buf))
            elif action == "garbage":
                target.write_bytes(rng.randbytes(max(16, len(data))))
            elif action == "delete":
                target.unlink()
            elif action == "folder":
                target.unlink()
                target.mkdir()
                (target / "x").write_text("x")
                time.sleep(0.01)
                shutil.rmtree(target, ignore_errors=True)
            done += 1
        except OSError:
            pass                    # raced with a writer: try another file
        time.sleep(rng.uniform(0.0, 0.03))
    return {"damaged": done}


def main(argv: list[str]) -> int:
    if argv[0] == "evaluate":
        out = evaluate(Path(argv[1]), int(argv[2]), Path(argv[3]))
    else:
        out = corrupt(Path(argv[1]), Path(argv[2]), int(argv[3]))
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
