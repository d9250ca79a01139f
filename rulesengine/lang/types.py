"""Types of the expression language.

Numbers carry a unit (number, percent, money, count) so that a percentage is never compared
with an amount of money; a plain number fits any unit. Flags are `bool`. A rating belongs to
one scale and compares only with that scale's labels; a level compares only with levels.
"""

from __future__ import annotations

from dataclasses import dataclass

NUMERIC_UNITS = ("number", "percent", "money", "count")


@dataclass(frozen=True)
class Type:
    kind: str                   # number percent money count bool rating level string error
    scale: str | None = None    # for ratings

    @property
    def numeric(self) -> bool:
        return self.kind in NUMERIC_UNITS

    @property
    def ordered(self) -> bool:
        return self.numeric or self.kind in ("rating", "level")

    def __str__(self) -> str:
        return describe(self)


NUMBER = Type("number")
PERCENT = Type("percent")
MONEY = Type("money")
COUNT = Type("count")
BOOL = Type("bool")
LEVEL = Type("level")
STRING = Type("string")
ERROR = Type("error")           # already reported: suppresses follow-on errors


def rating(scale: str) -> Type:
    return Type("rating", scale)


def of_input(input_type: str, scale: str | None = None) -> Type:
    """The type of an input declared with `type: ...` in the policy."""
    if input_type == "flag":
        return BOOL
    if input_type == "rating":
        return rating(scale or "?")
    return Type(input_type)


def describe(t: Type) -> str:
    return {
        "number": "a number", "percent": "a percentage", "money": "an amount of money",
        "count": "a count", "bool": "a true/false condition", "level": "a level",
        "string": "a string", "error": "an invalid value",
    }.get(t.kind, f"a rating on the '{t.scale}' scale" if t.kind == "rating" else t.kind)


def units_compatible(a: Type, b: Type) -> bool:
    """Whether two numeric types may be compared, added or subtracted."""
    return a.kind == b.kind or "number" in (a.kind, b.kind)


def comparable(a: Type, b: Type) -> bool:
    if ERROR in (a, b):
        return True
    if a.numeric and b.numeric:
        return units_compatible(a, b)
    return a == b


def join(a: Type, b: Type) -> Type | None:
    """The type of a value that is either `a` or `b` (if/then/else, or a built-in choosing
    among values), or None."""
    if a == ERROR:
        return b
    if b == ERROR:
        return a
    if a.numeric and b.numeric:
        if not units_compatible(a, b):
            return None
        return b if a.kind == "number" else a
    return a if a == b else None
