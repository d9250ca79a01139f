"""Shared helpers for the authoring tools' tests: golden files (regenerated with
REGIME_REGENERATE_GOLDEN=1)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
GOLDEN = HERE / "golden"
REGENERATE = os.environ.get("REGIME_REGENERATE_GOLDEN") == "1"


def check_golden(name: str, actual: str) -> None:
    """Compare with tests/authoring/golden/<name>; REGIME_REGENERATE_GOLDEN=1 rewrites it."""
    path = GOLDEN / name
    if REGENERATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
    assert path.exists(), f"no golden file {path}: run with REGIME_REGENERATE_GOLDEN=1"
    expected = path.read_text(encoding="utf-8")
    assert actual == expected, f"{name} differs from its golden file (regenerate with " \
                               f"REGIME_REGENERATE_GOLDEN=1 after checking the change)"


@pytest.fixture(scope="module", autouse=True)
def kernel_cache(tmp_path_factory):
    """Compiled kernels go to a fresh directory, never to the user's cache."""
    folder = tmp_path_factory.mktemp("kernels")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("REGIME_CACHE_DIR", str(folder))
        yield folder
