"""Shared by every test: one private kernel cache for the whole session.

Compiled kernels go to a temporary folder, never to the user's cache, and every test module
shares it, so a kernel compiles once per run. A test that needs a cold cache makes its own
folder and points REGIME_CACHE_DIR at it (monkeypatch or a subprocess's environment).
"""

from __future__ import annotations

import os

import pytest


@pytest.fixture(scope="session", autouse=True)
def kernel_cache(tmp_path_factory):
    folder = tmp_path_factory.mktemp("regime-cache")
    folder.chmod(0o700)
    saved = os.environ.get("REGIME_CACHE_DIR")
    # Set in the process environment (not only monkeypatched per test) so subprocesses that
    # tests start (`regime ...` as a user would run it) use the same private cache.
    os.environ["REGIME_CACHE_DIR"] = str(folder)
    yield folder
    if saved is None:
        os.environ.pop("REGIME_CACHE_DIR", None)
    else:
        os.environ["REGIME_CACHE_DIR"] = saved
