"""The load/check/evaluate path keeps no module-level mutable state: eight threads loading,
checking and evaluating policies at once get exactly what one thread gets alone (node ids,
source positions, types, diagnostics and outcomes).

The policy cache is off here, so every load runs YAML, schema, parser and checker.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

import rulesengine
from rulesengine.lang import ast
from rulesengine.pipeline.cache import ENV_NO_CACHE

POLICIES = ["special_measures2013", "turnaround2005"]
THREADS = 8


@pytest.fixture(autouse=True)
def _no_policy_cache(monkeypatch):
    monkeypatch.setenv(ENV_NO_CACHE, "1")


def fingerprint(checked) -> tuple:
    """Everything a load decides, as plain comparable data."""
    p = checked.policy
    roots = [d.expr for d in p.defines.values()] + [r.when for r in p.rules]
    if p.applies_to is not None:
        roots.append(p.applies_to.expr)
    nodes = [(n.nid, type(n).__name__, n.pos, n.span) for root in roots if root is not None
             for n in ast.walk(root)]
    return (p.content_hash, p.files, tuple(nodes), tuple(sorted(checked.types.items())),
            tuple(sorted(checked.refs.items())), tuple(sorted(checked.directions.items())),
            checked.define_order, tuple(d.render() for d in checked.diagnostics))


def load_and_evaluate(job: int, panel, barrier: threading.Barrier | None):
    if barrier is not None:
        barrier.wait()      # all threads start together, so their loads overlap
    ref = POLICIES[job % len(POLICIES)]
    checked = rulesengine.load_policy(ref)
    outcomes = rulesengine.evaluate(checked, panel, engine="reference")
    return ref, fingerprint(checked), outcomes.raw


def test_eight_threads_load_and_evaluate_as_one_does():
    panel = rulesengine.sample_panel()
    serial = {ref: (fp, raw) for ref, fp, raw in
              (load_and_evaluate(job, panel, None) for job in range(len(POLICIES)))}
    barrier = threading.Barrier(THREADS)
    with ThreadPoolExecutor(THREADS) as pool:
        results = list(pool.map(lambda job: load_and_evaluate(job, panel, barrier),
                                range(THREADS)))
    for ref, fp, raw in results:
        assert fp == serial[ref][0], f"{ref}: a threaded load differs from the serial one"
        assert raw.equal(serial[ref][1]), f"{ref}: a threaded evaluation differs"


def test_eight_threads_parse_at_once():
    """The parser alone, many times over: the race it once had (a module-global build
    context) showed up as wrong positions and assertion errors within a few hundred parses."""
    from rulesengine.lang import parser

    texts = [f"x{k} > {k} and (y{k} < {k}% or not f{k})" for k in range(20)]

    def parse_all(line: int):
        out = []
        for text in texts * 3:
            node = parser.parse(text, lambda offset: (line, offset + 1), parser.NodeIds())
            out.append([(n.nid, n.pos) for n in ast.walk(node)])
        return out

    expected = {line: parse_all(line) for line in range(THREADS)}
    with ThreadPoolExecutor(THREADS) as pool:
        got = dict(zip(range(THREADS), pool.map(parse_all, range(THREADS))))
    assert got == expected
