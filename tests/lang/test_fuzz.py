"""Fuzzing the front end with hypothesis: random text as an expression and as a whole policy
file, token soup, and random mutations of real policies (the bundled ones, this suite's
realistic sample, and the corpus). The only exception allowed out is PolicyError, and every
diagnostic must render.

The default runs keep CI cheap (a few hundred examples in all). The `slow` variants run many
more: `pytest -m slow tests/lang/test_fuzz.py` (or set REGIME_SLOW=1).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from rulesengine.diagnostics import PolicyError
from rulesengine.lang import parser
from rulesengine.lang.checker import check
from rulesengine.policy.load import load_policy_text

ROOT = Path(__file__).resolve().parent.parent.parent
SAMPLE = ROOT / "tests" / "corpus" / "parents" / "oversight_sample.yaml"
SEEDS = sorted({SAMPLE, *(ROOT / "policies").glob("*.yaml"),
                *(ROOT / "tests" / "corpus").glob("*.yaml")})
SEED_TEXT = {p: p.read_text(encoding="utf-8") for p in SEEDS}

QUICK = settings(max_examples=60, deadline=None,
                 suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
SLOW = settings(max_examples=3000, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture])


@pytest.fixture
def slow_enabled(request):
    if "slow" not in (request.config.getoption("markexpr") or "") and \
            not os.environ.get("REGIME_SLOW"):
        pytest.skip("long fuzzing run: select it with -m slow or REGIME_SLOW=1")


def check_text(text: str, path: Path = SAMPLE) -> None:
    """Load and check `text` as if it were the file at `path`; only PolicyError may escape,
    and every diagnostic (errors and warnings) must render and serialise."""
    try:
        diagnostics = check(load_policy_text(text, path, dirs=[path.parent],
                                             name=path.name)).diagnostics
    except PolicyError as e:
        diagnostics = e.diagnostics
        assert e.errors, "a PolicyError carries at least one error"
    for d in diagnostics:
        rendered = d.render()
        assert rendered.startswith(d.headline())
        json.dumps(d.to_json())
        if d.pos is not None:
            assert d.pos.line >= 1 and d.pos.col >= 1


def parse_expression(text: str) -> None:
    try:
        node = parser.parse(text, lambda offset: (1, offset + 1), parser.NodeIds())
    except parser.SyntaxProblem as p:
        assert p.message and 0 <= p.offset <= max(len(text), 1)
        return
    assert node is not None


def with_rule(expression: str) -> str:
    """The sample policy with one more rule whose condition is `expression`."""
    return (SEED_TEXT[SAMPLE] + "  - id: fuzzed\n    level: segment_3\n    when: "
            + json.dumps(expression, ensure_ascii=False) + "\n")


# Tokens of the language, names the sample declares, and characters YAML and Lark care about.
VOCABULARY = [
    "(", ")", "[", "]", ",", ".", "=", "==", "!=", "<", "<=", ">", ">=", "+", "-", "*", "/",
    "%", "£", "'", '"', " ", " ", " ", "\n", "\t", "0", "1", "25", "2.5", "95%", "£1.5m", "1e9",
    "and", "or", "not", "in", "between", "if", "then", "else", "true", "false",
    "ae_4hr_pct", "rtt_18wk_pct", "deficit_gbp", "cqc_overall", "licence_breach", "shmi",
    "good", "inadequate", "segment_3", "level", "members", "parent", "type", "bottom_quartile",
    "deficit_limit", "quality_concern", "x", "[-1]", "pct_rank(", "sustained(", "previous(",
    "periods_in(", "count(", "mean_of(", "coalesce(", "by=", "better=", "lower", "region",
]
token_soup = st.lists(st.sampled_from(VOCABULARY), max_size=25).map("".join)


@st.composite
def mutated(draw, seeds=tuple(SEEDS)):
    """A seed policy after a few random edits of characters and lines."""
    path = draw(st.sampled_from(seeds))
    text = SEED_TEXT[path]
    for _ in range(draw(st.integers(1, 5))):
        op = draw(st.sampled_from(["delete", "insert", "duplicate", "drop_line", "copy_line",
                                   "swap_lines", "indent"]))
        lines = text.split("\n")
        if op in ("delete", "insert", "duplicate") and text:
            i = draw(st.integers(0, len(text) - 1))
            if op == "delete":
                text = text[:i] + text[i + 1:]
            elif op == "insert":
                text = text[:i] + draw(st.sampled_from(list("()[]{}:-'\"#&*!|>%£=<., \n\tab0_")
                                                       + VOCABULARY)) + text[i:]
            else:
                text = text[:i] + text[i] + text[i:]
        elif op == "drop_line":
            del lines[draw(st.integers(0, len(lines) - 1))]
            text = "\n".join(lines)
        elif op == "copy_line":
            i = draw(st.integers(0, len(lines) - 1))
            lines.insert(draw(st.integers(0, len(lines))), lines[i])
            text = "\n".join(lines)
        elif op == "swap_lines":
            i, j = draw(st.integers(0, len(lines) - 1)), draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
            text = "\n".join(lines)
        else:
            i = draw(st.integers(0, len(lines) - 1))
            lines[i] = draw(st.sampled_from(["", " ", "  ", "\t"])) + lines[i]
            text = "\n".join(lines)
    return path, text


def test_the_seeds_are_real_policies():
    assert SAMPLE in SEEDS and len(SEEDS) > 45
    check_text(SEED_TEXT[SAMPLE])            # the sample itself is clean
    check(load_policy_text(SEED_TEXT[SAMPLE], SAMPLE, dirs=[], name=SAMPLE.name))


# --- quick runs (CI) ------------------------------------------------------------------------

@QUICK
@given(st.text(max_size=120))
@example(".²")        # '²'.isdigit() but not \d: once crashed the message for '.5'
@example("²%")
@example("a < 3 ²%")
def test_random_text_as_an_expression(text):
    parse_expression(text)
    check_text(with_rule(text))


@QUICK
@given(token_soup)
def test_token_soup_as_an_expression(text):
    parse_expression(text)
    check_text(with_rule(text))


@QUICK
@given(st.text(max_size=300))
def test_random_text_as_a_policy_file(text):
    check_text(text)


@settings(QUICK, max_examples=120)
@given(mutated())
def test_mutated_policies(seed_and_text):
    path, text = seed_and_text
    check_text(text, path)


# --- long runs ------------------------------------------------------------------------------

@pytest.mark.slow
@SLOW
@given(st.one_of(st.text(max_size=400), token_soup))
def test_slow_random_expressions(slow_enabled, text):
    parse_expression(text)
    check_text(with_rule(text))


@pytest.mark.slow
@SLOW
@given(st.one_of(st.text(max_size=2000), st.binary(max_size=500).map(
    lambda b: b.decode("utf-8", "replace"))))
def test_slow_random_policy_files(slow_enabled, text):
    check_text(text)


@pytest.mark.slow
@settings(SLOW, max_examples=10000)
@given(mutated())
def test_slow_mutated_policies(slow_enabled, seed_and_text):
    path, text = seed_and_text
    check_text(text, path)
