"""Shared helpers for the authoring tools' tests: golden files (regenerated with
REGIME_REGENERATE_GOLDEN=1) and the `slow` marker's long runs skipped unless asked for."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
GOLDEN = HERE / "golden"
REGENERATE = os.environ.get("REGIME_REGENERATE_GOLDEN") == "1"


def pytest_collection_modifyitems(config, items):
    if config.getoption("-m") or os.environ.get("REGIME_SLOW") == "1":
        return
    skip = pytest.mark.skip(reason="long property-based run: use -m slow or REGIME_SLOW=1")
    for item in items:
        if "slow" in item.keywords and HERE in Path(str(item.path)).resolve().parents:
            item.add_marker(skip)


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
