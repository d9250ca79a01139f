"""Benchmark 5: `regime diff oversight2021 oversight2022 --engine numba` on the sample data, as
a whole process, warm (every kernel it needs already in the cache; the attribution re-runs
B with each change reverted, and each policy variant is a kernel of its own).

Reported: the warm wall time (best of N; target < 2 s), optionally a cold run (`--cold`:
an empty kernel cache, every variant compiled; minutes), and where a warm run spends its
time, from cProfile of one warm run: shares of the profiled total by step, and how many
times each step ran. (cProfile slows pure-Python code more than numba or NumPy, so the shares
overstate parsing a little; the wall time is measured without it.)

    python benchmarks/bench_diff.py [--repeat 5] [--cold]
"""

from __future__ import annotations

import os
import pstats
import subprocess
import tempfile
import time
from pathlib import Path

import _common as C

CLI = str(C.ROOT / "cli.py")
CMD = ["diff", "oversight2021", "oversight2022", "--engine", "numba"]

# (label, file suffix, function name): steps of a diff, by the function that does each
STEPS = [
    ("whole diff() call", "analysis/diff.py", "diff"),
    ("policy variants: revert() (dump B, reload, parse, check)", "analysis/diff.py", "revert"),
    ("  of which YAML dump of the variant", "yaml/__init__.py", "safe_dump"),
    ("  of which YAML load (document)", "policy/document.py", "load_document"),
    ("  of which parsing expressions (Lark)", "lang/parser.py", "parse"),
    ("  of which checking", "lang/checker.py", "check"),
    ("prepare(): data, bind, layout", "engine/run.py", "prepare"),
    ("  of which reading the sample parquet", "data/sample.py", "sample_panel"),
    ("  of which binding inputs", "data/bind.py", "bind"),
    ("evaluate_compiled()", "compile/kernel.py", "evaluate_compiled"),
    ("  of which plan + generate", "compile/kernel.py", "compile_policy"),
    ("  of which kernel load (numba cache) + warm call", "compile/cache.py", "get_kernel"),
    ("structural_diff()", "analysis/diff.py", "structural_diff"),
    ("loading A and B (load_ref)", "policy/revisions.py", "load_ref"),
    ("rendering", "analysis/diff.py", "render_text"),
]


def wall(env: dict, engine: str = "numba") -> float:
    t0 = time.perf_counter()
    cmd = [C.PYTHON, CLI, *CMD[:-1], engine]
    subprocess.run(cmd, env=env, cwd=C.ROOT, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.PIPE)
    return time.perf_counter() - t0


def profile(env: dict, path: Path) -> list[tuple[str, float, int]]:
    subprocess.run([C.PYTHON, "-m", "cProfile", "-o", str(path), CLI, *CMD], env=env,
                   cwd=C.ROOT, check=True, stdout=subprocess.DEVNULL)
    stats = pstats.Stats(str(path)).stats
    total = max(ct for (_, _, _, ct, _) in stats.values())
    out = [("everything (cProfile total)", total, 1)]
    for label, suffix, func in STEPS:
        ct, calls = 0.0, 0
        for (file, _, name), (cc, nc, tt, cum, callers) in stats.items():
            if name == func and file.replace(os.sep, "/").endswith(suffix):
                ct += cum
                calls += cc
        out.append((label, ct, calls))
    return out


def main(argv=None) -> list[C.Row]:
    parser = C.standard_args(__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--cold", action="store_true",
                        help="Also time one run with an empty kernel cache (takes minutes).")
    args = parser.parse_args(argv)
    if args.quick:
        args.repeat = 2
    tmp = tempfile.TemporaryDirectory(prefix="regime-bench-diff-")
    env = C.cache_env(C.persistent_cache())
    env.pop("NUMBA_CACHE_DIR", None)
    env.pop("REGIME_PARALLEL", None)
    rows: list[C.Row] = []
    t0 = time.perf_counter()
    if args.cold:
        cold = wall(C.cache_env(Path(tmp.name) / "kernels-cold"))
        print(f"cold run (empty kernel cache: compiles A, B and every variant): {cold:.1f} s")
        rows.append(C.Row("5 diff", "cold (empty kernel cache)", cold, "s",
                          note="compiles every variant"))
    first = wall(env)            # fills the benchmarks' kernel cache if it lacks a kernel
    print(f"first run with the benchmarks' kernel cache {C.persistent_cache()}: {first:.1f} s")
    warm = C.best_of(lambda: wall(env), args.repeat)
    rows.append(C.Row("5 diff", "warm, whole process", warm, "s", "< 2 s", warm < 2,
                      f"best of {args.repeat}"))
    reference = C.best_of(lambda: wall(env, "reference"), args.repeat)
    print(f"warm: --engine numba {warm:.2f} s, --engine reference {reference:.2f} s")
    rows.append(C.Row("5 diff", "warm, whole process, --engine reference", reference, "s",
                      note="for comparison: no kernels to load"))
    steps = profile(env, Path(tmp.name) / "diff.prof")
    total = steps[0][1]
    print(f"\nWhere a warm `regime {' '.join(CMD)}` spends its time (cProfile, one run, "
          f"total {total:.2f} s profiled vs {warm:.2f} s unprofiled):")
    for label, seconds, calls in steps:
        print(f"  {label:58s} {seconds:6.2f} s  {100 * seconds / total:5.1f}%  "
              f"calls: {calls}")
    shares = {label: (seconds, calls) for label, seconds, calls in steps}
    for label in ("policy variants: revert() (dump B, reload, parse, check)",
                  "prepare(): data, bind, layout",
                  "  of which kernel load (numba cache) + warm call"):
        seconds, calls = shares[label]
        rows.append(C.Row("5 diff", f"share of warm run: {label.strip()}", seconds / total,
                          "%", note=f"{calls} calls (cProfile)"))
    tmp.cleanup()
    print(f"(benchmark took {time.perf_counter() - t0:.0f} s)")
    C.finish(rows, args, "Benchmark 5: regime diff oversight2021 oversight2022 (numba)")
    return rows


if __name__ == "__main__":
    main()
