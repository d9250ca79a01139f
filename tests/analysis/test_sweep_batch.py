"""Batched sweeps (engine/batch.py, compile/batch.py) give, for every variant and draw, exactly
what a single evaluation gives: `regime eval --param ...` for a variant, the whole policy
over the perturbed data for a draw. Random variants of random params; a few in the default
run, every bundled policy under `-m slow`."""

from __future__ import annotations

import random
from dataclasses import replace

import numpy as np
import pytest

from rulesengine.analysis import sweep as sw
from rulesengine.diagnostics import RegimeError
from rulesengine.engine.batch import specialise
from rulesengine.engine.params import check_overrides
from rulesengine.lang import ast
from rulesengine.pipeline.revisions import load_ref
from rulesengine.pipeline.run import evaluate, prepare, run_backend

BUNDLED = ("oversight2021", "oversight2022", "oversight2025", "special_measures2013",
           "success2015", "failure2009", "turnaround2005", "financial_special_measures2016")


@pytest.fixture(scope="module")
def sample():
    from rulesengine.data.sample import sample_panel

    return sample_panel()


def _checked(policy_id: str):
    return load_ref(policy_id, policy_path=())[0]


def random_design(checked, rng: random.Random, n_params: int, n_variants: int,
                  names=None) -> sw.Design:
    """Random values of randomly chosen params (or of `names`), each accepted by the checker
    as a --param value: whole numbers where the policy counts periods with them, else its
    value scaled by 0.5 to 1.5 (so thresholds move across the data)."""
    if names is None:
        names = [n for n in checked.policy.params if not n.startswith("in_force__")]
        names = rng.sample(names, min(n_params, len(names)))
    names = list(names)
    integral = sw.integral_params(checked, names)
    rows = []
    while len(rows) < n_variants:
        row = []
        for name in names:
            base = float(checked.policy.params[name].value)
            if integral[name]:
                row.append(float(rng.randint(1, max(2, int(base) * 2))))
            else:
                row.append(round(base * rng.uniform(0.5, 1.5), 3) if base else rng.uniform(0, 5))
        try:
            check_overrides(checked, dict(zip(names, row)))
        except RegimeError:
            continue
        rows.append(row)
    return sw.Design("lhs", tuple(names), np.array(rows, dtype=np.float64).reshape(
        n_variants, len(names)))


def assert_equal_to_eval(checked, panel, result):
    """Every variant of the result equals a single evaluation with its params."""
    labels = None
    for v in range(result.design.n_variants):
        outcomes = evaluate(checked, panel, params=result.design.params(v))
        if labels is None:
            labels = list(outcomes.period_labels)
        looked = [labels.index(p) for p in result.run.period_labels]
        expected = np.where(outcomes.raw.subject, outcomes.raw.level, -1)[looked]
        got = result.run.levels[v, 0]
        assert np.array_equal(got, expected), (
            f"{checked.policy.id} {result.design.params(v)}: "
            f"{int((got != expected).sum())} cells differ")


def _period(checked, panel, rng: random.Random) -> str:
    labels = list(evaluate(checked, panel).period_labels)
    return rng.choice(["latest", "all", labels[len(labels) * 3 // 4]])


# The window lengths are among the swept params: ring buffers and the first period evaluated
# are sized for the longest window in the sweep (up to twice the policy's own).
SWEPT = ("bottom_quartile", "min_share_bottom_decile", "sustained_quarters", "drop_window",
         "significant_variance_pct")


@pytest.mark.parametrize("engine", ["fused", "vectorised"])
def test_random_variants_equal_single_evaluations(sample, engine):
    checked = _checked("oversight2021")
    rng = random.Random(151)
    design = random_design(checked, rng, 5, 3, names=SWEPT)
    result = sw.sweep(checked, sample, design=design, period="2021/22", engine=engine)
    assert result.engine == engine
    split = result.provenance()["sweep"]["batch"]
    assert split["shared_values"] > 0
    assert split["residual_nodes"] < split["policy_nodes"]
    assert split["periods_evaluated"] < len(evaluate(checked, sample).period_labels)
    assert_equal_to_eval(checked, sample, result)


@pytest.mark.slow
@pytest.mark.parametrize("policy_id", BUNDLED)
@pytest.mark.parametrize("seed", range(3))
def test_random_variants_of_every_bundled_policy(sample, policy_id, seed):
    checked = _checked(policy_id)
    rng = random.Random(f"{policy_id}-{seed}")
    design = random_design(checked, rng, rng.randint(1, 4), 4)
    engine = rng.choice(["fused", "vectorised"])
    result = sw.sweep(checked, sample, design=design, period=_period(checked, sample, rng),
                      engine=engine)
    assert_equal_to_eval(checked, sample, result)


def _draws_by_single_evaluation(checked, panel, design, noise, draws, seed, period):
    """Levels [V, D, T, E] of each draw evaluated alone: the whole policy over the perturbed
    data (the unbatched definition of a draw)."""
    bound, layout, _ = prepare(checked, panel)
    looked = sw.select_periods(bound.period_labels, bound.period_kind, period)
    layout = layout.head(max(looked) + 1)
    kinds = {n: i.type for n, i in checked.policy.inputs.items()}
    out = []
    for v in range(design.n_variants):
        varied = replace(layout, params={**layout.params, **{
            n: np.full(layout.n_periods, x) for n, x in design.params(v).items()}})
        row = []
        for d in range(draws):
            noisy = sw.perturb(varied, noise, sw.draw_seed(seed, v, d), kinds)
            raw = run_backend(checked, noisy, "vectorised")
            row.append(np.where(raw.subject, raw.level, -1)[looked])
        out.append(row)
    return np.array(out, dtype=np.int16)


# compiling a residual kernel takes seconds: the fused engine's noisy draws run under -m slow
@pytest.mark.parametrize("engine", [pytest.param("fused", marks=pytest.mark.slow),
                                    "vectorised"])
def test_noisy_draws_equal_single_evaluations_of_the_perturbed_data(sample, engine):
    checked = _checked("oversight2021")
    design = sw.grid_design([sw.parse_grid("bottom_quartile=20,30")])
    noise = [sw.parse_noise("ae_4hr_pct=2"), sw.parse_noise("rtt_18wk_pct=5%rel")]
    result = sw.sweep(checked, sample, design=design, noise=noise, draws=3, seed=4,
                      period="2021/22", engine=engine)
    expected = _draws_by_single_evaluation(checked, sample, design, noise, 3, 4, "2021/22")
    assert np.array_equal(result.run.levels, expected)
    # the draws differ from one another: the noise reached the ranks
    assert not np.array_equal(result.run.levels[:, 0], result.run.levels[:, 1])


def _calls(checked, func: str) -> int:
    p = checked.policy
    roots = [r.when for r in p.rules] + [d.expr for d in p.defines.values()]
    return sum(1 for root in roots if root is not None for n in ast.walk(root)
               if isinstance(n, ast.Call) and n.func == func)


def test_ranks_of_a_noisy_input_are_recomputed_for_each_draw_others_shared_once(sample):
    checked = _checked("oversight2021")
    bound, layout, _ = prepare(checked, sample)
    assert _calls(checked, "pct_rank") == 39
    quiet = specialise(checked, layout, params=["bottom_quartile"])
    assert _calls(quiet.checked, "pct_rank") == 0       # every rank is a shared value
    noisy = specialise(checked, layout, params=["bottom_quartile"], inputs=["ae_4hr_pct"])
    # pct_rank(ae_4hr_pct) in the bottom-quartile and bottom-decile shares (the top-quartile
    # share feeds only the segment 1 rule, a judgement rule: left out)
    assert _calls(noisy.checked, "pct_rank") == 2


def test_judgement_rules_are_left_out_and_windows_set_the_first_period(sample):
    checked = _checked("oversight2021")
    bound, layout, _ = prepare(checked, sample)
    looked = [layout.n_periods - 2, layout.n_periods - 1]
    spec = specialise(checked, layout, params=["sustained_quarters"], looked_at=looked,
                      ceilings={"sustained_quarters": 5})
    judged = {lv.id for lv in checked.policy.levels if lv.decided_by}
    assert spec.dropped_rules == sum(r.level in judged for r in checked.policy.rules) > 0
    assert all(r.level not in judged for r in spec.checked.policy.rules)
    # sustained(..., sustained_quarters) up to 5 periods: 4 before the first period looked at
    assert spec.start == looked[0] - 4
    assert spec.n_periods == 6


def test_a_rule_that_reads_levels_keeps_every_period(sample):
    checked = _checked("oversight2021")
    level_rules = [r for r in checked.policy.rules
                   if r.when is not None and any(isinstance(n, ast.Call) and n.func == "periods_in"
                                                 for n in ast.walk(r.when))]
    assert level_rules
    # make the periods_in rule set the level (not a candidate): every earlier period counts
    levels = tuple(replace(lv, decided_by=None) for lv in checked.policy.levels)
    plain = replace(checked, policy=replace(checked.policy, levels=levels))
    bound, layout, _ = prepare(plain, sample)
    spec = specialise(plain, layout, params=["bottom_quartile"],
                      looked_at=[layout.n_periods - 1])
    assert spec.start == 0 and spec.n_periods == layout.n_periods


def test_two_threads_running_batches_of_one_sweep_agree_with_one(sample):
    """A Dask worker may run two tasks of a sweep at once: each thread has its own kernel
    arguments (a variant writes its params into them)."""
    from concurrent.futures import ThreadPoolExecutor

    checked = _checked("oversight2021")
    design = random_design(checked, random.Random(152), 5, 16, names=SWEPT)
    bound, layout, _ = prepare(checked, sample)
    looked = sw.select_periods(bound.period_labels, bound.period_kind, "2021/22")
    layout = layout.head(max(looked) + 1)
    plan = sw.Batches(sw.specialised(checked, layout, design, (), looked), design, noise=(),
                      draws=1, seed=0, looked_at=looked, engine="fused", kinds={},
                      noise_base={})
    alone = plan.run(range(16))
    with ThreadPoolExecutor(2) as pool:
        halves = list(pool.map(plan.run, [range(0, 8), range(8, 16)] * 3))
    for i, part in enumerate(halves):
        assert np.array_equal(part, alone[:8] if i % 2 == 0 else alone[8:])


def test_decisions_and_the_reference_engine_give_what_eval_gives(sample, tmp_path):
    """A decision overrides the computed level in the residual as in a whole evaluation; the
    reference engine runs the residual when asked."""
    checked = _checked("oversight2021")
    bound, _, _ = prepare(checked, sample)
    trusts = [e for e, k in zip(bound.entities.ids, bound.entities.kinds) if k == "trust"]
    decisions = tmp_path / "decisions.csv"
    decisions.write_text("entity,period,level,decided_by,reason\n"
                         f"{trusts[0]},2021-Q4,segment_4,the region,RSP entry agreed\n"
                         f"{trusts[1]},2022-Q1,segment_1,the region,judged high performing\n")
    design = sw.grid_design([sw.parse_grid("bottom_quartile=15,35")])
    result = sw.sweep(checked, sample, design=design, period="2021/22", engine="reference",
                      decisions=str(decisions))
    assert result.engine == "reference"
    labels = list(evaluate(checked, sample).period_labels)
    looked = [labels.index(p) for p in result.run.period_labels]
    for v in range(2):
        raw = evaluate(checked, sample, params=design.params(v), decisions=str(decisions)).raw
        assert np.array_equal(result.run.levels[v, 0],
                              np.where(raw.subject, raw.level, -1)[looked])
    first = list(bound.entities.ids).index(trusts[0])
    assert (result.run.levels[:, 0, result.run.period_labels.index("2021-Q4"), first] == 3).all()
