"""Benchmark 3: `regime eval` on the bundled sample data, as whole processes.

`python cli.py eval --policy P > /dev/null`, wall time, for oversight2021 and two other
bundled policies:

- cold: an empty kernel cache (a fresh REGIME_CACHE_DIR), numba's cache of the library
  kernels as it is after any earlier run (rulesengine/compile/__pycache__);
- fully cold: a fresh REGIME_CACHE_DIR and a fresh NUMBA_CACHE_DIR (so the library kernels
  are compiled too, as on a fresh install), without touching the repository's files;
- warm: the same kernel cache again (best of N);
- warm with bytecode: the same, with Python's .pyc files available for rulesengine (written
  to a temporary PYTHONPYCACHEPREFIX). Shells here may set PYTHONDONTWRITEBYTECODE=1, in which
  case every run recompiles rulesengine's .py files; an installed package has its .pyc.

Then where a warm and a cold run spend their time: the eval command's steps timed one by one
in a process of their own (benchmarks/_eval_stages.py), the interpreter's start-up, and
`python -X importtime` summed by top-level package.

    python benchmarks/bench_cli.py [--policies oversight2021,oversight2025,special_measures2013]
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import _common as C

CLI = str(C.ROOT / "cli.py")
STAGES = str(Path(__file__).with_name("_eval_stages.py"))


def wall(cmd: list[str], env: dict) -> float:
    t0 = time.perf_counter()
    done = subprocess.run(cmd, env=env, cwd=C.ROOT, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - t0
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{done.stderr}")
    return elapsed


def eval_cmd(policy: str) -> list[str]:
    return [C.PYTHON, CLI, "eval", "--policy", policy]


def stage_times(policy: str, env: dict, startup: float) -> dict[str, float]:
    """The eval steps' times in a process of their own, and what the process spends
    outside them: start-up, and exiting (the interpreter's finalization) by subtraction."""
    t0 = time.perf_counter()
    out = subprocess.run([C.PYTHON, STAGES, policy], env=env, cwd=C.ROOT, check=True,
                         capture_output=True, text=True).stdout
    elapsed = time.perf_counter() - t0
    stages = json.loads(out.strip().splitlines()[-1])
    total = stages.pop("total in script")
    stages["interpreter start-up (python -c pass)"] = startup
    stages["exit: interpreter finalization (by subtraction)"] = max(0.0, elapsed - total
                                                                     - startup)
    stages["whole process (wall)"] = elapsed
    return stages


def import_breakdown(policy: str, env: dict) -> list[tuple[str, float]]:
    """Seconds of import time by top-level package (self times summed), warm run."""
    done = subprocess.run([C.PYTHON, "-X", "importtime", *eval_cmd(policy)[1:]], env=env,
                          cwd=C.ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          text=True, check=True)
    by_package: dict[str, float] = defaultdict(float)
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, _, name = line[len("import time:"):].split("|")
        by_package[name.strip().split(".")[0]] += int(self_us) / 1e6
    return sorted(by_package.items(), key=lambda kv: -kv[1])


def main(argv=None) -> list[C.Row]:
    parser = C.standard_args(__doc__.splitlines()[0])
    parser.add_argument("--policies", default="oversight2021,oversight2025,special_measures2013")
    parser.add_argument("--repeat", type=int, default=5, help="warm runs per policy")
    parser.add_argument("--cold-repeat", type=int, default=2, help="cold runs per policy")
    args = parser.parse_args(argv)
    if args.quick:
        args.repeat, args.cold_repeat, args.policies = 2, 1, "oversight2021"
    policies = args.policies.split(",")
    tmp = tempfile.TemporaryDirectory(prefix="regime-bench-cli-")
    base = dict(os.environ)
    base.pop("NUMBA_CACHE_DIR", None)
    base.pop("REGIME_PARALLEL", None)
    rows: list[C.Row] = []
    counter = [0]

    def fresh(name: str) -> str:
        counter[0] += 1
        path = Path(tmp.name) / f"{name}{counter[0]}"
        path.mkdir()
        return str(path)

    warm_cache = fresh("kernels-warm")
    env_warm = {**base, "REGIME_CACHE_DIR": warm_cache}
    env_pyc = {**env_warm, "PYTHONPYCACHEPREFIX": fresh("pyc")}
    env_pyc.pop("PYTHONDONTWRITEBYTECODE", None)
    startup = C.best_of(lambda: wall([C.PYTHON, "-c", "pass"], base), 5)
    print(f"python start-up (python -c pass): {startup:.3f} s; "
          f"PYTHONDONTWRITEBYTECODE={os.environ.get('PYTHONDONTWRITEBYTECODE', '')!r}")
    # make sure numba's cache of the library kernels is current, so "cold" means only the
    # policy's kernel is missing
    wall(eval_cmd(policies[0]), {**base, "REGIME_CACHE_DIR": fresh("prime")})

    for policy in policies:
        cold = [wall(eval_cmd(policy), {**base, "REGIME_CACHE_DIR": fresh("kernels-cold")})
                for _ in range(args.cold_repeat)]
        fully = [wall(eval_cmd(policy), {**base, "REGIME_CACHE_DIR": fresh("kernels-fc"),
                                         "NUMBA_CACHE_DIR": fresh("numba-fc")})
                 for _ in range(args.cold_repeat)]
        wall(eval_cmd(policy), env_warm)                 # fill the warm cache
        warm = C.best_of(lambda: wall(eval_cmd(policy), env_warm), args.repeat)
        wall(eval_cmd(policy), env_pyc)                  # write the .pyc files
        warm_pyc = C.best_of(lambda: wall(eval_cmd(policy), env_pyc), args.repeat)
        print(f"{policy}: cold {min(cold):.2f} s, fully cold {min(fully):.2f} s, "
              f"warm {warm:.3f} s, warm with .pyc {warm_pyc:.3f} s")
        n = f"best of {args.cold_repeat}"
        rows += [
            C.Row("3 eval", f"{policy}: warm", warm, "s", "< 1 s", warm < 1,
                  f"best of {args.repeat}"),
            C.Row("3 eval", f"{policy}: warm, .pyc available", warm_pyc, "s", "< 1 s",
                  warm_pyc < 1, f"best of {args.repeat}"),
            C.Row("3 eval", f"{policy}: cold (empty kernel cache)", min(cold), "s", "< 5 s",
                  min(cold) < 5, n),
            C.Row("3 eval", f"{policy}: fully cold (+ empty numba cache)", min(fully), "s",
                  "< 5 s", min(fully) < 5, n),
        ]

    policy = policies[0]
    reference = C.best_of(lambda: wall(eval_cmd(policy) + ["--engine", "reference"],
                                       env_warm), args.repeat)
    print(f"{policy} with --engine reference (no numba in the process): {reference:.3f} s")
    rows.append(C.Row("3 eval", f"{policy}: warm, --engine reference", reference, "s",
                      note="for comparison: no kernel to load"))
    runs = [stage_times(policy, env_warm, startup) for _ in range(3)]
    warm_stages = min(runs, key=lambda r: r["whole process (wall)"])
    cold_stages = stage_times(policy, {**base, "REGIME_CACHE_DIR": fresh("kernels-cold")},
                              startup)
    fully_stages = stage_times(policy, {**base, "REGIME_CACHE_DIR": fresh("kernels-fc"),
                                        "NUMBA_CACHE_DIR": fresh("numba-fc")}, startup)
    print(f"\nWhere `regime eval --policy {policy}` spends its time (s; warm = the fastest "
          f"of 3 processes):")
    width = max(len(k) for k in warm_stages)
    print(f"  {'step':{width}s}    warm    cold  fully cold")
    for k in warm_stages:
        print(f"  {k:{width}s}  {warm_stages[k]:6.3f}  {cold_stages[k]:6.3f}  "
              f"{fully_stages[k]:8.3f}")
    imports = import_breakdown(policy, env_warm)
    total_imports = sum(v for _, v in imports)
    print(f"\nimport time of a warm run by top-level package (-X importtime, self times "
          f"summed; total {total_imports:.3f} s):")
    for name, seconds in imports[:12]:
        print(f"  {name:28s} {seconds:6.3f}")
    imports_pyc = dict(import_breakdown(policy, env_pyc))
    print(f"  (with .pyc available: rulesengine {imports_pyc.get('rulesengine', 0):.3f} s, "
          f"total {sum(imports_pyc.values()):.3f} s)")
    kernel_step = "kernel: import + numba cache load (or compile) + warm call"
    rows += [
        C.Row("3 eval", "warm: interpreter start-up", startup, "s"),
        C.Row("3 eval", "warm: imports (all, -X importtime)", total_imports, "s"),
        C.Row("3 eval", "warm: kernel load from numba's cache + warm call",
              warm_stages[kernel_step], "s"),
        C.Row("3 eval", "warm: read sample data", warm_stages["read sample data (parquet)"],
              "s"),
        C.Row("3 eval", "warm: interpreter exit (finalization)",
              warm_stages["exit: interpreter finalization (by subtraction)"], "s"),
        C.Row("3 eval", "cold: kernel compile step", cold_stages[kernel_step], "s",
              note="plan+generate excluded"),
        C.Row("3 eval", "fully cold: kernel + library compile step",
              fully_stages[kernel_step], "s"),
    ]
    tmp.cleanup()
    C.finish(rows, args, "Benchmark 3: regime eval on the sample data, whole processes")
    return rows


if __name__ == "__main__":
    main()
