"""Synthetic sample data: a deterministic, realistic-looking NHS England for the bundled sample.

`synthesize(seed)` builds a Panel of 264 months (2004-04 to 2026-03) with each era's bodies:
about 220 trusts of the real types throughout, 152 PCTs and 10 SHAs to March 2013, 106 CCGs from
April 2013 to June 2022, 42 ICSs (ICBs from July 2022) from April 2021 with 55 local health
economies within them (the parents of trusts and CCGs; success2015's unit), and the 7 NHS regions,
with every metric of the catalogue for the entity kinds and trust types the catalogue lists, in
the months it was published (`Metric.since/until`) and each body's era (`LIFETIMES`): outside
them the values are missing; the entities table gives each body's lifetime and successor
(`synth_bodies.py`), so a body outside its era is not evaluated. Ids and names are plainly
synthetic (`T001`, `Synthetic Acute Trust T001`, `ICS01`, `P001`, `SHA01`); only the region
names are real. National trajectories follow the published series (A&E 4 hours about 98% in
2005-10 falling to about 70% by 2022; RTT 18 weeks about 92% to 2015 falling to about 58%;
cancer 62 days about 86% to 61%; trust deficits deepest in 2005/06 and 2015/16); the numbers
the generator is tuned to are in `rulesengine/data/fit_synth.py` (fitted by hand from
../shared/data, committed as constants).

How it is built (reference figures from domain.md and from the real files in ../shared/data,
summarised when this generator was written; no real rows are copied):

- Each trust has persistent latent traits: operational performance `q`, finance `fin`
  (correlation about 0.5 with `q`; access and finance correlate about 0.4-0.5 in the NOF
  2025/26 file) and leadership `lead` (tied to both), plus a shared effect of its ICS.
  Monthly series are a national trajectory + the trust's effect + AR(1) noise (in the real A&E
  data the trust effect has sd about 7 points, the monthly noise sd about 3.4 with lag-1
  correlation about 0.7).
- A&E 4-hour (all types): median about 70%, a winter dip of about 5 points, a March push,
  +1.3 points a year, a long lower tail (5th percentile in the mid-50s). Type-1 runs about 11
  points lower; 12-hour waits rise as 4-hour performance falls.
- RTT 18 weeks 55-65% with a slow rise; 52-week share from about 5% falling to 2.6% by 2025;
  cancer 62 days about 61% rising to 70%; FDS 72% to 78%; diagnostics over 6 weeks about 20%.
- Ambulance category 2 from about 50 minutes (Apr 2022) with the 90-minute December 2022 peak,
  to winter peaks near 46 minutes and about 28 minutes by March 2025.
- CQC ratings: about 5% outstanding, 50% good, 40% requires improvement, a few inadequate;
  safe is rated worse and caring better than overall. Trusts are re-inspected rarely (about
  2% a month, sooner after an inadequate rating), so ratings change rarely. Enforcement and
  special measures follow inadequate ratings: a handful of trusts are in special measures.
- Finance by financial year: most trusts in deficit (about 60-75% of trusts each year), the
  margin correlated with performance and clustered by ICS; year-to-date figures move through
  the year (deficits are front-loaded), forecasts assume the plan for the rest of the year.
- Governance failures are rare (two or three trusts and a CCG, for some months).
- Missing values on purpose: about 1.5% of values at random, and whole missing months (every
  metric) for a few trusts, as after an electronic patient record go-live.

Values are rounded as published (percentages to 0.1, money to £100k, ...), which also makes the
output identical on every machine, whatever the last bits of its floating point.
"""

from __future__ import annotations

import zlib

import numpy as np

from ..periods import parse_period
from .catalogue import CAPABILITY_SCALE, CQC_SCALE, LIFETIMES, METRICS
from .fit_synth import FITTED
from .panel import Panel
from .synth_bodies import N_MONTHS, N_YEARS, REGIONS, START, _Bodies

__all__ = ["REGIONS", "synthesize"]

# Decimal places kept, by type and for numbers and some percents by metric (as published;
# money to the nearest £100k).
_DECIMALS = {"percent": 1, "count": 0, "money": -5, "flag": 0, "rating": 0}
_NUMBER_DECIMALS = {"rtt_18wk_plan_gap_pp": 1, "amb_cat1_mean_sec": 0, "amb_cat2_mean_sec": 0,
                    "mh_ooa_placement_days": 0, "shmi": 3, "hcai_mrsa_rate": 2,
                    "hcai_cdiff_rate": 2, "hcai_ecoli_rate": 2, "staff_survey_engagement": 2,
                    "staff_survey_safety_culture": 2, "liquidity_days": 1,
                    "capital_service_capacity": 2, "kpmg_management_rank": 0}
_PERCENT_DECIMALS = {"rtt_52wk_pct": 2, "sickness_absence_pct": 2, "ytd_surplus_deficit_pct": 2,
                     "deficit_pct_income": 2}


# Published flags of one national review: no trust's is missing.
_NEVER_MISSING = {"shmi_higher_than_expected", "hsmr_higher_than_expected",
                  "keogh_review_found_failings", "kpmg_management_rank"}


def synthesize(seed: int) -> Panel:
    """A synthetic panel of NHS bodies and every catalogue metric, the same for the same seed."""
    world = _World(seed)
    world.build()
    return world.panel()


# --- the world: entities and latent traits ------------------------------------------------------

class _World(_Bodies):
    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.T = N_MONTHS
        self.start = parse_period(START).ordinal
        t = np.arange(self.T)
        self.t = t
        self.cal_month = (self.start + t) % 12 + 1          # 1 = January
        self.fy = t // 12                                   # 0 = 2004/05
        self.k = t % 12 + 1                                 # month of the financial year
        self.years = t / 12.0
        self.year = 2004.25 + t / 12.0                      # calendar time of each month
        winter = {12: 1.0, 1: 1.0, 11: 0.6, 2: 0.5, 10: 0.25, 3: 0.1}
        self.winter = np.array([winter.get(int(m), 0.0) for m in self.cal_month])
        self.march = (self.cal_month == 3).astype(float)
        self.values: dict[str, np.ndarray] = {}

    def nat(self, points: dict) -> np.ndarray:
        """A national trajectory per month, linear between {calendar year: value} points."""
        xs = sorted(points)
        return np.interp(self.year, xs, [points[x] for x in xs])

    def month(self, label: str) -> int:
        """Index of a month label (2013-07) in the panel."""
        return parse_period(label).ordinal - self.start

    def rng(self, name: str) -> np.random.Generator:
        """A generator per topic, so adding a metric does not change the others' values."""
        return np.random.default_rng([self.seed, zlib.crc32(name.encode())])

    # entities

    def build(self) -> None:
        self._entities()
        self._traits()
        self._access()
        self._quality()
        self._people()
        self._finance()
        self._leadership()
        self._systems()
        self._turnaround()
        self._missing()
        self._eras()
        self._round()
        self._economies()       # last: they add entities, not values

    def _traits(self) -> None:
        rng = self.rng("traits")
        n, n_ics = self.n_trust, len(self.region_of_ics)
        ics_q = rng.normal(0, 0.35, n_ics)
        ics_fin = rng.normal(0, 0.55, n_ics)
        self.q = rng.normal(0, 1, n) + ics_q[self.tics]
        self.q /= self.q.std()
        self.fin = 0.55 * self.q + np.sqrt(1 - 0.55 ** 2) * rng.normal(0, 1, n) + ics_fin[self.tics]
        self.fin /= self.fin.std()
        self.lead = 0.45 * self.q + 0.3 * self.fin + 0.75 * rng.normal(0, 1, n)
        self.lead /= self.lead.std()

    # helpers

    def mask(self, *types: str) -> np.ndarray:
        return np.flatnonzero(np.isin(self.ttype, types))

    def ar1(self, rng: np.random.Generator, n: int, rho: float, sd: float) -> np.ndarray:
        """Stationary AR(1) noise [months, n] with the given marginal sd."""
        out = np.empty((self.T, n))
        out[0] = rng.normal(0, sd, n)
        innov = rng.normal(0, sd * np.sqrt(1 - rho ** 2), (self.T, n))
        for i in range(1, self.T):
            out[i] = rho * out[i - 1] + innov[i]
        return out

    def put(self, metric: str, cols: np.ndarray, values: np.ndarray) -> None:
        arr = self.values.setdefault(metric, np.full((self.T, self.n_ent), np.nan))
        arr[:, cols] = values

    # access

    def _access(self) -> None:
        rng = self.rng("access")
        A = self.mask("acute")
        nA = A.size
        z = 0.85 * self.q[A] + 0.5 * rng.normal(0, 1, nA)
        effect = FITTED["ae_trust_sd"] * z - 1.5 * np.maximum(0, -z) ** 2   # a long lower tail
        # The 98% target era (2005-10): trusts bunch near the top and winters barely show.
        level = self.nat({2004.25: 90.0, 2005.5: 97.5, 2010.5: 97.0, 2012.0: 95.5, 2014.0: 94.0,
                          2016.0: 90.0, 2018.0: 87.0, 2019.9: 83.0, 2020.5: 88.0, 2021.5: 76.0,
                          2022.3: 70.0, 2025.2: 74.5, 2026.2: 76.0})
        squeeze = np.clip((100.0 - level) / 30.0, 0.15, 1.0)  # less spread near 100%
        nat = level - 4.5 * self.winter * squeeze * 2 + 1.5 * self.march * squeeze
        ae = nat[:, None] + effect[None, :] * squeeze[:, None] \
            + self.ar1(rng, nA, FITTED["ae_noise_rho"], FITTED["ae_noise_sd"]) * squeeze[:, None]
        ae = np.clip(ae, 35.0, 99.5)
        self.put("ae_4hr_pct", A, ae)
        gap = 11.0 + 3.0 * rng.normal(0, 1, nA)
        self.put("ae_type1_4hr_pct", A,
                 np.clip(ae - gap[None, :] - self.ar1(rng, nA, 0.5, 1.5), 20.0, 99.0))
        volume = rng.lognormal(np.log(14000), 0.35, nA)
        summer = np.isin(self.cal_month, (5, 6, 7)).astype(float)
        att = volume[None, :] * (1 + 0.02 * self.years + 0.06 * summer)[:, None] \
            * np.exp(self.ar1(rng, nA, 0.3, 0.03))
        share1 = np.clip(rng.normal(0.72, 0.08, nA), 0.45, 0.95)
        self.put("ae_attendances", A, np.round(att))
        self.put("ae_type1_attendances", A, np.round(att * share1[None, :]))
        twelve = np.exp(np.log(7.0) - 0.06 * (ae - 70.0) + 0.2 * rng.normal(0, 1, nA)[None, :]
                        + self.ar1(rng, nA, 0.5, 0.1))
        self.put("ae_12hr_pct", A, np.clip(twelve, 0.2, 40.0))

        # Elective care: acute and specialist trusts.
        S = self.mask("acute", "specialist")
        nS = S.size
        spec = (self.ttype[S] == "specialist").astype(float)
        z_rtt = 0.35 * self.q[S] + 0.94 * rng.normal(0, 1, nS)
        rtt_nat = self.nat({2007.25: 86.0, 2009.0: 94.5, 2015.0: 94.0, 2016.5: 91.0,
                            2018.0: 88.0, 2019.9: 84.5, 2020.6: 55.0, 2021.5: 66.0, 2022.3: 58.5,
                            2023.7: 57.0, 2025.2: 60.0, 2026.2: 62.0})
        rtt_sd = np.clip((100.0 - rtt_nat) / 8.0, 0.45, 1.0)   # near 95% trusts bunch
        rtt = rtt_nat[:, None] + (5.0 * z_rtt[None, :] + 6.0 * spec[None, :]) * rtt_sd[:, None] \
            + self.ar1(rng, nS, 0.85, 1.0)
        rtt = np.clip(rtt, 25.0, 99.5)
        self.put("rtt_18wk_pct", S, rtt)
        # Plans: the last month of the year before plus 5 points, the NHS planning ask.
        base = np.vstack([rtt[:1] - 1.0] + [rtt[12 * y - 1:12 * y] for y in range(1, N_YEARS)])
        plan = base[self.fy] + 5.0 * (self.k / 12.0)[:, None]
        self.put("rtt_18wk_plan_gap_pp", S, plan - rtt)
        size = np.where(spec > 0, rng.lognormal(np.log(20000), 0.7, nS),
                        rng.lognormal(np.log(48000), 0.5, nS))
        trend = self.nat({2007.25: 0.75, 2012.0: 0.6, 2016.0: 0.62, 2020.0: 0.7, 2021.5: 0.85,
                          2022.3: 0.95, 2023.7: 1.05, 2025.2: 0.97, 2026.2: 0.95})
        wl = size[None, :] * trend[:, None] * np.exp(self.ar1(rng, nS, 0.9, 0.02))
        self.put("rtt_waiting_list_size", S, np.round(wl))
        nat52 = self.nat({2007.25: 3.0, 2009.0: 0.6, 2012.0: 0.2, 2019.9: 0.1, 2020.5: 3.0,
                          2021.2: 8.0, 2022.3: 5.2, 2023.3: 5.2, 2025.2: 2.6, 2026.2: 2.0})
        p52 = nat52[:, None] * np.exp(-0.45 * z_rtt + 0.3 * rng.normal(0, 1, nS))[None, :] \
            * np.exp(self.ar1(rng, nS, 0.8, 0.08))
        p52 = np.clip(p52, 0.0, 30.0)
        self.put("rtt_52wk_pct", S, p52)
        self.put("rtt_52wk_count", S, np.round(wl * p52 / 100.0))
        z_c = 0.3 * self.q[S] + 0.95 * rng.normal(0, 1, nS)
        c62_nat = self.nat({2009.25: 86.5, 2014.0: 85.5, 2016.0: 82.5, 2019.0: 78.5, 2021.0: 73.0,
                            2022.3: 61.0, 2025.2: 71.5, 2026.2: 73.0})
        c62 = c62_nat[:, None] + 8.0 * z_c[None, :] + 3.0 * spec[None, :] \
            + self.ar1(rng, nS, 0.4, 3.0)
        self.put("cancer_62d_pct", S, np.clip(c62, 20.0, 100.0))
        z_f = 0.6 * z_c + 0.8 * rng.normal(0, 1, nS)
        fds_nat = self.nat({2020.25: 72.0, 2022.3: 72.0, 2025.2: 79.5, 2026.2: 80.0})
        fds = fds_nat[:, None] + 5.0 * z_f[None, :] + self.ar1(rng, nS, 0.5, 2.5)
        self.put("cancer_fds_28d_pct", S, np.clip(fds, 30.0, 100.0))
        nat_d = self.nat({2006.25: 20.0, 2008.25: 2.0, 2013.0: 1.2, 2017.0: 2.0, 2019.9: 3.0,
                          2020.5: 40.0, 2021.3: 25.0, 2022.3: 25.0, 2025.2: 17.5, 2026.2: 16.0})
        z_d = -0.3 * self.q[S] + 0.95 * rng.normal(0, 1, nS)
        diag = nat_d[:, None] * np.exp(0.5 * z_d)[None, :] * np.exp(self.ar1(rng, nS, 0.6, 0.1))
        self.put("diag_6wk_pct", S, np.clip(diag, 0.0, 100.0))

        # Ambulance response times (seconds).
        M = self.mask("ambulance")
        nM = M.size
        za = -0.5 * self.q[M] + 0.85 * rng.normal(0, 1, nM)
        bad_winter = ((self.year >= 2022.25) & (self.year < 2023.25)).astype(float)   # 2022/23
        cat1 = (self.nat({2017.75: 7.5, 2020.0: 7.2, 2021.5: 8.5, 2022.3: 9.2, 2023.3: 8.4,
                          2026.2: 7.9})
                + 0.7 * self.winter * (1 + bad_winter)) * 60.0
        self.put("amb_cat1_mean_sec", M, cat1[:, None] * np.exp(0.08 * za)[None, :]
                 * np.exp(self.ar1(rng, nM, 0.5, 0.03)))
        amp = np.where(bad_winter > 0, 1.5, 0.55)
        cat2_base = self.nat({2017.75: 22.0, 2019.0: 24.0, 2020.3: 22.0, 2021.4: 33.0,
                              2022.3: 48.0, 2022.9: 38.0, 2023.3: 32.0, 2025.2: 28.0,
                              2026.2: 27.0})
        cat2 = cat2_base * (1 + amp * self.winter * 0.6) * 60.0
        self.put("amb_cat2_mean_sec", M, cat2[:, None] * np.exp(0.15 * za)[None, :]
                 * np.exp(self.ar1(rng, nM, 0.5, 0.06)))

        # Mental health out-of-area placements (bed days a month): skewed, many near zero.
        H = self.mask("mental_health")
        nH = H.size
        base = rng.lognormal(np.log(120), 1.1, nH) * (rng.random(nH) > 0.15)
        trend = self.nat({2016.75: 1.2, 2019.0: 1.4, 2022.3: 1.0, 2023.8: 1.0, 2025.2: 0.75,
                          2026.2: 0.7})
        self.put("mh_ooa_placement_days", H, np.round(
            base[None, :] * trend[:, None] * np.exp(self.ar1(rng, nH, 0.6, 0.3))))

    # quality

    def _quality(self) -> None:
        rng = self.rng("quality")
        n = self.n_trust
        offset = {"acute": 0.0, "specialist": 0.6, "mental_health": -0.1, "community": 0.3,
                  "ambulance": -0.3}
        cq = 0.55 * self.q + 0.45 * self.lead + 0.35 * rng.normal(0, 1, n)
        cq = cq / cq.std() + np.array([offset[t] for t in self.ttype])
        domains = {"cqc_safe_rating": -0.55, "cqc_effective_rating": 0.2, "cqc_caring_rating": 1.05,
                   "cqc_responsive_rating": -0.25, "cqc_well_led_rating": 0.0}
        cuts = np.array([1.55, -0.2, -2.0])             # outstanding | good | RI | inadequate

        def rate(latent: np.ndarray) -> np.ndarray:
            return (latent < cuts[0]).astype(float) + (latent < cuts[1]) + (latent < cuts[2])

        overall = np.full((self.T, n), np.nan)
        dom = {d: np.full((self.T, n), np.nan) for d in domains}
        noise = {d: 0.55 * rng.normal(0, 1, n) for d in domains}
        current = cq.copy()
        rated = rng.random(n) > 0.02                    # a few trusts not yet rated
        cur_overall = np.where(rated, rate(current), np.nan)
        cur_dom = {d: np.where(rated, rate(current + o + noise[d]), np.nan)
                   for d, o in domains.items()}
        inspected = np.zeros((self.T, n), dtype=bool)
        i0 = self.month("2013-10")           # the CQC's new inspections and ratings begin
        for i in range(i0, self.T):
            p = np.where(cur_overall == 3, 0.06, np.where(np.isnan(cur_overall), 0.08, 0.018))
            due = rng.random(n) < p
            inspected[i] = due
            if due.any():
                # Inadequate trusts get support and tend to improve; others drift slowly.
                drift = np.where(cur_overall[due] == 3, 0.6, -0.02) + rng.normal(0, 0.35, due.sum())
                current[due] = current[due] + drift
                cur_overall[due] = rate(current[due])
                for d, o in domains.items():
                    fresh = 0.6 * noise[d][due] + 0.8 * 0.55 * rng.normal(0, 1, due.sum())
                    cur_dom[d][due] = rate(current[due] + o + fresh)
            overall[i] = cur_overall
            for d in domains:
                dom[d][i] = cur_dom[d]
        cols = self.trust_cols
        self.put("cqc_overall_rating", cols, overall)
        for d in domains:
            self.put(d, cols, dom[d])
        self.overall = overall
        well_led = dom["cqc_well_led_rating"]
        n_inadequate = sum((dom[d] == 3).astype(int) for d in domains)
        recommends = ((overall == 3) & ((well_led == 3) | (n_inadequate >= 2))).astype(float)
        self.put("cqc_recommends_sm", cols, recommends)
        # Enforcement: follows an inadequate rating (most) or requires improvement (a few),
        # and lasts until the next inspection or 6-18 months.
        enforce = np.zeros((self.T, n))
        state = (((overall[0] == 3) & (rng.random(n) < 0.7))
                 | ((overall[0] == 2) & (rng.random(n) < 0.04)))
        left = np.where(state, rng.integers(3, 18, n), 0)
        for i in range(self.T):
            new = inspected[i] & (((overall[i] == 3) & (rng.random(n) < 0.8))
                                  | ((overall[i] == 2) & (rng.random(n) < 0.05)))
            ended = inspected[i] & (overall[i] < 2)
            left = np.where(new, rng.integers(6, 19, n), np.where(ended, 0, left))
            enforce[i] = left > 0
            left = np.maximum(left - 1, 0)
        self.put("cqc_enforcement_action", cols, enforce)
        # Mortality: SHMI (published from Oct 2011) and the outlier flags of the Keogh era.
        A = self.mask("acute")
        shmi_z = -0.5 * self.q[A] + 0.87 * rng.normal(0, 1, A.size)
        shmi_level = 1.0 + 0.1 * shmi_z
        self.put("shmi", A, shmi_level[None, :] + self.ar1(rng, A.size, 0.95, 0.015))
        # Keogh (2013): 14 acute trusts were SHMI or HSMR outliers for the two years to 2013;
        # the review placed 11 in special measures on 16 Jul 2013 (hsj-keogh11).
        keogh = A[np.argsort(-shmi_z)[:FITTED["keogh_reviewed"]]]
        placed = keogh[rng.permutation(keogh.size)[:FITTED["keogh_placed"]]]
        blips = (rng.random((self.T, n)) < 0.02).astype(float)
        shmi_flag = blips.copy()
        hsmr_flag = (rng.random((self.T, n)) < 0.02).astype(float)
        k0, k1 = self.month("2011-07"), self.month("2013-07")
        shmi_flag[k0:k1 + 1, keogh[:5]] = 1          # the first five were named on SHMI
        hsmr_flag[k0:k1 + 1, keogh[5:]] = 1          # nine more as two-year HSMR outliers
        self.put("shmi_higher_than_expected", self.trust_cols, shmi_flag)
        self.put("hsmr_higher_than_expected", self.trust_cols, hsmr_flag)
        found = np.zeros((self.T, n))
        found[k1, placed] = 1
        self.put("keogh_review_found_failings", self.trust_cols, found)
        # Special measures (from July 2013): the Keogh trusts first, then on the CQC's
        # recommendation (a month later); left after a better rating or about two and a half
        # years. From July 2021 the flag stands for the Recovery Support Programme.
        sm = np.zeros((self.T, n))
        in_sm = np.zeros(n, dtype=bool)
        months_in = np.zeros(n, dtype=int)
        for i in range(k1, self.T):
            if i == k1:
                in_sm[placed] = True
            else:
                in_sm |= recommends[i - 1] > 0
                better = inspected[i] & (overall[i] <= 2) & (well_led[i] <= 2)
                tired = months_in > 30
                in_sm &= ~(better | tired)
            months_in = np.where(in_sm, months_in + 1, 0)
            sm[i] = in_sm
        self.put("in_special_measures", cols, sm)
        # Commissioners in (financial) special measures: a couple of CCGs at a time (2016-21).
        ccg_sm = np.zeros((self.T, self.ccg_cols.size))
        f0 = self.month("2016-07")
        for j in rng.choice(self.ccg_cols.size, size=9, replace=False):
            a = f0 + int(rng.integers(0, 24))
            ccg_sm[a:a + int(rng.integers(12, 30)), j] = 1
        self.put("in_special_measures", self.ccg_cols, ccg_sm)
        for other in (self.pct_cols, self.sha_cols):
            self.put("in_special_measures", other, np.zeros((self.T, other.size)))

        # Infections.
        S = self.mask("acute", "specialist")
        nS = S.size
        bed_days = np.where(self.ttype[S] == "specialist", rng.lognormal(np.log(8000), 0.5, nS),
                            rng.lognormal(np.log(25000), 0.4, nS))
        for metric, rate0 in (("hcai_cdiff_rate", 16.0), ("hcai_ecoli_rate", 11.0),
                              ("hcai_mrsa_rate", 0.9)):
            lam = rate0 * np.exp(0.3 * rng.normal(0, 1, nS) - 0.1 * self.q[S]) * bed_days / 1e5
            counts = rng.poisson(lam[None, :], (self.T + 11, nS))
            # Published as rolling 12-month rates per 100,000 bed days.
            roll = np.cumsum(counts, axis=0)
            roll = roll[11:] - np.vstack([np.zeros((1, nS)), roll[:-12]])
            self.put(metric, S, roll / (12 * bed_days[None, :]) * 1e5)
        lam = np.array([{"acute": 0.22, "specialist": 0.12}.get(t, 0.03) for t in self.ttype])
        lam = lam * np.exp(0.4 * rng.normal(0, 1, self.n_trust))
        events = rng.poisson(lam[None, :], (self.T + 5, self.n_trust))
        roll = np.cumsum(events, axis=0)
        roll = roll[5:] - np.vstack([np.zeros((1, self.n_trust)), roll[:-6]])
        self.put("never_events_6m", cols, roll)

    # people

    def _people(self) -> None:
        rng = self.rng("people")
        n = self.n_trust
        cols = self.trust_cols
        typ = self.ttype
        eng_off = np.array([{"ambulance": -0.5, "mental_health": 0.1, "community": 0.15,
                             "specialist": 0.2}.get(t, 0.0) for t in typ])
        # The staff survey is published each March and stands for the following year.
        survey = np.clip((self.t + 1) // 12, 0, N_YEARS)    # 0: the survey before 2004/05
        nat = np.interp(np.arange(N_YEARS + 1), [0, 9, 16, 18, 21, 22],
                        [6.7, 6.7, 7.0, 6.8, 6.9, 6.9])
        z_eng = 0.7 * self.lead + 0.7 * rng.normal(0, 1, n)
        drift = np.cumsum(rng.normal(0, 0.08, (N_YEARS + 1, n)), axis=0)
        eng = nat[:, None] + 0.27 * z_eng[None, :] + eng_off[None, :] + drift
        self.put("staff_survey_engagement", cols, eng[survey])
        safety = nat[:, None] - 0.35 + 0.25 * (0.8 * z_eng + 0.6 * rng.normal(0, 1, n))[None, :] \
            + 0.8 * eng_off[None, :] + drift
        self.put("staff_survey_safety_culture", cols, safety[survey])
        sick_off = np.array([{"ambulance": 1.2, "mental_health": 0.5, "community": 0.4,
                              "specialist": -0.6}.get(t, 0.0) for t in typ])
        sick_nat = self.nat({2009.25: 4.4, 2019.9: 4.3, 2020.3: 6.0, 2022.3: 6.1, 2024.0: 5.3,
                             2026.2: 5.0}) + 0.7 * self.winter
        sick = sick_nat[:, None] + (0.7 * (-0.4 * self.lead + 0.9 * rng.normal(0, 1, n))
                                    + sick_off)[None, :] + self.ar1(rng, n, 0.6, 0.25)
        self.put("sickness_absence_pct", cols, np.clip(sick, 1.0, 15.0))
        leave_off = np.array([{"mental_health": 1.0, "community": 1.0}.get(t, 0.0) for t in typ])
        leave = self.nat({2010.25: 11.0, 2017.0: 12.5, 2021.0: 11.5, 2022.3: 12.5, 2025.2: 9.5,
                          2026.2: 9.3})[:, None] \
            + (1.8 * (-0.3 * self.lead + 0.95 * rng.normal(0, 1, n)) + leave_off)[None, :] \
            + self.ar1(rng, n, 0.9, 0.2)
        self.put("staff_leaver_rate_pct", cols, np.clip(leave, 3.0, 30.0))
        london = (self.tregion == 0).astype(float)
        vac = self.nat({2014.25: 7.0, 2017.0: 8.5, 2020.0: 8.0, 2022.3: 9.8, 2025.2: 7.0,
                        2026.2: 6.8})[:, None] \
            + (2.2 * rng.normal(0, 1, n) + 2.0 * london - 0.5 * self.lead)[None, :] \
            + self.ar1(rng, n, 0.8, 0.4)
        self.put("vacancy_rate_pct", cols, np.clip(vac, 0.5, 30.0))

    # finance

    def _finance(self) -> None:
        rng = self.rng("finance")
        T, k, NY = self.T, self.k, N_YEARS
        n, n_ccg = self.n_trust, self.ccg_cols.size
        n_pct, n_sha = self.pct_cols.size, self.sha_cols.size
        med = {"acute": 520e6, "specialist": 350e6, "mental_health": 260e6, "community": 170e6,
               "ambulance": 330e6}
        sig = {"acute": 0.5, "specialist": 0.6, "mental_health": 0.4, "community": 0.4,
               "ambulance": 0.25}
        # Incomes at 2022/23 prices, deflated back in time (about 4.5% a year in cash terms).
        income22 = np.concatenate([
            np.array([rng.lognormal(np.log(med[t]), sig[t]) for t in self.ttype]),
            rng.lognormal(np.log(650e6), 0.45, n_ccg),
            rng.lognormal(np.log(450e6), 0.4, n_pct),
            rng.lognormal(np.log(60e6), 0.3, n_sha)])
        m = n + n_ccg + n_pct + n_sha
        fin = np.concatenate([self.fin, rng.normal(0, 1, m - n)])
        is_trust = np.arange(m) < n
        off = np.concatenate([np.array([{"specialist": 0.8, "mental_health": 0.5,
                                         "community": 0.6, "ambulance": 0.4}.get(t, 0.0)
                                        for t in self.ttype]), np.zeros(m - n)])
        # Outturn margin (% of income) per financial year, 2004/05 to 2025/26 (fit_synth):
        # about a third of bodies in deficit in 2005/06, surpluses 2007-13, most trusts in
        # deficit from 2015/16 except in the COVID years.
        mu = np.where(is_trust[None, :], np.array(FITTED["trust_margin_mu"])[:, None],
                      np.array(FITTED["commissioner_margin_mu"])[:, None])
        scale = np.where(is_trust[None, :], np.array(FITTED["trust_margin_sd"])[:, None],
                         np.array(FITTED["commissioner_margin_sd"])[:, None])
        persist = fin[None, :] * 0.85 + 0.5 * rng.normal(0, 1, (NY, m))
        margin = mu + off[None, :] + scale * persist / np.sqrt(0.85 ** 2 + 0.25)
        income = income22[None, :] * 1.045 ** (np.arange(NY) - 18)[:, None]     # [NY, m]
        inc_t = income[self.fy]                                                  # [T, m]
        # Plans are set before the year: optimistic, and often exactly break-even.
        plan = margin + rng.normal(0.4, 0.7, (NY, m))
        breakeven = (np.abs(plan) < 1.5) & (rng.random((NY, m)) < 0.4)
        plan = np.where(breakeven, 0.0, plan)
        plan_t = plan[self.fy]
        # Month-by-month margins: deficits are front-loaded and recovered later in the year.
        front = 0.9 * (6.5 - k) / 5.5
        monthly = margin[self.fy] - front[:, None] + rng.normal(0, 1.6, (T, m))
        ytd = np.empty((T, m))
        for y in range(NY):
            sl = slice(12 * y, 12 * y + 12)
            ytd[sl] = np.cumsum(monthly[sl], axis=0) / k[sl, None]
        forecast = ytd * (k / 12.0)[:, None] + plan_t * ((12 - k) / 12.0)[:, None] \
            + rng.normal(0.2, 0.3, (T, m)) * ((12 - k) / 12.0)[:, None]
        all_cols = np.concatenate([self.trust_cols, self.ccg_cols, self.pct_cols, self.sha_cols])
        self.put("income_gbp", all_cols, inc_t)
        self.put("planned_surplus_deficit", all_cols, plan_t / 100.0 * inc_t)
        self.put("ytd_surplus_deficit_pct", all_cols, ytd)
        self.put("deficit_flag", all_cols, (np.round(ytd, 2) < 0).astype(float))
        self.put("financial_plan_variance", all_cols,
                 (ytd - plan_t) / 100.0 * inc_t * (k / 12.0)[:, None])
        # "meets plan" within half a point of income: plans are revised within that margin
        self.put("forecast_meets_plan", all_cols, (forecast >= plan_t - 0.5).astype(float))
        self.put("deficit_gbp", all_cols, -forecast / 100.0 * inc_t)
        self.put("deficit_pct_income", all_cols, -forecast)
        support_p = np.where(margin < -1.5, 0.7, np.where(margin < 0, 0.25, 0.0))
        support = (rng.random((NY, m)) < support_p).astype(float)
        self.put("deficit_support_flag", all_cols, support[self.fy])
        cum = np.empty((T, m))
        start_stock = income[0] * np.maximum(0.0, 0.04 * (-fin - 0.3)
                                             + 0.01 * rng.normal(0, 1, m))
        for y in range(NY):
            sl = slice(12 * y, 12 * y + 12)
            cum[sl] = np.maximum(0.0, start_stock[None, :]
                                 - ytd[sl] / 100.0 * inc_t[sl] * (k[sl] / 12.0)[:, None])
            start_stock = cum[12 * y + 11]
        self.put("cumulative_deficit_gbp", all_cols, cum)
        cip = 0.045 * income
        delivered = np.clip(0.9 + 0.06 * fin[None, :] + rng.normal(0, 0.08, (NY, m)), 0.5, 1.15)
        ramp = 0.8 + 0.2 * k / 12.0                    # schemes deliver late in the year
        plan_ytd = cip[self.fy] * (k / 12.0)[:, None]
        self.put("efficiency_plan_variance", all_cols,
                 plan_ytd * (delivered[self.fy] * ramp[:, None] - 1.0))
        agreed_p = 1.0 / (1.0 + np.exp(-(2.0 + 1.0 * fin)))
        self.put("control_total_agreed", all_cols,
                 (rng.random((NY, m)) < agreed_p[None, :]).astype(float)[self.fy])
        # Trust-only finance.
        tf = self.fin
        london = (self.tregion == 0).astype(float)
        cap_nat = self.nat({2016.25: 30.0, 2019.0: 5.0, 2021.0: 10.0, 2022.3: 18.0, 2023.3: 2.0,
                            2024.3: -25.0, 2026.2: -30.0})
        trust_effect = 22.0 * rng.normal(0, 1, n) - 8.0 * tf + 10.0 * london
        agency = cap_nat[:, None] + trust_effect[None, :] + self.ar1(rng, n, 0.6, 8.0)
        self.put("agency_spend_vs_cap_pct", self.trust_cols, agency)
        liq = self.nat({2004.25: 10.0, 2012.0: 20.0, 2016.0: 5.0, 2020.5: 35.0, 2022.3: 28.0,
                        2025.2: 10.0, 2026.2: 8.0})[:, None] + (12.0 * tf + 8.0 * rng.normal(0, 1, n))[None, :] \
            + self.ar1(rng, n, 0.8, 2.0)
        self.put("liquidity_days", self.trust_cols, liq)
        csc = 1.5 + 0.35 * ytd[:, :n] + 0.3 * rng.normal(0, 1, n)[None, :] \
            + self.ar1(rng, n, 0.7, 0.1)
        self.put("capital_service_capacity", self.trust_cols, csc)
        self.margin = margin
        self.fin_all = fin

    # leadership and licence

    def _leadership(self) -> None:
        rng = self.rng("leadership")
        n = self.n_trust
        cols = self.trust_cols
        # Actual or suspected licence breach (providers were licensed from April 2013): a
        # persistent risk from finance, leadership and performance, slowly changing; about a
        # third of trusts at a time (under the 2016 framework about 40% of providers were in
        # segments 3-4, each of which needed a breach or suspected breach; nhsp-2017).
        risk = -(0.6 * self.fin + 0.5 * self.lead + 0.3 * self.q) / 1.0 \
            + 0.6 * rng.normal(0, 1, n)
        moving = risk[None, :] + self.ar1(rng, n, 0.97, 0.6)
        cut = np.quantile(moving, 1.0 - FITTED["licence_breach_share"])
        self.put("licence_breach_flag", cols, (moving > cut).astype(float))
        # Catastrophic governance failures: rare episodes of 6-12 months, about one at a time.
        gov = np.zeros((self.T, n))
        weights = np.exp(-1.5 * self.lead)
        for j in rng.choice(n, size=FITTED["governance_episodes"], replace=False,
                            p=weights / weights.sum()):
            a = int(rng.integers(0, self.T - 6))
            gov[a:a + int(rng.integers(6, 13)), j] = 1
        self.put("governance_failure_flag", cols, gov)
        for other, lo, hi in ((self.ccg_cols, "2013-04", "2022-06"),
                              (self.pct_cols, "2004-04", "2013-03"),
                              (self.sha_cols, "2004-04", "2013-03")):
            g = np.zeros((self.T, other.size))
            for _ in range(2 if other.size > 20 else 1):
                j = int(rng.integers(0, other.size))
                a = int(rng.integers(self.month(lo), self.month(hi) - 6))
                g[a:a + 6, j] = 1
            self.put("governance_failure_flag", other, g)
        # Capability: NHS England's view, refreshed each April.
        cap = np.empty((self.T, n))
        for y in range(N_YEARS):
            z = 0.6 * self.lead + 0.4 * self.fin + 0.35 * rng.normal(0, 1, n)
            cap[12 * y:12 * y + 12] = ((z < 0.55).astype(float) + (z < -1.0))[None, :]
        self.put("capability_rating", cols, cap)

    def _systems(self) -> None:
        rng = self.rng("systems")
        for cols in (self.ics_cols, self.ccg_cols):
            met = (rng.random((N_YEARS, cols.size)) < 0.9).astype(float)
            self.put("mhis_met", cols, met[self.fy])
        on_track = (rng.random(self.ccg_cols.size) < 0.85).astype(float)
        self.put("ccg_streamlined_commissioning_on_track", self.ccg_cols,
                 np.broadcast_to(on_track, (self.T, self.ccg_cols.size)))

    def _turnaround(self) -> None:
        """KPMG's management-capacity rank (1 = unlikely to deliver ... 4 = capable), given in
        2005/06 and 2006/07 to the bodies in deficit (those KPMG reviewed were among them)."""
        rng = self.rng("turnaround")
        cols = np.concatenate([self.trust_cols, self.pct_cols, self.sha_cols])
        n_t = self.n_trust
        ability = np.concatenate([self.lead, self.fin_all[n_t + self.ccg_cols.size:]])
        ability = 0.7 * ability + 0.7 * rng.normal(0, 1, ability.size)
        rank = 1.0 + np.searchsorted(np.quantile(ability, [0.1, 0.45, 0.9]), ability)
        out = np.full((self.T, cols.size), np.nan)
        deficit = self.values["deficit_gbp"][:, cols]
        for y in (1, 2):                                   # 2005/06, 2006/07
            year_end = 12 * y + 11
            in_deficit = deficit[year_end] > 0
            out[12 * y:12 * y + 12, in_deficit] = rank[in_deficit]
        self.put("kpmg_management_rank", cols, out)

    def _eras(self) -> None:
        """Each metric only in the months it was published, each body only in its era."""
        months = self.start + self.t
        kinds = self.entities.kinds
        alive = np.ones((self.T, self.n_ent), dtype=bool)
        for kind, (lo, hi) in LIFETIMES.items():
            cols = kinds.codes == kinds.code_of(kind)      # (-1 matches no row)
            if lo is not None:
                alive[months < parse_period(lo).ordinal, :] &= ~cols[None, :]
            if hi is not None:
                alive[months > parse_period(hi).ordinal, :] &= ~cols[None, :]
        for name, arr in self.values.items():
            metric = METRICS[name]
            keep = alive.copy()
            if metric.since is not None:
                keep[months < parse_period(metric.since).ordinal] = False
            if metric.until is not None:
                keep[months > parse_period(metric.until).ordinal] = False
            arr[~keep] = np.nan

    # missing data and rounding

    def _missing(self) -> None:
        rng = self.rng("missing")
        gaps = []
        for j in rng.choice(self.n_trust, size=36, replace=False):   # 5 in any 3 years
            a = int(rng.integers(1, self.T - 3))
            gaps.append((j, a, a + int(rng.integers(1, 4))))
        for name in sorted(self.values):
            if METRICS[name].type == "rating" or name in _NEVER_MISSING:
                continue
            arr = self.values[name]
            drop = rng.random(arr.shape) < 0.015
            arr[drop] = np.nan
            for j, a, b in gaps:
                arr[a:b, j] = np.nan

    def _round(self) -> None:
        for name, arr in self.values.items():
            mtype = METRICS[name].type
            if mtype == "number":
                digits = _NUMBER_DECIMALS[name]
            elif mtype == "percent":
                digits = _PERCENT_DECIMALS.get(name, 1)
            else:
                digits = _DECIMALS[mtype]
            self.values[name] = np.round(arr, digits) + 0.0     # + 0.0 turns -0.0 into 0.0

    def panel(self) -> Panel:
        missing = sorted(set(METRICS) - set(self.values))
        if missing:
            raise AssertionError(f"synth does not produce {missing}")
        labels = {name: (CQC_SCALE if METRICS[name].scale == CQC_SCALE else CAPABILITY_SCALE)
                  for name in self.values if METRICS[name].type == "rating"}
        values = {name: np.ascontiguousarray(self.values[name]) for name in sorted(self.values)}
        return Panel("month", self.start, self.T, self.entities, values, labels,
                     (f"synthesize(seed={self.seed})",))
