"""Importers for NHS England's A&E statistics: on the real files in ../shared/data, and on
small hand-made files for the field-test trap and for bad input."""

from __future__ import annotations

import csv
from collections import defaultdict

import numpy as np
import pytest
from click.testing import CliRunner

from rulesengine.cli.data import data as data_cli
from rulesengine.data.loaders import load_panel
from rulesengine.data.nhse import (AE_MONTHLY_COLUMNS, AE_MONTHLY_COUNTS,
                                   import_ae_attendances, import_ae_monthly)

from .helpers import SHARED_DATA, headlines, needs_shared_data, write

AE_MONTHLY = SHARED_DATA / "ae_monthly_provider_2023_2025" / "ae_monthly_provider.csv"
AE_NHSR = SHARED_DATA / "nhsr_ae_attendances_2016_2019" / "ae_attendances.csv"
REFERENCE = SHARED_DATA / "trust_reference"
FIELD_TEST_SITES = ("R0D", "RC9", "RDU", "RFR", "RGR", "RGT", "RHU", "RK9", "RNQ", "RQM", "RVW",
                    "RX1", "RXF", "RYJ")


def value(panel, metric, entity, month):
    return panel.values[metric][panel.period_index(month), panel.entities.index[entity]]


def monthly_row(code="RXX", month="2023-04-01", **counts) -> str:
    row = {c: "0" for c in AE_MONTHLY_COUNTS}
    row.update({k: str(v) for k, v in counts.items()})
    row.update(month=month, org_code=code, nhs_region="NHS ENGLAND EAST OF ENGLAND",
               org_name=f"{code} HOSPITAL")
    return ",".join(row[c] for c in AE_MONTHLY_COLUMNS) + "\n"


HEADER = ",".join(AE_MONTHLY_COLUMNS) + "\n"


def test_monthly_metrics_and_the_field_test_trap_on_a_small_file(tmp_path):
    path = write(tmp_path, "ae.csv", HEADER
                 + monthly_row("RAA", ae_attendances_type_1=900,
                               ae_attendances_booked_appointments_type_1=100,
                               ae_attendances_other_ae_department=1000,
                               attendances_over_4hrs_type_1=300,
                               attendances_over_4hrs_other_department=20,
                               waited_12plus_hrs_dta_to_admission=7)
                 # type-1 attendances but no breaches at all: the 4-hour measure was not reported
                 + monthly_row("RBB", ae_attendances_type_1=5000,
                               ae_attendances_other_ae_department=800)
                 # an urgent treatment centre with no breaches really is 100%
                 + monthly_row("UTC1", ae_attendances_other_ae_department=3000))
    panel = import_ae_monthly(path)
    assert value(panel, "ae_type1_attendances", "RAA", "2023-04") == 1000
    assert value(panel, "ae_attendances", "RAA", "2023-04") == 2000
    assert value(panel, "ae_type1_4hr_pct", "RAA", "2023-04") == pytest.approx(70.0)
    assert value(panel, "ae_4hr_pct", "RAA", "2023-04") == pytest.approx(100 * (1 - 320 / 2000))
    assert value(panel, "ae_12hr_dta_count", "RAA", "2023-04") == 7
    assert np.isnan(value(panel, "ae_type1_4hr_pct", "RBB", "2023-04"))
    assert np.isnan(value(panel, "ae_4hr_pct", "RBB", "2023-04"))
    assert value(panel, "ae_4hr_pct", "UTC1", "2023-04") == 100.0
    assert np.isnan(value(panel, "ae_type1_4hr_pct", "UTC1", "2023-04"))
    ents = panel.entities
    assert ents.types == ("acute", "acute", "other_ae")
    assert ents.regions == ("East of England",) * 3
    assert ents.kinds == ("trust",) * 3


def test_importer_diagnostics(tmp_path):
    missing = write(tmp_path, "m.csv", "month,org_code\n2023-04-01,RAA\n")
    lines = headlines(lambda: import_ae_monthly(missing))
    assert lines[0] == f"{missing}:1:1: error: missing column 'nhs_region'"
    bad = write(tmp_path, "b.csv", HEADER + monthly_row("RAA", ae_attendances_type_1="12x")
                + monthly_row("RAA", month="2023-13-01") + monthly_row("RCC")
                + monthly_row("RCC"))
    col = AE_MONTHLY_COLUMNS.index("ae_attendances_type_1") + 1
    assert headlines(lambda: import_ae_monthly(bad)) == [
        f"{bad}:2:{col}: error: '12x' in column 'ae_attendances_type_1' is not a count",
        f"{bad}:3:1: error: bad period: '2023-13-01' has no month 13",
        f"{bad}:5:2: error: duplicate row for org 'RCC' in 2023-04-01 (first at line 4)"]
    nhsr = write(tmp_path, "n.csv", "period,org_code,type,attendances,breaches,admissions\n"
                                    "2016-04-01,RAA,3,10,1,0\n2016-04-01,RAA,1,-5,1,0\n")
    assert headlines(lambda: import_ae_attendances(nhsr)) == [
        f"{nhsr}:2:3: error: '3' in column 'type' is not a department type (1, 2 or other)",
        f"{nhsr}:3:4: error: '-5' in column 'attendances' is not a count"]


@needs_shared_data
def test_ae_monthly_on_the_real_file():
    panel = import_ae_monthly(AE_MONTHLY)
    assert panel.period_kind == "month"
    assert panel.period_labels[0] == "2023-04" and panel.period_labels[-1] == "2025-06"
    assert len(panel.entities) == 210
    assert panel.entities.types.count("acute") == 123
    # The field-test sites: missing in Apr and May 2023, reported from June.
    for code in FIELD_TEST_SITES:
        for month in ("2023-04", "2023-05"):
            assert np.isnan(value(panel, "ae_type1_4hr_pct", code, month)), (code, month)
            assert np.isnan(value(panel, "ae_4hr_pct", code, month)), (code, month)
            assert value(panel, "ae_type1_attendances", code, month) > 0
    assert 30 < value(panel, "ae_type1_4hr_pct", "R0D", "2023-06") < 90
    # No type-1 department anywhere is shown as a perfect 100%.
    acute = [i for i, t in enumerate(panel.entities.types) if t == "acute"]
    type1 = panel.values["ae_type1_4hr_pct"][:, acute]
    assert not (type1 == 100.0).any()
    # Independent check of one cell against the raw row.
    with open(AE_MONTHLY, encoding="utf-8") as fh:
        row = next(r for r in csv.DictReader(fh)
                   if r["org_code"] == "RGT" and r["month"] == "2024-12-01")
    att = sum(int(row[c]) for c in AE_MONTHLY_COUNTS[:6])
    br = sum(int(row[c]) for c in AE_MONTHLY_COUNTS[6:12])
    assert value(panel, "ae_4hr_pct", "RGT", "2024-12") == pytest.approx(100 * (1 - br / att))
    # England's trusts: a winter median in the mid-60s, as published.
    dec = panel.values["ae_4hr_pct"][panel.period_index("2023-12"), acute]
    assert 60 < np.nanmedian(dec) < 72


@needs_shared_data
def test_ae_monthly_with_the_trust_reference():
    panel = import_ae_monthly(AE_MONTHLY, trust_reference=REFERENCE)
    ents = panel.entities
    i = ents.index["R0D"]
    parent = ents.parents[i]
    assert ents.kinds[ents.index[parent]] == "ics"
    region = ents.parents[ents.index[parent]]
    assert ents.kinds[ents.index[region]] == "region"
    assert ents.regions[i] == "South West" and ents.names[ents.index[region]] == "South West"
    assert ents.kinds.count("region") == 7
    # Trust types come from the CQC list where the trust is in it.
    with open(REFERENCE / "brc_open_trust_types_2022.csv", encoding="utf-8") as fh:
        cqc = {r["trust_code"]: r["primary_category"] for r in csv.DictReader(fh)}
    mental = [c for c in ents.ids if cqc.get(c, "").startswith("Mental health")]
    assert mental and all(ents.types[ents.index[c]] == "mental_health" for c in mental)
    # The hierarchy is a proper tree of panel entities.
    assert (ents.parent_index()[[j for j, p in enumerate(ents.parents) if p]] >= 0).all()


@needs_shared_data
def test_ae_attendances_on_the_real_file():
    panel = import_ae_attendances(AE_NHSR)
    assert panel.period_labels[0] == "2016-04" and panel.period_labels[-1] == "2019-03"
    assert len(panel.entities) == 274
    assert panel.entities.types.count("acute") == 140
    raw = defaultdict(lambda: [0, 0, 0, 0])
    with open(AE_NHSR, encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            if r["org_code"] == "RC1" and r["period"] == "2017-01-01":
                s = raw["RC1"]
                s[0] += int(r["attendances"])
                s[1] += int(r["breaches"])
                if r["type"] == "1":
                    s[2] += int(r["attendances"])
                    s[3] += int(r["breaches"])
    att, br, att1, br1 = raw["RC1"]
    assert value(panel, "ae_attendances", "RC1", "2017-01") == att
    assert value(panel, "ae_4hr_pct", "RC1", "2017-01") == pytest.approx(100 * (1 - br / att))
    assert value(panel, "ae_type1_4hr_pct", "RC1", "2017-01") == \
        pytest.approx(100 * (1 - br1 / att1))


@needs_shared_data
def test_ae_attendances_merging_successors():
    plain = import_ae_attendances(AE_NHSR)
    merged = import_ae_attendances(AE_NHSR, trust_reference=REFERENCE, merge_successors=True)
    # RC1 (Bedford) merged into RC9 (Luton and Dunstable) in 2020: one series under RC9.
    assert "RC1" not in merged.entities.index and "RC9" in merged.entities.index
    m = "2017-01"
    assert value(merged, "ae_attendances", "RC9", m) == \
        value(plain, "ae_attendances", "RC1", m) + value(plain, "ae_attendances", "RC9", m)


@needs_shared_data
def test_import_command_writes_files_that_load_back(tmp_path):
    out = tmp_path / "ae.parquet"
    result = CliRunner().invoke(data_cli, ["import", "ae-monthly", str(AE_MONTHLY),
                                           "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "entities.csv").exists()
    back = load_panel(tmp_path)
    assert back.digest() == import_ae_monthly(AE_MONTHLY).digest()


def test_import_command_reports_bad_input_cleanly(tmp_path):
    bad = write(tmp_path, "bad.csv", "month,org_code\n")
    result = CliRunner().invoke(data_cli, ["import", "ae-monthly", bad, "--out",
                                           str(tmp_path / "x.parquet")])
    assert result.exit_code == 1
    assert f"{bad}:1:1: error: missing column 'nhs_region'" in result.output
    assert "Traceback" not in result.output


# --- bad trust reference folders and output paths ----------------------------------------------

def reference_folder(folder, **override):
    """A small trust reference folder; `override` replaces a file's text (name without .csv)."""
    folder.mkdir()
    etr = ("org_code,org_name,nhs_region_code,icb_or_stp_code,close_date\n"
           "RAA,A HOSPITAL,Y61,QXX,\n")
    files = {"etr_2025": etr, "etr_2022-03": etr,
             "brc_open_trust_types_2022": "trust_code,primary_category\nRAA,Ambulance service\n",
             "geographr_sicbl22_to_icb22": "icb22_code_h,icb22_name\nQXX,NHS X ICB\n",
             "geographr_org_successor_lookup": "old_code,new_code,date\nRZZ,RAA,2020-04-01\n"}
    files.update(override)
    for name, text in files.items():
        path = folder / f"{name}.csv"
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")
    return folder


def test_trust_reference_folder_that_is_fine(tmp_path):
    src = write(tmp_path, "ae.csv", HEADER + monthly_row("RAA", ae_attendances_type_1=10))
    panel = import_ae_monthly(src, trust_reference=reference_folder(tmp_path / "ref"))
    assert panel.entities.ids == ("RAA", "QXX", "Y61")
    assert panel.entities.parents == ("QXX", "Y61", "")


def test_trust_reference_folder_that_does_not_exist(tmp_path):
    src = write(tmp_path, "ae.csv", HEADER + monthly_row("RAA"))
    missing = tmp_path / "nowhere"
    assert headlines(lambda: import_ae_monthly(src, trust_reference=missing)) == [
        f"{missing}: error: the trust reference folder does not exist"]
    assert headlines(lambda: import_ae_attendances(src, trust_reference=src)) == [
        f"{src}: error: the trust reference folder is a file, not a folder"]


def test_trust_reference_file_that_is_missing_or_has_the_wrong_columns(tmp_path):
    src = write(tmp_path, "ae.csv", HEADER + monthly_row("RAA"))
    ref = reference_folder(tmp_path / "ref", **{"etr_2022-03": "a,b\n1,2\n"})
    f = ref / "etr_2022-03.csv"
    assert headlines(lambda: import_ae_monthly(src, trust_reference=ref)) == [
        f"{f}:1:1: error: missing column 'org_code'",
        f"{f}:1:1: error: missing column 'org_name'",
        f"{f}:1:1: error: missing column 'nhs_region_code'",
        f"{f}:1:1: error: missing column 'icb_or_stp_code'"]
    f.unlink()
    assert headlines(lambda: import_ae_monthly(src, trust_reference=ref)) == [
        f"{f}: error: cannot read the file: No such file or directory"]


def test_trust_reference_file_that_is_not_utf8_or_has_a_short_row(tmp_path):
    src = write(tmp_path, "ae.csv", HEADER + monthly_row("RAA"))
    ref = reference_folder(tmp_path / "ref", brc_open_trust_types_2022=(
        "trust_code,primary_category\nRAA,Caf\xe9\n".encode("latin-1")))
    f = ref / "brc_open_trust_types_2022.csv"
    assert headlines(lambda: import_ae_monthly(src, trust_reference=ref)) == [
        f"{f}:2:2: error: the file is not UTF-8 text: byte 0xe9 cannot be decoded "
        f"(save the file as UTF-8)"]
    f.write_text("trust_code,primary_category\nRAA,Ambulance service\nRBB\n", encoding="utf-8")
    assert headlines(lambda: import_ae_monthly(src, trust_reference=ref)) == [
        f"{f}:3:2: error: the row has 1 field, but the header has 2"]


def test_import_rejects_a_mistyped_year_and_an_impossible_date(tmp_path):
    src = write(tmp_path, "ae.csv", HEADER + monthly_row("RAA", month="0023-04-01")
                + monthly_row("RBB", month="2023-04-31"))
    assert headlines(lambda: import_ae_monthly(src)) == [
        f"{src}:2:1: error: bad period: '0023-04-01' is outside the years 1948 to 2100: is the "
        f"year mistyped?",
        f"{src}:3:1: error: bad period: '2023-04-31' is not a date: April 2023 has no day 31"]


def test_import_command_refuses_an_output_named_like_the_entities_table(tmp_path):
    src = write(tmp_path, "ae.csv", HEADER + monthly_row("RAA"))
    for name in ("entities.csv", "Entities.parquet"):
        out = tmp_path / "out" / name
        result = CliRunner().invoke(data_cli, ["import", "ae-monthly", src, "--out", str(out)])
        assert result.exit_code == 1
        assert f"{out}: error: the data file cannot be named entities: the entities table is " \
               f"written beside it as entities.csv" in result.output
        assert "Traceback" not in result.output
        assert not (tmp_path / "out").exists()


def test_import_command_output_below_a_file_or_in_a_folder_it_cannot_write(tmp_path,
                                                                            monkeypatch):
    src = write(tmp_path, "ae.csv", HEADER + monthly_row("RAA"))
    out = tmp_path / "ae.csv" / "x.parquet"
    result = CliRunner().invoke(data_cli, ["import", "ae-monthly", src, "--out", str(out)])
    assert result.exit_code == 1
    assert f"{out}: error: {src} is a file, not a folder" in result.output
    result = CliRunner().invoke(data_cli, ["import", "ae-monthly", src, "--out", ""])
    assert result.exit_code == 2
    assert "the path is empty" in result.output

    # An unwritable folder (root ignores permissions, so the error is simulated).
    import rulesengine.data.loaders as loaders

    def refuse(panel, folder, **kw):
        raise PermissionError(13, "Permission denied", str(folder / "entities.csv"))

    monkeypatch.setattr(loaders, "write_panel", refuse)
    out = tmp_path / "ro" / "ae.parquet"
    result = CliRunner().invoke(data_cli, ["import", "ae-monthly", src, "--out", str(out)])
    assert result.exit_code == 1
    assert f"{tmp_path / 'ro' / 'entities.csv'}: error: cannot write: Permission denied" \
        in result.output
    assert "Traceback" not in result.output


def test_import_keeps_an_entities_table_it_did_not_write(tmp_path):
    src = write(tmp_path, "ae.csv", HEADER + monthly_row("RAA"))
    out = tmp_path / "out"
    first = CliRunner().invoke(data_cli, ["import", "ae-monthly", src, "--out",
                                          str(out / "ae.parquet")])
    assert first.exit_code == 0, first.output
    again = CliRunner().invoke(data_cli, ["import", "ae-monthly", src, "--out",
                                          str(out / "ae2.csv")])
    assert again.exit_code == 0, again.output       # the same entities: nothing is lost
    theirs = "entity,name,kind,type,parent,region\nRXX,Another trust,trust,acute,,\n"
    (out / "entities.csv").write_text(theirs)
    result = CliRunner().invoke(data_cli, ["import", "ae-monthly", src, "--out",
                                           str(out / "ae3.parquet")])
    assert result.exit_code == 1
    assert f"{out / 'entities.csv'}: error: an entities table with other contents is already " \
           "here, and this import writes its own entities.csv beside the data" in result.output
    assert (out / "entities.csv").read_text() == theirs
    assert not (out / "ae3.parquet").exists()
