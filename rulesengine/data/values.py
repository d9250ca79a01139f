"""Values: the words data files write for missing, true/false and not rated; a metric's type
(the policy's input type, else the catalogue's, else inferred from its values); and the
conversion of a table's cells to float64, ratings as codes into their labels.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

import numpy as np

from ..diagnostics import Pos, did_you_mean
from ..quantities import exact_text, parse_decimal
from .catalogue import METRICS
from .panel import normalise_label

if TYPE_CHECKING:
    from .read import _Column, _Errors, _Table

MISSING_WORDS = frozenset({"", "na", "n/a", "nan", "null", "none", "-"})
NOT_RATED = frozenset({"not_rated", "not_yet_rated", "unrated"})
TRUE_WORDS = frozenset({"true", "yes", "1", "1.0"})
FALSE_WORDS = frozenset({"false", "no", "0", "0.0"})
NUMERIC_TYPES = ("percent", "number", "money", "count")

_TYPE_WORDS = {"percent": "a percent", "number": "a number", "money": "an amount of money",
               "count": "a count", "flag": "a flag", "rating": "a rating"}
_WRITE = {"percent": "numbers", "number": "numbers", "money": "numbers", "count": "numbers",
          "flag": "true/false, yes/no or 1/0", "rating": "its labels (e.g. 'good')"}


@dataclass
class _Cells:
    """Values of one metric from one table, after bad entities and periods were dropped."""

    metric: str
    table: _Table
    values: _Column
    ent: np.ndarray
    ordinal: np.ndarray
    lines: np.ndarray
    ent_col: int
    deduplicated: bool            # rows already unique per (entity, period) within the table


class _Values:
    """Types and converts the metrics of a policy (`model`, or None), reporting bad values
    to `errors`."""

    def __init__(self, model, errors: "_Errors") -> None:
        self.model = model
        self.errors = errors

    def input_of(self, metric: str):
        return self.model.inputs.get(metric) if self.model is not None else None

    def metric_type(self, metric: str, group: list[_Cells]) -> str:
        inp = self.input_of(metric)
        if inp is not None:
            return inp.type
        if metric in METRICS:
            return METRICS[metric].type
        n_num = n_bool = n_word = 0
        for c in group:
            col = c.values
            if col.numbers is not None:
                n = int((~np.isnan(col.numbers)).sum())
                if col.arrow == "bool":
                    n_bool += n
                else:
                    n_num += n
                continue
            counts = np.bincount(col.codes[col.codes >= 0], minlength=len(col.uniques))
            for k, s in enumerate(col.uniques):
                if not counts[k] or s is None or s.strip().lower() in MISSING_WORDS:
                    continue
                if _number(s) is not None:
                    n_num += int(counts[k])
                elif s.strip().lower() in TRUE_WORDS | FALSE_WORDS:
                    n_bool += int(counts[k])
                else:
                    n_word += int(counts[k])
        if n_word == 0:
            return "flag" if n_bool else "number"
        return "rating" if n_word >= n_num + n_bool else "number"

    def scale(self, metric: str, mtype: str) -> tuple[str, ...]:
        if mtype != "rating":
            return ()
        inp = self.input_of(metric)
        if inp is not None and inp.scale and inp.scale in self.model.scales:
            return tuple(normalise_label(x) for x in self.model.scales[inp.scale].labels)
        if metric in METRICS:
            return METRICS[metric].scale
        return ()

    def convert(self, metric: str, mtype: str, c: _Cells, label_list: list[str],
                 sites: dict[str, tuple[str, Pos]]) -> np.ndarray:
        col, t = c.values, c.table
        colname = col.name
        inp = self.input_of(metric)
        check_percent = (inp is not None and mtype == "percent"
                         and not (metric in METRICS and METRICS[metric].signed))
        if col.arrow is not None and not (col.arrow == "bool" and mtype == "flag"):
            # A Parquet column of booleans, dates, times or durations: not this metric's type.
            present = ~np.isnan(col.numbers) if col.numbers is not None else col.codes >= 0
            first = np.flatnonzero(present)
            if first.size:
                self.errors.add(f"column '{colname}' has type {col.arrow}, but '{metric}' is "
                                f"{_TYPE_WORDS[mtype]}: write {_WRITE[mtype]}", t.file,
                                int(c.lines[first[0]]), col.col)
            return np.full(present.shape, np.nan)
        if col.from_text and mtype in ("rating", "flag"):
            # Read as numbers for compactness; a rating's or flag's words are judged as text.
            col = col.as_strings()
        if col.numbers is not None:
            vals = col.numbers.copy()
            if mtype == "rating":
                first = np.flatnonzero(~np.isnan(vals))
                if first.size:
                    self.errors.add(f"column '{colname}' holds numbers, but '{metric}' is a "
                                    f"rating: write its labels (e.g. 'good')", t.file,
                                    int(c.lines[first[0]]), col.col)
                return np.full(vals.shape, np.nan)
            bad = ~np.isfinite(vals) & ~np.isnan(vals)
            if mtype == "flag":
                bad |= ~np.isnan(vals) & (vals != 0.0) & (vals != 1.0)
            for i in np.flatnonzero(bad):
                self._bad_value(_fmt(vals[i]), colname, mtype, t.file, int(c.lines[i]), col.col)
            vals[bad] = np.nan
            if check_percent:
                self._percent_range(metric, vals, lambda i: _fmt(vals[i]), c, colname)
            return vals
        uniq_vals = np.full(len(col.uniques) + 1, np.nan)     # last slot: null
        bad_codes: list[int] = []
        if mtype == "rating":
            first_rows = col.first_rows()
            for k, raw in enumerate(col.uniques):
                if first_rows[k] < 0 or raw is None:
                    continue
                word = normalise_label(raw)
                if raw.strip().lower() in MISSING_WORDS or word in NOT_RATED:
                    continue
                if not word:
                    bad_codes.append(k)
                    continue
                if word not in label_list:
                    label_list.append(word)
                uniq_vals[k] = label_list.index(word)
                line = int(c.lines[first_rows[k]])
                old = sites.get(word)
                if old is None or (old[0] == t.file and old[1].line > line):
                    sites[word] = (t.file, Pos(line, col.col))
            self._check_labels(metric, label_list, sites, colname, col, c, uniq_vals)
        else:
            for k, raw in enumerate(col.uniques):
                if raw is None or raw.strip().lower() in MISSING_WORDS:
                    continue
                v = _parse_value(raw, mtype)
                if v is None:
                    bad_codes.append(k)
                else:
                    uniq_vals[k] = v
        if bad_codes:
            for i in np.flatnonzero(np.isin(col.codes, bad_codes)):
                self._bad_value(col.uniques[col.codes[i]], colname, mtype, t.file,
                                int(c.lines[i]), col.col)
        vals = uniq_vals[col.codes]
        if check_percent:
            self._percent_range(metric, vals, lambda i: col.uniques[col.codes[i]], c, colname)
        return vals

    def _check_labels(self, metric, label_list, sites, colname, col, c, uniq_vals) -> None:
        inp = self.input_of(metric)
        if inp is None or inp.type != "rating" or not inp.scale \
                or inp.scale not in self.model.scales:
            return
        scale = [normalise_label(x) for x in self.model.scales[inp.scale].labels]
        first_rows = col.first_rows()
        for k, raw in enumerate(col.uniques):
            if np.isnan(uniq_vals[k]):
                continue
            word = label_list[int(uniq_vals[k])]
            if word not in scale:
                self.errors.add(f"'{_clip(raw)}' in column '{colname}' is not a label of scale "
                                f"'{inp.scale}' ({', '.join(scale)})"
                                f"{did_you_mean(word, scale)}", c.table.file,
                                int(c.lines[first_rows[k]]), col.col)

    def _bad_value(self, raw: str, colname: str, mtype: str, file: str, line: int,
                   col: int) -> None:
        if mtype == "flag":
            msg = (f"'{_clip(raw)}' in column '{colname}' is not a flag (write true/false, "
                   f"yes/no or 1/0)")
        elif mtype == "rating":
            msg = f"'{_clip(raw)}' in column '{colname}' is not a rating label"
        else:
            msg = f"'{_clip(raw)}' in column '{colname}' is not a number"
        self.errors.add(msg, file, line, col)

    def _percent_range(self, metric: str, vals: np.ndarray, raw: Callable[[int], str],
                       c: _Cells, colname: str) -> None:
        inp = self.input_of(metric)
        top, what = (1, "a percent written as a fraction (scale: fraction)") \
            if inp is not None and inp.scale == "fraction" else (100, "a percent")
        with np.errstate(invalid="ignore"):
            out = np.flatnonzero((vals < 0) | (vals > top))
        for i in out:
            self.errors.add(f"'{_clip(raw(i))}' in column '{colname}' is not between 0 and {top} "
                            f"(input '{metric}' is {what})", c.table.file, int(c.lines[i]),
                            c.values.col)


def _clip(text: str, width: int = 60) -> str:
    """A value from a file as quoted in a message: a 5,000-digit cell is not printed whole."""
    return text if len(text) <= width else f"{text[:width - 20]}…{text[-10:]} " \
        f"({len(text):,} characters)"


# Numbers in data are written in ASCII decimal, as the policy language reads them.
_number = parse_decimal


def _parse_value(raw: str, mtype: str) -> float | None:
    s = raw.strip()
    if mtype == "flag":
        low = s.lower()
        if low in TRUE_WORDS:
            return 1.0
        if low in FALSE_WORDS:
            return 0.0
        return None
    if mtype == "percent" and s.endswith("%"):
        s = s[:-1]
    return _number(s)


def _fmt(v: float) -> str:
    return "" if v != v else exact_text(v)
