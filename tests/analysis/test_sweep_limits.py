"""A sweep's sizes come from its options: every size that memory or time grows with (values
of a grid, sampled variants, variants x draws x periods x organisations held as results) is
refused before the work starts, with an error naming the limit, never a MemoryError or an
OverflowError traceback."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from rulesengine.cli import cli


def sweep(*args: str, env: dict | None = None):
    return CliRunner().invoke(cli, ["sweep", "--policy", "oversight2021", *args], env=env)


@pytest.mark.parametrize("args, message", [
    # a tiny step over a huge span: the count of values is infinite (OverflowError once)
    (["--grid", "bottom_quartile=0:1e308:1e-308"],
     "error: --grid bottom_quartile=0:1e308:1e-308: more than 1,000,000 values; at most "
     "1,000,000"),
    # the design was drawn before its size was checked (745 GiB asked of numpy once)
    (["--sample", "100000000000", "--range", "bottom_quartile=1:2"],
     "error: --sample 100,000,000,000: at most 1,000,000 variants"),
    # each dimension within its limit, the results of all of them together not
    (["--noise", "ae_4hr_pct=1", "--draws", "100000", "--period", "all"],
     "error: sweep too large ("),
])
def test_sizes_beyond_the_limits_are_refused_before_any_work(args, message):
    result = sweep(*args)
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert message in result.output


def test_the_results_limit_names_its_factors_and_how_to_raise_it():
    result = sweep("--grid", "bottom_quartile=20:30:1", env={"REGIME_MAX_SWEEP_CELLS": "100"})
    assert result.exit_code == 1
    first, hint = result.output.strip().split("\n")
    assert first.startswith("error: sweep too large (")
    assert first.endswith("; the limit is 100): 11 variant(s) x 1 draw(s) x 1 period(s) x "
                          f"{int(first.split('(')[1].split()[0].replace(',', '')) // 11} "
                          "organisations")
    assert hint.strip() == ("hint: fewer variants, draws or periods (--period), or set the "
                            "environment variable REGIME_MAX_SWEEP_CELLS to raise the limit")
