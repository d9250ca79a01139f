"""The built-in functions of the language: signatures the checker enforces and the
evaluators implement. One table, so docs, checker and evaluators cannot drift apart.

Argument kinds:
  value   a number of any unit, or a rating
  num     a number of any unit
  cond    a true/false condition
  window  a number of periods: a whole-number literal or param, at least 1
  int     a whole-number literal or param, at least 1
  pct     a number from 0 to 100 (a literal, a param or an expression)
  members the word `members`: the entity's direct members in the hierarchy
  level   the word `level`: the outcome of earlier periods
  levelcond a condition on `level`, e.g. `level >= segment_3`
Result kinds: same (the first argument's type), same_num (its unit; counts become numbers),
bool, count, number, percent, level.
"""

from __future__ import annotations

from dataclasses import dataclass

# How far back a lag or a time window may reach: 50 years of months. A kernel keeps this much
# history per entity, and no regime looks back further; a typo such as 100000000 is refused
# by the parser and the checker rather than exhausting memory at evaluation.
MAX_LOOKBACK = 600


@dataclass(frozen=True)
class Builtin:
    name: str
    family: str                 # time | peer | members | multi | missing | math | level
    params: tuple[str, ...]
    result: str
    doc: str
    variadic: bool = False      # the last param kind repeats (one or more)
    kwargs: tuple[str, ...] = ()


_PEER_KW = ("by",)

BUILTINS: dict[str, Builtin] = {b.name: b for b in [
    # over time, per entity
    Builtin("change", "time", ("num", "window"), "same",
            "x now minus x n periods ago"),
    Builtin("mean_over", "time", ("num", "window"), "same_num",
            "mean of x over the last n periods, this one included; unknown if any is missing"),
    Builtin("sum_over", "time", ("num", "window"), "same",
            "sum of x over the last n periods; unknown if any is missing"),
    Builtin("min_over", "time", ("value", "window"), "same",
            "smallest x over the last n periods; unknown if any is missing"),
    Builtin("max_over", "time", ("value", "window"), "same",
            "largest x over the last n periods; unknown if any is missing"),
    Builtin("sustained", "time", ("cond", "window"), "bool",
            "cond held in each of the last n periods (Kleene 'and' over the window)"),
    Builtin("ever", "time", ("cond", "window"), "bool",
            "cond held in at least one of the last n periods (Kleene 'or' over the window)"),
    Builtin("count_over", "time", ("cond", "window"), "count",
            "in how many of the last n periods cond held; unknown if any is unknown"),
    Builtin("previous", "level", ("level",), "level",
            "the entity's level in the previous period (decided if a decision was made)"),
    Builtin("periods_in", "level", ("levelcond",), "count",
            "how many periods in a row, up to the previous one, the level met the condition"),
    # across peers, per period
    Builtin("pct_rank", "peer", ("value",), "number",
            "percentile rank 0-100 within the peer group; 0 is the worst, honouring 'better'",
            kwargs=("by", "better")),
    Builtin("rank", "peer", ("value",), "count",
            "position in the peer group, 1 = best; ties share the better position",
            kwargs=("by", "better")),
    Builtin("worst_rank", "peer", ("value",), "count",
            "position in the peer group counted from the worst, 1 = worst; ties share it",
            kwargs=("by", "better")),
    Builtin("ntile", "peer", ("value", "int"), "count",
            "which of k equal groups by rank: 1 = best group, k = worst",
            kwargs=("by", "better")),
    Builtin("zscore", "peer", ("num",), "number",
            "standard score within the peer group, positive = better",
            kwargs=("by", "better")),
    Builtin("percentile", "peer", ("num", "pct"), "same",
            "the p-th percentile (0-100, linear) of x within the peer group",
            kwargs=("by",)),
    Builtin("peer_count", "peer", ("value",), "count",
            "how many peers have a value of x", kwargs=("by",)),
    Builtin("metric_score", "peer", ("value",), "number",
            "NHS Oversight Framework 2025/26 metric score, 1.00 (best) to 4.00 (worst), by "
            "standard, floor or rank, tie clusters taking their best score",
            kwargs=("by", "better", "standard", "floor")),
    # across the hierarchy
    Builtin("count", "members", ("members", "cond"), "count",
            "how many members meet cond; unknown if any member's cond is unknown"),
    Builtin("share", "members", ("members", "cond"), "percent",
            "percentage of members meeting cond"),
    Builtin("sum", "members", ("members", "num"), "same", "sum of x over members"),
    Builtin("mean", "members", ("members", "num"), "same_num", "mean of x over members"),
    Builtin("min", "members", ("members", "value"), "same", "smallest x among members"),
    Builtin("max", "members", ("members", "value"), "same", "largest x among members"),
    Builtin("any", "members", ("members", "cond"), "bool", "some member meets cond (Kleene)"),
    Builtin("all", "members", ("members", "cond"), "bool", "every member meets cond (Kleene)"),
    # over several inputs
    Builtin("mean_of", "multi", ("num",), "same_num",
            "mean of the values that are not missing", variadic=True),
    Builtin("min_of", "multi", ("value",), "same",
            "smallest of the values that are not missing", variadic=True),
    Builtin("max_of", "multi", ("value",), "same",
            "largest of the values that are not missing", variadic=True),
    Builtin("sum_of", "multi", ("num",), "same",
            "sum of the values that are not missing", variadic=True),
    Builtin("count_of", "multi", ("cond",), "count",
            "how many conditions hold; unknown if any is unknown", variadic=True),
    # missing data
    Builtin("missing", "missing", ("any",), "bool", "x is missing (never unknown itself)"),
    Builtin("coalesce", "missing", ("any",), "same",
            "the first value that is not missing", variadic=True),
    # arithmetic
    Builtin("abs", "math", ("num",), "same", "absolute value"),
    Builtin("round", "math", ("num", "digits"), "same",
            "x rounded to d decimal places (half to even)"),
    Builtin("position", "math", ("ordinal",), "number",
            "a rating's or level's position in its list, 1 = first (best)"),
]}

WINDOW_FUNCTIONS = {n for n, b in BUILTINS.items() if b.family == "time"}
PEER_FUNCTIONS = {n for n, b in BUILTINS.items() if b.family == "peer"}
MEMBER_FUNCTIONS = {n for n, b in BUILTINS.items() if b.family == "members"}
