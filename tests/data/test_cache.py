"""The data cache (rulesengine/data/cache.py): a cached sample panel is the panel its files
give, bit for bit; a damaged or changed entry is a miss, never a wrong value."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from rulesengine.data import cache as C
from rulesengine.data.sample import _load_sample, sample_panel


@pytest.fixture
def cache_root(tmp_path, monkeypatch):
    monkeypatch.setenv("REGIME_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.fixture(scope="module")
def from_files():
    return _load_sample()


def _entries(root):
    return [p for p in (root / "data").iterdir() if not p.name.startswith(".")]


def assert_same(a, b):
    assert (a.period_kind, a.start, a.n_periods) == (b.period_kind, b.start, b.n_periods)
    assert a.entities == b.entities
    assert dict(a.labels) == dict(b.labels)
    assert a.sources == b.sources
    assert {k: dict(v) for k, v in a.label_sites.items()} == \
        {k: dict(v) for k, v in b.label_sites.items()}
    assert sorted(a.values) == sorted(b.values)
    for name in a.values:
        assert a.values[name].shape == b.values[name].shape
        assert a.values[name].tobytes() == b.values[name].tobytes(), name
    assert a.digest() == b.digest()


def test_a_hit_is_the_panel_the_files_give(cache_root, from_files):
    first = sample_panel()                  # a miss: read from the files, entry written
    assert len(_entries(cache_root)) == 1
    second = sample_panel()                 # a hit
    assert isinstance(second.values, C._Metrics)
    assert_same(first, from_files)
    assert_same(second, from_files)


def test_a_hit_reads_only_the_metrics_used(cache_root):
    sample_panel()
    hit = sample_panel()
    some = sorted(hit.values)[:3]
    for name in some:
        hit.values[name]
    assert sorted(hit.values._arrays) == some
    assert hit.digest() == sample_panel().digest()      # from the manifest, nothing decoded
    assert sorted(hit.values._arrays) == some


def test_entries_hold_no_pickle(cache_root):
    sample_panel()
    (entry,) = _entries(cache_root)
    for f in entry.glob("*.npy"):
        arr = np.load(f, allow_pickle=False)
        # metrics: packed bits and float64 values; entity columns: integer codes
        assert arr.dtype in (np.uint8, np.float64) or (
            f.name == C.ENTITY_CODES and arr.dtype.kind in "iu"), f.name


def _damage_values(entry, how):
    manifest = json.loads((entry / C.MANIFEST).read_text())
    spec = manifest["metrics"]["cqc_overall_rating"]
    path = entry / spec["values"]
    data = bytearray(path.read_bytes())
    if how == "flip":
        data[-1] ^= 0xFF                     # same size: found by the hash, when read
    else:
        data = data[:-8]                     # truncated: found when the entry is opened
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("how", ["flip", "truncate"])
def test_a_damaged_entry_is_a_miss(cache_root, from_files, how):
    sample_panel()
    (entry,) = _entries(cache_root)
    _damage_values(entry, how)
    again = sample_panel()
    assert_same(again, from_files)


@pytest.mark.parametrize("damage", ["manifest", "format", "missing"])
def test_a_broken_manifest_or_file_is_a_miss(cache_root, from_files, damage):
    sample_panel()
    (entry,) = _entries(cache_root)
    manifest = entry / C.MANIFEST
    if damage == "manifest":
        manifest.write_text("{not json")
    elif damage == "format":
        data = json.loads(manifest.read_text())
        data["format"] = C.FORMAT + 1
        manifest.write_text(json.dumps(data))
    else:
        next(entry.glob("*.mask.npy")).unlink()
    assert_same(sample_panel(), from_files)


@pytest.mark.parametrize("damage", ["codes", "missing codes", "values", "a code too far",
                                    "unsorted"])
def test_damaged_entity_columns_are_a_miss(cache_root, from_files, damage):
    sample_panel()
    (entry,) = _entries(cache_root)
    manifest = entry / C.MANIFEST
    data = json.loads(manifest.read_text())
    values = data["entities"]["values"]
    if damage == "codes":
        raw = bytearray((entry / C.ENTITY_CODES).read_bytes())
        raw[-1] ^= 1
        (entry / C.ENTITY_CODES).write_bytes(bytes(raw))
    elif damage == "missing codes":
        (entry / C.ENTITY_CODES).unlink()
    elif damage == "values":
        values["kinds"] = [1, 2]                             # not strings
    elif damage == "a code too far":
        values["kinds"] = values["kinds"][:1]               # codes now point past them
    else:
        values["kinds"] = values["kinds"][::-1]             # read as given, kinds swap
    manifest.write_text(json.dumps(data))
    assert_same(sample_panel(), from_files)


def test_entity_columns_are_stored_as_codes(cache_root, from_files):
    sample_panel()
    (entry,) = _entries(cache_root)
    stored = json.loads((entry / C.MANIFEST).read_text())["entities"]
    codes = np.load(entry / C.ENTITY_CODES, allow_pickle=False)
    ents = from_files.entities
    assert codes.shape == (9, len(ents)) and codes.dtype.kind == "u"
    for k, (name, col) in enumerate(zip(C._ENTITY_COLUMNS, ents.columns())):
        assert stored["values"][name] == list(col.values)
        assert codes[k].tolist() == col.codes.tolist()
    assert sample_panel().entities == ents


def test_changed_files_are_another_entry(cache_root, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(C.Path(_load_sample.__code__.co_filename).with_name("sample"), copy)
    files = sorted(p for p in copy.iterdir() if p.suffix in (".parquet", ".csv"))
    key = C.entry_key(files)
    (copy / "entities.csv").write_text((copy / "entities.csv").read_text() + "\n")
    assert C.entry_key(files) != key


def test_no_cache_folder_reads_the_files(monkeypatch, tmp_path, from_files):
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("REGIME_CACHE_DIR", str(blocker / "cache"))   # cannot be a folder
    from rulesengine import cachedir
    monkeypatch.setattr(cachedir, "_off", {})
    monkeypatch.setattr(cachedir, "_warned", set())
    assert_same(sample_panel(), from_files)


def test_nans_of_another_bit_pattern_are_not_stored(cache_root, tmp_path, from_files):
    """Missing values come back as np.nan; a panel holding other NaN bits is not cached (its
    digest and values would not come back bit for bit)."""
    source = tmp_path / "data.csv"
    source.write_text("x\n")
    values = dict(from_files.values)
    odd = values["cqc_enforcement_action"].copy()
    odd[np.isnan(odd)] = -np.nan
    values["cqc_enforcement_action"] = odd
    panel = C.Panel(from_files.period_kind, from_files.start, from_files.n_periods,
                    from_files.entities, values, from_files.labels, from_files.sources)
    first = C.cached_panel([source], lambda: panel)
    assert not (cache_root / "data").exists() or not _entries(cache_root)
    again = C.cached_panel([source], lambda: panel)
    assert again.values["cqc_enforcement_action"].tobytes() == odd.tobytes()
    assert first is panel and again is panel
