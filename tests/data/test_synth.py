"""The synthetic sample: determinism, the bundled files, structure, and rough realism."""

from __future__ import annotations

import re

import numpy as np
import pytest
from click.testing import CliRunner

from rulesengine.data.catalogue import LIFETIMES, METRICS
from rulesengine.cli.data import data as data_cli
from rulesengine.data.loaders import load_panel
from rulesengine.data.sample import SAMPLE_DIR, SAMPLE_SEED, sample_panel
from rulesengine.data.synth import REGIONS, synthesize


@pytest.fixture(scope="module")
def full():
    return synthesize(SAMPLE_SEED)


@pytest.fixture(scope="module")
def panel(full):
    """The three years 2022-04 to 2025-03, where the realism checks below were calibrated."""
    import dataclasses

    t0 = full.period_labels.index("2022-04")
    return dataclasses.replace(full, start=full.start + t0, n_periods=36,
                               values={k: v[t0:t0 + 36] for k, v in full.values.items()})


def test_same_seed_same_panel_other_seed_other_panel():
    a, b, c = synthesize(7), synthesize(7), synthesize(8)
    assert a.digest() == b.digest()
    assert a.digest() != c.digest()


def test_bundled_files_are_the_output_of_the_bundled_seed(full):
    panel = full
    bundled = sample_panel()
    assert bundled.entities == panel.entities
    assert (bundled.start, bundled.n_periods) == (panel.start, panel.n_periods)
    assert bundled.metrics == panel.metrics
    for m in panel.metrics:
        np.testing.assert_array_equal(bundled.values[m], panel.values[m], err_msg=m)
    assert bundled.digest() == panel.digest()
    assert sorted(p.name for p in SAMPLE_DIR.iterdir() if p.suffix != ".md") == \
        ["entities.csv", "metrics.parquet"]


def test_entities(panel):
    e = panel.entities
    kinds = np.array(e.kinds)
    assert (kinds == "trust").sum() == 220
    assert (kinds == "ccg").sum() == 106
    assert (kinds == "ics").sum() == 42
    assert (kinds == "region").sum() == 7
    assert (kinds == "health_economy").sum() == 55
    assert (kinds == "pct").sum() == 152 and (kinds == "sha").sum() == 10
    types = [t for t, k in zip(e.types, e.kinds) if k == "trust"]
    assert {t: types.count(t) for t in set(types)} == {
        "acute": 129, "specialist": 17, "mental_health": 47, "community": 17, "ambulance": 10}
    index = e.index
    for eid, kind, parent, region in zip(e.ids, e.kinds, e.parents, e.regions):
        expected = {"trust": "health_economy", "ccg": "health_economy", "ics": "region",
                    "health_economy": "ics", "region": None, "pct": "sha",
                    "sha": "region"}[kind]
        if expected is None:
            assert parent == "" and region in REGIONS
        else:
            assert e.kinds[index[parent]] == expected
            assert region == e.regions[index[parent]]
        pattern = {"trust": r"T\d{3}", "ccg": r"C\d{3}", "ics": r"ICS\d{2}",
                   "region": r"REG\d", "pct": r"P\d{3}", "sha": r"SHA\d{2}",
                   "health_economy": r"HE\d{2}"}[kind]
        assert re.fullmatch(pattern, eid)
    assert sorted(set(e.regions)) == sorted(REGIONS)
    assert all("Synthetic" in n for n, k in zip(e.names, e.kinds) if k != "region")
    # Every ICS hosts at least one acute and one mental-health trust (in its local health
    # economies), and every economy an acute trust.
    system_of = {i: p for i, k, p in zip(e.ids, e.kinds, e.parents) if k == "health_economy"}
    for ics in [i for i, k in zip(e.ids, e.kinds) if k == "ics"]:
        hosted = {t for t, p in zip(e.types, e.parents) if system_of.get(p) == ics}
        assert {"acute", "mental_health"} <= hosted
    for he in system_of:
        assert "acute" in {t for t, p in zip(e.types, e.parents) if p == he}



def test_entities_of_their_era(panel):
    """Each body's lifetime (the entities table's from/to) and successor: a CCG its ICB, a PCT
    a CCG of its region, an SHA its region; trusts and regions throughout."""
    e = panel.entities
    index = e.index
    eras = {"trust": ("", ""), "region": ("", ""), "health_economy": ("", ""),
            "pct": ("", "2013-03"),
            "sha": ("", "2013-03"), "ccg": ("2013-04", "2022-06"),
            # a system is also the local health economy of earlier eras (success2015's unit)
            "ics": ("", "")}
    succeeded_by = {"pct": "ccg", "sha": "region", "ccg": "ics"}
    for eid, kind, parent, region, lo, hi, succ in zip(e.ids, e.kinds, e.parents, e.regions,
                                                       e.starts, e.ends, e.successors):
        assert (lo, hi) == eras[kind], eid
        if kind not in succeeded_by:
            assert succ == ""
            continue
        assert e.kinds[index[succ]] == succeeded_by[kind] and e.regions[index[succ]] == region
        if kind == "ccg":
            assert succ == e.parents[index[parent]]     # its own system's ICB
    # every CCG of 2013 had PCTs before it
    assert {s for s, k in zip(e.successors, e.kinds) if k == "pct"} == \
        {i for i, k in zip(e.ids, e.kinds) if k == "ccg"}


def test_periods(full):
    assert full.period_kind == "month"
    assert full.period_labels[0] == "2004-04" and full.period_labels[-1] == "2026-03"


def test_every_catalogue_metric_for_its_kinds_types_and_era(full):
    """Each metric only in the months it was published and each body only in its era."""
    from rulesengine.periods import parse_period

    panel = full
    assert set(panel.metrics) == set(METRICS)
    kinds = np.array(panel.entities.kinds)
    types = np.array(panel.entities.types)
    months = panel.start + np.arange(panel.n_periods)
    for name, metric in METRICS.items():
        arr = panel.values[name]
        applies = np.isin(kinds, metric.kinds)
        if metric.types:
            applies &= np.isin(types, metric.types) | (kinds != "trust")
        assert np.isnan(arr[:, ~applies]).all(), name
        live = np.ones(arr.shape, dtype=bool)
        if metric.since:
            live[months < parse_period(metric.since).ordinal] = False
        if metric.until:
            live[months > parse_period(metric.until).ordinal] = False
        for kind, (lo, hi) in LIFETIMES.items():
            cols = kinds == kind
            if lo:
                live[np.ix_(months < parse_period(lo).ordinal, cols)] = False
            if hi:
                live[np.ix_(months > parse_period(hi).ordinal, cols)] = False
        assert np.isnan(arr[~live]).all(), name
        # Each entity it applies to has values in its era (missing data is the exception;
        # KPMG's rank was given only to bodies in deficit).
        cells = arr[live & applies[None, :]]
        if name != "kpmg_management_rank":
            assert (~np.isnan(cells)).mean() > 0.9, name
        else:
            assert 0.1 < (~np.isnan(cells)).mean() < 0.6
        if metric.type == "flag":
            assert set(np.unique(arr[~np.isnan(arr)])) <= {0.0, 1.0}, name
        if metric.type == "rating":
            assert panel.labels[name] == metric.scale


def trust_cols(panel, *types):
    return [i for i, (k, t) in enumerate(zip(panel.entities.kinds, panel.entities.types))
            if k == "trust" and (not types or t in types)]


def test_access_distributions(panel):
    acute = trust_cols(panel, "acute")
    ae = panel.values["ae_4hr_pct"][:, acute]
    assert 65 < np.nanmedian(ae) < 85
    assert np.nanpercentile(ae, 5) < np.nanmedian(ae) - 10     # a long lower tail
    # A slow upward trend, and winter is worse than summer.
    assert np.nanmedian(ae[24:]) > np.nanmedian(ae[:12])
    labels = panel.period_labels
    dec = [i for i, p in enumerate(labels) if p.endswith("-12")]
    aug = [i for i, p in enumerate(labels) if p.endswith("-08")]
    assert np.nanmedian(ae[dec]) < np.nanmedian(ae[aug])
    rtt = panel.values["rtt_18wk_pct"][:, trust_cols(panel, "acute", "specialist")]
    assert 55 < np.nanmedian(rtt) < 65
    # Persistent trust effects: this year's ranking predicts next year's.
    first, last = np.nanmean(ae[:12], axis=0), np.nanmean(ae[24:], axis=0)
    assert np.corrcoef(first, last)[0, 1] > 0.6


def test_finance(panel):
    trusts = trust_cols(panel)
    flag = panel.values["deficit_flag"][:, trusts]
    for year_end in (11, 23, 35):
        share = np.nanmean(flag[year_end])
        assert 0.5 < share < 0.8, (panel.period_labels[year_end], share)
    # Finance goes with performance.
    acute = trust_cols(panel, "acute")
    margin = panel.values["ytd_surplus_deficit_pct"][35, acute]
    ae = np.nanmean(panel.values["ae_4hr_pct"][24:, acute], axis=0)
    ok = ~np.isnan(margin) & ~np.isnan(ae)
    assert np.corrcoef(margin[ok], ae[ok])[0, 1] > 0.1


def test_ratings_and_regimes(panel):
    trusts = trust_cols(panel)
    overall = panel.values["cqc_overall_rating"][:, trusts]
    now = overall[-1][~np.isnan(overall[-1])]
    assert 0 < (now == 3).mean() < 0.08                   # a few inadequate
    assert 0.25 < (now == 2).mean() < 0.5                 # many requires improvement
    changed = (np.diff(overall, axis=0) != 0) & ~np.isnan(overall[1:]) & ~np.isnan(overall[:-1])
    assert 0 < changed.mean() < 0.02                      # ratings change rarely
    sm = np.nansum(panel.values["in_special_measures"][:, trusts], axis=1)
    assert 1 <= sm.max() <= 12 and sm.mean() >= 0.5      # a handful, most of the time
    gov = panel.values["governance_failure_flag"][:, trusts]
    assert 1 <= (np.nansum(gov, axis=0) > 0).sum() <= 5   # rare


def test_missing_values_on_purpose(panel):
    trusts = trust_cols(panel, "acute")
    ae = panel.values["ae_4hr_pct"][:, trusts]
    assert 0.005 < np.isnan(ae).mean() < 0.04
    numeric = [m for m in panel.metrics if m not in panel.labels]
    everything = np.stack([panel.values[m][:, trust_cols(panel)] for m in numeric])
    whole_months = np.isnan(everything).all(axis=0)
    assert 1 <= whole_months.any(axis=0).sum() <= 10      # a few trusts miss whole months


def test_synth_command_writes_loadable_csv(tmp_path):
    result = CliRunner().invoke(data_cli, ["synth", "--seed", "11", "--out", str(tmp_path),
                                           "--format", "csv"])
    assert result.exit_code == 0, result.output
    assert load_panel(tmp_path).digest() == synthesize(11).digest()
    assert "seed 11" in (tmp_path / "README.md").read_text()


def synth(*args: str):
    return CliRunner().invoke(data_cli, ["synth", *args])


def test_synth_command_rejects_a_negative_seed_and_an_empty_out(tmp_path):
    result = synth("--seed", "-1", "--out", str(tmp_path / "s"))
    assert result.exit_code == 2
    assert "Invalid value for '--seed': -1 is not in the range x>=0." in result.output
    result = synth("--seed", "1", "--out", "")
    assert result.exit_code == 2
    assert "Invalid value for '--out': the path is empty: name a folder or file" in result.output
    assert not (tmp_path / "s").exists()


def test_synth_command_never_overwrites_files_it_did_not_write(tmp_path):
    (tmp_path / "README.md").write_text("mine\n")
    result = synth("--seed", "1", "--out", str(tmp_path))
    assert result.exit_code == 1
    assert f"{tmp_path}: error: the folder is not empty and does not hold an earlier sample " \
           f"(it has README.md): write the sample into a new or empty folder" in result.output
    assert "hint: pass --force to write metrics.parquet, entities.csv and README.md into it " \
           "anyway, overwriting files of those names" in result.output
    assert (tmp_path / "README.md").read_text() == "mine\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["README.md"]
    (tmp_path / "notes.txt").write_text("x")
    result = synth("--seed", "1", "--out", str(tmp_path))
    assert "(it has notes.txt)" in result.output
    result = synth("--seed", "1", "--out", str(tmp_path), "--force")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "notes.txt").read_text() == "x"
    assert "seed 1" in (tmp_path / "README.md").read_text()


def test_synth_command_rewrites_an_earlier_sample(tmp_path):
    # As the bundled sample is regenerated: the same folder, again, in either format.
    out = tmp_path / "sample"
    assert synth("--seed", "3", "--out", str(out)).exit_code == 0
    result = synth("--seed", "4", "--out", str(out), "--format", "csv")
    assert result.exit_code == 0, result.output
    # The earlier metrics.parquet goes: the folder holds the sample once.
    assert sorted(p.name for p in out.iterdir()) == ["README.md", "entities.csv", "metrics.csv"]
    assert load_panel(out).digest() == synthesize(4).digest()


def test_synth_command_out_below_a_file_or_in_a_folder_it_cannot_write(tmp_path,
                                                                       monkeypatch):
    afile = tmp_path / "a.csv"
    afile.write_text("x")
    result = synth("--seed", "1", "--out", str(afile / "sub"))
    assert result.exit_code == 1
    assert f"{afile / 'sub'}: error: {afile} is a file, not a folder" in result.output
    result = synth("--seed", "1", "--out", str(afile))
    assert result.exit_code == 2
    assert "is a file" in result.output

    # An unwritable folder (root ignores permissions, so the error is simulated).
    import rulesengine.data.loaders as loaders

    def refuse(panel, out, **kw):
        raise PermissionError(13, "Permission denied", str(out))

    # sample.py imports the writer when it writes (start-up time): patch it where it lives
    monkeypatch.setattr(loaders, "write_panel", refuse)
    result = synth("--seed", "1", "--out", str(tmp_path / "ro"))
    assert result.exit_code == 1
    assert f"{tmp_path / 'ro'}: error: cannot write: Permission denied" in result.output
    assert "Traceback" not in result.output
