"""Outputs are written atomically and never replace an input: a failed write leaves the old
file whole; `data import` replaces an existing file only with --force and never its source;
eval/explain/diff --out replace their own earlier output (normal re-runs) but never a file
the command reads."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from rulesengine import files
from rulesengine.cli import cli
from rulesengine.cli.data import data as data_cli
from rulesengine.diagnostics import RegimeError

from .helpers import write
from .test_files import DATA, POLICY

ATTENDANCES = ("period,org_code,type,attendances,breaches,admissions\n"
               "2017-03-01,RAA,1,100,10,20\n2017-03-01,RBB,1,200,30,40\n")


def full_disk(monkeypatch):
    """Every fsync fails as on a full disk (the write itself went to the page cache)."""
    def no_space(fd):
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(os, "fsync", no_space)


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


# --- the atomic write ---------------------------------------------------------------------------

def test_a_failed_write_leaves_the_old_file_whole(tmp_path, monkeypatch):
    out = tmp_path / "results.csv"
    out.write_text("old results\n")
    full_disk(monkeypatch)
    with pytest.raises(OSError) as info:
        files.write_output(out, "new results " * 1000)
    assert info.value.filename == str(out) and info.value.errno == errno.ENOSPC
    assert out.read_text() == "old results\n"
    assert leftovers(tmp_path) == []


def test_an_exception_while_writing_leaves_the_old_file(tmp_path):
    out = tmp_path / "r.txt"
    out.write_text("old")
    with pytest.raises(ZeroDivisionError), files.atomic_output(out) as fh:
        fh.write("half")
        1 / 0
    assert out.read_text() == "old" and leftovers(tmp_path) == []


def test_a_new_file_is_readable_by_others_as_a_normal_file(tmp_path):
    out = tmp_path / "r.txt"
    old = os.umask(0o022)
    try:
        files.write_output(out, "x")
    finally:
        os.umask(old)
    assert out.stat().st_mode & 0o777 == 0o644


def test_a_replaced_file_keeps_its_permissions(tmp_path):
    # `regime fmt` rewrites policies in place: a private policy stays private.
    out = tmp_path / "policy.yaml"
    out.write_text("old")
    out.chmod(0o640)
    files.write_output(out, "new")
    assert out.read_text() == "new" and out.stat().st_mode & 0o777 == 0o640


def test_a_private_entry_replaces_whatever_is_in_its_place(tmp_path):
    """What the caches write: mode 0600, and a pipe where the entry should be is replaced
    (writing into it would block), never written to."""
    entry = tmp_path / "entry.json"
    os.mkfifo(entry)
    old = os.umask(0)
    try:
        files.write_output(entry, b"{}", permissions=0o600, into_special=False)
    finally:
        os.umask(old)
    assert entry.is_file() and entry.read_bytes() == b"{}"
    assert entry.stat().st_mode & 0o777 == 0o600
    assert leftovers(tmp_path) == []


def test_a_device_is_written_to_not_replaced():
    # `--out /dev/stdout` (or /dev/null) is a way to read the output: never renamed over.
    files.write_output("/dev/null", "x")
    assert Path("/dev/null").is_char_device()


def test_replace_false_refuses_an_existing_file(tmp_path):
    out = tmp_path / "x.csv"
    out.write_text("keep")
    with pytest.raises(RegimeError) as info:
        files.write_output(out, "new", replace=False)
    assert info.value.diagnostics[0].message == "--out: the file exists"
    assert "--force" in info.value.diagnostics[0].hint
    assert out.read_text() == "keep"


def test_an_output_never_replaces_an_input_however_it_is_spelled(tmp_path, monkeypatch):
    src = tmp_path / "src.csv"
    src.write_text("data")
    (tmp_path / "link.csv").symlink_to(src)
    monkeypatch.chdir(tmp_path)
    for spelling in ("src.csv", "./src.csv", str(src), "link.csv", "sub/../src.csv"):
        (tmp_path / "sub").mkdir(exist_ok=True)
        with pytest.raises(RegimeError) as info:
            files.write_output(spelling, "x", inputs=[str(src)])
        assert "would replace the input file" in info.value.diagnostics[0].message
    assert src.read_text() == "data"


# --- data import ----------------------------------------------------------------------------------

def test_import_never_replaces_its_own_source(tmp_path):
    src = write(tmp_path, "src.csv", ATTENDANCES)
    for extra in ([], ["--force"]):
        result = CliRunner().invoke(data_cli, ["import", "ae-attendances", src, "--out", src,
                                               *extra])
        assert result.exit_code == 1, result.output
        assert f"{src}: error: --out would replace the input file {src}" in result.output
        assert Path(src).read_text() == ATTENDANCES
    assert not (tmp_path / "entities.csv").exists()


def test_import_replaces_an_existing_file_only_with_force(tmp_path):
    src = write(tmp_path, "src.csv", ATTENDANCES)
    out = tmp_path / "out"
    out.mkdir()
    other = out / "other.parquet"
    other.write_bytes(b"someone else's data")
    result = CliRunner().invoke(data_cli, ["import", "ae-attendances", src, "--out", str(other)])
    assert result.exit_code == 1
    assert f"{other}: error: --out: the file exists" in result.output
    assert "hint: pass --force to replace it" in result.output
    assert other.read_bytes() == b"someone else's data"
    result = CliRunner().invoke(data_cli, ["import", "ae-attendances", src, "--out", str(other),
                                           "--force"])
    assert result.exit_code == 0, result.output
    assert other.read_bytes().startswith(b"PAR1")


def test_import_does_not_write_entities_over_its_source(tmp_path):
    src = write(tmp_path, "entities.csv", ATTENDANCES)
    result = CliRunner().invoke(data_cli, ["import", "ae-attendances", src, "--out",
                                           str(tmp_path / "ae.parquet")])
    assert result.exit_code == 1
    assert "would replace the input file" in result.output
    assert Path(src).read_text() == ATTENDANCES


# --- eval, explain, diff ----------------------------------------------------------------------

@pytest.fixture
def inputs(tmp_path, monkeypatch):
    monkeypatch.setenv("REGIME_NO_POLICY_CACHE", "1")
    return {"policy": write(tmp_path, "tiny.yaml", POLICY),
            "data": write(tmp_path, "data.csv", DATA)}


@pytest.mark.parametrize("victim", ["policy", "data"])
@pytest.mark.parametrize("command", [
    ["eval", "--policy", "{policy}", "--data", "{data}", "--engine", "reference"],
    ["explain", "--policy", "{policy}", "--entity", "T1", "--data", "{data}",
     "--engine", "reference"],
    ["diff", "{policy}", "{policy}", "--data", "{data}", "--engine", "reference"],
])
def test_out_never_replaces_an_input(command, victim, inputs):
    args = [a.format(**inputs) for a in command] + ["--out", inputs[victim]]
    before = Path(inputs[victim]).read_text()
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 1, result.output
    assert f"--out would replace the input file {inputs[victim]}" in result.output
    assert Path(inputs[victim]).read_text() == before


def test_out_never_replaces_a_file_of_the_data_folder(inputs, tmp_path):
    result = CliRunner().invoke(cli, ["eval", "--policy", inputs["policy"], "--data",
                                      str(tmp_path), "--out", inputs["data"]])
    assert result.exit_code == 1
    assert "would replace the input file" in result.output


def test_out_never_replaces_a_policy_named_by_id(tmp_path, monkeypatch):
    monkeypatch.setenv("REGIME_NO_POLICY_CACHE", "1")
    folder = tmp_path / "policies"
    folder.mkdir()
    policy = write(folder, "tiny.yaml", POLICY)
    data = write(tmp_path, "data.csv", DATA)
    result = CliRunner().invoke(cli, ["eval", "--policy", "tiny", "--policy-path", str(folder),
                                      "--data", data, "--out", policy])
    assert result.exit_code == 1, result.output     # (.yaml is no output format either)
    assert Path(policy).read_text() == POLICY
    # The files the command reads include the policy's, found from its id.
    from rulesengine.cli.common import command_inputs, load_policy

    checked, _ = load_policy("tiny", (str(folder),))
    assert any(os.path.samefile(f, policy) for f in command_inputs(checked, data))


@pytest.mark.parametrize("fmt", ["table", "csv"])
def test_eval_out_replaces_its_own_earlier_output_atomically(fmt, inputs, tmp_path,
                                                             monkeypatch):
    out = tmp_path / f"results.{fmt}"
    args = ["eval", "--policy", inputs["policy"], "--data", inputs["data"], "--engine",
            "reference", "--format", fmt, "--out", str(out)]
    assert CliRunner().invoke(cli, args).exit_code == 0
    first = out.read_text()
    assert CliRunner().invoke(cli, args).exit_code == 0          # a re-run replaces it
    assert out.read_text() == first
    full_disk(monkeypatch)
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 1
    assert f"--out {out}: cannot write: No space left on device" in result.output
    assert out.read_text() == first                              # whole, not truncated
    assert leftovers(tmp_path) == []


def test_a_chart_that_fails_leaves_the_earlier_chart(inputs, tmp_path, monkeypatch):
    chart = tmp_path / "counts.png"
    args = ["eval", "--policy", inputs["policy"], "--data", inputs["data"], "--engine",
            "reference", "--chart", str(chart)]
    assert CliRunner().invoke(cli, args).exit_code == 0
    first = chart.read_bytes()
    assert first.startswith(b"\x89PNG")
    full_disk(monkeypatch)
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 1
    assert chart.read_bytes() == first and leftovers(tmp_path) == []


# --- fmt: the in-place rewrite that is its purpose ------------------------------------------------

def test_fmt_rewrites_in_place_atomically_keeping_permissions(tmp_path, monkeypatch):
    messy = POLICY.replace("policy: tiny", "policy:   tiny")
    policy = Path(write(tmp_path, "tiny.yaml", messy))
    policy.chmod(0o640)
    full_disk(monkeypatch)
    failed = CliRunner().invoke(cli, ["fmt", str(policy)])
    assert failed.exit_code == 1 and isinstance(failed.exception, SystemExit), failed.output
    assert f"fmt {policy}: cannot write: No space left on device" in failed.output
    assert policy.read_text() == messy and leftovers(tmp_path) == []
    monkeypatch.undo()
    done = CliRunner().invoke(cli, ["fmt", str(policy)])
    assert done.exit_code == 0, done.output
    assert policy.read_text() != messy and policy.stat().st_mode & 0o777 == 0o640
    assert leftovers(tmp_path) == []
