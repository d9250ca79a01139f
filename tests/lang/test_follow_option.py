"""follow=successor is checked like any keyword that takes a word: only the built-ins over
time and earlier levels take it, with the word `successor` (issue 13)."""

from __future__ import annotations

import pytest

from rulesengine.diagnostics import PolicyError
from rulesengine.lang.builtins import BUILTINS
from .test_checker import checked, policy_text

TAKERS = ("change(), mean_over(), sum_over(), min_over(), max_over(), median_over(), "
          "sustained(), ever(), count_over(), previous(), periods_in()")


def diagnostics(when: str):
    with pytest.raises(PolicyError) as info:
        checked(policy_text(when=when))
    return [d for d in info.value.diagnostics if d.severity == "error"]


def test_the_functions_over_time_and_levels_take_follow():
    assert {n for n, b in BUILTINS.items() if "follow" in b.kwargs} == {
        "change", "mean_over", "sum_over", "min_over", "max_over", "median_over", "sustained",
        "ever", "count_over", "previous", "periods_in"}
    c = checked(policy_text(when="sustained(licence_breach, 2, follow=successor) and "
                                 "previous(level, follow=successor) == segment_3 and "
                                 "periods_in(level >= segment_3, follow=successor) >= 2 and "
                                 "mean_over(shmi, window, follow=successor) > 1"))
    assert not [d for d in c.diagnostics if d.severity == "error"]


def test_follow_elsewhere_is_an_error_naming_the_functions_that_take_it():
    [d] = diagnostics("pct_rank(shmi, follow=successor) < 10")
    assert d.message == ("pct_rank() has no argument 'follow' (it takes by=, better=); "
                         f"follow= is taken by {TAKERS}")
    assert (d.file, d.pos.line, d.pos.col) == ("checker_test.yaml", 29, 27)


def test_follow_takes_the_word_successor():
    [d] = diagnostics("previous(level, follow=members) == segment_3")
    assert d.message == "previous(): follow= takes 'successor'"
