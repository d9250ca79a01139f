"""Missing data: `missing(x)` (never unknown itself) and `coalesce(x, y, ...)`, the first value
that is not missing. A string is missing where it is unknown (chosen by an `if` whose
condition is unknown, or read before the data begins)."""

from __future__ import annotations

import numpy as np

from .logic import is_unknown
from .spec import Builtin, family


def _missing(ev, node, t):
    return is_unknown(ev.eval(node.args[0], t)).astype(np.float64)


def _coalesce(ev, node, t):
    out = ev.eval(node.args[0], t)
    for a in node.args[1:]:
        out = np.where(is_unknown(out), ev.eval(a, t), out)
    return out


def _emit_missing(g, node, out, emit):
    emit(f"{out} = lib.is_missing({g.var(node.args[0])})")


def _emit_coalesce(g, node, out, emit):
    emit(f"{out} = nan")
    for arg in node.args:
        emit(f"if {out} != {out}:")
        emit(f"{out} = {g.var(arg)}", 1)


BUILTINS = family("missing", [
    Builtin("missing", "missing", ("any",), "bool", "x is missing (never unknown itself)",
            reference=_missing, compiled=_emit_missing,
            words=lambda w, n: f"{w.arg(n, 0)} is missing"),
    Builtin("coalesce", "missing", ("any",), "same",
            "the first value that is not missing", variadic=True, better_from="all",
            reference=_coalesce, compiled=_emit_coalesce,
            words=lambda w, n: f"the first available of: {w.listed(n)}"),
])
