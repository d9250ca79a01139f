"""Working-day timetables: England and Wales bank holidays, and the trust special administration
stages checked against the two cases the regime has been used in (domain.md §2a)."""

from datetime import date
from pathlib import Path

import pytest

from rulesengine.analysis.timetable import (add_working_days, bank_holidays, easter_sunday,
                                            is_working_day, nth_working_day, schedule,
                                            working_days_between)
from rulesengine.policy.model import Stage, Timetable

ROOT = Path(__file__).resolve().parents[2]

# The statutory stages as enacted (Health Act 2009, NHS Act 2006 ss.65F-65K).
TSA = Timetable("appointment of the trust special administrator takes effect", (
    Stage("draft_report", "Draft report", 45, None, None),
    Stage("consultation", "Consultation", 30, None, None),
    Stage("final_report", "Final report", 15, None, None),
    Stage("decision", "Decision", 20, None, None),
))


def d(text: str) -> date:
    return date.fromisoformat(text)


# --- the calendar ------------------------------------------------------------------------------

@pytest.mark.parametrize("year, expected", [
    (1818, "1818-03-22"), (1961, "1961-04-02"), (2011, "2011-04-24"), (2019, "2019-04-21"),
    (2038, "2038-04-25"), (2285, "2285-03-22"),
])
def test_easter_by_the_computus(year, expected):
    assert easter_sunday(year) == d(expected)


# Published gov.uk lists for England and Wales.
@pytest.mark.parametrize("year, expected", [
    (2010, "01-01 04-02 04-05 05-03 05-31 08-30 12-27 12-28"),      # Christmas on a Saturday
    (2011, "01-03 04-22 04-25 04-29 05-02 05-30 08-29 12-26 12-27"),  # royal wedding
    (2012, "01-02 04-06 04-09 05-07 06-04 06-05 08-27 12-25 12-26"),  # spring moved; jubilee
    (2013, "01-01 03-29 04-01 05-06 05-27 08-26 12-25 12-26"),
    (2016, "01-01 03-25 03-28 05-02 05-30 08-29 12-26 12-27"),      # Christmas on a Sunday
    (2020, "01-01 04-10 04-13 05-08 05-25 08-31 12-25 12-28"),      # early May moved to VE Day
    (2022, "01-03 04-15 04-18 05-02 06-02 06-03 08-29 09-19 12-26 12-27"),
    (2023, "01-02 04-07 04-10 05-01 05-08 05-29 08-28 12-25 12-26"),  # coronation
    (2026, "01-01 04-03 04-06 05-04 05-25 08-31 12-25 12-28"),      # Boxing Day on a Saturday
])
def test_bank_holidays_england_and_wales(year, expected):
    assert sorted(bank_holidays(year)) == [d(f"{year}-{md}") for md in expected.split()]


def test_years_before_the_modelled_rules_are_refused():
    with pytest.raises(ValueError, match="before 1978"):
        bank_holidays(1977)


def test_working_days():
    assert not is_working_day(d("2012-06-05"))     # Diamond Jubilee
    assert not is_working_day(d("2022-09-19"))     # the Queen's funeral
    assert not is_working_day(d("2012-07-14"))     # a Saturday
    assert is_working_day(d("2012-07-16"))
    # a period beginning on a non-working day starts counting at the next working day
    assert nth_working_day(d("2012-07-14"), 1) == d("2012-07-16")
    assert add_working_days(d("2022-09-16"), 1) == d("2022-09-20")
    assert add_working_days(d("2022-09-16"), 0) == d("2022-09-16")
    assert working_days_between(d("2012-12-24"), d("2013-01-02")) == 5  # 24, 27, 28, 31, 2


# --- the trust special administration timetable ------------------------------------------------

def test_south_london_healthcare():
    """South London Healthcare NHS Trust: the appointment took effect on 16 Jul 2012 and an order
    extended the draft-report period to 75 working days beginning with that day (slht-ext). The
    draft report was published on 29 Oct 2012, the consultation ran 2 Nov - 13 Dec 2012
    (lexology-slht), the final report came on 8 Jan 2013 and the Secretary of State decided on
    31 Jan 2013 (navigator-slht)."""
    stages = schedule(TSA, d("2012-07-16"), working_days={"draft_report": 75},
                      begins_on={"decision"},
                      began={"consultation": d("2012-11-02")},
                      done={"draft_report": d("2012-10-29"), "consultation": d("2012-12-13"),
                            "final_report": d("2013-01-08"), "decision": d("2013-01-31")})
    due = {s.id: s.due for s in stages}
    # the draft report came on the last day of the extended period
    assert due["draft_report"] == d("2012-10-29")
    # 30 working days beginning with 2 Nov end on 13 Dec, the day the consultation closed
    assert due["consultation"] == d("2012-12-13")
    # 15 working days beginning the day after it closed, over Christmas: exactly 8 Jan 2013
    assert due["final_report"] == d("2013-01-08")
    # 20 working days beginning with the day the final report was received
    assert due["decision"] == d("2013-02-04")
    assert [s.late for s in stages] == [False, False, False, False]


def test_south_london_consultation_opened_within_five_working_days_of_the_draft():
    # s.65G(3): the first day must fall within 5 working days beginning with publication
    assert working_days_between(d("2012-10-29"), d("2012-11-02")) == 5


def test_south_london_without_the_extension_would_have_been_due_in_september():
    stages = schedule(TSA, d("2012-07-16"))
    assert stages[0].due == d("2012-09-17")    # 45 working days, past the 27 Aug bank holiday
    assert stages[0].done is None and stages[0].late is None


def test_mid_staffordshire_draft_report_due():
    """Mid Staffordshire NHS FT: the administrators' appointment took effect on 16 Apr 2013
    with 45 working days to report (expressandstar); the May bank holidays fall inside."""
    stages = schedule(TSA, d("2013-04-16"))
    assert stages[0].due == d("2013-06-19")
    assert working_days_between(d("2013-04-16"), d("2013-06-19")) == 45


def test_stages_chain_from_the_previous_deadline():
    stages = schedule(TSA, d("2013-04-16"))
    for before, after in zip(stages, stages[1:]):
        assert after.begins > before.due
    assert stages[1].begins == d("2013-06-20")
    # 45 + 30 + 15 + 20 = 110 working days in all
    assert working_days_between(stages[0].begins, stages[-1].due) == 110


def test_unknown_stage_names_are_reported():
    with pytest.raises(ValueError, match="no stage called 'draft'"):
        schedule(TSA, d("2013-04-16"), working_days={"draft": 65})


def test_failure2009_policy_timetable():
    """The policy file's timetable gives the same stages as the statute."""
    from rulesengine.policy.load import read_policy

    policy = read_policy(ROOT / "policies" / "failure2009.yaml", dirs=[ROOT / "policies"])
    assert [(s.id, s.working_days) for s in policy.timetable.stages] == [
        ("draft_report", 45), ("consultation", 30), ("final_report", 15), ("decision", 20)]
    stages = schedule(policy.timetable, d("2012-07-16"), working_days={"draft_report": 75},
                      begins_on={"decision"}, began={"consultation": d("2012-11-02")},
                      done={"consultation": d("2012-12-13")})
    assert stages[2].due == d("2013-01-08")
