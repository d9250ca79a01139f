"""Shared by every test: one private kernel cache for the whole session.

Compiled kernels go to a temporary folder, never to the user's cache, and every test module
shares it, so a kernel compiles once per run. Under pytest-xdist the workers share one folder
too (the cache is built for concurrent users: entries are locked and written atomically), so
a kernel compiled by one worker is loaded by the others. A test that needs a cold cache makes its own
folder and points REGIME_CACHE_DIR at it (monkeypatch or a subprocess's environment).
"""

from __future__ import annotations

import contextlib
import os
import signal
import time

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


@pytest.fixture
def fuzz_campaign(request, capsys):
    """Run a hypothesis search (a function decorated with @given) again and again, each time
    from fresh random seeds, for REGIME_FUZZ_MINUTES minutes (default 1; 10 or more for a
    real campaign), then print how many examples were tried, so a campaign's size is on
    record. Slow fuzzing tests use it; they are marked `slow` and deselected by default."""
    def run(search) -> int:
        minutes = float(os.environ.get("REGIME_FUZZ_MINUTES", "1"))
        inner = search.hypothesis.inner_test
        examples = 0

        def counted(*args, **kwargs):
            nonlocal examples
            examples += 1
            return inner(*args, **kwargs)

        search.hypothesis.inner_test = counted
        start = time.monotonic()
        searches = 0
        while searches == 0 or time.monotonic() - start < 60 * minutes:
            search()
            searches += 1
        with capsys.disabled():
            print(f"\n[fuzz] {request.node.nodeid}: {examples:,} examples in {searches} "
                  f"searches, {(time.monotonic() - start) / 60:.1f} minutes", flush=True)
        return examples

    return run


class Blocked(BaseException):
    """Raised by `deadline` in a test that blocked. A BaseException, so that no `except
    Exception` in the code under test can take a hang for an ordinary error and carry on."""


@pytest.fixture
def deadline():
    """`with deadline(seconds):` fails the test, rather than hang the suite, when the block
    is still running after `seconds` (a read blocked on a pipe, say)."""
    @contextlib.contextmanager
    def within(seconds: int = 60):
        def stop(*_):
            raise Blocked(f"still running after {seconds} s: the code blocked")
        old = signal.signal(signal.SIGALRM, stop)
        signal.alarm(seconds)
        try:
            yield
        finally:
            signal.alarm(0)
            signal.signal(signal.SIGALRM, old)

    return within


@pytest.fixture(scope="session")
def sample_2019_22(tmp_path_factory):
    """A folder holding the bundled sample's months 2019-04 to 2022-06 (Parquet and
    entities.csv): oversight2021's own year with two years before it for its look-backs.
    For tests that read every period of a command's output, where the whole 22-year sample
    would only repeat the same checks 88 times."""
    import dataclasses

    from rulesengine.data.loaders import write_panel
    from rulesengine.data.sample import sample_panel

    panel = sample_panel()
    first, last = panel.period_index("2019-04"), panel.period_index("2022-06") + 1
    part = dataclasses.replace(panel, start=panel.start + first, n_periods=last - first,
                               values={m: panel.values[m][first:last] for m in panel.metrics})
    folder = tmp_path_factory.mktemp("sample-2019-22")
    write_panel(part, folder)
    return folder
