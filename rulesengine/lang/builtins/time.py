"""Over time, per entity: a value or condition over the last n periods, this one included.

Periods before the data count as unknown. mean/sum/min/max/median_over and count_over are
unknown if any value in the window is; the median of an even number of values is the mean of
the middle two; sustained is a Kleene `and`, ever a Kleene `or` over the window;
change(x, n) is x now minus x n periods ago.

With `follow=successor`, the window's earlier periods before the organisation existed (its
`from` in the entities table) read its predecessors, transitively along a chain; the current
period is always its own. Where several predecessors stand in (a merger), a value or a
condition is known only where all of them have the same known value, and unknown otherwise:
the window's result is then unknown, and a rule that could have fired on it marks the
outcome incomplete. A condition's direction is not known to the engine (it may be negated
later), so taking any one predecessor's value could make a merger, or one trust's missing
return, improve an outcome; unknown never does. An organisation without predecessors reads
its own values, as without the option. Lags (`x[-1]`) never follow.

Compiled: a window that follows successors is a loop over the window reading the stand-ins
(`lib.follow`); a window over a value with a history (an input's own array, or a ring buffer the
kernel keeps of a computed value) is one call of `lib.window` in the mode below; over a param
(whose values are the kernel's params array) a loop written out; sustained and ever keep two
"last seen" periods per entity (`lib.latch`): O(1) per period, whatever the window's length;
a median sorts a copy of the window, written out in the kernel.
"""

from __future__ import annotations

import numpy as np

from .logic import NAN, k_and, k_or, seq_sum
from .spec import FOLLOW, Builtin, family

# lib.window's modes (compile/library.py), and for a param's window the loop's start value
# and the lines adding the window's value w to the result (depth, line)
_WINDOW_MODE = {"mean_over": 0, "sum_over": 1, "min_over": 2, "max_over": 3, "count_over": 4}
_LOOP = {
    "mean_over": ("0.0", ((0, "{out} = {out} + {w}"),)),
    "sum_over": ("0.0", ((0, "{out} = {out} + {w}"),)),
    "min_over": ("np.inf", ((0, "{out} = min({out}, {w})"),)),
    "max_over": ("-np.inf", ((0, "{out} = max({out}, {w})"),)),
    "count_over": ("0.0", ((0, "if {w} == 1.0:"), (1, "{out} = {out} + 1.0"))),
}


# --- reference ------------------------------------------------------------------------------

def window(ev, node, t) -> np.ndarray:
    """[n, ...]: the first argument in the last n periods, this one first."""
    n = ev.window_size(node.args[1], t)
    return np.array([_at(ev, node, t, k) for k in range(n)]).reshape((n,) + ev.shape)


def _at(ev, node, t, k):
    """The first argument k periods before t: the entity's own, or followed (k >= 1)."""
    if k >= 1 and BUILTINS[node.func].follows(node):
        return ev.followed(node.args[0], t - k)
    return ev.eval(node.args[0], t - k)


def _strict(reduce):
    """A window's reduction, unknown if any value in the window is."""
    def evaluate(ev, node, t):
        w = window(ev, node, t)
        out = reduce(np.where(np.isnan(w), 0.0, w), axis=0).astype(np.float64)
        out[np.isnan(w).any(axis=0)] = NAN
        return out
    return evaluate


def _median(ev, node, t):
    w = window(ev, node, t)
    s = np.sort(w, axis=0)
    mid = w.shape[0] // 2
    out = s[mid] if w.shape[0] % 2 else (s[mid - 1] + s[mid]) / 2.0
    out[np.isnan(w).any(axis=0)] = NAN
    return out


def _change(ev, node, t):
    n = ev.window_size(node.args[1], t)
    return ev.eval(node.args[0], t) - _at(ev, node, t, n)


def _sustained(ev, node, t):
    out = np.ones(ev.shape)
    for row in window(ev, node, t):
        out = k_and(out, row)
    return out


def _ever(ev, node, t):
    out = np.zeros(ev.shape)
    for row in window(ev, node, t):
        out = k_or(out, row)
    return out


# --- compiled -------------------------------------------------------------------------------

def _emit_change(g, node, out, emit):
    n = g.window_size(node.args[1])
    a = g.var(node.args[0])
    w = g.fresh()
    emit(f"n{w} = {n}")
    then = (g.followed(node.args[0], f"t - n{w}") if BUILTINS[node.func].follows(node)
            else g.past(node.args[0], f"t - n{w}"))
    emit(f"{out} = {a} - {then} if t >= n{w} else nan")


def _read(g, node, w):
    """The window's value at period tt{w} (k{w} periods back, tt{w} >= 0): for a window
    that follows successors, the stand-ins' past values."""
    if not BUILTINS[node.func].follows(node):
        return g.past(node.args[0], f"tt{w}")
    return f"({g.var(node.args[0])} if k{w} == 0 else {g.followed(node.args[0], f'tt{w}')})"


def _emit_followed_latch(g, node, out, emit):
    # sustained/ever over followed values: the reference's Kleene fold, written out
    w = g.fresh()
    fold, start = ("lib.k_and", "1.0") if node.func == "sustained" else ("lib.k_or", "0.0")
    emit(f"n{w} = {g.window_size(node.args[1])}")
    emit(f"{out} = {start}")
    emit(f"for k{w} in range(n{w}):")
    emit(f"tt{w} = t - k{w}", 1)
    emit(f"w{w} = {_read(g, node, w)} if tt{w} >= 0 else nan", 1)
    emit(f"{out} = {fold}({out}, w{w})", 1)


def _emit_latch(decisive):
    """sustained (decisive false) or ever (decisive true): from the last period the operand
    was decisive and the last it was unknown, kept by the kernel per entity."""
    def emit_latch(g, node, out, emit):
        if BUILTINS[node.func].follows(node):
            _emit_followed_latch(g, node, out, emit)
            return
        w = g.fresh()
        emit(f"n{w} = {g.window_size(node.args[1])}")
        last_decisive, last_unknown = g.latch(node)
        emit(f"{out} = lib.latch({g.var(node.args[0])}, {last_decisive}, {last_unknown}, e, "
             f"t, n{w}, {decisive})")
    return emit_latch


def _emit_strict(g, node, out, emit):
    w = g.fresh()
    emit(f"n{w} = {g.window_size(node.args[1])}")
    follows = BUILTINS[node.func].follows(node)
    if not g.is_param(node.args[0]) and not follows:
        history, mask = g.window_source(node.args[0])
        emit(f"{out} = lib.window({history}, {mask}, e, t, n{w}, {_WINDOW_MODE[node.func]})")
        return
    start, add = _LOOP[node.func]
    emit(f"{out} = {start}")
    emit(f"u{w} = False")
    emit(f"for k{w} in range(n{w}):")
    emit(f"tt{w} = t - k{w}", 1)
    emit(f"w{w} = {_read(g, node, w)} if tt{w} >= 0 else nan", 1)
    emit(f"if w{w} != w{w}:", 1)
    emit(f"u{w} = True", 2)
    emit("continue", 2)
    for depth, line in add:
        emit(line.format(out=out, w=f"w{w}"), 1 + depth)
    if node.func == "mean_over":
        emit(f"{out} = nan if u{w} else {out} / n{w}")
    else:
        emit(f"{out} = nan if u{w} else {out}")


def _emit_median(g, node, out, emit):
    # the window copied into a scratch array and sorted; the same middle values and the same
    # (a + b) / 2 as the reference
    w = g.fresh()
    emit(f"n{w} = {g.window_size(node.args[1])}")
    emit(f"b{w} = np.empty(n{w})")
    emit(f"u{w} = False")
    emit(f"for k{w} in range(n{w}):")
    emit(f"tt{w} = t - k{w}", 1)
    emit(f"w{w} = {_read(g, node, w)} if tt{w} >= 0 else nan", 1)
    emit(f"u{w} = u{w} | (w{w} != w{w})", 1)
    emit(f"b{w}[k{w}] = w{w}", 1)
    emit(f"b{w}.sort()")
    emit(f"md{w} = n{w} // 2")
    emit(f"{out} = nan if u{w} else (b{w}[md{w}] if n{w} % 2 == 1 else "
         f"(b{w}[md{w} - 1] + b{w}[md{w}]) / 2.0)")


# --- words ----------------------------------------------------------------------------------

def _followed(words):
    """A window's words, saying so when it follows successors."""
    def say(w, n):
        text = words(w, n)
        return text + (" (through its predecessors before it existed)"
                       if BUILTINS[n.func].follows(n) else "")
    return say


def _over(what):
    return _followed(lambda w, n: f"the {what} of {w.arg(n, 0)} over the last {w.window(n, 1)}")


_WINDOWED = dict(values=(0,), size=1, lookback="window", history=True, **FOLLOW)

BUILTINS = family("time", [
    Builtin("change", "time", ("num", "window"), "same",
            "x now minus x n periods ago",
            values=(0,), size=1, lookback="ends", history=True, better_from=(0,), **FOLLOW,
            reference=_change, compiled=_emit_change,
            words=_followed(lambda w, n: f"the change in {w.arg(n, 0)} over {w.window(n, 1)}")),
    Builtin("mean_over", "time", ("num", "window"), "same_num",
            "mean of x over the last n periods, this one included; unknown if any is missing",
            **_WINDOWED, better_from=(0,),
            reference=_strict(lambda w, axis: seq_sum(w, axis) / w.shape[axis]),
            compiled=_emit_strict, words=_over("mean")),
    Builtin("sum_over", "time", ("num", "window"), "same",
            "sum of x over the last n periods; unknown if any is missing",
            **_WINDOWED, better_from=(0,), reference=_strict(seq_sum),
            compiled=_emit_strict, words=_over("total")),
    Builtin("min_over", "time", ("value", "window"), "same",
            "smallest x over the last n periods; unknown if any is missing",
            **_WINDOWED, better_from=(0,), reference=_strict(np.min),
            compiled=_emit_strict, words=_over("lowest")),
    Builtin("max_over", "time", ("value", "window"), "same",
            "largest x over the last n periods; unknown if any is missing",
            **_WINDOWED, better_from=(0,), reference=_strict(np.max),
            compiled=_emit_strict, words=_over("highest")),
    Builtin("median_over", "time", ("num", "window"), "same_num",
            "median of x over the last n periods, this one included; unknown if any is missing",
            **_WINDOWED, better_from=(0,), reference=_median, compiled=_emit_median,
            words=_over("median")),
    Builtin("sustained", "time", ("cond", "window"), "bool",
            "cond held in each of the last n periods (Kleene 'and' over the window)",
            values=(0,), size=1, lookback="window", **FOLLOW,
            reference=_sustained, compiled=_emit_latch("0.0"),
            words=_followed(lambda w, n: f"{w.arg(n, 0)} for {w.window(n, 1)} in a row")),
    Builtin("ever", "time", ("cond", "window"), "bool",
            "cond held in at least one of the last n periods (Kleene 'or' over the window)",
            values=(0,), size=1, lookback="window", **FOLLOW,
            reference=_ever, compiled=_emit_latch("1.0"),
            words=_followed(
                lambda w, n: f"{w.arg(n, 0)} at least once in the last {w.window(n, 1)}")),
    Builtin("count_over", "time", ("cond", "window"), "count",
            "in how many of the last n periods cond held; unknown if any is unknown",
            **_WINDOWED, reference=_strict(lambda w, axis: np.sum(w == 1, axis=axis)),
            compiled=_emit_strict,
            words=_followed(lambda w, n: f"the number of the last {w.window(n, 1)} in which "
                                         f"{w.arg(n, 0)}")),
])
