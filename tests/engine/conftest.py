"""The engine tests compile kernels too (to check the kernel agrees on every hand-made panel):
they go to a fresh cache directory, never to the user's."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module", autouse=True)
def kernel_cache(tmp_path_factory):
    folder = tmp_path_factory.mktemp("kernels")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("REGIME_CACHE_DIR", str(folder))
        yield folder
