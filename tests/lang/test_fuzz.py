"""Fuzzing policy files with hypothesis: random text as an expression and as a whole policy
file, token soup, random mutations of real policies (the bundled ones, this suite's realistic
sample, and the corpus) by character and line, and mutations of their YAML structure (values
swapped for hostile ones: non-finite and huge numbers, YAML 1.1 forms, unicode digits, deep
nesting, merge keys, anchors). The only exception allowed out is PolicyError, every
diagnostic must render, and a policy that checks is evaluated by the reference evaluator on a
small panel without error.

The default runs keep CI cheap (a few hundred examples in all). The `slow` variants run many
more: `pytest -m slow tests/lang/test_fuzz.py`. They run for
REGIME_FUZZ_MINUTES minutes each (default 1; 10 or more for a real campaign), starting a fresh
hypothesis search as often as the time allows (the `fuzz_campaign` fixture, which prints
the number of examples tried). Inputs that once found a bug are kept below as
@example.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from rulesengine.data.panel import Entities
from rulesengine.diagnostics import PolicyError
from rulesengine.engine.layout import make_layout
from rulesengine.engine.params import resolve_params
from rulesengine.engine.reference import evaluate_reference
from rulesengine.lang import parser
from rulesengine.check.checker import check
from rulesengine.periods import parse_period
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


_FIRST_PERIOD = {"month": "2024-01", "quarter": "2024-Q1", "year": "2024/25"}


def evaluate_small(checked) -> None:
    """Evaluate a checked policy with the reference evaluator on four entities over three
    periods, with every input's values random, missing or at the edges."""
    p = checked.policy
    kind = (p.entity or ("trust",))[0]
    ents = Entities(("E1", "E2", "E3", "E4"), ("A", "B", "C", "D"), (kind,) * 4,
                    ("acute", "acute", "mental_health", ""), ("", "E1", "E1", ""),
                    ("north",) * 4)
    rng = np.random.default_rng(len(p.rules))
    inputs = {}
    for name, inp in p.inputs.items():
        if inp.type == "rating":
            size = len(p.scales[inp.scale].labels) if inp.scale in p.scales else 1
            values = rng.integers(0, max(size, 1), (3, 4)).astype(np.float64)
        elif inp.type == "flag":
            values = rng.integers(0, 2, (3, 4)).astype(np.float64)
        else:
            values = rng.choice([0.0, 1.0, 50.0, 100.0, -1e9, 1e15, 3.5], (3, 4))
        values[rng.random((3, 4)) < 0.2] = np.nan
        inputs[name] = values
    start = parse_period(_FIRST_PERIOD[p.period], p.period).ordinal
    params = resolve_params(p, p.period, start, 3)
    evaluate_reference(checked, make_layout(checked, ents, inputs, params, 3, None))


def check_text(text: str, path: Path = SAMPLE, evaluate: bool = False) -> None:
    """Load and check `text` as if it were the file at `path`; only PolicyError may escape,
    and every diagnostic (errors and warnings) must render and serialise. With `evaluate`, a
    policy that checks is also evaluated (evaluate_small)."""
    try:
        checked = check(load_policy_text(text, path, dirs=[path.parent], name=path.name))
        diagnostics = checked.diagnostics
    except PolicyError as e:
        diagnostics = e.diagnostics
        assert e.errors, "a PolicyError carries at least one error"
    else:
        if evaluate:
            evaluate_small(checked)
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
    "\u0663", "\uff19", "\u00b2", "9" * 120, "1e999", "0x10", "[-" + "9" * 50 + "]", "0.76",
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


# Values YAML 1.1 and 1.2 disagree on, values no policy can hold, and structure that strains
# the loader: what a structure mutation puts in place of a value.
HOSTILE_VALUES = [
    ".nan", ".inf", "-.inf", "1e999", "9" * 400, "9" * 5000, "017", "0x10", "0o17", "0b101",
    "1:30", "1_000", "yes", "no", "on", "off", "~", "null", "''", '"25%"', '"1' + "0" * 400 + '%"',
    '"£9' + "9" * 400 + '"', '"-0%"', "0.76", "-1", "!!int 12", "!!float .nan", "!!bool yes",
    "!!str 5", "!!binary aGk=", "!!timestamp 2024-01-01", "2024-01-01", "[]", "{}", "[[[[[]]]]]",
    "'a > \u0663\u0663'", "'x[-601] > 1'", "'c0 and c0'",
]


@st.composite
def restructured(draw, seeds=tuple(SEEDS)):
    """A seed policy with values of its YAML structure replaced, keys dropped or merged:
    parsed, edited as data, and written back as YAML text with the hostile values verbatim."""
    path = draw(st.sampled_from(seeds))
    try:
        data = yaml.safe_load(SEED_TEXT[path])
    except yaml.YAMLError:
        return path, SEED_TEXT[path]
    if not isinstance(data, dict):
        return path, SEED_TEXT[path]
    marks: dict[str, str] = {}
    for k in range(draw(st.integers(1, 4))):
        holder, key = data, None
        for _ in range(draw(st.integers(1, 4))):     # walk down to a random value
            if isinstance(holder, dict) and holder:
                key = draw(st.sampled_from(sorted(holder, key=str)))
            elif isinstance(holder, list) and holder:
                key = draw(st.integers(0, len(holder) - 1))
            else:
                break
            if isinstance(holder[key], (dict, list)) and draw(st.booleans()):
                holder = holder[key]
                key = None
            else:
                break
        if key is None:
            continue
        op = draw(st.sampled_from(["replace", "replace", "drop", "merge", "alias"]))
        if op == "drop" and isinstance(holder, dict):
            del holder[key]
        elif op == "merge" and isinstance(holder, dict) and isinstance(holder[key], dict):
            # the same mapping twice: once as an anchor, once merged under an override
            holder[f"copy_{k}"] = {"<<": f"@@MERGE{k}@@", **dict(list(holder[key].items())[:1])}
            marks[f"@@MERGE{k}@@"] = f"*anchor{k}"
            marks[f"@@ANCHOR{k}@@"] = f"&anchor{k}"
            holder[key] = {f"@@ANCHOR{k}@@": None, **holder[key]}
        else:
            token = f"@@VALUE{k}@@"
            marks[token] = draw(st.sampled_from(HOSTILE_VALUES))
            holder[key] = token
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=10_000)
    text = text.replace("'<<':", "<<:")
    for token, value in marks.items():
        if token.startswith("@@ANCHOR"):    # the marker key becomes the mapping's anchor
            text = re.sub(f"'?{token}'?: null\n", value + "\n", text)
        text = text.replace(f"'{token}'", value).replace(token, value)
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
@example("a > \u0663\u0663")                   # read as 33 by \d and float() once
@example("x[-" + "9" * 5000 + "] > 1")          # int() of 4,300+ digits raised ValueError
@example("x < " + "9" * 400)                    # a 400-digit message, printed whole
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
@example("".join(f"m{i}: &m{i} {{<<: *m{i - 1}, k{i}: {i}}}\n" if i else "m0: &m0 {k: 0}\n"
                 for i in range(1500)))        # merges nested through 1,500 anchors
@example("a: &a {x: 1}\nb: {<<: *a, x: 2}\n")  # an overriding merge: a duplicate key once
@example("cut: " + "9" * 5000 + "\n")          # a 5,000-digit YAML int: a string once
def test_random_text_as_a_policy_file(text):
    check_text(text)


@settings(QUICK, max_examples=120)
@given(mutated())
def test_mutated_policies(seed_and_text):
    path, text = seed_and_text
    check_text(text, path)


@settings(QUICK, max_examples=60)
@given(restructured())
def test_restructured_policies(seed_and_text):
    path, text = seed_and_text
    check_text(text, path, evaluate=True)


def _schema_verdicts(text: str, name: str):
    """(the compiled check's verdict, jsonschema's) on the text's document, or None when the
    text is not a YAML document regime reads."""
    from rulesengine.policy import schema
    from rulesengine.policy.document import load_document

    try:
        doc = load_document(text, name)
    except PolicyError:
        return None
    schema.compile_fast_path()
    fast = schema.is_valid_fast(doc.data)
    schema._compiled.clear()            # jsonschema alone, as a process that never compiles
    try:
        slow = schema.validate(doc) == []
    finally:
        schema.compile_fast_path()
    return fast, slow


@settings(QUICK, max_examples=150)
@given(st.one_of(restructured(), mutated()))
def test_the_compiled_schema_check_agrees_with_jsonschema(seed_and_text):
    """The language server's fast validity check (policy/schema.py) never passes a document
    jsonschema refuses, nor refuses one it passes."""
    path, text = seed_and_text
    verdicts = _schema_verdicts(text, str(path))
    if verdicts is not None:
        assert verdicts[0] == verdicts[1]


@pytest.mark.parametrize("path", SEEDS + sorted((ROOT / "tests" / "corpus").glob("*.yaml")),
                         ids=lambda p: p.name)
def test_the_compiled_schema_check_agrees_on_every_seed_and_corpus_file(path):
    verdicts = _schema_verdicts(path.read_text(encoding="utf-8"), str(path))
    if verdicts is not None:
        assert verdicts[0] == verdicts[1]


@pytest.mark.parametrize("value", HOSTILE_VALUES)
def test_every_hostile_value_as_a_param(value):
    text = SEED_TEXT[SAMPLE].replace("\nparams:\n", f"\nparams:\n  fuzzed: {value}\n", 1)
    assert "fuzzed" in text
    check_text(text, evaluate=True)


# --- long runs ------------------------------------------------------------------------------

SLOW_RUN = settings(SLOW, max_examples=500, database=None)


@pytest.mark.slow
def test_slow_random_expressions(fuzz_campaign):
    @SLOW_RUN
    @given(st.one_of(st.text(max_size=400), token_soup))
    def search(text):
        parse_expression(text)
        check_text(with_rule(text), evaluate=True)

    fuzz_campaign(search)


@pytest.mark.slow
def test_slow_random_policy_files(fuzz_campaign):
    @SLOW_RUN
    @given(st.one_of(st.text(max_size=2000), st.binary(max_size=500).map(
        lambda b: b.decode("utf-8", "replace"))))
    def search(text):
        check_text(text)

    fuzz_campaign(search)


@pytest.mark.slow
def test_slow_mutated_policies(fuzz_campaign):
    @SLOW_RUN
    @given(mutated())
    def search(seed_and_text):
        path, text = seed_and_text
        check_text(text, path, evaluate=True)

    fuzz_campaign(search)


@pytest.mark.slow
def test_slow_restructured_policies(fuzz_campaign):
    @SLOW_RUN
    @given(restructured())
    def search(seed_and_text):
        path, text = seed_and_text
        check_text(text, path, evaluate=True)

    fuzz_campaign(search)
