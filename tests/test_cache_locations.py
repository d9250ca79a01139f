"""Every problem with where the caches live means: evaluate correctly without the cache, and
say once, on stderr, that caching is off and why. Never a traceback.

The location problems are tried in this process (cheap: what they change is which folder is
used), and a few through the command line as a user meets them."""

from __future__ import annotations

import os
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from rulesengine import cachedir
from rulesengine.compile import cache as kernel_cache
from rulesengine.compile import numba_cache
from rulesengine.pipeline import cache as policy_cache
from rulesengine.policy.load import bundled_policies_dir
from rulesengine.pipeline.revisions import load_ref

ROOT = Path(__file__).resolve().parents[1]
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0

POLICY = """\
policy: tiny
entity: trust
period: quarter
levels: [{id: ok}, {id: bad}]
default: ok
inputs:
  sickness_absence_pct: {type: percent, better: lower}
rules:
  - {id: high, level: bad, when: sickness_absence_pct > 5}
"""


@pytest.fixture(autouse=True)
def fresh_state(monkeypatch):
    monkeypatch.setattr(cachedir, "_off", {})
    monkeypatch.setattr(cachedir, "_warned", set())
    monkeypatch.delenv(policy_cache.ENV_NO_CACHE, raising=False)


def a_file(tmp: Path) -> tuple[str, str]:
    (tmp / "f").write_text("not a folder")
    return str(tmp / "f"), f"{tmp / 'f'} is not a folder"


def under_a_file(tmp: Path) -> tuple[str, str]:
    (tmp / "f").write_text("not a folder")
    return str(tmp / "f" / "cache"), f"{tmp / 'f'} is not a folder"


def dev_full(tmp: Path) -> tuple[str, str]:
    return "/dev/full", "/dev/full is not a folder"


def others_can_write(tmp: Path) -> tuple[str, str]:
    (tmp / "c").mkdir()
    (tmp / "c").chmod(0o777)
    return str(tmp / "c"), f"{tmp / 'c'} can be written by other users (mode 777)"


def a_cache_folder_replaced_by_a_file(tmp: Path) -> tuple[str, str]:
    (tmp / "c").mkdir(mode=0o700)
    (tmp / "c" / "policies").write_text("")
    return str(tmp / "c"), f"{tmp / 'c' / 'policies'} is not a folder"


def owned_by_someone_else(tmp: Path) -> tuple[str, str]:
    if not IS_ROOT:
        pytest.skip("giving a folder to another user needs root")
    (tmp / "c").mkdir(mode=0o700)
    os.chown(tmp / "c", 65534, 65534)
    return str(tmp / "c"), f"{tmp / 'c'} belongs to another user (uid 65534)"


def not_writable(tmp: Path) -> tuple[str, str]:
    if IS_ROOT:
        pytest.skip("root may write to any folder")
    (tmp / "ro").mkdir()
    (tmp / "ro").chmod(0o500)
    return str(tmp / "ro" / "cache"), f"cannot use {tmp / 'ro' / 'cache'}: Permission denied"


PROBLEMS = [a_file, under_a_file, dev_full, others_can_write, a_cache_folder_replaced_by_a_file,
            owned_by_someone_else, not_writable]


@pytest.mark.parametrize("problem", PROBLEMS, ids=lambda f: f.__name__)
def test_a_bad_location_turns_caching_off_with_one_warning(problem, tmp_path, monkeypatch,
                                                          capsys):
    where, why = problem(tmp_path)
    monkeypatch.setenv("REGIME_CACHE_DIR", where)
    policy = bundled_policies_dir() / "oversight2021.yaml"
    first = load_ref(str(policy))[0]
    assert cachedir.folder("kernels") is None and cachedir.folder("numba") is None
    assert kernel_cache.cache_dir().parent == cachedir.scratch()
    assert load_ref(str(policy))[0] == first
    monkeypatch.setenv(policy_cache.ENV_NO_CACHE, "1")
    assert load_ref(str(policy))[0] == first
    err = capsys.readouterr().err
    assert err == (f"regime: warning: caching is off for this run: {why} (set "
                   "REGIME_CACHE_DIR to a folder only you can write to)\n")
    os.chmod(tmp_path, 0o700)
    for p in tmp_path.iterdir():
        if p.is_dir():
            p.chmod(0o700)


def test_numba_cache_dir_others_can_write_is_not_used(tmp_path, monkeypatch, capsys):
    shared = tmp_path / "numba"
    shared.mkdir()
    shared.chmod(0o777)
    monkeypatch.setattr(numba_cache.numba_config, "CACHE_DIR", str(shared))
    monkeypatch.setenv("REGIME_CACHE_DIR", str(tmp_path / "cache"))
    numba_cache.library_folder.cache_clear()
    try:
        library = str(ROOT / "rulesengine" / "compile" / "library.py")
        folder = Path(numba_cache.library_folder(library))
    finally:
        numba_cache.library_folder.cache_clear()
    assert shared not in folder.parents
    assert capsys.readouterr().err == (
        f"regime: warning: numba's cache folder is not used for regime's kernels: {shared} can "
        "be written by other users (mode 777)\n")


# --- as a user meets them -------------------------------------------------------------------

def run(args: list[str], env: dict, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", "from rulesengine.cli import main; main()",
                           *args], env=env, cwd=cwd, capture_output=True, text=True,
                          timeout=600)


def test_eval_with_a_file_as_the_cache(tmp_path):
    policy = tmp_path / "tiny.yaml"
    policy.write_text(POLICY, encoding="utf-8")
    (tmp_path / "f").write_text("")
    env = dict(os.environ, PYTHONPATH=str(ROOT), REGIME_CACHE_DIR=str(tmp_path / "f"))
    done = run(["eval", "--policy", str(policy), "--engine", "fused"], env)
    reference = run(["eval", "--policy", str(policy), "--engine", "reference"], env)
    assert done.returncode == 0, done.stderr
    assert done.stderr == (f"regime: warning: caching is off for this run: {tmp_path / 'f'} is "
                           "not a folder (set REGIME_CACHE_DIR to a folder only you can write "
                           "to)\n")
    assert done.stdout == reference.stdout.replace("(reference)", "(fused)")
    assert (tmp_path / "f").read_text() == ""


def test_eval_with_no_writable_home_and_a_read_only_install(tmp_path):
    """numba used to stop with "cannot cache function ...: no locator available": nowhere to
    put the library kernels' machine code. Now they compile in a private scratch folder."""
    install = tmp_path / "install"
    shutil.copytree(ROOT / "rulesengine", install / "rulesengine",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "policies", install / "policies")
    (install / "rulesengine" / "compile" / "__pycache__").write_text("")  # no in-tree cache
    policy = tmp_path / "tiny.yaml"
    policy.write_text(POLICY, encoding="utf-8")
    env = {k: v for k, v in os.environ.items()
           if k not in ("REGIME_CACHE_DIR", "XDG_CACHE_HOME", "NUMBA_CACHE_DIR")}
    env.update(PYTHONPATH=str(install), HOME="/dev/null", PYTHONDONTWRITEBYTECODE="1")
    done = run(["eval", "--policy", str(policy), "--engine", "fused"], env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ("regime: warning: caching is off for this run: /dev/null is not a "
                           "folder (set REGIME_CACHE_DIR to a folder only you can write to)\n")
    assert "bad" in done.stdout or "ok" in done.stdout


# --- the caches' contents, as the issue's attacker meets them -------------------------------
# One cold run fills a cache; each test damages a copy of it and runs again. The fused engine
# is the one that compiles, so both the checked-policy cache and the kernel cache (with
# numba's pickled machine code) are filled.

ENGINE = ["--engine", "fused"]


@pytest.fixture(scope="module")
def filled(tmp_path_factory):
    """A cache root filled by one run (created by regime: no folder there before), with that
    run's output."""
    base = tmp_path_factory.mktemp("filled")
    policy = base / "tiny.yaml"
    policy.write_text(POLICY, encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=str(ROOT), REGIME_CACHE_DIR=str(base / "cache"))
    done = run(["eval", "--policy", str(policy), *ENGINE], env)
    assert done.returncode == 0 and done.stderr == "", done.stderr
    return base, policy, done.stdout


def again(filled, tmp_path, engine=ENGINE):
    """A copy of the filled cache, and a function running the same command on it again."""
    base, policy, _ = filled
    root = tmp_path / "cache"
    shutil.copytree(base / "cache", root, symlinks=True)
    return root, lambda: run(["eval", "--policy", str(policy), *engine],
                             dict(os.environ, PYTHONPATH=str(ROOT),
                                  REGIME_CACHE_DIR=str(root)))


def cache_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def test_every_folder_and_entry_is_private(filled):
    root = filled[0] / "cache"
    folders = [root, *(p for p in root.rglob("*") if p.is_dir())]
    assert len(cache_files(root)) >= 2          # a checked policy, a kernel and its code
    assert {oct(p.stat().st_mode & 0o777) for p in folders} == {oct(0o700)}
    assert {oct(p.stat().st_mode & 0o077) for p in cache_files(root)} == {oct(0)}


class _Mark:
    def __init__(self, path: Path):
        self.path = str(path)

    def __reduce__(self):
        return (os.mkdir, (self.path,))


def test_pickles_written_over_every_entry_run_nothing(filled, tmp_path):
    """The issue's exploit, on every file of both caches: nothing is unpickled, the run
    succeeds with the same output, and says nothing (a damaged entry is a miss)."""
    root, rerun = again(filled, tmp_path)
    mark = tmp_path / "ran"
    for p in cache_files(root):
        p.write_bytes(pickle.dumps(_Mark(mark)))
    done = rerun()
    assert not mark.exists()
    assert done.returncode == 0 and done.stderr == "", done.stderr
    assert done.stdout == filled[2]


@pytest.mark.parametrize("replacement", ["folder", "pipe"])
def test_entries_replaced_by_folders_or_pipes_are_misses(filled, tmp_path, replacement):
    """A folder once raised IsADirectoryError; a pipe would block the read for ever."""
    root, rerun = again(filled, tmp_path)
    for p in cache_files(root):
        p.unlink()
        if replacement == "folder":
            (p / "inside").mkdir(parents=True)
        else:
            os.mkfifo(p)
    done = rerun()
    assert done.returncode == 0 and done.stderr == "", done.stderr
    assert done.stdout == filled[2]
    assert all(p.is_file() for p in root.glob("policies/*.json")) and cache_files(root)


def test_a_cache_others_can_write_is_not_used(filled, tmp_path):
    # The folder check is the same for every cache: the default engine (nothing to compile
    # for so small a run) is enough, and spares a compile with the cache off.
    root, rerun = again(filled, tmp_path, engine=[])
    before = {p: p.read_bytes() for p in cache_files(root)}
    root.chmod(0o777)
    done = rerun()
    assert done.returncode == 0, done.stderr
    assert done.stderr == (f"regime: warning: caching is off for this run: {root} can be "
                           "written by other users (mode 777) (set REGIME_CACHE_DIR to a "
                           "folder only you can write to)\n")
    assert done.stdout.replace("(vectorised)", "(fused)") == filled[2]
    assert {p: p.read_bytes() for p in cache_files(root)} == before


def test_a_data_cache_manifest_replaced_by_a_pipe_is_a_miss(tmp_path, monkeypatch, deadline):
    """The data cache's entries are read as every cache's are: a pipe would block the read."""
    from rulesengine.data.cache import MANIFEST
    from rulesengine.data.sample import sample_panel

    monkeypatch.setenv("REGIME_CACHE_DIR", str(tmp_path / "cache"))
    first = sample_panel()
    (manifest,) = (tmp_path / "cache" / "data").glob(f"*/{MANIFEST}")
    manifest.unlink()
    os.mkfifo(manifest)
    with deadline():
        again = sample_panel()
    assert again.digest() == first.digest()
