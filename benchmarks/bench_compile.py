"""Benchmark 12: how the fused kernel's compile time grows with a policy's rules.

Policies of n rules (benchmarks/manyrules.py's shape, `a > threshold` with a distinct
threshold per rule, so the planner shares none of them) for n = 25 .. 400 (the fused tier takes up
to 200, pipeline/run.py's FUSED_MAX_RULES: more always run vectorised). Each is compiled in a fresh
process with an empty kernel cache, after a 3-rule policy of the same shape has run (numba's
start-up and the library's kernels are paid once per process and installation, whatever the
policy): the first evaluation's CPU time on the bundled sample less the second's is what a
first run of the fused tier pays to compile the policy. Reported: seconds per rule at each size and
the growth from each size to the next (linear growth keeps seconds per rule flat).

Two shapes: `decide: worst` (up to 64 rules folded by library.fold, called with a tuple of
the rules' values; more by library.combine) and `decide: first` (library.combine, the rules'
values in a scratch row).

    python benchmarks/bench_compile.py [--sizes 25,50,100,200,400]
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile

import _common as C
import manyrules

CHILD = r"""
import json, sys, time
from pathlib import Path
from rulesengine.check.checker import check
from rulesengine.policy.load import load_policy_text
from rulesengine.compile.kernel import evaluate_compiled
from rulesengine.pipeline.run import prepare

def layout(text, name):
    checked = check(load_policy_text(text, Path(name)))
    return checked, prepare(checked)[1]         # the bundled sample

warm = layout(sys.argv[2], "warm.yaml")
evaluate_compiled(*warm, parallel=False)     # numba's start-up and the library, once
checked, lay = layout(sys.argv[1], "policy.yaml")
t0 = time.process_time()
evaluate_compiled(checked, lay, parallel=False)  # generate, compile, run
first = time.process_time() - t0
t0 = time.process_time()
evaluate_compiled(checked, lay, parallel=False)  # run
print(json.dumps({"compile": first - (time.process_time() - t0)}))
"""


def policy(n: int, decide: str) -> str:
    text = manyrules.policy_text(n, distinct=True)
    return text.replace("decide: worst", f"decide: {decide}")


def compile_seconds(n: int, decide: str) -> float:
    with tempfile.TemporaryDirectory(prefix="regime-bench-compile-") as cache:
        env = dict(os.environ, REGIME_CACHE_DIR=cache, PYTHONPATH=str(C.ROOT))
        out = subprocess.run([C.PYTHON, "-c", CHILD, policy(n, decide), policy(3, decide)],
                             env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])["compile"]


def main(argv=None) -> list[C.Row]:
    parser = C.standard_args(__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="25,50,100,200,400")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    if args.quick:
        sizes = [10, 20]
    rows: list[C.Row] = []
    for shape, decide in (("worst", "worst"), ("first", "first")):
        before = None
        for n in sizes:
            s = compile_seconds(n, decide)
            per_rule = s / n
            growth = "" if before is None else \
                f"{s / before[1]:.2f}x the time for {n / before[0]:.1f}x the rules"
            print(f"{shape:8s} {n:5d} rules: compile {s:6.2f} s CPU, {per_rule * 1e3:6.1f} ms a "
                  f"rule  {growth}", flush=True)
            rows.append(C.Row("12 compile", f"compile, {n} rules, decide: {shape}", s, "s",
                              note=f"{per_rule * 1e3:.1f} ms a rule" + (f"; {growth}"
                                                                         if growth else "")))
            before = (n, s)
    C.finish(rows, args, "Benchmark 12: compile time against rules")
    return rows


if __name__ == "__main__":
    sys.exit(main() and 0)
