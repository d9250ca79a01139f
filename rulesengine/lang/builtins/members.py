"""Across the hierarchy: a value or condition over an entity's direct members (its children in
the entities table), e.g. `count(members, cqc_overall == inadequate)`.

Member aggregates are unknown if any member's value is; `any`/`all` are Kleene; with no members
count/sum are 0, any false, all true, share/mean/min/max unknown. Members are added in entity
order, so sums agree to the last bit between the engines.

A member outside its lifetime (the entities table's `from`/`to`: a CCG after it became part
of an ICB, a trust before it was founded) is not a member in that period: it is neither
counted nor read, so its missing values there do not make the aggregate unknown.

Compiled: `lib.members` in the mode below, between a kernel's entity loops.
"""

from __future__ import annotations

import numpy as np

from .logic import NAN
from .spec import Builtin, family

_MODE = {"count": 0, "share": 1, "sum": 2, "mean": 3, "min": 4, "max": 5, "any": 6, "all": 7}


def _stats(ev, node, t):
    """Per cell: (#members, #members with a true/1 value, #false, #unknown, sum, min, max)."""
    v = ev.eval(node.args[1], t)
    parent = ev.L.parent
    E = ev.E
    rows = v.size // E if E else 0
    has = parent >= 0
    # one bin per (period, parent): members are added in entity order within each bin
    p = (np.arange(rows)[:, None] * E + parent[has][None, :]).reshape(-1)
    vals = v.reshape(rows, E)[:, has].reshape(-1)
    alive = ev.alive(t)         # who exists in the cells' periods (None: everyone)
    if alive is None:
        member = np.ones(vals.shape, bool)
    else:
        member = np.broadcast_to(alive, (rows, E))[:, has].reshape(-1)
    unknown = np.isnan(vals) & member
    clean = np.where(unknown | ~member, 0.0, vals)
    size = rows * E

    def count(weights):
        return np.bincount(p, weights=weights, minlength=size).astype(
            np.float64).reshape(v.shape)

    n = count(member.astype(np.float64))
    ones = count(((vals == 1) & member).astype(np.float64))
    zeros = count(((vals == 0) & member).astype(np.float64))
    unk = count(unknown.astype(np.float64))
    total = count(clean)
    lo = np.full(size, np.inf)
    hi = np.full(size, -np.inf)
    np.minimum.at(lo, p, np.where(unknown | ~member, np.inf, vals))
    np.maximum.at(hi, p, np.where(unknown | ~member, -np.inf, vals))
    return n, ones, zeros, unk, total, lo.reshape(v.shape), hi.reshape(v.shape)


def _count(ev, node, t):
    n, ones, _, unk, *_ = _stats(ev, node, t)
    return np.where(unk > 0, NAN, ones)


def _share(ev, node, t):
    n, ones, _, unk, *_ = _stats(ev, node, t)
    with np.errstate(all="ignore"):
        return np.where((unk > 0) | (n == 0), NAN, 100.0 * ones / n)


def _sum(ev, node, t):
    n, _, _, unk, total, *_ = _stats(ev, node, t)
    return np.where(unk > 0, NAN, total)


def _mean(ev, node, t):
    n, _, _, unk, total, *_ = _stats(ev, node, t)
    with np.errstate(all="ignore"):
        return np.where((unk > 0) | (n == 0), NAN, total / n)


def _min(ev, node, t):
    n, _, _, unk, _, lo, _ = _stats(ev, node, t)
    return np.where((unk > 0) | (n == 0), NAN, lo)


def _max(ev, node, t):
    n, _, _, unk, _, _, hi = _stats(ev, node, t)
    return np.where((unk > 0) | (n == 0), NAN, hi)


def _any(ev, node, t):
    n, ones, _, unk, *_ = _stats(ev, node, t)
    return np.where(ones > 0, 1.0, np.where(unk > 0, NAN, 0.0))


def _all(ev, node, t):
    n, _, zeros, unk, *_ = _stats(ev, node, t)
    return np.where(zeros > 0, 0.0, np.where(unk > 0, NAN, 1.0))


def _emit(g, node, out, emit):
    emit(f"lib.members({g.column(node.args[1])}, cp, ci, {_MODE[node.func]}, {out}, "
         f"{g.alive()})")


def _member(name, arg, result, doc, reference, words, **roles):
    return Builtin(name, "members", ("members", arg), result, doc, values=(1,),
                   reference=reference, compiled=_emit, words=words, **roles)


BUILTINS = family("members", [
    _member("count", "cond", "count",
            "how many members meet cond; unknown if any member's cond is unknown", _count,
            lambda w, n: f"the number of its members for which {w.arg(n, 1)}"),
    _member("share", "cond", "percent", "percentage of members meeting cond", _share,
            lambda w, n: f"the share of its members for which {w.arg(n, 1)}"),
    _member("sum", "num", "same", "sum of x over members", _sum,
            lambda w, n: f"the total of {w.arg(n, 1)} over its members", better_from=(1,)),
    _member("mean", "num", "same_num", "mean of x over members", _mean,
            lambda w, n: f"the mean of {w.arg(n, 1)} over its members", better_from=(1,)),
    _member("min", "value", "same", "smallest x among members", _min,
            lambda w, n: f"the lowest {w.arg(n, 1)} among its members", better_from=(1,)),
    _member("max", "value", "same", "largest x among members", _max,
            lambda w, n: f"the highest {w.arg(n, 1)} among its members", better_from=(1,)),
    _member("any", "cond", "bool", "some member meets cond (Kleene)", _any,
            lambda w, n: f"any of its members: {w.arg(n, 1)}"),
    _member("all", "cond", "bool", "every member meets cond (Kleene)", _all,
            lambda w, n: f"all of its members: {w.arg(n, 1)}"),
])
