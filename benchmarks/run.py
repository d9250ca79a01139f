"""Run every benchmark, one process each and one after another, and print one table.

    python benchmarks/run.py            # everything (about 15-25 minutes on 2 CPUs)
    python benchmarks/run.py --quick    # smaller sizes, fewer repeats: a smoke test
    python benchmarks/run.py --only kernel,cli

Each benchmark prints its own details as it goes; the table at the end collects the figures
with their targets. Ratios are measured within one process; wall times are whole processes.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import _common as C

BENCHES = {
    "kernel": "bench_kernel.py",          # 1. compiled vs hand-written numba, 10M
    "reference": "bench_reference.py",    # 2. compiled vs the NumPy reference
    "cli": "bench_cli.py",                # 3. regime eval cold / warm, where the time goes
    "memory": "bench_memory.py",          # 4. peak memory at 10M
    "diff": "bench_diff.py",              # 5. regime diff, warm
    "segments": "bench_segments.py",      # 6. a 4-rule policy vs hand-written code, serial
    "tiers": "bench_tiers.py",            # 7. scaling 1e3..1e7, where each tier takes over
    "startup": "bench_startup.py",        # 8. whole processes: cold, warm, 2,000 rules
    "explain": "bench_explain.py",        # 9. explain's what-if searches, the report's explanations
    "sweep": "bench_sweep.py",            # 10. 10,000 sweep variants, batched, vs one eval
    "lsp": "bench_lsp.py",                # 11. the language server: change -> diagnostics
    "compile": "bench_compile.py",        # 12. compile time against rules
}
EXTRAS: dict[str, str] = {}              # scripts run only when named in --only


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", default=",".join(BENCHES),
                        help=f"comma-separated subset of {', '.join({**BENCHES, **EXTRAS})}")
    args = parser.parse_args()
    here = Path(__file__).parent
    rows: list[C.Row] = []
    failed = []
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.only.split(","):
            out = Path(tmp) / f"{name}.json"
            script = {**BENCHES, **EXTRAS}[name]
            cmd = [C.PYTHON, str(here / script), "--json-out", str(out)]
            if args.quick:
                cmd.append("--quick")
            print(f"\n#### {name}: {' '.join(cmd[1:2] + cmd[4:])}  (load {C.load_note()})",
                  flush=True)
            t0 = time.perf_counter()
            if subprocess.run(cmd).returncode != 0 or not out.exists():
                failed.append(name)
                continue
            rows += [C.Row(**r) for r in json.loads(out.read_text())]
            print(f"#### {name} took {time.perf_counter() - t0:.0f} s", flush=True)
    C.print_rows(rows, "All benchmarks")
    print(f"load average (1, 5, 15 min): {C.load_note()}; "
          f"{time.perf_counter() - started:.0f} s in all")
    if failed:
        print(f"FAILED: {', '.join(failed)}")
        sys.exit(1)


if __name__ == "__main__":
    main()
