"""What an explanation holds: frozen results, and their JSON form."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class Crossing:
    """Where a value must go to change an outcome: `after` changes it; `boundary` is the shown
    value; `strict` means the outcome changes only beyond the boundary, not at it."""

    after: float
    boundary: float
    strict: bool


# --- results ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Flip:
    input: str
    label: str
    before: float | None
    after: float
    text: str                   # "stops firing if A&E 4-hour performance rises by 2.1 points (to 75.0%)"


@dataclass(frozen=True)
class Move:
    """The smallest change to one input this period that moves the organisation to `level`
    (input None: no change to a single input does)."""

    level: str
    level_label: str
    input: str | None
    label: str | None
    before: float | None
    after: float | None
    text: str                   # "Delivery score falls below 2.6 (a change of more than 1)"


@dataclass(frozen=True)
class Operand:
    """One side of a comparison: its text, its value typed (a number, true/false, a rating
    label or level id, None when missing) and its value as shown."""

    text: str
    value: float | int | bool | str | None
    type: str                   # percent | money | count | number | bool | rating | level | string
    shown: str


@dataclass(frozen=True)
class Condition:
    text: str                   # the expression as written
    value: str                  # true | false | unknown
    detail: str                 # operands with their values
    context: tuple[str, ...] = ()
    define: str | None = None   # when the condition is a named define
    parts: tuple["Condition", ...] = ()
    op: str | None = None       # the comparison (<=, between, in, ...) when it is one
    operands: tuple[Operand, ...] = ()


@dataclass(frozen=True)
class RuleExplanation:
    id: str
    level: str
    level_label: str
    status: str                 # fired | not fired | unknown
    reason: str | None
    source: str | None
    judgement: bool
    deciding: bool
    conditions: tuple[Condition, ...]
    flip: Flip | None
    flip_note: str | None
    level_index: int = 0        # position of its level, 0 = best


@dataclass(frozen=True)
class Explanation:
    entity: str
    name: str
    kind: str
    type: str
    parent: str
    period: str
    policy_id: str
    policy_title: str
    policy_version: str
    level: str
    level_label: str
    level_meaning: str
    computed: str
    computed_label: str
    candidate: str | None
    incomplete: bool
    subject: bool
    decision: dict | None
    deciding: tuple[str, ...]
    worsening: tuple[str, ...]  # unknown rules that could make it worse: why it is incomplete
    rules: tuple[RuleExplanation, ...]
    missing: tuple[str, ...]
    moves: tuple[Move, ...] = ()    # to each other level, best first
    provenance: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        """A JSON document with typed values (numbers as numbers, true/false/null for truth
        values) and ids beside labels; rulesengine/report/schemas/explain.json describes it."""
        doc = asdict(self)
        doc["rules"] = [_rule_json(r) for r in self.rules]
        if self.decision is not None:
            level = self.decision.get("level")
            doc["decision"] = {**self.decision, "level_label": next(
                (r.level_label for r in self.rules if r.level == level), level)}
        labels = {r.level: r.level_label for r in self.rules}
        doc["candidate_label"] = labels.get(self.candidate) if self.candidate else None
        return _finite(doc)


_TRUTH = {"true": True, "false": False, "unknown": None}


def _condition_json(c: Condition) -> dict:
    return {"text": c.text, "value": _TRUTH[c.value], "detail": c.detail,
            "define": c.define, "op": c.op,
            "operands": [asdict(o) for o in c.operands], "context": list(c.context),
            "parts": [_condition_json(p) for p in c.parts]}


def _rule_json(r: "RuleExplanation") -> dict:
    doc = asdict(r)
    doc["fired"] = {"fired": True, "not fired": False, "unknown": None}[r.status]
    doc["conditions"] = [_condition_json(c) for c in r.conditions]
    return doc


def _finite(x):
    """NaN and infinities have no JSON spelling: they become null (missing)."""
    if isinstance(x, float) and not math.isfinite(x):
        return None
    if isinstance(x, dict):
        return {k: _finite(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_finite(v) for v in x]
    return x
