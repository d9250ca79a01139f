"""Charts people read: titles name the policy version and period; eval's one-period chart is
a bar per level by peer group; the diff matrix spends its colour on the movers."""

from __future__ import annotations

import re

import numpy as np
from click.testing import CliRunner

from rulesengine.cli import cli
from rulesengine.report.charts import transition_figure


def test_eval_chart_for_one_period_is_by_peer_group(tmp_path):
    chart = tmp_path / "one.svg"
    result = CliRunner().invoke(cli, ["eval", "--policy", "oversight2025", "--engine",
                                      "reference", "--chart", str(chart), "--format", "json"])
    assert result.exit_code == 0, result.output
    svg = chart.read_text(encoding="utf-8")
    # the period eval picks: the latest the sample covers inside the policy's dates
    assert re.search(r"oversight2025 v1\.0: entities per level by peer group, 20\d\d-Q\d", svg)
    assert "peer group (" in svg and "acute" in svg


def test_eval_chart_over_periods_names_the_range(tmp_path):
    chart = tmp_path / "all.svg"
    result = CliRunner().invoke(cli, ["eval", "--policy", "oversight2025", "--engine",
                                      "reference", "--period", "all", "--chart", str(chart),
                                      "--format", "json"])
    assert result.exit_code == 0, result.output
    svg = chart.read_text(encoding="utf-8")
    assert re.search(r"oversight2025 v1\.0: entities per level, 20\d\d-Q\d to 20\d\d-Q\d", svg)


def test_transition_matrix_greys_who_stayed_and_colours_movers():
    matrix = np.array([[50, 3, 0], [1, 40, 2], [0, 0, 30]])
    fig = transition_figure(matrix, ["a1", "a2", "a3"], ["b1", "b2", "b3"], title="t",
                            xlabel="x", ylabel="y")
    grey, moved = fig.axes[0].images
    # the grey layer covers exactly the diagonal; the colour layer exactly the rest
    assert np.array_equal(~np.isnan(np.asarray(grey.get_array(), dtype=float)),
                          np.eye(3, dtype=bool))
    assert np.array_equal(np.ma.getmaskarray(moved.get_array()), np.eye(3, dtype=bool))
    # the colour scale runs to the largest move (3), not the largest stay (50)
    assert moved.norm.vmax == 3
    # levels matched by id when A and B have different levels: `same` says which cells
    same = np.array([[False, True], [False, False]])
    fig = transition_figure(np.array([[2, 5], [1, 0]]), ["x", "y"], ["w", "x"], title="t",
                            xlabel="x", ylabel="y", same=same)
    assert np.array_equal(np.ma.getmaskarray(fig.axes[0].images[1].get_array()), same)
