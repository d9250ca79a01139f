"""`regime eval --show inputs,defines,ranks`: extra columns with each organisation's input
values, define values and the peer ranks the rules use, so an analyst sees the score and rank
behind every row without running explain once per organisation.

Values come from the reference semantics through the same Probe explain uses (so they are the
values the rules saw, whichever engine ran), typed for the machine formats: numbers as
numbers (percentages as 0-100), flags and conditions as true/false, ratings by their scale's
label, levels by id; missing or unknown as None.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..diagnostics import RegimeError, did_you_mean
from ..engine.probe import Probe
from ..lang import ast
from ..lang.builtins import PEER_FUNCTIONS

KINDS = ("inputs", "defines", "ranks")


def parse_show(text: str | None) -> tuple[str, ...]:
    """The --show kinds: a comma-separated list of inputs, defines, ranks (or all)."""
    if not text:
        return ()
    kinds: list[str] = []
    for word in (w.strip().lower() for w in text.split(",")):
        if not word:
            continue
        if word == "all":
            return KINDS
        if word not in KINDS:
            raise RegimeError(f"--show: '{word}' is not one of {', '.join(KINDS)}, all"
                              f"{did_you_mean(word, KINDS + ('all',))}")
        if word not in kinds:
            kinds.append(word)
    return tuple(kinds)


@dataclass(frozen=True)
class _Column:
    header: str
    node: ast.Node | None       # evaluated by the probe; None for an input read directly
    input: str | None
    kind: str                   # the value's type kind (number, percent, bool, rating, ...)
    scale: str | None = None


class Shown:
    """The --show columns of one evaluation: `headers`, and `values(t, e)` per row."""

    def __init__(self, checked, outcomes, layout, kinds: tuple[str, ...]) -> None:
        self.checked = checked
        self.outcomes = outcomes
        self.layout = layout
        self.probe = Probe(checked, layout, outcomes.raw.level.astype(np.float64))
        self.columns = _columns(checked, layout, kinds)
        self.headers = tuple(c.header for c in self.columns)
        self._cache: dict[tuple[int, int], np.ndarray] = {}

    def _period_values(self, i: int, t: int):
        key = (i, t)
        if key not in self._cache:
            col = self.columns[i]
            if col.input is not None:
                self._cache[key] = self.layout.inputs[col.input][t]
            else:
                self._cache[key] = self.probe.value(col.node, t)
        return self._cache[key]

    def values(self, t: int, e: int) -> list:
        return [self._typed(col, self._period_values(i, t)[e])
                for i, col in enumerate(self.columns)]

    def _typed(self, col: _Column, v):
        if isinstance(v, str):
            return v
        v = float(v)
        if math.isnan(v):
            return None
        if col.kind in ("bool", "flag"):
            return v == 1
        if col.kind == "rating" and col.scale:
            labels = self.checked.policy.scales[col.scale].labels
            return labels[int(v)] if 0 <= int(v) < len(labels) else v
        if col.kind == "level":
            ids = self.outcomes.level_ids
            return ids[int(v)] if 0 <= int(v) < len(ids) else v
        return int(v) if v.is_integer() and col.kind in ("count",) else v


def _columns(checked, layout, kinds) -> list[_Column]:
    p = checked.policy
    out: list[_Column] = []
    if "inputs" in kinds:
        for name in checked.used_inputs:
            if name in layout.inputs:
                spec = p.inputs[name]
                out.append(_Column(name, None, name, spec.type, spec.scale))
    if "defines" in kinds:
        for name in checked.define_order:
            d = p.defines[name]
            if d.expr is None:
                continue
            t = checked.types.get(d.expr.nid)
            out.append(_Column(name, d.expr, None, t.kind if t else "number",
                               getattr(t, "scale", None)))
    if "ranks" in kinds:
        seen: set[str] = set()
        sources = [(d.expr, d.text) for d in p.defines.values() if d.expr is not None]
        sources += [(r.when, r.text) for r in p.rules if r.when is not None]
        for root, text in sources:
            for node in ast.walk(root):
                if isinstance(node, ast.Call) and node.func in PEER_FUNCTIONS:
                    header = " ".join(text[node.span[0]:node.span[1]].split())
                    if header in seen:
                        continue
                    seen.add(header)
                    t = checked.types.get(node.nid)
                    out.append(_Column(header, node, None, t.kind if t else "number"))
    return out
