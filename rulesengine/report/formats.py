"""Output formats: which one a command writes (from --format or --out's suffix), and the
binary ones, Parquet and xlsx, with the provenance inside the file.

| format   | provenance                                               |
|----------|----------------------------------------------------------|
| table    | its last line                                            |
| markdown | its last line                                            |
| json     | the "provenance" key                                     |
| csv      | FILE.provenance.json beside FILE (stderr with stdout)     |
| parquet  | the file's key-value metadata, key "regime.provenance"   |
| xlsx     | a sheet named "provenance" (field, value)                |
"""

from __future__ import annotations

import io
import json
import math
from pathlib import Path
from typing import Sequence

from ..diagnostics import RegimeError, did_you_mean
from .escape import xlsx_cell
from .tabular import Records

FORMATS = ("table", "csv", "json", "markdown", "parquet", "xlsx")
BINARY = ("parquet", "xlsx")

SUFFIXES = {".txt": "table", ".csv": "csv", ".json": "json", ".md": "markdown",
            ".markdown": "markdown", ".parquet": "parquet", ".xlsx": "xlsx"}

PARQUET_KEY = b"regime.provenance"
PROVENANCE_SHEET = "provenance"


def choose_format(fmt: str | None, out: str | None) -> str:
    """The format to write: --format when given (it must agree with --out's suffix), else the
    one --out's suffix names, else a table (also for a name with no suffix, e.g. /dev/stdout)."""
    if out is None:
        return fmt or "table"
    suffix = Path(out).suffix.lower()
    implied = SUFFIXES.get(suffix)
    if fmt is None:
        if implied is None and suffix:

            raise RegimeError(f"--out {out}: the suffix '{suffix}' names no format; give "
                              f"--format ({', '.join(FORMATS)}) or end the name in one of "
                              f"{', '.join(SUFFIXES)}{did_you_mean(suffix, list(SUFFIXES))}")
        return implied or "table"
    if implied is not None and implied != fmt:
        raise RegimeError(f"--out {out} is a {implied} file name but --format is {fmt}: "
                          f"change one of them")
    return fmt


def provenance_path(out: str | Path) -> Path:
    """Where a CSV's provenance goes: FILE.provenance.json beside FILE."""
    p = Path(out)
    return p.with_name(p.name + ".provenance.json")


def provenance_json(provenance) -> str:
    return json.dumps(provenance.to_json(), indent=2, ensure_ascii=False) + "\n"


# --- Parquet ------------------------------------------------------------------------------------

def _arrow_column(values: Sequence[object]):
    import pyarrow as pa

    present = [v for v in values if v is not None]
    if present and all(isinstance(v, bool) for v in present):
        return pa.array(values, type=pa.bool_())
    if present and all(isinstance(v, int) and not isinstance(v, bool) for v in present):
        return pa.array(values, type=pa.int64())
    if present and all(isinstance(v, (int, float)) and not isinstance(v, bool)
                       for v in present):
        return pa.array([None if v is None or (isinstance(v, float) and math.isnan(v))
                         else float(v) for v in values], type=pa.float64())
    return pa.array([None if v is None else
                     (" ".join(map(str, v)) if isinstance(v, (list, tuple)) else str(v))
                     for v in values], type=pa.string())


def to_parquet(records: Records) -> bytes:
    """The rows as a Parquet file, the provenance JSON in its metadata."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    columns = [_arrow_column(records.column(i)) for i in range(len(records.headers))]
    table = pa.Table.from_arrays(columns, names=list(records.headers))
    if records.provenance is not None:
        meta = dict(table.schema.metadata or {})
        meta[PARQUET_KEY] = json.dumps(records.provenance.to_json()).encode("utf-8")
        table = table.replace_schema_metadata(meta)
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()


def read_parquet_provenance(path: str | Path) -> dict | None:
    """The provenance stored in a Parquet file written by regime (None if there is none)."""
    import pyarrow.parquet as pq

    meta = pq.read_schema(path).metadata or {}
    raw = meta.get(PARQUET_KEY)
    return json.loads(raw) if raw else None


# --- xlsx ---------------------------------------------------------------------------------------

def _write_sheet(ws, headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    from openpyxl.styles import Font

    for j, h in enumerate(headers, start=1):
        _set(ws.cell(row=1, column=j), h).font = Font(bold=True)
    for i, row in enumerate(rows, start=2):
        for j, v in enumerate(row, start=1):
            if isinstance(v, (list, tuple)):
                v = " ".join(map(str, v))
            if isinstance(v, float) and math.isnan(v):
                v = None
            _set(ws.cell(row=i, column=j), v)
    ws.freeze_panes = "A2"


def _set(cell, value: object):
    """Put a value in a cell; text is typed as text, so `=SUM(A1)` in a name is shown, never
    run (openpyxl would otherwise store text starting with '=' as a formula)."""
    value = xlsx_cell(value)
    cell.value = value
    if isinstance(value, str):
        cell.data_type = "s"
    return cell


def to_xlsx(sheets: Sequence[Records], provenance=None) -> bytes:
    """An Excel workbook: one sheet per table and a "provenance" sheet (field, value)."""
    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)
    for records in sheets:
        _write_sheet(wb.create_sheet(records.name[:31]), records.headers, records.rows)
    if provenance is not None:
        ws = wb.create_sheet(PROVENANCE_SHEET)
        _write_sheet(ws, ("field", "value"), provenance.items())
        ws.column_dimensions["A"].width = 22
        ws.column_dimensions["B"].width = 70
    sink = io.BytesIO()
    wb.save(sink)
    return sink.getvalue()


# --- JSON Schemas of the JSON outputs -----------------------------------------------------------

SCHEMAS = ("provenance", "eval", "diff", "explain")


def _schema_files():
    from importlib import resources

    folder = resources.files("rulesengine.report").joinpath("schemas")
    return [entry for entry in folder.iterdir() if entry.name.endswith(".json")]


def json_schema(name: str) -> dict:
    """The JSON Schema shipped for an output (`provenance`, `eval`, `diff`, `explain`)."""
    for entry in _schema_files():
        if entry.name in (f"{name}.schema.json", f"{name}.json"):
            return json.loads(entry.read_text(encoding="utf-8"))
    raise RegimeError(f"no JSON Schema named '{name}'")


def validator(name: str):
    """A jsonschema validator for an output, with the other schemas it refers to resolved
    from the package (never fetched)."""
    import jsonschema
    from referencing import Registry, Resource

    docs = [json.loads(entry.read_text(encoding="utf-8")) for entry in _schema_files()]
    registry = Registry().with_resources(
        [(doc["$id"], Resource.from_contents(doc)) for doc in docs if "$id" in doc])
    return jsonschema.Draft202012Validator(json_schema(name), registry=registry)
