"""Library kernels the generated code calls: three-valued scalar logic, and the cross-section
operators (ranks within peer groups, percentiles, NOF metric scores, member aggregates).

The built-ins' emitters (lang/builtins/) call these by name, choosing a mode where one kernel
serves several functions. Every function mirrors a reference implementation (there or in
engine/reference.py) and must agree with it bit for bit: same operations, same order of
summation (index order), same rounding.
Peer groups and member lists arrive as CSR pairs (ptr, idx) with entity indexes ascending.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .numba_cache import install

install()   # before the @njit(cache=True) below: where numba keeps their code (numba_cache.py)

NAN = np.nan


# --- scalars: three-valued logic and comparisons ----------------------------------------------

# Written without short-circuit `and`/`or` (one conditional expression over `|`/`&` of
# comparisons): LLVM makes them selects, not branches, and a branch on data that is true or
# unknown at random costs more than the rest of a rule (measured: benchmarks/bench_segments.py).

@njit(cache=True)
def k_and(a, b):
    return 0.0 if (a == 0.0) | (b == 0.0) else (1.0 if (a == 1.0) & (b == 1.0) else NAN)


@njit(cache=True)
def k_or(a, b):
    return 1.0 if (a == 1.0) | (b == 1.0) else (0.0 if (a == 0.0) & (b == 0.0) else NAN)


@njit(cache=True)
def k_not(a):
    return 1.0 - a          # unknown stays unknown: 1 - NaN is NaN


@njit(cache=True)
def eq(a, b):
    return NAN if (a != a) | (b != b) else (1.0 if a == b else 0.0)


@njit(cache=True)
def ne(a, b):
    return NAN if (a != a) | (b != b) else (0.0 if a == b else 1.0)


@njit(cache=True)
def lt(a, b):
    return NAN if (a != a) | (b != b) else (1.0 if a < b else 0.0)


@njit(cache=True)
def le(a, b):
    return NAN if (a != a) | (b != b) else (1.0 if a <= b else 0.0)


@njit(cache=True)
def gt(a, b):
    return NAN if (a != a) | (b != b) else (1.0 if a > b else 0.0)


@njit(cache=True)
def ge(a, b):
    return NAN if (a != a) | (b != b) else (1.0 if a >= b else 0.0)


@njit(cache=True)
def div(a, b):
    if b == 0.0:
        return NAN
    return a / b


@njit(cache=True)
def if_(c, a, b):
    if c != c:
        return NAN
    return a if c == 1.0 else b


@njit(cache=True)
def is_missing(a):
    return 1.0 if a != a else 0.0


@njit(cache=True)
def round_to(x, scale):
    return np.rint(x * scale) / scale


# --- across peers -----------------------------------------------------------------------------

@njit(cache=True)
def ranks(x, sign, ptr, idx, mode, k, out):
    """Rank-based values within each peer group: `rank_group` for every group in turn."""
    for g in range(ptr.size - 1):
        rank_group(x, sign, ptr, idx, g, mode, k, out)


@njit(cache=True)
def rank_group(x, sign, ptr, idx, g, mode, k, out):
    """Rank-based values within peer group g (nothing when there is no group g), from one sort.

    A parallel kernel runs the ranks of a stage as one loop over (rank, group) tasks, so a
    group is the unit of work; a group index past the last group is a task with no work.

    y = sign * x (sign -1 when lower is better). For an entity with a value, with `smaller`
    and `greater` the numbers of its peers with smaller and greater y and n the peers with a
    value: mode 0, the percentile rank 100 * smaller / (n - 1) (unknown when n < 2); 1, the
    rank greater + 1; 2, the rank from the worst smaller + 1; 3, the group of k by rank
    1 + floor(k * greater / n) (unknown when n < 2). A tie run shares its counts, so ties
    share the position nearest their end."""
    if g >= ptr.size - 1:
        return
    members = idx[ptr[g]:ptr[g + 1]]
    vals = np.empty(members.size)
    ents = np.empty(members.size, np.int64)
    n = 0
    for e in members:
        out[e] = NAN
        v = x[e]
        if v == v:
            vals[n] = sign * v
            ents[n] = e
            n += 1
    if n == 0:
        return
    order = np.argsort(vals[:n])
    i = 0
    while i < n:
        j = i + 1
        while j < n and vals[order[j]] == vals[order[i]]:
            j += 1
        smaller = i
        greater = n - j
        for r in range(i, j):
            e = ents[order[r]]
            if mode == 0:
                out[e] = NAN if n < 2 else 100.0 * smaller / (n - 1)
            elif mode == 1:
                out[e] = greater + 1.0
            elif mode == 2:
                out[e] = smaller + 1.0
            else:
                out[e] = NAN if n < 2 else 1 + np.floor(k * greater / n)
        i = j


@njit(cache=True)
def peer_count(x, ptr, idx, out):
    for g in range(ptr.size - 1):
        members = idx[ptr[g]:ptr[g + 1]]
        k = 0
        for e in members:
            if x[e] == x[e]:
                k += 1
        for e in members:
            out[e] = k


@njit(cache=True)
def zscore(y, ptr, idx, out):
    for g in range(ptr.size - 1):
        members = idx[ptr[g]:ptr[g + 1]]
        k = 0
        total = 0.0
        for e in members:
            out[e] = NAN
            if y[e] == y[e]:
                k += 1
                total += y[e]
        if k < 2:
            continue
        mean = total / k
        ss = 0.0
        for e in members:
            if y[e] == y[e]:
                ss += (y[e] - mean) ** 2
        sd = np.sqrt(ss / k)
        for e in members:
            if y[e] == y[e]:
                out[e] = 0.0 if sd == 0 else (y[e] - mean) / sd


@njit(cache=True)
def percentile(x, p, ptr, idx, out):
    for g in range(ptr.size - 1):
        members = idx[ptr[g]:ptr[g + 1]]
        vals = np.empty(members.size)
        k = 0
        for e in members:
            if x[e] == x[e]:
                vals[k] = x[e]
                k += 1
        xs = np.sort(vals[:k])
        for e in members:
            out[e] = NAN
            q = p[e]
            if k == 0 or q != q or q < 0 or q > 100:
                continue
            pos = q / 100.0 * (k - 1)
            lo = int(np.floor(pos))
            hi = min(lo + 1, k - 1)
            out[e] = xs[lo] + (pos - lo) * (xs[hi] - xs[lo])


@njit(cache=True)
def _spread(vals, k, e_of, best, worst, single, out):
    """NOF scores for the first k of vals (higher = better), written to out[e_of[i]]."""
    if k == 0:
        return
    if k == 1:
        out[e_of[0]] = single
        return
    ys = np.sort(vals[:k])
    for i in range(k):
        better = k - np.searchsorted(ys, vals[i], side="right")
        raw = best + (worst - best) * better / (k - 1)
        s = np.rint(raw * 100.0) / 100.0
        if better > 0 and better < k - 1:
            s = min(max(s, best + 0.01), worst - 0.01)
        out[e_of[i]] = s


@njit(cache=True)
def scores(y, threshold, mode, ptr, idx, out):
    """NOF 2025/26 metric scores. mode 0: by rank; 1: standard (meeting it scores 1); 2: floor
    (below it scores 4).
    y and threshold are oriented so that higher is better."""
    for g in range(ptr.size - 1):
        members = idx[ptr[g]:ptr[g + 1]]
        m = members.size
        a_vals = np.empty(m)
        a_ent = np.empty(m, np.int64)
        ka = 0
        for e in members:
            out[e] = NAN
            if y[e] != y[e]:
                continue
            if mode != 0 and threshold[e] != threshold[e]:
                continue
            if mode == 1 and y[e] >= threshold[e]:
                out[e] = 1.0
                continue
            if mode == 2 and y[e] < threshold[e]:
                out[e] = 4.0
                continue
            a_vals[ka] = y[e]
            a_ent[ka] = e
            ka += 1
        if mode == 0:
            _spread(a_vals, ka, a_ent, 1.0, 4.0, NAN, out)
        elif mode == 1:
            _spread(a_vals, ka, a_ent, 2.0, 4.0, 2.0, out)
        else:
            _spread(a_vals, ka, a_ent, 1.0, 3.0, 1.0, out)


# --- across the hierarchy ---------------------------------------------------------------------

@njit(cache=True)
def members(v, ptr, idx, op, out, alive):
    """Aggregate v over each entity's members (children in index order) that exist in the
    period (`alive`). op: 0 count, 1 share, 2 sum, 3 mean, 4 min, 5 max, 6 any, 7 all."""
    for e in range(ptr.size - 1):
        n = 0
        ones = 0.0
        zeros = 0.0
        unk = 0.0
        total = 0.0
        lo = np.inf
        hi = -np.inf
        for j in range(ptr[e], ptr[e + 1]):
            if not alive[idx[j]]:
                continue
            n += 1
            x = v[idx[j]]
            if x != x:
                unk += 1.0
                continue
            if x == 1.0:
                ones += 1.0
            if x == 0.0:
                zeros += 1.0
            total += x
            lo = min(lo, x)
            hi = max(hi, x)
        if op == 0:
            out[e] = NAN if unk > 0 else ones
        elif op == 1:
            out[e] = NAN if (unk > 0 or n == 0) else 100.0 * ones / n
        elif op == 2:
            out[e] = NAN if unk > 0 else total
        elif op == 3:
            out[e] = NAN if (unk > 0 or n == 0) else total / n
        elif op == 4:
            out[e] = NAN if (unk > 0 or n == 0) else lo
        elif op == 5:
            out[e] = NAN if (unk > 0 or n == 0) else hi
        elif op == 6:
            out[e] = 1.0 if ones > 0 else (NAN if unk > 0 else 0.0)
        else:
            out[e] = 0.0 if zeros > 0 else (NAN if unk > 0 else 1.0)


@njit(cache=True)
def take_parent(v, parent, fill, out):
    """Each entity's parent's value; `fill` for an entity without a parent."""
    for e in range(parent.size):
        p = parent[e]
        out[e] = v[p] if p >= 0 else fill


# --- levels from rules ------------------------------------------------------------------------

@njit(cache=True)
def fold(values, nl, jl, default):
    """`decide: worst` for one cell, without branches on the data: from the rules' values (a
    tuple of 1.0 / 0.0 / NaN) -> (computed level, candidate level or -1, incomplete, fired
    bits, unknown bits); rule i is bit i of the int64 words (at most 64 rules). `nl`/`jl` hold
    each rule's level where it is a normal/judgement rule, else -1. The same fold as
    combine() and the reference's outcomes.decide(). Called with a tuple, so the kernel's
    source grows by one name per rule, not by the fold: numba's front end costs about a
    millisecond per operation it types, and the fold written out per rule took 0.2 s a rule
    to compile. Its loops have a length known when compiled: LLVM unrolls them."""
    fw = 0
    uw = 0
    cw = -1
    cj = -1
    for i in range(len(values)):
        v = values[i]
        f = np.int64(v == 1.0)
        fw |= f << i
        uw |= np.int64(v != v) << i
        cw = max(cw, (nl[i] + 1) * f - 1)
        cj = max(cj, (jl[i] + 1) * f - 1)
    comp = cw if cw >= 0 else default
    # a candidate for a worse level; or, where the rules found nothing worse than the
    # default, for a better one (a judged segment 1)
    cand = cj if (cj > comp) | ((cj >= 0) & (cj < comp) & (comp == default)) else -1
    top = max(comp, cand)
    inc = 0
    for i in range(len(values)):
        v = values[i]
        inc |= np.int64(v != v) & np.int64((nl[i] > comp) | (jl[i] > top))
    return comp, cand, inc != 0, fw, uw


@njit(cache=True)
def combine(rv, e, levels, judged, default, first, fired, unknown, t):
    """One entity's computed level, incomplete flag and candidate level from its rules'
    values rv[e, :], setting its fired and unknown bits. Mirrors the reference's combine():
    `first` takes the first fired rule, otherwise the worst fired level; judgement rules only
    make a candidate; an unknown rule that could have made the level worse (and, with `first`,
    comes before the deciding rule), or an unknown judgement rule for a level worse than both
    the level and the candidate level, marks the outcome incomplete."""
    R = levels.size
    comp = -1
    cand = -1
    stop = R
    for i in range(R):
        v = rv[e, i]
        bit = np.uint8(1 << (i & 7))        # outcomes.rule_bits' layout
        if v == 1.0:
            fired[t, e, i >> 3] |= bit
            if judged[i]:
                if cand < levels[i]:
                    cand = levels[i]
            elif first:
                if comp < 0:
                    comp = levels[i]
                    stop = i
            elif comp < levels[i]:
                comp = levels[i]
        elif v != v:
            unknown[t, e, i >> 3] |= bit
    if comp < 0:
        comp = default
    inc = False
    for i in range(R):
        v = rv[e, i]
        if v != v and not judged[i] and levels[i] > comp and i < stop:
            inc = True
    # worse than the computed level, or better than the default the rules left it at
    if cand == comp or (cand < comp and comp != default):
        cand = -1
    # an unknown judgement rule could have made it a candidate for something worse
    top = max(comp, cand)
    for i in range(R):
        v = rv[e, i]
        if v != v and judged[i] and levels[i] > top:
            inc = True
    return comp, inc, cand


# --- over time --------------------------------------------------------------------------------

@njit(cache=True)
def follow(h, q, s, e, lp, li, la):
    """The value at period s (before now) that entity e's active stand-ins agree on, else
    unknown (engine/lineage.py's agree). h holds the value by period: an input's own array
    (q < 0) or a ring buffer indexed by s & q."""
    lo = np.inf
    hi = -np.inf
    for j in range(lp[e], lp[e + 1]):
        if la[s, j]:
            w = h[s & q, li[j]] if q >= 0 else h[s, li[j]]
            if w != w:
                return NAN
            lo = min(lo, w)
            hi = max(hi, w)
    return lo if lo == hi else NAN


@njit(cache=True)
def follow_level(level, s, e, lp, li, la):
    """The worst level at period s (before now) among entity e's active stand-ins."""
    worst = -1
    for j in range(lp[e], lp[e + 1]):
        if la[s, j]:
            worst = max(worst, level[s, li[j]])
    return float(worst)


@njit(cache=True)
def latch(a, last_decisive, last_unknown, e, t, n, decisive):
    """Kleene and (decisive 0.0) or or (decisive 1.0) over the last n periods, from the last
    period the operand was decisive (false for and, true for or) and the last it was
    unknown; a window reaching before the data is unknown. Updates the entity's state."""
    if a == decisive:
        last_decisive[e] = t
    elif a != a:
        last_unknown[e] = t
    start = t - n + 1
    if last_decisive[e] >= start:
        return decisive
    if last_unknown[e] >= start or start < 0:
        return NAN
    return 1.0 - decisive


@njit(cache=True)
def window(h, q, e, t, n, op):
    """mean (op 0), sum (1), min (2), max (3) or count of true (4) of a value over the last n
    periods, this one first; unknown if any is unknown or before the data. h holds the value
    by period: an input's own array (q < 0) or a ring buffer indexed by t & q."""
    acc = 0.0
    if op == 2:
        acc = np.inf
    elif op == 3:
        acc = -np.inf
    for k in range(n):
        tt = t - k
        if tt < 0:
            return NAN
        w = h[tt & q, e] if q >= 0 else h[tt, e]
        if w != w:
            return NAN
        if op <= 1:
            acc += w
        elif op == 2:
            acc = min(acc, w)
        elif op == 3:
            acc = max(acc, w)
        elif w == 1.0:
            acc += 1.0
    if op == 0:
        return acc / n
    return acc
