"""Diagnostic codes: every code a diagnostic may carry, named once, each with what it means.

A code is the stable, machine-readable part of a diagnostic (JSON outputs' `"code"`, the
language server's `code`), so scripts and editors can tell findings apart without reading the
wording, which may improve. Code that reports a finding names its code by constant
(`codes.UNKNOWN_NAME`), never by a string of its own: tests/test_codes.py enforces it, and
checks that docs/error-codes.md (generated from `CODES` by `regime doc --codes`) lists them all.
"""

from __future__ import annotations

# --- reading files ---------------------------------------------------------------------------
IO = "io"
ENCODING = "encoding"
TOO_LARGE = "too-large"
TOO_DEEP = "too-deep"
YAML = "yaml"
EMPTY = "empty"
SCHEMA = "schema"
EXTENDS = "extends"
EXTENDS_CYCLE = "extends-cycle"

# --- the policy's structure and expressions ---------------------------------------------------
STRUCTURE = "structure"
SYNTAX = "syntax"
NUMBER = "number"
TYPE = "type"
UNKNOWN_NAME = "unknown-name"
UNKNOWN_FUNCTION = "unknown-function"
UNKNOWN_LABEL = "unknown-label"
UNKNOWN_LEVEL = "unknown-level"
AMBIGUOUS = "ambiguous"
ARGUMENTS = "arguments"
DIRECTION = "direction"
LEVEL = "level"
MEMBERS = "members"
CYCLE = "cycle"
DUPLICATE = "duplicate"
DUPLICATE_RULE = "duplicate-rule"
RESERVED = "reserved"
PERIOD = "period"
PERCENT_SCALE = "percent-scale"

# --- lints (warnings) ---------------------------------------------------------------------------
WARNING = "warning"
UNUSED = "unused"
SHADOWED = "shadowed"
UNREACHABLE_LEVEL = "unreachable-level"
ORIENTATION = "orientation"

# --- data ---------------------------------------------------------------------------------------
DATA = "data"
UNITS = "units"
NEAR_NAME = "near-name"
INPUT_TYPE = "input-type"
MISSING_INPUT = "missing-input"
PERIOD_KIND = "period-kind"
DECISION = "decision"
DECISION_IGNORED = "decision-ignored"

# --- policy tests -------------------------------------------------------------------------------
TEST_CASE = "test-case"
TEST_FILE = "test-file"
TEST_FAILED = "test-failed"
TEST_KERNEL = "test-kernel"

# --- tools ----------------------------------------------------------------------------------------
FMT = "fmt"
ERROR = "error"

CODES: dict[str, str] = {
    IO: "a file or folder cannot be read or written: missing, a pipe or device, no permission",
    ENCODING: "a file is not UTF-8 (or UTF-16 with its byte-order mark, for data)",
    TOO_LARGE: "an input exceeds a size limit (file bytes, YAML values, rows, sweep cells)",
    TOO_DEEP: "nesting exceeds a limit (YAML levels, expression depth, `extends` chain)",
    YAML: "the file is not valid YAML, or uses YAML regime refuses (tags, merge keys, "
          "anchors across files, several documents)",
    EMPTY: "the policy file holds no YAML document",
    SCHEMA: "the policy (or test file) does not match the policy schema: a missing, unknown "
            "or wrongly typed key",
    EXTENDS: "the parent named by `extends` cannot be found or loaded",
    EXTENDS_CYCLE: "policies extend each other in a cycle",
    STRUCTURE: "the policy's parts do not fit together (levels, rules, stages, effective "
               "ranges, params' dated values)",
    SYNTAX: "an expression does not parse (the message shows what was expected)",
    NUMBER: "a number or quantity (`95%`, `£1.5m`) is malformed or out of range",
    TYPE: "an expression's types do not fit (percent compared with money, a rating with "
          "another scale's label, a flag used as a number)",
    UNKNOWN_NAME: "a name is not an input, param, define, level or built-in in scope",
    UNKNOWN_FUNCTION: "a call names no built-in function",
    UNKNOWN_LABEL: "a rating label is not on its input's scale",
    UNKNOWN_LEVEL: "a level id is not one of the policy's levels",
    AMBIGUOUS: "a label belongs to several scales, so which one is meant cannot be told",
    ARGUMENTS: "a built-in's arguments are wrong: their number, kinds, keywords or windows",
    DIRECTION: "a rank needs to know which way is better and cannot tell",
    LEVEL: "`level` (or `previous(level)`) is used where only a level may be, or vice versa",
    MEMBERS: "`members` is used outside a members function (count, share, mean, ...)",
    CYCLE: "defines depend on each other in a cycle",
    DUPLICATE: "two inputs, params, defines, levels or scales share an id",
    DUPLICATE_RULE: "two rules share an id",
    RESERVED: "an id is a reserved word of the language",
    PERIOD: "a period is malformed or of the wrong kind (2024-03, 2024-Q1, 2024/25)",
    PERCENT_SCALE: "a percent input's `scale:` is neither percent nor fraction, or a "
                   "comparison looks like a fraction against a percent",
    WARNING: "a warning with no more specific code",
    UNUSED: "an input, param or define that no rule uses",
    SHADOWED: "a rule that can never decide, because an earlier rule always fires first",
    UNREACHABLE_LEVEL: "a level no rule (and no default) can reach",
    ORIENTATION: "a peer function that can count from either end does not say which end "
                 "comes first (first=)",
    DATA: "a data file's row, column or value is malformed (file, row and column named)",
    UNITS: "a data column's values look like another unit (fractions for a percent input)",
    NEAR_NAME: "a data column's name is close to an input's id but not equal to it",
    INPUT_TYPE: "a data column's values do not fit its input's type",
    MISSING_INPUT: "an input the policy uses has no data",
    PERIOD_KIND: "the data's periods are of another kind than the policy's",
    DECISION: "a judgement decision row is malformed (entity, period, level)",
    DECISION_IGNORED: "a judgement decision falls outside the data or names an unknown "
                      "entity, so it is ignored",
    TEST_CASE: "a policy test case is malformed",
    TEST_FILE: "a test file is malformed or names no policy",
    TEST_FAILED: "a policy test case's expectation does not hold",
    TEST_KERNEL: "the compiled kernel and the reference evaluator disagree on a test case",
    FMT: "`regime fmt` cannot format a file without changing its meaning",
    ERROR: "an error with no more specific code",
}


def render_markdown() -> str:
    """The documented list (docs/error-codes.md)."""
    lines = ["# Diagnostic codes", "",
             "Every diagnostic regime reports carries one of these codes (`\"code\"` in JSON "
             "output, `code` in the language server). Generated from `rulesengine/codes.py` by "
             "`regime doc --codes`.", "", "| code | meaning |", "|---|---|"]
    lines += [f"| `{code}` | {text} |" for code, text in CODES.items()]
    return "\n".join(lines) + "\n"
