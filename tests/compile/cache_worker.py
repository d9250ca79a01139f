"""Run in a fresh process by test_cache.py: evaluate a policy with the compiled kernel (cache in
$REGIME_CACHE_DIR), compare with the reference, and print what happened as one JSON line.

    python cache_worker.py POLICY.yaml [--wait-for FILE]
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np


def main(argv: list[str]) -> int:
    path = Path(argv[0])
    if "--wait-for" in argv:            # start together with another worker
        flag = Path(argv[argv.index("--wait-for") + 1])
        deadline = time.monotonic() + 60
        while not flag.exists() and time.monotonic() < deadline:
            time.sleep(0.01)

    from rulesengine.compile import cache
    from rulesengine.compile.kernel import compile_policy, evaluate_compiled
    from rulesengine.data.panel import Entities
    from rulesengine.engine.layout import make_layout
    from rulesengine.engine.params import resolve_params
    from rulesengine.engine.reference import evaluate_reference
    from rulesengine.check.checker import check
    from rulesengine.policy.load import load_policy_text

    checked = check(load_policy_text(path.read_text(encoding="utf-8"), path))
    n, periods = 12, 5
    ents = Entities(tuple(f"T{k}" for k in range(n)), tuple(f"Trust {k}" for k in range(n)),
                    ("trust",) * n, tuple("acute" if k % 3 else "ambulance" for k in range(n)),
                    ("",) * n, ("north",) * n)
    rng = np.random.default_rng(3)
    inputs = {}
    for name in checked.policy.inputs:
        x = rng.choice([10.0, 20.0, 20.0, 35.0, 50.0, 80.0], size=(periods, n))
        x[rng.random((periods, n)) < 0.15] = np.nan
        inputs[name] = x
    params = resolve_params(checked.policy, "quarter", 2021 * 4, periods)
    layout = make_layout(checked, ents, inputs, params, periods)

    start = time.perf_counter()
    outcomes = evaluate_compiled(checked, layout)
    seconds = time.perf_counter() - start
    source = compile_policy(checked).generated.source
    key = cache.kernel_key(source)
    stats = cache._loaded[key].stats
    print(json.dumps({
        "equal": bool(outcomes.equal(evaluate_reference(checked, layout))),
        "key": key,
        "folder": str(cache.cache_dir() / key),
        "hits": sum(stats.cache_hits.values()),
        "misses": sum(stats.cache_misses.values()),
        "seconds": seconds,
        "levels": outcomes.level.tolist(),
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
