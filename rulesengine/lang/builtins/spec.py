"""What a built-in function is: one `Builtin` entry holds everything every stage needs to know
about it, so a function is defined in exactly one place (its family's file) and the checker,
the engines, explain, coverage, `regime doc` and the language server read the entry.

An entry holds:

- **signature**: argument kinds (`params`), the result kind, keyword arguments;
- **roles**: which arguments the engines read as values (`values`), which one is a size
  (a window length or a number of groups, `size`), which keyword arguments exclude each
  other (`exclusive`); which arguments are conditions follows from the kinds (`cond`);
- **orientation** (`better:`): whether it ranks its argument oriented by `better:`
  (`ranks`, or `oriented_when` a keyword takes a value), which way is better for its result
  (`better`, or `better_from` arguments); keywords that take one of a few words (`choices`),
  and a keyword a call should state, with the warning given when it does not (`unstated`:
  how an old form whose meaning reads ambiguously keeps its meaning and says so);
- **time**: how far it looks back (`lookback`), whether a compiled kernel keeps the
  operand's past values (`history`), whether it reads earlier levels (`reads_levels`);
- **implementations**: `reference(ev, node, t)` in NumPy (the oracle); `vectorised` when the
  array-at-a-time engine needs its own (else the reference one serves: it is written for
  values of any shape); `compiled(g, node, out, emit)`, an emitter writing the kernel lines
  that compute it (calling `compile/library.py`'s numba functions by name: a family file
  never imports numba); `task(g, node)` for a peer function a parallel kernel splits by
  peer group;
- **words**: `doc`, the one-line description, and `words(w, node)`, the condition in words
  for `regime doc` (`compared_words` for a phrase that reads better as a whole comparison).

The objects handed to the implementations are the stages' own (the evaluator, the code
generator, the document writer); what a family file may use of them:

- `ev` (engine/reference.py): `ev.eval(node, t)` (t < 0: before the data, unknown; the
  vectorised engine's values are [periods, entities] and t <= 0 shifts them), `ev.window_size
  (node, t)`, `ev.shape`, `ev.E`, `ev.levels`, `ev.level_condition(node, levels)`, `ev.computed(node,
  t)` (the node's value in period t if already computed, else None), `ev.c`
  (the checked policy: `directions`, `refs`), `ev.L` (the layout: `groups`, `parent`,
  `params`), `ev.p` (the policy), `ev.alive(t)` (who exists in the cells' periods); for
  follow=successor, `ev.followed(node, t)` (the value in period t as each entity's stand-ins
  agree on it) and `ev.followed_levels(stop, start)` (the worst level of the stand-ins in
  each period from start to stop-1), engine/lineage.py.
- `g` (compile/codegen.py): `g.var(node)`, `g.past(node, when)`, `g.window_size(node)`,
  `g.fresh()`, `g.column(node)`, `g.grouping(node)`, `g.lower(node)`, `g.latch(node)`,
  `g.level_counter(node)`, `g.window_source(node)`, `g.is_param(node)`, `g.number(x)`,
  `g.followed(node, when)`, `g.followed_level(when)`, `g.level_test(cond, level, emit)`,
  `g.alive()`; `emit(line, depth=0)` writes a line of the kernel, `depth` levels deeper
  than the call's.
- `w` (authoring/doc.py): `w.arg(node, k)`, `w.window(node, k)`, `w.count(node)`,
  `w.listed(node)`, `w.peers(node)`, `w.period`, `w.share(value)`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Optional

# How far back a lag or a time window may reach: 50 years of months. A kernel keeps this much
# history per entity, and no regime looks back further; a typo such as 100000000 is refused
# by the parser and the checker rather than exhausting memory at evaluation.
MAX_LOOKBACK = 600

# What each argument kind accepts, and each result kind is (the checker enforces the kinds;
# `regime doc --builtin` shows these words).
KINDS = {
    "value": "a number of any unit, or a rating",
    "num": "a number of any unit",
    "cond": "a true/false condition",
    "any": "a value of any type",
    "window": "a number of periods: a whole-number literal or param, at least 1",
    "int": "a whole-number literal or param, at least 1",
    "pct": "a number from 0 to 100 (a literal, a param or an expression)",
    "digits": "a whole-number literal from 0 to 12",
    "ordinal": "a rating or a level",
    "members": "the word `members`: the entity's direct members in the hierarchy",
    "level": "the word `level`: the outcome of earlier periods",
    "levelcond": "a condition on `level`, e.g. `level >= segment_3`",
}
RESULTS = {
    "same": "the first value's type",
    "same_num": "a number in the first value's unit (a count's mean is a number)",
    "bool": "true/false",
    "count": "a count",
    "number": "a number",
    "percent": "a percentage",
    "level": "a level",
}

# What each keyword argument is: a peer grouping, a direction, or a value the engines read
# (a threshold in the unit of the scored value).
KWARG_ROLES = {"by": "group", "better": "direction", "standard": "value", "floor": "value",
               "first": "choice", "follow": "choice"}

# The keyword that makes a built-in over time read an organisation's predecessors in the
# periods before it existed (level.py, time.py): declared on each such entry.
FOLLOW = dict(kwargs=("follow",), choices=(("follow", ("successor",)),))

Reference = Callable[[Any, Any, int], Any]
Emitter = Callable[[Any, Any, str, Callable[..., None]], None]


@dataclass(frozen=True)
class Builtin:
    name: str
    family: str                 # time | peer | members | multi | missing | math | level
    params: tuple[str, ...]
    result: str
    doc: str
    reference: Reference
    compiled: Emitter
    words: Callable[[Any, Any], str]
    variadic: bool = False      # the last param kind repeats (one or more)
    kwargs: tuple[str, ...] = ()
    # roles
    values: Optional[tuple[int, ...]] = None    # arguments read as values; None: every one
    size: Optional[int] = None                  # the argument that is a window length or k
    exclusive: tuple[str, ...] = ()             # keyword arguments of which one at most
    # orientation
    ranks: bool = False         # ranks its first argument among peers, oriented by better:
    oriented_when: Optional[tuple[str, str]] = None     # (keyword, word): oriented then too
    choices: tuple[tuple[str, tuple[str, ...]], ...] = ()   # keyword -> the words it takes
    unstated: Optional[tuple[str, str]] = None  # (keyword, warning when a call leaves it out)
    better: Optional[str] = None            # the result's own direction: higher | lower
    better_from: Any = None     # argument indexes (or "all") whose common direction it keeps
    # time and levels
    lookback: Optional[str] = None  # "window": the last n periods; "ends": now and n back
    history: bool = False       # a compiled kernel keeps the operand's past values
    reads_levels: bool = False  # reads the outcome of earlier periods
    level_counter: bool = False  # a count the kernel keeps up as each period's level is decided
    # more implementations
    vectorised: Optional[Reference] = None
    task: Optional[Callable[[Any, Any], tuple[str, str]]] = None
    compared_words: Optional[Callable[[Any, Any, str, float], Optional[str]]] = None

    def choice(self, node, keyword: str) -> Optional[str]:
        """The word a call gives a keyword that takes one (`first=worst`), or None."""
        kw = node.kwarg(keyword)
        return getattr(kw.value, "name", None) if kw is not None else None

    def follows(self, node) -> bool:
        """Whether this call reads predecessors before the entity existed (follow=successor)."""
        return "follow" in self.kwargs and self.choice(node, "follow") == "successor"

    def orients(self, node) -> bool:
        """Whether this call reads its first argument oriented by `better:`."""
        if self.ranks:
            return True
        return self.oriented_when is not None and \
            self.choice(node, self.oriented_when[0]) == self.oriented_when[1]

    @property
    def cross(self) -> bool:
        """Computed across entities (peers or members), between a kernel's entity loops."""
        return self.family in ("peer", "members")

    @property
    def over_members(self) -> bool:
        """Reads its value argument at the entity's members, not at the entity itself."""
        return self.family == "members"

    def kinds(self, n_args: int) -> tuple[str, ...]:
        """The kind of each of n_args arguments."""
        return self.params * n_args if self.variadic else self.params

    def value_args(self, args: list) -> list:
        """The arguments the engines read as values (not sizes, words or digits)."""
        if self.reads_levels:
            return []
        if self.values is None:
            return list(args)
        return [args[i] for i in self.values if i < len(args)]

    def conditions(self, args: list) -> list:
        """The arguments that are true/false conditions (what coverage reports on)."""
        return [a for k, a in zip(self.kinds(len(args)), args) if k == "cond"]

    def arg_names(self) -> list[str]:
        """Each param's name as the documentation writes it (x, n, cond, ...)."""
        names = {"value": "x", "num": "x", "cond": "cond", "window": "n", "int": "k",
                 "pct": "p", "members": "members", "level": "level",
                 "levelcond": "level_condition", "any": "x", "digits": "digits",
                 "ordinal": "rating"}
        return [names.get(kind, kind) for kind in self.params]

    def signature(self) -> str:
        """The call as documented, e.g. `rank(x, by=..., better=...)` (hover, docs)."""
        args = self.arg_names()
        if self.variadic:
            args[-1] += ", ..."
        args += [f"{k}=..." for k in self.kwargs]
        return f"{self.name}({', '.join(args)})"

    def usage(self) -> str:
        """The call as an error message shows it, e.g. `count(members, condition)`."""
        names = {"members": "members", "cond": "condition", "window": "n", "int": "k",
                 "level": "level", "levelcond": "condition on level", "pct": "p",
                 "digits": "digits", "ordinal": "x"}
        args = [names.get(k, "x") for k in self.params]
        if self.variadic:
            args = [args[0], args[0], "..."]
        return f"{self.name}({', '.join(args)})"


def family(name: str, entries: list[Builtin]) -> dict[str, Builtin]:
    """A family's entries by name (each declared with family=name)."""
    for b in entries:
        assert b.family == name, b.name
    return {b.name: b for b in entries}
