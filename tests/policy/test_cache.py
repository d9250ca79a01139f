"""The checked-policy cache: plain verified JSON (never pickle), keyed on everything the
policy was resolved from (the files read and the paths searched in vain), with file names
shown relative to the folder of the run that reads the entry, and a folder only its owner
can write."""

from __future__ import annotations

import json
import os
import pickle
import shutil
from pathlib import Path

import pytest

from rulesengine import cachedir
from rulesengine.diagnostics import PolicyError
from rulesengine.pipeline import cache, revisions
from rulesengine.policy.load import bundled_policies_dir

CHILD = """\
policy: child
extends: parent
rules:
  - {id: extra, level: bad, when: x > 50}
"""


def parent(title: str) -> str:
    return f"""\
policy: parent
title: {title}
entity: trust
period: quarter
levels: [{{id: ok}}, {{id: bad}}]
default: ok
inputs:
  x: {{type: percent, better: lower}}
rules:
  - {{id: high, level: bad, when: x > 90}}
"""


@pytest.fixture(autouse=True)
def fresh_state(tmp_path, monkeypatch):
    """A private cache root, and no memory of earlier warnings in this process."""
    monkeypatch.setenv("REGIME_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv(cache.ENV_NO_CACHE, raising=False)
    monkeypatch.setattr(cachedir, "_off", {})
    monkeypatch.setattr(cachedir, "_warned", set())


@pytest.fixture
def loads(monkeypatch):
    """How many times a policy file was actually parsed and checked (a miss) so far."""
    count = [0]
    real = revisions.load_policy_text

    def counting(*args, **kwargs):
        count[0] += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(revisions, "load_policy_text", counting)
    return count


def load(ref, *dirs):
    return revisions.load_ref(str(ref), policy_path=[str(d) for d in dirs])[0]


def uncached(ref, *dirs):
    os.environ[cache.ENV_NO_CACHE] = "1"
    try:
        return load(ref, *dirs)
    finally:
        del os.environ[cache.ENV_NO_CACHE]


def entries(tmp_path) -> list[Path]:
    return sorted((tmp_path / "cache" / "policies").glob("*.json"))


# --- no code from the cache -----------------------------------------------------------------

class _Mark:
    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (Path.touch, (Path(self.path),))


def test_a_pickle_in_the_cache_runs_nothing(tmp_path, loads):
    """The issue's exploit: whatever is written where entries are is never unpickled."""
    policy = bundled_policies_dir() / "oversight2021.yaml"
    first = load(policy)
    mark = tmp_path / "ran"
    payload = pickle.dumps(_Mark(mark))
    old = tmp_path / "cache" / "checked"            # where the pickled cache used to be
    old.mkdir()
    for entry in entries(tmp_path) + [old / f"{first.policy.content_hash[:32]}.pickle"]:
        entry.write_bytes(payload)
    again = load(policy)
    assert not mark.exists()
    assert again == first == uncached(policy)
    assert loads[0] == 3           # the entry was a miss, and was written again as JSON
    assert json.loads(entries(tmp_path)[0].read_bytes().partition(b"\n")[0])["format"] == 1


def test_an_entry_naming_a_class_outside_the_allow_list_is_a_miss(tmp_path, loads):
    policy = bundled_policies_dir() / "oversight2021.yaml"
    first = load(policy)
    (entry,) = entries(tmp_path)
    head, _, body = entry.read_bytes().partition(b"\n")
    header = json.loads(head)
    for i, (name, fields) in enumerate(header["classes"]):
        if name.endswith(":Pos"):
            header["classes"][i] = ["subprocess:Popen", fields]
    entry.write_bytes(json.dumps(header).encode() + b"\n" + body)
    assert load(policy) == first
    assert loads[0] == 2


def _truncate(entry: Path) -> None:
    entry.write_bytes(entry.read_bytes()[:-200])


def _flip_a_body_byte(entry: Path) -> None:
    data = bytearray(entry.read_bytes())
    at = data.index(b"oversight2021", data.index(b"\n"))   # inside the body: valid JSON still
    data[at] = ord("O")
    entry.write_bytes(bytes(data))


def _other_engine(entry: Path) -> None:
    head, _, body = entry.read_bytes().partition(b"\n")
    header = json.loads(head)
    header["engine"] = "0" * 32
    entry.write_bytes(json.dumps(header).encode() + b"\n" + body)


def _empty(entry: Path) -> None:
    entry.write_bytes(b"")


def _a_folder(entry: Path) -> None:
    entry.unlink()
    (entry / "inside").mkdir(parents=True)


def _a_pipe(entry: Path) -> None:
    entry.unlink()
    os.mkfifo(entry)            # reading it would wait for a writer forever


@pytest.mark.parametrize("damage", [_truncate, _flip_a_body_byte, _other_engine, _empty,
                                    _a_folder, _a_pipe], ids=lambda f: f.__name__.strip("_"))
def test_a_damaged_entry_is_a_miss_and_is_rewritten(tmp_path, loads, damage, capsys,
                                                   deadline):
    policy = bundled_policies_dir() / "oversight2021.yaml"
    first = load(policy)
    (entry,) = entries(tmp_path)
    damage(entry)
    with deadline():
        assert load(policy) == first
    assert loads[0] == 2
    assert entry.is_file()
    assert load(policy) == first and loads[0] == 2      # rewritten: a hit again
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("name", sorted(p.stem for p in bundled_policies_dir().glob("*.yaml")))
def test_every_bundled_policy_comes_back_equal(name, loads):
    first = load(name)
    assert load(name) == first == uncached(name)
    assert loads[0] == 2           # the second load was a hit


# --- what the entry depends on --------------------------------------------------------------

def test_a_parent_created_earlier_in_the_search_is_used(tmp_path, loads):
    """The issue's case: A/child.yaml extends `parent`, found only on --policy-path B; then
    A/parent.yaml appears. It comes first in the lookup, so it is the parent now."""
    (tmp_path / "A").mkdir()
    (tmp_path / "B").mkdir()
    child = tmp_path / "A" / "child.yaml"
    child.write_text(CHILD, encoding="utf-8")
    (tmp_path / "B" / "parent.yaml").write_text(parent("From B"), encoding="utf-8")
    assert load(child, tmp_path / "B").policy.title == "From B"
    assert load(child, tmp_path / "B").policy.title == "From B" and loads[0] == 1

    (tmp_path / "A" / "parent.yml").write_text(parent("From A"), encoding="utf-8")
    now = load(child, tmp_path / "B")
    assert now.policy.title == "From A"
    assert now == uncached(child, tmp_path / "B")


def test_eval_sees_a_parent_created_earlier_in_the_search(tmp_path, monkeypatch):
    """The issue's case as a user meets it: the second eval used to be served B's parent
    from the cache (the key covered the files read, not the paths searched in vain)."""
    from click.testing import CliRunner

    from rulesengine.cli import cli

    for folder in ("A", "B"):
        (tmp_path / folder).mkdir()
    (tmp_path / "A" / "child.yaml").write_text(CHILD, encoding="utf-8")
    (tmp_path / "B" / "parent.yaml").write_text(parent("From B"), encoding="utf-8")
    (tmp_path / "d.csv").write_text("entity,period,x\nT1,2023-Q1,95\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)

    def files_read() -> list[str]:
        done = CliRunner().invoke(cli, ["eval", "--policy", "A/child.yaml", "--policy-path",
                                        "B", "--data", "d.csv", "--format", "json"])
        assert done.exit_code == 0, done.output
        return json.loads(done.stdout)["provenance"]["policy"]["files"]

    assert files_read() == ["A/child.yaml", "B/parent.yaml"]
    (tmp_path / "A" / "parent.yaml").write_text(parent("From A"), encoding="utf-8")
    assert files_read() == ["A/child.yaml", "A/parent.yaml"]


def test_a_parent_replaced_by_a_pipe_is_a_miss_not_a_wait(tmp_path, loads, deadline):
    """Checking that the files an entry was read from are unchanged reads them again: through
    the guarded read, so a pipe in a parent's place is a miss (then not found), not a hang."""
    child = tmp_path / "child.yaml"
    child.write_text(CHILD, encoding="utf-8")
    (tmp_path / "parent.yaml").write_text(parent("One"), encoding="utf-8")
    assert load(child).policy.title == "One"
    (tmp_path / "parent.yaml").unlink()
    os.mkfifo(tmp_path / "parent.yaml")
    with deadline():
        with pytest.raises(PolicyError) as info:
            load(child)
    assert "no policy named 'parent'" in info.value.diagnostics[0].message


def test_an_edited_parent_is_seen(tmp_path):
    child = tmp_path / "child.yaml"
    child.write_text(CHILD, encoding="utf-8")
    (tmp_path / "parent.yaml").write_text(parent("One"), encoding="utf-8")
    assert load(child).policy.title == "One"
    (tmp_path / "parent.yaml").write_text(parent("Two"), encoding="utf-8")
    assert load(child).policy.title == "Two"


def test_file_names_are_relative_to_the_folder_of_the_run_that_reads_the_entry(
        tmp_path, monkeypatch, loads):
    work = tmp_path / "work"
    (work / "sub").mkdir(parents=True)
    child = work / "sub" / "child.yaml"
    child.write_text(CHILD, encoding="utf-8")
    (work / "sub" / "parent.yaml").write_text(parent("P"), encoding="utf-8")
    (work / "sub" / "other").mkdir()

    monkeypatch.chdir(work)
    first = load(Path("sub/child.yaml"))
    assert first.policy.files == ("sub/child.yaml", "sub/parent.yaml")

    monkeypatch.chdir(work / "sub" / "other")
    hit = load(Path("../child.yaml"))
    assert loads[0] == 1                            # from the cache, written in another folder
    assert hit.policy.files == (str(child), str(work / "sub" / "parent.yaml"))
    assert hit == uncached(Path("../child.yaml"))
    assert {r.origin.file for r in hit.policy.rules} == set(hit.policy.files)


# --- the folder -----------------------------------------------------------------------------

def test_folders_are_created_private(tmp_path):
    load(bundled_policies_dir() / "oversight2021.yaml")
    for folder in (tmp_path / "cache", tmp_path / "cache" / "policies"):
        assert folder.stat().st_mode & 0o777 == 0o700
    assert all(e.stat().st_mode & 0o077 == 0 for e in entries(tmp_path))


def test_a_folder_others_can_write_is_refused_once(tmp_path, loads, capsys):
    policy = bundled_policies_dir() / "oversight2021.yaml"
    folder = tmp_path / "cache"
    folder.mkdir(mode=0o700)
    folder.chmod(0o777)
    first = load(policy)
    second = load(policy)
    assert first == second == uncached(policy)
    assert loads[0] == 3 and not (folder / "policies").exists()
    err = capsys.readouterr().err
    assert err == (f"regime: warning: caching is off for this run: {folder} can be written "
                   "by other users (mode 777) (set REGIME_CACHE_DIR to a folder only you can "
                   "write to)\n")


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0,
                    reason="giving a folder to another user needs root")
def test_a_folder_owned_by_someone_else_is_refused(tmp_path, loads, capsys):
    policy = bundled_policies_dir() / "oversight2021.yaml"
    first = load(policy)
    folder = tmp_path / "cache" / "policies"
    for p in [folder, *folder.iterdir()]:
        os.chown(p, 65534, 65534)
    assert load(policy) == first and loads[0] == 2
    assert "belongs to another user (uid 65534)" in capsys.readouterr().err


def test_a_parent_folder_others_can_replace_is_refused(tmp_path, capsys, monkeypatch):
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)                   # not sticky: anyone could rename our folder away
    monkeypatch.setenv("REGIME_CACHE_DIR", str(shared / "mine"))
    load(bundled_policies_dir() / "oversight2021.yaml")
    assert "(above the cache) can be written by other users" in capsys.readouterr().err
    shutil.rmtree(shared)
