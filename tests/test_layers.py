"""The import layers of rulesengine/ (pyproject.toml's [tool.importlinter] contract): the
package keeps them, and the contract does catch a module that imports from a layer above it
(checked on a copy of the package with one such import added)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINT = shutil.which("lint-imports", path=os.path.dirname(sys.executable))

needs_linter = pytest.mark.skipif(LINT is None, reason="import-linter is not installed (it is "
                                  "in the test extra: pip install '.[test]')")


def _lint(root: Path) -> subprocess.CompletedProcess:
    # PYTHONPATH first, so the copy under test is analysed rather than an installed package.
    env = dict(os.environ, PYTHONPATH=str(root))
    return subprocess.run([LINT, "--config", str(root / "pyproject.toml"), "--no-cache"],
                          cwd=root, env=env, capture_output=True, text=True, timeout=300)


def _copy(tmp_path: Path) -> Path:
    dest = tmp_path / "project"
    shutil.copytree(ROOT / "rulesengine", dest / "rulesengine",
                    ignore=shutil.ignore_patterns("__pycache__", "sample"))
    shutil.copy(ROOT / "pyproject.toml", dest / "pyproject.toml")
    return dest


@needs_linter
def test_the_package_keeps_its_layers(tmp_path):
    result = _lint(_copy(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 kept, 0 broken" in result.stdout


@needs_linter
@pytest.mark.parametrize("module, target", [
    ("lang/types.py", "..pipeline.run"),          # a low layer reaching the orchestration
    ("engine/layout.py", "..compile.kernel"),     # the engine reaching the compiler above it
    ("data/bind.py", "..analysis.diff"),
])
def test_a_function_level_import_upwards_breaks_the_contract(tmp_path, module, target):
    dest = _copy(tmp_path)
    path = dest / "rulesengine" / module
    package, name = target.rsplit(".", 1)
    path.write_text(path.read_text() + f"\n\ndef _upwards():\n    from {package} import {name}\n"
                    f"    return {name}\n")
    result = _lint(dest)
    assert result.returncode != 0
    layer = module.split("/")[0]
    assert f"rulesengine.{layer} is not allowed to import rulesengine." in result.stdout


def test_every_top_level_part_is_in_a_layer():
    """A new package or root module must be placed in the contract, else the contract
    would not check it."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    contract = config["tool"]["importlinter"]["contracts"][0]
    named = {part.strip() for layer in contract["layers"] for part in layer.split("|")}
    parts = {p.stem if p.is_file() else p.name for p in (ROOT / "rulesengine").iterdir()
             if (p.is_dir() and (p / "__init__.py").exists())
             or (p.suffix == ".py" and p.name != "__init__.py")}
    assert parts - named == set(), f"not in any layer: {sorted(parts - named)}"


MAX_MODULE_LINES = 700


def test_no_module_is_a_dumping_ground():
    """One job per module: none grows past MAX_MODULE_LINES (split by responsibility)."""
    long = {str(p.relative_to(ROOT)): n for p in sorted((ROOT / "rulesengine").rglob("*.py"))
            if (n := len(p.read_text().splitlines())) > MAX_MODULE_LINES}
    assert long == {}, f"modules over {MAX_MODULE_LINES} lines: {long}"
