"""Benchmark 5: `regime diff oversight2021 oversight2022 --engine numba` on the sample data, as
a whole process, warm (every kernel it needs already in the cache; the attribution re-runs
B with each change reverted, and each policy variant is a kernel of its own).

Reported: the warm wall time (best of N; target < 2 s), the same with --engine reference for
comparison, optionally a cold run (`--cold`: an empty kernel cache, every variant compiled;
minutes), and where a warm run spends its time: timers around each step the command takes
(benchmarks/_diff_steps.py), with how many times each step ran.

    python benchmarks/bench_diff.py [--repeat 5] [--cold]
"""

from __future__ import annotations

import json
import subprocess
import tempfile
import time
from pathlib import Path

import _common as C

CLI = str(C.ROOT / "cli.py")
CMD = ["diff", "oversight2021", "oversight2022", "--engine", "numba"]

STEPS = str(Path(__file__).with_name("_diff_steps.py"))


def wall(env: dict, engine: str = "numba") -> float:
    t0 = time.perf_counter()
    cmd = [C.PYTHON, CLI, *CMD[:-1], engine]
    subprocess.run(cmd, env=env, cwd=C.ROOT, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.PIPE)
    return time.perf_counter() - t0


def steps(env: dict) -> dict[str, tuple[float, int]]:
    """Seconds and calls per step of one warm run (benchmarks/_diff_steps.py)."""
    out = subprocess.run([C.PYTHON, STEPS, *CMD], env=env, cwd=C.ROOT, check=True,
                         capture_output=True, text=True).stdout
    return {k: tuple(v) for k, v in json.loads(out.strip().splitlines()[-1]).items()}


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
    runs = [steps(env) for _ in range(3)]
    best = min(runs, key=lambda r: r["command (after imports)"][0])
    total = best["command (after imports)"][0]
    print(f"\nWhere a warm `regime {' '.join(CMD)}` spends its time (timers around each step, "
          f"the fastest of 3 processes; nested steps are included in their parents):")
    for label, (seconds, calls) in best.items():
        print(f"  {label:58s} {seconds:6.3f} s  {100 * seconds / total:5.1f}%  calls: {calls}")
    for label in ("variants: revert() = rebuild from the parsed policies + check",
                  "prepare() = data + bind + params + layout",
                  "  read the sample data (parquet)",
                  "run_backend() = evaluate_compiled",
                  "  kernel: numba cache load + warm call",
                  "imports and start-up (in process)"):
        seconds, calls = best[label]
        rows.append(C.Row("5 diff", f"warm: {label.strip()}", seconds, "s",
                          note=f"{calls} calls"))
    tmp.cleanup()
    print(f"(benchmark took {time.perf_counter() - t0:.0f} s)")
    C.finish(rows, args, "Benchmark 5: regime diff oversight2021 oversight2022 (numba)")
    return rows


if __name__ == "__main__":
    main()
