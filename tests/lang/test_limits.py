"""Hostile policies are refused with a clear PolicyError in bounded time and memory: a YAML
"billion laughs", a 10 MB expression, and 10,000-deep nesting of every kind (brackets, `not`,
unary minus, calls, lags, YAML lists and maps).

Time is guarded generously (a test fails if a case runs for a minute), never asserted
tightly; memory is the peak traced by tracemalloc, which must stay under 200 MB.
"""

from __future__ import annotations

import json
import signal
import tracemalloc
from contextlib import contextmanager
from pathlib import Path

import pytest

from rulesengine.diagnostics import PolicyError
from rulesengine.lang import parser
from rulesengine.lang.checker import check
from rulesengine.policy.document import MAX_NODES, MAX_POLICY_BYTES, MAX_YAML_DEPTH
from rulesengine.policy.load import load_policy_text, read_policy

GUARD_SECONDS = 60
PEAK_BYTES = 200 * 1024 * 1024
DEEP = 10_000

HEAD = """\
policy: hostile
entity: trust
period: quarter
levels:
  - {id: segment_2}
  - {id: segment_3}
default: segment_2
inputs:
  x: {type: percent, better: higher}
  f: {type: flag}
"""


class Overtime(BaseException):
    """Raised by the alarm; a BaseException so that no `except Exception` can swallow it."""


@contextmanager
def bounded(memory: bool = True):
    """Fail the test if the block runs longer than GUARD_SECONDS or (when `memory`) traces
    more than PEAK_BYTES of memory at its peak. Tracing slows Python several times over, so
    the cheap variations of a case are only time-guarded."""
    def alarm(signum, frame):
        raise Overtime(f"still running after {GUARD_SECONDS} s")

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.alarm(GUARD_SECONDS)
    if memory:
        tracemalloc.start()
    try:
        yield
        if memory:
            _, peak = tracemalloc.get_traced_memory()
            assert peak < PEAK_BYTES, f"peak memory {peak / 2**20:.0f} MB"
    finally:
        if memory:
            tracemalloc.stop()
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def refuse(text: str, memory: bool = True) -> list[str]:
    """Run the whole front end on `text`; it must raise PolicyError, whose headlines are
    returned."""
    with bounded(memory), pytest.raises(PolicyError) as info:
        check(load_policy_text(text, Path("hostile.yaml"), dirs=[], name="hostile.yaml"))
    for d in info.value.diagnostics:
        assert len(d.render()) < 2000          # the quoted line is cut down, never dumped
    return [d.headline() for d in info.value.diagnostics]


def with_rule(expression: str) -> str:
    return HEAD + "rules:\n  - id: r\n    level: segment_3\n    when: " + json.dumps(
        expression) + "\n"


# --- YAML -----------------------------------------------------------------------------------

def test_billion_laughs():
    lines = ['lol0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, 10):
        lines.append(f"lol{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]")
    text = HEAD + "\n".join(lines) + "\n"
    assert refuse(text) == [
        f"hostile.yaml:16:1: error: YAML expands to more than {MAX_NODES:,} values; refusing it "
        "(aliases '*' repeating an anchor '&' many times?)"]


def test_aliases_in_a_mapping_bomb():
    lines = ["a0: &a0 {k1: v, k2: v, k3: v, k4: v, k5: v, k6: v, k7: v, k8: v}"]
    for i in range(1, 9):
        lines.append(f"a{i}: &a{i} {{" + ", ".join(f"k{j}: *a{i - 1}" for j in range(8))
                     + "}")
    (headline,) = refuse("\n".join(lines) + "\n")
    assert "YAML expands to more than" in headline


@pytest.mark.parametrize("nested", [
    "[" * DEEP + "]" * DEEP,
    "{a: " * DEEP + "1" + "}" * DEEP,
    "[" * DEEP,                                   # never closed
    "\n" + "  - " * DEEP + "x",
    "\n" + "".join(" " * i + "k:\n" for i in range(0, 1800, 1)),
])
def test_deep_yaml(nested):
    (headline,) = refuse(HEAD + "sources: " + nested + "\n", memory=nested.startswith("["))
    assert headline.endswith(f"error: YAML nested more than {MAX_YAML_DEPTH} levels deep")


def test_large_files():
    text = HEAD + "notes: " + json.dumps("x" * (MAX_POLICY_BYTES + 1)) + "\n"
    (headline,) = refuse(text)
    assert headline == (f"hostile.yaml: error: policy file too large ({len(text):,} bytes; "
                        f"the limit is {MAX_POLICY_BYTES:,})")


def test_a_huge_file_on_disk_is_not_read(tmp_path):
    path = tmp_path / "huge.yaml"
    size = 256 * 2**20
    with path.open("wb") as f:
        f.truncate(size)                         # sparse: refused by its size, never read
    with bounded(), pytest.raises(PolicyError) as info:
        read_policy(path, dirs=[])
    assert info.value.diagnostics[0].message == (
        f"policy file too large ({size:,} bytes; the limit is {MAX_POLICY_BYTES:,})")


# --- expressions ----------------------------------------------------------------------------

def test_ten_megabyte_expression_in_a_file():
    expression = "x < 1% or " * (10 * 2**20 // 10) + "f"
    (headline,) = refuse(with_rule(expression))
    assert headline.startswith("hostile.yaml: error: policy file too large (")


def test_ten_megabyte_expression_to_the_parser():
    expression = "x < 1% or " * (10 * 2**20 // 10) + "f"
    with bounded(), pytest.raises(parser.SyntaxProblem) as info:
        parser.parse(expression, lambda o: (1, o + 1), parser.NodeIds())
    assert info.value.message == (f"expression too long ({len(expression):,} characters; the "
                                  f"limit is {parser.MAX_EXPRESSION_CHARS:,})")


def test_an_expression_over_the_length_limit_in_a_file():
    expression = " or ".join(["x < 1%"] * 2100)
    assert len(expression) > parser.MAX_EXPRESSION_CHARS
    (headline,) = refuse(with_rule(expression), memory=False)
    assert headline == (f"hostile.yaml:14:12: error: expression too long ({len(expression):,} "
                        f"characters; the limit is {parser.MAX_EXPRESSION_CHARS:,})")


DEEP_EXPRESSIONS = {
    "brackets": lambda n: "(" * n + "f" + ")" * n,
    "not": lambda n: "not " * n + "f",
    "unary minus": lambda n: "-" * n + "x < 1%",
    "spaced minus": lambda n: "- " * n + "x < 1%",
    "calls": lambda n: "abs(" * n + "x" + ")" * n + " < 1%",
    "lists": lambda n: "x in [" * n + "1%" + "]" * n,
    "lags": lambda n: "x" + "[-1]" * n + " < 1%",
    "if": lambda n: "if f then " * n + "f" + " else f" * n,
    "and": lambda n: " and ".join(["f"] * n),
}


@pytest.mark.parametrize("kind", DEEP_EXPRESSIONS)
def test_ten_thousand_deep_expressions(kind):
    """At 10,000 levels every kind is refused: by length where the text is over the limit,
    else by depth."""
    expression = DEEP_EXPRESSIONS[kind](DEEP)
    (headline,) = refuse(with_rule(expression), memory=kind in ("brackets", "unary minus"))
    if len(expression) > parser.MAX_EXPRESSION_CHARS:
        assert "error: expression too long" in headline
    else:
        assert ("error: expression nested too deeply" in headline
                or f"error: more than {parser.MAX_DEPTH} terms joined by" in headline)


@pytest.mark.parametrize("kind", DEEP_EXPRESSIONS)
def test_deep_expressions_within_the_length_limit_hit_the_depth_limit(kind):
    build = DEEP_EXPRESSIONS[kind]
    n = 1
    while len(build(n * 2)) <= parser.MAX_EXPRESSION_CHARS:
        n *= 2                                    # as deep as still fits the length limit
    (headline,) = refuse(with_rule(build(n)), memory=False)
    assert ("error: expression nested too deeply" in headline
            or f"error: more than {parser.MAX_DEPTH} terms joined by 'and'" in headline)


def test_many_rules_each_nested_to_the_limit_stay_bounded():
    # Every rule pair is compared for shadowing; an index keeps that from being quadratic.
    depth = parser.MAX_DEPTH - 4
    rules = "".join(f"  - id: r{i}\n    level: segment_3\n    when: "
                    + json.dumps("(" * depth + "f" + ")" * depth + f" and x < {i}%") + "\n"
                    for i in range(300))
    with bounded(memory=False):
        checked = check(load_policy_text(HEAD + "rules:\n" + rules, Path("many.yaml"), dirs=[],
                                         name="many.yaml"))
    assert len(checked.policy.rules) == 300
