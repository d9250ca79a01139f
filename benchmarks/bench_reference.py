"""Benchmark 2: the compiled kernel against the NumPy reference evaluator, oversight2021.

The reference evaluator is the oracle, written for clarity; it is too slow for 10 million
entity-periods in a benchmark run (about 16 s per million on this machine, and its
periods_in() re-scans every earlier period, so it grows faster than linearly), so it is
measured on 1 million (20,000 entities x 50 quarters) and on the bundled sample data
(as `regime eval` sees it). The outcomes are asserted equal first. Both evaluators are timed
end to end from the same Layout (compiled: argument preparation and the serial kernel, after
a warm-up call that compiles), best of N, taking turns.

    python benchmarks/bench_reference.py [--entities 20000] [--periods 50] [--repeat 2]
"""

from __future__ import annotations

import os
import tempfile

import _common as C


def main(argv=None) -> list[C.Row]:
    parser = C.standard_args(__doc__.splitlines()[0])
    parser.add_argument("--entities", type=int, default=20_000)
    parser.add_argument("--periods", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args(argv)
    if args.quick:
        args.entities, args.repeat = 2_000, 1
    cache = tempfile.TemporaryDirectory(prefix="regime-bench-kernels-")
    os.environ["REGIME_CACHE_DIR"] = cache.name

    from rulesengine.compile.kernel import evaluate_compiled
    from rulesengine.engine.reference import evaluate_reference
    from rulesengine.pipeline.run import prepare

    checked = C.load_policy("oversight2021")
    rows: list[C.Row] = []
    _, sample_layout, _ = prepare(checked, None)
    scaled, _, _ = C.make_layout_at_scale(checked, args.entities, args.periods)
    for label, layout, repeat in (("bundled sample", sample_layout, max(5, args.repeat)),
                                  ("synthetic", scaled, args.repeat)):
        cells = layout.n_periods * layout.n_entities
        size = f"{label}: {layout.n_entities:,} x {layout.n_periods} = {cells:,}"
        compiled = evaluate_compiled(checked, layout, parallel=False)
        reference = evaluate_reference(checked, layout)
        assert compiled.equal(reference), f"{label}: reference and compiled outcomes differ"
        best = C.interleaved_best({
            "reference": lambda: evaluate_reference(checked, layout),
            "compiled": lambda: evaluate_compiled(checked, layout, parallel=False)}, repeat)
        print(f"{size}: reference {best['reference']:.3f} s, compiled {best['compiled']:.4f} s"
              f" (serial), outcomes identical")
        rows.append(C.Row("2 reference", f"reference / compiled, {label}",
                          best["reference"] / best["compiled"], "x", note=size + " ent-periods"))
    cache.cleanup()
    C.finish(rows, args, "Benchmark 2: reference evaluator vs compiled kernel")
    return rows


if __name__ == "__main__":
    main()
