"""The on-disk kernel cache (design.md §6): a second process loads the compiled kernel instead
of compiling it, the cache lives where $REGIME_CACHE_DIR says, a corrupted entry is rebuilt
rather than fatal, and two processes compiling the same new policy at once both succeed.

Each scenario runs cache_worker.py in fresh processes, which report numba's own cache
statistics for the kernel (hits: loaded from disk; misses: compiled and saved)."""

from __future__ import annotations

import json
import os
import pickle
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import numpy as np
import pytest

from rulesengine import cachedir
from rulesengine.compile import cache
from rulesengine.compile.kernel import compile_policy, evaluate_compiled
from rulesengine.data.panel import Entities
from rulesengine.engine.layout import make_layout
from rulesengine.engine.params import resolve_params
from rulesengine.engine.reference import evaluate_reference
from rulesengine.check.checker import check
from rulesengine.policy.load import load_policy_text

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
WORKER = HERE / "cache_worker.py"


def new_policy(folder: Path) -> Path:
    """A policy no cache has seen: its threshold is unique, so its kernel source is too."""
    threshold = 20 + (uuid.uuid4().int % 10_000) / 1000
    text = f"""\
policy: cache_probe
entity: trust
period: quarter
levels: [{{id: ok}}, {{id: watch}}, {{id: bad}}]
default: ok
inputs:
  x: {{type: percent, better: higher}}
  y: {{type: percent, better: lower}}
rules:
  - {{id: low, level: watch, when: "pct_rank(x) <= 25 or y > {threshold}"}}
  - {{id: sustained_low, level: bad, when: "sustained(x < {threshold}, 2)"}}
"""
    path = folder / "policy.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def worker(policy: Path, cache_dir: Path, *extra: str, start: bool = True):
    env = dict(os.environ, REGIME_CACHE_DIR=str(cache_dir),
               PYTHONPATH=os.pathsep.join([str(ROOT)] + [p for p in [os.environ.get(
                   "PYTHONPATH")] if p]))
    proc = subprocess.Popen([sys.executable, str(WORKER), str(policy), *extra], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return proc if not start else finish(proc)


def finish(proc) -> dict:
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err
    return dict(json.loads(out.strip().splitlines()[-1]), stderr=err)


def test_a_second_process_loads_the_kernel_from_disk(tmp_path):
    policy = new_policy(tmp_path)
    first = worker(policy, tmp_path / "kernels")
    second = worker(policy, tmp_path / "kernels")

    assert first["equal"] and second["equal"]
    assert first["levels"] == second["levels"]
    assert first["misses"] >= 1 and first["hits"] == 0          # compiled, and saved
    assert second["hits"] >= 1 and second["misses"] == 0        # loaded, not compiled
    assert second["seconds"] < first["seconds"]
    folder = Path(first["folder"])
    assert folder.parent == tmp_path / "kernels" / "kernels"
    assert first["folder"] == second["folder"]
    assert (folder / "kernel.py").is_file()
    assert list(folder.glob("__pycache__/*.nbi")) and list(folder.glob("__pycache__/*.nbc"))


# --- where the cache lives ------------------------------------------------------------------

def test_cache_dir_follows_the_environment(monkeypatch, tmp_path):
    """One root for every cache, each cache in its own folder under it (the checked-policy
    cache is no longer inside the kernels' folder)."""
    monkeypatch.setenv("REGIME_CACHE_DIR", str(tmp_path / "mine"))
    assert cachedir.root() == tmp_path / "mine"
    assert cache.cache_dir() == tmp_path / "mine" / "kernels"
    assert cachedir.folder("policies") == tmp_path / "mine" / "policies"
    assert (tmp_path / "mine").stat().st_mode & 0o777 == 0o700
    monkeypatch.delenv("REGIME_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cachedir.root() == tmp_path / "xdg" / "regime"
    assert cache.cache_dir() == tmp_path / "xdg" / "regime" / "kernels"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cachedir.root() == tmp_path / "home" / ".cache" / "regime"


def test_kernels_are_written_under_regime_cache_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("REGIME_CACHE_DIR", str(tmp_path / "here"))
    policy = new_policy(tmp_path)
    checked = check(load_policy_text(policy.read_text(encoding="utf-8"), policy))
    ents = Entities(("T0", "T1"), ("a", "b"), ("trust",) * 2, ("acute",) * 2, ("",) * 2,
                    ("",) * 2)
    inputs = {"x": np.array([[10.0, 30.0]]), "y": np.array([[np.nan, 90.0]])}
    layout = make_layout(checked, ents, inputs,
                         resolve_params(checked.policy, "quarter", 2021 * 4, 1), 1)
    assert evaluate_compiled(checked, layout).equal(evaluate_reference(checked, layout))
    key = cache.kernel_key(compile_policy(checked).generated.source)
    assert [p.name for p in (tmp_path / "here" / "kernels").iterdir()] == [key]
    assert (tmp_path / "here" / "kernels" / key / "kernel.py").read_text(encoding="utf-8") == \
        compile_policy(checked).generated.source


def test_the_key_follows_the_source_and_the_library():
    a = cache.kernel_key("def kernel(): pass\n")
    assert a == cache.kernel_key("def kernel(): pass\n")
    assert a != cache.kernel_key("def kernel():  pass\n")
    assert len(a) == 32 and all(c in "0123456789abcdef" for c in a)


# --- corrupted entries ----------------------------------------------------------------------

def _files(folder: Path):
    return [p for p in folder.rglob("*") if p.is_file() and p.name != ".lock"]


def truncate(folder: Path) -> None:
    for p in _files(folder):
        data = p.read_bytes()
        p.write_bytes(data[:len(data) // 2])


def garble(folder: Path) -> None:
    rng = np.random.default_rng(0)
    for p in _files(folder):
        size = max(p.stat().st_size, 16)
        p.write_bytes(b"\xff\xfe" + rng.integers(0, 256, size, dtype=np.uint8).tobytes())


def empty_index(folder: Path) -> None:
    for p in folder.glob("__pycache__/*.nbi"):
        p.write_bytes(b"")


def garble_code(folder: Path) -> None:
    for p in folder.glob("__pycache__/*.nbc"):
        data = bytearray(p.read_bytes())
        for k in range(0, len(data), 7):
            data[k] ^= 0x5A
        p.write_bytes(bytes(data))


@pytest.mark.parametrize("damage", [truncate, garble, empty_index, garble_code],
                         ids=lambda f: f.__name__)
def test_a_corrupted_entry_is_rebuilt(tmp_path, damage):
    policy = new_policy(tmp_path)
    first = worker(policy, tmp_path / "kernels")
    folder = Path(first["folder"])
    assert _files(folder)
    damage(folder)

    rebuilt = worker(policy, tmp_path / "kernels")
    assert rebuilt["equal"] and rebuilt["levels"] == first["levels"]
    assert rebuilt["misses"] >= 1             # compiled again: the machine code was unusable
    again = worker(policy, tmp_path / "kernels")
    assert again["equal"] and again["hits"] >= 1 and again["misses"] == 0


def _replace_by_folder(path: Path) -> None:
    path.unlink()
    (path / "inside").mkdir(parents=True)


def test_parts_of_an_entry_replaced_by_folders(tmp_path):
    """The source, numba's index and the lock file each turned into a folder: the entry is
    repaired, with no warning (the cache's location is fine)."""
    policy = new_policy(tmp_path)
    first = worker(policy, tmp_path / "kernels")
    folder = Path(first["folder"])
    for path in [folder / "kernel.py", folder / ".lock", *folder.glob("__pycache__/*.nbi")]:
        _replace_by_folder(path)
    again = worker(policy, tmp_path / "kernels")
    assert again["equal"] and again["levels"] == first["levels"] and again["stderr"] == ""
    third = worker(policy, tmp_path / "kernels")
    assert third["hits"] >= 1 and third["misses"] == 0


def test_an_entry_replaced_by_a_file(tmp_path):
    policy = new_policy(tmp_path)
    first = worker(policy, tmp_path / "kernels")
    folder = Path(first["folder"])
    shutil.rmtree(folder)
    folder.write_text("")
    again = worker(policy, tmp_path / "kernels")
    assert again["equal"] and again["levels"] == first["levels"] and again["stderr"] == ""
    assert (folder / "kernel.py").is_file()


class _Touch:
    def __init__(self, path: Path):
        self.path = str(path)

    def __reduce__(self):
        return (os.mkdir, (self.path,))


def test_numba_files_are_only_loaded_when_verified(tmp_path):
    """numba's cache files are pickles: one the kernel cache did not write (no digest, or a
    digest that does not match) is never handed to numba."""
    policy = new_policy(tmp_path)
    first = worker(policy, tmp_path / "kernels")
    folder = Path(first["folder"])
    mark = tmp_path / "ran"
    stored = sorted(folder.glob("__pycache__/*.nb[ic]"))
    assert stored and all(p.read_bytes().startswith(b"regime-sha256:") for p in stored)
    for p in stored:
        p.write_bytes(pickle.dumps(_Touch(mark)))
    again = worker(policy, tmp_path / "kernels")
    assert not mark.exists()
    assert again["equal"] and again["levels"] == first["levels"] and again["misses"] >= 1
    for p in sorted(folder.glob("__pycache__/*.nb[ic]")):          # a digest of other bytes
        head, _, payload = p.read_bytes().partition(b"\n")
        p.write_bytes(head + b"\n" + pickle.dumps(_Touch(mark)))
    third = worker(policy, tmp_path / "kernels")
    assert not mark.exists() and third["equal"] and third["misses"] >= 1


def test_a_lost_source_is_rewritten(tmp_path):
    """numba stamps its cache with a hash of the source, so the rewritten file (the same
    text) still matches the machine code beside it."""
    policy = new_policy(tmp_path)
    first = worker(policy, tmp_path / "kernels")
    source = Path(first["folder"]) / "kernel.py"
    text = source.read_text(encoding="utf-8")
    source.unlink()
    again = worker(policy, tmp_path / "kernels")
    assert again["equal"] and again["levels"] == first["levels"]
    assert source.read_text(encoding="utf-8") == text
    assert again["hits"] >= 1 and again["misses"] == 0


# --- two processes at once ------------------------------------------------------------------

def test_two_processes_compiling_the_same_new_policy_both_succeed(tmp_path):
    policy = new_policy(tmp_path)
    go = tmp_path / "go"
    procs = [worker(policy, tmp_path / "kernels", "--wait-for", str(go), start=False)
             for _ in range(2)]
    go.write_text("go")
    a, b = (finish(p) for p in procs)
    assert a["equal"] and b["equal"] and a["levels"] == b["levels"]
    # the lock let one compile while the other waited and then loaded its work
    assert sorted([a["misses"] > 0, b["misses"] > 0]) == [False, True]
    assert a["hits"] + b["hits"] >= 1
    third = worker(policy, tmp_path / "kernels")
    assert third["hits"] >= 1 and third["misses"] == 0
