"""Progress on a terminal for work that can take more than a second (a cold compile, diff's
attribution runs), drawn by rich on stderr.

Silent unless stderr is a terminal, so piped or redirected runs, tests and CI logs never see
it; and shown only once the work has run for a second (`DELAY`), so a warm run prints
nothing. The display is transient: it leaves no trace in the terminal when the work ends.
"""

from __future__ import annotations

import sys
import threading
from contextlib import contextmanager
from typing import Iterator

from .escape import terminal

DELAY = 1.0     # seconds of work before anything is drawn


class _Task:
    """What the work reports: `advance()` one step; `describe()` what it is doing now."""

    def __init__(self, description: str, total: int | None) -> None:
        self.description = description
        self.total = total
        self.done = 0
        self._lock = threading.Lock()
        self._progress = None
        self._id = None

    def _attach(self, progress) -> None:
        with self._lock:
            self._progress = progress
            self._id = progress.add_task(self.description, total=self.total,
                                         completed=self.done)

    def advance(self, steps: int = 1) -> None:
        with self._lock:
            self.done += steps
            if self._progress is not None:
                self._progress.update(self._id, completed=self.done)

    def describe(self, description: str) -> None:
        with self._lock:
            self.description = description
            if self._progress is not None:
                self._progress.update(self._id, description=description)

    def update(self, done: int, total: int | None, description: str | None = None) -> None:
        """Step `done` of `total`, now doing `description` (a callback for long work)."""
        with self._lock:
            self.done, self.total = done, total
            if description is not None:
                self.description = terminal(description)
            if self._progress is not None:
                self._progress.update(self._id, completed=done, total=total,
                                      description=self.description)


class _Silent(_Task):
    def advance(self, steps: int = 1) -> None:
        pass

    def describe(self, description: str) -> None:
        pass

    def update(self, done: int, total: int | None, description: str | None = None) -> None:
        pass


def enabled(stream=None) -> bool:
    """Whether progress would be drawn: only on a terminal."""
    stream = stream if stream is not None else sys.stderr
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


@contextmanager
def progress(description: str, total: int | None = None, *, stream=None,
             delay: float = DELAY) -> Iterator[_Task]:
    """A progress bar (with `total` steps) or a spinner, on stderr after `delay` seconds."""
    stream = stream if stream is not None else sys.stderr
    if not enabled(stream):
        yield _Silent(description, total)
        return
    from rich.console import Console
    from rich.progress import (BarColumn, MofNCompleteColumn, Progress, SpinnerColumn,
                               TextColumn, TimeElapsedColumn)

    task = _Task(terminal(description), total)
    columns = [SpinnerColumn(), TextColumn("{task.description}", markup=False)]
    if total is not None:
        columns += [BarColumn(), MofNCompleteColumn()]
    columns.append(TimeElapsedColumn())
    bar = Progress(*columns, console=Console(file=stream), transient=True)
    started = threading.Event()

    def start() -> None:
        bar.start()
        task._attach(bar)
        started.set()

    timer = threading.Timer(delay, start)
    timer.daemon = True
    timer.start()
    try:
        yield task
    finally:
        timer.cancel()
        if timer.is_alive():
            timer.join()
        if started.is_set():
            bar.stop()
