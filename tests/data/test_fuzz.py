"""Fuzzing the data readers: long and wide CSV, Parquet, and decisions files.

Every generated file must give a Panel (or decisions) or the project's own diagnostics
(DataError; DataWarning for findings that do not stop a run), never another exception. Two
stronger oracles catch wrong results, not only crashes:

- the CSV reader reads a file in blocks and builds columns a chunk of rows at a time: read
  with tiny blocks and chunks (every boundary falls inside a row, a quoted field, a CRLF or a
  UTF-8 character somewhere), the result must be identical, panel or diagnostics;
- a loaded panel written back (`write_panel`, CSV and Parquet) loads to the same panel.

A decisions file that loads is also applied: the policy is evaluated with it by the
reference and the vectorised engines, which must agree, and every decided cell must end at
its decided level.

Each property runs briefly in the default suite and at length under `-m slow`, for
REGIME_FUZZ_MINUTES minutes each (default 1), as searches of REGIME_FUZZ_EXAMPLES examples
(default 3,000) started again with fresh seeds until the time is up; the `fuzz_campaign`
fixture prints how many examples ran. The data and decisions campaigns:

    REGIME_FUZZ_MINUTES=4 pytest tests/data/test_fuzz.py -m slow -k "not decisions" -p no:cacheprovider
    REGIME_FUZZ_MINUTES=5 pytest tests/data/test_fuzz.py -m slow -k decisions -p no:cacheprovider

Inputs that found bugs are kept below as @example cases.
"""

from __future__ import annotations

import os
import tempfile
import warnings
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from rulesengine.data import read, values
from rulesengine.data.decisions import load_decisions
from rulesengine.data.loaders import load_panel, write_panel
from rulesengine.data.panel import Entities, Panel
from rulesengine.diagnostics import DataError, DataWarning
from rulesengine.pipeline.run import evaluate

from .helpers import make_policy

SLOW_EXAMPLES = int(os.environ.get("REGIME_FUZZ_EXAMPLES", "3000"))
QUICK = settings(max_examples=10, deadline=None, database=None,
                 suppress_health_check=list(HealthCheck))
SLOW = settings(max_examples=SLOW_EXAMPLES, deadline=None, database=None,
                suppress_health_check=list(HealthCheck))

# --- what the files are made of -----------------------------------------------------------------

ENTITY_IDS = ["T1", "T2", "T001", "001", "RX1", " T1 ", "", "NA", "t1", "Tr\u00e9", "T,1",
              'T"1', "1.0", "1e3"]
PERIODS = ["2023-04", "2023-05", "2023-06", "2023-Q2", "2023/24", "2023/24 Q1", "2023-04-01",
           "2023-13", "1900-01", "2023-4", "", "NA", "Q2 2023", "2023-04 ", "\u0662023-04"]
METRICS = ["x", "X", "ae_4hr_pct", "cqc_overall_rating", "flag_a", "", " x ", "m\u00e9tric",
           "entity", "value"]
VALUES = ["1", "0", "75.5", "-3", "1e3", "1e999", "-1e999", "nan", "NaN", "inf", "NA", "N/A",
          "", "-", "none", "75%", "0.75", "true", "false", "yes", "no", "good", "Good",
          "requires improvement", "Not rated", "1_000", "\u0663\u0663", "0x10", " 5 ", "+4",
          ".5", "5.", "1,5", "abc", "\u00e9", "1" * 400, "\t7"]

cells = st.one_of(st.sampled_from(VALUES), st.text(max_size=6))


def csv_field(text: str, quote: bool) -> str:
    if quote or any(ch in text for ch in ',"\r\n'):
        return '"' + text.replace('"', '""') + '"'
    return text


@st.composite
def csv_files(draw, header: list[str], columns: list) -> str:
    """A CSV of `header` with rows drawn from `columns` (one strategy per column), with the
    ways people's files differ: CRLF, blank lines, quoting, short and long rows, a BOM."""
    newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    lines = [",".join(csv_field(h, draw(st.booleans())) for h in header)]
    for _ in range(draw(st.integers(0, 12))):
        kind = draw(st.sampled_from(["row"] * 8 + ["blank", "short", "long"]))
        if kind == "blank":
            lines.append("")
            continue
        row = [draw(c) for c in columns]
        if kind == "short":
            row = row[:draw(st.integers(0, len(row)))]
        elif kind == "long":
            row.append(draw(cells))
        lines.append(",".join(csv_field(v, draw(st.integers(0, 5)) == 0) for v in row))
    text = newline.join(lines) + draw(st.sampled_from(["", newline, newline * 2]))
    return ("\ufeff" if draw(st.integers(0, 9)) == 0 else "") + text


long_csv = csv_files(["entity", "period", "metric", "value"],
                     [st.sampled_from(ENTITY_IDS), st.sampled_from(PERIODS),
                      st.sampled_from(METRICS), cells])


@st.composite
def wide_csv(draw) -> str:
    metrics = draw(st.lists(st.sampled_from(METRICS), min_size=1, max_size=4))
    header = draw(st.permutations(["entity", "period"] + metrics))
    strategies = [st.sampled_from(ENTITY_IDS) if h == "entity" else
                  st.sampled_from(PERIODS) if h == "period" else cells for h in header]
    return draw(csv_files(header, strategies))


POLICY_INPUTS = [
    {},
    {"x": "{type: percent, better: higher}"},
    {"x": "{type: percent, better: higher, scale: fraction}"},
    {"x": "{type: number, better: higher, expect: 0..50}"},
    {"flag_a": "{type: flag}"},
    {"cqc_overall_rating": "{type: rating, scale: cqc}"},
]


def policy_for(tmp_path, choice: int):
    inputs = POLICY_INPUTS[choice]
    if not inputs:
        return None
    scales = {"cqc": ["outstanding", "good", "requires_improvement", "inadequate"]}
    return make_policy(tmp_path, inputs, period="quarter", scales=scales,
                       name=f"policy{choice}.yaml")


# --- oracles ----------------------------------------------------------------------------------

def outcome(func):
    """('panel', comparable form) or ('error', headlines): anything else propagates."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        try:
            panel = func()
        except DataError as e:
            assert e.diagnostics and all(d.message for d in e.diagnostics)
            return ("error", tuple(d.headline() for d in e.diagnostics))
    return ("panel", comparable(panel))


def comparable(panel):
    return (panel.period_kind, panel.start, panel.n_periods, panel.entities,
            {m: a.tobytes() for m, a in panel.values.items()},
            dict(panel.labels))


def tiny_blocks(monkeypatch):
    monkeypatch.setattr(read, "_BLOCK", 3)
    monkeypatch.setattr(read, "_FLUSH_CELLS", 2)


def check_csv(tmp_path, text: str, choice: int) -> None:
    path = tmp_path / "data.csv"
    path.write_bytes(text.encode("utf-8"))
    policy = policy_for(tmp_path, choice)
    whole = outcome(lambda: load_panel(path, policy=policy))
    with pytest.MonkeyPatch.context() as mp:
        tiny_blocks(mp)
        assert outcome(lambda: load_panel(path, policy=policy)) == whole
    if whole[0] == "panel":
        round_trip(tmp_path, load_panel_quietly(path, policy))


def load_panel_quietly(path, policy=None):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        return load_panel(path, policy=policy)


def round_trip(tmp_path, panel) -> None:
    """A panel written back loads to the same values, entities and labels."""
    for fmt in ("csv", "parquet"):
        out = tmp_path / f"rt_{fmt}"
        write_panel(panel, out, fmt=fmt)
        again = load_panel_quietly(out)
        assert again.entities == panel.entities
        assert (again.period_kind, again.start) == (panel.period_kind, panel.start) \
            or not any((~np.isnan(a)).any() for a in panel.values.values())
        for m, a in panel.values.items():
            if np.isnan(a).all():
                continue
            b = again.values[m]
            assert b.shape[1] == a.shape[1]
            rows = slice(again.start - panel.start, again.start - panel.start + b.shape[0])
            if m in panel.labels and m not in again.labels:
                # Without a policy a metric's type is inferred: a rating whose labels all read
                # as numbers once normalised ("0\x08" -> "0") reads back as numbers.
                assert all(values._number(w) is not None for w in panel.labels[m])
            elif m in panel.labels:
                words = lambda arr, labels: [None if v != v else labels[int(v)]
                                             for v in arr.ravel()]
                assert words(b, again.labels[m]) == words(a[rows], panel.labels[m])
            else:
                np.testing.assert_array_equal(b, a[rows])


# --- long and wide CSV --------------------------------------------------------------------------

@QUICK
@given(long_csv, st.integers(0, len(POLICY_INPUTS) - 1))
@example("entity,period,metric,value\r\nT1,2023-04,x,\"1\r\n2\"\r\n", 0)   # CRLF in a quote
@example("entity,period,metric,value\nT1,2023-04,x,1e999\nT1,2023-05,x,5\n", 1)
@example("entity,period,metric,value\n\u0663,2023-04,x,\u00e9\n", 0)     # multi-byte chars
# Found by the fuzzer: a period holding no values was lost when the panel was written back.
@example('\ufeffentity,period,metric,value\n"T1","2023-05","x","1"\n"T1","2023-04","x","nan"', 0)
@example('\ufeffentity,period,metric,value\n"T1","2023-04","x","nan"', 0)
@example('entity,period,metric,value\n"T1","2023-04","x","0\x08"', 0)     # label "0"
@example('entity,period,metric,value\n"T1","2023-04","x","1"\n"T1","2023-04","X","1"', 0)
@example('entity,period,metric,value\n"T1","2023-04","entity","1"', 0)    # a reserved name
# ...and a value written 1e3 before, and inf after, a block boundary was quoted as '1000'.
@example("entity,period,metric,value\nT1,2023-04,x,1e3\nT1,2023-04,x,inf\n", 1)
def test_long_csv(tmp_path_factory, text, choice):
    check_csv(tmp_path_factory.mktemp("long"), text, choice)


def at_length(fuzz_campaign, check, *strategies) -> None:
    """A slow campaign: `check(folder, *drawn)` for as long as `fuzz_campaign` runs, each
    example in a temporary folder removed after it (a campaign runs many thousands of
    examples: their files must not pile up)."""
    @SLOW
    @given(st.tuples(*strategies))
    def search(drawn):
        with tempfile.TemporaryDirectory(prefix="regime-fuzz-") as folder:
            check(Path(folder), *drawn)

    fuzz_campaign(search)


@pytest.mark.slow
def test_long_csv_at_length(fuzz_campaign):
    at_length(fuzz_campaign, check_csv, long_csv, st.integers(0, len(POLICY_INPUTS) - 1))


@QUICK
@given(wide_csv(), st.integers(0, len(POLICY_INPUTS) - 1))
@example("period,entity,x\n2023-04,001,1\n2023-05,001,abc\n", 0)     # numbers, then words
@example("entity,period,x\nT1,2023-04,1\nT2,2023-04,good\n", 5)
def test_wide_csv(tmp_path_factory, text, choice):
    check_csv(tmp_path_factory.mktemp("wide"), text, choice)


@pytest.mark.slow
def test_wide_csv_at_length(fuzz_campaign):
    at_length(fuzz_campaign, check_csv, wide_csv(), st.integers(0, len(POLICY_INPUTS) - 1))


# --- Parquet ------------------------------------------------------------------------------------

ARROW_COLUMNS = {
    "str": lambda d, n: pa.array(d(st.lists(st.one_of(st.none(), st.sampled_from(
        VALUES + ENTITY_IDS + PERIODS)), min_size=n, max_size=n)), pa.string()),
    "dict": lambda d, n: pa.array(d(st.lists(st.one_of(st.none(), st.sampled_from(
        PERIODS + ENTITY_IDS)), min_size=n, max_size=n)), pa.string()).dictionary_encode(),
    "float": lambda d, n: pa.array(d(st.lists(st.one_of(st.none(), st.floats()), min_size=n,
                                              max_size=n)), pa.float64()),
    "int": lambda d, n: pa.array(d(st.lists(st.one_of(st.none(), st.integers(-2**63, 2**63 - 1)),
                                            min_size=n, max_size=n)), pa.int64()),
    "bool": lambda d, n: pa.array(d(st.lists(st.one_of(st.none(), st.booleans()), min_size=n,
                                             max_size=n)), pa.bool_()),
    "date": lambda d, n: pa.array(d(st.lists(st.one_of(st.none(), st.dates(
        date(1900, 1, 1), date(2200, 1, 1))), min_size=n, max_size=n)), pa.date32()),
    "null": lambda d, n: pa.nulls(n),
    "list": lambda d, n: pa.array([[1.0]] * n, pa.list_(pa.float64())),
}


@st.composite
def parquet_tables(draw) -> pa.Table:
    n = draw(st.integers(0, 8))
    names = draw(st.lists(st.sampled_from(["entity", "period", "metric", "value", "Entity",
                                           "x", "flag_a", "cqc_overall_rating", " x", ""]),
                          min_size=1, max_size=5, unique=True))
    arrays = []
    for name in names:
        if name.lower() == "entity":
            kind = draw(st.sampled_from(["str", "dict", "int", "null"]))
        elif name == "period":
            kind = draw(st.sampled_from(["str", "dict", "date", "int", "null"]))
        else:
            kind = draw(st.sampled_from(list(ARROW_COLUMNS)))
        arrays.append(ARROW_COLUMNS[kind](draw, n))
    return pa.Table.from_arrays(arrays, names=names)


def check_parquet(tmp_path, table: pa.Table, choice: int) -> None:
    path = tmp_path / "data.parquet"
    pq.write_table(table, path)
    policy = policy_for(tmp_path, choice)
    result = outcome(lambda: load_panel(path, policy=policy))
    if result[0] == "panel":
        round_trip(tmp_path, load_panel_quietly(path, policy))


@QUICK
@given(parquet_tables(), st.integers(0, len(POLICY_INPUTS) - 1))
def test_parquet(tmp_path_factory, table, choice):
    check_parquet(tmp_path_factory.mktemp("pq"), table, choice)


@pytest.mark.slow
def test_parquet_at_length(fuzz_campaign):
    at_length(fuzz_campaign, check_parquet, parquet_tables(),
              st.integers(0, len(POLICY_INPUTS) - 1))


# --- decisions ----------------------------------------------------------------------------------

LEVELS = ["fine", "flagged", "Fine", "", "segment_1"]
decisions_csv = csv_files(
    ["entity", "period", "level", "decided_by", "reason"],
    [st.sampled_from(ENTITY_IDS + ["R1"]), st.sampled_from(PERIODS + ["2023-Q1", "2024-Q1"]),
     st.sampled_from(LEVELS), cells, st.text(max_size=20)])
decision_headers = st.sampled_from(["entity,period,level,decided_by,reason",
                                    "Entity, Period ,LEVEL", "entity,period", "entity;period;level",
                                    ""])


def check_decisions(tmp_path, data: bytes) -> None:
    path = tmp_path / "decisions.csv"
    path.write_bytes(data)
    checked = make_policy(tmp_path, {"x": "{type: number, better: higher}"})
    entities = Entities(("T1", "T2", "R1"), ("", "", ""), ("trust", "trust", "region"),
                        ("", "", ""), ("R1", "R1", ""), ("", "", ""))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        try:
            decided, by_cell = load_decisions(path, checked.policy, entities, "quarter",
                                              8093, 2)     # 2023-Q2 and 2023-Q3
        except DataError as e:
            assert e.diagnostics and all(d.message for d in e.diagnostics)
            return
    assert decided.shape == (2, 3)
    levels = {lv.id for lv in checked.policy.levels}
    for (t, e), d in by_cell.items():
        assert d.level in levels and not np.isnan(decided[t, e])
        assert entities.kinds[e] == "trust"         # a region is not decided on: warned
    apply_decisions(checked, entities, path, by_cell)


def apply_decisions(checked, entities: Entities, path, by_cell) -> None:
    """Evaluate with the decisions: both engines agree, and a decided cell has its level."""
    x = np.array([[1.0, np.nan, 5.0], [np.nan, 3.0, 2.0]])
    panel = Panel("quarter", 8093, 2, entities, {"x": x})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        runs = [evaluate(checked, panel, decisions=path, engine=engine)
                for engine in ("reference", "vectorised")]
    reference, vectorised = (r.raw for r in runs)
    assert np.array_equal(reference.level, vectorised.level)
    assert np.array_equal(reference.subject, vectorised.subject)
    for (t, e), d in by_cell.items():
        assert runs[0].level_ids[reference.level[t, e]] == d.level


def with_header(text: str, header: str | None) -> bytes:
    if header is not None:
        text = header + "\n" + text.split("\n", 1)[-1]
    return text.encode("utf-8")


@QUICK
@given(decisions_csv, st.one_of(st.none(), decision_headers))
@example("entity,period,level\nT1,2023-Q2,fine\nT1,2023-Q2,flagged\n", None)
@example("entity,period,level\nR1,2023-Q2,fine\nT1,1900-Q2,fine\n", None)
def test_decisions(tmp_path_factory, text, header):
    check_decisions(tmp_path_factory.mktemp("dec"), with_header(text, header))


@pytest.mark.slow
def test_decisions_at_length(fuzz_campaign):
    at_length(fuzz_campaign, check_decisions,
              st.tuples(decisions_csv, st.one_of(st.none(), decision_headers)).map(
                  lambda text_and_header: with_header(*text_and_header)))


@pytest.mark.slow
def test_decisions_from_any_bytes(fuzz_campaign):
    at_length(fuzz_campaign, check_decisions, st.binary(max_size=300))
