"""Across peers, per period: ranks, scores and percentiles of a value within a peer group.

Peers are entities of the same kind with the same peer-group attribute (the policy's
`peer_group`, or `by=attribute|all`) and a known value. With y the value oriented so that
higher is better (by the input's `better:` or `better=`), n peers, better = #peers with
greater y and worse = #peers with smaller y:

- rank = 1 + better (1 = best); worst_rank = 1 + worse (1 = worst);
- pct_rank = 100 × worse / (n − 1): 0 = worst, 100 = best; a tie cluster shares the lowest
  percentile of its cluster;
- ntile(x, k, first=worst) = 1 + ⌊k × worse / n⌋: 1 = the worst of k groups, k = the best,
  the way pct_rank counts; ntile(x, k, first=best) = 1 + ⌊k × better / n⌋: 1 = the best.
  Without first=, ntile counts from the best (its meaning before first= existed) and the
  checker warns, since that is the opposite way from pct_rank;
- percentile(x, p, first=lowest): the p-th percentile of the peers' values in ascending
  order, interpolated linearly (Excel PERCENTILE.INC: position p/100 × (n − 1)), whatever
  `better:` says; percentile(x, p, first=worst): the same over y, so p reads on pct_rank's
  scale (0 = the worst value, 100 = the best; `pct_rank(x) <= p` for exactly the values at
  or worse than it, when no peers tie across it). Without first=, it is first=lowest, with a
  warning;
- zscore uses the population standard deviation (0 when all peers are equal).

pct_rank, ntile and zscore are unknown in a group of one.

metric_score follows NOF 2025/26: by rank 1 + 3(r − 1)/(n − 1); with a standard, those
meeting it score 1 and the rest 2 + 2(r − 1)/(m − 1) among themselves; with a floor, those
below it score 4 and the rest 1 + 2(r − 1)/(m − 1); r counts strictly better peers, so a tie
cluster takes its best score; rounded to 2 dp, and only the best (worst) scores the end of
the range. A lone scorer in rank mode is unknown.

Compiled: the library's rank kernel (`lib.ranks`, one group per call as `lib.rank_group` in
a parallel kernel) in the mode below, `lib.scores` for metric scores, `lib.zscore`,
`lib.percentile` and `lib.peer_count`.
"""

from __future__ import annotations

import numpy as np

from .logic import NAN, round_to
from .spec import Builtin, family

# the rank kernel's modes (compile/library.py: rank_group)
_RANK_MODE = {"pct_rank": 0, "rank": 1, "worst_rank": 2, "ntile": 3}
_PEER_KW = ("by", "better")


def grouping(call, policy) -> str:
    """The attribute whose values form a peer function's groups: `by=`, else the policy's
    peer_group, else the organisation's type."""
    kw = call.kwarg("by")
    return kw.value.name if kw is not None else (policy.peer_group or "type")


# --- reference ------------------------------------------------------------------------------

def peer_keys(groups: np.ndarray, shape: tuple[int, ...]) -> tuple[np.ndarray, int]:
    """For cells of shape [..., E] (entities last), each cell's (period row, peer group) as one
    integer key, and the number of keys: ranks never mix periods or groups."""
    _, codes = np.unique(groups, return_inverse=True)
    codes = codes.reshape(-1)
    G = int(codes.max()) + 1 if codes.size else 1
    rows = int(np.prod(shape[:-1], dtype=np.int64))
    keys = np.arange(rows, dtype=np.int64)[:, None] * G + codes[None, :]
    return keys.reshape(shape), rows * G


def ranked(keys: np.ndarray, y: np.ndarray, n_keys: int):
    """For each cell with a known y: (#cells of its key with smaller y, #with greater y), NaN
    elsewhere; and per key the number of known cells. One sort of all cells by (key, y); tie
    runs are found by comparing neighbours, so equal values share their counts."""
    flat_y = y.reshape(-1)
    known = np.flatnonzero(~np.isnan(flat_y))
    kk, yk = keys.reshape(-1)[known], flat_y[known]
    order = np.lexsort((yk, kk))
    ks, ys = kk[order], yk[order]
    m = ks.size
    at = np.arange(m)
    starts = np.ones(m, bool)
    starts[1:] = (ks[1:] != ks[:-1]) | (ys[1:] != ys[:-1])
    ends = np.ones(m, bool)
    ends[:-1] = starts[1:]
    run_first = np.maximum.accumulate(np.where(starts, at, 0)) if m else at
    run_last = np.minimum.accumulate(np.where(ends, at, m)[::-1])[::-1] if m else at
    count = np.bincount(kk, minlength=n_keys)
    first = (np.cumsum(count) - count)[ks]
    smaller = np.full(flat_y.size, NAN)
    greater = np.full(flat_y.size, NAN)
    smaller[known[order]] = run_first - first
    greater[known[order]] = first + count[ks] - 1 - run_last
    return smaller.reshape(y.shape), greater.reshape(y.shape), count


def spread(keys: np.ndarray, y: np.ndarray, n_keys: int, among: np.ndarray, best: float,
           worst: float, *, single: float) -> np.ndarray:
    """NOF-style scores (y higher = better) from `best` to `worst` by rank among the `among`
    cells of each key, tie clusters taking their best score; rounded to 2 dp, only true ends
    reaching the ends of the range; `single` for a lone cell. Valid where `among`."""
    _, better, count = ranked(keys, np.where(among, y, NAN), n_keys)
    n = count[keys]
    with np.errstate(all="ignore"):
        raw = best + (worst - best) * better / (n - 1)
    out = round_to(raw, 2)
    inner = (better > 0) & (better < n - 1)
    out = np.where(inner, np.clip(out, best + 0.01, worst - 0.01), out)
    return np.where(n == 1, single, out)


def _keys(ev, node, shape):
    """Each cell's peer group within its period, as a key in range(n_keys)."""
    return peer_keys(ev.L.groups[grouping(node, ev.p)], shape)


def _lower(ev, node) -> bool:
    return ev.c.directions.get(node.nid) == "lower"


def _oriented(ev, node, t):
    x = ev.eval(node.args[0], t)
    return -x if _lower(ev, node) else x


def _stats(ev, node, y):
    """For each cell with a value: (#peers with smaller y, #greater, #peers with a value)."""
    keys, n_keys = _keys(ev, node, y.shape)
    smaller, greater, count = ranked(keys, y, n_keys)
    return smaller, greater, count[keys].astype(np.float64)


def _pct_rank(ev, node, t):
    y = _oriented(ev, node, t)
    smaller, _, n = _stats(ev, node, y)
    with np.errstate(all="ignore"):
        out = 100.0 * smaller / (n - 1)
    out[(n < 2) | np.isnan(y)] = NAN
    return out


def _rank(ev, node, t):
    _, greater, _ = _stats(ev, node, _oriented(ev, node, t))
    return greater + 1


def _worst_rank(ev, node, t):
    smaller, _, _ = _stats(ev, node, _oriented(ev, node, t))
    return smaller + 1


def _from_worst(node) -> bool:
    """ntile(..., first=worst) and percentile(..., first=worst): counted from the worst."""
    return BUILTINS[node.func].choice(node, "first") == "worst"


def _ntile(ev, node, t):
    y = _oriented(ev, node, t)
    if _from_worst(node):           # the worst group first: the better count of -y
        y = -y
    k = ev.window_size(node.args[1], t)
    _, greater, n = _stats(ev, node, y)
    with np.errstate(all="ignore"):
        out = 1 + np.floor(k * greater / n)
    out[(n < 2) | np.isnan(y)] = NAN
    return out


def _zscore(ev, node, t):
    y = _oriented(ev, node, t)
    keys, n_keys = _keys(ev, node, y.shape)
    known = ~np.isnan(y)
    k, v = keys[known], y[known]
    # bincount adds in index order, as the kernel does: the sums agree to the last bit
    n = np.bincount(k, minlength=n_keys)
    with np.errstate(all="ignore"):
        mean = np.bincount(k, weights=v, minlength=n_keys) / n
        dev = v - mean[k]
        sd = np.sqrt(np.bincount(k, weights=dev ** 2, minlength=n_keys) / n)[k]
        scores = np.where(sd == 0, 0.0, dev / sd)
    out = np.full(y.shape, NAN)
    out[known] = np.where(n[k] >= 2, scores, NAN)
    return out


def _percentile(ev, node, t):
    if _from_worst(node) and _lower(ev, node):
        # the worst first: the percentile of the oriented values, oriented back
        return -_percentile_of(ev, node, t, -ev.eval(node.args[0], t))
    return _percentile_of(ev, node, t, ev.eval(node.args[0], t))


def _percentile_of(ev, node, t, x):
    q = ev.eval(node.args[1], t)
    keys, n_keys = _keys(ev, node, x.shape)
    known = ~np.isnan(x)
    kk, xv = keys[known], x[known]
    xs = xv[np.lexsort((xv, kk))]                    # each group's values, ascending
    count = np.bincount(kk, minlength=n_keys)
    n = count[keys]
    first = (np.cumsum(count) - count)[keys]
    with np.errstate(invalid="ignore"):
        ok = (n > 0) & ~np.isnan(q) & (q >= 0) & (q <= 100)
    pos = np.where(ok, q, 0.0) / 100.0 * (n - 1)
    lo = np.floor(pos).astype(np.int64)
    hi = np.minimum(lo + 1, n - 1)
    at_lo = xs[np.where(ok, first + lo, 0)] if xs.size else np.zeros(x.shape)
    at_hi = xs[np.where(ok, first + hi, 0)] if xs.size else np.zeros(x.shape)
    return np.where(ok, at_lo + (pos - lo) * (at_hi - at_lo), NAN)


def _peer_count(ev, node, t):
    x = ev.eval(node.args[0], t)
    _, _, n = _stats(ev, node, np.where(np.isnan(x), NAN, 0.0))
    return n


def _metric_score(ev, node, t):
    y = _oriented(ev, node, t)
    keys, n_keys = _keys(ev, node, y.shape)
    standard = node.kwarg("standard")
    floor = node.kwarg("floor")
    scored = ~np.isnan(y)
    out = np.full(y.shape, NAN)
    if standard is None and floor is None:
        out[scored] = spread(keys, y, n_keys, scored, 1.0, 4.0, single=NAN)[scored]
        return out
    raw = ev.eval((standard or floor).value, t)
    threshold = -raw if _lower(ev, node) else raw
    scored &= ~np.isnan(threshold)
    with np.errstate(invalid="ignore"):
        if standard is not None:
            settled, value, best, worst, single = y >= threshold, 1.0, 2.0, 4.0, 2.0
        else:
            settled, value, best, worst, single = y < threshold, 4.0, 1.0, 3.0, 1.0
    settled &= scored
    rest = scored & ~settled
    out[settled] = value
    out[rest] = spread(keys, y, n_keys, rest, best, worst, single=single)[rest]
    return out


# --- compiled -------------------------------------------------------------------------------

def _rank_size(g, node) -> str:
    return f"float({g.window_size(node.args[1])})" if node.func == "ntile" else "0.0"


def _rank_sign(g, node) -> str:
    """-1 when the kernel ranks -x: lower is better, or (xor) ntile counts from the worst."""
    return "-1.0" if g.lower(node) != (node.func == "ntile" and _from_worst(node)) else "1.0"


def _emit_rank(g, node, out, emit):
    # ranks orient in place (sign -1 when lower is better): no negated copy
    groups = g.grouping(node)
    x = g.column(node.args[0])
    sign = _rank_sign(g, node)
    emit(f"lib.ranks({x}, {sign}, {groups}, {_RANK_MODE[node.func]}, {_rank_size(g, node)}, "
         f"{out})")


def _rank_task(g, node):
    """One peer group's share of a rank: a parallel kernel runs a stage's ranks as one loop
    over (rank, group) tasks."""
    k = _rank_size(g, node)
    sign = _rank_sign(g, node)
    groups = g.grouping(node)
    call = (f"lib.rank_group({g.column(node.args[0])}, {sign}, {groups}, g, "
            f"{_RANK_MODE[node.func]}, {k}, m{node.nid})")
    return groups.split(",")[0], call


def _emit_zscore(g, node, out, emit):
    groups = g.grouping(node)
    x = g.column(node.args[0])
    emit(f"lib.zscore({'-' + x if g.lower(node) else x}, {groups}, {out})")


def _emit_percentile(g, node, out, emit):
    groups = g.grouping(node)
    x = g.column(node.args[0])
    flip = _from_worst(node) and g.lower(node)
    emit(f"lib.percentile({'-' + x if flip else x}, {g.column(node.args[1])}, {groups}, "
         f"{out})")
    if flip:                        # as the reference: oriented back
        emit(f"{out}[:] = -{out}")


def _emit_peer_count(g, node, out, emit):
    groups = g.grouping(node)
    emit(f"lib.peer_count({g.column(node.args[0])}, {groups}, {out})")


def _emit_metric_score(g, node, out, emit):
    # y and the threshold oriented so that higher is better; mode 0 by rank, 1 standard,
    # 2 floor (compile/library.py: scores)
    groups = g.grouping(node)
    x = g.column(node.args[0])
    lower = g.lower(node)
    y = f"-{x}" if lower else x
    kw = node.kwarg("standard") or node.kwarg("floor")
    if kw is None:
        emit(f"lib.scores({y}, {y}, 0, {groups}, {out})")
        return
    thr = g.column(kw.value)
    thr = f"-{thr}" if lower else thr
    mode = 1 if kw.name == "standard" else 2
    emit(f"lib.scores({y}, {thr}, {mode}, {groups}, {out})")


# --- words ----------------------------------------------------------------------------------

def _bottom_or_top(w, node, op, value):
    """`pct_rank(x) <= 25` as "x in the bottom quartile of its peers"."""
    if op not in ("<", "<=", ">", ">="):
        return None
    subject = w.text(node.args[0])
    if op in ("<", "<="):
        return f"{subject} in the bottom {w.share(value)} of {w.peers(node)}"
    return f"{subject} in the top {w.share(100 - value)} of {w.peers(node)}"


_NTILE_UNSTATED = (
    "without first=, group 1 is the best: the opposite way from pct_rank (0 = worst); write "
    "first=best to keep this meaning, or first=worst to count from the worst as pct_rank does")
_PERCENTILE_UNSTATED = (
    "without first=, p counts from the lowest value whatever 'better' says, unlike pct_rank "
    "(0 = worst); write first=lowest to keep this meaning, or first=worst to read p as "
    "pct_rank does")

BUILTINS = family("peer", [
    Builtin("pct_rank", "peer", ("value",), "number",
            "percentile rank 0-100 within the peer group; 0 is the worst, honouring 'better'",
            kwargs=_PEER_KW, ranks=True, better="higher",
            reference=_pct_rank, compiled=_emit_rank, task=_rank_task,
            words=lambda w, n: f"the percentile rank of {w.arg(n, 0)} among {w.peers(n)} "
                               f"(0 = worst)",
            compared_words=_bottom_or_top),
    Builtin("rank", "peer", ("value",), "count",
            "position in the peer group, 1 = best; ties share the better position",
            kwargs=_PEER_KW, ranks=True, better="lower",
            reference=_rank, compiled=_emit_rank, task=_rank_task,
            words=lambda w, n: f"the rank of {w.arg(n, 0)} among {w.peers(n)} (1 = best)"),
    Builtin("worst_rank", "peer", ("value",), "count",
            "position in the peer group counted from the worst, 1 = worst; ties share it",
            kwargs=_PEER_KW, ranks=True, better="higher",
            reference=_worst_rank, compiled=_emit_rank, task=_rank_task,
            words=lambda w, n: f"the rank of {w.arg(n, 0)} among {w.peers(n)} counted from "
                               f"the worst"),
    Builtin("ntile", "peer", ("value", "int"), "count",
            "which of k equal groups by rank: first=worst counts like pct_rank, 1 + "
            "floor(k × worse / n), 1 = worst group, k = best; first=best counts like rank, "
            "1 + floor(k × better / n), 1 = best; without first=, first=best with a warning",
            kwargs=_PEER_KW + ("first",), ranks=True, better="lower", values=(0,), size=1,
            choices=(("first", ("best", "worst")),), unstated=("first", _NTILE_UNSTATED),
            reference=_ntile, compiled=_emit_rank, task=_rank_task,
            words=lambda w, n: f"which of {w.count(n.args[1])} equal groups of {w.peers(n)} "
                               f"{w.arg(n, 0)} falls in "
                               f"({'1 = worst' if _from_worst(n) else '1 = best'})"),
    Builtin("zscore", "peer", ("num",), "number",
            "standard score within the peer group, positive = better",
            kwargs=_PEER_KW, ranks=True, better="higher",
            reference=_zscore, compiled=_emit_zscore,
            words=lambda w, n: f"the standard score of {w.arg(n, 0)} among {w.peers(n)}"),
    Builtin("percentile", "peer", ("num", "pct"), "same",
            "the p-th percentile (0-100) of x within the peer group, interpolated linearly at "
            "position p/100 × (n − 1): first=lowest in ascending order of the values, whatever "
            "'better' says; first=worst worst first, honouring 'better', so p reads as "
            "pct_rank does (0 = worst); without first=, first=lowest with a warning",
            kwargs=("by", "better", "first"), choices=(("first", ("lowest", "worst")),),
            oriented_when=("first", "worst"), unstated=("first", _PERCENTILE_UNSTATED),
            reference=_percentile, compiled=_emit_percentile,
            words=lambda w, n: f"the {w.arg(n, 1)} percentile of {w.arg(n, 0)} among "
                               f"{w.peers(n)}"
                               f"{' counted from the worst' if _from_worst(n) else ''}"),
    Builtin("peer_count", "peer", ("value",), "count",
            "how many peers have a value of x", kwargs=("by",),
            reference=_peer_count, compiled=_emit_peer_count,
            words=lambda w, n: f"the number of {w.peers(n)} with a value of {w.arg(n, 0)}"),
    Builtin("metric_score", "peer", ("value",), "number",
            "NHS Oversight Framework 2025/26 metric score, 1.00 (best) to 4.00 (worst), by "
            "standard, floor or rank, tie clusters taking their best score",
            kwargs=("by", "better", "standard", "floor"), exclusive=("standard", "floor"),
            ranks=True, better="lower", reference=_metric_score, compiled=_emit_metric_score,
            words=lambda w, n: f"the metric score of {w.arg(n, 0)} (1 best to 4 worst)"),
])
