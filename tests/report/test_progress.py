"""Progress: drawn on a terminal once work has run for a while, never when piped."""

from __future__ import annotations

import io
import time

from rulesengine.report.progress import progress


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_is_drawn_on_a_terminal_after_the_delay():
    sink = _Terminal()
    with progress("attributing [bold]moves[/]", total=3, stream=sink, delay=0.0) as task:
        time.sleep(0.3)
        task.update(1, 3, "without param cut")
        time.sleep(0.3)
    text = sink.getvalue()
    assert "without param cut" in text or "attributing [bold]moves[/]" in text
    assert "\x1b" in text       # drawn by rich (cursor control), and cleared at the end


def test_progress_is_silent_when_piped_or_quick():
    piped = io.StringIO()
    with progress("compiling", stream=piped, delay=0.0) as task:
        time.sleep(0.2)
        task.update(1, 2, "still going")
    assert piped.getvalue() == ""
    quick = _Terminal()
    with progress("compiling", stream=quick, delay=5.0):
        pass
    assert quick.getvalue() == ""
