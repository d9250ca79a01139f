"""Periods: months, quarters and financial years as integer ordinals.

Written forms: `2019-03` (month), `2021-Q3` (calendar quarter, Jul-Sep 2021), `2021/22 Q3`
(financial-year quarter: the NHS year starts in April, so this is Oct-Dec 2021), `2005/06`
(financial year, Apr 2005 - Mar 2006). A month also parses from `2019-03-01`.

Data files hold periods of the NHS's lifetime: `check_plausible` rejects periods before 1948
(the NHS began on 5 July 1948) or after 2100, which are typos in the year (`0022-04`,
`9999-04`) that would otherwise make a panel span thousands of years.

Labels: outputs write a quarter in the calendar form above (`2025-Q4`) or, in the "nhs" style,
as its financial-year quarter (`2025/26 Q3`, the same quarter). `label_style` chooses: NHS
labels when asked (the CLI's `--period-labels nhs`), or by default when the policy decides on
financial-year quarters (`period: fy_quarter`) or the data wrote its periods that way; else
calendar. Months and financial years read the same in both styles.

Ordinals: month = year*12 + (month-1); quarter = year*4 + (q-1) on the calendar; year = the
calendar year in which the financial year starts. Financial years align with calendar
quarters, so every month belongs to exactly one quarter and one financial year.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass

KINDS = ("month", "quarter", "year")

FIRST_YEAR = 1948       # the NHS began on 5 July 1948
LAST_YEAR = 2100        # a later year in data is a typo

_MONTH_NAMES = ("January", "February", "March", "April", "May", "June", "July", "August",
                "September", "October", "November", "December")

_MONTH = re.compile(r"^(\d{4})-(\d{1,2})(?:-(\d{1,2}))?$")
_QUARTER = re.compile(r"^(\d{4})-?Q([1-4])$", re.IGNORECASE)
_FY_QUARTER = re.compile(r"^(\d{4})/(\d{2}) ?Q([1-4])$", re.IGNORECASE)
_FY = re.compile(r"^(\d{4})/(\d{2}|\d{4})$")


class PeriodError(ValueError):
    """A period that does not parse, with the reason in words."""


@dataclass(frozen=True, order=True)
class Period:
    kind: str
    ordinal: int

    def __str__(self) -> str:
        return format_period(self.kind, self.ordinal)


def parse_period(text: str, kind: str | None = None) -> Period:
    """Parse a written period; with `kind`, finer periods are converted to that kind."""
    text = str(text).strip()
    period = _parse(text)
    if kind is None or kind == period.kind:
        return period
    return convert(period, kind)


def _parse(text: str) -> Period:
    m = _FY_QUARTER.match(text)
    if m:
        start, end, q = int(m.group(1)), int(m.group(2)), int(m.group(3))
        _check_fy(start, end, text)
        # FY quarter 1 = Apr-Jun = calendar Q2 of the starting year
        return Period("quarter", start * 4 + q)  # start*4 + (q+1) - 1
    m = _QUARTER.match(text)
    if m:
        return Period("quarter", int(m.group(1)) * 4 + int(m.group(2)) - 1)
    m = _FY.match(text)
    if m:
        start = int(m.group(1))
        end = int(m.group(2))
        _check_fy(start, end if end >= 100 else end, text)
        return Period("year", start)
    m = _MONTH.match(text)
    if m:
        year, month = int(m.group(1)), int(m.group(2))
        if not 1 <= month <= 12:
            raise PeriodError(f"'{text}' has no month {month}")
        if m.group(3) is not None:
            day = int(m.group(3))
            if year == 0 or not 1 <= day <= calendar.monthrange(year, month)[1]:
                raise PeriodError(f"'{text}' is not a date: "
                                  + ("there is no year 0" if year == 0 else
                                     f"{_MONTH_NAMES[month - 1]} {year} has no day {day}"))
        return Period("month", year * 12 + month - 1)
    raise PeriodError(f"'{text}' is not a period (write 2019-03, 2021-Q3, 2021/22 Q3 or 2005/06)")


def _check_fy(start: int, end: int, text: str) -> None:
    expected = (start + 1) % 100 if end < 100 else start + 1
    if end != expected:
        raise PeriodError(f"'{text}' is not a financial year: {start} is followed by "
                          f"{start + 1}")


def check_plausible(period: Period, text: str | None = None) -> Period:
    """`period` if its first month falls in the years FIRST_YEAR to LAST_YEAR, else a
    PeriodError (a period of data outside the NHS's lifetime is a typo in the year)."""
    year = first_month(period) // 12
    if not FIRST_YEAR <= year <= LAST_YEAR:
        shown = text if text is not None else str(period)
        raise PeriodError(f"'{shown}' is outside the years {FIRST_YEAR} to {LAST_YEAR}: is the "
                          f"year mistyped?")
    return period


def format_period(kind: str, ordinal: int) -> str:
    if kind == "month":
        return f"{ordinal // 12:04d}-{ordinal % 12 + 1:02d}"
    if kind == "quarter":
        return f"{ordinal // 4:04d}-Q{ordinal % 4 + 1}"
    if kind == "year":
        return f"{ordinal:04d}/{(ordinal + 1) % 100:02d}"
    raise ValueError(kind)


def convert(period: Period, kind: str) -> Period:
    """The coarser period containing `period` (month -> quarter -> financial year)."""
    if period.kind == kind:
        return period
    rank = {"month": 0, "quarter": 1, "year": 2}
    if rank[kind] < rank[period.kind]:
        raise PeriodError(f"cannot turn a {period.kind} ({period}) into a {kind}: "
                          f"a {kind} is shorter")
    if period.kind == "month":
        year, month0 = divmod(period.ordinal, 12)
        if kind == "quarter":
            return Period("quarter", year * 4 + month0 // 3)
        return Period("year", year if month0 >= 3 else year - 1)
    # quarter -> financial year
    year, q0 = divmod(period.ordinal, 4)
    return Period("year", year if q0 >= 1 else year - 1)


def first_month(period: Period) -> int:
    """Month ordinal of the period's first month."""
    if period.kind == "month":
        return period.ordinal
    if period.kind == "quarter":
        return period.ordinal * 3
    return period.ordinal * 12 + 3


# --- labels as NHS people write them ------------------------------------------------------------

LABEL_STYLES = ("calendar", "nhs")


def label_style(asked: str = "auto", *, policy_labels: str | None = None,
                data_style: str | None = None) -> str:
    """The style outputs write periods in: `asked` ("calendar" or "nhs"), or for "auto" "nhs"
    when the policy decides on financial-year quarters (`period: fy_quarter`, its
    `period_labels`) or the data wrote its periods as they are (`2025/26 Q3`, a panel's
    `period_style`), else "calendar"."""
    if asked != "auto":
        return asked
    return "nhs" if "nhs" in (policy_labels, data_style) else "calendar"


def format_fy_quarter(ordinal: int) -> str:
    """A calendar quarter ordinal as its financial-year quarter: 2025-Q4 -> `2025/26 Q3`."""
    year, q0 = divmod(ordinal, 4)
    start = year if q0 >= 1 else year - 1          # Jan-Mar belongs to the year before's FY
    return f"{start:04d}/{(start + 1) % 100:02d} Q{(q0 - 1) % 4 + 1}"


def format_label(kind: str, ordinal: int, style: str = "calendar") -> str:
    """A period for a reader, in `style` ("calendar": 2025-Q4; "nhs": 2025/26 Q3)."""
    if style == "nhs" and kind == "quarter":
        return format_fy_quarter(ordinal)
    return format_period(kind, ordinal)


def written_style(text: str) -> str | None:
    """"nhs" when `text` is written as a financial-year quarter (2025/26 Q3), "calendar" for
    another period form, None when it is not a period."""
    text = str(text).strip()
    if _FY_QUARTER.match(text):
        return "nhs"
    try:
        _parse(text)
    except PeriodError:
        return None
    return "calendar"
