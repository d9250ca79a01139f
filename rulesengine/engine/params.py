"""Parameter values per period: effective-dated params resolved onto the evaluated periods.

Params are runtime inputs of both evaluators (never baked into a compiled kernel), so a diff
or a sweep that changes a threshold re-runs the same kernel with other values.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np

from ..diagnostics import PolicyError
from ..periods import parse_period
from ..policy.model import Policy


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
