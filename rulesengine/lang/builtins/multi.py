"""Over several values of one entity and period: `mean_of(a, b, ...)` and the like skip the
values that are missing (unknown only if all are); `count_of(c, ...)` counts the conditions
that hold and is unknown if any is.

Compiled: written out inline, one test per argument, adding in argument order as the
reference does.
"""

from __future__ import annotations

import numpy as np

from .logic import NAN, seq_sum
from .spec import Builtin, family


def _stack(ev, node, t) -> np.ndarray:
    return np.array([ev.eval(a, t) for a in node.args]).reshape((len(node.args),) + ev.shape)


def _skipping(reduce, fill):
    def evaluate(ev, node, t):
        s = _stack(ev, node, t)
        known = ~np.isnan(s)
        out = reduce(np.where(known, s, fill), axis=0)
        return np.where(known.any(axis=0), out, NAN)
    return evaluate


def _mean_of(ev, node, t):
    s = _stack(ev, node, t)
    known = ~np.isnan(s)
    k = known.sum(axis=0)
    with np.errstate(all="ignore"):
        return np.where(k > 0, seq_sum(np.where(known, s, 0.0)) / k, NAN)


def _count_of(ev, node, t):
    s = _stack(ev, node, t)
    out = np.sum(s == 1, axis=0).astype(np.float64)
    out[np.isnan(s).any(axis=0)] = NAN
    return out


def _emit_skipping(start, add, finish):
    """The known arguments folded in order: `add` combines the result so far (`out`, the
    first known value when k == 0) with a known value `a`; `finish` ends it (k: how many)."""
    def emit_skipping(g, node, out, emit):
        w = g.fresh()
        emit(f"k{w} = 0")
        emit(f"{out} = {start}")
        for arg in node.args:
            a = g.var(arg)
            emit(f"if {a} == {a}:")
            emit(f"{out} = " + add.format(out=out, a=a, k=f"k{w}"), 1)
            emit(f"k{w} += 1", 1)
        if finish:
            emit(f"{out} = " + finish.format(out=out, k=f"k{w}"))
    return emit_skipping


def _emit_count_of(g, node, out, emit):
    emit(f"{out} = 0.0")
    for arg in node.args:
        a = g.var(arg)
        emit(f"if {a} == 1.0:")
        emit(f"{out} = {out} + 1.0", 1)
    cond = " or ".join(f"{g.var(a)} != {g.var(a)}" for a in node.args)
    emit(f"if {cond}:")
    emit(f"{out} = nan", 1)


def _among(what):
    return lambda w, n: f"the {what} of the available values among: {w.listed(n)}"


BUILTINS = family("multi", [
    Builtin("mean_of", "multi", ("num",), "same_num",
            "mean of the values that are not missing", variadic=True, better_from="all",
            reference=_mean_of,
            compiled=_emit_skipping("0.0", "{out} + {a}", "{out} / {k} if {k} > 0 else nan"),
            words=_among("mean")),
    Builtin("min_of", "multi", ("value",), "same",
            "smallest of the values that are not missing", variadic=True, better_from="all",
            reference=_skipping(np.min, np.inf),
            compiled=_emit_skipping("nan", "{a} if {k} == 0 else min({out}, {a})", None),
            words=_among("lowest")),
    Builtin("max_of", "multi", ("value",), "same",
            "largest of the values that are not missing", variadic=True, better_from="all",
            reference=_skipping(np.max, -np.inf),
            compiled=_emit_skipping("nan", "{a} if {k} == 0 else max({out}, {a})", None),
            words=_among("highest")),
    Builtin("sum_of", "multi", ("num",), "same",
            "sum of the values that are not missing", variadic=True, better_from="all",
            reference=_skipping(seq_sum, 0.0),
            compiled=_emit_skipping("0.0", "{out} + {a}", "{out} if {k} > 0 else nan"),
            words=_among("total")),
    Builtin("count_of", "multi", ("cond",), "count",
            "how many conditions hold; unknown if any is unknown", variadic=True,
            reference=_count_of, compiled=_emit_count_of,
            words=lambda w, n: f"how many of these hold: {w.listed(n)}"),
])
