"""6. Sweeps: 10,000 parameter variants of oversight2021 over the bundled sample's 2021/22
quarters, and the cost of one variant against one whole `regime eval` in the same process.

    python benchmarks/bench_sweep.py [--quick] [--variants N] [--dask local:2]

A Latin hypercube over five of oversight2021's unpublished params (the cuts of the bottom
quartile and decile, the share of metrics that must be in them, the off-plan threshold) is
evaluated once per variant by the compiled kernel, the data bound once. Before anything is
timed, a few variants are checked against `evaluate(policy, params=...)` exactly.
"""

from __future__ import annotations

import time

import _common as C
import numpy as np

RANGES = ("bottom_quartile=15:35", "bottom_decile=5:15", "min_share_bottom_quartile=25:75",
          "significant_variance_pct=0.5:3", "severe_variance_pct=2:6")
TARGET_S = 20.0           # 10,000 variants on this 2-CPU machine
TARGET_RATIO = 100.0      # a variant at least 100x cheaper than a whole eval


def main() -> None:
    parser = C.standard_args(__doc__.splitlines()[0])
    parser.add_argument("--variants", type=int, default=10_000)
    parser.add_argument("--dask", default=None, help="also time the sweep on Dask, e.g. local:2")
    args = parser.parse_args()
    n = 500 if args.quick else args.variants

    from rulesengine.analysis import sweep as sw
    from rulesengine.data.sample import sample_panel
    from rulesengine.pipeline.run import evaluate
    from rulesengine.pipeline.revisions import load_ref

    checked, _ = load_ref("oversight2021", policy_path=())
    panel = sample_panel()
    labels = list(evaluate(checked, panel).period_labels)    # the policy's periods
    period = "2021/22" if "2022-Q1" in labels else "latest"
    ranges = [sw.parse_range(r) for r in RANGES]
    names = [r[0] for r in ranges]
    design = sw.sampled_design(ranges, n, "lhs", seed=1,
                               integral=sw.integral_params(checked, names))
    # warm: the kernel compiles (or loads) once, outside the timings
    small = sw.sampled_design(ranges, 3, "lhs", seed=2)
    check = sw.sweep(checked, panel, design=small, period=period)
    for v in range(3):
        raw = evaluate(checked, panel, params=small.params(v)).raw
        periods = [labels.index(p) for p in check.run.period_labels]
        expected = np.where(raw.subject, raw.level, -1)[periods]
        assert np.array_equal(check.run.levels[v, 0], expected), "sweep != eval"

    t0 = time.perf_counter()
    result = sw.sweep(checked, panel, design=design, period=period)
    total = time.perf_counter() - t0
    per_variant = total / design.n_variants
    one_eval = C.best_of(lambda: evaluate(checked, panel, params=design.params(0)),
                         3 if args.quick else 5)
    rows = [
        C.Row("sweep", f"{design.n_variants:,} variants of oversight2021, {period} "
              f"({len(result.run.period_labels)} periods)", total, "s",
              f"< {TARGET_S:.0f} s" if not args.quick else "",
              C.judge(total, "<", TARGET_S) if not args.quick else None),
        C.Row("sweep", "one whole eval / one sweep variant (same process)",
              one_eval / per_variant, "x", f">= {TARGET_RATIO:.0f}x",
              one_eval / per_variant >= TARGET_RATIO,
              f"eval {one_eval * 1e3:.1f} ms, variant {per_variant * 1e3:.2f} ms"),
    ]
    if args.dask:
        t0 = time.perf_counter()
        sw.sweep(checked, panel, design=design, period=period, dask=args.dask)
        rows.append(C.Row("sweep", f"the same on Dask {args.dask} (with cluster start-up)",
                          time.perf_counter() - t0, "s"))
    C.finish(rows, args, "sweep")


if __name__ == "__main__":
    main()
