"""Benchmark 8: what a user waits for, as whole processes (issue 12's targets), median of 5.

- first `regime eval --policy oversight2021` after installing: empty kernel cache and empty
  numba cache (a fresh REGIME_CACHE_DIR and NUMBA_CACHE_DIR for every run)   target < 2 s
- first `regime diff oversight2021 oversight2022`, caches empty likewise      target < 5 s
- warm `regime eval --policy oversight2021` (the same caches again)          target < 0.6 s
- a 2,000-rule policy (rules `a > i`, benchmarks/manyrules.py), caches empty  target < 10 s

Each on the bundled sample, with the default engine (`auto`), output to /dev/null. Reported:
the median wall time and, beside it, the median CPU time (user + system) of the process: on
a busy shared machine the wall time includes waiting for a CPU, the CPU time does not.
Python's bytecode is written to a temporary PYTHONPYCACHEPREFIX, warmed by one run first, as
an installed package has its .pyc files.

    python benchmarks/bench_startup.py [--runs 5]
"""

from __future__ import annotations

import os
import statistics
import subprocess
import tempfile
import time

import _common as C
import manyrules

CLI = str(C.ROOT / "cli.py")


def run(args: list[str], env: dict) -> tuple[float, float]:
    """(wall s, CPU s) of one process."""
    t0 = time.perf_counter()
    proc = subprocess.Popen([C.PYTHON, CLI, *args], env=env, cwd=C.ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    err = proc.stderr.read().decode(errors="replace")
    proc.stderr.close()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed:\n{err}")
    return wall, usage.ru_utime + usage.ru_stime


def main(argv=None) -> list[C.Row]:
    parser = C.standard_args(__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    if args.quick:
        args.runs = 1
    tmp = tempfile.TemporaryDirectory(prefix="regime-bench-startup-")
    base = dict(os.environ, PYTHONPATH=str(C.ROOT), PYTHONPYCACHEPREFIX=f"{tmp.name}/pyc")
    base.pop("PYTHONDONTWRITEBYTECODE", None)
    rules = f"{tmp.name}/rules2000.yaml"
    with open(rules, "w", encoding="utf-8") as f:
        f.write(manyrules.policy_text(2000))
    counter = [0]

    def fresh() -> dict:
        counter[0] += 1
        return dict(base, REGIME_CACHE_DIR=f"{tmp.name}/rc{counter[0]}",
                    NUMBA_CACHE_DIR=f"{tmp.name}/nc{counter[0]}")

    eval_args = ["eval", "--policy", "oversight2021"]
    run(eval_args, fresh())                                     # writes the .pyc files
    cases = {
        "first eval oversight2021, empty caches": (eval_args, None, 2.0),
        "first diff oversight2021 oversight2022, empty caches":
            (["diff", "oversight2021", "oversight2022"], None, 5.0),
        "warm eval oversight2021": (eval_args, fresh(), 0.6),
        "2,000-rule policy, empty caches": (["eval", "--policy", rules], None, 10.0),
    }
    rows: list[C.Row] = []
    for name, (cmd, env, target) in cases.items():
        if env is not None:
            run(cmd, env)                                       # fills the caches once
        times = [run(cmd, env if env is not None else fresh()) for _ in range(args.runs)]
        wall = statistics.median(t[0] for t in times)
        cpu = statistics.median(t[1] for t in times)
        print(f"{name}: median wall {wall:.2f} s, CPU {cpu:.2f} s "
              f"(walls: {', '.join(f'{t[0]:.2f}' for t in times)})", flush=True)
        rows.append(C.Row("8 startup", f"{name}, wall", wall, "s", f"< {target:g} s",
                          C.judge(wall, "<", target), note=f"CPU {cpu:.2f} s"))
        rows.append(C.Row("8 startup", f"{name}, CPU", cpu, "s", f"< {target:g} s",
                          C.judge(cpu, "<", target)))
    tmp.cleanup()
    C.finish(rows, args, "Benchmark 8: whole processes, as a user waits")
    return rows


if __name__ == "__main__":
    main()
