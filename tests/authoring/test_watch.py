"""`--watch`: a subprocess that re-evaluates when the policy file changes, shows errors and
what moved, and stops cleanly on Ctrl-C. Every wait is bounded."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from rulesengine.authoring.watch import case_changes, what_moved

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "tests" / "analysis" / "data" / "explain_demo.yaml"
TIMEOUT = 120


class _Lines:
    """A subprocess's output lines, read by a thread, awaited with a deadline."""

    def __init__(self, proc: subprocess.Popen) -> None:
        self.q: queue.Queue = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, args=(proc.stdout,), daemon=True).start()

    def _read(self, stream) -> None:
        for line in stream:
            self.q.put(line.rstrip("\n"))
        self.q.put(None)

    def wait_for(self, text: str, timeout: float = TIMEOUT) -> list[str]:
        """Lines up to and including the first containing `text`."""
        got = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.q.get(timeout=max(0.05, deadline - time.monotonic()))
            except queue.Empty:
                break
            if line is None:
                break
            got.append(line)
            self.seen.append(line)
            if text in line:
                return got
        raise AssertionError(f"no line with {text!r} within {timeout} s; output:\n"
                             + "\n".join(self.seen))


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT stands for Ctrl-C on POSIX")
def test_eval_watch_re_evaluates_when_the_policy_changes(tmp_path):
    policy = tmp_path / "demo.yaml"
    policy.write_text(DEMO.read_text(encoding="utf-8"), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "REGIME_CACHE_DIR": str(tmp_path / "cache")}
    proc = subprocess.Popen([sys.executable, str(ROOT / "cli.py"), "eval", "--policy",
                             str(policy), "--engine", "reference", "--watch"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env=env, cwd=tmp_path)
    try:
        out = _Lines(proc)
        first = out.wait_for("watching")
        assert any("entities" in line for line in first)       # the summary per level

        # a rule that now fires for everyone: the re-evaluation says who moved
        _edit(policy, 'deficit_limit: "£2m"', 'deficit_limit: "-£1bn"')
        moved = out.wait_for("watching")
        assert any("changed: " in line and "demo.yaml" in line for line in moved)
        assert any("change(s) since the last run" in line for line in moved)
        assert any("-> red" in line and "deficit_over_limit" in line for line in moved)

        # a broken policy: the error, located, and the watch goes on
        _edit(policy, "when: deficit_gbp > deficit_limit", "when: deficit_gbp >> deficit_limit")
        broken = out.wait_for("watching")
        assert any("demo.yaml:" in line and "error" in line for line in broken)

        # fixed again: evaluated against the last good run
        _edit(policy, "when: deficit_gbp >> deficit_limit", "when: deficit_gbp > deficit_limit")
        again = out.wait_for("watching")
        assert any("nothing moved since the last run" in line for line in again)

        proc.send_signal(signal.SIGINT)
        out.wait_for("stopped watching")
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)


def test_what_moved_lists_level_and_rule_changes():
    before = {("2024-Q1", "T1"): ("green", ()), ("2024-Q1", "T2"): ("amber", ("a",))}
    after = {("2024-Q1", "T1"): ("red", ("b",)), ("2024-Q1", "T2"): ("amber", ("c",))}
    assert what_moved(before, after) == [
        "2 change(s) since the last run:",
        "  2024-Q1 T1: green -> red (fired: b)",
        "  2024-Q1 T2: amber, rules now firing c; no longer firing a"]
    assert what_moved(after, after) == ["nothing moved since the last run"]


def test_test_changes_names_cases_that_changed_status():
    class R:
        def __init__(self, cases):
            self.policy, self.cases = "p", cases

    class C:
        def __init__(self, name, status):
            self.name, self.status = name, status

    assert case_changes([R([C("a", "passed"), C("b", "passed")])],
                        [R([C("a", "failed"), C("b", "passed")])]) == [
        "1 case(s) changed status since the last run:", "  p: 'a' passed -> failed"]


def test_a_link_to_itself_is_watched_not_a_traceback(tmp_path):
    """Path.resolve() raises RuntimeError on a symlink loop: the watch once stopped with a
    traceback when the policy named was one."""
    from rulesengine.authoring.watch import Attempt, watch
    from rulesengine.diagnostics import RegimeError

    loop = tmp_path / "loop.yaml"
    loop.symlink_to(loop)
    stop = threading.Event()
    lines: list[str] = []

    def echo(text: str) -> None:
        lines.append(text)
        if text.startswith("watching"):
            stop.set()              # one round is enough: the watcher sees the event and ends

    failed = Attempt(None, RegimeError("no policy file at 'loop.yaml'"), (loop,))
    watch(lambda: failed, lambda before, after: None, stop_event=stop, echo=echo)
    assert lines[0] == "error: no policy file at 'loop.yaml'"
    assert lines[-2:] == ["watching 1 file(s) or folder(s) for changes (Ctrl-C to stop)",
                          "stopped watching"]
