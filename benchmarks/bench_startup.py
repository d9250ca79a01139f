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

    python benchmarks/bench_startup.py [--runs 5] [--cases eval,diff,warm,rules]
    python benchmarks/bench_startup.py --baseline /tmp/before    # before/after, taking turns

With `--baseline`, another checkout's processes take turns with this one's under the same
load, and this / baseline is reported per case (on a shared machine the load changes from
minute to minute, so figures measured at different times do not compare).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import _common as C
import manyrules

def run(args: list[str], env: dict, root: Path = C.ROOT) -> tuple[float, float]:
    """(wall s, CPU s) of one process of the checkout at `root`."""
    t0 = time.perf_counter()
    proc = subprocess.Popen([C.PYTHON, str(root / "cli.py"), *args], env=env, cwd=root,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    err = proc.stderr.read().decode(errors="replace")
    proc.stderr.close()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed:\n{err}")
    return wall, usage.ru_utime + usage.ru_stime


class Checkout:
    """One checkout's processes: its own bytecode folder and caches."""

    def __init__(self, name: str, root: Path, tmp: str) -> None:
        self.name, self.root, self.tmp = name, root, tmp
        self.base = dict(os.environ, PYTHONPATH=str(root),
                         PYTHONPYCACHEPREFIX=f"{tmp}/{name}-pyc")
        self.base.pop("PYTHONDONTWRITEBYTECODE", None)
        self.counter = 0

    def fresh(self) -> dict:
        """An environment with empty kernel, policy, data and numba caches."""
        self.counter += 1
        return dict(self.base, REGIME_CACHE_DIR=f"{self.tmp}/{self.name}-rc{self.counter}",
                    NUMBA_CACHE_DIR=f"{self.tmp}/{self.name}-nc{self.counter}")

    def run(self, args: list[str], env: dict | None) -> tuple[float, float]:
        return run(args, env if env is not None else self.fresh(), self.root)


def main(argv=None) -> list[C.Row]:
    parser = C.standard_args(__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--baseline", type=Path, help="Another checkout of regime (e.g. `git "
                        "worktree add /tmp/before <commit>`): each case runs there too, taking "
                        "turns with this one, and the ratios this / baseline are reported.")
    parser.add_argument("--cases", default="eval,diff,warm,rules",
                        help="Which cases (eval, diff, warm, rules), comma-separated.")
    args = parser.parse_args(argv)
    if args.quick:
        args.runs = 1
    tmp = tempfile.TemporaryDirectory(prefix="regime-bench-startup-")
    rules = f"{tmp.name}/rules2000.yaml"
    with open(rules, "w", encoding="utf-8") as f:
        f.write(manyrules.policy_text(2000))
    checkouts = [Checkout("this", C.ROOT, tmp.name)]
    if args.baseline is not None:
        checkouts.insert(0, Checkout("baseline", args.baseline.resolve(), tmp.name))

    eval_args = ["eval", "--policy", "oversight2021"]
    for c in checkouts:
        c.run(eval_args, None)                                  # writes the .pyc files
    cases = {
        "eval": ("first eval oversight2021, empty caches", eval_args, False, 2.0),
        "diff": ("first diff oversight2021 oversight2022, empty caches",
                 ["diff", "oversight2021", "oversight2022"], False, 5.0),
        "warm": ("warm eval oversight2021", eval_args, True, 0.6),
        "rules": ("2,000-rule policy, empty caches", ["eval", "--policy", rules], False, 10.0),
    }
    rows: list[C.Row] = []
    for key in args.cases.split(","):
        name, cmd, warm, target = cases[key]
        envs = {c.name: (c.fresh() if warm else None) for c in checkouts}
        if warm:
            for c in checkouts:
                c.run(cmd, envs[c.name])                        # fills the caches once
        times: dict[str, list[tuple[float, float]]] = {c.name: [] for c in checkouts}
        for _ in range(args.runs):                              # taking turns
            for c in checkouts:
                times[c.name].append(c.run(cmd, envs[c.name]))
        medians = {k: (statistics.median(t[0] for t in v), statistics.median(t[1] for t in v))
                   for k, v in times.items()}
        for c in checkouts:
            wall, cpu = medians[c.name]
            print(f"{name} [{c.name}]: median wall {wall:.2f} s, CPU {cpu:.2f} s "
                  f"(walls: {', '.join(f'{t[0]:.2f}' for t in times[c.name])})", flush=True)
        wall, cpu = medians["this"]
        rows.append(C.Row("8 startup", f"{name}, wall", wall, "s", f"< {target:g} s",
                          C.judge(wall, "<", target), note=f"CPU {cpu:.2f} s"))
        rows.append(C.Row("8 startup", f"{name}, CPU", cpu, "s", f"< {target:g} s",
                          C.judge(cpu, "<", target)))
        if args.baseline is not None:
            bwall, bcpu = medians["baseline"]
            rows.append(C.Row("8 startup", f"{name}: baseline wall {bwall:.2f} s, CPU "
                              f"{bcpu:.2f} s; this / baseline, CPU", cpu / bcpu, "x",
                              note=f"wall {wall / bwall:.2f}x"))
    tmp.cleanup()
    C.finish(rows, args, "Benchmark 8: whole processes, as a user waits")
    return rows


if __name__ == "__main__":
    main()
