"""Policies at git revisions: `POLICY@REV` resolves and reads what the policy extends at the
same revision (never the working tree), and revisions that contain '@' themselves
(`HEAD@{0}`) split at the right '@'."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from rulesengine.pipeline.revisions import load_ref, split_ref

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")

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


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.org", *args],
                   cwd=repo, check=True, capture_output=True)


@pytest.fixture
def repo(tmp_path, monkeypatch):
    monkeypatch.setenv("REGIME_CACHE_DIR", str(tmp_path / "cache"))
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q")
    (root / "child.yaml").write_text(CHILD, encoding="utf-8")
    (root / "parent.yaml").write_text(parent("Committed"), encoding="utf-8")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "one")
    return root


def test_the_parent_is_read_at_the_revision(repo):
    (repo / "parent.yaml").write_text(parent("Edited"), encoding="utf-8")
    at_head = load_ref(f"{repo / 'child.yaml'}@HEAD")[0].policy
    assert at_head.title == "Committed"
    assert at_head.files == (f"{repo / 'child.yaml'}@HEAD", f"{repo / 'parent.yaml'}@HEAD")
    assert load_ref(str(repo / "child.yaml"))[0].policy.title == "Edited"


def test_the_parent_is_looked_up_at_the_revision(repo, tmp_path):
    """Deleted from the working tree, the parent is still beside the child at HEAD; a
    `parent` on the search path must not be picked instead."""
    (repo / "parent.yaml").unlink()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "parent.yaml").write_text(parent("Elsewhere"), encoding="utf-8")
    checked = load_ref(f"{repo / 'child.yaml'}@HEAD", policy_path=[str(elsewhere)])[0]
    assert checked.policy.title == "Committed"


def test_a_parent_added_since_the_revision_is_not_seen_at_it(repo, tmp_path):
    """At HEAD~1 there was no parent beside the child, so the search path's one was meant."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "parent.yaml").write_text(parent("Elsewhere"), encoding="utf-8")
    git(repo, "rm", "-q", "parent.yaml")
    git(repo, "commit", "-q", "-m", "two")
    (repo / "parent.yaml").write_text(parent("New"), encoding="utf-8")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "three")
    checked = load_ref(f"{repo / 'child.yaml'}@HEAD~1", policy_path=[str(elsewhere)])[0]
    assert checked.policy.title == "Elsewhere"
    assert load_ref(f"{repo / 'child.yaml'}@HEAD", policy_path=[str(elsewhere)])[0] \
        .policy.title == "New"


def test_a_revision_with_an_at_sign(repo):
    checked, rev = load_ref(f"{repo / 'child.yaml'}@HEAD@{{0}}")
    assert rev == "HEAD@{0}" and checked.policy.title == "Committed"


def test_split_ref():
    assert split_ref("oversight2021@HEAD@{0}", lambda n: n == "oversight2021") == \
        ("oversight2021", "HEAD@{0}")
    assert split_ref("oversight2021@HEAD@{0}") == ("oversight2021", "HEAD@{0}")
    assert split_ref("oversight2021@main@{yesterday}") == ("oversight2021", "main@{yesterday}")
    assert split_ref("oversight2021@HEAD~1") == ("oversight2021", "HEAD~1")
    assert split_ref("oversight2021") == ("oversight2021", None)


def test_a_path_with_an_at_sign(tmp_path):
    folder = tmp_path / "team@nhs"
    folder.mkdir()
    (folder / "p.yaml").write_text(parent("x"), encoding="utf-8")
    ref = f"{folder / 'p.yaml'}@HEAD@{{1}}"
    assert split_ref(ref) == (str(folder / "p.yaml"), "HEAD@{1}")
    assert split_ref(str(folder / "p.yaml")) == (str(folder / "p.yaml"), None)
