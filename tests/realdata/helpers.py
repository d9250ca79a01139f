"""Helpers for the real-data tests: find ../shared/data, write a policy, rank independently.

The real NHS England files live in `../shared/data/` beside the repository (override with
$REGIME_SHARED_DATA). They are read in place, never copied into the project; where the folder
is absent (a user's fresh clone) the tests skip, and in CI, where it is present, they run.

The independent computations here use nothing from `rulesengine`: plain Python on the CSV
text, so a test compares the engine against a second implementation of the documented rule.
"""

from __future__ import annotations

import bisect
import csv
import os
from pathlib import Path
from typing import Iterable, Mapping, TypeVar

import pytest

import rulesengine
from rulesengine.check.checker import CheckedPolicy

ROOT = Path(__file__).resolve().parents[2]
POLICIES = ROOT / "policies"
ENV_SHARED_DATA = "REGIME_SHARED_DATA"

K = TypeVar("K")


def shared_data_dir() -> Path:
    """$REGIME_SHARED_DATA, else ../shared/data relative to the repository root."""
    env = os.environ.get(ENV_SHARED_DATA)
    return Path(env) if env else ROOT.parent / "shared" / "data"


def need(*relpaths: str) -> list[Path]:
    """The named files under the shared data folder; skip the test if any is absent."""
    base = shared_data_dir()
    if not base.is_dir():
        pytest.skip(f"../shared/data not found: {base} is absent (the real NHS England data "
                    f"sits beside the project in CI; set ${ENV_SHARED_DATA} to point elsewhere)")
    paths = [base / p for p in relpaths]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        pytest.skip(f"../shared/data is incomplete: {', '.join(missing)} not found")
    return paths


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def load_test_policy(folder: Path, name: str, text: str) -> CheckedPolicy:
    """Write a policy file into `folder` and load it; `extends:` ids resolve to the repository's
    own policies/ first (not to whatever $REGIME_POLICY_PATH holds)."""
    path = folder / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return rulesengine.load_policy(path, policy_path=[str(POLICIES)])


def bottom_quartile(values: Mapping[K, object], *, better: str, cut: int = 25) -> set[K]:
    """The keys whose percentile rank among `values` is at most `cut`, as the project documents
    pct_rank: 100 x (number of strictly worse peers) / (n - 1), so tied values share the lowest
    rank of their cluster. Compared in integers, so no rounding enters. Empty for n < 2 (a
    percentile rank is undefined in a group of one)."""
    n = len(values)
    if n < 2:
        return set()
    ordered = sorted(values.values())
    out = set()
    for key, v in values.items():
        if better == "higher":
            worse = bisect.bisect_left(ordered, v)            # strictly smaller
        elif better == "lower":
            worse = n - bisect.bisect_right(ordered, v)       # strictly greater
        else:
            raise ValueError(better)
        if 100 * worse <= cut * (n - 1):
            out.add(key)
    return out


def fired(outcomes, t: int, rule: str, entities: Iterable[int] | None = None) -> set[str]:
    """The ids of the entities for which `rule` fired in period index t."""
    ids = outcomes.entities.ids
    rows = range(len(ids)) if entities is None else entities
    return {ids[e] for e in rows if rule in outcomes.fired_rules(t, e)}
