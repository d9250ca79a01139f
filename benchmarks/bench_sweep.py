"""6. Sweeps: 10,000 parameter variants of oversight2021 over the bundled sample's 2021/22
quarters, and the cost of one variant against one whole evaluation in the same process.

    python benchmarks/bench_sweep.py [--quick] [--variants N] [--dask local:2]

A Latin hypercube over five of oversight2021's unpublished params (the cuts of the bottom
quartile and decile, the share of metrics that must be in them, the off-plan thresholds),
the data bound once. The sweep is batched (engine/batch.py): the values no variant changes
are computed once, and each variant runs only the residual policy's compiled kernel.

Timed in one process, after a baseline of the same work done one evaluation at a time
(`evaluate(policy, params=...)`, what `regime eval --param` runs, without the CLI's start-up
and printing), best of 5:
- cold: the first sweep, with an empty kernel cache (this process's own), so the residual
  policy's kernel is generated and compiled inside the timing;
- warm: the same sweep again (the kernel loaded).
Wall and CPU time (the machine is shared: CPU time is what this process used); ratios are
the single evaluation's cost over the sweep's cost per variant. Before anything is timed,
a few variants are checked against single evaluations exactly.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time

# an empty kernel cache of this run's own, before rulesengine is imported: "cold" compiles
if "--keep-cache" not in sys.argv:
    os.environ["REGIME_CACHE_DIR"] = tempfile.mkdtemp(prefix="regime-bench-sweep-")

import _common as C  # noqa: E402
import numpy as np  # noqa: E402

RANGES = ("bottom_quartile=15:35", "bottom_decile=5:15", "min_share_bottom_quartile=25:75",
          "significant_variance_pct=0.5:3", "severe_variance_pct=2:6")
TARGET_S = 20.0           # 10,000 variants on this 2-CPU machine
TARGET_RATIO = 100.0      # a variant at least 100x cheaper than a whole eval


def timed(fn):
    """(result, wall seconds, CPU seconds of this process)."""
    w0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - w0, time.process_time() - c0


def best_of(fn, repeat: int) -> tuple[float, float]:
    """The fastest wall time and the least CPU time of `repeat` calls."""
    runs = [timed(fn)[1:] for _ in range(repeat)]
    return min(w for w, _ in runs), min(c for _, c in runs)


def whole_policy(checked, panel, design, period: str, n: int):
    """CPU seconds for the first n variants, each by the whole policy's compiled kernel over
    every period up to the last looked at (engine/batch.py's `unspecialised`), the arguments
    bound once."""
    from rulesengine.analysis import sweep as sw
    from rulesengine.engine.batch import unspecialised
    from rulesengine.pipeline.run import prepare

    bound, layout, _ = prepare(checked, panel)
    looked = sw.select_periods(bound.period_labels, bound.period_kind, period)
    layout = layout.head(max(looked) + 1)
    spec = unspecialised(checked, layout, params=design.names)
    plan = sw.Batches(spec, design, noise=(), draws=1, seed=0, looked_at=looked,
                      engine="fused", kinds={}, noise_base={})
    plan.run([0])                   # compile or load outside the timing
    t0 = time.process_time()
    plan.run(range(n))
    return time.process_time() - t0


def main() -> None:
    parser = C.standard_args(__doc__.splitlines()[0])
    parser.add_argument("--variants", type=int, default=10_000)
    parser.add_argument("--dask", default=None, help="also time the sweep on Dask, e.g. local:2")
    parser.add_argument("--keep-cache", action="store_true",
                        help="use the usual kernel cache (cold is then not cold)")
    args = parser.parse_args()
    n = 500 if args.quick else args.variants

    from rulesengine.analysis import sweep as sw
    from rulesengine.data.sample import sample_panel
    from rulesengine.pipeline.revisions import load_ref
    from rulesengine.pipeline.run import evaluate

    checked, _ = load_ref("oversight2021", policy_path=())
    panel = sample_panel()
    labels = list(evaluate(checked, panel).period_labels)    # also warms the eval path
    period = "2021/22" if "2022-Q1" in labels else "latest"
    ranges = [sw.parse_range(r) for r in RANGES]
    names = [r[0] for r in ranges]
    design = sw.sampled_design(ranges, n, "lhs", seed=1,
                               integral=sw.integral_params(checked, names))

    # exactness first (a small sweep: the vectorised engine runs its residual)
    small = sw.sampled_design(ranges, 3, "lhs", seed=2)
    check = sw.sweep(checked, panel, design=small, period=period)
    periods = [labels.index(p) for p in check.run.period_labels]
    for v in range(3):
        raw = evaluate(checked, panel, params=small.params(v)).raw
        expected = np.where(raw.subject, raw.level, -1)[periods]
        assert np.array_equal(check.run.levels[v, 0], expected), "sweep != eval"

    # the baseline: one whole evaluation per variant
    one_eval, eval_cpu = best_of(lambda: evaluate(checked, panel, params=design.params(0)),
                                 3 if args.quick else 5)

    cold, cold_wall, cold_cpu = timed(lambda: sw.sweep(checked, panel, design=design,
                                                       period=period))
    # the first sweep's variants equal single evaluations too (fused residual)
    for v in (0, n // 2, n - 1):
        raw = evaluate(checked, panel, params=design.params(v)).raw
        expected = np.where(raw.subject, raw.level, -1)[periods]
        assert np.array_equal(cold.run.levels[v, 0], expected), "batched sweep != eval"
    warm, warm_wall, warm_cpu = timed(lambda: sw.sweep(checked, panel, design=design,
                                                       period=period))
    assert np.array_equal(cold.run.levels, warm.run.levels)

    # what the batching buys over one whole compiled kernel per variant (nothing shared,
    # every period, arguments still bound once): a few hundred variants of the same design
    whole_n = min(300, n)
    whole_cpu = whole_policy(checked, panel, design, period, whole_n)

    V = design.n_variants
    b = warm.batch or {}
    split = (f"{b.get('shared_values')} shared values computed once; residual "
             f"{b.get('residual_nodes')} of {b.get('policy_nodes')} nodes, "
             f"{b.get('periods_evaluated')} periods; engine {warm.engine}")
    target = "" if args.quick else f"< {TARGET_S:.0f} s"
    rows = [
        C.Row("sweep", f"{V:,} variants of oversight2021, {period} "
              f"({len(warm.run.period_labels)} periods), warm", warm_wall, "s", target,
              None if args.quick else C.judge(warm_wall, "<", TARGET_S),
              f"CPU {warm_cpu:.2f} s; {split}"),
        C.Row("sweep", "the same, cold (residual kernel compiled in the timing)", cold_wall,
              "s", target, None if args.quick else C.judge(cold_wall, "<", TARGET_S),
              f"CPU {cold_cpu:.2f} s"),
        C.Row("sweep", "one whole eval / one sweep variant, warm", one_eval / (warm_wall / V),
              "x", f">= {TARGET_RATIO:.0f}x", one_eval / (warm_wall / V) >= TARGET_RATIO,
              f"eval {one_eval * 1e3:.1f} ms, variant {warm_wall / V * 1e3:.3f} ms wall, "
              f"{warm_cpu / V * 1e3:.3f} ms CPU"),
        C.Row("sweep", "one whole eval / one sweep variant, cold", one_eval / (cold_wall / V),
              "x", f">= {TARGET_RATIO:.0f}x", one_eval / (cold_wall / V) >= TARGET_RATIO,
              f"variant {cold_wall / V * 1e3:.3f} ms wall, {cold_cpu / V * 1e3:.3f} ms CPU"),
    ]
    rows.append(C.Row("sweep", "one whole eval / one sweep variant, warm, CPU time",
                      eval_cpu / (warm_cpu / V), "x", f">= {TARGET_RATIO:.0f}x",
                      eval_cpu / (warm_cpu / V) >= TARGET_RATIO,
                      f"eval {eval_cpu * 1e3:.1f} ms CPU"))
    rows.append(C.Row("sweep", "whole-policy kernel per variant / batched variant, warm, CPU",
                      (whole_cpu / whole_n) / (warm_cpu / V), "x", "",
                      None, f"whole policy {whole_cpu / whole_n * 1e3:.3f} ms CPU a variant "
                      f"({whole_n} variants, every period, nothing shared)"))
    # peak resident memory of this process (kilobytes on Linux): numba, the kernels, the data,
    # the shared values, and the levels of every variant (int16)
    import resource

    rows.append(C.Row("sweep", "peak resident memory of the process",
                      resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "MB", "", None,
                      f"levels held: {warm.run.levels.nbytes / 2**20:.1f} MB"))
    if args.dask:
        _, wall, _ = timed(lambda: sw.sweep(checked, panel, design=design, period=period,
                                            dask=args.dask))
        rows.append(C.Row("sweep", f"the same on Dask {args.dask} (with cluster start-up)",
                          wall, "s"))
    C.finish(rows, args, "sweep")


if __name__ == "__main__":
    main()
