"""Benchmark 7: how evaluation and diff scale with the data, and where each tier takes over.

For cells = 10^3 .. 10^7 entity-periods:
- eval: oversight2021 over synthetic data (_common.py), from a prepared Layout: the
  vectorised engine (tier 0, nothing compiled), the fused kernel with its kernel already
  compiled (tier 1, warm), and what `--engine auto` picks;
- diff: the 4-rule segmentation policy (segments.py) against a variant with other
  thresholds, one rule more and one rule changed, through `analysis.diff.diff` (every variant
  it attributes the moves with is evaluated: the work is cells x variants), with each engine.
The fused kernel's compile time (once per policy structure, cached afterwards) is measured
once per policy, and the break-even sizes follow: the smallest work at which the fused
kernel's run plus its compile (or plus loading it from the cache: importing numba) beats the
vectorised engine. `pipeline/run.py`'s FUSED_MIN_CELLS and CACHED_FUSED_MIN_CELLS come from here.

Times are CPU seconds of this process, best of --repeat (the fused kernel serial).

    python benchmarks/bench_tiers.py [--max-cells 10000000] [--repeat 3]
"""

from __future__ import annotations

import os

os.environ["NUMBA_NUM_THREADS"] = "1"
os.environ["REGIME_PARALLEL"] = "0"

import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import _common as C  # noqa: E402
import segments as S  # noqa: E402

PERIODS = 10
VARIANT = (S.POLICY.replace("policy: segments", "policy: segments_b")
           .replace("pv <= -5", "pv <= -4").replace("ae >= 75", "ae >= 80")
           .replace("rules:\n", "rules:\n  - id: s3b\n    level: segment_3\n"
                    "    when: ae < 30 and rtt < 30\n"))


def cpu(fn, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.process_time()
        fn()
        best = min(best, time.process_time() - t0)
    return best


def numba_load_seconds() -> float:
    """Importing numba: a fresh process's extra cost when it runs a cached kernel (CPU s)."""
    code = "import time; t=time.process_time(); import numba; print(time.process_time()-t)"
    best = float("inf")
    for _ in range(3):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        best = min(best, float(out.stdout.strip()))
    return best


def main(argv=None) -> list[C.Row]:
    parser = C.standard_args(__doc__.splitlines()[0])
    parser.add_argument("--max-cells", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    if args.quick:
        args.max_cells, args.repeat = 100_000, 1
    cache = tempfile.TemporaryDirectory(prefix="regime-bench-kernels-")
    os.environ["REGIME_CACHE_DIR"] = cache.name

    from rulesengine.analysis.diff import diff
    from rulesengine.pipeline.run import choose_engine, run_backend
    from rulesengine.check.checker import check
    from rulesengine.policy.load import load_policy_text

    o21 = C.load_policy("oversight2021")
    seg_a = S.load()
    seg_b = check(load_policy_text(VARIANT, Path("segments_b.yaml")))
    sizes = [10 ** k for k in range(3, 8) if 10 ** k <= args.max_cells]
    rows: list[C.Row] = []
    compile_s: dict[str, float] = {}
    table = []
    for cells in sizes:
        n = max(2, cells // PERIODS)
        layout, _, _ = C.make_layout_at_scale(o21, n, PERIODS)
        if "oversight2021" not in compile_s:
            t0 = time.process_time()
            run_backend(o21, layout, "fused")
            compile_s["oversight2021"] = time.process_time() - t0
        fused = run_backend(o21, layout, "fused")
        vec = run_backend(o21, layout, "vectorised")
        assert fused.equal(vec), f"{cells}: engines differ"
        repeat = args.repeat if cells < 10 ** 7 else 1
        ev = cpu(lambda: run_backend(o21, layout, "vectorised"), repeat)
        ef = cpu(lambda: run_backend(o21, layout, "fused"), repeat)
        auto = choose_engine(o21, layout, "auto")
        layout = fused = vec = None     # free the arrays before the next size

        panel = S.panel(n, PERIODS)
        if "segments diff" not in compile_s:
            t0 = time.process_time()
            diff(seg_a, seg_b, panel, engine="fused")
            compile_s["segments diff"] = time.process_time() - t0
        dv = cpu(lambda: diff(seg_a, seg_b, panel, engine="vectorised"), repeat)
        df = cpu(lambda: diff(seg_a, seg_b, panel, engine="fused"), repeat)
        table.append((n * PERIODS, ev, ef, auto, dv, df))
        print(f"{n * PERIODS:>12,} cells  eval: vectorised {ev:8.4f} s  fused {ef:8.4f} s  "
              f"auto={auto:<10}  diff: vectorised {dv:8.4f} s  fused {df:8.4f} s", flush=True)
    load = numba_load_seconds()
    print(f"fused compile (CPU s): {compile_s}; importing numba in a fresh process: "
          f"{load:.2f} s")
    # per-cell costs at the largest size, for the break-even points
    cells, ev, ef = table[-1][0], table[-1][1], table[-1][2]
    per_vec, per_fused = ev / cells, ef / cells
    gain = per_vec - per_fused
    if gain > 0:
        cold = compile_s["oversight2021"] / gain
        warm = load / gain
        print(f"break-even (oversight2021): fused repays compiling from {cold:,.0f} cells, "
              f"loading from the cache from {warm:,.0f} cells")
        rows.append(C.Row("7 tiers", "break-even cells, compile (oversight2021)", cold,
                          "cells"))
        rows.append(C.Row("7 tiers", "break-even cells, cached kernel (oversight2021)", warm,
                          "cells"))
    for cells, ev, ef, auto, dv, df in table:
        rows.append(C.Row("7 tiers", f"eval vectorised, {cells:,} cells", ev, "s",
                          note=f"fused {ef:.4f} s; auto: {auto}"))
        rows.append(C.Row("7 tiers", f"diff vectorised, {cells:,} cells", dv, "s",
                          note=f"fused {df:.4f} s"))
    cache.cleanup()
    C.finish(rows, args, "Benchmark 7: scaling and tiers")
    return rows


if __name__ == "__main__":
    main()
