"""Importers for NHS England's published A&E statistics, into Panels.

Two formats:

- the monthly A&E provider return (`Monthly-AE-<Month>-<Year>.csv`, one row per provider and
  month, with `month, org_code, nhs_region, org_name` and NHS England's 18 count columns), as
  in `../shared/data/ae_monthly_provider_2023_2025/`;
- the NHS-R Community `ae_attendances` table (`period, org_code, type, attendances, breaches,
  admissions`, one row per provider, month and department type), as in
  `../shared/data/nhsr_ae_attendances_2016_2019/`.

Metrics (monthly): `ae_4hr_pct` (all department types, booked appointments included, as NHS
England computes it), `ae_type1_4hr_pct`, `ae_attendances`, `ae_type1_attendances`,
`ae_emergency_admissions`, and from the monthly return also `ae_12hr_dta_count` (waits of
over 12 hours from decision to admit).

The field-test trap: in Apr-May 2023 fourteen trusts (the Clinical Review of Standards field
sites) returned type-1 attendances but no 4-hour breaches, because they did not report the
4-hour measure. A type-1 department with thousands of attendances and not one breach is a gap,
not 100%: wherever a provider has type-1 attendances and zero type-1 breaches, both 4-hour
percentages are missing. The rule is general, not a list of trusts, so it also covers field
sites in other files.

Entities are of kind `trust`: type `acute` for providers with type-1 activity, else
`other_ae`; region from the file where it has one. With `trust_reference` (the folder
`../shared/data/trust_reference`), names, regions and types come from the ODS and CQC lists,
each trust's parent is its ICB (STP before 2022), and the ICBs (kind `ics`) and regions
(kind `region`) are added as entities. The ODS lists' three Welsh trusts (region W00) are not
given an English parent.
"""

from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping

import numpy as np

from .. import codes
from ..diagnostics import DataError, Diagnostic, did_you_mean
from ..files import DATA, read_input
from ..periods import PeriodError, check_plausible, parse_period
from .panel import Entities, Panel
from .read import _UTF16, _Errors, _fields, _looks_utf16, separator_hint
from .values import _clip

AE_MONTHLY_COUNTS = (
    "ae_attendances_type_1", "ae_attendances_type_2", "ae_attendances_other_ae_department",
    "ae_attendances_booked_appointments_type_1", "ae_attendances_booked_appointments_type_2",
    "ae_attendances_booked_appointments_other_department",
    "attendances_over_4hrs_type_1", "attendances_over_4hrs_type_2",
    "attendances_over_4hrs_other_department", "attendances_over_4hrs_booked_appointments_type_1",
    "attendances_over_4hrs_booked_appointments_type_2",
    "attendances_over_4hrs_booked_appointments_other_department",
    "waited_4_12hrs_dta_to_admission", "waited_12plus_hrs_dta_to_admission",
    "emergency_admissions_via_ae_type_1", "emergency_admissions_via_ae_type_2",
    "emergency_admissions_via_ae_other_department", "other_emergency_admissions",
)
AE_MONTHLY_COLUMNS = ("month", "org_code", "nhs_region", "org_name") + AE_MONTHLY_COUNTS
AE_ATTENDANCES_COLUMNS = ("period", "org_code", "type", "attendances", "breaches", "admissions")
AE_DEPARTMENT_TYPES = ("1", "2", "other")

REGION_NAMES = {"Y56": "London", "Y58": "South West", "Y59": "South East", "Y60": "Midlands",
                "Y61": "East of England", "Y62": "North West", "Y63": "North East and Yorkshire"}
TRUST_TYPES = {"Acute hospital - NHS non-specialist": "acute",
               "Acute hospital - NHS specialist": "specialist",
               "Mental health - community & residential - NHS": "mental_health",
               "Community health - NHS & Independent": "community",
               "Ambulance service": "ambulance"}


@dataclass(frozen=True)
class TrustReference:
    """Trust names, regions, systems and types from the ODS/CQC reference lists."""

    names: Mapping[str, str]
    regions: Mapping[str, str]            # trust -> region code (Y56 ...; W00 = Wales)
    systems: Mapping[str, str]            # trust -> ICB (or STP) code
    system_names: Mapping[str, str]
    types: Mapping[str, str]              # trust -> acute | specialist | mental_health | ...
    successors: Mapping[str, str]         # old trust code -> its latest successor


# --- public -------------------------------------------------------------------------------------

def import_ae_monthly(src: str | os.PathLike, *,
                      trust_reference: str | os.PathLike | None = None) -> Panel:
    """NHS England's monthly A&E provider return as a monthly Panel of trusts."""
    shown = os.fspath(src)
    errors = _Errors()
    table = _read(Path(src), shown, AE_MONTHLY_COLUMNS, errors)
    cells: dict[tuple[str, int], dict[str, float]] = {}
    attrs: dict[str, tuple[str, str]] = {}                  # code -> (name, region)
    first: dict[tuple[str, int], int] = {}
    for line, row in table:
        month = _month(row["month"], shown, line, table.col("month"), errors)
        code = row["org_code"]
        if not code:
            errors.add("empty org code in column 'org_code'", shown, line, table.col("org_code"))
            continue
        counts = {c: _count(row[c], c, shown, line, table.col(c), errors)
                  for c in AE_MONTHLY_COUNTS}
        if month is None or any(v is None for v in counts.values()):
            continue
        key = (code, month)
        if key in first:
            errors.add(f"duplicate row for org '{code}' in {row['month']} (first at line "
                       f"{first[key]})", shown, line, table.col("org_code"))
            continue
        first[key] = line
        attrs[code] = (row["org_name"], _region_name(row["nhs_region"]))
        c = counts
        att1 = c["ae_attendances_type_1"] + c["ae_attendances_booked_appointments_type_1"]
        br1 = c["attendances_over_4hrs_type_1"] + \
            c["attendances_over_4hrs_booked_appointments_type_1"]
        att = sum(c[k] for k in AE_MONTHLY_COUNTS[:6])
        br = sum(c[k] for k in AE_MONTHLY_COUNTS[6:12])
        admissions = sum(c[k] for k in AE_MONTHLY_COUNTS[14:17])
        cells[key] = _metrics(att, br, att1, br1, admissions)
        cells[key]["ae_12hr_dta_count"] = c["waited_12plus_hrs_dta_to_admission"]
    errors.raise_if_any(shown)
    ref = read_trust_reference(trust_reference, prefer="2025") if trust_reference else None
    return _panel(cells, attrs, ref, (shown,))


def import_ae_attendances(src: str | os.PathLike, *,
                          trust_reference: str | os.PathLike | None = None,
                          merge_successors: bool = False) -> Panel:
    """The NHS-R `ae_attendances` table as a monthly Panel of trusts.

    With `merge_successors` (needs `trust_reference`), codes of merged trusts are carried to
    their successor and their counts added up, so a trust's series runs across a merger."""
    shown = os.fspath(src)
    if merge_successors and trust_reference is None:
        raise DataError("merging successor trusts needs the trust reference folder")
    ref = read_trust_reference(trust_reference, prefer="2022") if trust_reference else None
    rename: Callable[[str], str] = (lambda c: ref.successors.get(c, c)) \
        if (ref is not None and merge_successors) else (lambda c: c)
    errors = _Errors()
    table = _read(Path(src), shown, AE_ATTENDANCES_COLUMNS, errors)
    sums: dict[tuple[str, int], list[float]] = {}   # att, br, att1, br1, admissions, unreported
    first: dict[tuple[str, int, str], int] = {}
    for line, row in table:
        month = _month(row["period"], shown, line, table.col("period"), errors)
        code, dtype = row["org_code"], row["type"]
        if not code:
            errors.add("empty org code in column 'org_code'", shown, line, table.col("org_code"))
            continue
        if dtype not in AE_DEPARTMENT_TYPES:
            errors.add(f"'{_clip(dtype)}' in column 'type' is not a department type (1, 2 or "
                       f"other){did_you_mean(dtype, AE_DEPARTMENT_TYPES)}", shown, line,
                       table.col("type"))
            continue
        att, br, adm = (_count(row[c], c, shown, line, table.col(c), errors)
                        for c in ("attendances", "breaches", "admissions"))
        if month is None or att is None or br is None or adm is None:
            continue
        key3 = (code, month, dtype)
        if key3 in first:
            errors.add(f"duplicate row for org '{code}', type {dtype} in {row['period']} "
                       f"(first at line {first[key3]})", shown, line, table.col("org_code"))
            continue
        first[key3] = line
        s = sums.setdefault((rename(code), month), [0.0] * 6)
        s[0] += att
        s[1] += br
        s[4] += adm
        if dtype == "1":
            s[2] += att
            s[3] += br
            # A type-1 department that returned no breaches did not report the measure.
            if att > 0 and br == 0:
                s[5] = 1.0
    errors.raise_if_any(shown)
    cells = {}
    for key, (att, br, att1, br1, adm, unreported) in sums.items():
        cells[key] = _metrics(att, br, att1, br1, adm, unreported=bool(unreported))
    attrs = {code: ("", "") for code, _ in cells}
    return _panel(cells, attrs, ref, (shown,))


def read_trust_reference(folder: str | os.PathLike, *, prefer: str = "2025") -> TrustReference:
    """Read the trust reference lists (ODS etr files, CQC trust types, ICB names, successors)."""
    folder = Path(folder)
    shown = os.fspath(folder)
    try:
        is_dir, exists = folder.is_dir(), folder.exists()
    except OSError as e:
        raise DataError(Diagnostic(f"cannot read the trust reference folder: "
                                   f"{e.strerror or e}", file=shown, code=codes.DATA)) from None
    if not is_dir:
        raise DataError(Diagnostic("the trust reference folder " + (
            "is a file, not a folder" if exists else "does not exist"), file=shown, code=codes.DATA))
    etr = ["etr_2025.csv", "etr_2022-03.csv"]
    if prefer == "2022":
        etr.reverse()
    names: dict[str, str] = {}
    regions: dict[str, str] = {}
    systems: dict[str, str] = {}
    for name in reversed(etr):                  # the preferred list is read last and wins
        for row in _dict_rows(folder / name, shown, _ETR_COLUMNS):
            if row.get("close_date"):
                continue
            code = row["org_code"]
            names[code] = row["org_name"]
            regions[code] = row["nhs_region_code"]
            systems[code] = row["icb_or_stp_code"]
    types = {row["trust_code"]: TRUST_TYPES[row["primary_category"]]
             for row in _dict_rows(folder / "brc_open_trust_types_2022.csv", shown,
                                   ("trust_code", "primary_category"))
             if row.get("primary_category") in TRUST_TYPES}
    system_names = {row["icb22_code_h"]: row["icb22_name"]
                    for row in _dict_rows(folder / "geographr_sicbl22_to_icb22.csv", shown,
                                          ("icb22_code_h", "icb22_name"))}
    succ: dict[str, set[str]] = {}
    for row in _dict_rows(folder / "geographr_org_successor_lookup.csv", shown,
                          ("old_code", "new_code")):
        succ.setdefault(row["old_code"], set()).add(row["new_code"])
    return TrustReference(names, regions, systems, system_names, types, _latest(succ))


# --- helpers ------------------------------------------------------------------------------------

def _latest(succ: Mapping[str, set[str]]) -> dict[str, str]:
    """Follow each code to its latest successor; a code split between several is left alone."""
    out = {}
    for code in succ:
        node, seen = code, {code}
        while len(succ.get(node, ())) == 1:
            (nxt,) = succ[node]
            if nxt in seen:
                break
            seen.add(nxt)
            node = nxt
        if node != code:
            out[code] = node
    return out


def _metrics(att: float, br: float, att1: float, br1: float, admissions: float,
             unreported: bool | None = None) -> dict[str, float]:
    if unreported is None:
        unreported = att1 > 0 and br1 == 0
    nan = float("nan")
    return {
        "ae_attendances": att,
        "ae_type1_attendances": att1,
        "ae_emergency_admissions": admissions,
        "ae_4hr_pct": nan if unreported or att <= 0 else 100.0 * (1.0 - br / att),
        "ae_type1_4hr_pct": nan if unreported or att1 <= 0 else 100.0 * (1.0 - br1 / att1),
    }


def _panel(cells: Mapping[tuple[str, int], Mapping[str, float]],
           attrs: Mapping[str, tuple[str, str]], ref: TrustReference | None,
           sources: tuple[str, ...]) -> Panel:
    if not cells:
        raise DataError(f"{sources[0]}: no data rows")
    codes = sorted({c for c, _ in cells})
    type1 = {c for (c, _), m in cells.items() if m["ae_type1_attendances"] > 0}
    months = [m for _, m in cells]
    start, n = min(months), max(months) - min(months) + 1
    index = {c: i for i, c in enumerate(codes)}
    metrics = sorted({k for m in cells.values() for k in m})
    values = {k: np.full((n, len(codes)), np.nan) for k in metrics}
    for (code, month), m in cells.items():
        for k, v in m.items():
            values[k][month - start, index[code]] = v
    rows = []
    for c in codes:
        name, region = attrs.get(c, ("", ""))
        typ = "acute" if c in type1 else "other_ae"
        parent = ""
        if ref is not None:
            name = ref.names.get(c, name)
            typ = ref.types.get(c, typ)
            rcode = ref.regions.get(c)
            if rcode in REGION_NAMES:
                region = REGION_NAMES[rcode]
                parent = ref.systems.get(c, "")
        rows.append((c, name, "trust", typ, parent, region))
    if ref is not None:
        systems = sorted({r[4] for r in rows if r[4]})
        sys_region = {}
        for r in rows:
            if r[4]:
                sys_region.setdefault(r[4], ref.regions[r[0]])
        region_codes = sorted(set(sys_region.values()))
        for s in systems:
            rc = sys_region[s]
            rows.append((s, ref.system_names.get(s, s), "ics", "", rc, REGION_NAMES[rc]))
        for rc in region_codes:
            rows.append((rc, REGION_NAMES[rc], "region", "", "", REGION_NAMES[rc]))
        for k in values:
            values[k] = np.concatenate(
                [values[k], np.full((n, len(rows) - len(codes)), np.nan)], axis=1)
    entities = Entities(*(tuple(col) for col in zip(*rows)))
    return Panel("month", start, n, entities, values, {}, sources)


@dataclass
class _Rows:
    header: list[str]
    records: list[tuple[int, dict[str, str]]]

    def col(self, name: str) -> int:
        return self.header.index(name) + 1

    def __iter__(self):
        return iter(self.records)


def _read(path: Path, shown: str, required: tuple[str, ...], errors: _Errors) -> _Rows:
    data = read_input(path, limit=DATA, shown=shown, error=DataError)
    if _looks_utf16(data):
        errors.add(_UTF16, shown, 1, 1)
        errors.raise_if_any(shown)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        bom = 3 if data.startswith(b"\xef\xbb\xbf") else 0
        at = e.start + bom
        line = data.count(b"\n", 0, at) + 1
        prefix = data[data.rfind(b"\n", 0, at) + 1:at].decode("utf-8", errors="replace")
        col = max(1, len(next(csv.reader([prefix]), [])))
        errors.add(f"the file is not UTF-8 text: byte 0x{data[at]:02x} cannot be decoded "
                   f"(save the file as UTF-8)", shown, line, col)
        errors.raise_if_any(shown)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        errors.add("the file is empty", shown, 1, 1)
        errors.raise_if_any(shown)
    except csv.Error as e:
        errors.add(f"the file is not valid CSV: {e}", shown, 1, 1)
        errors.raise_if_any(shown)
    hint = separator_hint(header)
    for name in required:
        if name not in header:
            errors.add(f"missing column '{name}'{did_you_mean(name, header)}", shown, 1, 1,
                       hint=hint)
            hint = None
    errors.raise_if_any(shown)
    records = []
    prev = reader.line_num
    try:
        for rec in reader:
            start, prev = prev + 1, reader.line_num
            if not rec or (len(rec) == 1 and not rec[0].strip()):
                continue
            if len(rec) != len(header):
                errors.add(f"the row has {_fields(len(rec))}, but the header has {len(header)}",
                           shown, start, min(len(rec), len(header)) + 1)
                continue
            records.append((start, {h: v.strip() for h, v in zip(header, rec)}))
    except csv.Error as e:
        errors.add(f"the file is not valid CSV: {e}", shown, reader.line_num, 1)
    return _Rows(header, records)


def _month(text: str, shown: str, line: int, col: int, errors: _Errors) -> int | None:
    try:
        p = check_plausible(parse_period(text), text)
    except PeriodError as e:
        errors.add(f"bad period: {e}", shown, line, col)
        return None
    if p.kind != "month":
        errors.add(f"'{text}' is not a month", shown, line, col)
        return None
    return p.ordinal


def _count(text: str, column: str, shown: str, line: int, col: int,
           errors: _Errors) -> float | None:
    try:
        # ASCII decimal only: float() would also read "1_000" and other scripts' digits.
        v = float(text) if text and text.isascii() and "_" not in text else \
            (float("nan") if not text else None)
    except ValueError:
        v = None
    if v is None or (v == v and (v < 0 or not v.is_integer())):
        errors.add(f"'{_clip(text)}' in column '{column}' is not a count", shown, line, col)
        return None
    return v


def _region_name(text: str) -> str:
    words = text.strip().upper().removeprefix("NHS ENGLAND").strip().split()
    return " ".join(w.lower() if w in ("AND", "OF") else w.capitalize() for w in words)


_ETR_COLUMNS = ("org_code", "org_name", "nhs_region_code", "icb_or_stp_code")


def _dict_rows(path: Path, folder: str, required: tuple[str, ...]) -> list[dict[str, str]]:
    """The rows of one reference list, which must have the `required` columns."""
    shown = os.path.join(folder, path.name)
    errors = _Errors()
    table = _read(path, shown, required, errors)
    errors.raise_if_any(shown)
    return [row for _, row in table]
