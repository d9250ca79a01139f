"""median_over, the built-in added by following CONTRIBUTING.md's recipe (one source file,
lang/builtins/time.py): coverage, explain and `regime doc` know it from its registry entry
alone. (The engines' agreement on it: tests/engine/test_time.py and test_agreement.py; the
checker: tests/lang/test_checker.py.)"""

from __future__ import annotations

import numpy as np

from rulesengine.analysis.coverage import Coverage
from rulesengine.analysis.explain import explain, render_text
from rulesengine.authoring.doc import Words
from rulesengine.data.panel import Entities, Panel
from rulesengine.engine.reference import Reads, ReferenceEvaluator
from rulesengine.pipeline.run import assemble, prepare, run_backend
from rulesengine.periods import parse_period
from tests.engine.engine_probe import _layout, _load, policy_text, trusts

TEXT = policy_text(inputs={"x": {"type": "number", "better": "lower", "label": "Waiting"},
                           "a": {"type": "flag"}},
                   levels=("ok", "bad"),
                   rules=[("bad", "median_over(if a then x else 0, 2) > 5")])
X, A = [[9.0], [9.0]], [[1.0], [0.0]]


def test_coverage_looks_at_every_period_of_the_window():
    checked = _load(TEXT)
    layout = _layout(checked, trusts(["acute"]), {"x": X, "a": A}, 2, None)
    ref = ReferenceEvaluator(checked, layout, Reads())
    raw = ref.run()
    coverage = Coverage(checked)
    coverage.observe(ref, raw, {(1, 0)})        # only the second period is asserted on
    a = next(s for s in coverage.sites.values() if s.text == "a")
    # `a` is false now and was true in the period before, which the window reads
    assert a.nid in coverage.seen_true and a.nid in coverage.seen_false


def test_explain_shows_the_median_and_what_would_flip_it():
    checked = _load(TEXT)
    entities = Entities(("T1",), ("Trust 1",), ("trust",), ("acute",), ("",), ("north",))
    panel = Panel(period_kind="quarter", start=parse_period("2021-Q1").ordinal, n_periods=2,
                  entities=entities, values={"x": np.array(X), "a": np.array(A)}, labels={},
                  sources=("test",))
    bound, layout, by_cell = prepare(checked, panel)
    outcomes = assemble(checked, bound, run_backend(checked, layout, "reference"), by_cell,
                        "reference")
    text = render_text(explain(checked, outcomes, layout, "T1", 1))
    # the median of 0 (a is false now) and 9 (last quarter) is 4.5, not above 5
    assert "median_over(if a then x else 0, 2) > 5" in text
    assert "4.5 > 5" in text


def test_doc_puts_it_into_words():
    checked = _load(TEXT)
    when = checked.policy.rules[0].when
    assert Words(checked).text(when) == (
        "the median of (Waiting if a, otherwise 0) over the last 2 quarters is above 5")
