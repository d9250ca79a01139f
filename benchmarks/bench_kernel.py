"""Benchmark 1: the compiled oversight2021 kernel against a hand-written numba kernel of the
same rules (benchmarks/handwritten.py), on ~10 million entity-periods of synthetic data.

Both kernels get the same input arrays; their outcomes are asserted equal (level, computed,
candidate, fired and unknown bits, incomplete, subject) before anything is timed. Times are
best-of-N after a warm-up call (compiling excluded), the two kernels taking turns. Reported:

- kernel only: the compiled kernel called with its prepared arguments vs the hand-written
  kernel called with its prepared arguments;
- end to end: `evaluate_compiled(checked, layout)` (argument preparation, output arrays and
  the call) vs the hand-written kernel's own preparation and call;
- both serial and parallel (prange), and where each kernel's time goes (the 13 peer-rank
  computations alone).

    python benchmarks/bench_kernel.py [--entities 200000] [--periods 50] [--repeat 3]
                                      [--modes serial,parallel]
"""

from __future__ import annotations

import tempfile
import time

import numpy as np

import _common as C


def main(argv=None) -> list[C.Row]:
    parser = C.standard_args(__doc__.splitlines()[0])
    parser.add_argument("--entities", type=int, default=200_000)
    parser.add_argument("--periods", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--modes", default="serial,parallel",
                        help="serial, parallel or both (comma-separated)")
    args = parser.parse_args(argv)
    if args.quick:
        args.entities, args.repeat = 20_000, 2
    cache = tempfile.TemporaryDirectory(prefix="regime-bench-kernels-")
    import os
    os.environ["REGIME_CACHE_DIR"] = cache.name

    import handwritten as hw
    from rulesengine.compile.cache import get_kernel
    from rulesengine.compile.kernel import arguments, compile_policy, evaluate_compiled

    # the policy as handwritten.py implements it (the bundled file has been corrected since)
    checked = C.load_policy(str(C.ROOT / "benchmarks" / "oversight2021_handwritten.yaml"))
    t0 = time.perf_counter()
    layout, entities, inputs = C.make_layout_at_scale(checked, args.entities, args.periods)
    cells = layout.n_periods * layout.n_entities
    size = f"{layout.n_entities:,} entities x {layout.n_periods} quarters = {cells:,}"
    print(f"data: {size} entity-periods, {len(inputs)} inputs "
          f"({sum(a.nbytes for a in inputs.values()) / 1e9:.2f} GB), built in "
          f"{time.perf_counter() - t0:.1f} s")
    # the hand-written kernel takes each param as one number: the values in force in the last
    # quarter throughout (the policy's effective dates change some over the synthetic years)
    from dataclasses import replace

    params = {k: v[-1] for k, v in layout.params.items()}
    layout = replace(layout, params={k: np.full_like(v, v[-1]) for k, v in layout.params.items()})

    rows: list[C.Row] = []
    serial_c = serial_h = None
    for parallel in [m == "parallel" for m in args.modes.split(",")]:
        mode = "parallel" if parallel else "serial"
        compiled = compile_policy(checked, parallel=parallel)
        t0 = time.perf_counter()
        raw = evaluate_compiled(checked, layout, parallel=parallel)     # compiles (excluded)
        compile_s = time.perf_counter() - t0
        fn = get_kernel(compiled.generated.source, lambda f: None)
        c_args, _ = arguments(checked, compiled, layout)
        h_args, h_outs = hw.prepare(entities, inputs, params,
                                    np.ascontiguousarray(layout.decisions))
        h_fn = hw.kernel_parallel if parallel else hw.kernel_serial
        t0 = time.perf_counter()
        h_fn(*h_args)                                                  # compiles (excluded)
        h_compile_s = time.perf_counter() - t0
        for field, value in h_outs.items():
            same = np.array_equal(value, getattr(raw, field))
            assert same, f"{mode}: hand-written and compiled differ in '{field}'"
        print(f"{mode}: outcomes identical (7 arrays); first calls (compiling) took "
              f"compiled {compile_s:.1f} s, hand-written {h_compile_s:.1f} s")
        share = np.bincount(raw.level[-1][layout.kind_subject[-1]], minlength=4) / \
            layout.kind_subject[-1].sum()
        print(f"  last period's levels (segments 1-4): {np.round(share, 3).tolist()}, "
              f"incomplete {raw.incomplete[-1].mean():.3f}")

        best = C.interleaved_best({
            "compiled kernel": lambda: fn(*c_args),
            "hand-written kernel": lambda: h_fn(*h_args),
            "compiled end to end": lambda: evaluate_compiled(checked, layout, parallel=parallel),
            "hand-written end to end": lambda: hw.evaluate(entities, inputs, params,
                                                           parallel=parallel,
                                                           decisions=layout.decisions),
        }, args.repeat)
        for k, v in best.items():
            print(f"  {k:26s} {v:8.3f} s  ({cells / v / 1e6:6.1f} M entity-periods/s)")
        ratio = best["compiled kernel"] / best["hand-written kernel"]
        rows.append(C.Row("1 kernel", f"compiled / hand-written, kernel only, {mode}", ratio,
                          "x", "<= 1.5x", C.judge(ratio, "<=", 1.5), size))
        ratio = best["compiled end to end"] / best["hand-written end to end"]
        rows.append(C.Row("1 kernel", f"compiled / hand-written, end to end, {mode}", ratio,
                          "x", "<= 1.5x", C.judge(ratio, "<=", 1.5),
                          "incl. argument preparation"))
        prep = C.best_of(lambda: arguments(checked, compiled, layout), args.repeat)
        rows.append(C.Row("1 kernel", f"compiled: argument preparation / kernel, {mode}",
                          prep / best["compiled kernel"], "x",
                          note=f"arguments() {prep:.3f} s"))

        ranks_c, ranks_h = _rank_stage_times(checked, layout, compiled, h_args, parallel,
                                             args.repeat)
        rows.append(C.Row("1 kernel", f"compiled: peer ranks / whole kernel, {mode}",
                          ranks_c / best["compiled kernel"], "x",
                          note=f"13 pct_rank x {layout.n_periods} periods {ranks_c:.3f} s"))
        rows.append(C.Row("1 kernel", f"hand-written: peer ranks / whole kernel, {mode}",
                          ranks_h / best["hand-written kernel"], "x",
                          note=f"{ranks_h:.3f} s"))
        rows.append(C.Row("1 kernel", f"compiled / hand-written, peer ranks only, {mode}",
                          ranks_c / ranks_h, "x"))
        rest_c = best["compiled kernel"] - ranks_c
        rest_h = best["hand-written kernel"] - ranks_h
        if rest_h > 0:
            rows.append(C.Row("1 kernel", f"compiled / hand-written, all but ranks, {mode}",
                              rest_c / rest_h, "x",
                              note=f"{rest_c:.3f} s vs {rest_h:.3f} s (by subtraction)"))
        if parallel and serial_c is not None:
            rows.append(C.Row("1 kernel", "compiled: serial / parallel (speed-up)",
                              serial_c / best["compiled kernel"], "x", note="2 CPUs"))
            rows.append(C.Row("1 kernel", "hand-written: serial / parallel (speed-up)",
                              serial_h / best["hand-written kernel"], "x", note="2 CPUs"))
        else:
            serial_c, serial_h = best["compiled kernel"], best["hand-written kernel"]
        del raw
    cache.cleanup()
    C.finish(rows, args, "Benchmark 1: compiled oversight2021 kernel vs hand-written numba")
    return rows


def _rank_stage_times(checked, layout, compiled, h_args, parallel, repeat):
    """The 13 peer ranks for every period alone: as the compiled kernel computes them (the
    library's rank_group for every (rank, peer group) task, between the stage loops: a
    prange over the tasks in the parallel kernel) and as the hand-written kernel does."""
    from numba import njit, prange

    from rulesengine.compile import library as lib

    import handwritten as hw

    names = [name for name, _ in hw.RANKED]
    lower = np.array([low for _, low in hw.RANKED])
    xs = tuple(layout.inputs[n] for n in names)
    from rulesengine.compile.kernel import _csr
    gp, gi = _csr(layout.groups["type"])
    out = np.empty((13, layout.n_entities))

    def library_ranks_py(xs, lower, gp, gi, out):
        ng = gp.size - 1
        for t in range(xs[0].shape[0]):
            for task in prange(13 * ng):
                m = task // ng
                g = task - m * ng
                lib.rank_group(xs[m][t], -1.0 if lower[m] else 1.0, gp, gi, g, 0, 0.0, out[m])

    library_ranks = njit(parallel=parallel)(library_ranks_py)

    def handwritten_ranks_py(xs, lower, gptr, gidx, out):
        G = gptr.size - 1
        for t in range(xs[0].shape[0]):
            for task in prange(13 * G):
                m = task // G
                g = task - m * G
                hw._rank_group(xs[m][t], lower[m], gidx[gptr[g]:gptr[g + 1]], out[m])

    handwritten_ranks = njit(parallel=parallel)(handwritten_ranks_py)
    gptr, gidx = h_args[21], h_args[22]
    library_ranks(xs, lower, gp, gi, out)
    handwritten_ranks(xs, lower, gptr, gidx, out)
    best = C.interleaved_best({
        "c": lambda: library_ranks(xs, lower, gp, gi, out),
        "h": lambda: handwritten_ranks(xs, lower, gptr, gidx, out)}, repeat)
    return best["c"], best["h"]


if __name__ == "__main__":
    main()
