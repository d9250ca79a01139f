"""The installed package carries every subpackage: pyproject.toml lists packages by name, and
a new subpackage left off the list installs without it (an editable install hides this)."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_subpackage_is_listed_in_pyproject():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    listed = set(config["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(ROOT).parts)
             for p in (ROOT / "rulesengine").rglob("__init__.py")}
    assert found - listed == set(), "add these to [tool.setuptools] packages"
