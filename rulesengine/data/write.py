"""Writing a panel back to files: a wide table of its metrics plus its entities table.

What is written reads back as the same panel (`loaders.load_panel`): the same periods, values,
rating labels and entity attributes.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

import numpy as np

from ..files import atomic_output
from .panel import ENTITY_COLUMNS, LIFETIME_COLUMNS, Entities, Panel


def write_panel(panel: Panel, out: str | os.PathLike, *, fmt: str = "parquet",
                name: str = "metrics") -> list[Path]:
    """Write a panel to a folder as a wide `<name>.parquet` (or `.csv`) plus `entities.csv`."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    if fmt not in ("parquet", "csv"):
        raise ValueError(f"fmt must be 'parquet' or 'csv', not {fmt!r}")
    data_path = out / f"{name}.{fmt}"
    ent_path = out / "entities.csv"
    write_entities(panel.entities, ent_path)
    metrics = panel.metrics
    rows_p, rows_e = _rows_with_data(panel)
    ids = panel.entities.ids
    entity_codes = ids.codes[rows_e]
    labels = panel.period_labels
    period_col = [labels[p] for p in rows_p]
    if fmt == "parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        # the ids' codes are the dictionary column's indices: no string per row
        arrays = {"entity": pa.DictionaryArray.from_arrays(
                      pa.array(entity_codes.astype(np.int32), pa.int32()),
                      pa.array(ids.values, pa.string())),
                  "period": pa.array(period_col, pa.string()).dictionary_encode()}
        for m in metrics:
            vals = panel.values[m][rows_p, rows_e]
            if m in panel.labels:
                words = [None if v != v else panel.labels[m][int(v)] for v in vals]
                arrays[m] = pa.array(words, pa.string()).dictionary_encode()
            else:
                arrays[m] = pa.array(vals, pa.float64(), mask=np.isnan(vals))
        with atomic_output(data_path, "wb") as fh:
            pq.write_table(pa.table(arrays), fh, compression="zstd", compression_level=9)
    else:
        cols = [panel.values[m][rows_p, rows_e] for m in metrics]
        with atomic_output(data_path) as fh:
            w = csv.writer(fh, lineterminator="\n")
            w.writerow(["entity", "period", *metrics])
            entity_col = list(map(ids.values.__getitem__, entity_codes.tolist()))
            for i in range(len(rows_p)):
                w.writerow([entity_col[i], period_col[i],
                            *(_format_cell(panel, m, c[i]) for m, c in zip(metrics, cols))])
    return [data_path, ent_path]


def write_entities(entities: Entities, path: str | os.PathLike) -> None:
    """Write an entities table as CSV (`entity,name,kind,type,parent,region`, and
    `from,to,successor` when any entity has a lifetime), atomically."""
    cols = [entities.ids, entities.names, entities.kinds, entities.types, entities.parents,
            entities.regions]
    header = list(ENTITY_COLUMNS)
    if entities.has_lifetimes:
        cols += [entities.starts, entities.ends, entities.successors]
        header += LIFETIME_COLUMNS
    with atomic_output(path) as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(header)
        for row in zip(*cols):
            w.writerow(row)


def _rows_with_data(panel: Panel) -> tuple[np.ndarray, np.ndarray]:
    has = np.zeros((panel.n_periods, len(panel.entities)), dtype=bool)
    for arr in panel.values.values():
        has |= ~np.isnan(arr)
    if has.size:
        # The first and last periods are written even without values (a row of empty cells),
        # so the panel read back covers the same periods (found by the fuzzer).
        for t in (0, panel.n_periods - 1):
            if not has[t].any():
                has[t, 0] = True
    return np.nonzero(has)      # period-major order: all entities of a period, then the next


def _format_cell(panel: Panel, metric: str, v: float) -> str:
    if v != v:
        return ""
    if metric in panel.labels:
        return panel.labels[metric][int(v)]
    if float(v).is_integer() and abs(v) < 1e15:
        return str(int(v))
    return repr(float(v))

