"""The expression AST: frozen dataclasses, each with an id, a position in the policy file and
its span in the expression text.

`nid` is unique within one policy, so later stages (checker, planner, evaluators, explain,
coverage) key their side tables by it, as cel-go keys its type and reference maps by
expression id.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from functools import lru_cache
from typing import Iterator

from ..diagnostics import Pos


@lru_cache(maxsize=None)
def own_fields(cls: type) -> tuple[str, ...]:
    """A node class's fields past the common three (which hold no children), looked up once:
    every pass over the tree asks for them (dataclasses.fields rebuilds its tuple each call)."""
    return tuple(f.name for f in fields(cls) if f.name not in ("nid", "pos", "span"))


@dataclass(frozen=True)
class Node:
    nid: int
    pos: Pos                    # where the node starts, in the policy file
    span: tuple[int, int]       # [start, end) offsets in the expression text

    def children(self) -> Iterator["Node"]:
        for name in own_fields(type(self)):
            value = getattr(self, name)
            if isinstance(value, Node):
                yield value
            elif isinstance(value, tuple):
                for item in value:
                    if isinstance(item, Node):
                        yield item
                    elif isinstance(item, Keyword):
                        yield item.value


@dataclass(frozen=True)
class Number(Node):
    value: float
    unit: str                   # "number", "percent" (95% is 95.0) or "money" (£1.5m is 1_500_000.0)


@dataclass(frozen=True)
class Bool(Node):
    value: bool


@dataclass(frozen=True)
class String(Node):
    value: str


@dataclass(frozen=True)
class Name(Node):
    name: str


@dataclass(frozen=True)
class Attribute(Node):
    """`parent.x`: a value of the entity's parent in the hierarchy."""

    obj: str
    name: str


@dataclass(frozen=True)
class Unary(Node):
    op: str                     # "-" or "not"
    operand: Node


@dataclass(frozen=True)
class Binary(Node):
    op: str                     # + - * / and or == != < <= > >=
    left: Node
    right: Node


@dataclass(frozen=True)
class In(Node):
    operand: Node
    items: tuple[Node, ...]
    negated: bool


@dataclass(frozen=True)
class Between(Node):
    operand: Node
    low: Node
    high: Node


@dataclass(frozen=True)
class If(Node):
    cond: Node
    then: Node
    else_: Node


@dataclass(frozen=True)
class Lag(Node):
    """`x[-n]`: the value of x n periods earlier."""

    operand: Node
    n: int


@dataclass(frozen=True)
class Keyword:
    name: str
    value: Node
    pos: Pos


@dataclass(frozen=True)
class Call(Node):
    func: str
    func_pos: Pos
    args: tuple[Node, ...]
    kwargs: tuple[Keyword, ...] = ()

    def kwarg(self, name: str) -> Keyword | None:
        for k in self.kwargs:
            if k.name == name:
                return k
        return None


def walk(node: Node) -> Iterator[Node]:
    """Every node of the tree, parents before children (iterative: trees may be deep)."""
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        stack.extend(reversed(list(n.children())))


def renumber(node: Node, ids) -> Node:
    """A copy of the tree with fresh node ids from `ids` (a parser.NodeIds), so trees from two
    policies can be combined in one (diff builds a policy variant from parts of both)."""
    from dataclasses import replace

    changes = {}
    for f in fields(node):
        value = getattr(node, f.name)
        if isinstance(value, Node):
            changes[f.name] = renumber(value, ids)
        elif isinstance(value, tuple) and value and isinstance(value[0], (Node, Keyword)):
            changes[f.name] = tuple(
                renumber(v, ids) if isinstance(v, Node) else
                replace(v, value=renumber(v.value, ids)) for v in value)
    return replace(node, nid=ids.next(), **changes)


def max_nid(roots) -> int:
    """The largest node id in the given trees (None entries are skipped)."""
    return max((n.nid for root in roots if root is not None for n in walk(root)), default=0)
