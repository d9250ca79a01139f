"""Benchmark 6: a 4-rule segmentation policy (issue 12) against hand-written code of the same
rules, at 10^4, 10^6 and 4x10^6 trust-quarters, serial (one thread).

Contenders, all on the same arrays, outcomes asserted equal first (segments.py):
  hand      a branch-free numba kernel written for these four rules (segment only)
  masks     NumPy boolean masks, as an analyst would write them
  fused     regime's evaluation call with the compiled kernel (compiled once beforehand)
  vectorised regime's evaluation call with the tier-0 NumPy engine (nothing compiled)
and end to end: regime's prepare (bind + layout) followed by the fused call, on a panel
already used once (what every later evaluation of a session, a diff or a sweep pays: the
entities' codes are kept with the panel, each input is bound afresh), and on a new Panel
object each time ("first prepare": the entities' codes found again too).

Times are the CPU time of this process, best of N, the contenders taking turns: on a shared
2-CPU machine CPU time is what other processes disturb least (every contender here runs on
one thread). regime also writes the fired and unknown bits of every rule, the incomplete flag,
the candidate level and the subject flag (50 bytes moved per cell against the hand kernel's
42); the bandwidth line compares that with a plain NumPy copy.

    python benchmarks/bench_segments.py [--sizes 10000,1000000,4000000] [--repeat 5]
"""

from __future__ import annotations

import os

os.environ["NUMBA_NUM_THREADS"] = "1"       # serial, before numba is imported
os.environ["REGIME_PARALLEL"] = "0"

import resource  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from dataclasses import replace  # noqa: E402

import numpy as np  # noqa: E402

import _common as C  # noqa: E402
import segments as S  # noqa: E402

PERIODS = 4
BYTES_REGIME = 5 * 8 + 2 * 3 + 1 * 2 + 1 * 2   # inputs; level, computed, candidate; bits; flags
BYTES_HAND = 5 * 8 + 2


def main(argv=None) -> list[C.Row]:
    parser = C.standard_args(__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,1000000,4000000",
                        help="cells (trust-quarters, 4 quarters each)")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    if args.quick:
        sizes, args.repeat = [10_000, 400_000], 2
    cache = tempfile.TemporaryDirectory(prefix="regime-bench-kernels-")
    os.environ["REGIME_CACHE_DIR"] = cache.name

    from rulesengine.data.panel import Entities
    from rulesengine.pipeline.run import prepare, run_backend

    checked = S.load()
    hand = S.numba_kernel()
    rows: list[C.Row] = []
    for cells in sizes:
        n = max(1, cells // PERIODS)
        panel = S.panel(n, PERIODS)
        t0 = time.process_time()
        _, layout, _ = prepare(checked, panel)
        first_prepare = time.process_time() - t0
        a = S.arrays(panel)
        out = np.empty(a[0].shape, np.int16)
        hand(*a, out)
        fused = run_backend(checked, layout, "fused")
        vec = run_backend(checked, layout, "vectorised")
        assert fused.equal(vec), "fused and vectorised outcomes differ"
        assert np.array_equal(out, fused.computed), "hand-written kernel differs from regime"
        assert np.array_equal(S.masks(*a), fused.computed), "NumPy masks differ from regime"
        big = np.empty(n * PERIODS * 5)
        dst = np.empty_like(big)

        def end_to_end():
            _, lay, _ = prepare(checked, panel)
            run_backend(checked, lay, "fused")

        def first_end_to_end():
            # the same values in a new Panel and Entities: nothing derived is cached yet
            ents = panel.entities
            fresh = replace(panel, entities=Entities(
                ents.ids, ents.names, ents.kinds, ents.types, ents.parents, ents.regions))
            _, lay, _ = prepare(checked, fresh)
            run_backend(checked, lay, "fused")

        best = C.interleaved_best({
            "hand": lambda: hand(*a, out),
            "masks": lambda: S.masks(*a),
            "fused": lambda: run_backend(checked, layout, "fused"),
            "vectorised": lambda: run_backend(checked, layout, "vectorised"),
            "prepare+fused": end_to_end,
            "first prepare+fused": first_end_to_end,
            "copy": lambda: np.copyto(dst, big),
        }, args.repeat, clock=time.process_time)
        label = f"{n * PERIODS:,} cells"
        h = best["hand"]
        print(f"{label}: hand {h * 1e3:.2f} ms, masks {best['masks'] * 1e3:.2f} ms, "
              f"fused {best['fused'] * 1e3:.2f} ms, vectorised {best['vectorised'] * 1e3:.2f} ms,"
              f" prepare+fused {best['prepare+fused'] * 1e3:.2f} ms, on a new panel "
              f"{best['first prepare+fused'] * 1e3:.2f} ms (the very first prepare "
              f"{first_prepare * 1e3:.0f} ms)")
        copy_gbs = 2 * big.nbytes / best["copy"] / 1e9 if best["copy"] else float("nan")
        fused_gbs = BYTES_REGIME * n * PERIODS / best["fused"] / 1e9 if best["fused"] else 0
        print(f"  bandwidth: fused call moves {BYTES_REGIME} B/cell = {fused_gbs:.1f} GB/s; "
              f"a NumPy copy runs at {copy_gbs:.1f} GB/s")
        at_4m = cells >= 4_000_000
        for name, target in (("fused", "<= 4x" if at_4m else ""), ("vectorised", ""),
                             ("masks", ""),
                             ("prepare+fused", "<= 10x" if at_4m else ""),
                             ("first prepare+fused", "")):
            ratio = best[name] / h if h else float("nan")
            met = C.judge(ratio, "<=", float(target.split()[1][:-1])) if target else None
            rows.append(C.Row("6 segments", f"{name} / hand-written kernel, {label}", ratio,
                              "x", target, met, note="serial, CPU time"))
        rows.append(C.Row("6 segments", f"fused call bandwidth / NumPy copy, {label}",
                          fused_gbs / copy_gbs if copy_gbs else float("nan"), "x",
                          note=f"{fused_gbs:.1f} vs {copy_gbs:.1f} GB/s"))
    # ru_maxrss is in kilobytes on Linux: the whole run's peak, the largest size's arrays
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak resident memory of the run: {peak:.0f} MB")
    rows.append(C.Row("6 segments", "peak resident memory of the run", peak, "MB",
                      note=f"largest size {max(sizes):,} cells"))
    cache.cleanup()
    C.finish(rows, args, "Benchmark 6: 4-rule policy vs hand-written code")
    return rows


if __name__ == "__main__":
    main()
