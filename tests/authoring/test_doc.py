"""`regime doc`: the policy as a document, conditions in words, policy text escaped."""

from __future__ import annotations

from pathlib import Path

import pytest

from rulesengine.authoring.doc import Words, render
from rulesengine.check.checker import check
from rulesengine.policy.load import load_policy_text
from tests.authoring.conftest import check_golden

HERE = Path(__file__).resolve().parent
DEMO = HERE.parent / "analysis" / "data" / "explain_demo.yaml"
OVERSIGHT = HERE / "data" / "oversight2021.yaml"     # a frozen copy: goldens stay put


def _checked(path: Path):
    return check(load_policy_text(path.read_text(encoding="utf-8"), path))


@pytest.mark.parametrize("path,fmt,golden", [
    (DEMO, "markdown", "explain_demo.md"),
    (DEMO, "html", "explain_demo.html"),
    (OVERSIGHT, "markdown", "oversight2021.md"),
    (OVERSIGHT, "html", "oversight2021.html"),
])
def test_golden_documents(path, fmt, golden):
    check_golden(golden, render(_checked(path), fmt))


def test_every_level_rule_param_and_source_appears():
    checked = _checked(OVERSIGHT)
    p = checked.policy
    md = render(checked, "markdown")
    for lv in p.levels:
        assert lv.label.replace("(", "").split()[0] in md
    for rule in p.rules:
        assert f"`{rule.id}`" in md
    for name in p.params:
        assert f"| {name.replace('_', ' ')} |" in md
    assert md.count("\n- ") >= len(p.sources)
    assert md.count("**When:**") == len(p.rules)


POLICY = """\
policy: words
title: "Words <b>&amp; *stars*</b>"
entity: trust
period: quarter
levels:
  - {id: ok, label: "OK | fine", meaning: "<script>alert(1)</script>"}
  - {id: bad, label: Bad}
default: ok
scales:
  cqc: [outstanding, good, requires_improvement, inadequate]
params:
  bottom_quartile: {value: 25, note: "[link](javascript:x) _under_", published: false}
  quarters: 3
inputs:
  ae_4hr_pct: {type: percent, better: higher, label: "A&E 4-hour performance"}
  cqc_overall_rating: {type: rating, scale: cqc, label: "CQC rating"}
  deficit: {type: money, better: lower, label: "Deficit"}
rules:
  - id: access
    level: bad
    when: sustained(pct_rank(ae_4hr_pct) <= bottom_quartile, quarters)
  - id: quality
    level: bad
    when: cqc_overall_rating >= requires_improvement and not (deficit > £1.5m)
"""


def test_conditions_in_words(tmp_path):
    path = tmp_path / "words.yaml"
    path.write_text(POLICY, encoding="utf-8")
    checked = _checked(path)
    words = Words(checked)
    access, quality = checked.policy.rules
    assert words.text(access.when) == (
        "A&E 4-hour performance in the bottom quartile of its peers (organisations of the "
        "same type) for 3 quarters in a row")
    assert words.text(quality.when) == (
        "CQC rating is requires improvement or worse and Deficit is at most £1.5m")


def test_policy_text_is_escaped(tmp_path):
    path = tmp_path / "words.yaml"
    path.write_text(POLICY, encoding="utf-8")
    checked = _checked(path)
    md = render(checked, "markdown")
    assert "\\<script\\>" in md and "<script>" not in md
    assert "OK \\| fine" in md
    assert "\\[link\\](javascript:x) \\_under\\_" in md
    assert "\\*stars\\*" in md and "\\&amp;" in md
    page = render(checked, "html")
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "&lt;b&gt;&amp;amp; *stars*&lt;/b&gt;" in page
