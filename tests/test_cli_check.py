"""`regime check` and `regime list`: exit codes, where diagnostics go, JSON output, --strict,
folders, and the policy search path (--policy-path, $REGIME_POLICY_PATH)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from rulesengine.cli import cli
from rulesengine.policy import load

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "tests" / "corpus" / "parents" / "oversight_sample.yaml"

CLEAN = """\
policy: {id}
title: "Clean {id}"
version: "2"
entity: trust
period: quarter
levels:
  - {{id: segment_2}}
  - {{id: segment_3}}
default: segment_2
inputs:
  ae_4hr_pct: {{type: percent, better: higher}}
rules:
  - id: access
    level: segment_3
    when: ae_4hr_pct < 76%
"""
WARNS = CLEAN.replace("inputs:\n", "inputs:\n  unused_flag: {{type: flag}}\n")
BROKEN = CLEAN.replace("ae_4hr_pct < 76%", "ae_4hr_pc < 76%")


@pytest.fixture
def folder(tmp_path, monkeypatch):
    """A folder of three policies, the only one on the search path (no bundled policies)."""
    monkeypatch.delenv(load.ENV_POLICY_PATH, raising=False)
    monkeypatch.setattr(load, "bundled_policies_dir", lambda: tmp_path / "no_bundle")
    monkeypatch.chdir(tmp_path)
    pol = tmp_path / "pol"
    pol.mkdir()
    (pol / "clean.yaml").write_text(CLEAN.format(id="clean"), encoding="utf-8")
    (pol / "warns.yaml").write_text(WARNS.format(id="warns"), encoding="utf-8")
    (pol / "broken.yaml").write_text(BROKEN.format(id="broken"), encoding="utf-8")
    return pol


def _runner() -> CliRunner:
    try:
        return CliRunner(mix_stderr=False)      # click 8.1: keep stderr apart
    except TypeError:
        return CliRunner()                      # click >= 8.2 always does


def run(*args: str, env: dict | None = None):
    return _runner().invoke(cli, list(args), env=env)


def test_clean_policy_exits_0(folder):
    r = run("check", "pol/clean.yaml")
    assert (r.exit_code, r.stdout, r.stderr) == (
        0, "checked 1 policy: 0 errors, 0 warnings\n", "")


def test_warnings_are_shown_on_stdout_and_exit_0(folder):
    r = run("check", "pol/warns.yaml")
    assert r.exit_code == 0
    assert r.stderr == ""
    assert r.stdout == (
        "pol/warns.yaml:11:3: warning: input 'unused_flag' is never used by a rule\n"
        "      unused_flag: {type: flag}\n"
        "      ^~~~~~~~~~~\n"
        "checked 1 policy: 0 errors, 1 warning\n")


def test_strict_turns_warnings_into_failure(folder):
    assert run("check", "--strict", "pol/warns.yaml").exit_code == 1
    assert run("check", "--strict", "pol/clean.yaml").exit_code == 0


def test_errors_go_to_stderr_and_exit_1(folder):
    r = run("check", "pol/broken.yaml")
    assert r.exit_code == 1
    assert r.stderr == (
        "pol/broken.yaml:15:11: error: unknown name 'ae_4hr_pc'; did you mean 'ae_4hr_pct'?\n"
        "        when: ae_4hr_pc < 76%\n"
        "              ^~~~~~~~~\n")
    assert r.stdout == "checked 1 policy: 1 error, 0 warnings\n"
    assert r.exception is None or isinstance(r.exception, SystemExit)


def test_checking_a_folder_checks_every_policy_in_it(folder):
    r = run("check", "pol")
    assert r.exit_code == 1
    assert r.stdout.endswith("checked 3 policies: 1 error, 1 warning\n")
    assert "pol/broken.yaml:15:11: error" in r.stderr
    assert "pol/warns.yaml:11:3: warning" in r.stdout


def test_json_format(folder):
    r = run("check", "--format", "json", "pol")
    assert r.exit_code == 1
    out = json.loads(r.stdout)
    assert out["ok"] is False
    assert out["policies"] == [
        {"policy": "pol/broken.yaml", "ok": False, "errors": 1, "warnings": 0},
        {"policy": "pol/clean.yaml", "ok": True, "errors": 0, "warnings": 0},
        {"policy": "pol/warns.yaml", "ok": True, "errors": 0, "warnings": 1},
    ]
    assert out["diagnostics"] == [
        {"file": "pol/broken.yaml", "line": 15, "col": 11, "end_col": 20, "severity": "error",
         "code": "unknown-name", "message": "unknown name 'ae_4hr_pc'; did you mean 'ae_4hr_pct'?",
         "source_line": "    when: ae_4hr_pc < 76%", "hint": None},
        {"file": "pol/warns.yaml", "line": 11, "col": 3, "end_col": 14, "severity": "warning",
         "code": "unused", "message": "input 'unused_flag' is never used by a rule",
         "source_line": "  unused_flag: {type: flag}", "hint": None},
    ]
    clean = json.loads(run("check", "--format", "json", "pol/clean.yaml").stdout)
    assert clean == {"ok": True, "diagnostics": [], "policies": [
        {"policy": "pol/clean.yaml", "ok": True, "errors": 0, "warnings": 0}]}


def test_policies_by_id_through_the_search_path(folder):
    assert run("check", "clean").exit_code == 1       # not on the search path
    r = run("check", "clean")
    assert r.stderr == "error: no policy named 'clean' (looked in no_bundle)\n"
    assert run("check", "--policy-path", "pol", "clean").exit_code == 0
    assert run("check", "clean", env={load.ENV_POLICY_PATH: str(folder)}).exit_code == 0
    r = run("check", "--policy-path", "pol", "claen")
    assert r.stderr == ("error: no policy named 'claen' (looked in pol, no_bundle); did you "
                        "mean 'clean'?\n")


def test_check_without_arguments_checks_every_known_policy(folder):
    r = run("check", "--policy-path", "pol")
    assert r.stdout.endswith("checked 3 policies: 1 error, 1 warning\n")
    r = run("check")
    assert (r.exit_code, r.stdout) == (0, "checked 0 policies: 0 errors, 0 warnings\n")


def test_list(folder, tmp_path):
    r = run("list", "--policy-path", "pol")
    assert r.exit_code == 0
    lines = r.stdout.splitlines()
    assert lines[0].split() == ["policy", "version", "title", "file"]
    assert [ln.split()[0] for ln in lines[2:]] == ["broken", "clean", "warns"]
    assert "Clean clean" in r.stdout and "pol/clean.yaml" in r.stdout

    other = tmp_path / "other"
    other.mkdir()
    (other / "clean.yaml").write_text(CLEAN.format(id="shadowed"), encoding="utf-8")
    (other / "extra.yaml").write_text(CLEAN.format(id="extra"), encoding="utf-8")
    r = run("list", "--format", "json", "--policy-path", "pol",
            env={load.ENV_POLICY_PATH: str(other)})
    listed = json.loads(r.stdout)
    # --policy-path comes first, so its clean.yaml hides the environment's
    assert [(p["id"], Path(p["path"]).parent.name) for p in listed] == [
        ("broken", "pol"), ("clean", "pol"), ("warns", "pol"), ("extra", "other")]
    assert listed[1] == {"id": "clean", "title": "Clean clean", "version": "2",
                         "path": "pol/clean.yaml"}


def test_a_broken_yaml_file_is_a_diagnostic_not_a_traceback(folder):
    (folder / "bad.yaml").write_text("policy: bad\nentity trust\nperiod: year\n",
                                     encoding="utf-8")
    r = run("check", "pol/bad.yaml")
    assert r.exit_code == 1
    assert r.stderr.startswith("pol/bad.yaml:2:1: error: invalid YAML: expected ':' after "
                               "this key\n")
    assert "Traceback" not in r.output


def test_the_source_checkout_shim_runs_the_same_cli(tmp_path):
    r = subprocess.run([sys.executable, str(ROOT / "cli.py"), "check", str(SAMPLE)],
                       capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert (r.returncode, r.stdout, r.stderr) == (
        0, "checked 1 policy: 0 errors, 0 warnings\n", "")
    bad = tmp_path / "bad.yaml"
    bad.write_text("policy: [\n", encoding="utf-8")
    r = subprocess.run([sys.executable, str(ROOT / "cli.py"), "check", str(bad)],
                       capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert "error: invalid YAML" in r.stderr
