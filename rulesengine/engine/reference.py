"""The reference evaluator: the language's semantics (README, "The expression language") in plain NumPy.

It is the oracle the compiled kernel is tested against, so it is written for clarity: one
method per construct, vectorised over entities within a period, periods in order (a period's
outcome feeds `previous(level)` in the next). Values are float64 arrays over entities: NaN is
unknown; a condition is 1.0 (true), 0.0 (false) or NaN (unknown).

Semantics in brief (each pinned by tests/engine):
- `and`/`or`/`not` are Kleene; comparisons and arithmetic with an unknown are unknown;
  division by zero is unknown.
- Each built-in function's meaning (windows, peers, members, several values, missing data)
  is its reference implementation in its family's file of lang/builtins/, with its semantics
  in that file's docstring; this evaluator calls it with itself as `ev` (spec.py lists what
  an implementation may use of it).
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

Observing an evaluation: a `Tracer` attached to the evaluator hears every value it reads, in
the order it reads them (as OpenFisca's tracers hear a calculation and OPA's tracer hears its
evaluation), so coverage and explain learn what evaluation did — which operands were read,
at which periods, with which values — from evaluation itself, not from rules of their own.
"""

from __future__ import annotations

import numpy as np

from ..lang import ast
from ..lang import types as T
from ..lang.builtins import BUILTINS
from ..lang.builtins.logic import NAN, constant, k_and, k_not, k_or, truth
from ..check.checker import CheckedPolicy
from .layout import Layout
from .outcomes import NO_LEVEL, RawOutcomes, decide, n_bytes, rule_bits


class Tracer:
    """Evaluation events of a ReferenceEvaluator; a tracer overrides the ones it needs.

    - `enter(node, t)`: the evaluator is asked for node's value in period t. Every read is an
      event, a memoised one too, so a tracer sees each value every evaluation reads.
    - `exit(node, t, value)`: the answer, over the entities (NaN unknown; t < 0 is a period
      before the data, whose values are unknown).

    Between a node's `enter` and `exit` come the events of the values its evaluation reads:
    its operands; a define's expression for its name; a built-in's arguments at the periods
    and in the order its reference implementation reads them (a window's periods, `x[-1]`'s
    earlier period). A memoised read has no inner events: they were heard when the value was
    first computed. A condition on levels (`periods_in(level >= x)`) is read on the levels
    it is given (one period's, or several periods' at once: its value then has one row per
    period), with t None: each such reading is a value of its own.

    Attach one when the evaluator is made (`ReferenceEvaluator(checked, layout, tracer)`);
    an evaluator made without one runs exactly the code it runs untraced, so tracing costs
    nothing when unused (benchmarks/bench_reference.py)."""

    def enter(self, node: ast.Node, t: int | None) -> None:
        """The evaluator starts reading node's value in period t (None: on given levels)."""

    def exit(self, node: ast.Node, t: int | None, value: np.ndarray) -> None:
        """The evaluator has node's value in period t."""


Read = tuple    # (node id, period) read by eval, or (node id, None, k): the k-th reading of a
                # condition on levels


class Reads(Tracer):
    """A tracer that keeps the graph of an evaluation: each value read, the values its
    evaluation read in turn (in the order read), and its value over the entities. Coverage
    follows it from the rules' values at the cells a test asserts on; explain reads from it
    which periods a window looked at."""

    def __init__(self) -> None:
        self.reads: dict[Read, dict[Read, None]] = {}   # an ordered set per value
        self.values: dict[Read, np.ndarray] = {}
        self._stack: list[Read] = []
        self._levels = 0

    def enter(self, node: ast.Node, t: int | None) -> None:
        if t is None:
            key: Read = (node.nid, None, self._levels)
            self._levels += 1
        else:
            key = (node.nid, t)
        if self._stack:
            self.reads.setdefault(self._stack[-1], {})[key] = None
        self._stack.append(key)

    def exit(self, node: ast.Node, t: int | None, value: np.ndarray) -> None:
        self.values[self._stack.pop()] = value

    def read_by(self, key: Read) -> list[Read]:
        """The values the evaluation of `key` read, in the order first read."""
        return list(self.reads.get(key, ()))


def evaluate_reference(checked: CheckedPolicy, layout: Layout) -> RawOutcomes:
    """Evaluate every rule for every entity and period; the oracle for the compiled kernel."""
    return ReferenceEvaluator(checked, layout).run()


class ReferenceEvaluator:
    """One policy over one layout, evaluated node by node and period by period. Public for
    the analyses that observe an evaluation (coverage, explain, the policy test runner):
    `eval(node, t)` is a node's value over the entities in period t, memoised, and `run()`
    the outcomes; a `tracer` hears every value read (see Tracer)."""

    def __init__(self, checked: CheckedPolicy, layout: Layout,
                 tracer: Tracer | None = None) -> None:
        self.c = checked
        self.p = checked.policy
        self.L = layout
        self.E = layout.n_entities
        self.P = layout.n_periods
        self.shape: tuple[int, ...] = (self.E,)     # a value's shape: one period's entities
        self.memo: dict[tuple[int, int], np.ndarray] = {}
        self.levels = np.full((self.P, self.E), NAN)       # final level, filled period by period
        self.tracer = tracer
        if tracer is not None:
            # The traced reads replace this instance's methods, so an untraced evaluator (and
            # every subclass, the vectorised engine's included) has no test on its hot path.
            self.eval = _traced(tracer, self.eval)
            self.level_condition = _traced_levels(tracer, self.level_condition)

    # --- driver ----------------------------------------------------------------------------

    def run(self) -> RawOutcomes:
        P, E, L = self.P, self.E, self.L
        R = len(self.p.rules)
        B = n_bytes(R)
        computed = np.zeros((P, E), np.int16)
        level = np.zeros((P, E), np.int16)
        candidate = np.full((P, E), NO_LEVEL, np.int16)
        fired = np.zeros((P, E, B), np.uint8)
        unknown = np.zeros((P, E, B), np.uint8)
        incomplete = np.zeros((P, E), bool)
        subject = np.zeros((P, E), bool)

        for t in range(P):
            values = np.array([self.eval(r.when, t) for r in self.p.rules]).reshape(R, E)
            is_true = values == 1
            is_unknown = np.isnan(values)
            fired[t] = rule_bits(is_true)
            unknown[t] = rule_bits(is_unknown)
            computed[t], incomplete[t], candidate[t] = self.combine(is_true, is_unknown)
            decided = L.decisions[t]
            final = np.where(np.isnan(decided), computed[t], decided).astype(np.int16)
            level[t] = final
            self.levels[t] = final
            applies = np.ones(E, bool)
            if self.p.applies_to is not None and self.p.applies_to.expr is not None:
                applies = self.eval(self.p.applies_to.expr, t) == 1
            subject[t] = L.kind_subject[t] & applies
        return RawOutcomes(computed, level, candidate, fired, unknown, incomplete, subject)

    def combine(self, fired: np.ndarray, unknown: np.ndarray):
        """Per entity, from the rules' [R, E] fired/unknown masks: (computed level, incomplete,
        candidate level), by outcomes.decide(), the one place where fired rules become a level."""
        L = self.L
        d = decide(fired, unknown, L.rule_levels, L.rule_judgement, L.default_level,
                   self.p.decide == "first", per_rule=False)
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

    def computed(self, node: ast.Node, t: int) -> np.ndarray | None:
        """The node's value in period t if it has been computed already, else None (for a
        built-in that carries a count from one period to the next)."""
        return self.memo.get((node.nid, t))

    def before_data(self, node: ast.Node) -> np.ndarray:
        """A node's value in a period before the data: unknown."""
        if self.c.types.get(node.nid) == T.STRING:
            return np.full(self.shape, None, dtype=object)
        return np.full(self.shape, NAN)

    def string(self, text: str) -> np.ndarray:
        """A string constant over the cells (an engine may hold strings as codes)."""
        return np.full(self.shape, text, dtype=object)

    def alive(self, t: int) -> np.ndarray | None:
        """Which entities exist in period t (the layout's lifetimes; None: all of them),
        shaped to broadcast over a value's cells."""
        return None if self.L.alive is None else self.L.alive[t]

    # --- following successors (engine/lineage.py) -------------------------------------------

    def followed(self, node: ast.Node, t: int) -> np.ndarray:
        """The node's value in period t as each entity's stand-ins agree on it: its own once
        it exists, its predecessors' before (follow=successor)."""
        lineage = self.L.lineage
        if t < 0 or lineage is None:
            return self.eval(node, t)
        memo = self.__dict__.setdefault("followed_memo", {})
        key = (node.nid, t)
        if key not in memo:
            memo[key] = lineage.agree(self.eval(node, t), lineage.active[t])
        return memo[key]

    def followed_levels(self, stop: int, start: int = 0) -> np.ndarray:
        """[stop - start, E]: the worst level in each period from start to stop-1 among each
        entity's stand-ins (levels are decided up to stop-1 when stop is the current
        period)."""
        lineage = self.L.lineage
        if lineage is None:
            return self.levels[start:stop]
        return lineage.worst(self.levels[start:stop], lineage.active[start:stop])

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
            return self.call(node, t)
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

    # --- built-in functions ---------------------------------------------------------------

    def call(self, node: ast.Call, t: int) -> np.ndarray:
        """A built-in function's value: its registry entry's reference implementation."""
        return BUILTINS[node.func].reference(self, node, t)

    def window_size(self, node: ast.Node, t: int) -> int:
        """A built-in's size argument (a window's length, a number of groups) in period t: a
        literal or a param's value."""
        if isinstance(node, ast.Number):
            return int(node.value)
        return int(self.L.params[node.name][t])

    def level_condition(self, node: ast.Node, levels: np.ndarray) -> np.ndarray:
        """A periods_in() condition evaluated on given levels (it reads only `level`), of
        any shape: one period's levels, or several periods' at once."""
        if isinstance(node, ast.Name):
            ref = self.c.refs[node.nid]
            return levels if ref.kind == "level_var" else np.full(levels.shape,
                                                                   float(ref.index))
        if isinstance(node, ast.Number):
            return constant(node.value, levels.shape)
        if isinstance(node, ast.Bool):
            return constant(1.0 if node.value else 0.0, levels.shape)
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
            out = np.zeros(levels.shape)
            for item in node.items:
                out = k_or(out, truth(v == self.level_condition(item, levels), v))
            return k_not(out) if node.negated else out
        if isinstance(node, ast.Between):
            v = self.level_condition(node.operand, levels)
            lo = self.level_condition(node.low, levels)
            hi = self.level_condition(node.high, levels)
            return k_and(truth(v >= lo, v), truth(v <= hi, v))
        raise AssertionError(type(node).__name__)


def _traced(tracer: Tracer, evaluate):
    """An evaluator's eval(node, t) that tells the tracer of each read."""
    enter, leave = tracer.enter, tracer.exit

    def traced_eval(node: ast.Node, t: int) -> np.ndarray:
        enter(node, t)
        value = evaluate(node, t)
        leave(node, t, value)
        return value
    return traced_eval


def _traced_levels(tracer: Tracer, evaluate):
    """An evaluator's level_condition(node, levels) that tells the tracer of each reading."""
    enter, leave = tracer.enter, tracer.exit

    def traced_level_condition(node: ast.Node, levels: np.ndarray) -> np.ndarray:
        enter(node, None)
        value = evaluate(node, levels)
        leave(node, None, value)
        return value
    return traced_level_condition
