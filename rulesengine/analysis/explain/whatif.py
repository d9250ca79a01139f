"""What would flip a rule or move an outcome: the nearest value of an input at which it
changes, found by re-evaluating (a mixin of the explainer)."""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Iterator

import numpy as np

from ...engine.outcomes import decide
from ...engine.probe import Probe, Scenarios
from ...lang import ast
from ...lang.builtins import BUILTINS, builtin, peer_grouping
from ...lang.types import Type
from .model import Crossing, Flip, Move


# Bisection rounds evaluated together (2**n - 1 midpoints): fewer evaluations against more
# values each (benchmarks/bench_explain.py)
_LOOKAHEAD = 3


class Point:
    """One what-if of a Scenarios evaluation: what `val` reads instead of a Probe."""

    __slots__ = ("rows", "k")

    def __init__(self, rows: Scenarios, k: int) -> None:
        self.rows, self.k = rows, k

    def value(self, node: ast.Node, t: int):
        """The organisation's value of node in period t."""
        return self.rows.value(node, self.k, t)


def ranking(n: ast.Node) -> bool:
    """A call ranking its first argument among peers (explain shows the peer context)."""
    spec = builtin(n)
    return spec is not None and spec.ranks and bool(n.args)


class WhatIf:
    """The what-if searches of the explainer (explainer.py), which provides the policy, the
    layout, the outcomes, the probe and the formatting."""

    # what would move the outcome ---------------------------------------------------------

    def level_at(self, name: str, x: float) -> int:
        """The computed level with this organisation's `name` set to x this period: every rule
        re-evaluated (ranks against the peers' unchanged values), then decide()."""
        key = (name, x)
        if key not in self._levels:
            # decided for every value evaluated with x at once
            rows = self.probe_at(name, x).rows
            values = np.array([rows.column(r.when) for r in self.p.rules], np.float64)
            d = decide(values == 1, np.isnan(values), self.L.rule_levels,
                       self.L.rule_judgement, self.L.default_level, self.p.decide == "first")
            for k, value in enumerate(rows.values.tolist()):
                self._levels[(name, value)] = int(d.computed[k])
        return self._levels[key]

    def decide_level(self, probe: Probe) -> int:
        values = np.array([self.val(r.when, probe) for r in self.p.rules], np.float64)
        d = decide((values == 1).reshape(-1, 1), np.isnan(values).reshape(-1, 1),
                   self.L.rule_levels, self.L.rule_judgement, self.L.default_level,
                   self.p.decide == "first")
        return int(d.computed[0])

    def verified_level(self, name: str, x: float) -> int:
        """The level at x from a fresh evaluation (no values carried over from the search)."""
        arr = self.L.inputs[name].copy()
        arr[self.t, self.e] = x
        layout = replace(self.L, inputs={**self.L.inputs, name: arr})
        return self.decide_level(Probe(self.c, layout, self.probe.levels))

    def moves(self) -> list[Move]:
        """For each other level a rule can give, the smallest change to one of this
        organisation's inputs this period that gives it, verified by re-evaluation."""
        o, t, e = self.o, self.t, self.e
        if not o.raw.subject[t, e] or not self.what_if:
            return []
        current = int(o.raw.computed[t, e])
        inputs: list[str] = []
        for rule in self.p.rules:
            for name in self.own_inputs(rule.when):
                if name not in inputs and self.L.inputs[name][t, e] == \
                        self.L.inputs[name][t, e]:
                    inputs.append(name)
        out = []
        for lv in self.p.levels:
            if lv.decided_by or lv.index == current:
                continue            # a judgement level is set by a decision, not by a change
            found = [m for m in (self.move_input(name, lv) for name in inputs) if m is not None]
            # the smallest change (the first input among equals) that a fresh evaluation
            # confirms; each costs a whole evaluation, so the smallest is checked first
            found.sort(key=lambda m: m[0])
            best = next((move for _, move in found
                         if self.verified_level(move.input, move.after) == lv.index), None)
            if best is None:
                out.append(Move(lv.id, lv.label, None, None, None, None,
                                "no change to a single input of this organisation this period "
                                "reaches it"))
            else:
                out.append(best)
        return out

    def move_input(self, name: str, lv) -> tuple[float, Move] | None:
        inp = self.p.inputs[name]
        v = float(self.L.inputs[name][self.t, self.e])
        if inp.type in ("flag", "rating"):
            self.prefetch(name, self.options(name, v))
            for x in self.options(name, v):
                if self.level_at(name, x) == lv.index:
                    text = f"{inp.label} becomes {self.fmt.value(x, self.input_type(name))}"
                    return abs(x - v) / 4.0, Move(lv.id, lv.label, name, inp.label, v, x, text)
            return None
        if self._watched is None:
            self._watched = [n for r in self.p.rules if r.when is not None
                             for n in self.conditions_of(r.when)]
        crossing = self.nearest(name, v, lambda x: self.level_at(name, x) == lv.index,
                                self.signature(name, self._watched))
        if crossing is None:
            return None
        return self.cost(name, v, crossing), Move(
            lv.id, lv.label, name, inp.label, v, crossing.after,
            self.change_text(name, v, crossing))

    # what would flip a rule ----------------------------------------------------------------

    def own_inputs(self, root: ast.Node) -> list[str]:
        """Inputs of this entity a condition reads (not its members' or its parent's)."""
        if root.nid not in self._own_inputs:
            self._own_inputs[root.nid] = self._own_inputs_of(root)
        return self._own_inputs[root.nid]

    def _own_inputs_of(self, root: ast.Node) -> list[str]:
        def others(n: ast.Node) -> bool:    # members' values, the parent's
            return isinstance(n, ast.Attribute) or (isinstance(n, ast.Call)
                                                     and BUILTINS[n.func].over_members)
        out: list[str] = []
        for n in self.through_defines(root, others):
            ref = self.c.refs.get(n.nid)
            if isinstance(n, ast.Name) and ref is not None and ref.kind == "input" and \
                    ref.name not in out and not others(n):
                out.append(ref.name)
        return out

    def through_defines(self, root: ast.Node, stop) -> Iterator[ast.Node]:
        """Every node under root once, depth first, going into the defines it names; a node
        for which stop(node) holds is given but not gone into."""
        seen: set[int] = set()
        stack = [root]
        while stack:
            n = stack.pop()
            if n.nid in seen:
                continue
            seen.add(n.nid)
            yield n
            if stop(n):
                continue
            inner, define = self.resolve(n)
            if define is not None:
                stack.append(inner)
            stack.extend(n.children())

    def flip(self, rule, value: float) -> tuple[Flip | None, str | None]:
        inputs = self.own_inputs(rule.when)
        status = self.status(value)
        if status == "unknown":
            return self.unknown_flip(rule, inputs)
        best: tuple[float, Flip] | None = None
        for name in inputs:
            found = self.flip_input(rule, name, status)
            if found is None:
                continue
            f, relative = found
            if best is None or relative < best[0]:
                best = (relative, f)
        if best is None:
            if not inputs:
                return None, ("no change to this organisation's own inputs flips it (it reads "
                              "none: it depends on other organisations or earlier periods)")
            return None, "no change to a single input of this organisation this period flips it"
        return best[1], None

    def rule_status(self, rule, probe: Probe) -> str:
        return self.status(self.val(rule.when, probe))

    def input_type(self, name: str) -> Type:
        inp = self.p.inputs[name]
        if inp.type == "rating":
            return Type("rating", inp.scale)
        return Type("bool") if inp.type == "flag" else Type(inp.type)

    def options(self, name: str, v: float) -> list[float]:
        """The other values a flag or rating input can take, nearest first."""
        inp = self.p.inputs[name]
        if inp.type == "flag":
            return [1.0 - v]
        n = len(self.p.scales[inp.scale].labels)
        return [float(i) for i in sorted(range(n), key=lambda i: abs(i - v)) if i != v]

    def flip_input(self, rule, name: str, status: str) -> tuple[Flip, float] | None:
        inp = self.p.inputs[name]
        v = float(self.L.inputs[name][self.t, self.e])
        if v != v:
            return None
        goal = "not fired" if status == "fired" else "fired"
        verb = "stops firing" if status == "fired" else "fires"
        if inp.type in ("flag", "rating"):
            self.prefetch(name, self.options(name, v))
            for o in self.options(name, v):
                if self.rule_status(rule, self.probe_at(name, o)) == goal:
                    shown = self.fmt.value(o, self.input_type(name))
                    text = f"{verb} if {inp.label} becomes {shown}"
                    return Flip(name, inp.label, v, o, text), abs(o - v) / 4.0
            return None
        crossing = self.search(name, lambda probe: self.val(rule.when, probe), goal_status=goal,
                               root=rule.when)
        if crossing is None:
            return None
        text = f"{verb} if {self.change_text(name, v, crossing)}"
        return Flip(name, inp.label, v, crossing.after, text), self.cost(name, v, crossing)

    def cost(self, name: str, v: float, crossing: Crossing) -> float:
        """How big a change is, relative to the spread of the input among all entities, so
        changes to different inputs compare."""
        spread = self.spread(name) or max(abs(v), 1.0)
        return abs(crossing.after - v) / spread

    def change_text(self, name: str, v: float, crossing: Crossing) -> str:
        """The change in words: "A&E 4-hour performance rises by 2 points (to 76%)"."""
        inp = self.p.inputs[name]
        typ = self.input_type(name)
        up = crossing.after > v
        direction = "rises" if up else "falls"
        boundary = self.fmt.value(crossing.boundary, typ)
        delta = crossing.boundary - v
        if crossing.strict and boundary == self.fmt.value(v, typ):
            # the boundary is the value itself: any move that way changes it, typically
            # because the organisation shares its value with peers and ties share a rank
            where = "above" if up else "below"
            move = "rise" if up else "fall"
            ties = self.tied(name, v)
            if ties:
                return (f"{inp.label} {direction} {where} {boundary}: it is tied with {ties} "
                        f"other{'s' if ties != 1 else ''} at {boundary}, and any {move} moves "
                        f"it past the tie")
            return f"{inp.label} {direction} {where} {boundary} (any {move} does it)"
        if crossing.strict:
            where = "above" if up else "below"
            return (f"{inp.label} {direction} {where} {boundary} (a change of more than "
                    f"{self.fmt.change(delta, typ)})")
        return f"{inp.label} {direction} by {self.fmt.change(delta, typ)} (to {boundary})"

    def tied(self, name: str, v: float) -> int:
        """How many other organisations in this one's peer group share its value of `name`."""
        groups = self.L.groups.get(self.peer_grouping(name))
        col = self.L.inputs[name][self.t]
        same = col == v
        if groups is not None:
            same &= groups == groups[self.e]
        return int(same.sum()) - 1

    def peer_grouping(self, name: str) -> str:
        """The grouping the policy ranks input `name` within (its first rank call's by=)."""
        for root in [d.expr for d in self.p.defines.values()] + [r.when for r in self.p.rules]:
            if root is None:
                continue
            for n in ast.walk(root):
                if ranking(n):
                    arg, _ = self.resolve(n.args[0])
                    ref = self.c.refs.get(arg.nid)
                    if ref is not None and ref.kind == "input" and ref.name == name:
                        return peer_grouping(n, self.p)
        return self.p.peer_group or "type"

    def spread(self, name: str) -> float:
        col = self.L.inputs[name][self.t]
        col = col[~np.isnan(col)]
        return float(col.max() - col.min()) if col.size else 0.0

    def candidates(self, name: str, v: float) -> tuple[list[float], list[float]]:
        """Values of input `name` to try, above and below v, nearest first.

        An outcome can change only where some value it reads changes: a rank where the value
        passes a peer's, a comparison at its threshold. So the candidates are the values of
        the peers it is ranked among (when it is ranked) and the points between them, the
        policy's numbers and the points just either side, a grid over the range of values
        and steps doubling away from v (for thresholds far outside it). Trying them nearest
        first finds a band (a condition true only between two values) that steps alone would
        jump over."""
        key = (name, v)
        if key not in self._candidates:        # every search of `name` tries the same
            self._candidates[key] = self._candidates_for(name, v)
        return self._candidates[key]

    def _candidates_for(self, name: str, v: float) -> tuple[list[float], list[float]]:
        inp = self.p.inputs[name]
        col = self.L.inputs[name][self.t]
        known = np.unique(col[~np.isnan(col)])
        scale = max(self.spread(name), abs(v), 1e-6)
        tiny = scale * 1e-9
        points: set[float] = set()
        peers = self.peer_values(name)
        if peers.size:
            points.update(peers.tolist())
            points.update(((peers[1:] + peers[:-1]) / 2.0).tolist())
        for c in self.constants():
            points.update((c, c - tiny, c + tiny))
        if known.size:
            lo, hi = float(known.min()), float(known.max())
            pad = max(hi - lo, scale * 0.1)
            points.update(np.linspace(lo - pad, hi + pad, 33).tolist())
        step = scale * 1e-3
        for _ in range(44):
            points.update((v + step, v - step))
            step *= 2.0
        lo_bound, hi_bound = (0.0, 100.0) if inp.type == "percent" else (-np.inf, np.inf)
        if inp.type == "count":
            lo_bound = 0.0
            points = {float(math.floor(x)) for x in points} | {float(math.ceil(x))
                                                                for x in points}
        pts = [min(max(float(x), lo_bound), hi_bound) for x in points if math.isfinite(x)]
        up = sorted({x for x in pts if x > v})
        down = sorted({x for x in pts if x < v}, reverse=True)
        return up, down

    def peer_values(self, name: str) -> np.ndarray:
        """The distinct values of `name` this period among the organisations this one is
        compared with by a peer function (rank, percentile, ...) reading it; none when no
        peer function reads it."""
        if name not in self._peer_values:
            mask = np.zeros(self.L.n_entities, bool)
            for call in self.peer_calls():
                if name in self.own_inputs(call.args[0]):
                    groups = self.L.groups.get(peer_grouping(call, self.p))
                    mask |= (groups == groups[self.e]) if groups is not None else True
            col = self.L.inputs[name][self.t]
            self._peer_values[name] = np.unique(col[mask & ~np.isnan(col)])
        return self._peer_values[name]

    def peer_calls(self) -> list[ast.Call]:
        roots = [d.expr for d in self.p.defines.values()] + [r.when for r in self.p.rules]
        return [n for root in roots if root is not None for n in ast.walk(root)
                if isinstance(n, ast.Call) and BUILTINS[n.func].family == "peer" and n.args]

    def constants(self) -> list[float]:
        """The numbers a policy compares with this period: params and literals."""
        if self._constants is None:
            found = {float(a[self.t]) for a in self.L.params.values()}
            roots = [d.expr for d in self.p.defines.values()] + [r.when for r in self.p.rules]
            for root in roots:
                if root is not None:
                    found.update(float(n.value) for n in ast.walk(root)
                                 if isinstance(n, ast.Number))
            self._constants = sorted(x for x in found if math.isfinite(x))
        return self._constants

    def probe_at(self, name: str, x: float) -> "Point":
        """The what-if with this organisation's `name` set to x this period. Every value tried
        is kept (the searches for different rules and levels try many of the same values),
        and is evaluated with others where the search knows what it will ask next
        (prefetch)."""
        point = self._points.get((name, x))
        if point is None:
            self.prefetch(name, [x])
            point = self._points[(name, x)]
        return point

    def prefetch(self, name: str, xs) -> None:
        """Evaluate the what-ifs of `name` at the values xs not tried yet, all at once."""
        new = [x for x in dict.fromkeys(float(x) for x in xs) if (name, x) not in self._points]
        if not new:
            return
        rows = Scenarios(self.probe, name, self.t, self.e, new)
        for k, x in enumerate(new):
            self._points[(name, x)] = Point(rows, k)

    def conditions_of(self, root: ast.Node) -> list[ast.Node]:
        """Every true/false node under root, through defines: what a search watches to know
        whether anything changed between two values it tried."""
        if root.nid not in self._conditions:
            self._conditions[root.nid] = self._conditions_under(root)
        return self._conditions[root.nid]

    def _conditions_under(self, root: ast.Node) -> list[ast.Node]:
        def others(n: ast.Node) -> bool:    # over members or over levels: not its own
            spec = builtin(n)
            return spec is not None and (spec.over_members or spec.reads_levels)
        return [n for n in self.through_defines(root, others)
                if getattr(self.c.types.get(n.nid), "kind", None) == "bool"]

    def signature(self, name: str, nodes: list[ast.Node]):
        """The truth of `nodes` with `name` at a value, as something to compare between
        values: only the nodes that read `name` (the others are the same at every value), and
        kept, since every search of `name` watching the same nodes asks about the same
        values."""
        reads = self.probe._reads
        nodes = [n for n in nodes if name in reads.get(n.nid, ())]
        watch = self._watches.setdefault(tuple(n.nid for n in nodes), len(self._watches))
        seen = self._signatures

        def sig(x: float) -> bytes:
            key = (watch, name, x)
            found = seen.get(key)
            if found is None:
                # for every value evaluated with x at once: true 1, false 0, unknown 2
                rows = self.probe_at(name, x).rows
                truth = np.array([rows.column(n) for n in nodes], np.float64).reshape(
                    len(nodes), len(rows))
                codes = np.where(np.isnan(truth), 2, truth == 1).astype(np.int8)
                for k, value in enumerate(rows.values.tolist()):
                    seen[(watch, name, value)] = codes[:, k].tobytes()
                found = seen[key]
            return found
        return sig

    def search(self, name: str, evaluate, goal_status: str | None = None,
               root: ast.Node | None = None) -> Crossing | None:
        """The nearest value of input `name` (this entity, this period) at which `evaluate`'s
        truth changes (or reaches goal_status), rounded outward to the shown precision and
        confirmed by evaluating it. `root`: the condition evaluated, watched between the
        values tried."""
        v = float(self.L.inputs[name][self.t, self.e])
        if v != v:
            return None
        base = evaluate(self.probe)

        def changed(x: float) -> bool:
            r = evaluate(self.probe_at(name, x))
            if goal_status is not None:
                return self.status(r) == goal_status
            return not (r == base or (r != r and base != base))

        sig = self.signature(name, self.conditions_of(root)) if root is not None else None
        return self.nearest(name, v, changed, sig)

    def nearest(self, name: str, v: float, reaches, signature=None) -> Crossing | None:
        """The value nearest v at which reaches(value) holds, either way: the candidates in
        order, then bisection between the last that does not and the first that does.

        With many candidates, every k-th is tried first, and the ones between two of those
        only when reaches() holds at the second or signature() (the truth of every condition
        involved) differs between them: a condition that turned and turned back again between
        two tries needs the value it watches to turn round, which ranks and thresholds on one
        organisation's value do not."""
        integer = self.p.inputs[name].type == "count"
        scale = max(self.spread(name), abs(v), 1e-6)
        best: Crossing | None = None
        up, down = self.candidates(name, v)
        # what the scans try first, both ways, in one evaluation
        self.prefetch(name, [v] + [points[i] for points in (up, down)
                                   for i in self.coarse(points, signature)])
        for points in (up, down):
            if best is not None:
                points = [x for x in points if abs(x - v) <= abs(best.after - v)]
            hit = self.first_hit(name, points, v, reaches, signature)
            if hit is None:
                continue
            lo, hi = self.bisect(name, *hit, reaches, integer, scale)
            crossing = self.shown_value(name, v, hi - v, reaches)
            if best is None or abs(crossing.after - v) < abs(best.after - v):
                best = crossing
        return best

    def first_hit(self, name: str, points: list[float], v: float, reaches,
                  signature) -> tuple[float, float] | None:
        """(the last point before it, the first point where reaches() holds), or None."""
        def scan(i: int, j: int) -> tuple[float, float] | None:
            for k in range(i, j):
                if (name, points[k]) not in self._points:
                    self.prefetch(name, points[k:min(j, k + 40)])
                if reaches(points[k]):
                    return (points[k - 1] if k else v), points[k]
            return None

        if signature is None or len(points) <= 40:
            return scan(0, len(points))
        coarse = self.coarse(points, signature)
        self.prefetch(name, [v] + [points[c] for c in coarse])
        prev, prev_sig = -1, signature(v)
        for c in coarse:
            now = signature(points[c])
            if now != prev_sig or reaches(points[c]):
                found = scan(prev + 1, c + 1)
                if found is not None:
                    return found
            prev, prev_sig = c, now
        return None

    @staticmethod
    def coarse(points: list[float], signature) -> list[int]:
        """The indexes first_hit tries first: every k-th (and the last) when it can skip
        between them, else the first 40."""
        if signature is None or len(points) <= 40:
            return list(range(min(len(points), 40)))
        k = math.ceil(len(points) / 32)
        coarse = list(range(k - 1, len(points), k))
        if coarse[-1] != len(points) - 1:
            coarse.append(len(points) - 1)
        return coarse

    def bisect(self, name: str, lo: float, hi: float, reaches, integer: bool,
               scale: float) -> tuple[float, float]:
        """Bisection between lo (does not reach it) and hi (does), to a count's unit or to
        1e-10 of the input's scale. The next few rounds' midpoints, whichever way each goes,
        are evaluated together beforehand: the same steps, for a few evaluations instead of
        one per step."""
        def middle(lo: float, hi: float) -> float | None:
            if integer and abs(hi - lo) <= 1:
                return None
            if not integer and abs(hi - lo) <= scale * 1e-10:
                return None
            mid = (lo + hi) / 2.0
            if integer:
                mid = math.floor(mid) if hi > lo else math.ceil(mid)
                if mid in (lo, hi):
                    return None
            return mid

        for step in range(80):
            mid = middle(lo, hi)
            if mid is None:
                break
            if (name, mid) not in self._points:
                ahead, level = [], [(lo, hi)]
                for _ in range(min(_LOOKAHEAD, 80 - step)):
                    nxt = []
                    for a, b in level:
                        m = middle(a, b)
                        if m is not None:
                            ahead.append(m)
                            nxt += [(a, m), (m, b)]
                    level = nxt
                self.prefetch(name, ahead)
            if reaches(mid):
                hi = mid
            else:
                lo = mid
        return lo, hi

    def shown_value(self, name: str, v: float, delta: float, changed) -> Crossing:
        """What to report for a change of `delta` found by bisection (just past the boundary):
        the boundary rounded to the precision the explanation shows, when reaching it changes
        the outcome; the rounded boundary as a strict one when only values beyond it do (the
        value itself, when any move that way does); else one shown step further."""
        kind = self.p.inputs[name].type
        a = abs(delta)
        if kind == "percent":
            unit = 0.1
        elif kind == "count":
            unit = 1.0
        elif kind == "money":
            unit = 10.0 ** max(3, math.floor(math.log10(a)) - 1) if a > 0 else 1000.0
        else:
            shown = 0.001 if abs(v) < 10 else 0.01      # as Format.value shows numbers
            unit = max(10.0 ** (math.floor(math.log10(a)) - 2), shown) if a > 0 else shown
        digits = max(0, -math.floor(math.log10(unit)))
        nearest = round(round((v + delta) / unit) * unit, digits)
        step = math.copysign(unit, delta)
        further = round(nearest + step, digits)
        self.prefetch(name, [nearest, nearest + step * 1e-6, further])
        if (nearest - v) * delta > 0:
            if changed(nearest):
                return Crossing(nearest, nearest, False)
            just_past = nearest + step * 1e-6
            if changed(just_past):
                return Crossing(just_past, nearest, True)
        elif abs(nearest - v) < unit / 2 and kind != "count":
            # the boundary is v itself, to the precision shown: v + delta (just past it) is
            # the verified value
            return Crossing(v + delta, v, True)
        if (further - v) * delta > 0 and changed(further):
            return Crossing(further, further, False)
        return Crossing(v + delta, v + delta, False)

    def unknown_flip(self, rule, inputs: list[str]) -> tuple[Flip | None, str | None]:
        missing = [n for n in inputs if self.L.inputs[n][self.t, self.e] !=
                   self.L.inputs[n][self.t, self.e]]
        if not missing:
            return None, "unknown through values of other organisations or earlier periods"
        labels = ", ".join(self.p.inputs[n].label for n in missing)
        if len(missing) > 1:
            return None, f"unknown because these are missing: {labels}"
        name = missing[0]
        inp = self.p.inputs[name]
        col = self.L.inputs[name][self.t]
        if inp.type == "flag":
            candidates = [0.0, 1.0]
        elif inp.type == "rating":
            candidates = [float(i) for i in range(len(self.p.scales[inp.scale].labels))]
        else:
            candidates = sorted(set(float(x) for x in col[~np.isnan(col)]))
        self.prefetch(name, candidates)
        fires = [x for x in candidates
                 if self.rule_status(rule, self.probe_at(name, x)) == "fired"]
        ityp = Type(inp.type) if inp.type not in ("rating", "flag") else (
            Type("rating", inp.scale) if inp.type == "rating" else Type("bool"))
        note = f"unknown because {inp.label} is missing"
        if not fires:
            return None, note + "; it would not fire for any value its peers have"
        if len(fires) == len(candidates):
            return None, note + "; it would fire for any value its peers have"
        if fires == candidates[:len(fires)]:
            return None, (note + f"; it would fire if {inp.label} were at most "
                          f"{self.fmt.value(fires[-1], ityp)}")
        if fires == candidates[-len(fires):]:
            return None, (note + f"; it would fire if {inp.label} were at least "
                          f"{self.fmt.value(fires[0], ityp)}")
        return None, note + "; it would fire for some of the values its peers have"
