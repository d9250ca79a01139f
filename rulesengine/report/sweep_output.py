"""A sweep's results as files and as a terminal summary: one tidy Parquet table per view
(variants, counts, organisations, sensitivity, dependence), the tornado and stability
charts, provenance.json, and the summary `regime sweep` prints."""

from __future__ import annotations

import json
from pathlib import Path

import click
import numpy as np

from ..diagnostics import RegimeError
from .output import write
from .sweep_charts import stability_chart, tornado_chart
from .tabular import show

TABLES = ("variants", "counts", "organisations", "sensitivity", "dependence")
SUMMARY_VARIANTS = 20      # the per-variant counts printed in full up to this many variants


def write_sweep(result, folder: Path) -> list[Path]:
    """Write every table, the charts and the provenance into `folder` (made if missing),
    each file atomically (report.output.write)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise RegimeError(f"--out {folder}: cannot make the folder: {e.strerror or e}") from None
    provenance = result.provenance()
    meta = {b"regime.provenance": json.dumps(provenance).encode()}
    written = []
    for name, table in result.tables().items():
        arrow = pa.table(table) if table else pa.table({})
        arrow = arrow.replace_schema_metadata({**(arrow.schema.metadata or {}), **meta})
        sink = pa.BufferOutputStream()
        pq.write_table(arrow, sink)
        path = folder / f"{name}.parquet"
        write(path, sink.getvalue().to_pybytes())
        written.append(path)
    path = folder / "provenance.json"
    write(path, json.dumps(provenance, indent=2) + "\n")
    written.append(path)
    if result.design.names and result.design.n_variants > 1:
        written.append(tornado_chart(result, folder / "tornado.png"))
    written.append(stability_chart(result, folder / "stability.png"))
    return written


def summary_json(result) -> dict:
    """What the terminal summary shows, as data."""
    counts = _variant_counts(result)
    orgs = result.organisations_table()
    unstable = _least_stable(orgs, 10)
    return {"provenance": result.provenance(),
            "variants": [{"variant": v, "params": result.design.params(v), "counts": c}
                         for v, c in enumerate(counts)],
            "least_stable": unstable,
            "sensitivity": _rows(result.sensitivity_table())}


def print_summary(result) -> None:
    d = result.design
    run = result.run
    prov = result.provenance()
    periods = run.period_labels
    shown = periods[0] if len(periods) == 1 else f"{periods[0]} to {periods[-1]}"
    click.echo(f"{result.policy_id} v{result.policy_version}: {d.n_variants:,} variant"
               f"{'s' * (d.n_variants != 1)} x {result.draws:,} draw{'s' * (result.draws != 1)}"
               f" ({d.method}), {shown}; engine {result.engine}")
    if prov["sweep"]["noise"]:
        click.echo("noise: " + ", ".join(prov["sweep"]["noise"]) + f"; seed {result.seed}")
    split = prov["sweep"].get("batch")
    if split:
        click.echo(f"batched: {split['shared_values']} shared values computed once; each run "
                   f"evaluates {split['residual_nodes']} of the policy's {split['policy_nodes']} "
                   f"expression nodes over {split['periods_evaluated']} period"
                   f"{'s' * (split['periods_evaluated'] != 1)}")
    counts = _variant_counts(result)
    levels = list(run.level_ids)
    label = dict(zip(run.level_ids, run.level_labels))
    if d.n_variants <= SUMMARY_VARIANTS:
        headers = ["variant", *d.names, *(label[lv] for lv in levels)]
        rows = [[v, *(_num(x) for x in d.values[v])] if d.names else [v] for v in
                range(d.n_variants)]
        rows = [r + [_num(c[lv]) for lv in levels] for r, c in zip(rows, counts)]
        show(headers, rows, title="organisations per level (mean over draws and periods)")
    else:
        arr = np.array([[c[lv] for lv in levels] for c in counts])
        headers = ["level", "min", "median", "max"]
        rows = [[label[lv], _num(arr[:, k].min()), _num(float(np.median(arr[:, k]))),
                 _num(arr[:, k].max())] for k, lv in enumerate(levels)]
        show(headers, rows, title=f"organisations per level across {d.n_variants:,} variants")
    sens = result.sensitivity_table()
    if sens["param"]:
        rows = [[p, m, _num(round(v, 3)), "" if np.isnan(c) else _num(round(c, 3))]
                for p, o, m, v, c in zip(sens["param"], sens["output"], sens["measure"],
                                         sens["value"], sens["conf"]) if o == "mean_level"]
        show(["param", "measure", "value", "95% conf"], rows,
             title="sensitivity of the mean level")
    unstable = _least_stable(result.organisations_table(), 10)
    if unstable:
        show(["period", "entity", "name", "modal level", "stability"],
             [[u["period"], u["entity"], u["name"], label[u["modal_level"]],
               f"{u['stability']:.0%}"] for u in unstable],
             title="least stable organisations")


def _variant_counts(result) -> list[dict[str, float]]:
    """Per variant: mean count at each level over draws and periods."""
    lv = result.run.levels
    out = []
    for v in range(lv.shape[0]):
        c = {}
        for k, lid in enumerate(result.run.level_ids):
            c[lid] = float((lv[v] == k).sum(axis=2).mean()) if lv.shape[1] * lv.shape[2] else 0.0
        out.append(c)
    return out


def _least_stable(orgs: dict[str, list], n: int) -> list[dict]:
    rows = _rows(orgs)
    rows = [r for r in rows if r["stability"] < 1.0]
    rows.sort(key=lambda r: (r["stability"], r["entity"]))
    return rows[:n]


def _rows(table: dict[str, list]) -> list[dict]:
    keys = list(table)
    return [dict(zip(keys, values)) for values in zip(*(table[k] for k in keys))]


def _num(x: float) -> str:
    x = float(x)
    return str(int(x)) if x.is_integer() else f"{x:g}"
