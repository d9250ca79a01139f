"""Finding policies (search path, ids and paths), reading files safely, and `extends`:
params, inputs, defines and scales merged by key; rules replaced by id in place, appended or
removed; levels replaced; every item remembering the file it came from."""

from __future__ import annotations

from pathlib import Path

import pytest

from rulesengine.diagnostics import PolicyError
from rulesengine.check.checker import check
from rulesengine.policy.document import MAX_POLICY_BYTES
from rulesengine.policy.load import (ENV_POLICY_PATH, bundled_policies_dir, find_policy,
                                     list_policies, read_policy, search_path)

PARENT = """\
policy: parent
title: Parent framework
version: "1"
entity: trust
period: quarter
levels:
  - {id: segment_1}
  - {id: segment_2}
  - {id: segment_3}
default: segment_2
scales:
  cqc: [good, bad]
params:
  limit: "90%"
  window: 3
inputs:
  ae: {type: percent, better: higher}
  breach: {type: flag}
define:
  poor: ae < limit
rules:
  - {id: a, level: segment_3, when: poor}
  - {id: b, level: segment_3, when: breach}
  - {id: c, level: segment_1, when: ae > 99%}
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def error_messages(call) -> list[str]:
    with pytest.raises(PolicyError) as info:
        call()
    return [d.message for d in info.value.diagnostics]


# --- finding policies -----------------------------------------------------------------------

def test_search_path_order(tmp_path, monkeypatch):
    monkeypatch.setenv(ENV_POLICY_PATH, f"{tmp_path / 'e1'}:{tmp_path / 'e2'}")
    assert search_path([tmp_path / "cli"]) == [tmp_path / "cli", tmp_path / "e1",
                                               tmp_path / "e2", bundled_policies_dir()]
    monkeypatch.delenv(ENV_POLICY_PATH)
    assert search_path() == [bundled_policies_dir()]


def test_find_policy_by_id_first_folder_wins(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    write(tmp_path / "b", "sof.yml", PARENT)
    first = write(tmp_path / "a", "sof.yaml", PARENT)
    assert find_policy("sof", [tmp_path / "a", tmp_path / "b"]) == first
    assert find_policy("sof", [tmp_path / "b", tmp_path / "a"]) == tmp_path / "b" / "sof.yml"


def test_find_policy_errors_suggest(tmp_path):
    write(tmp_path, "oversight2021.yaml", PARENT)
    assert error_messages(lambda: find_policy("oversight2012", [tmp_path])) == [
        f"no policy named 'oversight2012' (looked in {tmp_path}); did you mean "
        "'oversight2021'?"]
    assert error_messages(lambda: find_policy(str(tmp_path / "oversite2021.yaml"), [])) == [
        f"no policy file at '{tmp_path / 'oversite2021.yaml'}'; did you mean "
        f"'{tmp_path / 'oversight2021.yaml'}'?"]
    # names the OS refuses outright are simply not found
    assert error_messages(lambda: find_policy("x" * 5000 + ".yaml", [])) == [
        f"no policy file at '{'x' * 5000}.yaml'"]
    assert error_messages(lambda: find_policy("a\0.yaml", [tmp_path]))[0].startswith(
        "no policy file at")


def test_list_policies(tmp_path):
    write(tmp_path, "b.yaml", PARENT.replace("policy: parent", "policy: bee"))
    write(tmp_path, "a.yaml", "not: [valid")
    write(tmp_path, ".hidden.yaml", PARENT)
    write(tmp_path, "notes.txt", "x")
    infos = list_policies([tmp_path])
    assert [(i.id, i.title, i.version, i.path.name) for i in infos] == [
        ("a", "", "", "a.yaml"), ("bee", "Parent framework", "1", "b.yaml")]


def test_unreadable_files_are_refused_with_a_position(tmp_path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes("policy: x\ntitle: caf\xe9\n".encode("latin-1"))
    with pytest.raises(PolicyError) as info:
        read_policy(path, dirs=[])
    (d,) = info.value.diagnostics
    assert (d.pos.line, d.pos.col) == (2, 11)
    assert d.message == "the file is not UTF-8 text (invalid continuation byte at byte 20)"
    big = tmp_path / "big.yaml"
    big.write_bytes(b"a: " + b"x" * MAX_POLICY_BYTES)
    assert error_messages(lambda: read_policy(big, dirs=[])) == [
        f"policy file too large ({MAX_POLICY_BYTES + 3:,} bytes; the limit is "
        f"{MAX_POLICY_BYTES:,})"]
    assert error_messages(lambda: read_policy(tmp_path / "gone.yaml", dirs=[])) == [
        "cannot read the file: No such file or directory"]


# --- extends --------------------------------------------------------------------------------

@pytest.fixture
def family(tmp_path):
    write(tmp_path, "parent.yaml", PARENT)
    return tmp_path


def child(folder: Path, body: str, name: str = "child.yaml"):
    return read_policy(write(folder, name, "policy: child\nextends: parent\n" + body), dirs=[])


def test_extends_merges_items_by_key(family):
    p = child(family, """\
params:
  limit: "80%"
  extra: 2
inputs:
  ae: {type: percent, better: lower}
  rtt: {type: percent, better: higher}
define:
  poor: ae < limit and not breach
scales:
  ofsted: [good_school, bad_school]
""")
    assert p.params["limit"].value == 80.0 and p.params["window"].value == 3.0
    assert list(p.params) == ["limit", "window", "extra"]
    assert p.inputs["ae"].better == "lower" and "rtt" in p.inputs and "breach" in p.inputs
    assert p.defines["poor"].text == "ae < limit and not breach"
    assert set(p.scales) == {"cqc", "ofsted"}
    # each item knows its file
    assert p.params["limit"].origin.file.endswith("child.yaml")
    assert p.params["window"].origin.file.endswith("parent.yaml")
    # the rest is inherited
    assert (p.title, p.version, p.entity, p.period, p.default) == (
        "Parent framework", "1", ("trust",), "quarter", "segment_2")
    assert [lv.id for lv in p.levels] == ["segment_1", "segment_2", "segment_3"]
    assert p.files[0].endswith("child.yaml") and p.files[1].endswith("parent.yaml")
    assert p.extends == "parent"


def test_extends_rules_are_replaced_in_place_appended_and_removed(family):
    p = child(family, """\
rules:
  - {id: d, level: segment_3, when: ae < 50%}
  - {id: b, level: segment_2, when: breach and poor}
  - {id: c, remove: true}
""")
    assert [r.id for r in p.rules] == ["a", "b", "d"]
    assert p.rule("b").level == "segment_2"
    assert p.rule("b").origin.file.endswith("child.yaml")
    assert p.rule("a").origin.file.endswith("parent.yaml")
    check(p)


def test_extends_levels_are_replaced_whole(family):
    p = child(family, """\
levels:
  - {id: green}
  - {id: red}
default: green
rules:
  - {id: a, level: red, when: poor}
  - {id: b, level: red, when: breach}
  - {id: c, remove: true}
""")
    assert [lv.id for lv in p.levels] == ["green", "red"]
    assert p.default == "green"
    assert [d.message for d in check(p).warnings] == ["param 'window' is never used by a rule"]


def test_extends_chains_and_hashes(family):
    write(family, "mid.yaml", "policy: mid\nextends: parent\nparams:\n  window: 4\n")
    p = read_policy(write(family, "leaf.yaml", "policy: leaf\nextends: mid.yaml\n"), dirs=[])
    assert p.params["window"].value == 4.0
    assert [Path(f).name for f in p.files] == ["leaf.yaml", "mid.yaml", "parent.yaml"]
    before = p.content_hash
    write(family, "parent.yaml", PARENT.replace('version: "1"', 'version: "2"'))
    after = read_policy(family / "leaf.yaml", dirs=[]).content_hash
    assert before != after        # a change anywhere in the chain changes the hash


def test_extends_looks_beside_the_file_before_the_search_path(tmp_path):
    (tmp_path / "elsewhere").mkdir()
    write(tmp_path / "elsewhere", "parent.yaml", PARENT.replace("Parent framework", "Other"))
    write(tmp_path, "parent.yaml", PARENT)
    p = read_policy(write(tmp_path, "child.yaml", "policy: child\nextends: parent\n"),
                    dirs=[tmp_path / "elsewhere"])
    assert p.title == "Parent framework"


def test_extends_problems(family):
    with pytest.raises(PolicyError) as info:
        read_policy(write(family, "orphan.yaml", "policy: o\nextends: nowhere\n"), dirs=[])
    (d,) = info.value.diagnostics
    assert d.message == f"extends: no policy named 'nowhere' (looked in {family})"
    assert (d.pos.line, d.pos.col, d.pos.end_col) == (2, 10, 17)

    x = write(family, "x.yaml", "policy: x\nextends: y.yaml\n").resolve()
    y = write(family, "y.yaml", "policy: y\nextends: x.yaml\n").resolve()
    assert error_messages(lambda: read_policy(x, dirs=[])) == [
        f"extends makes a cycle: {x} -> {y} -> {x}",
        "the policy this one extends ('y.yaml') has errors"]
    assert error_messages(lambda: read_policy(
        write(family, "self.yaml", "policy: s\nextends: self.yaml\n"), dirs=[])) == [
        f"extends makes a cycle: {(family / 'self.yaml').resolve()} -> "
        f"{(family / 'self.yaml').resolve()}"]

    assert error_messages(lambda: child(family, "rules:\n  - {id: bb, remove: true}\n")) == [
        "cannot remove rule 'bb': the policy it extends has no such rule; did you mean 'b'?"]


def test_duplicate_rule_ids_in_one_file_are_reported_by_the_checker(family):
    p = child(family, """\
rules:
  - {id: b, level: segment_2, when: breach}
  - {id: b, level: segment_3, when: poor}
""")
    assert [r.id for r in p.rules] == ["a", "b", "c", "b"]
    assert error_messages(lambda: check(p)) == ["duplicate rule id 'b' (first at line 4)"]
