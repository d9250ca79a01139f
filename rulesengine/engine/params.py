"""Parameter values per period: effective-dated params resolved onto the evaluated periods.

Params are runtime inputs of both evaluators (never baked into a compiled kernel), so a diff
or a sweep that changes a threshold re-runs the same kernel with other values.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import TYPE_CHECKING, Mapping, Sequence

import numpy as np

from ..check.checker import check
from ..diagnostics import Diagnostic, PolicyError, RegimeError, did_you_mean
from ..lang.types import Type, describe
from ..periods import parse_period
from ..policy.model import ParamValue, Policy
from ..quantities import exact_text, parse_quantity

if TYPE_CHECKING:
    from ..check.checker import CheckedPolicy


def resolve_params(policy: Policy, period_kind: str, start: int, n_periods: int,
                   overrides: Mapping[str, float] | None = None) -> dict[str, np.ndarray]:
    """Each param as a float64 array over the periods: the value in force in each period.

    A value with `from:` applies from that period on; before the first dated value the
    earliest value applies (a threshold is never missing). `overrides` replace a param's
    value in every period (used by diff attribution and sweeps)."""
    overrides = dict(overrides or {})
    unknown = [k for k in overrides if k not in policy.params]
    if unknown:
        raise PolicyError(f"no param named '{unknown[0]}' in policy '{policy.id}'")
    ordinals = np.arange(start, start + n_periods)
    out: dict[str, np.ndarray] = {}
    for name, param in policy.params.items():
        if name in overrides:
            out[name] = np.full(n_periods, float(overrides[name]))
            continue
        values = np.full(n_periods, param.values[0].value, dtype=np.float64)
        for v in param.values:
            if v.start is None:
                values[:] = v.value
                continue
            begins = parse_period(v.start, period_kind).ordinal
            values[ordinals >= begins] = v.value
        out[name] = values
    return out


def parse_overrides(checked: "CheckedPolicy", items: Sequence[str]) -> dict[str, float]:
    """`--param NAME=VALUE` texts as override values, checked as `check_overrides` does; a
    value may carry its unit (20%, £1.5m), which must then be the param's own."""
    if not items:
        return {}
    # imported only when there is a value to read (the policy builder imports the parser)

    out: dict[str, float] = {}
    for item in items:
        name, sep, text = (part.strip() for part in item.partition("="))
        if not sep or not name or not text:
            raise RegimeError(f"--param '{item}': write NAME=VALUE, e.g. bottom_quartile=20")
        _known(checked.policy, name, f"--param {name}")
        try:
            value, unit = parse_quantity(_number(text))
        except ValueError:
            raise RegimeError(f"--param {name}={text}: the value must be a number, a "
                              "percentage (20%) or an amount of money (£1.5m)") from None
        kind = checked.policy.params[name].kind
        if unit != "number" and unit != kind:
            raise RegimeError(f"--param {name}={text}: '{name}' is {describe(Type(kind))}, "
                              f"not {describe(Type(unit))}")
        out[name] = value
    check_overrides(checked, out, what="--param")
    return out


def check_overrides(checked: "CheckedPolicy", overrides: Mapping[str, float], *,
                    what: str = "param override") -> None:
    """Refuse override values the policy file itself could not hold: unknown names, values
    that are not finite, and values the checker rejects where the param is used (a window
    or lag must be a whole number of periods within the language's limits). The policy is
    re-checked with the values in place, so the rules are the checker's, not a copy."""

    if not overrides:
        return
    policy = checked.policy
    params = dict(policy.params)
    for name, value in overrides.items():
        _known(policy, name, f"{what} {name}")
        if not math.isfinite(value):
            raise RegimeError(f"{what} {name}={value}: the value must be a finite number")
        params[name] = replace(params[name], values=(ParamValue(None, float(value)),))
    try:
        check(replace(policy, params=params))
    except PolicyError as e:
        shown = ", ".join(f"{n}={exact_text(v)}" for n, v in overrides.items())
        raise RegimeError([Diagnostic(f"{what} {shown}: a value this policy cannot use, "
                                      "because:")] + e.errors) from None


def _known(policy: Policy, name: str, what: str) -> None:
    if name not in policy.params:
        raise RegimeError(f"{what}: policy '{policy.id}' has no param '{name}'"
                          + did_you_mean(name, policy.params))


def _number(text: str):
    try:
        return float(text)
    except ValueError:
        return text


