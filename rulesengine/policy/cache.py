"""A disk cache of checked policies, so a warm `regime eval` skips YAML, schema, parsing and
checking (most of its start-up time).

An entry is keyed by the policy file's path, the search path and the engine version, and is
valid while every file the policy was read from (itself and the files it extends) has the
content hash recorded with it. (Hashes rather than modification times: two edits within one
clock tick must not be confused, and policy files are small.) Anything unexpected (a
missing, stale or unreadable entry) just means loading the policy again.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from pathlib import Path
from typing import Callable, Sequence

from .. import __version__

ENV_NO_CACHE = "REGIME_NO_POLICY_CACHE"


def _folder() -> Path:
    from ..compile.cache import cache_dir

    return cache_dir() / "checked"


def _stamp(path: Path) -> tuple[str, str] | None:
    try:
        return str(path), hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def cached(path: Path, dirs: Sequence[Path], load: Callable[[], object]):
    """`load()`'s checked policy for `path`, from the cache when every source is unchanged."""
    if os.environ.get(ENV_NO_CACHE):
        return load()
    path = path.resolve()
    key_text = "\0".join([__version__, str(path)] + [str(Path(d).resolve()) for d in dirs])
    entry = _folder() / (hashlib.sha256(key_text.encode()).hexdigest()[:32] + ".pickle")
    try:
        with open(entry, "rb") as f:
            stamps, checked = pickle.load(f)
        if stamps and all(_stamp(Path(s[0])) == tuple(s) for s in stamps):
            return checked
    except Exception:  # noqa: BLE001 - a broken entry is only a cache miss
        pass
    checked = load()
    files = [path] + [Path(f).resolve() for f in checked.policy.files[1:]]
    stamps = [_stamp(f) for f in files]
    if all(stamps):
        try:
            entry.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=entry.parent, suffix=".tmp")
            with os.fdopen(fd, "wb") as f:
                pickle.dump((stamps, checked), f, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, entry)
        except OSError:
            pass                # a read-only cache only costs speed
    return checked
