"""`regime sweep`: variants equal `regime eval --param` exactly, noisy draws are reproducible
from the seed and independent of how the work is split (batches, Dask workers), sensitivity
designs come from SALib/scipy, and the outputs (Parquet tables, charts) are written."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest
from click.testing import CliRunner

from rulesengine.analysis import sweep as sw
from rulesengine.cli import cli
from rulesengine.diagnostics import RegimeError
from rulesengine.pipeline.run import evaluate
from rulesengine.pipeline.revisions import load_ref

GRID = ("bottom_quartile=20:30:1", "sustained_quarters=2:4:1")


@pytest.fixture(scope="module")
def policy():
    return load_ref("oversight2021", policy_path=())[0]


@pytest.fixture(scope="module")
def grid_result(policy):
    design = sw.grid_design([sw.parse_grid(g) for g in GRID])
    return sw.sweep(policy, design=design, period="all")


def test_grid_is_the_cartesian_product_with_stop_included():
    design = sw.grid_design([sw.parse_grid(g) for g in GRID])
    assert design.n_variants == 11 * 3
    assert design.params(0) == {"bottom_quartile": 20.0, "sustained_quarters": 2.0}
    assert design.params(32) == {"bottom_quartile": 30.0, "sustained_quarters": 4.0}
    name, values = sw.parse_grid("x=0.1:0.3:0.1")
    assert values.tolist() == [0.1, 0.2, 0.3]      # no floating-point drift past STOP


def test_three_random_variants_equal_eval_with_the_same_params(policy, grid_result):
    rng = random.Random(20261130)
    for v in rng.sample(range(grid_result.design.n_variants), 3):
        params = grid_result.design.params(v)
        outcomes = evaluate(policy, params=params)
        raw = outcomes.raw
        expected = np.where(raw.subject, raw.level, -1)
        got = grid_result.run.levels[v, 0]
        assert got.shape == expected.shape
        assert np.array_equal(got, expected), params


def test_parameters_move_outcomes(grid_result):
    counts = (grid_result.run.levels[:, 0, -1] == 2).sum(axis=1)    # segment 3, last period
    assert len(set(counts.tolist())) > 1


def test_noise_is_reproducible_and_independent_of_batching(policy):
    design = sw.Design("none", (), np.empty((0, 0)))
    noise = [sw.parse_noise("ae_4hr_pct=2")]
    a = sw.sweep(policy, design=design, noise=noise, draws=12, seed=1)
    b = sw.sweep(policy, design=design, noise=noise, draws=12, seed=1, batch_size=1)
    c = sw.sweep(policy, design=design, noise=noise, draws=12, seed=2)
    assert np.array_equal(a.run.levels, b.run.levels)
    assert not np.array_equal(a.run.levels, c.run.levels)
    prob = a.level_probabilities()[-1]
    decided = ~np.isnan(prob).all(axis=1)
    assert np.allclose(prob[decided].sum(axis=1), 1.0)
    stability = a.organisations_table()["stability"]
    assert min(stability) < 1.0 <= max(stability)     # noise moves some, not all


def test_noise_draws_depend_on_variant_and_draw_not_on_batch():
    one = sw.draw_seed(7, 3, 5).standard_normal(4)
    assert np.array_equal(one, sw.draw_seed(7, 3, 5).standard_normal(4))
    assert not np.array_equal(one, sw.draw_seed(7, 3, 6).standard_normal(4))
    assert not np.array_equal(one, sw.draw_seed(7, 4, 5).standard_normal(4))


def test_dask_local_cluster_gives_the_same_numbers(policy):
    pytest.importorskip("dask.distributed")
    design = sw.grid_design([sw.parse_grid("bottom_quartile=20:30:5")])
    noise = [sw.parse_noise("ae_4hr_pct=2")]
    local = sw.sweep(policy, design=design, noise=noise, draws=4, seed=1)
    spread = sw.sweep(policy, design=design, noise=noise, draws=4, seed=1, dask="local:2",
                      batch_size=1)
    assert np.array_equal(local.run.levels, spread.run.levels)


def test_sobol_design_gives_first_order_and_total_indices(policy):
    ranges = [sw.parse_range("bottom_quartile=15:35"), sw.parse_range("sustained_quarters=2:4")]
    design = sw.sampled_design(ranges, 8, "sobol", seed=3,
                               integral=sw.integral_params(policy, ["bottom_quartile",
                                                                    "sustained_quarters"]))
    assert design.n_variants == 8 * (2 * 2 + 2)
    # windows are whole numbers of periods: the checker says so, the design obeys
    assert np.array_equal(design.values[:, 1], np.round(design.values[:, 1]))
    result = sw.sweep(policy, design=design)
    table = result.sensitivity_table()
    measures = {(p, m) for p, o, m in zip(table["param"], table["output"], table["measure"])
                if o == "mean_level"}
    assert measures == {("bottom_quartile", "S1"), ("bottom_quartile", "ST"),
                        ("sustained_quarters", "S1"), ("sustained_quarters", "ST")}


def test_lhs_and_morris_designs(policy):
    ranges = [sw.parse_range("bottom_quartile=15:35")]
    lhs = sw.sampled_design(ranges, 10, "lhs", seed=1)
    assert lhs.n_variants == 10 and lhs.values.min() >= 15 and lhs.values.max() <= 35
    again = sw.sampled_design(ranges, 10, "lhs", seed=1)
    assert np.array_equal(lhs.values, again.values)
    morris = sw.sampled_design(ranges, 4, "morris", seed=1)
    assert morris.n_variants == 4 * 2
    result = sw.sweep(policy, design=morris)
    assert "mu_star" in result.sensitivity_table()["measure"]


def test_bad_sweep_values_are_refused_as_param_values_are(policy):
    with pytest.raises(RegimeError, match="write NAME=START:STOP:STEP"):
        sw.parse_grid("bottom_quartile=20:30")
    with pytest.raises(RegimeError, match="step must be positive"):
        sw.parse_grid("bottom_quartile=20:30:0")
    with pytest.raises(RegimeError, match="not a finite number"):
        sw.parse_range("bottom_quartile=nan:3")
    design = sw.grid_design([sw.parse_grid("sustained_quarters=2:3:0.5")])
    with pytest.raises(RegimeError, match="sweep value"):
        sw.sweep(policy, design=design)
    with pytest.raises(RegimeError, match="a rating has no numeric noise"):
        sw.sweep(policy, design=sw.Design("none", (), np.empty((0, 0))),
                 noise=[sw.Noise("cqc_overall_rating", 1.0)], draws=2)


def test_the_command_writes_tables_and_charts(tmp_path):
    out = tmp_path / "sweep"
    result = CliRunner().invoke(cli, ["sweep", "--policy", "oversight2021",
                                      "--grid", "bottom_quartile=20:30:5",
                                      "--grid", "sustained_quarters=2:3:1",
                                      "--out", str(out), "--format", "json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert len(summary["variants"]) == 6
    import pyarrow.parquet as pq

    for name in ("variants", "counts", "organisations", "sensitivity", "dependence"):
        table = pq.read_table(out / f"{name}.parquet")
        meta = json.loads(table.schema.metadata[b"regime.provenance"])
        assert meta["policy"]["id"] == "oversight2021" and meta["sweep"]["variants"] == 6
        assert meta["schema"] == "regime.provenance/1"
    assert pq.read_table(out / "variants.parquet").num_rows == 6
    for chart in ("tornado.png", "stability.png"):
        assert (out / chart).stat().st_size > 1000


def test_charts_name_every_parameter(policy, grid_result, tmp_path):
    from rulesengine.report.sweep_charts import stability_chart, tornado_chart

    tornado = tornado_chart(grid_result, tmp_path / "t.svg").read_text()
    assert "bottom_quartile" in tornado and "sustained_quarters" in tornado
    assert "oversight2021" in tornado
    strip = stability_chart(grid_result, tmp_path / "s.svg").read_text()
    assert "stability" in strip


def test_the_command_explains_bad_options():
    runner = CliRunner()
    result = runner.invoke(cli, ["sweep", "--policy", "oversight2021",
                                 "--grid", "bottom_quartle=20:30:1"])
    assert result.exit_code == 1
    assert "no param 'bottom_quartle'" in result.stderr and "bottom_quartile" in result.stderr
    result = runner.invoke(cli, ["sweep", "--policy", "oversight2021"])
    assert result.exit_code == 1 and "nothing to sweep" in result.stderr
    result = runner.invoke(cli, ["sweep", "--policy", "oversight2021", "--draws", "3",
                                 "--grid", "bottom_quartile=20:21:1"])
    assert result.exit_code == 1 and "--draws needs --noise" in result.stderr
