"""Binding: turn a Panel into the arrays a checked policy reads, in the policy's own periods.

`bind(checked, panel)` gives, for every input the policy's rules read, a float64 array
[periods, entities] (C-contiguous), over all the panel's entities in its order. Where the
panel's array already is what the policy reads (same periods, float64, C-contiguous, no
conversion), it is the panel's own array, not a copy: nothing writes into an input array, and
at millions of cells a copy per input per evaluation costs more than the evaluation.

Conversion rules:

- **Ratings** become the position of the label in the policy's scale (0 = best), as a float.
  A label the scale lacks is an error naming the metric, the label, the scale's labels and the
  place in the data file where the label was first read. A rating stands until the next one:
  each entity's last rating is carried forward over later periods without one (a CQC rating
  stands until the trust is re-rated), before any conversion of periods.
- **Flags** are 1.0 (true), 0.0 (false) or NaN (missing); any other value is an error.
- **Periods.** When the data's periods are finer than the policy's (months -> quarters ->
  financial years), each input is aggregated over the months (or quarters) of each of the
  policy's periods. The method is the input's `aggregate:` in the policy; else the metric's
  entry in the catalogue (snapshots, year-to-date and annual figures, which must not be
  summed: see `catalogue.py`); else by type:
    - percent, number: the mean of the non-missing values (missing if all are missing);
    - count, money: the sum (missing if any month is missing, so a gap never looks like a
      smaller total);
    - flag: Kleene `any`: 1 if any value is 1, else missing if any is missing, else 0;
    - rating: the last non-missing value.
  The `aggregate:` methods are `mean`, `sum` (as above), `min`, `max` (of the non-missing
  values), `last` (the last non-missing value), `any` and `all` (Kleene: `all` is 0 if any
  value is 0, else missing if any is missing, else 1; a value counts as true when non-zero).
  Months of a policy period that fall outside the panel count as missing, so the first and
  last periods may be partial.
- Data coarser than the policy (quarterly data for a monthly policy) is an error: a quarter's
  figure cannot be split into months.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Collection, Sequence

import numpy as np

from .. import codes
from ..diagnostics import DataError, Diagnostic, did_you_mean, warn_data
from ..periods import Period, convert, format_period
from .catalogue import METRICS
from .units import percent_values, unit_warning
from .panel import Entities, Panel, normalise_label

if TYPE_CHECKING:
    from ..check.checker import CheckedPolicy
    from ..policy.model import Input, Policy

_RANK = {"month": 0, "quarter": 1, "year": 2}
_PLURAL = {"month": "months", "quarter": "quarters", "year": "financial years"}
TYPE_DEFAULT_AGGREGATE = {"percent": "mean", "number": "mean", "count": "sum", "money": "sum",
                          "flag": "any", "rating": "last"}
AGGREGATES = ("mean", "sum", "min", "max", "last", "any", "all")


@dataclass(frozen=True)
class Bound:
    """A policy's inputs as arrays [periods, entities] in the policy's period kind."""

    period_kind: str
    start: int
    n_periods: int
    entities: Entities
    inputs: dict[str, np.ndarray]
    panel: Panel = field(repr=False, compare=False)     # what the inputs were bound from
    sources: tuple[str, ...] = ()

    @property
    def data_digest(self) -> str:
        """The panel's content hash, found when first read (provenance asks): hashing every
        value costs more than evaluating a small policy, and a sweep never asks."""
        return self.panel.digest()

    @property
    def period_labels(self) -> list[str]:
        """The periods as written: 2023-04, 2023-Q2, 2023/24."""
        return [format_period(self.period_kind, o)
                for o in range(self.start, self.start + self.n_periods)]

    def head(self, n: int) -> "Bound":
        """The first `n` periods (views of the same arrays, still C-contiguous)."""
        return replace(self, n_periods=n, inputs={k: v[:n] for k, v in self.inputs.items()})


def bind(checked: "CheckedPolicy", panel: Panel, *, memo: dict | None = None) -> Bound:
    """The inputs a checked policy reads, converted to its scales and periods; DataError if not.

    `memo`, a dict kept by the caller across calls on the same panel, holds each converted
    input with the definition it was converted by (the input and its rating scale), so the
    variants of a policy that a diff evaluates convert each input once. The arrays are then
    shared between the Bounds: nothing writes into an input array."""
    policy = checked.policy
    kind = policy.period or panel.period_kind
    data_name = describe_sources(panel.sources)
    if _RANK[kind] < _RANK[panel.period_kind]:
        raise DataError(Diagnostic(
            f"policy '{policy.id}' works on {_PLURAL[kind]}, but the data ({data_name}) has "
            f"{_PLURAL[panel.period_kind]}: a figure for a longer period cannot be split into "
            f"shorter ones", file=policy.origin.file, code=codes.PERIOD_KIND))
    diags = missing_inputs(policy, checked.used_inputs, panel.values, data_name)
    inputs: dict[str, np.ndarray] = {}
    warnings = []
    start, n = coarse_range(panel.period_kind, panel.start, panel.n_periods, kind)
    for name in checked.used_inputs:
        if name not in panel.values:
            continue
        inp = policy.inputs[name]
        definition = (inp, policy.scales.get(inp.scale) if inp.type == "rating" else None,
                      data_name)
        seen = memo.setdefault((name, kind), []) if memo is not None else []
        hit = next((found for d, *found in seen if d == definition), None)
        if hit is not None:
            inputs[name], warning = hit
        else:
            arr = _convert(policy, inp, panel, diags)
            if arr is None:
                continue
            if kind != panel.period_kind:
                _, _, arr = aggregate(arr, panel.period_kind, panel.start, kind,
                                      aggregate_method(inp))
            inputs[name] = np.ascontiguousarray(arr, dtype=np.float64)     # a view if it is
            warning = _unit_warning(panel, inp, name, inputs[name], data_name, kind)
            seen.append((definition, inputs[name], warning))
        if warning is not None:
            warnings.append(warning)
    if diags:
        raise DataError(diags)
    for warning in warnings:
        warn_data(warning)          # every evaluation says so (the command line prints it)
    return Bound(kind, start, n, panel.entities, inputs, panel, tuple(panel.sources))


def _unit_warning(panel: Panel, inp: "Input", name: str, arr: np.ndarray,
                  data_name: str, kind: str) -> Diagnostic | None:
    """units.unit_warning (values 100x off?), kept with the panel for what decides it (the
    input's type, scale, expect: and the periods and aggregate it was bound by) and where
    the warning points (the input's place in the policy)."""
    where = (inp.origin.file, inp.pos.line, inp.pos.col) if inp.pos is not None else None
    key = ("unit warning", name, inp.type, inp.scale, inp.expect, kind,
           aggregate_method(inp) if kind != panel.period_kind else None, where, data_name)
    return panel.known(key, lambda: unit_warning(inp, name, arr, data_name))


def aggregate_method(inp: "Input") -> str:
    """How an input is aggregated to longer periods: the policy's, the catalogue's, the type's."""
    if inp.aggregate:
        return inp.aggregate
    metric = METRICS.get(inp.name)
    if metric is not None and metric.aggregate and metric.type == inp.type:
        return metric.aggregate
    return TYPE_DEFAULT_AGGREGATE[inp.type]


def missing_inputs(policy: "Policy", needed: Sequence[str], metrics: Collection[str],
                   data_name: str) -> list[Diagnostic]:
    """One diagnostic per input the policy reads that the data lacks, at the input's line."""
    missing = [name for name in needed if name not in metrics]
    # Suggest only metrics the policy does not read (those are the likely misspellings), and
    # each one for the missing input it resembles most, so a short list of data metrics is
    # not offered for every missing input.
    spare = sorted(set(metrics) - set(needed))
    best: dict[str, tuple[float, str]] = {}
    by_lower = {m.lower(): m for m in spare}
    for name in missing:
        close = [by_lower[name.lower()]] if name.lower() in by_lower else \
            difflib.get_close_matches(name, spare, n=1, cutoff=0.6)
        if close:
            score = difflib.SequenceMatcher(None, name.lower(), close[0].lower()).ratio()
            if close[0] not in best or score > best[close[0]][0]:
                best[close[0]] = (score, name)
    suggestion = {name: metric for metric, (_, name) in best.items()}
    out = []
    for name in missing:
        inp = policy.inputs[name]
        hint = f"; did you mean '{suggestion[name]}'?" if name in suggestion else ""
        out.append(Diagnostic(
            f"input '{name}' is not in the data ({data_name}){hint}",
            file=inp.origin.file, pos=inp.pos, code=codes.MISSING_INPUT,
            source_line=inp.origin.line(inp.pos.line)))
    return out


def describe_sources(sources: Sequence[str]) -> str:
    """The data's files in a few words, for messages."""
    if not sources:
        return "the data given"
    if len(sources) <= 2:
        return ", ".join(sources)
    return f"{sources[0]} and {len(sources) - 1} more files"


def _convert(policy: "Policy", inp: "Input", panel: Panel,
             diags: list[Diagnostic]) -> np.ndarray | None:
    name = inp.name
    arr = panel.values[name]
    labels = panel.labels.get(name)

    def where() -> dict:            # the input's place in the policy, for a diagnostic
        return dict(file=inp.origin.file, pos=inp.pos,
                    source_line=inp.origin.line(inp.pos.line))

    if inp.type == "rating":
        if labels is None:
            diags.append(Diagnostic(f"input '{name}' is a rating, but the data holds numbers "
                                    f"for it, not labels", code=codes.INPUT_TYPE, **where()))
            return None
        scale_labels = policy.scales[inp.scale].labels if inp.scale in policy.scales else ()
        scale, mapping, same = _scale_mapping(tuple(labels), tuple(scale_labels))
        if (mapping[:-1] < 0).any():
            # some label the scale lacks: an error if it occurs. The labels that occur, by
            # counting (a sort of every cell would cost more)
            label_codes = np.where(np.isnan(arr), len(labels), arr).astype(np.intp)
            present = np.flatnonzero(np.bincount(label_codes.reshape(-1),
                                                 minlength=len(labels) + 1)[:len(labels)])
            bad = [labels[c] for c in present if mapping[c] < 0]
            for label in bad:
                site = panel.label_sites.get(name, {}).get(label)
                diags.append(Diagnostic(
                    f"rating label '{label}' of metric '{name}' is not in scale '{inp.scale}' "
                    f"({', '.join(scale)}){did_you_mean(label, scale)}",
                    file=site[0] if site else None, pos=site[1] if site else None,
                    code=codes.UNKNOWN_LABEL))
            if bad:
                return None
        if same:
            out = arr           # the data's codes are the scale's positions: no conversion
        else:
            # every label present is in the scale (no -1 is read)
            out = mapping[np.where(np.isnan(arr), len(labels), arr).astype(np.intp)]
        # the mapping keeps missing values where they are: a gap in `arr` is one in `out`
        gaps = panel.known(("gap after the first period", name),
                           lambda: bool(arr.shape[0] and np.isnan(arr[1:]).any()))
        return carry_forward(out, copy=False) if gaps else out
    if labels is not None:
        diags.append(Diagnostic(f"input '{name}' is a {inp.type}, but the data holds rating "
                                f"labels for it ({', '.join(labels)})", code=codes.INPUT_TYPE,
                                **where()))
        return None
    if inp.type == "flag" and not panel.known(("flag values", name), lambda: _flag_values(arr)):
        bad = ~np.isnan(arr) & (arr != 0.0) & (arr != 1.0)
        p, e = (int(i[0]) for i in np.nonzero(bad))
        diags.append(Diagnostic(
            f"input '{name}' is a flag, but the data holds {arr[p, e]:g} for entity "
            f"'{panel.entities.ids[e]}' in {panel.period_labels[p]} (flags are 1 or 0)",
            code=codes.INPUT_TYPE, **where()))
        return None
    return percent_values(inp, arr)             # fractions (scale: fraction) to percent


_mappings: dict[tuple, tuple[list[str], np.ndarray, bool]] = {}


def _scale_mapping(labels: tuple[str, ...],
                   scale_labels: tuple[str, ...]) -> tuple[list[str], np.ndarray, bool]:
    """(the scale's labels normalised, float64 [len(labels) + 1]: each data label's position
    in the scale or -1, and NaN last, for a missing value; whether every label's code is its
    position already), kept per pair of label lists."""
    key = (labels, scale_labels)
    hit = _mappings.get(key)
    if hit is None:
        scale = [normalise_label(x) for x in scale_labels]
        mapping = np.array([scale.index(x) if x in scale else -1 for x in labels] + [np.nan],
                           dtype=np.float64)
        mapping.setflags(write=False)
        if len(_mappings) > 256:
            _mappings.clear()
        same = bool(np.array_equal(mapping[:-1], np.arange(len(labels))))
        hit = _mappings[key] = (scale, mapping, same)
    return hit


def _flag_values(arr: np.ndarray) -> bool:
    """Whether every known value is 0 or 1: the range by two reductions (fmin/fmax skip NaN),
    then nothing strictly between, without a temporary array of floats."""
    if arr.size == 0:
        return True
    lo, hi = np.fmin.reduce(arr, axis=None), np.fmax.reduce(arr, axis=None)
    if lo != lo:                    # every value missing
        return True
    if lo < 0.0 or hi > 1.0:
        return False
    if lo == hi:
        return lo == 0.0 or lo == 1.0
    return not ((arr > 0.0) & (arr < 1.0)).any()


def carry_forward(arr: np.ndarray, *, copy: bool = True) -> np.ndarray:
    """Each column's last non-missing value carried forward over later missing periods.
    Without a gap after the first period nothing is carried: the result is `arr` itself
    when `copy` is false, else a copy."""
    if arr.shape[0] == 0 or not np.isnan(arr[1:]).any():
        return arr.copy() if copy else arr
    rows = np.arange(arr.shape[0])[:, None]
    idx = np.where(np.isnan(arr), 0, rows)
    np.maximum.accumulate(idx, axis=0, out=idx)
    out = np.take_along_axis(arr, idx, axis=0)
    # Row 0 stands in for "no value yet"; where row 0 itself is missing the result stays NaN.
    return out


def coarse_range(fine: str, start: int, n: int, coarse: str) -> tuple[int, int]:
    """(start, n_periods) in the coarser kind covering `n` fine periods from `start`."""
    if fine == coarse:
        return start, n
    first = convert(Period(fine, start), coarse).ordinal
    last = convert(Period(fine, start + max(n, 1) - 1), coarse).ordinal
    return first, (last - first + 1) if n else 0


# Period arithmetic on ordinals (see periods.py): a quarter is 3 months from month 0 (Jan);
# a financial year starts in month 3 (April) and in calendar quarter 1 (Apr-Jun).
_STEP = {("month", "quarter"): (3, 0), ("month", "year"): (12, 3), ("quarter", "year"): (4, 1)}


def aggregate(arr: np.ndarray, fine: str, start: int, coarse: str,
              how: str) -> tuple[int, int, np.ndarray]:
    """Aggregate [fine periods, entities] to the coarser kind: (start, n_periods, values)."""
    n_fine, n_ent = arr.shape
    if fine == coarse:
        return start, n_fine, arr.copy()
    if how not in AGGREGATES:
        raise ValueError(f"unknown aggregate {how!r}")
    k, offset = _STEP[(fine, coarse)]
    ords = np.arange(start, start + n_fine)
    coarse_ords = (ords - offset) // k
    slot = ords - (coarse_ords * k + offset)
    c0, n_coarse = coarse_range(fine, start, n_fine, coarse)
    padded = np.full((n_coarse, k, n_ent), np.nan)
    padded[coarse_ords - c0, slot] = arr
    return c0, n_coarse, _reduce(padded, how)


def _reduce(x: np.ndarray, how: str) -> np.ndarray:
    """Reduce axis 1 of [periods, slots, entities] by one of AGGREGATES."""
    missing = np.isnan(x)
    if how == "mean":
        count = (~missing).sum(axis=1)
        total = np.where(missing, 0.0, x).sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(count > 0, total / count, np.nan)
    if how == "sum":
        return x.sum(axis=1)            # NaN if any slot is missing
    if how == "min":
        return np.fmin.reduce(x, axis=1)
    if how == "max":
        return np.fmax.reduce(x, axis=1)
    if how == "last":
        present = ~missing
        k = x.shape[1]
        last = k - 1 - np.argmax(present[:, ::-1, :], axis=1)
        out = np.take_along_axis(x, last[:, None, :], axis=1)[:, 0, :]
        return np.where(present.any(axis=1), out, np.nan)
    true = ~missing & (x != 0)
    false = ~missing & (x == 0)
    any_missing = missing.any(axis=1)
    if how == "any":
        return np.where(true.any(axis=1), 1.0, np.where(any_missing, np.nan, 0.0))
    if how == "all":
        return np.where(false.any(axis=1), 0.0, np.where(any_missing, np.nan, 1.0))
    raise ValueError(f"unknown aggregate {how!r}")
