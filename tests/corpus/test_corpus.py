"""The corpus of broken policies: each `NAME.yaml` here is checked exactly as `regime check`
checks it, and its diagnostics must match `NAME.expected` word for word (headline, quoted
line, caret, hint), with no exception other than PolicyError.

Regenerate a golden file after a deliberate change of wording with
`REGIME_UPDATE_GOLDEN=1 pytest tests/corpus`, then read the diff as a policy author would.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from rulesengine.cli import cli
from rulesengine.diagnostics import PolicyError
from rulesengine.check.checker import check
from rulesengine.policy.load import ENV_POLICY_PATH, read_policy, search_path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
CASES = sorted(p.stem for p in HERE.glob("*.yaml"))
UPDATE = os.environ.get("REGIME_UPDATE_GOLDEN") == "1"


@pytest.fixture(autouse=True)
def _at_repo_root(monkeypatch):
    # File names in messages are relative to the working directory, as `regime check` prints
    # them; the bundled and environment search paths are the CLI's defaults.
    monkeypatch.chdir(ROOT)
    monkeypatch.delenv(ENV_POLICY_PATH, raising=False)


def _relative(name: str) -> str:
    return f"tests/corpus/{name}.yaml"


def diagnose(name: str) -> tuple[str, int, int]:
    """The rendered diagnostics of one corpus file, and its error and warning counts."""
    try:
        checked = check(read_policy(Path(_relative(name)), dirs=search_path()))
        found = list(checked.diagnostics)
    except PolicyError as e:   # anything else is a bug, and fails the test with its traceback
        found = e.diagnostics
    errors = sum(d.severity == "error" for d in found)
    return "\n".join(d.render() for d in found) + "\n", errors, len(found) - errors


def test_corpus_is_large_enough():
    assert len(CASES) >= 45


@pytest.mark.parametrize("name", CASES)
def test_broken_policy_yields_expected_diagnostics(name):
    rendered, errors, warnings = diagnose(name)
    golden = HERE / f"{name}.expected"
    if UPDATE:
        golden.write_text(rendered, encoding="utf-8")
    assert golden.exists(), f"no golden file {golden.name}; see this module's docstring"
    assert rendered == golden.read_text(encoding="utf-8")
    # Every case shows something, every located diagnostic quotes its line, and a policy in
    # this corpus is broken unless its name says it only draws warnings.
    assert errors + warnings > 0
    assert (errors == 0) == name.startswith("warn_")
    assert "Traceback" not in rendered


@pytest.mark.parametrize("name", CASES)
def test_regime_check_prints_the_same(name):
    rendered, errors, warnings = diagnose(name)
    result = CliRunner().invoke(cli, ["check", _relative(name)])
    assert result.exception is None or isinstance(result.exception, SystemExit)
    summary = (f"checked 1 policy: {errors} error{'s' * (errors != 1)}, "
               f"{warnings} warning{'s' * (warnings != 1)}\n")
    assert result.output == rendered + summary
    assert result.exit_code == (1 if errors else 0)


def test_every_golden_file_has_its_policy():
    stray = sorted(p.stem for p in HERE.glob("*.expected") if p.stem not in CASES)
    assert stray == []
