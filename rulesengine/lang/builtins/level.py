"""The outcome of earlier periods: `previous(level)` and `periods_in(condition on level)`.

Both read levels already decided (the decided level where a judgement decision was made), so
the engines evaluate what depends on them period by period.

With `follow=successor`, an organisation's periods before it existed (its `from` in the
entities table) read its predecessors' levels instead of its own: transitively along a chain
(PCT -> CCG -> ICB), and with several predecessors (CCGs merged into one ICB, trusts merged)
the worst of their levels, so a merger never improves the history a rule reads. An
organisation without predecessors reads its own levels, as without the option. The
predecessors' levels are the ones this policy works out for them, so a policy that follows
successors should list their kind in `entity:`.
"""

from __future__ import annotations

import numpy as np

from .logic import NAN
from .spec import FOLLOW, Builtin, family


def _previous(ev, node, t):
    if t < 1:
        return np.full(ev.E, NAN)
    if BUILTINS[node.func].follows(node):
        return ev.followed_levels(t, t - 1)[0]
    return ev.levels[t - 1].copy()


def _periods_in(ev, node, t):
    """Consecutive periods up to t-1 (within the data) whose level met the condition: the
    count in t-1 plus one if t-1's level met it, else 0 (the engines go period by period, so
    the count in t-1 is at hand); from scratch, the condition on every earlier period's
    levels at once, then the run of periods that met it counted back from t-1."""
    if t == 0:
        return np.zeros(ev.E)
    follows = BUILTINS[node.func].follows(node)
    if not follows:
        before = ev.computed(node, t - 1)
        if before is not None:
            held = ev.level_condition(node.args[0], ev.levels[t - 1]) == 1
            return np.where(held, before + 1.0, 0.0)
    levels = ev.followed_levels(t) if follows else ev.levels[:t]
    held = np.broadcast_to(ev.level_condition(node.args[0], levels) == 1, (t, ev.E))
    return np.cumprod(held[::-1], axis=0).sum(axis=0).astype(np.float64)


def _emit_previous(g, node, out, emit):
    if BUILTINS["previous"].follows(node):
        emit(f"{out} = {g.followed_level('t - 1')} if t >= 1 else nan")
        return
    emit(f"{out} = float(out_level[t - 1, e]) if t >= 1 else nan")


def _emit_periods_in(g, node, out, emit):
    if not BUILTINS["periods_in"].follows(node):
        # the count the kernel updates each time it decides a level (codegen: combine)
        emit(f"{out} = st{g.level_counter(node)}[e]")
        return
    # followed levels are other entities' too: counted back from the previous period, as
    # the reference does (O(t) per cell, for the policies that ask for it)
    w = g.fresh()
    emit(f"{out} = 0.0")
    emit(f"for s{w} in range(t - 1, -1, -1):")
    emit(f"lf{w} = {g.followed_level(f's{w}')}", 1)
    held = g.level_test(node.args[0], f"lf{w}", lambda s: emit(s, 1))
    emit(f"if {held} != 1.0:", 1)
    emit("break", 2)
    emit(f"{out} = {out} + 1.0", 1)


BUILTINS = family("level", [
    Builtin("previous", "level", ("level",), "level",
            "the entity's level in the previous period (decided if a decision was made); "
            "follow=successor: before the entity existed, its predecessors' worst level",
            reads_levels=True, reference=_previous, compiled=_emit_previous, **FOLLOW,
            words=lambda w, n: f"the previous {w.period}'s level" + (
                " (its predecessors' worst before it existed)"
                if BUILTINS["previous"].follows(n) else "")),
    Builtin("periods_in", "level", ("levelcond",), "count",
            "how many periods in a row, up to the previous one, the level met the condition; "
            "follow=successor: before the entity existed, its predecessors' worst level",
            reads_levels=True, level_counter=True, **FOLLOW,
            reference=_periods_in, compiled=_emit_periods_in,
            words=lambda w, n: f"the number of {w.period}s in a row, up to the last one, in "
                               f"which {w.arg(n, 0)}" + (
                " (its predecessors' worst level before it existed)"
                if BUILTINS["periods_in"].follows(n) else "")),
])
