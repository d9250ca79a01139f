"""`--watch` for `regime eval` and `regime test`: run again whenever the policy, the files it
extends or the data change, and show the errors or what moved since the last run.

watchfiles watches the folders that hold the files (editors often save by writing a new file
and renaming it over the old one, which a watch on the file itself would lose) and reports
changes to those files only, after a short quiet period. Ctrl-C stops cleanly, exit status 0.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Generic, Iterable, TypeVar

import click

from ..diagnostics import RegimeError

T = TypeVar("T")

DEBOUNCE_MS = 200


@dataclass(frozen=True)
class Attempt(Generic[T]):
    """One run: its result, or the error that stopped it, and the files it read."""

    result: T | None
    error: RegimeError | None
    files: tuple[Path, ...]


def watch(run: Callable[[], Attempt[T]], show: Callable[[T | None, T], None], *,
          stop_event=None, echo: Callable[[str], None] = click.echo) -> None:
    """Run, show, then run again after each change to the files the last attempt read.
    `show(previous, current)` reports a successful run (previous is None the first time, or
    the last successful result); errors are printed as diagnostics. Returns on Ctrl-C or when
    `stop_event` is set."""
    import watchfiles

    last: T | None = None
    try:
        attempt = run()
        last = _report(attempt, last, show, echo)
        while stop_event is None or not stop_event.is_set():
            files = {_resolved(f) for f in attempt.files}
            folders = sorted({str(f) if f.is_dir() else str(f.parent) for f in files
                              if f.is_dir() or f.parent.is_dir()})
            if not folders:
                echo("nothing to watch")
                return
            stamps = _stamps(files)
            echo(f"watching {len(files)} file(s) or folder(s) for changes (Ctrl-C to stop)")
            changed = _next_change(watchfiles, folders, files, stamps, stop_event)
            if changed is None:
                break
            echo("\nchanged: " + ", ".join(sorted(_shown(p) for p in changed)))
            attempt = run()
            last = _report(attempt, last, show, echo)
    except KeyboardInterrupt:
        pass
    echo("stopped watching")


def _stamps(files: set[Path]) -> dict[Path, tuple | None]:
    """Each file's (mtime, size, inode), or None when it is missing."""
    out = {}
    for f in files:
        try:
            st = f.stat()
            out[f] = (st.st_mtime_ns, st.st_size, st.st_ino)
        except OSError:
            out[f] = None
    return out


def _next_change(watchfiles, folders: list[str], files: set[Path], stamps, stop_event):
    """The watched files that changed next (a set of paths), or None when stopped. A change
    made after the files were stamped but before the watcher started is caught on the
    watcher's first timeout."""
    dirs = [f for f in files if f.is_dir()]

    def relevant(change, path: str) -> bool:
        p = _resolved(Path(path))
        return p in files or any(d in p.parents for d in dirs)

    first = True
    for changes in watchfiles.watch(*folders, watch_filter=relevant, debounce=DEBOUNCE_MS,
                                    stop_event=stop_event, raise_interrupt=True,
                                    rust_timeout=300, yield_on_timeout=True):
        paths = {_resolved(Path(p)) for _, p in changes}
        if not paths and first:
            paths = {f for f, stamp in _stamps(files).items() if stamp != stamps.get(f)}
        first = False
        if paths:
            return paths
    return None


def _resolved(path: Path) -> Path:
    """The path with links followed; as written (made absolute) when that cannot be done: a
    link to itself is a file to watch like any other (it may be fixed), not a traceback."""
    try:
        return path.resolve()
    except (OSError, RuntimeError):         # RuntimeError: a symlink loop (Python < 3.13)
        return Path(os.path.abspath(path))


def _shown(path: Path) -> str:
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return str(path)
    return str(path) if rel.startswith("..") else rel


def _report(attempt: Attempt[T], last: T | None, show, echo) -> T | None:
    if attempt.error is not None:
        echo(attempt.error.render())
        echo("(fix the error; the last good run stands)" if last is not None else "")
        return last
    show(last, attempt.result)
    return attempt.result


def attempt(run: Callable[[], tuple[T, Iterable[Path]]], fallback: Iterable[Path]) -> Attempt[T]:
    """Run `run` (which returns a result and the files it read), catching user errors: then
    the files to watch are `fallback` (what was named on the command line)."""
    try:
        result, files = run()
        return Attempt(result, None, tuple(Path(f) for f in files))
    except RegimeError as e:
        files = [Path(f) for f in fallback] + [Path(d.file) for d in e.diagnostics
                                               if d.file and Path(d.file).exists()]
        return Attempt(None, e, tuple(files))


# --- what moved between two evaluations ------------------------------------------------------------

def levels_by_entity(outcomes, periods: list[int]) -> dict[tuple[str, str], tuple[str, tuple]]:
    """(period, entity) -> (level id, fired rules) for the entities decided on."""
    out = {}
    raw = outcomes.raw
    for t in periods:
        for e in range(len(outcomes.entities)):
            if raw.subject[t, e]:
                out[(outcomes.period_labels[t], outcomes.entities.ids[e])] = (
                    outcomes.level_ids[raw.level[t, e]], tuple(outcomes.fired_rules(t, e)))
    return out


def what_moved(before: dict, after: dict, limit: int = 40) -> list[str]:
    """Lines saying which entities changed level (or fired rules) between two runs."""
    lines = []
    moved = 0
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        moved += 1
        if len(lines) >= limit:
            continue
        period, entity = key
        if old is None or new is None:
            lines.append(f"  {period} {entity}: {'now decided on' if old is None else 'no longer decided on'}")
        elif old[0] != new[0]:
            lines.append(f"  {period} {entity}: {old[0]} -> {new[0]}"
                         + (f" (fired: {', '.join(new[1])})" if new[1] else ""))
        else:
            gained = sorted(set(new[1]) - set(old[1]))
            lost = sorted(set(old[1]) - set(new[1]))
            lines.append(f"  {period} {entity}: {new[0]}, rules "
                         + "; ".join(x for x in (f"now firing {', '.join(gained)}" if gained
                                                  else "", f"no longer firing {', '.join(lost)}"
                                                  if lost else "") if x))
    if not moved:
        return ["nothing moved since the last run"]
    more = f" (first {limit} shown)" if moved > limit else ""
    return [f"{moved} change(s) since the last run{more}:"] + lines


def case_changes(before, after) -> list[str]:
    """Lines saying which policy test cases changed status between two runs."""
    def statuses(results):
        return {(r.policy, c.name): c.status for r in results for c in r.cases}

    old, new = statuses(before), statuses(after)
    lines = [f"  {policy}: '{name}' {old.get((policy, name), 'new')} -> {status}"
             for (policy, name), status in sorted(new.items())
             if old.get((policy, name)) != status]
    lines += [f"  {policy}: '{name}' removed" for (policy, name) in sorted(set(old) - set(new))]
    return [f"{len(lines)} case(s) changed status since the last run:"] + lines if lines \
        else ["no case changed status since the last run"]
