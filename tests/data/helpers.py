"""Shared helpers for the data tests: write files, build small checked policies, read errors."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import pytest

from rulesengine.diagnostics import DataError
from rulesengine.check.checker import CheckedPolicy, check
from rulesengine.policy.load import load_policy_text

ROOT = Path(__file__).resolve().parents[2]
SHARED_DATA = ROOT.parent / "shared" / "data"

needs_shared_data = pytest.mark.skipif(
    not SHARED_DATA.is_dir(),
    reason=f"the real NHS England data folder {SHARED_DATA} is absent (it sits beside the "
           f"project in CI and development checkouts)")


def write(folder: Path, name: str, text: str) -> str:
    """Write a text file and return its path as a string (as a user would pass it)."""
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def headlines(func: Callable[[], object]) -> list[str]:
    """The headlines of the DataError that `func` raises (fails if it raises nothing)."""
    with pytest.raises(DataError) as info:
        func()
    return [d.headline() for d in info.value.diagnostics]


def make_policy(folder: Path, inputs: dict[str, str], *, period: str | None = "quarter",
                scales: dict[str, list[str]] | None = None,
                name: str = "policy.yaml") -> CheckedPolicy:
    """A checked policy whose one rule reads every input (so all are `used_inputs`)."""
    lines = ["policy: data_test", "entity: trust"]
    if period:
        lines.append(f"period: {period}")
    lines += ["levels:", "  - {id: fine, label: Fine}", "  - {id: flagged, label: Flagged}",
              "default: fine"]
    if scales:
        lines.append("scales:")
        lines += [f"  {k}: [{', '.join(v)}]" for k, v in scales.items()]
    lines.append("inputs:")
    lines += [f"  {k}: {v}" for k, v in inputs.items()]
    lines += ["rules:", "  - id: any_missing", "    level: flagged",
              "    when: " + " or ".join(f"missing({k})" for k in inputs)]
    text = "\n".join(lines) + "\n"
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return check(load_policy_text(text, path))
