"""A disk cache of checked policies, so a warm `regime eval` skips YAML, schema, parsing and
checking (most of its start-up time).

An entry is plain JSON, never pickle: reading one builds only the project's own frozen
dataclasses (AST nodes, types, the policy model), named in a fixed allow-list and filled field
by field, so a forged or damaged entry can at worst be a wrong cache entry, never run code. An
entry is used only when all of these hold, else it is a miss and the policy is loaded again:

- it was written by this engine: the regime version and a fingerprint of the package's code;
- its body has the SHA-256 recorded in its header (damage, a truncated write);
- every file the policy was read from (itself and each file it extends) has the content hash
  it had, and every path that was searched for a parent and found absent is still absent: a
  new `parent.yaml` earlier on the search path changes what `extends: parent` means;
- every class it names still has the fields it had.

File names inside the policy (provenance, diagnostics) are stored as absolute paths and shown
relative to the working directory of the run that reads the entry. The folder is checked as
`rulesengine.cachedir` describes (owned by the user, writable by nobody else), which is what
keeps others from forging entries: a hash guards against damage, not forgery.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from functools import lru_cache
from pathlib import Path
from typing import Callable, Sequence

from .. import cachedir, diagnostics
from ..cachedir import engine_stamp
from ..check import checker, scope
from ..diagnostics import RegimeError
from ..files import POLICY, read_input
from ..lang import ast, types
from ..policy import model
from ..policy.load import Resolution, display_name, is_file
from ..version import __version__

ENV_NO_CACHE = "REGIME_NO_POLICY_CACHE"
FORMAT = 1
SUFFIX = ".json"

# Fields holding a file's name as shown to the user: stored absolute, shown relative.
_PATH_FIELDS = {("Source", "file"), ("Diagnostic", "file"), ("Policy", "files")}


def cached(path: Path, dirs: Sequence[Path], load: Callable[[Resolution | None], object]):
    """`load(resolution)`'s checked policy for `path`, from the cache while everything it was
    resolved from is unchanged. `load` records what it read and searched in `resolution`."""
    if os.environ.get(ENV_NO_CACHE):
        return load(None)
    folder = cachedir.folder("policies")
    if folder is None:
        return load(None)
    key = entry_key(path, dirs)
    entry = folder / (key + SUFFIX)
    hit = _read(entry, key)
    if hit is not None:
        return hit
    seen = Resolution()
    checked = load(seen)
    _write(entry, key, seen, checked)
    return checked


def entry_key(path: Path, dirs: Sequence[Path]) -> str:
    """An entry's name: the policy file and the search path. (The engine is checked from the
    header, not named here, so a new version overwrites its entries instead of adding more.)"""
    parts = [str(FORMAT), __version__, str(Path(path).resolve())]
    parts += [str(Path(d).resolve()) for d in dirs]
    return hashlib.sha256("\0".join(parts).encode("utf-8", "surrogateescape")).hexdigest()[:32]


# --- reading and writing entries ------------------------------------------------------------

def _read(entry: Path, key: str):
    data = cachedir.read_entry(entry)
    if data is None:            # missing, a folder, a pipe, unreadable: a miss
        return None
    try:
        head, _, body = data.partition(b"\n")
        header = json.loads(head)
        if (header.get("format") != FORMAT or header.get("key") != key
                or header.get("engine") != engine_stamp()):
            return None
        if hashlib.sha256(body).hexdigest() != header["body_sha256"]:
            return None
        if not _unchanged(header["read"], header["absent"]):
            return None
        classes = _classes_of(header["classes"])
        if classes is None:
            return None
        return _Decoder(classes).decode(json.loads(body))
    except Exception:  # noqa: BLE001 - any damage to an entry is only a cache miss
        return None


def _unchanged(read, absent) -> bool:
    for file, digest in read:
        try:
            # the guarded read: a policy file swapped for a pipe since is a miss, not a hang
            if hashlib.sha256(read_input(file, limit=POLICY)).hexdigest() != digest:
                return False
        except (RegimeError, OSError):
            return False
    return not any(is_file(Path(p)) for p in absent)


def _write(entry: Path, key: str, seen: Resolution, checked) -> None:
    try:
        encoder = _Encoder({display_name(Path(p)): p for p, _ in seen.read})
        body = json.dumps(encoder.encode(checked), separators=(",", ":"),
                          ensure_ascii=False).encode("utf-8", "surrogatepass")
    except (TypeError, ValueError, RecursionError):
        return          # something plain JSON cannot hold: this policy is simply not cached
    header = {"format": FORMAT, "key": key, "engine": engine_stamp(),
              "body_sha256": hashlib.sha256(body).hexdigest(),
              "read": [list(r) for r in seen.read], "absent": list(seen.absent),
              "classes": encoder.class_table()}
    data = json.dumps(header, separators=(",", ":")).encode("utf-8", "surrogatepass") \
        + b"\n" + body
    try:
        cachedir.write_entry(entry, data)
    except OSError as e:
        cachedir.disable(f"cannot write {entry.parent}: {e.strerror or e}")


# --- plain-data encoding of the checked policy ----------------------------------------------
# Every JSON array is tagged by its first element: T tuple, L list, D dict (keys and values
# alternating, so int keys stay ints), F frozenset, C dataclass (class number, then its fields
# in order), R an object seen before (by its number: shared objects such as a file's Source
# are stored once), P a file name stored absolute. Strings, numbers, booleans and null are
# themselves.

@lru_cache(maxsize=1)
def allowed_classes() -> dict[str, type]:
    """The only classes an entry may name: the frozen dataclasses of the modules a checked
    policy is made of."""

    out = {}
    for module in (diagnostics, ast, types, scope, checker, model):
        for name, cls in vars(module).items():
            if (isinstance(cls, type) and dataclasses.is_dataclass(cls)
                    and cls.__module__ == module.__name__
                    and cls.__dataclass_params__.frozen):
                out[f"{module.__name__}:{cls.__qualname__}"] = cls
    return out


def _init_fields(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(cls) if f.init)


def _classes_of(table) -> list[tuple[type, tuple[str, ...]]] | None:
    allowed = allowed_classes()
    out = []
    for name, fields in table:
        cls = allowed.get(name)
        if cls is None or _init_fields(cls) != tuple(fields):
            return None
        out.append((cls, tuple(fields)))
    return out


class _Encoder:
    def __init__(self, shown_paths: dict[str, str]):
        self.shown_paths = shown_paths
        self.classes: dict[type, int] = {}
        self.seen: dict[int, int] = {}
        self.equal: dict[tuple, int] = {}
        self.keep: list = []             # keeps ids in `seen` from being reused

    def class_table(self) -> list:
        return [[f"{cls.__module__}:{cls.__qualname__}", list(_init_fields(cls))]
                for cls in self.classes]

    def encode(self, obj):
        t = type(obj)
        if obj is None or t is str or t is int or t is bool or t is float:
            return obj
        if t is tuple:
            return ["T", *map(self.encode, obj)]
        if t is list:
            return ["L", *map(self.encode, obj)]
        if t is dict:
            out = ["D"]
            for k, v in obj.items():
                out += [self.encode(k), self.encode(v)]
            return out
        if t is frozenset:
            return ["F", *map(self.encode, obj)]
        if dataclasses.is_dataclass(obj) and allowed_classes().get(
                f"{t.__module__}:{t.__qualname__}") is t:
            number = self.seen.get(id(obj))
            if number is not None:
                return ["R", number]
            names = _init_fields(t)
            values = [getattr(obj, name) for name in names]
            # Equal small values (types, positions, name references) are stored once too.
            flat = all(v is None or type(v) in (str, int, bool, float) for v in values)
            if flat:
                vkey = (t, tuple((type(v), v) for v in values))
                number = self.equal.get(vkey)
                if number is not None:
                    return ["R", number]
                self.equal[vkey] = len(self.keep)
            self.seen[id(obj)] = len(self.keep)
            self.keep.append(obj)
            ci = self.classes.setdefault(t, len(self.classes))
            out = ["C", ci]
            for name, value in zip(names, values):
                if (t.__qualname__, name) in _PATH_FIELDS:
                    out.append(self._path(value))
                else:
                    out.append(self.encode(value))
            return out
        raise TypeError(f"cannot store a {t.__qualname__} in the policy cache")

    def _path(self, value):
        if type(value) is str and value in self.shown_paths:
            return ["P", self.shown_paths[value]]
        if type(value) is tuple:
            return ["T", *map(self._path, value)]
        return self.encode(value)


class _Decoder:
    """Rebuilds the objects. Instances are filled field by field (as copy and pickle do for
    dataclasses without __slots__), not through __init__: a warm run decodes thousands, and
    this is its share of start-up time."""

    def __init__(self, classes):
        self.classes = [(cls, names, len(names) + 2, hasattr(cls, "__slots__"))
                        for cls, names in classes]
        self.objects: list = []

    def decode(self, x):
        if type(x) is not list:
            return x
        tag = x[0]
        dec = self.decode
        if tag == "C":
            cls, names, size, slots = self.classes[x[1]]
            if len(x) != size:
                raise ValueError("wrong number of fields")
            objects = self.objects
            slot = len(objects)
            objects.append(None)
            values = [dec(v) if type(v) is list else v for v in x[2:]]
            if slots:
                obj = cls(**dict(zip(names, values)))
            else:
                obj = _new(cls)
                obj.__dict__.update(zip(names, values))
            objects[slot] = obj
            return obj
        if tag == "R":
            obj = self.objects[x[1]]
            if obj is None:
                raise ValueError("a reference to an unfinished object")
            return obj
        if tag == "T":
            return tuple([dec(v) if type(v) is list else v for v in x[1:]])
        if tag == "L":
            return [dec(v) if type(v) is list else v for v in x[1:]]
        if tag == "D":
            it = iter(x[1:])
            return {(dec(k) if type(k) is list else k): (dec(v) if type(v) is list else v)
                    for k, v in zip(it, it)}
        if tag == "F":
            return frozenset([dec(v) if type(v) is list else v for v in x[1:]])
        if tag == "P":          # a file name: shown relative to this run's working folder
            return display_name(Path(x[1]))
        raise ValueError(f"unknown tag {tag!r}")


_new = object.__new__
