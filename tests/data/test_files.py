"""One guarded open for every file regime reads, one atomic write for every file it writes.

Every command that reads a file is tried on a pipe, /dev/zero, a folder and an unreadable
file: each must end (no hang, no unbounded read) with a clear error naming the file, never a
traceback."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from rulesengine import files
from rulesengine.cli import cli
from rulesengine.diagnostics import DataError, RegimeError

from .helpers import write

POLICY = """policy: tiny
entity: trust
period: month
levels:
  - {id: fine, label: Fine}
  - {id: flagged, label: Flagged}
default: fine
inputs:
  x: {type: number, better: higher}
rules:
  - {id: low, level: flagged, when: 'x < 5'}
"""
DATA = "entity,period,x\nT1,2023-04,3\nT2,2023-04,7\n"
ENTITIES = "entity,name\nT1,One\nT2,Two\n"
DECISIONS = "entity,period,level,decided_by,reason\nT1,2023-04,fine,SoS,judgement\n"


def hostile(kind: str, folder: Path, name: str, monkeypatch) -> str:
    """A path named `name` in `folder` that is a pipe, /dev/zero, a folder or an unreadable
    file (readable content that cannot be opened)."""
    path = folder / name
    if kind == "pipe":
        os.mkfifo(path)
    elif kind == "dev-zero":
        path.symlink_to("/dev/zero")
    elif kind == "folder":
        path.mkdir()
    else:
        path.write_text(POLICY if name.endswith(".yaml") else DATA, encoding="utf-8")
        path.chmod(0)
        # root reads a mode-0 file anyway: refuse the open as the OS would for anyone else.
        real_open = os.open

        def refusing_open(p, flags, *args, **kwargs):
            if os.fspath(p) == str(path) or os.path.abspath(os.fspath(p)) == str(path):
                raise PermissionError(13, "Permission denied", os.fspath(p))
            return real_open(p, flags, *args, **kwargs)
        monkeypatch.setattr(os, "open", refusing_open)
    return str(path)


KINDS = ["pipe", "dev-zero", "folder", "unreadable"]
WHY = {"pipe": "pipe", "dev-zero": "device", "folder": "folder",
       "unreadable": "Permission denied"}


def setup(tmp_path: Path) -> dict[str, str]:
    good = tmp_path / "good"
    good.mkdir()
    return {"policy": write(good, "tiny.yaml", POLICY), "data": write(good, "data.csv", DATA),
            "entities": write(good, "ents.csv", ENTITIES),
            "decisions": write(good, "decisions.csv", DECISIONS)}


# Each command line, with {bad} where the hostile file goes; the bad file's name.
COMMANDS = {
    "check file": (["check", "{bad}"], "bad.yaml"),
    "list": (["list", "--policy-path", "{dir}"], "bad.yaml"),
    "check folder": (["check", "{dir}"], "bad.yaml"),
    "test folder": (["test", "{dir}"], "bad.yaml"),
    "eval --policy": (["eval", "--policy", "{bad}", "--data", "{data}"], "bad.yaml"),
    "eval --data": (["eval", "--policy", "{policy}", "--data", "{bad}"], "bad.csv"),
    "eval --data folder": (["eval", "--policy", "{policy}", "--data", "{dir}"], "bad.csv"),
    "eval --entities": (["eval", "--policy", "{policy}", "--data", "{data}", "--entities",
                         "{bad}"], "bad.csv"),
    "eval --decisions": (["eval", "--policy", "{policy}", "--data", "{data}", "--decisions",
                          "{bad}"], "bad.csv"),
    "explain --decisions": (["explain", "--policy", "{policy}", "--entity", "T1", "--data",
                             "{data}", "--decisions", "{bad}"], "bad.csv"),
    "diff --data": (["diff", "{policy}", "{policy}", "--data", "{bad}"], "bad.csv"),
    "data validate": (["data", "validate", "{bad}"], "bad.csv"),
    "data validate --policy": (["data", "validate", "{data}", "--policy", "{bad}"], "bad.yaml"),
    "data validate --entities": (["data", "validate", "{data}", "--entities", "{bad}"],
                                 "bad.csv"),
    "data import ae-monthly": (["data", "import", "ae-monthly", "{bad}", "--out",
                                "{out}"], "bad.csv"),
    "data import ae-attendances": (["data", "import", "ae-attendances", "{bad}", "--out",
                                    "{out}"], "bad.csv"),
    # commands added since: the authoring tools, reports and sweeps read through it too
    "fmt file": (["fmt", "{bad}"], "bad.yaml"),
    "fmt folder": (["fmt", "{dir}"], "bad.yaml"),
    "doc": (["doc", "{bad}"], "bad.yaml"),
    "report --policy": (["report", "--policy", "{bad}", "--data", "{data}", "--out",
                         "{out}.html"], "bad.yaml"),
    "report --against": (["report", "--policy", "{policy}", "--against", "{bad}", "--data",
                          "{data}", "--out", "{out}.html"], "bad.yaml"),
    "sweep --policy": (["sweep", "--policy", "{bad}", "--data", "{data}", "--noise", "x=1"],
                       "bad.yaml"),
    "sweep --data": (["sweep", "--policy", "{policy}", "--data", "{bad}", "--noise", "x=1"],
                     "bad.csv"),
    "sweep --decisions": (["sweep", "--policy", "{policy}", "--data", "{data}", "--noise",
                           "x=1", "--decisions", "{bad}"], "bad.csv"),
}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("command", list(COMMANDS))
def test_every_reader_refuses_files_that_are_not_regular(command, kind, tmp_path, monkeypatch,
                                                        deadline):
    monkeypatch.setenv("REGIME_NO_POLICY_CACHE", "1")
    args, name = COMMANDS[command]
    paths = setup(tmp_path)
    folder = tmp_path / "hostile"
    folder.mkdir()
    bad = hostile(kind, folder, name, monkeypatch)
    values = dict(paths, bad=bad, dir=str(folder), out=str(tmp_path / "out" / "x.parquet"))
    (tmp_path / "out").mkdir()
    with deadline():
        result = CliRunner().invoke(cli, [a.format(**values) for a in args])
    output = result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), \
        repr(result.exception)
    assert "Traceback" not in output
    lenient = "{dir}" in args and kind != "unreadable" or command == "list" \
        or (command in ("check file", "fmt file") and kind == "folder")
    if lenient and (result.exit_code == 0 or "bad." not in output):
        # A folder's entries that are not regular files are left alone, as the data loader
        # leaves them (and a folder named bad.yaml is a folder of policies; `list` lists
        # files without judging them), as long as the command ends cleanly.
        return
    assert result.exit_code in (1, 2), output           # 2: click refused the argument
    # The file is named, with the reason (click words a folder its own way).
    assert "bad." in output, output
    if result.exit_code == 1:
        assert WHY[kind] in output, output


def test_fmt_reads_no_more_of_standard_input_than_a_policy_may_hold():
    """`regime fmt < /dev/zero` (or any endless pipe) stops at the policy size limit."""
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    with open("/dev/zero", "rb") as endless:
        done = subprocess.run([sys.executable, "-c", "from rulesengine.cli import main; main()",
                               "fmt"], stdin=endless, capture_output=True, text=True,
                              timeout=120, env=dict(os.environ, PYTHONPATH=str(root),
                                                    REGIME_MAX_POLICY_BYTES="1000"))
    assert done.returncode == 1
    assert done.stderr == ("<stdin>: error: policy file too large (over the limit of 1,000 "
                           "bytes)\n    hint: set the environment variable "
                           "REGIME_MAX_POLICY_BYTES to raise the limit\n")


# --- the guarded read ---------------------------------------------------------------------------

def test_read_input_reads_a_regular_file(tmp_path):
    path = write(tmp_path, "a.csv", "x\n")
    assert files.read_input(path) == b"x\n"


@pytest.mark.parametrize("kind", KINDS)
def test_read_input_refuses_each_kind(kind, tmp_path, monkeypatch, deadline):
    bad = hostile(kind, tmp_path, "bad.csv", monkeypatch)
    with deadline(), pytest.raises(DataError) as info:
        files.read_input(bad, error=DataError)
    (d,) = info.value.diagnostics
    assert d.file == bad
    assert d.message.startswith("cannot read the file: ") and WHY[kind] in d.message


def test_the_size_limit_names_itself_and_how_to_raise_it(tmp_path, monkeypatch):
    path = tmp_path / "big.csv"
    path.write_bytes(b"x" * 101)
    monkeypatch.setenv("REGIME_MAX_DECISIONS_BYTES", "100")
    with pytest.raises(RegimeError) as info:
        files.read_input(path, limit=files.DECISIONS)
    (d,) = info.value.diagnostics
    assert d.message == "decisions file too large (101 bytes; the limit is 100)"
    assert d.hint == "set the environment variable REGIME_MAX_DECISIONS_BYTES to raise the limit"
    monkeypatch.setenv("REGIME_MAX_DECISIONS_BYTES", "101")
    assert len(files.read_input(path, limit=files.DECISIONS)) == 101


def test_a_file_that_says_it_is_empty_is_still_bounded(tmp_path, monkeypatch):
    # /proc files report size 0 and then hold text: the read stops one byte past the limit.
    monkeypatch.setenv("REGIME_MAX_POLICY_BYTES", "10")
    with pytest.raises(RegimeError) as info:
        files.read_input("/proc/self/status", limit=files.POLICY)
    assert info.value.diagnostics[0].message == \
        "policy file too large (over the limit of 10 bytes)"


@pytest.mark.parametrize("value", ["", "0", "-5", "lots", "1e9", "٣"])
def test_a_limit_set_to_nonsense_keeps_the_default(value, monkeypatch):
    monkeypatch.setenv("REGIME_MAX_CELLS", value)
    assert files.CELLS.value() == files.CELLS.default


def test_decisions_over_the_limit_are_refused(tmp_path, monkeypatch):
    paths = setup(tmp_path)
    monkeypatch.setenv("REGIME_MAX_DECISIONS_BYTES", "20")
    monkeypatch.setenv("REGIME_NO_POLICY_CACHE", "1")
    result = CliRunner().invoke(cli, ["eval", "--policy", paths["policy"], "--data",
                                      paths["data"], "--decisions", paths["decisions"]])
    assert result.exit_code == 1
    assert f"decisions file too large ({len(DECISIONS)} bytes; the limit is 20)" in result.output
    assert "REGIME_MAX_DECISIONS_BYTES" in result.output


def test_a_policy_over_the_limit_names_the_variable(tmp_path, monkeypatch):
    paths = setup(tmp_path)
    monkeypatch.setenv("REGIME_MAX_POLICY_BYTES", "50")
    monkeypatch.setenv("REGIME_NO_POLICY_CACHE", "1")
    result = CliRunner().invoke(cli, ["check", paths["policy"]])
    assert result.exit_code == 1
    assert f"policy file too large ({len(POLICY):,} bytes; the limit is 50)" in result.output
    assert "REGIME_MAX_POLICY_BYTES" in result.output
    # Raised above the file, it loads: the document's own check follows the same limit.
    monkeypatch.setenv("REGIME_MAX_POLICY_BYTES", str(len(POLICY)))
    assert CliRunner().invoke(cli, ["check", paths["policy"]]).exit_code == 0


def test_a_cached_policy_replaced_by_a_pipe_is_refused_not_waited_on(tmp_path, monkeypatch,
                                                                    deadline):
    # The policy cache re-reads its sources to see whether they changed: through the guarded
    # read, so a source swapped for a pipe is a miss (then refused by name), never a hang.
    monkeypatch.setenv("REGIME_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("REGIME_NO_POLICY_CACHE", raising=False)
    paths = setup(tmp_path)
    args = ["eval", "--policy", paths["policy"], "--data", paths["data"], "--engine",
            "reference"]
    assert CliRunner().invoke(cli, args).exit_code == 0
    os.unlink(paths["policy"])
    os.mkfifo(paths["policy"])
    with deadline():
        result = CliRunner().invoke(cli, args)
    assert result.exit_code == 1, result.output
    assert "tiny.yaml: error: cannot read the file: it is a pipe, not a regular file" \
        in result.output


def test_an_earlier_sample_is_recognised_by_its_first_bytes_only(tmp_path):
    """`data synth --out FOLDER` looks at the folder's README.md to tell an earlier sample:
    the user's folder may hold any README.md, so only its first bytes are read."""
    import tracemalloc

    from rulesengine.data.sample import README_TITLE, check_sample_folder

    readme = tmp_path / "README.md"
    with open(readme, "wb") as fh:
        fh.write(README_TITLE.encode())
        fh.truncate(64 << 20)                   # sparse: 64 MiB to read, no disk used
    tracemalloc.start()
    try:
        assert check_sample_folder(tmp_path, fmt="csv", force=False) == []
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20
    readme.write_text("# my own notes\n")
    with pytest.raises(RegimeError, match="does not hold an earlier sample"):
        check_sample_folder(tmp_path, fmt="csv", force=False)
