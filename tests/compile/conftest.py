"""Shared fixtures for the compiler's tests: a private kernel cache per test module, and the
`slow` marker's long runs skipped unless asked for (`-m slow` or REGIME_SLOW=1)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config, items):
    if config.getoption("-m") or os.environ.get("REGIME_SLOW") == "1":
        return
    skip = pytest.mark.skip(reason="long property-based run: use -m slow or REGIME_SLOW=1")
    for item in items:
        if "slow" in item.keywords and HERE in Path(str(item.path)).resolve().parents:
            item.add_marker(skip)


@pytest.fixture(scope="module", autouse=True)
def kernel_cache(tmp_path_factory):
    """Compiled kernels go to a fresh directory, never to the user's cache."""
    folder = tmp_path_factory.mktemp("kernels")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("REGIME_CACHE_DIR", str(folder))
        yield folder
