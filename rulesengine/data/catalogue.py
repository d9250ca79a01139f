"""The metric catalogue: names, types and directions of the metrics regime knows.

It is the contract between the bundled policies (whose `inputs:` use these names) and the
sample data generator (which produces every one of them). Names follow domain.md §9.
A policy may read metrics outside the catalogue; real data then has to provide them.

`aggregate` names how a metric is turned from months into quarters or years when a policy's
input does not say (`rulesengine.data.bind`): it is set where the default for the type would be
wrong, i.e. for snapshots and year-to-date or annual figures (a waiting list, a cumulative
deficit, an annual plan), which must not be summed or averaged over months. `signed` marks a
percent that may be negative or exceed 100 (a margin, spend over a cap), which the loaders
then do not check against 0-100.
"""

from __future__ import annotations

from dataclasses import dataclass

TRUST_TYPES = ("acute", "specialist", "mental_health", "community", "ambulance")
CQC_SCALE = ("outstanding", "good", "requires_improvement", "inadequate")
CAPABILITY_SCALE = ("high", "medium", "low")


@dataclass(frozen=True)
class Metric:
    name: str
    type: str                   # percent number money count flag rating
    better: str | None          # higher | lower | None
    label: str
    kinds: tuple[str, ...]      # entity kinds that report it
    types: tuple[str, ...] = () # trust types that report it (empty = all of the kinds)
    scale: tuple[str, ...] = () # rating labels, best first
    unit: str | None = None
    aggregate: str | None = None   # months -> quarters/years when the policy does not say
    signed: bool = False           # a percent that may fall outside 0-100
    # the months the metric was published (the bundled sample has it only then): first and
    # last month, None = open-ended; e.g. CQC ratings from October 2013, 12-hour A&E from 2019
    since: str | None = None
    until: str | None = None


_ACUTE = ("acute",)
_ACUTE_SPEC = ("acute", "specialist")
_TRUST = ("trust",)
_ORGS = ("trust", "ccg", "pct", "sha")      # bodies with their own accounts
# The eras of the bodies (the bundled sample has data for each only in its era): SHAs and PCTs
# to March 2013, CCGs April 2013 to June 2022, ICSs (statutory ICBs from July 2022) from April
# 2021; trusts and regions throughout.
LIFETIMES = {"pct": (None, "2013-03"), "sha": (None, "2013-03"), "ccg": ("2013-04", "2022-06"),
             "ics": ("2021-04", None)}

METRICS: dict[str, Metric] = {m.name: m for m in [
    # access and waiting times
    Metric("ae_4hr_pct", "percent", "higher", "A&E 4-hour performance", _TRUST, _ACUTE),
    Metric("ae_type1_4hr_pct", "percent", "higher", "A&E 4-hour performance, type 1 departments",
           _TRUST, _ACUTE),
    Metric("ae_attendances", "count", None, "A&E attendances, all types", _TRUST, _ACUTE),
    Metric("ae_type1_attendances", "count", None, "A&E attendances, type 1 departments", _TRUST,
           _ACUTE),
    Metric("ae_12hr_pct", "percent", "lower", "A&E patients spending over 12 hours", _TRUST,
           _ACUTE, since="2019-04"),
    Metric("rtt_18wk_pct", "percent", "higher", "RTT pathways within 18 weeks", _TRUST,
           _ACUTE_SPEC, since="2007-04"),
    Metric("rtt_18wk_plan_gap_pp", "number", "lower",
           "RTT 18-week performance short of plan (points)", _TRUST, _ACUTE_SPEC, unit="pp", since="2024-04"),
    Metric("rtt_52wk_pct", "percent", "lower", "RTT waiting list over 52 weeks", _TRUST,
           _ACUTE_SPEC, since="2007-04"),
    Metric("rtt_52wk_count", "count", "lower", "RTT patients waiting over 52 weeks", _TRUST,
           _ACUTE_SPEC, aggregate="last", since="2007-04"),
    Metric("rtt_waiting_list_size", "count", "lower", "RTT waiting list", _TRUST, _ACUTE_SPEC,
           aggregate="last", since="2007-04"),
    Metric("cancer_62d_pct", "percent", "higher", "Cancer 62-day treatment standard", _TRUST,
           _ACUTE_SPEC, since="2009-04"),
    Metric("cancer_fds_28d_pct", "percent", "higher", "Cancer 28-day Faster Diagnosis Standard",
           _TRUST, _ACUTE_SPEC, since="2020-04"),
    Metric("diag_6wk_pct", "percent", "lower", "Diagnostic waits over 6 weeks", _TRUST,
           _ACUTE_SPEC, since="2006-04"),
    Metric("amb_cat1_mean_sec", "number", "lower", "Category 1 mean response time", _TRUST,
           ("ambulance",), unit="seconds", since="2017-10"),
    Metric("amb_cat2_mean_sec", "number", "lower", "Category 2 mean response time", _TRUST,
           ("ambulance",), unit="seconds", since="2017-10"),
    Metric("mh_ooa_placement_days", "number", "lower", "Inappropriate out-of-area placement days",
           _TRUST, ("mental_health",), unit="days", since="2016-10"),
    # quality
    Metric("cqc_overall_rating", "rating", None, "CQC overall rating", _TRUST, scale=CQC_SCALE, since="2013-10"),
    Metric("cqc_safe_rating", "rating", None, "CQC safe rating", _TRUST, scale=CQC_SCALE, since="2013-10"),
    Metric("cqc_effective_rating", "rating", None, "CQC effective rating", _TRUST,
           scale=CQC_SCALE, since="2013-10"),
    Metric("cqc_caring_rating", "rating", None, "CQC caring rating", _TRUST, scale=CQC_SCALE, since="2013-10"),
    Metric("cqc_responsive_rating", "rating", None, "CQC responsive rating", _TRUST,
           scale=CQC_SCALE, since="2013-10"),
    Metric("cqc_well_led_rating", "rating", None, "CQC well-led rating", _TRUST,
           scale=CQC_SCALE, since="2013-10"),
    Metric("cqc_enforcement_action", "flag", None, "CQC enforcement action in force", _TRUST, since="2013-07"),
    Metric("cqc_recommends_sm", "flag", None, "CQC recommends special measures", _TRUST, since="2013-07"),
    Metric("in_special_measures", "flag", None, "In quality or financial special measures",
           _ORGS),
    Metric("shmi", "number", "lower", "Summary Hospital-level Mortality Indicator", _TRUST,
           _ACUTE, unit="ratio", since="2011-10"),
    Metric("hcai_mrsa_rate", "number", "lower", "MRSA bacteraemia rate", _TRUST, _ACUTE_SPEC,
           unit="per 100k bed-days", since="2007-04"),
    Metric("hcai_cdiff_rate", "number", "lower", "C. difficile infection rate", _TRUST,
           _ACUTE_SPEC, unit="per 100k bed-days", since="2007-04"),
    Metric("hcai_ecoli_rate", "number", "lower", "E. coli bacteraemia rate", _TRUST, _ACUTE_SPEC,
           unit="per 100k bed-days", since="2011-07"),
    Metric("never_events_6m", "count", "lower", "Never events in the last 6 months", _TRUST,
           aggregate="last", since="2009-04"),
    # people
    Metric("staff_survey_engagement", "number", "higher", "NHS Staff Survey engagement score",
           _TRUST, unit="score 0-10", since="2013-04"),
    Metric("staff_survey_safety_culture", "number", "higher", "NHS Staff Survey safety culture",
           _TRUST, unit="score 0-10", since="2013-04"),
    Metric("sickness_absence_pct", "percent", "lower", "Staff sickness absence", _TRUST, since="2009-04"),
    Metric("staff_leaver_rate_pct", "percent", "lower", "Staff leaver rate", _TRUST, since="2010-04"),
    Metric("vacancy_rate_pct", "percent", "lower", "Staff vacancy rate", _TRUST, since="2014-04"),
    # finance and use of resources
    Metric("income_gbp", "money", None, "Annual income", _ORGS, aggregate="last"),
    Metric("planned_surplus_deficit", "money", "higher", "Planned surplus (+) or deficit (-)",
           _ORGS, aggregate="last"),
    Metric("ytd_surplus_deficit_pct", "percent", "higher",
           "Year-to-date surplus (+) or deficit (-) as % of income", _ORGS, aggregate="last",
           signed=True),
    Metric("financial_plan_variance", "money", "higher",
           "Year-to-date actual minus planned surplus/deficit", _ORGS, aggregate="last"),
    Metric("forecast_meets_plan", "flag", None, "Forecast to meet the financial plan", _ORGS,
           aggregate="last"),
    Metric("efficiency_plan_variance", "money", "higher",
           "Delivered minus planned efficiency savings", _ORGS, aggregate="last", since="2014-04"),
    Metric("agency_spend_vs_cap_pct", "percent", "lower", "Agency spend over the cap", _TRUST,
           signed=True, since="2016-04"),
    Metric("control_total_agreed", "flag", None, "Control total agreed", _ORGS,
           aggregate="last", since="2016-04"),
    Metric("deficit_flag", "flag", None, "Reports a deficit", _ORGS, aggregate="last"),
    Metric("deficit_support_flag", "flag", None, "Receives deficit support", _ORGS, since="2016-04"),
    Metric("deficit_gbp", "money", "lower", "Forecast outturn deficit (+) or surplus (-)", _ORGS,
           aggregate="last"),
    Metric("deficit_pct_income", "percent", "lower", "Forecast outturn deficit as % of income",
           _ORGS, aggregate="last", signed=True),
    Metric("cumulative_deficit_gbp", "money", "lower", "Accumulated deficit", _ORGS,
           aggregate="last"),
    Metric("liquidity_days", "number", "higher", "Liquidity", _TRUST, unit="days"),
    Metric("capital_service_capacity", "number", "higher", "Capital service capacity", _TRUST,
           unit="times", aggregate="last"),
    # leadership, licence and judgement inputs
    Metric("licence_breach_flag", "flag", None, "Actual or suspected licence breach", _TRUST, since="2013-04"),
    Metric("governance_failure_flag", "flag", None, "Catastrophic governance failure", _ORGS),
    Metric("capability_rating", "rating", None, "NHS England capability rating", _TRUST,
           scale=CAPABILITY_SCALE, since="2025-04"),
    # the Keogh mortality review (2013) and financial turnaround (2005-07)
    Metric("shmi_higher_than_expected", "flag", None, "SHMI banded 'higher than expected'",
           _TRUST, until="2013-07"),
    Metric("hsmr_higher_than_expected", "flag", None, "HSMR significantly above expected",
           _TRUST, until="2013-07"),
    Metric("keogh_review_found_failings", "flag", None,
           "Keogh review found failings needing special measures", _TRUST, since="2013-07",
           until="2013-07"),
    Metric("kpmg_management_rank", "number", "higher",
           "KPMG turnaround management-capacity rank (1 = unlikely to deliver ... 4 = capable)",
           ("trust", "pct", "sha"), since="2005-12", until="2007-03", unit="rank 1-4",
           aggregate="last"),
    # commissioners and systems
    Metric("ccg_streamlined_commissioning_on_track", "flag", None,
           "On track for streamlined commissioning by April 2022", ("ccg",), aggregate="last", since="2020-04"),
    Metric("mhis_met", "flag", None, "Mental Health Investment Standard met", ("ics", "ccg"),
           aggregate="last", since="2016-04"),
]}
