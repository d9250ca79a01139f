"""Provenance: the one record of what produced an output, written into every output format.

An analyst holding a results file must be able to say exactly what made it: which policy
(id, version, content hash, git revision), which data (digest and files), which engine, which
`--param` overrides and decisions files, and which periods. Every writer (table, CSV's
sidecar, JSON, Markdown, Parquet metadata, the xlsx provenance sheet, charts, explain, the
HTML report) takes this record and renders it; none assembles its own.

The record lives beside `diagnostics` and `periods` because the engine builds it (when it
assembles Outcomes) and the report and analysis layers read it.

JSON form (`Provenance.to_json()`, schema `provenance.schema.json` in rulesengine/report/schemas):

    {"schema": "regime.provenance/1",
     "policy":    {"id", "version", "hash" (sha256 of every file read), "files", "revision"},
     "data":      {"digest" (sha256 of the panel's content), "sources"},
     "engine":    {"version" (regime's), "numba" (version, for the fused engine),
                   "backend" (the engine that ran: "vectorised" | "fused" | "reference")},
     "params":    {NAME: VALUE, ...}             # --param overrides only; {} when none
     "decisions": [{"file", "digest"}, ...]      # sha256 of each decisions file's bytes
     "periods":   {"kind", "labels": [...]}}     # the periods this output reports

No timestamp or host name: the same inputs give byte-identical outputs, so two results files
can be compared with `cmp`.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Mapping, Sequence

from .files import open_input
from .quantities import exact_text
from .version import __version__

SCHEMA = "regime.provenance/1"


@dataclass(frozen=True)
class DecisionsFile:
    """A decisions file that overrode computed levels, by name and content digest."""

    file: str
    digest: str

    @classmethod
    def of(cls, path: str | os.PathLike) -> "DecisionsFile":
        """Name and sha256 of a decisions file (already read and validated by the loader)."""
        h = hashlib.sha256()
        # streamed: the loader has accepted the file, but its digest needs no copy of it

        with open_input(path) as f:         # the one guarded open (files.py)
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        return cls(_shown(path), h.hexdigest())


@dataclass(frozen=True)
class Provenance:
    """What produced an output; `to_json()` is the documented form, `line()` the short one."""

    policy_id: str
    policy_version: str
    policy_hash: str
    policy_files: tuple[str, ...]
    data_digest: str
    data_sources: tuple[str, ...]
    engine_version: str
    backend: str                    # the engine that ran: "vectorised" | "fused" | "reference"
    revision: str | None = None     # a git revision, when the policy was read from one
    numba_version: str | None = None
    params: tuple[tuple[str, float], ...] = ()      # --param overrides, sorted by name
    decisions: tuple[DecisionsFile, ...] = ()
    period_kind: str | None = None
    periods: tuple[str, ...] = ()   # the periods reported (all evaluated, until narrowed)

    def for_periods(self, labels: Sequence[str]) -> "Provenance":
        """The record for an output that reports only these periods."""
        return replace(self, periods=tuple(labels))

    def to_json(self) -> dict:
        return {
            "schema": SCHEMA,
            "policy": {"id": self.policy_id, "version": self.policy_version,
                       "hash": self.policy_hash, "files": list(self.policy_files),
                       "revision": self.revision},
            "data": {"digest": self.data_digest, "sources": list(self.data_sources)},
            "engine": {"version": self.engine_version, "backend": self.backend,
                       "numba": self.numba_version},
            "params": {k: v for k, v in self.params},
            "decisions": [{"file": d.file, "digest": d.digest} for d in self.decisions],
            "periods": {"kind": self.period_kind, "labels": list(self.periods)},
        }

    def line(self) -> str:
        """One line for the foot of a table (raw text: the writer escapes it for its format)."""
        rev = f"@{self.revision}" if self.revision else ""
        parts = [f"policy {self.policy_id}{rev} v{self.policy_version} "
                 f"sha256:{self.policy_hash[:12]}", f"data sha256:{self.data_digest[:12]}"]
        if self.params:
            parts.append("params " + ", ".join(f"{k}={exact_text(v)}" for k, v in self.params))
        parts += [f"decisions {d.file} sha256:{d.digest[:12]}" for d in self.decisions]
        parts.append(f"regime {self.engine_version} ({self.backend})")
        return " · ".join(parts)

    def items(self) -> list[tuple[str, str]]:
        """(field, value) pairs, flat, for a two-column sheet or table."""
        j = self.to_json()
        out = [("schema", SCHEMA)]
        for section in ("policy", "data", "engine"):
            for k, v in j[section].items():
                if isinstance(v, list):
                    v = "; ".join(v)
                out.append((f"{section}.{k}", "" if v is None else str(v)))
        out += [(f"params.{k}", exact_text(v)) for k, v in self.params]
        for i, d in enumerate(self.decisions):
            out += [(f"decisions.{i}.file", d.file), (f"decisions.{i}.digest", d.digest)]
        out += [("periods.kind", self.period_kind or ""), ("periods.labels",
                                                           "; ".join(self.periods))]
        return out


def build(checked, bound, backend: str, *, revision: str | None = None,
          params: Mapping[str, float] | None = None,
          decisions: str | os.PathLike | Sequence[str | os.PathLike] | None = None
          ) -> Provenance:
    """The provenance of evaluating `checked` over `bound` data with `backend`."""

    p = checked.policy
    numba_version = None
    if backend in ("numba", "fused"):      # the compiled kernel ("numba" is its old name)
        import numba

        numba_version = numba.__version__
    if decisions is None:
        files: Sequence = ()
    elif isinstance(decisions, (str, os.PathLike)):
        files = (decisions,)
    else:
        files = tuple(decisions)
    return Provenance(
        policy_id=p.id, policy_version=str(p.version), policy_hash=p.content_hash,
        policy_files=tuple(p.files), data_digest=bound.data_digest,
        data_sources=tuple(bound.sources), engine_version=__version__, backend=backend,
        revision=revision, numba_version=numba_version,
        params=tuple(sorted((str(k), float(v)) for k, v in (params or {}).items())),
        decisions=tuple(DecisionsFile.of(f) for f in files),
        period_kind=bound.period_kind, periods=tuple(bound.period_labels))


def _shown(path: str | os.PathLike) -> str:
    """A file as the user named it, relative to the working folder when inside it."""
    p = Path(path)
    try:
        return str(p.resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, OSError):
        return str(p)


@dataclass(frozen=True)
class ProvenancePair:
    """The provenance of an output that compares two runs (`regime diff`): A's and B's
    records, in the same forms as one record (JSON {"a": ..., "b": ...}, flat items
    prefixed `a.` / `b.`)."""

    a: Provenance
    b: Provenance

    def to_json(self) -> dict:
        return {"a": self.a.to_json(), "b": self.b.to_json()}

    def line(self) -> str:
        return f"A: {self.a.line()} | B: {self.b.line()}"

    def items(self) -> list[tuple[str, str]]:
        return [(f"a.{k}", v) for k, v in self.a.items()] + \
            [(f"b.{k}", v) for k, v in self.b.items()]
