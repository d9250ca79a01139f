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
from click.testing import CliRunner

from rulesengine.cli import cli
from rulesengine.diagnostics import PolicyError
from rulesengine.lang import parser
from rulesengine.check.checker import MAX_NESTING, check
from rulesengine.policy.document import MAX_NODES, MAX_POLICY_BYTES, MAX_YAML_DEPTH
from rulesengine.policy.load import MAX_EXTENDS_DEPTH, load_policy_text, read_policy

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


# --- nesting through defines and extends ----------------------------------------------------

def doubling_chain(n: int) -> str:
    """`c1: c0 and c0`, `c2: c1 and c1`, ...: each define two levels deeper than the last."""
    defines = "".join(f"  c{k}: c{k - 1} and c{k - 1}\n" for k in range(1, n))
    return (HEAD + "define:\n  c0: x < 50%\n" + defines
            + f"rules:\n  - id: r\n    level: segment_3\n    when: c{n - 1}\n")


def test_a_long_chain_of_defines_is_refused_where_it_passes_the_limit():
    # c_k is 2 + 2k levels deep: c64 is the first past the limit, on the line after c63
    text = doubling_chain(140)
    line = text.splitlines().index("  c64: c63 and c63") + 1
    assert refuse(text, memory=False) == [
        f"hostile.yaml:{line}:3: error: define 'c64' is nested too deeply: counting the "
        f"defines it uses, it is 130 levels deep (the limit is {MAX_NESTING})"]


def test_a_rule_past_the_limit_is_refused_at_the_rule():
    # c63 is exactly at the limit; the rule naming it is one level deeper
    text = doubling_chain(64)
    line = text.splitlines().index("    when: c63") + 1
    assert refuse(text, memory=False) == [
        f"hostile.yaml:{line}:11: error: rule 'r' is nested too deeply: counting the defines "
        f"it uses, it is 129 levels deep (the limit is {MAX_NESTING})"]


def test_three_thousand_aliases_are_refused_without_deep_recursion():
    defines = "".join(f"  d{k}: d{k - 1}\n" for k in range(1, 3000))
    text = (HEAD + "define:\n  d0: x\n" + defines
            + "rules:\n  - id: r\n    level: segment_3\n    when: pct_rank(d2999) < 10\n")
    (headline,) = refuse(text, memory=False)
    assert "error: define 'd128' is nested too deeply" in headline


@pytest.mark.parametrize("command", [
    ["check"], ["eval", "--engine", "reference", "--policy"],
    ["explain", "--engine", "reference", "--entity", "T001", "--policy"], ["test"]])
def test_every_command_refuses_a_deep_chain_the_same_way(tmp_path, command):
    path = tmp_path / "chain.yaml"
    path.write_text(doubling_chain(140).replace("x:", "ae_4hr_pct:").replace(
        "c0: x <", "c0: ae_4hr_pct <"), encoding="utf-8")
    result = CliRunner().invoke(cli, command + [str(path)])
    assert result.exit_code == 1, result.output
    assert "error: define 'c64' is nested too deeply" in result.output
    assert "Traceback" not in result.output and not isinstance(result.exception, RecursionError)


@pytest.mark.parametrize("command", [
    ["eval", "--engine", "reference", "--policy"],
    ["explain", "--engine", "reference", "--entity", "T001", "--policy"]])
def test_a_chain_at_the_limit_evaluates(tmp_path, command):
    path = tmp_path / "chain.yaml"
    path.write_text(doubling_chain(63).replace("x:", "ae_4hr_pct:").replace(
        "c0: x <", "c0: ae_4hr_pct <"), encoding="utf-8")
    result = CliRunner().invoke(cli, command + [str(path)])
    assert result.exit_code == 0, result.output


def test_a_long_extends_chain_is_refused_at_the_extends_line(tmp_path):
    for k in range(1, 500):
        (tmp_path / f"p{k}.yaml").write_text(f"policy: p{k}\nextends: p{k - 1}\n",
                                             encoding="utf-8")
    (tmp_path / "p0.yaml").write_text(HEAD + "rules: []\n", encoding="utf-8")
    with bounded(memory=False), pytest.raises(PolicyError) as info:
        read_policy(tmp_path / "p499.yaml", dirs=[tmp_path])
    deepest = info.value.diagnostics[0]
    assert deepest.render().splitlines()[0].endswith(
        f"p{499 - MAX_EXTENDS_DEPTH}.yaml:2:10: error: extends goes more than "
        f"{MAX_EXTENDS_DEPTH} files deep")
    # each file above it says why it was read; the top one last
    assert info.value.diagnostics[-1].message == "the policy this one extends ('p498') has errors"


def test_an_extends_chain_at_the_limit_loads(tmp_path):
    for k in range(1, MAX_EXTENDS_DEPTH):
        (tmp_path / f"p{k}.yaml").write_text(f"policy: p{k}\nextends: p{k - 1}\n",
                                             encoding="utf-8")
    (tmp_path / "p0.yaml").write_text(HEAD + "rules: []\n", encoding="utf-8")
    policy = read_policy(tmp_path / f"p{MAX_EXTENDS_DEPTH - 1}.yaml", dirs=[tmp_path])
    assert len(policy.files) == MAX_EXTENDS_DEPTH


@pytest.mark.parametrize("value", ['"1' + "0" * 400 + '%"', '"£9' + "9" * 320 + '"',
                                   "{values: [{from: 2024-Q1, value: \"1" + "0" * 400 + "%\"}]}"])
def test_a_param_written_as_text_too_long_for_a_number_is_refused(value):
    text = HEAD.replace("inputs:", f"params:\n  cut: {value}\ninputs:") + (
        "rules:\n  - id: r\n    level: segment_3\n    when: x < cut\n")
    (headline,) = refuse(text, memory=False)
    assert "error: number too long (" in headline and "00000000000" not in headline
