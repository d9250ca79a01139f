"""Benchmark: peak memory of loading panel data (`load_panel`), as a multiple of the decoded
data, for a long CSV, a wide CSV and a wide Parquet file of the same values.

The parent makes the files; a child process per file loads a small file of the same format
first (so imports and allocators' first-use costs are paid), resets its record of peak
resident memory (Linux: /proc/self/clear_refs), loads the file and reads the peak (VmHWM).
The decoded data are the file's cells, rows x columns, at 8 bytes each (every field decoded
to a fixed-width value: what a columnar reader holds); the ratio is the memory the load
added at its peak divided by that. Target: < 3x (issue 10, item 5: a CSV used to peak at
about 25 times its size, read whole as Python strings). The peak over the panel's own arrays
(one float64 per period, entity and metric) is printed too: a long file has 4 cells per value,
so its ratio to the panel is about 4 times its ratio to the decoded file.

    python benchmarks/bench_loader_memory.py [--entities 10000] [--months 24] [--metrics 10]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET = 3.0


def status(field: str) -> float:
    """A memory figure of this process from /proc/self/status, in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise KeyError(field)


def child(path: str, warm: str) -> None:
    from rulesengine.data.loaders import load_panel

    # A small file of the same format first: imports, Arrow's memory pool and the loader's
    # first-use costs are paid before the baseline, so the peak is the load's own.
    load_panel(warm)
    before = status("VmRSS")
    Path("/proc/self/clear_refs").write_text("5")      # reset the peak to the current RSS
    panel = load_panel(path)
    peak = status("VmHWM")
    print(json.dumps({"before_mb": before, "peak_mb": peak,
                      "panel_mb": sum(a.nbytes for a in panel.values.values()) / 2 ** 20}))


def table_cells(path: Path) -> int:
    """Rows x columns of a data file: the cells a reader decodes."""
    import pyarrow.parquet as pq

    if path.suffix == ".parquet":
        meta = pq.ParquetFile(path).metadata
        return meta.num_rows * meta.num_columns
    with open(path, "rb") as fh:
        width = fh.readline().count(b",") + 1
        return sum(1 for _ in fh) * width


def make_files(folder: Path, entities: int, months: int, metrics: int) -> dict[str, Path]:
    """The same values as a long CSV, a wide CSV and a wide Parquet file."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(7)
    ids = np.array([f"T{i:05d}" for i in range(entities)])
    periods = np.array([f"{2020 + m // 12}-{m % 12 + 1:02d}" for m in range(months)])
    ent = np.tile(ids, months)
    per = np.repeat(periods, entities)
    # Values as published: a percent with one decimal place, about 2% missing.
    values = np.round(rng.uniform(40, 100, (metrics, ent.size)), 1)
    values[rng.random(values.shape) < 0.02] = np.nan
    names = [f"m{j}" for j in range(metrics)]
    wide = folder / "wide.csv"
    cols = {"entity": ent, "period": per} | {n: values[j] for j, n in enumerate(names)}
    table = pa.table(cols)
    pq.write_table(table, folder / "wide.parquet")
    import pyarrow.csv as pcsv

    pcsv.write_csv(table, wide)
    long = folder / "long.csv"
    with open(long, "w", encoding="utf-8") as fh:
        fh.write("entity,period,metric,value\n")
        for j, n in enumerate(names):
            v = values[j]
            text = np.where(np.isnan(v), "", v.astype(str))
            fh.writelines(f"{e},{p},{n},{x}\n" for e, p, x in zip(ent, per, text))
    return {"long CSV": long, "wide CSV": wide, "wide Parquet": folder / "wide.parquet"}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--entities", type=int, default=10_000)
    ap.add_argument("--months", type=int, default=24)
    ap.add_argument("--metrics", type=int, default=10)
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(*args.child)
        return
    print(f"load average {os.getloadavg()[0]:.2f}; {args.entities:,} entities x {args.months} "
          f"months x {args.metrics} metrics")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    worst = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "big").mkdir()
        (Path(tmp) / "small").mkdir()
        files = make_files(Path(tmp) / "big", args.entities, args.months, args.metrics)
        small = make_files(Path(tmp) / "small", 50, 3, args.metrics)
        print(f"{'file':<14}{'file MB':>8}{'decoded MB':>11}{'panel MB':>9}{'added MB':>9}"
              f"{'/decoded':>9}{'/panel':>8}")
        for label, path in files.items():
            out = subprocess.run([sys.executable, __file__, "--child", str(path),
                                  str(small[label])], env=env,
                                 check=True, capture_output=True, text=True).stdout
            r = json.loads(out.strip().splitlines()[-1])
            decoded = table_cells(path) * 8 / 2 ** 20
            added = r["peak_mb"] - r["before_mb"]
            ratio = added / decoded
            worst = max(worst, ratio)
            print(f"{label:<14}{path.stat().st_size / 2 ** 20:>8.1f}{decoded:>11.1f}"
                  f"{r['panel_mb']:>9.1f}{added:>9.1f}{ratio:>8.2f}x"
                  f"{added / r['panel_mb']:>7.2f}x")
    print(f"worst: {worst:.2f}x the decoded data (target < {TARGET:g}x): "
          f"{'met' if worst < TARGET else 'NOT met'}")


if __name__ == "__main__":
    main()
