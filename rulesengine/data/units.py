"""Units: an input's values as the policy reads them, and warnings for values that look 100
times off (fractions in a percent column, percentages where fractions were declared)."""

from __future__ import annotations

import numpy as np

from .. import codes
from ..diagnostics import Diagnostic, warn_data


def percent_values(inp, arr: np.ndarray) -> np.ndarray:
    """An input's values as the policy reads them: a percent input whose data write fractions
    (`scale: fraction`: 0.75 for 75%) is multiplied by 100 (a new array); any other is `arr`
    itself (nothing writes into an input array)."""
    if inp.type == "percent" and inp.scale == "fraction":
        return arr * 100.0
    return arr


# A percent input whose values all lie in [0, 1] with a median above this looks like fractions;
# genuinely small percentages (0.3% of waits over 52 weeks) have a smaller median.
FRACTION_MEDIAN = 0.05
# ... judged only on this many values or more: a handful of hand-written values (a policy test
# case's) says nothing about a file's unit.
FRACTION_MIN_VALUES = 20


def unit_warnings(policy, inputs, data_name: str) -> list[Diagnostic]:
    """Warnings for inputs whose values (as bound, in percent for percent inputs) look 100x
    off: outside the input's `expect:` range, or, without one, a percent input whose every
    value lies in [0, 1] with a median above FRACTION_MEDIAN. Each names the input, the data
    and the fix, at the input's line in the policy."""
    out = []
    for name, arr in inputs.items():
        d = unit_warning(policy.inputs.get(name), name, arr, data_name)
        if d is not None:
            out.append(d)
    return out


def _median(vals: np.ndarray) -> float:
    """np.median of known values, to the bit (the middle value, or the mean of the middle
    two), without np.median's import of numpy.ma (a few hundredths of a second)."""
    n = vals.size
    if n % 2:
        return float(np.partition(vals, n // 2)[n // 2])
    part = np.partition(vals, [n // 2 - 1, n // 2])
    return float((part[n // 2 - 1] + part[n // 2]) / 2.0)


def unit_warning(inp, name: str, arr: np.ndarray, data_name: str) -> Diagnostic | None:
    """`unit_warnings` for one input (`inp` its definition, None when the policy has none)."""
    if inp is None or inp.type in ("flag", "rating"):
        return None
    fraction = inp.type == "percent" and inp.scale == "fraction"
    if inp.expect is None and (inp.type != "percent" or fraction):
        return None             # nothing to judge: no pass over the values
    if inp.expect is None:
        # the fraction check needs every value in [0, 1]: two reductions (skipping NaN) rule
        # it out before the known values are gathered and their median found
        if arr.size == 0 or not (np.fmax.reduce(arr, axis=None) <= 1
                                 and np.fmin.reduce(arr, axis=None) >= 0):
            return None
    else:
        # The median of the known values lies in lo..hi when both middle values do, that is
        # when at most (n - 1) // 2 values are below lo and as many above hi: counts, not a
        # partition of a copy, in the usual case of data in range.
        lo, hi = inp.expect
        known = arr.size - int(np.count_nonzero(np.isnan(arr)))
        k = (known - 1) // 2
        if known and np.count_nonzero(arr < lo) <= k and np.count_nonzero(arr > hi) <= k:
            return None
    vals = arr[~np.isnan(arr)]
    if not vals.size:
        return None
    median = _median(vals)
    message = hint = None
    if inp.expect is not None:
        lo, hi = inp.expect
        if not lo <= median <= hi:
            rng = f"{lo:g}..{hi:g}"
            message = (f"input '{name}': the median of its values in {data_name}, "
                       f"{median:.4g}, is outside its expected range {rng}")
            if lo <= median * 100 <= hi:
                message += ": the data look 100 times too small"
                hint = ("the file holds fractions (0.75 for 75%): declare 'scale: fraction' "
                        "on the input" if inp.type == "percent" and not fraction else
                        "check the unit the file writes this metric in")
            elif lo <= median / 100 <= hi:
                message += ": the data look 100 times too large"
                hint = ("the file holds percentages (75 for 75%): remove 'scale: fraction' "
                        "from the input" if fraction else
                        "check the unit the file writes this metric in")
            else:
                hint = "check the data, or the input's expect: range"
    elif inp.type == "percent" and not fraction and vals.size >= FRACTION_MIN_VALUES \
            and vals.min() >= 0 and vals.max() <= 1 and median > FRACTION_MEDIAN:
        message = (f"input '{name}' is a percent, but every value of it in {data_name} lies "
                   f"between 0 and 1 (median {median:.4g}): the data look 100 times too "
                   f"small")
        hint = ("if the file holds fractions (0.75 for 75%), declare 'scale: fraction' on "
                "the input; if the values really are below 1%, declare their range "
                "(e.g. 'expect: 0..1') to say so")
    if message is None:
        return None
    return Diagnostic(message, file=inp.origin.file, pos=inp.pos, severity="warning",
                      code=codes.UNITS, hint=hint, source_line=inp.origin.line(inp.pos.line))


def warn_units(policy, inputs, data_name: str) -> None:
    """Issue `unit_warnings` as DataWarnings (the command line prints them)."""
    for d in unit_warnings(policy, inputs, data_name):
        warn_data(d)

