"""The policy model: what a policy file says, as frozen dataclasses with positions.

Every item remembers the file it came from (`origin`), because a policy that `extends`
another mixes items from two files and each diagnostic must name the right one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

from ..diagnostics import Pos, Source
from ..lang import ast

INPUT_TYPES = ("percent", "number", "money", "count", "flag", "rating")
# How a percent input's data write 75%: `scale: percent` (75, the default) or `fraction` (0.75).
PERCENT_SCALES = ("percent", "fraction")
ENTITY_ATTRIBUTES = ("id", "name", "kind", "type", "parent", "region")


@dataclass(frozen=True)
class Level:
    id: str
    label: str
    meaning: str
    index: int                  # 0 = best
    decided_by: str | None      # a judgement level: rules only make candidates for it
    pos: Pos
    origin: Source


@dataclass(frozen=True)
class Scale:
    name: str
    labels: tuple[str, ...]     # best first
    pos: Pos
    origin: Source


@dataclass(frozen=True)
class ParamValue:
    start: str | None           # the period it applies from; None = always
    value: float


@dataclass(frozen=True)
class Param:
    name: str
    values: tuple[ParamValue, ...]
    unit: str                   # percent | money | number, or an author's word such as "quarters"
    note: str | None
    source: str | None
    published: bool | None
    pos: Pos
    origin: Source

    @property
    def value(self) -> float:
        """The value in force last (the only one unless the param is effective-dated)."""
        return self.values[-1].value

    @property
    def kind(self) -> str:
        """The param's type in the language: percent, money or number."""
        return self.unit if self.unit in ("percent", "money", "count") else "number"


@dataclass(frozen=True)
class Input:
    name: str
    type: str                   # one of INPUT_TYPES
    better: str | None          # "higher" | "lower" | None
    label: str
    unit: str | None
    scale: str | None
    aggregate: str | None
    source: str | None
    note: str | None
    pos: Pos
    origin: Source
    # `effective: {from, to}`: the dates the metric existed in this regime (documentation
    # and data checks; rules that need the date guard carry their own `effective:`).
    effective_from: str | None = None
    effective_to: str | None = None
    # (low, high): the plausible range of the input's values (`expect: 50..100`), in percent
    # for a percent input whatever its `scale:`; None when not declared.
    expect: tuple[float, float] | None = None


@dataclass(frozen=True)
class Define:
    name: str
    expr: ast.Node | None       # None when the text did not parse (already reported)
    text: str
    pos: Pos
    origin: Source


@dataclass(frozen=True)
class Rule:
    id: str
    level: str
    when: ast.Node | None
    text: str
    reason: str | None
    source: str | None
    note: str | None
    pos: Pos
    level_pos: Pos
    origin: Source
    # `effective: {from, to}` on the rule (dates); folded into `when` at check time by
    # policy/effective.py, which then sets `effective_text` to the range in words.
    effective_from: str | None = None
    effective_to: str | None = None
    effective_text: str | None = None


@dataclass(frozen=True)
class Stage:
    id: str
    label: str
    working_days: int
    source: str | None
    note: str | None


@dataclass(frozen=True)
class Timetable:
    starts: str
    stages: tuple[Stage, ...]


@dataclass(frozen=True)
class Policy:
    """A policy after `extends` is resolved, before checking."""

    id: str
    title: str
    version: str
    effective_from: str | None
    effective_to: str | None
    sources: tuple[str, ...]
    entity: tuple[str, ...] | None   # the kinds of entity decided on
    period: str | None
    peer_group: str | None
    applies_to: Define | None
    levels: tuple[Level, ...]
    default: str | None
    default_pos: Pos | None
    decide: str
    scales: Mapping[str, Scale]
    params: Mapping[str, Param]
    inputs: Mapping[str, Input]
    defines: Mapping[str, Define]
    rules: tuple[Rule, ...]
    timetable: Timetable | None
    tests: tuple[dict, ...]
    extends: str | None
    origin: Source
    files: tuple[str, ...]      # this file and the files it extends, child first
    content_hash: str           # over the bytes of every file in `files`
    pos: Pos = field(default_factory=lambda: Pos(1, 1))   # the `policy:` key of its file
    peer_group_pos: Pos | None = None
    # `peer_groups:` merges values of the peer_group attribute into NHS England's peer groups,
    # e.g. {acute: [acute, specialist], non_acute: [mental_health, community]}: group -> values
    peer_groups: Mapping[str, tuple[str, ...]] | None = None
    # "nhs" for `period: fy_quarter`: outputs write its quarters as financial-year quarters
    period_labels: str | None = None

    def peer_group_of(self, value: str) -> str:
        """The peer group an attribute value belongs to (itself unless `peer_groups` merges it)."""
        for group, values in (self.peer_groups or {}).items():
            if value in values:
                return group
        return value

    def level(self, level_id: str) -> Level | None:
        for lv in self.levels:
            if lv.id == level_id:
                return lv
        return None

    def rule(self, rule_id: str) -> Rule | None:
        for r in self.rules:
            if r.id == rule_id:
                return r
        return None

    @property
    def file(self) -> str:
        return self.origin.file
