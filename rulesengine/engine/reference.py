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
    """Kleene and of conditions (1, 0 or NaN): false if either is false, else true if both
    are true, else unknown."""
    out = np.minimum(a, b)              # both known: the smaller; either unknown: NaN
    out[(a == 0) | (b == 0)] = 0.0
    return out


def k_or(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Kleene or: true if either is true, else false if both are false, else unknown."""
    out = np.maximum(a, b)
    out[(a == 1) | (b == 1)] = 1.0
    return out


def k_not(a: np.ndarray) -> np.ndarray:
    return 1.0 - a                      # unknown stays unknown: 1 - NaN is NaN


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
        if known_constant(x):
            continue
        out[is_unknown(x)] = NAN
    return out


def constant(value: float, shape: tuple[int, ...]) -> np.ndarray:
    """A number over all cells, as one value broadcast (read-only: no evaluator writes into
    a value it did not create)."""
    return np.broadcast_to(np.float64(value), shape)


def known_constant(x: np.ndarray) -> bool:
    """Whether x is a broadcast number that is known (nothing in it can be unknown)."""
    return (x.dtype != object and x.ndim > 0 and not any(x.strides) and x.size > 0
            and not np.isnan(x.flat[0]))


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
        self.shape: tuple[int, ...] = (self.E,)     # a value's shape: one period's entities
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
            return self.before_data(node)
        key = (node.nid, t)
        hit = self.memo.get(key)
        if hit is None:
            hit = self.memo[key] = self._eval(node, t)
        return hit

    def before_data(self, node: ast.Node) -> np.ndarray:
        """A node's value in a period before the data: unknown."""
        if self.c.types.get(node.nid) == T.STRING:
            return np.full(self.shape, None, dtype=object)
        return np.full(self.shape, NAN)

    def string(self, text: str) -> np.ndarray:
        """A string constant over the cells (an engine may hold strings as codes)."""
        return np.full(self.shape, text, dtype=object)

    def _eval(self, node: ast.Node, t: int) -> np.ndarray:
        if isinstance(node, ast.Number):
            return constant(node.value, self.shape)
        if isinstance(node, ast.Bool):
            return constant(1.0 if node.value else 0.0, self.shape)
        if isinstance(node, ast.String):
            return self.string(node.value)
        if isinstance(node, (ast.Name, ast.Attribute)):
            return self.name(node, t)
        if isinstance(node, ast.Unary):
            v = self.eval(node.operand, t)
            return k_not(v) if node.op == "not" else -v
        if isinstance(node, ast.Binary):
            return self.binary(node, t)
        if isinstance(node, ast.In):
            v = self.eval(node.operand, t)
            out = np.zeros(self.shape)
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
            # no parent: the parent's strings are "", its numbers unknown
            none = self.string("") if self.c.types.get(node.nid) == T.STRING else NAN
            return np.where(parent >= 0, inner[..., np.maximum(parent, 0)], none)
        return self.value_of(ref, t)

    def value_of(self, ref, t: int) -> np.ndarray:
        if ref.kind == "input":
            return self.L.inputs[ref.name][t]
        if ref.kind == "param":
            return np.full(self.shape, self.L.params[ref.name][t])
        if ref.kind == "define":
            return self.eval(self.p.defines[ref.name].expr, t)
        if ref.kind == "attr":
            codes, values = self.L.attributes[ref.name]
            return np.array(values, dtype=object)[codes]
        if ref.kind in ("label", "level"):
            return constant(float(ref.index), self.shape)
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
        return np.array([self.eval(node.args[0], t - k) for k in range(n)]).reshape(
            (n,) + self.shape)

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
        out = np.ones(self.shape)
        for row in self.window(node, t):
            out = k_and(out, row)
        return out

    def f_ever(self, node, t):
        out = np.zeros(self.shape)
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

    def peer_keys(self, node: ast.Call, shape: tuple[int, ...]) -> tuple[np.ndarray, int]:
        """Each cell's peer group within its period, as a key in range(n_keys)."""
        return peer_keys(self.groups(node), shape)

    def peer_stats(self, node: ast.Call, y: np.ndarray):
        """For each cell with a value: (#peers with smaller y, #greater, #peers with a value)."""
        keys, n_keys = self.peer_keys(node, y.shape)
        smaller, greater, count = ranked(keys, y, n_keys)
        return smaller, greater, count[keys].astype(np.float64)

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
        keys, n_keys = self.peer_keys(node, y.shape)
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

    def f_percentile(self, node, t):
        x = self.eval(node.args[0], t)
        q = self.eval(node.args[1], t)
        keys, n_keys = self.peer_keys(node, x.shape)
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

    def f_peer_count(self, node, t):
        x = self.eval(node.args[0], t)
        _, _, n = self.peer_stats(node, np.where(np.isnan(x), NAN, 0.0))
        return n

    def f_metric_score(self, node, t):
        y = self.oriented(node, t)
        lower = self.c.directions.get(node.nid) == "lower"
        keys, n_keys = self.peer_keys(node, y.shape)
        standard = node.kwarg("standard")
        floor = node.kwarg("floor")
        scored = ~np.isnan(y)
        out = np.full(y.shape, NAN)
        if standard is None and floor is None:
            out[scored] = spread(keys, y, n_keys, scored, 1.0, 4.0, single=NAN)[scored]
            return out
        raw = self.eval((standard or floor).value, t)
        threshold = -raw if lower else raw
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

    # --- across the hierarchy --------------------------------------------------------------

    def members(self, node: ast.Call, t: int):
        """Per cell: (#members, #members with a true/1 value, #false, #unknown, sum, min, max)."""
        v = self.eval(node.args[1], t)
        parent = self.L.parent
        E = self.E
        rows = v.size // E if E else 0
        has = parent >= 0
        # one bin per (period, parent): members are added in entity order within each bin
        p = (np.arange(rows)[:, None] * E + parent[has][None, :]).reshape(-1)
        vals = v.reshape(rows, E)[:, has].reshape(-1)
        unknown = np.isnan(vals)
        clean = np.where(unknown, 0.0, vals)
        size = rows * E

        def count(weights=None):
            return np.bincount(p, weights=weights, minlength=size).astype(
                np.float64).reshape(v.shape)

        n = count()
        ones = count((vals == 1).astype(np.float64))
        zeros = count((vals == 0).astype(np.float64))
        unk = count(unknown.astype(np.float64))
        total = count(clean)
        lo = np.full(size, np.inf)
        hi = np.full(size, -np.inf)
        np.minimum.at(lo, p, np.where(unknown, np.inf, vals))
        np.maximum.at(hi, p, np.where(unknown, -np.inf, vals))
        return n, ones, zeros, unk, total, lo.reshape(v.shape), hi.reshape(v.shape)

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
        return np.array([self.eval(a, t) for a in node.args]).reshape(
            (len(node.args),) + self.shape)

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
