"""Run a checked policy over data: bind inputs, resolve params, load decisions, pick a backend,
assemble Outcomes with provenance."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from typing import Mapping

from ..check.checker import CheckedPolicy
from ..data.bind import bind
from ..data.decisions import load_decisions
from ..data.panel import Panel
from ..data.sample import sample_panel
from ..diagnostics import RegimeError
from ..engine.layout import Layout, all_nodes, make_layout
from ..engine.outcomes import Outcomes, PeriodFrame, RawOutcomes
from ..engine.params import check_overrides, resolve_params
from ..engine.reference import evaluate_reference
from ..engine.vectorised import evaluate_vectorised
from ..policy.effective import policy_mask, policy_range_text
from ..provenance import build as build_provenance

# --engine: `auto` picks per evaluation; `numba` is the old name of `fused`.
ENGINES = ("auto", "vectorised", "fused", "reference")
ALIASES = {"numba": "fused"}

# When `auto` compiles. Cells are entity-periods times the variants one compiled kernel
# would serve. Compiling and the vectorised engine's extra cost per cell both grow with the
# policy's size, so the fused kernel repays its compile from about the same number of cells
# for any policy; loading a cached kernel costs the same for every policy (importing numba,
# about half a second), so it repays from fewer cells the bigger the policy: a threshold on
# cells x expression nodes. Measured by benchmarks/bench_tiers.py (benchmarks/README.md).
FUSED_MIN_CELLS = 4_000_000
CACHED_FUSED_MIN_WORK = 100_000_000
# Compiling grows linearly with the rules up to about this many (about 30 ms a rule,
# benchmarks/bench_compile.py), then faster (twice the rules, four times the compile: numba's
# passes over one large function); past it the vectorised engine runs.
FUSED_MAX_RULES = 200


def prepare(checked: CheckedPolicy, data=None, *, decisions: str | os.PathLike | None = None,
            params: Mapping[str, float] | None = None, memo: dict | None = None):
    """(bound data, layout, decisions by cell) for a policy over `data` (a Panel, a path, or
    None for the bundled sample). `memo`: see data.bind.bind (for many policies over one
    panel)."""

    if data is None:
        panel = sample_panel()
    elif isinstance(data, Panel):
        panel = data
    else:
        # the file readers: not needed for a Panel or the (cached) sample
        from ..data.loaders import load_panel

        panel = load_panel(data, policy=checked)
    check_overrides(checked, params or {})
    bound = bind(checked, panel, memo=memo)
    values = resolve_params(checked.policy, bound.period_kind, bound.start, bound.n_periods,
                            params)
    decided, by_cell = None, {}
    if decisions is not None:
        decided, by_cell = load_decisions(decisions, checked.policy, bound.entities,
                                          bound.period_kind, bound.start, bound.n_periods)
    layout = make_layout(checked, bound.entities, bound.inputs, values, bound.n_periods,
                         decided, periods=(bound.period_kind, bound.start))
    if len(bound.entities) and not layout.kind_subject.any():
        # an entities table that says "hospital" or "TRUST" would otherwise evaluate nothing
        found = bound.entities.kinds.values         # the distinct kinds, sorted
        raise RegimeError(f"none of the {len(bound.entities)} entities in the data is of a kind "
                          f"policy '{checked.policy.id}' decides on "
                          f"({', '.join(checked.policy.entity or ())}); the data's kinds are "
                          f"{', '.join(repr(k) for k in found[:8])}")
    return bound, layout, by_cell


def period_frame(checked: CheckedPolicy, bound) -> PeriodFrame:
    """The periods of `bound` data and which of them the policy was in force in."""

    p = checked.policy
    in_effect = policy_mask(p, bound.period_kind, bound.start, bound.n_periods)
    return PeriodFrame(bound.period_kind, tuple(bound.period_labels),
                       tuple(bool(x) for x in in_effect), policy_range_text(p))


def through(bound, layout: Layout, by_cell, last: int):
    """Prepared data (`prepare`'s result) without the periods after `last`. Every built-in
    reads its own period and earlier ones, never later ones, so periods 0..last have the same
    outcomes either way; a command that shows one period need not evaluate those after it.
    Choose the engine before cutting (`choose_engine` on the whole layout), so that the cut
    never changes which engine runs."""
    n = last + 1
    if n >= layout.n_periods:
        return bound, layout, by_cell
    return (bound.head(n), layout.head(n),
            {cell: d for cell, d in by_cell.items() if cell[0] < n})


def choose_engine(checked: CheckedPolicy, layout: Layout, engine: str = "auto", *,
                  variants: int = 1) -> str:
    """The engine that runs: `engine` itself, or for `auto` the fused kernel when the work
    (cells x the variants one kernel serves) repays compiling it (or loading it, when it is
    already cached), else the vectorised engine. Nothing is compiled to decide."""
    engine = ALIASES.get(engine, engine)
    if engine not in ENGINES:
        raise RegimeError(f"unknown engine '{engine}' (choose {', '.join(ENGINES)})")
    if engine != "auto":
        return engine
    cells = layout.n_periods * layout.n_entities * max(1, variants)
    if len(checked.policy.rules) > FUSED_MAX_RULES:
        return "vectorised"
    if cells >= FUSED_MIN_CELLS:
        return "fused"

    if cells * sum(1 for _ in all_nodes(checked)) < CACHED_FUSED_MIN_WORK:
        return "vectorised"
    # the compiler's modules: only where a cached kernel might pay (not on NHS-sized data)
    from ..compile.kernel import is_cached

    return "fused" if is_cached(checked, layout) else "vectorised"


def run_backend(checked: CheckedPolicy, layout: Layout, engine: str = "auto", *,
                variants: int = 1, values: dict | None = None) -> RawOutcomes:
    """Evaluate with the chosen engine; the result's `engine` names the one that ran.
    `values`: see evaluate_vectorised (only the vectorised engine reads and fills it)."""
    used = choose_engine(checked, layout, engine, variants=variants)
    if used == "reference":
        raw = evaluate_reference(checked, layout)
    elif used == "vectorised":
        raw = evaluate_vectorised(checked, layout, values)
    else:
        from ..compile.kernel import evaluate_compiled   # code generation, numba: fused only

        raw = evaluate_compiled(checked, layout)
    return replace(raw, engine=used)


@dataclass(frozen=True)
class Evaluated:
    """One evaluation and what it was made from: explain, the report and the Python API read
    the bound data and the layout beside the outcomes."""

    bound: object               # data.bind.Bound
    layout: Layout
    outcomes: Outcomes


def finish(checked: CheckedPolicy, prepared, engine: str = "auto", revision: str | None = None,
           *, params: Mapping[str, float] | None = None, decisions=None,
           last: int | None = None) -> Evaluated:
    """Evaluate `prepare`'s result: choose the engine on the whole data, keep only periods up
    to `last` when given (see `through`), run, and assemble the outcomes. The one sequence
    every command that evaluates a policy once goes through."""
    bound, layout, by_cell = prepared
    used = choose_engine(checked, layout, engine)       # as if every period were evaluated
    if last is not None:
        bound, layout, by_cell = through(bound, layout, by_cell, last)
    raw = run_backend(checked, layout, used)
    return Evaluated(bound, layout, assemble(checked, bound, raw, by_cell, engine, revision,
                                             params=params, decisions=decisions))


def evaluate_all(checked: CheckedPolicy, data=None, *, decisions=None, engine: str = "auto",
                 params: Mapping[str, float] | None = None,
                 revision: str | None = None) -> Evaluated:
    """`prepare` then `finish`: every period of `data` (a Panel, a path, or None for the
    bundled sample)."""
    prepared = prepare(checked, data, decisions=decisions, params=params)
    return finish(checked, prepared, engine, revision, params=params, decisions=decisions)


def evaluate(checked: CheckedPolicy, data=None, *, decisions=None, engine: str = "auto",
             params: Mapping[str, float] | None = None, revision: str | None = None) -> Outcomes:
    """Evaluate a checked policy; `data` is a Panel, a path, or None for the bundled sample."""
    return evaluate_all(checked, data, decisions=decisions, engine=engine, params=params,
                        revision=revision).outcomes


def assemble(checked: CheckedPolicy, bound, raw: RawOutcomes, by_cell, engine: str = "auto",
             revision: str | None = None, *, params: Mapping[str, float] | None = None,
             decisions=None) -> Outcomes:
    """Outcomes with their provenance; `params` (the --param overrides) and `decisions` (the
    decisions file) are recorded in it, and the engine is the one that ran (`raw.engine`)."""
    engine = raw.engine or ALIASES.get(engine, engine)
    p = checked.policy
    frame = period_frame(checked, bound)
    return Outcomes(
        raw=raw,
        level_ids=tuple(lv.id for lv in p.levels),
        level_labels=tuple(lv.label for lv in p.levels),
        rule_ids=tuple(r.id for r in p.rules),
        period_kind=frame.period_kind,
        period_labels=frame.period_labels,
        entities=bound.entities,
        decisions=dict(by_cell),
        provenance=build_provenance(checked, bound, engine, revision=revision, params=params,
                                    decisions=decisions),
        in_effect=frame.in_effect,
        effective_text=frame.effective_text)
