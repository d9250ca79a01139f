"""The outcome of earlier periods: `previous(level)` and `periods_in(condition on level)`.

Both read levels already decided (the decided level where a judgement decision was made), so
the engines evaluate what depends on them period by period.
"""

from __future__ import annotations

import numpy as np

from .logic import NAN
from .spec import Builtin, family


def _previous(ev, node, t):
    return ev.levels[t - 1].copy() if t >= 1 else np.full(ev.E, NAN)


def _periods_in(ev, node, t):
    """Consecutive periods up to t-1 (within the data) whose level met the condition: the
    condition on every earlier period's levels at once, then the run of periods that met it
    counted back from t-1 (one call per period, not one per earlier period)."""
    if t == 0:
        return np.zeros(ev.E)
    held = np.broadcast_to(ev.level_condition(node.args[0], ev.levels[:t]) == 1, (t, ev.E))
    return np.cumprod(held[::-1], axis=0).sum(axis=0).astype(np.float64)


def _emit_previous(g, node, out, emit):
    emit(f"{out} = float(out_level[t - 1, e]) if t >= 1 else nan")


def _emit_periods_in(g, node, out, emit):
    # the count the kernel updates each time it decides a level (codegen: combine)
    emit(f"{out} = st{g.level_counter(node)}[e]")


BUILTINS = family("level", [
    Builtin("previous", "level", ("level",), "level",
            "the entity's level in the previous period (decided if a decision was made)",
            reads_levels=True, reference=_previous, compiled=_emit_previous,
            words=lambda w, n: f"the previous {w.period}'s level"),
    Builtin("periods_in", "level", ("levelcond",), "count",
            "how many periods in a row, up to the previous one, the level met the condition",
            reads_levels=True, level_counter=True,
            reference=_periods_in, compiled=_emit_periods_in,
            words=lambda w, n: f"the number of {w.period}s in a row, up to the last one, in "
                               f"which {w.arg(n, 0)}"),
])
