"""Data that would grow without bound in memory is refused, with the limit and how to raise it:
a Parquet file of many repeated rows (judged from its metadata, before decoding), a CSV with
more cells than the limit (stopped while reading), a sparse file whose panel would be huge,
and a "line" of megabytes of NUL bytes."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from rulesengine.data import read
from rulesengine.data.loaders import load_panel

from .helpers import headlines, write

HINT = "set the environment variable REGIME_MAX_CELLS to raise the limit"


def hints(func):
    from rulesengine.diagnostics import DataError

    with pytest.raises(DataError) as info:
        func()
    return [(d.headline(), d.hint) for d in info.value.diagnostics]


def test_repeated_parquet_rows_are_refused_from_the_metadata(tmp_path, monkeypatch):
    # A few kilobytes of Parquet holding a million repeated rows (the 2 MB file held
    # 200 million and grew to 2 GB when decoded).
    n = 1_000_000
    table = pa.table({"entity": pa.array(["T1"] * n).dictionary_encode(),
                      "period": pa.array(["2023-04"] * n).dictionary_encode(),
                      "x": pa.array(np.ones(n))})
    path = tmp_path / "many.parquet"
    pq.write_table(table, path, compression="zstd")
    assert path.stat().st_size < 100_000
    monkeypatch.setenv("REGIME_MAX_CELLS", "2000000")

    def no_decoding(*args, **kwargs):
        raise AssertionError("the rows were decoded before the limit was checked")
    monkeypatch.setattr(pq.ParquetFile, "read", no_decoding)
    assert hints(lambda: load_panel(path)) == [
        (f"{path}: error: data too large (3,000,000 cells; the limit is 2,000,000)", HINT)]


def test_a_csv_over_the_cell_limit_stops_while_reading(tmp_path, monkeypatch):
    monkeypatch.setenv("REGIME_MAX_CELLS", "30")
    monkeypatch.setattr(read, "_FLUSH_CELLS", 6)
    rows = "".join(f"T{i},2023-04,1\n" for i in range(20))
    path = write(tmp_path, "big.csv", "entity,period,x\n" + rows)
    (headline, hint), = hints(lambda: load_panel(path))
    assert headline.startswith(f"{path}:") and "error: data too large (" in headline
    assert "cells; the limit is 30)" in headline and hint == HINT


def test_a_sparse_panel_over_the_cell_limit_is_refused(tmp_path, monkeypatch):
    # Two rows, but 150 years of months apart: the panel would be periods x entities.
    monkeypatch.setenv("REGIME_MAX_CELLS", "1000")
    path = write(tmp_path, "sparse.csv", "entity,period,x\nT1,1950-01,1\nT2,2099-12,2\n")
    assert hints(lambda: load_panel(path)) == [
        (f"{path}: error: data too large (3,600 cells; the limit is 1,000)", HINT)]
    monkeypatch.setenv("REGIME_MAX_CELLS", "3600")
    assert load_panel(path).n_periods == 1800


def test_a_file_of_nul_bytes_is_not_read_as_one_line(tmp_path, monkeypatch):
    monkeypatch.setattr(read, "_MAX_LINE", 1000)
    monkeypatch.setattr(read, "_BLOCK", 100)
    path = tmp_path / "zeros.csv"
    path.write_bytes(b"entity,period,x\n" + b"\0" * 5000)
    assert headlines(lambda: load_panel(path)) == [
        f"{path}:2:1: error: line 2 is longer than 1,000 bytes: the file is not a CSV table"]


def test_a_data_file_over_the_byte_limit_is_refused_before_reading(tmp_path, monkeypatch):
    monkeypatch.setenv("REGIME_MAX_DATA_BYTES", "10")
    path = write(tmp_path, "d.csv", "entity,period,x\nT1,2023-04,1\n")
    assert hints(lambda: load_panel(path)) == [
        (f"{path}: error: data file too large (29 bytes; the limit is 10)",
         "set the environment variable REGIME_MAX_DATA_BYTES to raise the limit")]


@pytest.mark.parametrize("raw", ["\u0663\u0663", "1_000", "\uff17\uff15"])
def test_numbers_are_ascii_decimal(raw, tmp_path):
    # float() reads these; the policy language does not, and neither do the loaders.
    path = write(tmp_path, "d.csv", f"entity,period,metric,value\nT1,2023-04,x,1\n"
                                    f"T1,2023-05,x,{raw}\n")
    from .helpers import make_policy

    policy = make_policy(tmp_path, {"x": "{type: number, better: higher}"}, period="month")
    assert headlines(lambda: load_panel(path, policy=policy)) == [
        f"{path}:3:4: error: '{raw}' in column 'value' is not a number"]


@pytest.mark.parametrize("raw", ["\u0663\u0663", "1_000"])
def test_nhse_counts_are_ascii_decimal(raw, tmp_path):
    from rulesengine.data.nhse import import_ae_attendances

    src = write(tmp_path, "ae.csv", "period,org_code,type,attendances,breaches,admissions\n"
                                    f"2017-03-01,RAA,1,{raw},10,20\n")
    assert headlines(lambda: import_ae_attendances(src)) == [
        f"{src}:2:4: error: '{raw}' in column 'attendances' is not a count"]


def test_a_huge_value_is_not_quoted_whole(tmp_path):
    digits = "1" * 5000
    path = write(tmp_path, "d.csv", f"entity,period,metric,value\nT1,2023-04,x,{digits}x\n")
    from .helpers import make_policy

    policy = make_policy(tmp_path, {"x": "{type: number, better: higher}"}, period="month")
    (line,) = headlines(lambda: load_panel(path, policy=policy))
    assert len(line) < len(path) + 200
    assert "(5,001 characters)" in line and line.endswith("is not a number")
