"""What a name in a checked expression means (`Ref`, kept in CheckedPolicy.refs) and where an
expression is being checked (`Scope`): shared by the checker and its call rules."""

from __future__ import annotations

from dataclasses import dataclass

from ..diagnostics import Source


@dataclass(frozen=True)
class Ref:
    """What a name means: an input, param, define, entity attribute, a scale label or level id
    (with its position, 0 = best), `level`, `members`, or a peer-group choice."""

    kind: str       # input param define attr label level level_var members group direction
    #                 choice (a keyword's word: first=worst)
    name: str
    index: int = 0


@dataclass
class Scope:
    origin: Source
    level_var: bool = False         # inside previous(...) or periods_in(...)
    level_only: bool = False        # inside periods_in(...): only `level` and level ids
