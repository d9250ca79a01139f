"""A disk cache of loaded panels as plain NumPy arrays, so a warm run reads only the metrics
its policy uses, without Parquet, pyarrow or the loader's checks.

Only data files that regime itself ships are cached (the bundled sample): a user's files
are read and checked on every run, since their diagnostics and warnings are part of the
run's output. An entry is one folder under the cache's `data/` folder, named by a hash of
the data files' bytes, their place and the package's code (`cachedir.engine_stamp`,
so an edited loader never reads what an older one wrote), holding

    manifest.json   the periods, rating labels, where each label was first read, the
                    panel's digest (provenance), per entity column its distinct values and
                    the file of its codes, and per metric its files; each file's SHA-256
    entities.npy    the codes of the entity columns (ids, names, ...) into their values,
                    one row per column,
    <k>.mask.npy    where metric k has a value (packed bits), and
    <k>.values.npy  those values (float64, in row order),

written whole into a temporary folder and renamed into place, so a reader sees a complete
entry or none. Arrays are read with `allow_pickle=False` (nothing in an entry can run code)
and each is checked against its SHA-256 before use; any damage, a missing file, a changed
format, is a miss: the data is loaded from its files again. The folder itself is checked as
`rulesengine.cachedir` describes (a hash guards against damage, not forgery).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
from itertools import repeat
from pathlib import Path
from typing import Callable, Iterator, Mapping, Sequence

import numpy as np

from .. import cachedir
from ..cachedir import engine_stamp
from ..diagnostics import Pos
from .panel import Entities, Panel
from .strings import Strings

FORMAT = 3                  # 3: entity columns as codes (.npy) and values (manifest)
MANIFEST = "manifest.json"
_NAN_BITS = np.array(np.nan).view(np.uint64)
ENTITY_CODES = "entities.npy"
_ENTITY_COLUMNS = ("ids", "names", "kinds", "types", "parents", "regions", "starts", "ends",
                   "successors")


def cached_panel(files: Sequence[Path], load: Callable[[], Panel]) -> Panel:
    """`load()`'s panel, from the cache while `files` (every file it reads) are unchanged."""
    folder = _folder()
    if folder is None:
        return load()
    try:
        key = entry_key(files)
    except OSError:
        return load()
    entry = folder / key
    hit = _read(entry, load)
    if hit is not None:
        return hit
    panel = load()
    _write(folder, entry, panel)
    return panel


def entry_key(files: Sequence[Path]) -> str:
    """An entry's name: the format, the package's code, and each file's path and bytes."""

    h = hashlib.sha256(f"{FORMAT}\0{engine_stamp()}".encode())
    for f in files:
        h.update(b"\0" + os.fsencode(Path(f).resolve()) + b"\0")
        h.update(hashlib.sha256(Path(f).read_bytes()).digest())
    return h.hexdigest()[:32]


def _folder() -> Path | None:
    return cachedir.folder("data")


# --- reading --------------------------------------------------------------------------------

class _Metrics(Mapping):
    """Metric name -> float64 array [periods, entities], read from the entry on first use
    (a policy reads a few of the sample's metrics; the others are never decoded). A metric
    whose files turn out damaged is a late miss: the panel is loaded from the data files
    and the metric taken from there."""

    def __init__(self, entry: Path, specs: Mapping[str, dict], shape: tuple[int, int],
                 load: Callable[[], Panel]) -> None:
        self._entry = entry
        self._load = load
        self._loaded: Mapping[str, np.ndarray] | None = None
        self._specs = dict(specs)
        self._shape = shape
        self._arrays: dict[str, np.ndarray] = {}
        self.lazy_shape = shape     # every array has this shape (Panel checks it once)

    def __getitem__(self, name: str) -> np.ndarray:
        arr = self._arrays.get(name)
        if arr is None:
            spec = self._specs[name]
            try:
                if self._loaded is not None:
                    raise _Damaged("an earlier metric")
                arr = _metric(self._entry, spec, self._shape)
            except _Damaged:
                if self._loaded is None:
                    import shutil

                    # removed, so that the next run writes a whole entry again
                    shutil.rmtree(self._entry, ignore_errors=True)
                    self._loaded = self._load().values
                arr = self._loaded[name]
            self._arrays[name] = arr
        return arr

    def __contains__(self, name) -> bool:
        return name in self._specs

    def __iter__(self) -> Iterator[str]:
        return iter(self._specs)

    def __len__(self) -> int:
        return len(self._specs)


class _Damaged(Exception):
    """An entry's file is missing or is not what its manifest says."""


def _array(path: Path, digest: str) -> np.ndarray:
    try:
        data = path.read_bytes()
    except OSError as e:
        raise _Damaged(str(path)) from e
    if hashlib.sha256(data).hexdigest() != digest:
        raise _Damaged(str(path))
    try:
        return np.load(io.BytesIO(data), allow_pickle=False)
    except (ValueError, OSError, EOFError) as e:
        raise _Damaged(str(path)) from e


def _metric(entry: Path, spec: dict, shape: tuple[int, int]) -> np.ndarray:
    """A metric's array from its mask and values; _Damaged unless both are as recorded."""
    bits = _array(entry / spec["mask"], spec["mask_sha256"])
    values = _array(entry / spec["values"], spec["values_sha256"])
    n = shape[0] * shape[1]
    if bits.dtype != np.uint8 or values.dtype != np.float64 or values.ndim != 1 \
            or bits.shape != ((n + 7) // 8,):
        raise _Damaged(spec["values"])
    present = np.unpackbits(bits, count=n).view(bool)
    if int(np.count_nonzero(present)) != values.size:
        raise _Damaged(spec["values"])
    out = np.full(n, np.nan)
    out[present] = values
    return out.reshape(shape)


def _entities(entry: Path, spec: dict) -> Entities:
    """The entities from their columns' codes (one [columns, entities] array) and values;
    _Damaged unless the codes are as recorded and the columns canonical (Strings.stored
    refuses any other)."""
    codes = _array(entry / ENTITY_CODES, spec["codes_sha256"])
    values = spec["values"]
    if codes.dtype.kind not in "iu" or codes.shape != (len(_ENTITY_COLUMNS), spec["n"]) \
            or not isinstance(values, dict) or set(values) != set(_ENTITY_COLUMNS) \
            or not all(isinstance(v, list) and all(map(isinstance, v, repeat(str)))
                       for v in values.values()):
        raise _Damaged(ENTITY_CODES)
    try:
        return Entities(*(Strings.stored(codes[k], values[name])
                          for k, name in enumerate(_ENTITY_COLUMNS)))
    except ValueError as e:
        raise _Damaged(ENTITY_CODES) from e


def _read(entry: Path, load: Callable[[], Panel]) -> Panel | None:
    # the guarded read: a pipe in the manifest's place is a miss, not a wait
    data = cachedir.read_entry(entry / MANIFEST)
    if data is None:
        return None
    try:
        manifest = json.loads(data)
        if manifest.get("format") != FORMAT:
            return None
        shape = (int(manifest["n_periods"]), int(manifest["entities"]["n"]))
        specs = manifest["metrics"]
        # Every file must be there and whole before the entry is used: a metric read later
        # must not find a half-removed entry.
        for spec in specs.values():
            for part in ("mask", "values"):
                if (entry / spec[part]).stat().st_size != spec[part + "_size"]:
                    return None
        if (entry / ENTITY_CODES).stat().st_size != manifest["entities"]["codes_size"]:
            return None
        entities = _entities(entry, manifest["entities"])
        panel = Panel(
            period_kind=manifest["period_kind"], start=int(manifest["start"]),
            n_periods=shape[0], entities=entities,
            values=_Metrics(entry, specs, shape, load),
            labels={k: tuple(v) for k, v in manifest["labels"].items()},
            sources=tuple(manifest["sources"]),
            label_sites={m: {label: (file, Pos(*pos)) for label, (file, pos) in sites.items()}
                         for m, sites in manifest["label_sites"].items()})
    except Exception:  # noqa: BLE001 - any damage to an entry is only a cache miss
        return None
    panel.__dict__["_digest"] = manifest["digest"]      # the digest of the panel as loaded
    return panel


# --- writing --------------------------------------------------------------------------------

def _write(folder: Path, entry: Path, panel: Panel) -> None:
    """Write the entry whole into a temporary folder, then rename it into place; a failure
    leaves no entry (the next run loads the files again)."""
    import shutil
    import tempfile

    if entry.exists():
        return
    tmp = None
    try:
        tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=folder))
        specs = {}
        for k, name in enumerate(sorted(panel.values)):
            arr = np.ascontiguousarray(panel.values[name], dtype=np.float64)
            present = ~np.isnan(arr)
            # a missing value is rebuilt as np.nan: any other NaN bits would not come back
            if (arr.view(np.uint64)[~present] != _NAN_BITS).any():
                return      # (not stored: the files are read every time)
            spec = {}
            for part, data in (("mask", np.packbits(present.reshape(-1))),
                               ("values", arr[present])):
                buf = io.BytesIO()
                np.save(buf, data, allow_pickle=False)
                raw = buf.getvalue()
                spec[part] = f"{k}.{part}.npy"
                spec[part + "_sha256"] = hashlib.sha256(raw).hexdigest()
                spec[part + "_size"] = len(raw)
                _write_private(tmp / spec[part], raw)
            specs[name] = spec
        ents = panel.entities
        cols = ents.columns()
        # the narrowest integer type (most columns hold a few values, ids one per entity)
        width = np.min_scalar_type(max([len(c.values) - 1 for c in cols] + [0]))
        codes = np.stack([c.codes for c in cols]).astype(width) if len(ents) else \
            np.zeros((len(cols), 0), width)
        buf = io.BytesIO()
        np.save(buf, codes, allow_pickle=False)
        raw = buf.getvalue()
        _write_private(tmp / ENTITY_CODES, raw)
        entities = {"n": len(ents), "codes_sha256": hashlib.sha256(raw).hexdigest(),
                    "codes_size": len(raw),
                    "values": {name: list(c.values) for name, c in zip(_ENTITY_COLUMNS, cols)}}
        manifest = {
            "format": FORMAT, "period_kind": panel.period_kind, "start": panel.start,
            "n_periods": panel.n_periods, "digest": panel.digest(),
            "entities": entities,
            "labels": {k: list(v) for k, v in panel.labels.items()},
            "sources": list(panel.sources),
            "label_sites": {m: {label: [file, [pos.line, pos.col, pos.end_col]]
                                for label, (file, pos) in sites.items()}
                            for m, sites in panel.label_sites.items()},
            "metrics": specs}
        _write_private(tmp / MANIFEST, json.dumps(manifest).encode("utf-8"))
        os.chmod(tmp, 0o700)
        os.rename(tmp, entry)       # another process's entry already there: keep it
        tmp = None
    except (OSError, TypeError, ValueError):
        pass
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


def _write_private(path: Path, data: bytes) -> None:
    """A new file of the entry, readable by its owner only (as every cache entry is); the
    entry is made whole in its temporary folder and renamed into place as one."""
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as f:
        f.write(data)
