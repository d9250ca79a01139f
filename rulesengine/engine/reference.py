"""The reference evaluator: the semantics of design.md §5 in plain NumPy.

It is the oracle the compiled kernel is tested against, so it is written for clarity: one
method per construct, vectorised over entities within a period, periods in order (a period's
outcome feeds `previous(level)` in the next). Values are float64 arrays over entities: NaN is
unknown; a condition is 1.0 (true), 0.0 (false) or NaN (unknown).

Semantics in brief (each pinned by tests/engine):
- `and`/`or`/`not` are Kleene; comparisons and arithmetic with an unknown are unknown;
  division by zero is unknown.
- Windows look at the last n periods including this one; periods before the data count as
  unknown. mean/sum/min/max_over and count_over are unknown if any value in the window is;
  sustained is a Kleene `and`, ever a Kleene `or` over the window.
- Peers are entities of the same kind with the same peer-group attribute and a known value.
  With y the value oriented so that higher is better: rank = 1 + #peers with greater y;
  worst_rank = 1 + #peers with smaller y; pct_rank = 100 × #smaller / (n − 1), so ties share
  the lowest percentile of their cluster; ntile(x, k) = 1 + ⌊k × (rank − 1) / n⌋; zscore uses
  the population standard deviation (0 when all peers are equal). pct_rank, ntile and zscore
  are unknown in a group of one; percentile interpolates linearly (Excel PERCENTILE.INC).
- metric_score follows NOF 2025/26: by rank 1 + 3(r − 1)/(n − 1); with a standard, those
  meeting it score 1 and the rest 2 + 2(r − 1)/(m − 1) among themselves; with a floor, those
  below it score 4 and the rest 1 + 2(r − 1)/(m − 1); r counts strictly better peers, so a tie
  cluster takes its best score; rounded to 2 dp, and only the best (worst) scores the end of
  the range. A lone scorer in rank mode is unknown.
- Member aggregates are unknown if any member's value is; `any`/`all` are Kleene; with no
  members count/sum are 0, any false, all true, share/mean/min/max unknown.
- mean_of/min_of/max_of/sum_of skip missing values (unknown if all are); count_of is unknown
  if any condition is.
- Levels: `worst` (and `collect`) take the worst level among fired rules, `first` the first
  fired rule in file order, else the default. Rules for a judgement level (`decided_by:`)
  only make a candidate. The outcome is incomplete when an unknown rule could have made the
  level worse (with `first`: an unknown rule before the deciding one), or an unknown
  judgement rule could have made it a candidate for a level worse than both the level and
  the candidate level: no gap in the data silently improves an outcome.
- Strings (entity attributes and string literals; object arrays here, None = unknown) are
  known, except a string chosen by an `if` whose condition is unknown, or read before the
  data begins (`type[-1]` in the first period): those are unknown like any other value, so
  comparing them is unknown and missing() is true. An entity without a parent has the parent
  string "" (so `parent.type == ""` is true), whereas a parent's number is unknown.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from ..lang import ast
from ..lang import types as T
from ..lang.checker import CheckedPolicy
from .layout import Layout
from .outcomes import NO_LEVEL, RawOutcomes, decide, n_words

NAN = np.nan


def evaluate_reference(checked: CheckedPolicy, layout: Layout) -> RawOutcomes:
    """Evaluate every rule for every entity and period; the oracle for the compiled kernel."""
    return _Reference(checked, layout).run()


# --- three-valued logic ----------------------------------------------------------------------

def k_and(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    out = np.where((a == 1) & (b == 1), 1.0, NAN)
    return np.where((a == 0) | (b == 0), 0.0, out)


def k_or(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    out = np.where((a == 0) & (b == 0), 0.0, NAN)
    return np.where((a == 1) | (b == 1), 1.0, out)


def k_not(a: np.ndarray) -> np.ndarray:
    return np.where(np.isnan(a), NAN, 1.0 - a)


def is_unknown(x: np.ndarray) -> np.ndarray:
    """Where a value is unknown: NaN for numbers and conditions, None for strings."""
    if x.dtype == object:
        return np.array([v is None or (isinstance(v, float) and v != v) for v in x.flat],
                        dtype=bool).reshape(x.shape)
    return np.isnan(x)


def truth(mask: np.ndarray, *operands: np.ndarray) -> np.ndarray:
    """A comparison's result: 1/0, or unknown where any operand is unknown."""
    out = mask.astype(np.float64)
    for x in operands:
        out[is_unknown(x)] = NAN
    return out


def seq_sum(a: np.ndarray, axis: int = 0) -> np.ndarray:
    """Sum in index order (np.sum may pair terms up; the kernel adds one by one, and the two
    must agree to the last bit)."""
    if a.shape[axis] == 0:
        return np.zeros(np.delete(a.shape, axis)) if a.ndim > 1 else np.float64(0.0)
    return np.take(np.add.accumulate(a, axis=axis), -1, axis=axis)


def round_to(x: np.ndarray, digits: int) -> np.ndarray:
    """Half-to-even rounding of the scaled value (the kernel does the same, bit for bit)."""
    scale = 10.0 ** digits
    return np.rint(x * scale) / scale


class _Reference:
    def __init__(self, checked: CheckedPolicy, layout: Layout) -> None:
        self.c = checked
        self.p = checked.policy
        self.L = layout
        self.E = layout.n_entities
        self.P = layout.n_periods
        self.memo: dict[tuple[int, int], np.ndarray] = {}
        self.levels = np.full((self.P, self.E), NAN)       # final level, filled period by period

    # --- driver ----------------------------------------------------------------------------

    def run(self) -> RawOutcomes:
        P, E, L = self.P, self.E, self.L
        R = len(self.p.rules)
        W = n_words(R)
        computed = np.zeros((P, E), np.int16)
        level = np.zeros((P, E), np.int16)
        candidate = np.full((P, E), NO_LEVEL, np.int16)
        fired = np.zeros((P, E, W), np.uint64)
        unknown = np.zeros((P, E, W), np.uint64)
        incomplete = np.zeros((P, E), bool)
        subject = np.zeros((P, E), bool)

        for t in range(P):
            values = np.array([self.eval(r.when, t) for r in self.p.rules]).reshape(R, E)
            is_true = values == 1
            is_unknown = np.isnan(values)
            for i in range(R):
                word, bit = divmod(i, 64)
                fired[t, :, word] |= is_true[i].astype(np.uint64) << np.uint64(bit)
                unknown[t, :, word] |= is_unknown[i].astype(np.uint64) << np.uint64(bit)
            computed[t], incomplete[t], candidate[t] = self.combine(is_true, is_unknown)
            decided = L.decisions[t]
            final = np.where(np.isnan(decided), computed[t], decided).astype(np.int16)
            level[t] = final
            self.levels[t] = final
            applies = np.ones(E, bool)
            if self.p.applies_to is not None and self.p.applies_to.expr is not None:
                applies = self.eval(self.p.applies_to.expr, t) == 1
            subject[t] = L.kind_subject & applies
        return RawOutcomes(computed, level, candidate, fired, unknown, incomplete, subject)

    def combine(self, fired: np.ndarray, unknown: np.ndarray):
        """Per entity, from the rules' [R, E] fired/unknown masks: (computed level, incomplete,
        candidate level), by outcomes.decide(), the one place where fired rules become a level."""
        L = self.L
        d = decide(fired, unknown, L.rule_levels, L.rule_judgement, L.default_level,
                   self.p.decide == "first")
        return d.computed, d.incomplete, d.candidate

    # --- expressions -----------------------------------------------------------------------

    def eval(self, node: ast.Node, t: int) -> np.ndarray:
        """The node's value for every entity in period t (NaN-filled before the data)."""
        if t < 0:
            if self.c.types.get(node.nid) == T.STRING:
                return np.full(self.E, None, dtype=object)
            return np.full(self.E, NAN)
        key = (node.nid, t)
        hit = self.memo.get(key)
        if hit is None:
            hit = self.memo[key] = self._eval(node, t)
        return hit

    def _eval(self, node: ast.Node, t: int) -> np.ndarray:
        E = self.E
        if isinstance(node, ast.Number):
            return np.full(E, node.value)
        if isinstance(node, ast.Bool):
            return np.full(E, 1.0 if node.value else 0.0)
        if isinstance(node, ast.String):
            return np.full(E, node.value, dtype=object)
        if isinstance(node, (ast.Name, ast.Attribute)):
            return self.name(node, t)
        if isinstance(node, ast.Unary):
            v = self.eval(node.operand, t)
            return k_not(v) if node.op == "not" else -v
        if isinstance(node, ast.Binary):
            return self.binary(node, t)
        if isinstance(node, ast.In):
            v = self.eval(node.operand, t)
            out = np.zeros(E)
            for item in node.items:
                out = k_or(out, self.equal(v, self.eval(item, t)))
            return k_not(out) if node.negated else out
        if isinstance(node, ast.Between):
            v = self.eval(node.operand, t)
            lo, hi = self.eval(node.low, t), self.eval(node.high, t)
            return k_and(truth(v >= lo, v, lo), truth(v <= hi, v, hi))
        if isinstance(node, ast.If):
            c = self.eval(node.cond, t)
            a, b = self.eval(node.then, t), self.eval(node.else_, t)
            out = np.where(c == 1, a, b)
            out[np.isnan(c)] = None if out.dtype == object else NAN
            return out
        if isinstance(node, ast.Lag):
            return self.eval(node.operand, t - node.n)
        if isinstance(node, ast.Call):
            return getattr(self, "f_" + node.func)(node, t)
        raise AssertionError(type(node).__name__)

    def name(self, node: ast.Node, t: int) -> np.ndarray:
        ref = self.c.refs[node.nid]
        if isinstance(node, ast.Attribute):
            inner = self.value_of(ref, t)
            parent = self.L.parent
            if inner.dtype == object:
                return np.where(parent >= 0, inner[np.maximum(parent, 0)], "")
            return np.where(parent >= 0, inner[np.maximum(parent, 0)], NAN)
        return self.value_of(ref, t)

    def value_of(self, ref, t: int) -> np.ndarray:
        E = self.E
        if ref.kind == "input":
            return self.L.inputs[ref.name][t]
        if ref.kind == "param":
            return np.full(E, self.L.params[ref.name][t])
        if ref.kind == "define":
            return self.eval(self.p.defines[ref.name].expr, t)
        if ref.kind == "attr":
            codes, values = self.L.attributes[ref.name]
            return np.array(values, dtype=object)[codes]
        if ref.kind in ("label", "level"):
            return np.full(E, float(ref.index))
        raise AssertionError(ref.kind)

    def equal(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return truth(a == b, a, b)

    def binary(self, node: ast.Binary, t: int) -> np.ndarray:
        a, b = self.eval(node.left, t), self.eval(node.right, t)
        op = node.op
        if op == "and":
            return k_and(a, b)
        if op == "or":
            return k_or(a, b)
        if op == "==":
            return self.equal(a, b)
        if op == "!=":
            return k_not(self.equal(a, b))
        with np.errstate(all="ignore"):
            if op == "<":
                return truth(a < b, a, b)
            if op == "<=":
                return truth(a <= b, a, b)
            if op == ">":
                return truth(a > b, a, b)
            if op == ">=":
                return truth(a >= b, a, b)
            if op == "+":
                return a + b
            if op == "-":
                return a - b
            if op == "*":
                return a * b
            if op == "/":
                return np.where(b == 0, NAN, a / np.where(b == 0, 1.0, b))
        raise AssertionError(op)

    # --- over time -------------------------------------------------------------------------

    def window_size(self, node: ast.Node, t: int) -> int:
        if isinstance(node, ast.Number):
            return int(node.value)
        return int(self.L.params[node.name][t])

    def window(self, node: ast.Call, t: int) -> np.ndarray:
        """[n, E]: the argument in the last n periods, this one first."""
        n = self.window_size(node.args[1], t)
        return np.array([self.eval(node.args[0], t - k) for k in range(n)]).reshape(n, self.E)

    def _strict(self, node: ast.Call, t: int, reduce: Callable) -> np.ndarray:
        w = self.window(node, t)
        out = reduce(np.where(np.isnan(w), 0.0, w), axis=0).astype(np.float64)
        out[np.isnan(w).any(axis=0)] = NAN
        return out

    def f_change(self, node, t):
        n = self.window_size(node.args[1], t)
        return self.eval(node.args[0], t) - self.eval(node.args[0], t - n)

    def f_mean_over(self, node, t):
        return self._strict(node, t, lambda w, axis: seq_sum(w, axis) / w.shape[axis])

    def f_sum_over(self, node, t):
        return self._strict(node, t, seq_sum)

    def f_min_over(self, node, t):
        return self._strict(node, t, np.min)

    def f_max_over(self, node, t):
        return self._strict(node, t, np.max)

    def f_count_over(self, node, t):
        return self._strict(node, t, lambda w, axis: np.sum(w == 1, axis=axis))

    def f_sustained(self, node, t):
        out = np.ones(self.E)
        for row in self.window(node, t):
            out = k_and(out, row)
        return out

    def f_ever(self, node, t):
        out = np.zeros(self.E)
        for row in self.window(node, t):
            out = k_or(out, row)
        return out

    def f_previous(self, node, t):
        return self.levels[t - 1].copy() if t >= 1 else np.full(self.E, NAN)

    def f_periods_in(self, node, t):
        """Consecutive periods up to t-1 (within the data) whose level met the condition."""
        cond = node.args[0]
        out = np.zeros(self.E)
        running = np.ones(self.E, bool)
        for k in range(t - 1, -1, -1):
            held = self.level_condition(cond, self.levels[k]) == 1
            running &= held
            out += running
        return out

    def level_condition(self, node: ast.Node, levels: np.ndarray) -> np.ndarray:
        """A periods_in() condition evaluated on given levels (it reads only `level`)."""
        if isinstance(node, ast.Name):
            ref = self.c.refs[node.nid]
            return levels if ref.kind == "level_var" else np.full(self.E, float(ref.index))
        if isinstance(node, (ast.Number, ast.Bool)):
            return self._eval(node, 0)
        if isinstance(node, ast.Unary):
            v = self.level_condition(node.operand, levels)
            return k_not(v) if node.op == "not" else -v
        if isinstance(node, ast.Binary):
            a = self.level_condition(node.left, levels)
            b = self.level_condition(node.right, levels)
            return {"and": lambda: k_and(a, b), "or": lambda: k_or(a, b),
                    "==": lambda: truth(a == b, a, b), "!=": lambda: truth(a != b, a, b),
                    "<": lambda: truth(a < b, a, b), "<=": lambda: truth(a <= b, a, b),
                    ">": lambda: truth(a > b, a, b), ">=": lambda: truth(a >= b, a, b),
                    }[node.op]()
        if isinstance(node, ast.In):
            v = self.level_condition(node.operand, levels)
            out = np.zeros(self.E)
            for item in node.items:
                out = k_or(out, truth(v == self.level_condition(item, levels), v))
            return k_not(out) if node.negated else out
        if isinstance(node, ast.Between):
            v = self.level_condition(node.operand, levels)
            lo = self.level_condition(node.low, levels)
            hi = self.level_condition(node.high, levels)
            return k_and(truth(v >= lo, v), truth(v <= hi, v))
        raise AssertionError(type(node).__name__)

    # --- across peers ----------------------------------------------------------------------

    def groups(self, node: ast.Call) -> np.ndarray:
        kw = node.kwarg("by")
        by = kw.value.name if kw is not None else (self.p.peer_group or "type")
        return self.L.groups[by]

    def oriented(self, node: ast.Call, t: int) -> np.ndarray:
        x = self.eval(node.args[0], t)
        return -x if self.c.directions.get(node.nid) == "lower" else x

    def peer_stats(self, node: ast.Call, y: np.ndarray):
        """For each entity with a value: (#peers with smaller y, #greater, #peers) ."""
        groups = self.groups(node)
        smaller = np.full(self.E, NAN)
        greater = np.full(self.E, NAN)
        count = np.zeros(self.E)
        known = ~np.isnan(y)
        for g in np.unique(groups):
            members = (groups == g)
            idx = np.flatnonzero(members & known)
            count[members] = idx.size
            if idx.size == 0:
                continue
            ys = np.sort(y[idx])
            smaller[idx] = np.searchsorted(ys, y[idx], side="left")
            greater[idx] = idx.size - np.searchsorted(ys, y[idx], side="right")
        return smaller, greater, count

    def f_pct_rank(self, node, t):
        y = self.oriented(node, t)
        smaller, _, n = self.peer_stats(node, y)
        with np.errstate(all="ignore"):
            out = 100.0 * smaller / (n - 1)
        out[(n < 2) | np.isnan(y)] = NAN
        return out

    def f_rank(self, node, t):
        y = self.oriented(node, t)
        _, greater, _ = self.peer_stats(node, y)
        return greater + 1

    def f_worst_rank(self, node, t):
        y = self.oriented(node, t)
        smaller, _, _ = self.peer_stats(node, y)
        return smaller + 1

    def f_ntile(self, node, t):
        y = self.oriented(node, t)
        k = self.window_size(node.args[1], t)
        _, greater, n = self.peer_stats(node, y)
        with np.errstate(all="ignore"):
            out = 1 + np.floor(k * greater / n)
        out[(n < 2) | np.isnan(y)] = NAN
        return out

    def f_zscore(self, node, t):
        y = self.oriented(node, t)
        groups = self.groups(node)
        out = np.full(self.E, NAN)
        for g in np.unique(groups):
            idx = np.flatnonzero((groups == g) & ~np.isnan(y))
            if idx.size < 2:
                continue
            mean = seq_sum(y[idx]) / idx.size
            sd = np.sqrt(seq_sum((y[idx] - mean) ** 2) / idx.size)
            out[idx] = 0.0 if sd == 0 else (y[idx] - mean) / sd
        return out

    def f_percentile(self, node, t):
        x = self.eval(node.args[0], t)
        p = self.eval(node.args[1], t)
        groups = self.groups(node)
        out = np.full(self.E, NAN)
        for g in np.unique(groups):
            members = np.flatnonzero(groups == g)
            xs = np.sort(x[members][~np.isnan(x[members])])
            if xs.size == 0:
                continue
            for e in members:
                q = p[e]
                if np.isnan(q) or q < 0 or q > 100:
                    continue
                pos = q / 100.0 * (xs.size - 1)
                lo = int(np.floor(pos))
                hi = min(lo + 1, xs.size - 1)
                out[e] = xs[lo] + (pos - lo) * (xs[hi] - xs[lo])
        return out

    def f_peer_count(self, node, t):
        x = self.eval(node.args[0], t)
        _, _, n = self.peer_stats(node, np.where(np.isnan(x), NAN, 0.0))
        return n

    def f_metric_score(self, node, t):
        y = self.oriented(node, t)
        lower = self.c.directions.get(node.nid) == "lower"
        groups = self.groups(node)
        standard = node.kwarg("standard")
        floor = node.kwarg("floor")
        threshold = None
        if standard is not None or floor is not None:
            raw = self.eval((standard or floor).value, t)
            threshold = -raw if lower else raw
        out = np.full(self.E, NAN)
        for g in np.unique(groups):
            idx = np.flatnonzero((groups == g) & ~np.isnan(y))
            if threshold is not None:
                idx = idx[~np.isnan(threshold[idx])]
            if idx.size == 0:
                continue
            if standard is not None:
                meets = y[idx] >= threshold[idx]
                out[idx[meets]] = 1.0
                out[idx[~meets]] = _spread(y[idx[~meets]], 2.0, 4.0, single=2.0)
            elif floor is not None:
                fails = y[idx] < threshold[idx]
                out[idx[fails]] = 4.0
                out[idx[~fails]] = _spread(y[idx[~fails]], 1.0, 3.0, single=1.0)
            else:
                out[idx] = _spread(y[idx], 1.0, 4.0, single=NAN)
        return out

    # --- across the hierarchy --------------------------------------------------------------

    def members(self, node: ast.Call, t: int):
        """Per entity: (#members, #members with a true/1 value, #unknown, sum, min, max)."""
        v = self.eval(node.args[1], t)
        parent = self.L.parent
        has = parent >= 0
        p, vals = parent[has], v[has]
        unknown = np.isnan(vals)
        clean = np.where(unknown, 0.0, vals)
        n = np.bincount(p, minlength=self.E).astype(np.float64)
        ones = np.bincount(p, weights=(vals == 1).astype(np.float64), minlength=self.E)
        zeros = np.bincount(p, weights=(vals == 0).astype(np.float64), minlength=self.E)
        unk = np.bincount(p, weights=unknown.astype(np.float64), minlength=self.E)
        total = np.bincount(p, weights=clean, minlength=self.E)
        lo = np.full(self.E, np.inf)
        hi = np.full(self.E, -np.inf)
        np.minimum.at(lo, p, np.where(unknown, np.inf, vals))
        np.maximum.at(hi, p, np.where(unknown, -np.inf, vals))
        return n, ones, zeros, unk, total, lo, hi

    def f_count(self, node, t):
        n, ones, _, unk, *_ = self.members(node, t)
        return np.where(unk > 0, NAN, ones)

    def f_share(self, node, t):
        n, ones, _, unk, *_ = self.members(node, t)
        with np.errstate(all="ignore"):
            return np.where((unk > 0) | (n == 0), NAN, 100.0 * ones / n)

    def f_sum(self, node, t):
        n, _, _, unk, total, *_ = self.members(node, t)
        return np.where(unk > 0, NAN, total)

    def f_mean(self, node, t):
        n, _, _, unk, total, *_ = self.members(node, t)
        with np.errstate(all="ignore"):
            return np.where((unk > 0) | (n == 0), NAN, total / n)

    def f_min(self, node, t):
        n, _, _, unk, _, lo, _ = self.members(node, t)
        return np.where((unk > 0) | (n == 0), NAN, lo)

    def f_max(self, node, t):
        n, _, _, unk, _, _, hi = self.members(node, t)
        return np.where((unk > 0) | (n == 0), NAN, hi)

    def f_any(self, node, t):
        n, ones, _, unk, *_ = self.members(node, t)
        return np.where(ones > 0, 1.0, np.where(unk > 0, NAN, 0.0))

    def f_all(self, node, t):
        n, _, zeros, unk, *_ = self.members(node, t)
        return np.where(zeros > 0, 0.0, np.where(unk > 0, NAN, 1.0))

    # --- over several values ---------------------------------------------------------------

    def stack(self, node: ast.Call, t: int) -> np.ndarray:
        return np.array([self.eval(a, t) for a in node.args]).reshape(len(node.args), self.E)

    def _skipping(self, node, t, fn, fill):
        s = self.stack(node, t)
        known = ~np.isnan(s)
        out = fn(np.where(known, s, fill), axis=0)
        return np.where(known.any(axis=0), out, NAN)

    def f_mean_of(self, node, t):
        s = self.stack(node, t)
        known = ~np.isnan(s)
        k = known.sum(axis=0)
        with np.errstate(all="ignore"):
            return np.where(k > 0, seq_sum(np.where(known, s, 0.0)) / k, NAN)

    def f_min_of(self, node, t):
        return self._skipping(node, t, np.min, np.inf)

    def f_max_of(self, node, t):
        return self._skipping(node, t, np.max, -np.inf)

    def f_sum_of(self, node, t):
        return self._skipping(node, t, seq_sum, 0.0)

    def f_count_of(self, node, t):
        s = self.stack(node, t)
        out = np.sum(s == 1, axis=0).astype(np.float64)
        out[np.isnan(s).any(axis=0)] = NAN
        return out

    def f_missing(self, node, t):
        return is_unknown(self.eval(node.args[0], t)).astype(np.float64)

    def f_coalesce(self, node, t):
        out = self.eval(node.args[0], t)
        for a in node.args[1:]:
            out = np.where(is_unknown(out), self.eval(a, t), out)
        return out

    def f_abs(self, node, t):
        return np.abs(self.eval(node.args[0], t))

    def f_round(self, node, t):
        return round_to(self.eval(node.args[0], t), int(node.args[1].value))

    def f_position(self, node, t):
        return self.eval(node.args[0], t) + 1.0


def _spread(y: np.ndarray, best: float, worst: float, *, single: float) -> np.ndarray:
    """NOF-style scores for y (higher = better) from `best` to `worst`, by rank, tie clusters
    taking their best score; rounded to 2 dp, only true ends reaching the ends of the range."""
    n = y.size
    if n == 0:
        return np.empty(0)
    if n == 1:
        return np.array([single])
    ys = np.sort(y)
    better = n - np.searchsorted(ys, y, side="right")       # peers strictly better
    raw = best + (worst - best) * better / (n - 1)
    out = round_to(raw, 2)
    inner = (better > 0) & (better < n - 1)
    return np.where(inner, np.clip(out, best + 0.01, worst - 0.01), out)
