"""Shared by every test: one private kernel cache for the whole session.

Compiled kernels go to a temporary folder, never to the user's cache, and every test module
shares it, so a kernel compiles once per run. Under pytest-xdist the workers share one folder
too (the cache is built for concurrent users: entries are locked and written atomically), so
a kernel compiled by one worker is loaded by the others. A test that needs a cold cache makes its own
folder and points REGIME_CACHE_DIR at it (monkeypatch or a subprocess's environment).
"""

from __future__ import annotations

import os

import pytest


@pytest.fixture(scope="session", autouse=True)
def kernel_cache(tmp_path_factory):
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        folder = tmp_path_factory.mktemp("regime-cache")
    else:       # each worker's base folder is inside the run's: share the run's
        folder = tmp_path_factory.getbasetemp().parent / "regime-cache"
        folder.mkdir(mode=0o700, exist_ok=True)
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
