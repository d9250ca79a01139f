"""Expression values one vectorised evaluation can take from another over the same data.

A diff evaluates B and then B with each change reverted: every variant shares almost all of
B's expressions (the same node objects: `analysis.diff.revert` copies only A's side of the
change), and most of their values (peer ranks, windows, aggregates over members) are B's
own. A variant takes those from B's evaluation instead of computing them again.

A node's value is taken only when everything it is computed from is provably the same in
both evaluations, compared as a digest per node (`signatures`) of:

- the node object itself (the same object: the same expression, the same node id), its
  type and its ranking direction as the checker annotated them in each policy;
- what each name refers to: an input's bound array (the same array object: bind's memo
  hands every evaluation of one definition the same array), a param's values over the
  periods, a define's expression (its digest, recursively), a label's or level's position;
- its children's digests;
- and, for the whole evaluation, the entities, the periods, the parents, the peer groups
  and the policy's peer-group settings (anything else: nothing is taken).

Never taken: values that depend on the level of an earlier period (evaluated period by
period), and strings (held as codes into a table that each evaluation numbers afresh).
"""

from __future__ import annotations

import hashlib
from typing import Mapping

import numpy as np

from ..lang import ast
from ..lang import types as T
from ..lang.checker import CheckedPolicy
from .layout import Layout


def _root_array(arr: np.ndarray) -> np.ndarray:
    """The array that owns `arr`'s memory (a period-cut input is a view of the bound one)."""
    while isinstance(arr.base, np.ndarray):
        arr = arr.base
    return arr


def _frame(checked: CheckedPolicy, layout: Layout) -> bytes:
    """What every value of an evaluation may read besides its own expression's names."""
    p = checked.policy
    h = hashlib.sha256()
    h.update(repr((id(layout.entities), layout.n_entities, layout.n_periods, p.peer_group,
                   p.peer_groups)).encode())
    h.update(np.ascontiguousarray(layout.parent).tobytes())
    for by in sorted(layout.groups):
        h.update(by.encode() + b"\0" + np.ascontiguousarray(layout.groups[by]).tobytes())
    return h.digest()


def _roots(checked: CheckedPolicy) -> list[ast.Node]:
    p = checked.policy
    roots = [d.expr for d in p.defines.values() if d.expr is not None]
    roots += [r.when for r in p.rules if r.when is not None]
    if p.applies_to is not None and p.applies_to.expr is not None:
        roots.append(p.applies_to.expr)
    return roots


def signatures(checked: CheckedPolicy, layout: Layout) -> dict[int, bytes]:
    """Per node id, a digest of everything its value is computed from (module docstring)."""
    p = checked.policy
    out: dict[int, bytes] = {}
    done: dict[int, bytes] = {}         # id(node) -> digest

    def ref_part(node: ast.Node) -> bytes:
        ref = checked.refs.get(node.nid)
        parts = [repr(ref).encode()]
        if ref is not None:
            if ref.kind == "input":
                arr = layout.inputs.get(ref.name)
                parts.append(b"missing" if arr is None else
                             repr((id(_root_array(arr)), arr.shape)).encode())
            elif ref.kind == "param":
                arr = layout.params.get(ref.name)
                parts.append(b"missing" if arr is None else arr.tobytes())
            elif ref.kind == "define":
                d = p.defines.get(ref.name)
                parts.append(b"none" if d is None or d.expr is None else digest(d.expr))
        if isinstance(node, ast.Name) and node.name in layout.params:
            parts.append(layout.params[node.name].tobytes())    # a window's size, by name
        return b"\0".join(parts)

    def digest(node: ast.Node) -> bytes:
        hit = done.get(id(node))
        if hit is not None:
            return hit
        h = hashlib.blake2b(digest_size=16)
        h.update(repr((id(node), node.nid, checked.types.get(node.nid),
                       checked.directions.get(node.nid))).encode())
        h.update(ref_part(node))
        for child in node.children():
            h.update(digest(child))
        value = done[id(node)] = h.digest()
        out[node.nid] = value
        return value

    for root in _roots(checked):
        digest(root)
    return out


class Evaluated:
    """One vectorised evaluation's values (`values`: node id -> value over every period, as
    `evaluate_vectorised` fills it), to share with later evaluations over the same data."""

    def __init__(self, checked: CheckedPolicy, layout: Layout,
                 values: Mapping[int, np.ndarray]) -> None:
        self.checked = checked
        self.layout = layout
        self.values = values
        self._seen: dict[int, tuple[bytes, dict[int, bytes]]] = {}     # by periods
        self._stepped: set[int] | None = None

    def _signed(self, n: int) -> tuple[bytes, dict[int, bytes]]:
        hit = self._seen.get(n)
        if hit is None:
            layout = self.layout if n == self.layout.n_periods else self.layout.head(n)
            hit = self._seen[n] = (_frame(self.checked, layout),
                                   signatures(self.checked, layout))
        return hit

    def shared(self, checked: CheckedPolicy, layout: Layout) -> dict[int, np.ndarray]:
        """The values that evaluating `checked` over `layout` would compute alike, cut to
        `layout`'s periods (which may be fewer: a period's values depend only on it and
        earlier periods)."""
        from .vectorised import level_dependent

        n = layout.n_periods
        if n > self.layout.n_periods or not self.values:
            return {}
        try:
            frame, old = self._signed(n)
            if frame != _frame(checked, layout):
                return {}
            new = signatures(checked, layout)
        except RecursionError:
            return {}
        if self._stepped is None:
            self._stepped = level_dependent(self.checked)
        stepped = self._stepped | level_dependent(checked)
        before = self.checked
        out = {}
        for nid, value in self.values.items():
            if nid in stepped or new.get(nid) is None or new[nid] != old.get(nid):
                continue
            if T.STRING in (before.types.get(nid), checked.types.get(nid)):
                continue
            out[nid] = value[:n]
        return out
