"""`regime fmt`: canonical layout, comments kept, idempotent, and never a change of meaning."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

from rulesengine.authoring.fmt import format_text, meaning_difference, plain_ok
from rulesengine.diagnostics import PolicyError
from rulesengine.lang import parser
from rulesengine.lang.printer import print_expr
from rulesengine.policy.document import load_document
from rulesengine.policy.load import bundled_policies_dir, load_policy_text
from tests.authoring.conftest import check_golden
from tests.compile import policygen as G

DATA = Path(__file__).resolve().parent / "data"
CORPUS = Path(__file__).resolve().parent.parent / "corpus"
BUNDLED = sorted(bundled_policies_dir().glob("*.yaml"))
COMMENT = re.compile(r"(?:^|\s)(#.*)$")


def comments(text: str) -> Counter:
    return Counter(m.group(1).rstrip() for line in text.splitlines()
                   if (m := COMMENT.search(line)))


def expressions(text: str) -> list[str]:
    """Every embedded expression of a policy, printed canonically."""
    data = load_document(text, "x").data
    if not isinstance(data, dict):
        return []
    found = list((data.get("define") or {}).values()) + [
        r["when"] for r in data.get("rules") or [] if isinstance(r, dict) and "when" in r]
    if "applies_to" in data:
        found.append(data["applies_to"])
    out = []
    for text in found:
        if not isinstance(text, str):
            out.append(repr(text))
            continue
        try:
            out.append(print_expr(parser.parse(text, lambda o: (1, o + 1), parser.NodeIds())))
        except parser.SyntaxProblem:
            out.append("unparsed: " + text)
    return out


def assert_same_meaning(before: str, after: str) -> None:
    assert meaning_difference(before, after) is None
    assert expressions(before) == expressions(after)
    assert format_text(after) == after, "a second run changed the file"


# --- the messy copy --------------------------------------------------------------------------

def test_messy_copy_becomes_the_canonical_file():
    clean = (DATA / "oversight2021.yaml").read_text(encoding="utf-8")
    messy = (DATA / "oversight2021_messy.yaml").read_text(encoding="utf-8")
    out = format_text(messy, "oversight2021_messy.yaml")
    check_golden("oversight2021_messy.formatted.yaml", out)
    # every comment kept, and the second run changes nothing
    assert comments(out) == comments(messy)
    assert format_text(out) == out
    assert meaning_difference(clean, out) is None
    # without the comments the messy copy added, it is the clean file's canonical layout
    added = comments(messy) - comments(clean)
    assert len(added) >= 10
    stripped = []
    for line in out.splitlines():
        m = COMMENT.search(line)
        if m and m.group(1).rstrip() in added:
            line = line[:m.start(1)].rstrip()
            if not line:
                continue
        stripped.append(line)
    assert "\n".join(stripped).rstrip() + "\n" == format_text(clean)


def test_layout_rules():
    text = """\
rules:   # the rules
  - when: "a>=1 and(b or c)"
    id: r1
    level: l2
levels:
- {label: "Two", id: l2}
- id: l1
policy: p
define:
  a: x+1
  # why b
  b: 'true'
  c: f(x,by=type)<=2
entity: trust
"""
    out = format_text(text)
    assert out == """\
policy: p

entity: trust

levels:
  - {id: l2, label: Two}
  - {id: l1}

define:
  a: x + 1
  # why b
  b: "true"
  c: f(x, by=type) <= 2

rules:  # the rules
  - id: r1
    level: l2
    when: a >= 1 and (b or c)
"""


def test_long_and_or_chains_are_aligned():
    cond = " or ".join(f"sustained(pct_rank(metric_{k}) <= bottom_decile, 3)" for k in range(4))
    out = format_text(f"policy: p\ndefine:\n  d: is_trust and ({cond})\n")
    assert out == """\
policy: p

define:
  d: >-
    is_trust
    and (sustained(pct_rank(metric_0) <= bottom_decile, 3)
         or sustained(pct_rank(metric_1) <= bottom_decile, 3)
         or sustained(pct_rank(metric_2) <= bottom_decile, 3)
         or sustained(pct_rank(metric_3) <= bottom_decile, 3))
"""


@pytest.mark.parametrize("text,plain", [
    ("segment_1", True), ("2021-Q3", True), ("£1.5m", True), ("95%", True), ("1.0", False),
    ("yes", False), ("null", False), ("0o17", False), ("1_000", False), ("1e3", False),
    ("a: b", False), ("a #b", False), ("- x", False), ("[x]", False), ("", False),
    (" x", False), ("~", False), ("=", False), ("<<", False), (".inf", False)])
def test_plain_only_where_yaml_11_and_12_read_the_same_string(text, plain):
    assert plain_ok(text) is plain


def test_bad_yaml_is_a_diagnostic_not_a_traceback():
    with pytest.raises(PolicyError) as e:
        format_text("policy: p\n  bad: [1,\n", "bad.yaml")
    assert e.value.diagnostics[0].file == "bad.yaml"


# --- meaning never changes -------------------------------------------------------------------

@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.stem)
def test_bundled_policies_keep_their_meaning(path):
    text = path.read_text(encoding="utf-8")
    out = format_text(text, path.name)
    assert_same_meaning(text, out)
    assert comments(out) == comments(text)


def _corpus_files():
    out = []
    for path in sorted(CORPUS.glob("*.yaml")):
        try:
            load_document(path.read_text(encoding="utf-8"), path.name)
        except (PolicyError, UnicodeDecodeError):
            continue
        out.append(path)
    return out


@pytest.mark.parametrize("path", _corpus_files(), ids=lambda p: p.stem)
def test_corpus_files_keep_their_meaning(path):
    text = path.read_text(encoding="utf-8")
    assert_same_meaning(text, format_text(text, path.name))


def _outcomes(text: str, name: str):
    from rulesengine.data.sample import sample_panel
    from rulesengine.pipeline.run import evaluate
    from rulesengine.check.checker import check

    policy = check(load_policy_text(text, bundled_policies_dir() / name))
    return evaluate(policy, sample_panel(), engine="reference").raw


def _evaluation_case(path):
    slow = path.stem not in ("oversight2021", "special_measures2013")
    return pytest.param(path, marks=[pytest.mark.slow] if slow else [], id=path.stem)


@pytest.mark.parametrize("path", [_evaluation_case(p) for p in BUNDLED])
def test_bundled_policies_evaluate_identically_on_the_sample(path):
    text = path.read_text(encoding="utf-8")
    before = _outcomes(text, path.name)
    after = _outcomes(format_text(text, path.name), path.name)
    assert G.first_difference(before, after) is None


@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
@given(spec=G.policies(), data=G.st.data())
def test_generated_policies_keep_their_meaning_and_evaluation(spec, data):
    from rulesengine.engine.reference import evaluate_reference
    from rulesengine.check.checker import check

    out = format_text(spec.text, "generated.yaml")
    assert_same_meaning(spec.text, out)
    checked = G.load_or_none(spec)
    if checked is None:
        return
    panel = data.draw(G.panels(spec))
    layout = G.build_layout(checked, spec, panel)
    formatted = check(load_policy_text(out, Path("generated.yaml")))
    after_layout = G.build_layout(formatted, spec, panel)
    before, after = evaluate_reference(checked, layout), evaluate_reference(formatted,
                                                                           after_layout)
    assert G.first_difference(before, after) is None
    assert np.array_equal(layout.decisions, after_layout.decisions, equal_nan=True)


@pytest.mark.parametrize("text", [
    "policy: p\r\ntitle: x  # c\r\nentity: trust\r\n",
    "---\npolicy: p\n...\n",
    "policy: p\nbase: &b {x: 1, y: 2}\nother:\n  <<: *b\n  z: 3\nlist: [*b, *b]\n",
    "policy: p\nscales:\n  cqc: [a,   # first\n        b]\n",
    "policy: p\ndefine:\n  a: >-  # why\n    x and\n    y\n\n  # next\n  b: z\n",
    "policy: p\ntitle: \"caf\u00e9 \u2014 \u00a3 \\u0007 x\"\nnotes: 'it''s'\n",
    "policy: p\nparams: {}\nlevels: []\neffective: {from: 2021-01-01, to: }\n",
    "policy: p\ntitle: a long\n  plain scalar\n  over lines\n",
    "policy: p\nnotes: |\n  line one\n    indented\n\n  three\n",
    "policy: p\n'quoted key': 1\n\"yes\": 2\n1: x\n",
    "policy: p\nx:\n- - a\n  - b\n- - c\n",
    "policy: p\nlevels:\n  - id: a\n  # trailing inside\nrules: []\n",
    "policy: p\nnotes: " + " ".join(["word"] * 60) + "\n",
], ids=["crlf", "document-markers", "anchors-and-merge", "comment-in-flow", "block-header-comment",
        "unicode-and-escapes", "empty", "multi-line-plain", "literal", "keys", "nested-lists",
        "comment-at-block-end", "long-prose"])
def test_odd_yaml_keeps_meaning_and_comments(text):
    out = format_text(text)
    assert meaning_difference(text, out) is None
    assert comments(out) == comments(text)
    assert format_text(out) == out
