"""Statutory timetables in English working days: when each stage of a policy's `timetable:` falls due.

The trust special administration regime (NHS Act 2006, Chapter 5A) counts its stages in
working days: a period of N working days "beginning with" a day counts that day as the first
if it is a working day. A working day is a weekday that is not a bank holiday in England and
Wales. Holidays are computed by rule (Easter by the Gregorian computus; the early May, spring
and summer bank holidays; New Year, Christmas and Boxing Day with their substitute days),
plus the one-off and moved holidays proclaimed for royal and national occasions.

Each stage begins the day after the previous stage ends (the first stage begins with the start
date), unless it is named in `begins_on`, when it begins on the day the previous one ended:
s.65K counts the Secretary of State's 20 days from the day the final report is received. Where
a stage actually ended (or began) on a known date, the following stages count from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from typing import Collection, Mapping

from ..policy.model import Timetable

FIRST_YEAR = 1978   # the early May bank holiday dates from 1978; earlier rules are not modelled

# Rule dates moved by proclamation: (year, holiday) -> the date it was held instead.
MOVED: dict[tuple[int, str], date] = {
    (1995, "early_may"): date(1995, 5, 8),    # VE Day, 50th anniversary
    (2020, "early_may"): date(2020, 5, 8),    # VE Day, 75th anniversary
    (2002, "spring"): date(2002, 6, 4),       # Golden Jubilee
    (2012, "spring"): date(2012, 6, 4),       # Diamond Jubilee
    (2022, "spring"): date(2022, 6, 2),       # Platinum Jubilee
}

# Extra bank holidays for one year only.
ONE_OFF: dict[date, str] = {
    date(1981, 7, 29): "Wedding of the Prince of Wales",
    date(1999, 12, 31): "Millennium",
    date(2002, 6, 3): "Golden Jubilee",
    date(2011, 4, 29): "Wedding of Prince William",
    date(2012, 6, 5): "Diamond Jubilee",
    date(2022, 6, 3): "Platinum Jubilee",
    date(2022, 9, 19): "State funeral of Queen Elizabeth II",
    date(2023, 5, 8): "Coronation of King Charles III",
}


def easter_sunday(year: int) -> date:
    """Easter Day in the Gregorian calendar (the anonymous Meeus/Jones/Butcher computus)."""
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    l = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * l) // 451
    month, day = divmod(h + l - 7 * m + 114, 31)
    return date(year, month, day + 1)


def _first_monday(year: int, month: int) -> date:
    d = date(year, month, 1)
    return d + timedelta(days=(7 - d.weekday()) % 7)


def _last_monday(year: int, month: int) -> date:
    nxt = date(year + (month == 12), month % 12 + 1, 1)
    d = nxt - timedelta(days=1)
    return d - timedelta(days=d.weekday())


def _with_substitutes(days: list[date]) -> list[date]:
    """Fixed-date holidays falling at a weekend move to the next weekday not already a holiday,
    in order (so Christmas on a Saturday is kept on Monday 27th and Boxing Day on Tuesday 28th)."""
    taken: list[date] = []
    for d in days:
        while d.weekday() >= 5 or d in taken:
            d += timedelta(days=1)
        taken.append(d)
    return taken


@lru_cache(maxsize=None)
def bank_holidays(year: int) -> frozenset[date]:
    """The bank holidays in England and Wales in a calendar year (from 1978)."""
    if year < FIRST_YEAR:
        raise ValueError(f"bank holidays before {FIRST_YEAR} are not modelled (asked for {year})")
    easter = easter_sunday(year)
    rules = {
        "early_may": _first_monday(year, 5),
        "spring": _last_monday(year, 5),
        "summer": _last_monday(year, 8),
    }
    days = {easter - timedelta(days=2), easter + timedelta(days=1)}
    days |= {MOVED.get((year, name), d) for name, d in rules.items()}
    days |= set(_with_substitutes([date(year, 1, 1)]))
    days |= set(_with_substitutes([date(year, 12, 25), date(year, 12, 26)]))
    days |= {d for d in ONE_OFF if d.year == year}
    return frozenset(days)


def is_working_day(d: date) -> bool:
    """A weekday that is not a bank holiday in England and Wales."""
    return d.weekday() < 5 and d not in bank_holidays(d.year)


def nth_working_day(begin: date, n: int) -> date:
    """The last day of a period of `n` working days beginning with `begin` (which counts as the
    first if it is a working day)."""
    if n < 1:
        raise ValueError(f"a period needs at least one working day, not {n}")
    d = begin
    count = 1 if is_working_day(d) else 0
    while count < n:
        d += timedelta(days=1)
        count += is_working_day(d)
    return d


def add_working_days(d: date, n: int) -> date:
    """The working day `n` working days after `d` (d itself not counted); d when n is 0."""
    if n < 0:
        raise ValueError(f"cannot add {n} working days")
    return nth_working_day(d + timedelta(days=1), n) if n else d


def working_days_between(start: date, end: date) -> int:
    """How many working days from `start` to `end`, both included (0 if end is before start)."""
    count, d = 0, start
    while d <= end:
        count += is_working_day(d)
        d += timedelta(days=1)
    return count


@dataclass(frozen=True)
class StageDates:
    """One stage of a timetable with its dates."""

    id: str
    label: str
    working_days: int
    begins: date            # the first day counted
    due: date               # the last day of the period: the statutory deadline
    done: date | None       # when it actually ended, if known

    @property
    def late(self) -> bool | None:
        """Whether it ended after its deadline (None while not known)."""
        return None if self.done is None else self.done > self.due


def schedule(timetable: Timetable, start: date, *,
             working_days: Mapping[str, int] | None = None,
             begins_on: Collection[str] = (),
             began: Mapping[str, date] | None = None,
             done: Mapping[str, date] | None = None) -> tuple[StageDates, ...]:
    """Each stage's deadline, counted from `start` (e.g. the day the appointment takes effect).

    `working_days` overrides a stage's length (an extension order); `begins_on` names stages
    that begin on the day the previous stage ended rather than the day after; `began` and
    `done` give actual dates, from which the following stages count.
    """
    working_days = dict(working_days or {})
    began = dict(began or {})
    done = dict(done or {})
    ids = {s.id for s in timetable.stages}
    for name, table in (("working_days", working_days), ("began", began), ("done", done),
                        ("begins_on", dict.fromkeys(begins_on))):
        unknown = sorted(set(table) - ids)
        if unknown:
            raise ValueError(f"{name}: no stage called {', '.join(map(repr, unknown))} "
                             f"(stages: {', '.join(s.id for s in timetable.stages)})")
    out: list[StageDates] = []
    previous_end: date | None = None
    for stage in timetable.stages:
        n = working_days.get(stage.id, stage.working_days)
        if stage.id in began:
            begins = began[stage.id]
        elif previous_end is None:
            begins = start
        elif stage.id in begins_on:
            begins = previous_end
        else:
            begins = previous_end + timedelta(days=1)
        due = nth_working_day(begins, n) if n else begins
        actual = done.get(stage.id)
        out.append(StageDates(stage.id, stage.label, n, begins, due, actual))
        previous_end = actual or due
    return tuple(out)
