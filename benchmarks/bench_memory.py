"""Benchmark 4: peak memory of evaluating oversight2021 with the compiled kernel on ~10 million
entity-periods, as a multiple of the size of its input arrays.

A child process builds the 28 input arrays ([periods, entities] float64) and the entities,
resets the kernel's record of its peak resident memory (Linux: /proc/self/clear_refs), then
does what `evaluate` does from bound inputs on: params, make_layout, evaluate_compiled (the
kernel is loaded from a cache filled beforehand by a small run, so LLVM's compile-time memory
is not counted), and reads the peak (VmHWM). Reported: the peak / the input arrays' size
(target < 2x; the peak includes the interpreter, numba and the inputs themselves), and the
memory added by evaluating / the input size. Serial and parallel kernels are measured in
separate processes.

    python benchmarks/bench_memory.py [--entities 200000] [--periods 50]
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

import _common as C


def status(field: str) -> float:
    """A memory figure of this process from /proc/self/status, in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise KeyError(field)


def child(entities: int, periods: int) -> None:
    from rulesengine.compile.kernel import evaluate_compiled
    from rulesengine.engine.layout import make_layout
    from rulesengine.engine.params import resolve_params

    checked = C.load_policy("oversight2021")
    profiles = C.sample_profiles(checked)
    import numba  # noqa: F401  (imported before the baseline, as in any run)
    baseline = status("VmRSS")
    ents = C.make_entities(entities)
    inputs = C.make_inputs(checked, ents, periods, profiles=profiles)
    input_mb = sum(a.nbytes for a in inputs.values()) / 2 ** 20
    built_peak = status("VmHWM")
    before = status("VmRSS")
    Path("/proc/self/clear_refs").write_text("5")      # reset the peak to the current RSS
    params = resolve_params(checked.policy, "quarter", 0, periods)
    layout = make_layout(checked, ents, inputs, params, periods)
    raw = evaluate_compiled(checked, layout)
    peak = status("VmHWM")
    print(json.dumps({"input_mb": input_mb, "baseline_mb": baseline, "before_mb": before,
                      "peak_mb": peak, "built_peak_mb": built_peak,
                      "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      "outputs_mb": sum(getattr(raw, f).nbytes for f in (
                          "computed", "level", "candidate", "fired", "unknown", "incomplete",
                          "subject")) / 2 ** 20,
                      "cells": entities * periods}))


def main(argv=None) -> list[C.Row]:
    parser = C.standard_args(__doc__.splitlines()[0])
    parser.add_argument("--entities", type=int, default=200_000)
    parser.add_argument("--periods", type=int, default=50)
    parser.add_argument("--child", action="store_true", help=argparse_hidden())
    args = parser.parse_args(argv)
    if args.child:
        child(args.entities, args.periods)
        return []
    if args.quick:
        args.entities = 20_000
    cache = tempfile.TemporaryDirectory(prefix="regime-bench-kernels-")
    rows: list[C.Row] = []
    for parallel in ("0", "1"):
        mode = "parallel" if parallel == "1" else "serial"
        env = {**C.cache_env(cache.name), "REGIME_PARALLEL": parallel}
        me = [C.PYTHON, __file__, "--child", "--periods", str(args.periods)]
        subprocess.run(me + ["--entities", "500"], env=env, check=True,
                       stdout=subprocess.DEVNULL)                  # compile into the cache
        out = subprocess.run(me + ["--entities", str(args.entities)], env=env, check=True,
                             capture_output=True, text=True).stdout
        r = json.loads(out.strip().splitlines()[-1])
        ratio = r["peak_mb"] / r["input_mb"]
        added = (r["peak_mb"] - r["before_mb"]) / r["input_mb"]
        print(f"{mode}: {r['cells']:,} entity-periods; inputs {r['input_mb']:.0f} MB; "
              f"process before evaluating {r['before_mb']:.0f} MB (of which interpreter, "
              f"numba, policy {r['baseline_mb']:.0f} MB); peak while evaluating "
              f"{r['peak_mb']:.0f} MB; outputs {r['outputs_mb']:.0f} MB; peak while building "
              f"the inputs {r['built_peak_mb']:.0f} MB")
        rows.append(C.Row("4 memory", f"peak RSS / input arrays, {mode}", ratio, "x",
                          "< 2x", ratio < 2, f"peak {r['peak_mb']:.0f} MB, inputs "
                          f"{r['input_mb']:.0f} MB"))
        rows.append(C.Row("4 memory", f"added by evaluating / input arrays, {mode}", added,
                          "x", note=f"{r['peak_mb'] - r['before_mb']:.0f} MB"))
    cache.cleanup()
    C.finish(rows, args, "Benchmark 4: peak memory, 10 million entity-periods")
    return rows


def argparse_hidden():
    import argparse
    return argparse.SUPPRESS


if __name__ == "__main__":
    main()
