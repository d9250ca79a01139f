"""Expression values one vectorised evaluation can take from another over the same data.

A diff evaluates A, B, and B with each change reverted: B usually extends or copies A, and
every variant is B but for one change, so most expressions recur (peer ranks, windows,
aggregates over members), and their values with them. An evaluation takes those from an
earlier one instead of computing them again.

A node's value is taken only when everything it is computed from is provably the same in
both evaluations, compared as a digest per node (`signatures`) of:

- the node's own fields (its kind, operator, function, literal, window length, keyword
  names; not its id or position), its type and its ranking direction as the checker
  annotated them in each policy;
- what each name refers to: an input's bound array (the same array object: bind's memo
  hands every evaluation of one definition the same array), a param's values over the
  periods, a define's expression (its digest, recursively), a label's or level's position;
- its children's digests;
- and, for the whole evaluation, the entities (the same Entities object), the periods, the
  parents and the policy's peer-group settings, which with a peer function's `by=` (a
  child) fix the peer groups it ranks within (anything else: nothing is taken).

Never taken: values that depend on the level of an earlier period (evaluated period by
period), and strings (held as codes into a table that each evaluation numbers afresh).
"""

from __future__ import annotations

import hashlib
from typing import Mapping

import numpy as np

from ..diagnostics import Pos
from ..lang import ast
from ..lang import types as T
from ..check.checker import CheckedPolicy
from .layout import Layout
from .vectorised import level_dependent


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
    return h.digest()


def _own(node: ast.Node) -> str:
    """A node's own fields, without its id, its position and its children (digested apart)."""
    parts = [type(node).__name__]
    for name in ast.own_fields(type(node)):         # not nid, pos, span
        v = getattr(node, name)
        if isinstance(v, (ast.Node, Pos)):
            continue
        if isinstance(v, tuple):
            v = tuple(("kw", x.name) if isinstance(x, ast.Keyword) else "node"
                      for x in v if not isinstance(x, Pos))
        parts.append(repr(v))
    return "\0".join(parts)


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
        h.update(repr((checked.types.get(node.nid),
                       checked.directions.get(node.nid))).encode())
        h.update(_own(node).encode())
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
        self._digests: dict[int, dict[bytes, np.ndarray]] = {}

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
            self._stepped = self.checked.derived("level_dependent", level_dependent)
        mine = self._by_digest(n, old)
        stepped = checked.derived("level_dependent", level_dependent)
        out = {}
        for nid, sig in new.items():
            found = mine.get(sig)
            if found is None or nid in stepped or checked.types.get(nid) == T.STRING:
                continue
            out[nid] = found[:n]
        return out

    def _by_digest(self, n: int, old: dict[int, bytes]) -> dict[bytes, np.ndarray]:
        """This evaluation's values that may be shared, by digest."""
        hit = self._digests.get(n)
        if hit is None:
            hit = self._digests[n] = {
                old[nid]: value for nid, value in self.values.items()
                if nid in old and nid not in self._stepped
                and self.checked.types.get(nid) != T.STRING}
        return hit
