"""A judgement level better than the default (oversight2021's segment 1: organisations were
judged for it) is shown as a candidate where its rule fires and the rules found nothing
worse than the default: in eval's rows and in explain's text (issue 13)."""

from __future__ import annotations

import rulesengine


def test_segment_1_is_a_candidate_in_eval_and_explain():
    ev = rulesengine.evaluate("oversight2021")
    o = ev.outcomes
    t = o.period_labels.index("2022-Q1")
    flagged = [r for r in o.rows([t]) if "consistently_high_performing" in r["fired"]]
    assert flagged, "no trust flagged for segment 1 on the sample in 2022-Q1"
    for r in flagged:
        if r["computed"] == "segment_2":
            assert r["candidate"] == "segment_1", r
            assert r["candidate_label"] == "Segment 1"
    r = next(r for r in flagged if r["computed"] == "segment_2")
    text = str(ev.explain(r["entity"], "2022-Q1"))
    assert "Candidate for Segment 1 (rule consistently_high_performing)" in text, text
    # a trust with no judgement rule fired is a candidate for nothing
    plain = [r for r in o.rows([t]) if not r["fired"]]
    assert plain and all(r["candidate"] is None for r in plain)
