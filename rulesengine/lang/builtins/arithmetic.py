"""Arithmetic beyond the operators: `abs(x)`, `round(x, digits)` (half to even, bit for bit
the same in both engines) and `position(rating)`, a rating's or level's place in its list."""

from __future__ import annotations

import numpy as np

from .logic import round_to
from .spec import Builtin, family


def _abs(ev, node, t):
    return np.abs(ev.eval(node.args[0], t))


def _round(ev, node, t):
    return round_to(ev.eval(node.args[0], t), int(node.args[1].value))


def _position(ev, node, t):
    return ev.eval(node.args[0], t) + 1.0


def _emit_abs(g, node, out, emit):
    emit(f"{out} = abs({g.var(node.args[0])})")


def _emit_round(g, node, out, emit):
    scale = 10.0 ** int(node.args[1].value)
    emit(f"{out} = lib.round_to({g.var(node.args[0])}, {g.number(scale)})")


def _emit_position(g, node, out, emit):
    emit(f"{out} = {g.var(node.args[0])} + 1.0")


BUILTINS = family("math", [
    Builtin("abs", "math", ("num",), "same", "absolute value", better_from=(0,),
            reference=_abs, compiled=_emit_abs,
            words=lambda w, n: f"the size of {w.arg(n, 0)}"),
    Builtin("round", "math", ("num", "digits"), "same",
            "x rounded to d decimal places (half to even)", values=(0,), better_from=(0,),
            reference=_round, compiled=_emit_round,
            words=lambda w, n: f"{w.arg(n, 0)} rounded to {w.arg(n, 1)} decimal places"),
    Builtin("position", "math", ("ordinal",), "number",
            "a rating's or level's position in its list, 1 = first (best)",
            reference=_position, compiled=_emit_position,
            words=lambda w, n: f"the position of {w.arg(n, 0)} (1 = best)"),
])
