"""Bad input on the command line gives a clear error before any work is lost, never a
traceback: output files that cannot be written, `--param` values the policy cannot use,
malformed decisions files, policies at git revisions, and periods the command cannot take."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

import rulesengine
from rulesengine.cli import cli

ROOT = Path(__file__).resolve().parents[1]


def run(*args: str):
    result = CliRunner().invoke(cli, list(args))
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), \
        repr(result.exception)
    return result


def fails_with(message: str, *args: str) -> str:
    result = run(*args)
    assert result.exit_code == 1, result.output
    assert message in result.output, result.output
    return result.output


# --- output files -------------------------------------------------------------------------

@pytest.mark.parametrize("command", [
    ["eval", "--policy", "oversight2021"],
    ["eval", "--policy", "oversight2021", "--format", "csv"],
    ["explain", "--policy", "oversight2021", "--entity", "T001"],
    ["diff", "oversight2021", "oversight2022"],
])
def test_out_into_a_missing_folder_is_refused_before_evaluating(tmp_path, command):
    out = tmp_path / "no" / "such" / "folder" / "x.txt"
    fails_with(f"error: --out {out}: there is no folder '{out.parent}'",
               *command, "--engine", "reference", "--out", str(out))


def test_out_that_fails_while_writing_is_a_clean_error():
    if not Path("/dev/full").exists():
        pytest.skip("/dev/full is absent on this system")
    fails_with("error: --out /dev/full: cannot write: No space left on device",
               "eval", "--policy", "special_measures2013", "--engine", "reference",
               "--out", "/dev/full")


@pytest.mark.parametrize("args, message", [
    (["--chart", "counts.pdf"], "error: --chart counts.pdf: a chart file must end in .png or .svg"),
    (["--chart", "nowhere/counts.png"], "error: --chart nowhere/counts.png: there is no folder "
                                        "'nowhere'"),
    (["--out", ""], "error: --out: give a file name"),
    (["--chart", " "], "error: --chart: give a file name"),
])
def test_bad_output_names_are_refused_before_anything_is_written(tmp_path, monkeypatch, args,
                                                                 message):
    monkeypatch.chdir(tmp_path)
    output = fails_with(message, "eval", "--policy", "oversight2021", "--engine", "reference",
                        "--out", "table.txt", *args) if args[0] == "--chart" else \
        fails_with(message, "eval", "--policy", "oversight2021", "--engine", "reference", *args)
    assert "Segment" not in output          # refused before the table was printed
    assert not (tmp_path / "table.txt").exists()


# --- --param ------------------------------------------------------------------------------

@pytest.mark.parametrize("value, message", [
    ("inf", "error: --param sustained_quarters=inf: the value must be a finite number"),
    ("nan", "error: --param sustained_quarters=nan: the value must be a finite number"),
    ("1e999", "error: --param sustained_quarters=inf: the value must be a finite number"),
    ("-3", "sustained(): param 'sustained_quarters' must be a whole number of periods of at "
           "least 1 to be used here"),
    ("2.5", "sustained(): param 'sustained_quarters' must be a whole number of periods of at "
            "least 1 to be used here"),
    ("1000000", "sustained(): param 'sustained_quarters' is 1,000,000, but a window reaches "
                "back at most 600 periods"),
    ("£2m", "error: --param sustained_quarters=£2m: 'sustained_quarters' is a number, not an "
            "amount of money"),
    ("0x10", "error: --param sustained_quarters=0x10: the value must be a number, a "
             "percentage (20%) or an amount of money (£1.5m)"),
])
@pytest.mark.parametrize("engine", ["reference", "numba"])
def test_param_values_the_policy_cannot_use_are_refused(value, message, engine):
    output = fails_with(message, "eval", "--policy", "oversight2021", "--engine", engine,
                        "--param", f"sustained_quarters={value}")
    if "sustained()" in message:
        # the checker's own message, at the line of the policy that uses the param
        assert output.startswith(f"error: --param sustained_quarters={value}: a value this "
                                 "policy cannot use, because:\npolicies/oversight2021.yaml:")


def test_param_typo_suggests_the_name():
    fails_with("error: --param sustained_quaters: policy 'oversight2021' has no param "
               "'sustained_quaters'; did you mean 'sustained_quarters'?",
               "explain", "--policy", "oversight2021", "--entity", "T001",
               "--param", "sustained_quaters=3")


def test_negative_lag_param_is_refused_by_both_engines_and_explain():
    # once read outside the kernel's history arrays: now the checker's rules apply to --param
    for command in (["eval", "--policy", "oversight2021", "--engine", "numba"],
                    ["explain", "--policy", "oversight2021", "--entity", "T001"]):
        fails_with("change(): param 'drop_window' must be a whole number of periods of at "
                   "least 1", *command, "--param", "drop_window=-5")


def test_a_valid_param_still_changes_the_outcome():
    base = run("eval", "--policy", "oversight2021", "--format", "csv")
    longer = run("eval", "--policy", "oversight2021", "--format", "csv",
                 "--param", "sustained_quarters=4")
    assert base.exit_code == longer.exit_code == 0
    assert base.output != longer.output


# --- decisions files ----------------------------------------------------------------------

def test_a_huge_field_in_decisions_is_located(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("d.csv").write_text("entity,period,level,decided_by,reason\n"
                             f"T002,2025-Q1,segment_4,region,{'x' * 200_000}\n")
    fails_with("d.csv:2:1: error: cannot read this row as CSV: field larger than field limit",
               "eval", "--policy", "oversight2021", "--engine", "reference",
               "--decisions", "d.csv")


def test_decision_errors_give_the_physical_line_after_a_multiline_reason(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("d.csv").write_text("entity,period,level,decided_by,reason\n"
                             'T002,2025-Q1,segment_4,region,"first line\nsecond\nthird"\n'
                             "T001,2025-Q1,segment_9,region,x\n")
    fails_with("d.csv:5:3: error: 'segment_9' in column 'level'", "eval", "--policy",
               "oversight2021", "--engine", "reference", "--decisions", "d.csv")


# --- policies at git revisions ------------------------------------------------------------

@pytest.fixture
def repo(tmp_path):
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    policy = (ROOT / "policies" / "special_measures2013.yaml").read_text(encoding="utf-8")
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.org",
           "-c", "init.defaultBranch=main"]
    subprocess.run(git + ["init", "-q", str(tmp_path)], check=True)
    (tmp_path / "latin1.yaml").write_bytes(policy.replace("policy: special_measures2013",
                                                          "policy: latin1 # £")
                                           .encode("latin-1", "replace"))
    (tmp_path / "gone.yaml").write_text(policy.replace("policy: special_measures2013",
                                                       "policy: gone"), encoding="utf-8")
    subprocess.run(git + ["-C", str(tmp_path), "add", "."], check=True)
    subprocess.run(git + ["-C", str(tmp_path), "commit", "-qm", "policies"], check=True)
    (tmp_path / "gone.yaml").unlink()
    return tmp_path


def test_a_policy_that_is_not_utf8_at_a_revision_is_located(repo):
    fails_with(f"{repo / 'latin1.yaml'}@HEAD:", "eval", "--policy",
               f"{repo / 'latin1.yaml'}@HEAD", "--engine", "reference")
    fails_with("error: a policy file must be UTF-8 text (byte 0xa3 is not)", "eval", "--policy",
               f"{repo / 'latin1.yaml'}@HEAD", "--engine", "reference")


def test_a_policy_deleted_since_a_revision_can_still_be_read_from_it(repo):
    result = run("eval", "--policy", f"{repo / 'gone.yaml'}@HEAD", "--engine", "reference")
    assert result.exit_code == 0, result.output
    assert "policy gone@HEAD v" in result.output


def test_git_problems_are_said_plainly(repo, tmp_path_factory):
    fails_with(f"error: no revision 'nope' in the git repository at {repo}", "eval",
               "--policy", f"{repo / 'latin1.yaml'}@nope")
    outside = tmp_path_factory.mktemp("nogit") / "p.yaml"
    shutil.copy(ROOT / "policies" / "special_measures2013.yaml", outside)
    if subprocess.run(["git", "-C", str(outside.parent), "rev-parse"],
                      capture_output=True).returncode == 0:
        pytest.skip("the temporary folder is inside a git repository")
    fails_with(f"error: {outside} is not in a git repository, so it has no revisions to read",
               "eval", "--policy", f"{outside}@HEAD")


def test_check_takes_a_policy_at_a_revision(repo):
    result = run("check", f"{repo / 'gone.yaml'}@HEAD")
    assert result.exit_code == 0, result.output
    fails_with("no revision 'nope'", "check", f"{repo / 'gone.yaml'}@nope")


# --- periods and entities -----------------------------------------------------------------

def test_explain_and_diff_take_one_period():
    fails_with("error: explain looks at one period: give --period P, or leave it out for the "
               "latest", "explain", "--policy", "oversight2021", "--entity", "T001",
               "--period", "all")
    fails_with("error: diff compares one period: give --period P, or leave it out for the "
               "latest", "diff", "oversight2021", "oversight2022", "--period", "all")


@pytest.mark.parametrize("period", ["2024/25 Q3", "2024-q4", "2024-12", " 2024-Q4 "])
def test_diff_reads_a_period_as_eval_does(period):
    result = run("diff", "oversight2021", "oversight2022", "--engine", "vectorised",
                 "--period", period)
    assert result.exit_code == 0, result.output
    assert "Period compared: 2024-Q4" in result.output


def test_diff_names_a_bad_period():
    fails_with("error: --period: 'garbage' is not a period", "diff", "oversight2021",
               "oversight2022", "--engine", "vectorised", "--period", "garbage")


def test_period_keywords_ignore_case_and_spaces():
    result = run("eval", "--policy", "special_measures2013", "--engine", "reference",
                 "--period", " LATEST ")
    assert result.exit_code == 0, result.output


def test_data_whose_entities_are_none_of_the_policys_kinds_is_an_error(tmp_path):
    (tmp_path / "entities.csv").write_text("entity,name,kind,type,parent,region\n"
                                           "A1,Alpha,hospital,acute,,\nB1,Beta,TRUST,acute,,\n")
    inputs = list(rulesengine.load_policy("special_measures2013").policy.inputs)
    (tmp_path / "metrics.csv").write_text(",".join(["entity", "period", *inputs]) + "\n"
                                          + "A1,2024-03" + "," * len(inputs) + "\n")
    fails_with("error: none of the 2 entities in the data is of a kind policy "
               "'special_measures2013' decides on (trust); the data's kinds are 'TRUST', "
               "'hospital'", "eval", "--policy", "special_measures2013", "--engine",
               "reference", "--data", str(tmp_path))


def test_a_policy_path_that_does_not_exist_is_refused():
    result = CliRunner().invoke(cli, ["list", "--policy-path", "/no/such/folder"])
    assert result.exit_code == 2
    assert "Directory '/no/such/folder' does not exist" in result.output
