"""The reference evaluator's tracer hook (engine/reference.py: Tracer, Reads) and coverage on
top of it: what evaluation read, heard from evaluation itself."""

from __future__ import annotations

from rulesengine.analysis.coverage import Coverage
from rulesengine.engine.reference import Reads, ReferenceEvaluator, Tracer
from rulesengine.engine.vectorised import Vectorised
from rulesengine.lang import ast
from tests.engine.engine_probe import _layout, _load, policy_text, trusts

WINDOW = policy_text(inputs={"x": {"type": "number", "better": "lower"}},
                     levels=("ok", "bad"), rules=[("bad", "sustained(x > 5, 3)")])


def _nodes(checked, kind):
    return [n for n in ast.walk(checked.policy.rules[0].when) if isinstance(n, kind)]


def test_reads_hear_a_window_period_by_period_in_the_order_read():
    checked = _load(WINDOW)
    reads = Reads()
    ReferenceEvaluator(checked, _layout(checked, trusts(["acute"]), {"x": [[9.0], [1.0], [9.0]]},
                                        3, None), reads).run()
    call = _nodes(checked, ast.Call)[0]
    cmp = call.args[0]
    assert reads.read_by((call.nid, 2)) == [(cmp.nid, 2), (cmp.nid, 1), (cmp.nid, 0)]
    # in the first period the window reaches before the data, and the tracer hears it
    assert reads.read_by((call.nid, 0)) == [(cmp.nid, 0), (cmp.nid, -1), (cmp.nid, -2)]
    assert reads.values[(cmp.nid, 1)].tolist() == [0.0]


class _Events(Tracer):
    def __init__(self):
        self.events = []

    def enter(self, node, t):
        self.events.append(("enter", node.nid, t))

    def exit(self, node, t, value):
        self.events.append(("exit", node.nid, t))


def test_a_memoised_read_is_an_event_without_inner_events():
    checked = _load(WINDOW)
    tracer = _Events()
    ReferenceEvaluator(checked, _layout(checked, trusts(["acute"]), {"x": [[9.0], [1.0]]},
                                        2, None), tracer).run()
    cmp = _nodes(checked, ast.Call)[0].args[0]
    x = cmp.left
    # x > 5 in period 0 is read by both periods' windows; x itself only once, beneath the first
    assert tracer.events.count(("enter", cmp.nid, 0)) == 2
    assert tracer.events.count(("enter", x.nid, 0)) == 1
    first = tracer.events.index(("enter", cmp.nid, 0))
    assert tracer.events[first + 1] == ("enter", x.nid, 0)
    second = tracer.events.index(("enter", cmp.nid, 0), first + 1)
    assert tracer.events[second + 1] == ("exit", cmp.nid, 0)


def test_an_evaluator_without_a_tracer_runs_its_own_methods():
    # zero cost: nothing is wrapped unless a tracer is attached (the vectorised engine, a
    # subclass, never attaches one)
    checked = _load(WINDOW)
    layout = _layout(checked, trusts(["acute"]), {"x": [[9.0]]}, 1, None)
    for ev in (ReferenceEvaluator(checked, layout), Vectorised(checked, layout)):
        assert "eval" not in vars(ev) and "level_condition" not in vars(ev)
        assert ev.tracer is None
    assert "eval" in vars(ReferenceEvaluator(checked, layout, Tracer()))


def test_coverage_needs_the_reads_of_the_evaluation():
    checked = _load(WINDOW)
    ref = ReferenceEvaluator(checked, _layout(checked, trusts(["acute"]), {"x": [[9.0]]}, 1,
                                              None))
    raw = ref.run()
    try:
        Coverage(checked).observe(ref, raw, {(0, 0)})
    except TypeError as e:
        assert "Reads" in str(e)
    else:
        raise AssertionError("observe accepted an evaluator without Reads")


def test_coverage_sees_a_define_read_through_parent_at_the_parent():
    # a fix: conditions of a define read as `parent.d` were neither listed nor observed
    text = policy_text(inputs={"x": {"type": "number", "better": "lower"}},
                       defines={"d": "x > 5"}, levels=("ok", "bad"),
                       rules=[("bad", "parent.d")])
    checked = _load(text)
    layout = _layout(checked, trusts(["acute", "acute"], ["-", "T0"]),
                     {"x": [[9.0, 0.0]]}, 1, None)
    ref = ReferenceEvaluator(checked, layout, Reads())
    raw = ref.run()
    coverage = Coverage(checked)
    coverage.observe(ref, raw, {(0, 1)})        # only the member T1 is asserted on
    site = next(s for s in coverage.sites.values() if s.text == "x > 5")
    # true at the parent T0 (x = 9), which is what T1's rule read; T1's own x = 0 is not read
    assert site.nid in coverage.seen_true and site.nid not in coverage.seen_false
