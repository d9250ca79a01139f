"""Every pass over expressions is linear in the size of the policy's DAG, not of its expanded
tree: a define used twice is a shared node, and `c1: c0 and c0`, `c2: c1 and c1`, ... 60 deep
stands for a tree of 2^60 leaves that nothing may expand.

Node visits are counted (never time): every call of `Node.children` (ast.walk and every
iterative walker), of the checker's per-node methods, of `canonical` and of the reference
evaluator's per-node `_eval`, against the number of nodes the parser built.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rulesengine.data.panel import Entities
from rulesengine.engine.layout import make_layout
from rulesengine.engine.params import resolve_params
from rulesengine.engine.reference import ReferenceEvaluator
from rulesengine.check import lint
from rulesengine.lang import ast
from rulesengine.check.checker import MAX_NESTING, _Checker, check
from rulesengine.policy.load import load_policy_text

HEAD = """\
policy: dag
entity: trust
period: quarter
levels:
  - {id: ok}
  - {id: watch}
  - {id: bad}
default: ok
inputs:
  ae_4hr_pct: {type: percent, better: higher}
  f: {type: flag}
define:
  c0: ae_4hr_pct < 50%
"""

# Each step builds define k from earlier ones and nests exactly two levels deeper, so that
# 60 steps stay within the checker's nesting limit (the limit is tested in test_limits).
STEPS = ["c{a} and c{b}", "c{a} or c{b}", "not c{a}", "if c{a} then c{b} else c{c}",
         "c{a} == c{b}", "coalesce(c{a}, c{b})"]


def policy(steps: list[tuple[str, int, int, int]]) -> str:
    lines = []
    for k, (step, a, b, c) in enumerate(steps, start=1):
        lines.append(f"  c{k}: '{step.format(a=k - 1, b=b % k, c=c % k)}'")
        del a
    last = len(steps)
    rules = (f"  - {{id: r1, level: bad, when: 'c{last}'}}\n"
             f"  - {{id: r2, level: watch, when: 'c{last} and f'}}\n"
             f"  - {{id: r3, level: watch, when: 'c{max(last - 1, 0)} or f'}}\n")
    return HEAD + "".join(line + "\n" for line in lines) + "rules:\n" + rules


def doubling(n: int) -> str:
    return policy([("c{a} and c{a}", 0, 0, 0)] * (n - 1))


@contextlib.contextmanager
def counting(budget: int):
    """Count calls of every per-node function of the passes over expressions; past `budget`
    calls in all, fail at once (an exponential pass would otherwise run for ever)."""
    counts: dict[str, int] = {}
    targets = [(ast.Node, "children"), (_Checker, "expr"), (_Checker, "expand"),
               (_Checker, "direction"), (_Checker, "canonical_of"), (lint, "canonical"),
               (ReferenceEvaluator, "_eval")]
    saved = [(owner, name, getattr(owner, name)) for owner, name in targets]

    def wrap(name, fn):
        def counted(*args, **kwargs):
            counts[name] = counts.get(name, 0) + 1
            if sum(counts.values()) > budget:
                raise AssertionError(f"more than {budget:,} node visits: {counts}")
            return fn(*args, **kwargs)
        return counted

    try:
        for owner, name, fn in saved:
            setattr(owner, name, wrap(name, fn))
        yield counts
    finally:
        for owner, name, fn in saved:
            setattr(owner, name, fn)


def dag_size(checked) -> int:
    p = checked.policy
    roots = [d.expr for d in p.defines.values()] + [r.when for r in p.rules]
    return sum(1 for root in roots if root is not None for _ in ast.walk(root))


def evaluate(checked, periods: int = 2) -> None:
    ents = Entities(("T1", "T2", "T3"), ("A", "B", "C"), ("trust",) * 3, ("acute",) * 3,
                    ("",) * 3, ("north",) * 3)
    inputs = {"ae_4hr_pct": np.array([[40.0, 60.0, np.nan]] * periods),
              "f": np.array([[1.0, 0.0, np.nan]] * periods)}
    params = resolve_params(checked.policy, "quarter", 2024 * 4, periods)
    ReferenceEvaluator(checked, make_layout(checked, ents, inputs, params, periods, None)).run()


def visits_per_node(text: str) -> tuple[float, float]:
    """(checker visits, reference evaluator visits per period), each per node of the DAG."""
    budget = 100 * len(text)     # the parser makes fewer nodes than there are characters
    with counting(budget) as counts:
        checked = check(load_policy_text(text, Path("dag.yaml"), dirs=[], name="dag.yaml"))
    size = dag_size(checked)
    front = sum(counts.values())
    with counting(budget) as counts:
        evaluate(checked)
    return front / size, counts.get("_eval", 0) / (2 * size)


def test_a_sixty_deep_doubling_chain_is_visited_once_per_node():
    text = doubling(60)
    front, back = visits_per_node(text)
    assert front < 25 and back <= 1
    # and the cost does not grow with the depth: per node, 60 deep costs what 10 deep costs
    assert front <= visits_per_node(doubling(10))[0] * 1.2


def test_the_doubling_chain_still_gets_its_shadowing_warnings():
    checked = check(load_policy_text(doubling(60), Path("dag.yaml"), dirs=[], name="dag.yaml"))
    assert [d.message for d in checked.warnings if d.code == "shadowed"] == [
        "rule 'r2' can never change the outcome: whenever it fires, rule 'r1' fires too, with "
        "the worse level 'bad'"]


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(STEPS), st.integers(0, 0), st.integers(0, 10**6),
                          st.integers(0, 10**6)), min_size=1, max_size=59))
def test_passes_are_linear_in_the_dag(steps):
    front, back = visits_per_node(policy(steps))
    assert front < 25
    assert back <= 1


def test_the_nesting_limit_leaves_room_for_sixty_doubling_steps():
    # c59 is 2 + 2 * 59 levels deep, and a rule naming it one more
    assert MAX_NESTING >= 2 + 2 * 59 + 2
