"""Synthetic sample data: a deterministic, realistic-looking NHS England for the bundled sample.

`synthesize(seed)` builds a Panel of 36 months (2022-04 to 2025-03) for about 220 trusts of the
real types, 106 CCGs, 42 ICSs and the 7 NHS regions, with every metric of the catalogue for the
entity kinds and trust types the catalogue lists. Ids and names are plainly synthetic (`T001`,
`Synthetic Acute Trust T001`, `ICS01`); only the region names are real.

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
from dataclasses import dataclass

import numpy as np

from ..periods import parse_period
from .catalogue import CAPABILITY_SCALE, CQC_SCALE, METRICS
from .panel import Entities, Panel

START = "2022-04"
N_MONTHS = 36
REGIONS = ("London", "South East", "South West", "Midlands", "East of England", "North West",
           "North East and Yorkshire")
ICS_PER_REGION = (5, 6, 7, 11, 6, 3, 4)                     # the 42 ICBs of 2022
TRUSTS_PER_TYPE = {"acute": 129, "specialist": 17, "mental_health": 47, "community": 17,
                   "ambulance": 10}
AMBULANCE_PER_REGION = (1, 2, 1, 2, 1, 1, 2)
N_CCG = 106
TYPE_LABELS = {"acute": "Acute", "specialist": "Specialist", "mental_health": "Mental Health",
               "community": "Community", "ambulance": "Ambulance"}

# Decimal places kept, by type and for numbers and some percents by metric (as published;
# money to the nearest £100k).
_DECIMALS = {"percent": 1, "count": 0, "money": -5, "flag": 0, "rating": 0}
_NUMBER_DECIMALS = {"rtt_18wk_plan_gap_pp": 1, "amb_cat1_mean_sec": 0, "amb_cat2_mean_sec": 0,
                    "mh_ooa_placement_days": 0, "shmi": 3, "hcai_mrsa_rate": 2,
                    "hcai_cdiff_rate": 2, "hcai_ecoli_rate": 2, "staff_survey_engagement": 2,
                    "staff_survey_safety_culture": 2, "liquidity_days": 1,
                    "capital_service_capacity": 2}
_PERCENT_DECIMALS = {"rtt_52wk_pct": 2, "sickness_absence_pct": 2, "ytd_surplus_deficit_pct": 2,
                     "deficit_pct_income": 2}


def synthesize(seed: int) -> Panel:
    """A synthetic panel of NHS bodies and every catalogue metric, the same for the same seed."""
    world = _World(seed)
    world.build()
    return world.panel()


# --- the world: entities and latent traits ------------------------------------------------------

@dataclass
class _Trust:
    id: str
    type: str
    ics: int


class _World:
    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.T = N_MONTHS
        self.start = parse_period(START).ordinal
        t = np.arange(self.T)
        self.t = t
        self.cal_month = (self.start + t) % 12 + 1          # 1 = January
        self.fy = t // 12                                   # 0 = 2022/23
        self.k = t % 12 + 1                                 # month of the financial year
        self.years = t / 12.0
        winter = {12: 1.0, 1: 1.0, 11: 0.6, 2: 0.5, 10: 0.25, 3: 0.1}
        self.winter = np.array([winter.get(int(m), 0.0) for m in self.cal_month])
        self.march = (self.cal_month == 3).astype(float)
        self.values: dict[str, np.ndarray] = {}

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
        self._missing()
        self._round()

    def _entities(self) -> None:
        rng = self.rng("entities")
        self.region_of_ics = np.repeat(np.arange(len(REGIONS)), ICS_PER_REGION)
        n_ics = len(self.region_of_ics)
        # ICS populations vary about fourfold; bigger systems host more trusts.
        size = rng.lognormal(0.0, 0.45, n_ics)
        trusts: list[_Trust] = []

        def spread(n: int, weights: np.ndarray, at_least_one: bool) -> np.ndarray:
            counts = np.ones(n_ics, dtype=int) if at_least_one else np.zeros(n_ics, dtype=int)
            rest = n - counts.sum()
            picks = rng.choice(n_ics, size=rest, p=weights / weights.sum())
            np.add.at(counts, picks, 1)
            return counts

        per_type = {
            "acute": spread(TRUSTS_PER_TYPE["acute"], size, True),
            "mental_health": spread(TRUSTS_PER_TYPE["mental_health"], size, True),
            "community": spread(TRUSTS_PER_TYPE["community"], size, False),
            # Specialist trusts cluster in the big conurbations (the largest systems).
            "specialist": spread(TRUSTS_PER_TYPE["specialist"], size ** 3, False),
            "ambulance": np.zeros(n_ics, dtype=int),
        }
        for r, n_amb in enumerate(AMBULANCE_PER_REGION):
            hosts = rng.choice(np.flatnonzero(self.region_of_ics == r), size=n_amb, replace=False)
            per_type["ambulance"][hosts] += 1
        for ics in range(n_ics):
            for typ in ("acute", "specialist", "mental_health", "community", "ambulance"):
                for _ in range(per_type[typ][ics]):
                    trusts.append(_Trust(f"T{len(trusts) + 1:03d}", typ, ics))
        self.trusts = trusts
        ccg_per_ics = spread(N_CCG, size, True)
        self.ccg_ics = np.repeat(np.arange(n_ics), ccg_per_ics)

        ids, names, kinds, types, parents, regions = [], [], [], [], [], []

        def add(i, n, k, ty, p, r):
            for col, v in zip((ids, names, kinds, types, parents, regions), (i, n, k, ty, p, r)):
                col.append(v)

        ics_id = [f"ICS{j + 1:02d}" for j in range(n_ics)]
        reg_id = [f"REG{j + 1}" for j in range(len(REGIONS))]
        for tr in trusts:
            add(tr.id, f"Synthetic {TYPE_LABELS[tr.type]} Trust {tr.id}", "trust", tr.type,
                ics_id[tr.ics], REGIONS[self.region_of_ics[tr.ics]])
        for j, ics in enumerate(self.ccg_ics):
            cid = f"C{j + 1:03d}"
            add(cid, f"Synthetic CCG {cid}", "ccg", "ccg", ics_id[ics],
                REGIONS[self.region_of_ics[ics]])
        for j in range(n_ics):
            region = self.region_of_ics[j]
            add(ics_id[j], f"Synthetic ICS {j + 1:02d}", "ics", "ics", reg_id[region],
                REGIONS[region])
        for j, name in enumerate(REGIONS):
            add(reg_id[j], name, "region", "region", "", name)
        self.entities = Entities(*(tuple(c) for c in (ids, names, kinds, types, parents, regions)))
        self.n_ent = len(ids)
        self.n_trust = len(trusts)
        self.ttype = np.array([tr.type for tr in trusts])
        self.tics = np.array([tr.ics for tr in trusts])
        self.tregion = self.region_of_ics[self.tics]
        self.trust_cols = np.arange(self.n_trust)
        self.ccg_cols = np.arange(self.n_trust, self.n_trust + len(self.ccg_ics))
        self.ics_cols = np.arange(self.n_trust + len(self.ccg_ics),
                                  self.n_trust + len(self.ccg_ics) + n_ics)

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
        effect = 6.5 * z - 1.5 * np.maximum(0, -z) ** 2         # a long lower tail
        nat = 70.0 + 1.3 * self.years - 4.5 * self.winter + 1.5 * self.march
        ae = nat[:, None] + effect[None, :] + self.ar1(rng, nA, 0.7, 3.0)
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
        rtt = 57.5 + 1.2 * self.years[:, None] + 5.0 * z_rtt[None, :] + 6.0 * spec[None, :] \
            + self.ar1(rng, nS, 0.85, 1.0)
        rtt = np.clip(rtt, 25.0, 95.0)
        self.put("rtt_18wk_pct", S, rtt)
        # Plans: the last month of the year before plus 5 points, the NHS planning ask.
        base = np.vstack([rtt[:1] - 1.0, rtt[11:12], rtt[23:24]])
        plan = base[self.fy] + 5.0 * (self.k / 12.0)[:, None]
        self.put("rtt_18wk_plan_gap_pp", S, plan - rtt)
        size = np.where(spec > 0, rng.lognormal(np.log(20000), 0.7, nS),
                        rng.lognormal(np.log(48000), 0.5, nS))
        trend = 0.95 + 0.1 * np.exp(-((self.t - 17) / 14.0) ** 2)   # the Sep 2023 peak
        wl = size[None, :] * trend[:, None] * np.exp(self.ar1(rng, nS, 0.9, 0.02))
        self.put("rtt_waiting_list_size", S, np.round(wl))
        nat52 = 5.2 - 2.6 * np.clip((self.t - 12) / 24.0, 0, 1)
        p52 = nat52[:, None] * np.exp(-0.45 * z_rtt + 0.3 * rng.normal(0, 1, nS))[None, :] \
            * np.exp(self.ar1(rng, nS, 0.8, 0.08))
        p52 = np.clip(p52, 0.0, 30.0)
        self.put("rtt_52wk_pct", S, p52)
        self.put("rtt_52wk_count", S, np.round(wl * p52 / 100.0))
        z_c = 0.3 * self.q[S] + 0.95 * rng.normal(0, 1, nS)
        c62 = 61.0 + 3.5 * self.years[:, None] + 8.0 * z_c[None, :] + 3.0 * spec[None, :] \
            + self.ar1(rng, nS, 0.4, 3.0)
        self.put("cancer_62d_pct", S, np.clip(c62, 20.0, 100.0))
        z_f = 0.6 * z_c + 0.8 * rng.normal(0, 1, nS)
        fds = 72.0 + 2.5 * self.years[:, None] + 5.0 * z_f[None, :] + self.ar1(rng, nS, 0.5, 2.5)
        self.put("cancer_fds_28d_pct", S, np.clip(fds, 30.0, 100.0))
        nat_d = 25.0 - 2.5 * self.years
        z_d = -0.3 * self.q[S] + 0.95 * rng.normal(0, 1, nS)
        diag = nat_d[:, None] * np.exp(0.5 * z_d)[None, :] * np.exp(self.ar1(rng, nS, 0.6, 0.1))
        self.put("diag_6wk_pct", S, np.clip(diag, 0.0, 100.0))

        # Ambulance response times (seconds).
        M = self.mask("ambulance")
        nM = M.size
        za = -0.5 * self.q[M] + 0.85 * rng.normal(0, 1, nM)
        first_year = (self.fy == 0).astype(float)
        cat1 = (8.3 + 0.7 * self.winter * (1 + first_year) + 1.0 * first_year) * 60.0
        self.put("amb_cat1_mean_sec", M, cat1[:, None] * np.exp(0.08 * za)[None, :]
                 * np.exp(self.ar1(rng, nM, 0.5, 0.03)))
        amp = np.array([1.5, 0.55, 0.65])[self.fy]
        cat2 = (28.0 + 22.0 * np.exp(-self.t / 8.0)) * (1 + amp * self.winter) * 60.0
        self.put("amb_cat2_mean_sec", M, cat2[:, None] * np.exp(0.15 * za)[None, :]
                 * np.exp(self.ar1(rng, nM, 0.5, 0.06)))

        # Mental health out-of-area placements (bed days a month): skewed, many near zero.
        H = self.mask("mental_health")
        nH = H.size
        base = rng.lognormal(np.log(120), 1.1, nH) * (rng.random(nH) > 0.15)
        trend = 1.0 - 0.25 * np.clip((self.t - 18) / 18.0, 0, 1)
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
        for i in range(self.T):
            p = np.where(cur_overall == 3, 0.06, np.where(np.isnan(cur_overall), 0.08, 0.018))
            due = rng.random(n) < p
            inspected[i] = due
            if due.any():
                # Inadequate trusts get support and tend to improve; others drift slowly.
                drift = np.where(cur_overall[due] == 3, 0.6, 0.08) + rng.normal(0, 0.35, due.sum())
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
        # Special measures: recommended by CQC (a month later), left after a better rating or
        # about two years; at least a handful of trusts are in at any time.
        sm = np.zeros((self.T, n))
        worst = np.argsort(cq)[:5]
        in_sm = np.zeros(n, dtype=bool)
        in_sm[worst[:4]] = True
        in_sm |= recommends[0] > 0
        months_in = np.where(in_sm, rng.integers(6, 24, n), 0)
        for i in range(self.T):
            if i > 0:
                in_sm |= recommends[i - 1] > 0
                better = inspected[i] & (overall[i] <= 2) & (well_led[i] <= 2)
                tired = months_in > 30
                in_sm &= ~(better | tired)
            months_in = np.where(in_sm, months_in + 1, 0)
            sm[i] = in_sm
        self.put("in_special_measures", cols, sm)
        ccg_sm = np.zeros((self.T, self.ccg_cols.size))
        for j in rng.choice(self.ccg_cols.size, size=2, replace=False):
            a = int(rng.integers(0, 12))
            ccg_sm[a:a + int(rng.integers(12, 30)), j] = 1
        self.put("in_special_measures", self.ccg_cols, ccg_sm)

        # Mortality and infections.
        A = self.mask("acute")
        shmi_level = 1.0 + 0.1 * (-0.5 * self.q[A] + 0.87 * rng.normal(0, 1, A.size))
        self.put("shmi", A, shmi_level[None, :] + self.ar1(rng, A.size, 0.95, 0.015))
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
        survey = np.clip((self.t - 11 + 12) // 12, 0, 3)          # 0: 2021 survey ... 3: 2024
        nat = np.array([6.8, 6.8, 6.9, 6.9])
        z_eng = 0.7 * self.lead + 0.7 * rng.normal(0, 1, n)
        drift = np.cumsum(rng.normal(0, 0.08, (4, n)), axis=0)
        eng = nat[:, None] + 0.27 * z_eng[None, :] + eng_off[None, :] + drift
        self.put("staff_survey_engagement", cols, eng[survey])
        safety = nat[:, None] - 0.35 + 0.25 * (0.8 * z_eng + 0.6 * rng.normal(0, 1, n))[None, :] \
            + 0.8 * eng_off[None, :] + drift
        self.put("staff_survey_safety_culture", cols, safety[survey])
        sick_off = np.array([{"ambulance": 1.2, "mental_health": 0.5, "community": 0.4,
                              "specialist": -0.6}.get(t, 0.0) for t in typ])
        sick_nat = 5.2 + 0.9 * np.exp(-self.t / 10.0) + 0.7 * self.winter
        sick = sick_nat[:, None] + (0.7 * (-0.4 * self.lead + 0.9 * rng.normal(0, 1, n))
                                    + sick_off)[None, :] + self.ar1(rng, n, 0.6, 0.25)
        self.put("sickness_absence_pct", cols, np.clip(sick, 1.0, 15.0))
        leave_off = np.array([{"mental_health": 1.0, "community": 1.0}.get(t, 0.0) for t in typ])
        leave = (12.5 - 3.0 * self.t / 35.0)[:, None] \
            + (1.8 * (-0.3 * self.lead + 0.95 * rng.normal(0, 1, n)) + leave_off)[None, :] \
            + self.ar1(rng, n, 0.9, 0.2)
        self.put("staff_leaver_rate_pct", cols, np.clip(leave, 3.0, 30.0))
        london = (self.tregion == 0).astype(float)
        vac = (9.8 - 2.8 * self.t / 35.0)[:, None] \
            + (2.2 * rng.normal(0, 1, n) + 2.0 * london - 0.5 * self.lead)[None, :] \
            + self.ar1(rng, n, 0.8, 0.4)
        self.put("vacancy_rate_pct", cols, np.clip(vac, 0.5, 30.0))

    # finance

    def _finance(self) -> None:
        rng = self.rng("finance")
        T, k = self.T, self.k
        n, n_ccg = self.n_trust, self.ccg_cols.size
        med = {"acute": 520e6, "specialist": 350e6, "mental_health": 260e6, "community": 170e6,
               "ambulance": 330e6}
        sig = {"acute": 0.5, "specialist": 0.6, "mental_health": 0.4, "community": 0.4,
               "ambulance": 0.25}
        income0 = np.concatenate([
            np.array([rng.lognormal(np.log(med[t]), sig[t]) for t in self.ttype]),
            rng.lognormal(np.log(650e6), 0.45, n_ccg)])
        m = n + n_ccg
        fin = np.concatenate([self.fin, rng.normal(0, 1, n_ccg)])
        is_ccg = np.arange(m) >= n
        off = np.concatenate([np.array([{"specialist": 0.8, "mental_health": 0.5,
                                         "community": 0.6, "ambulance": 0.4}.get(t, 0.0)
                                        for t in self.ttype]), np.zeros(n_ccg)])
        # Outturn margin (% of income) per financial year: most trusts in deficit.
        mu = np.where(is_ccg[None, :], np.array([0.3, 0.1, 0.2])[:, None],
                      np.array([-1.0, -1.3, -0.9])[:, None])
        scale = np.where(is_ccg, 0.8, 1.9)
        persist = fin[None, :] * 0.85 + 0.5 * rng.normal(0, 1, (3, m))
        margin = mu + off[None, :] + scale[None, :] * persist / np.sqrt(0.85 ** 2 + 0.25)
        income = income0[None, :] * (1 + 0.055 * np.arange(3))[:, None]        # [3, m]
        inc_t = income[self.fy]                                                  # [T, m]
        # Plans are set before the year: optimistic, and often exactly break-even.
        plan = margin + rng.normal(0.4, 0.7, (3, m))
        breakeven = (np.abs(plan) < 1.5) & (rng.random((3, m)) < 0.4)
        plan = np.where(breakeven, 0.0, plan)
        plan_t = plan[self.fy]
        # Month-by-month margins: deficits are front-loaded and recovered later in the year.
        front = 0.9 * (6.5 - k) / 5.5
        monthly = margin[self.fy] - front[:, None] + rng.normal(0, 1.6, (T, m))
        ytd = np.empty((T, m))
        for y in range(3):
            sl = slice(12 * y, 12 * y + 12)
            ytd[sl] = np.cumsum(monthly[sl], axis=0) / k[sl, None]
        forecast = ytd * (k / 12.0)[:, None] + plan_t * ((12 - k) / 12.0)[:, None] \
            + rng.normal(0.2, 0.3, (T, m)) * ((12 - k) / 12.0)[:, None]
        all_cols = np.concatenate([self.trust_cols, self.ccg_cols])
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
        support = (rng.random((3, m)) < support_p).astype(float)
        self.put("deficit_support_flag", all_cols, support[self.fy])
        cum = np.empty((T, m))
        start_stock = income0 * np.maximum(0.0, 0.04 * (-fin - 0.3) + 0.01 * rng.normal(0, 1, m))
        for y in range(3):
            sl = slice(12 * y, 12 * y + 12)
            cum[sl] = np.maximum(0.0, start_stock[None, :]
                                 - ytd[sl] / 100.0 * inc_t[sl] * (k[sl] / 12.0)[:, None])
            start_stock = cum[12 * y + 11]
        self.put("cumulative_deficit_gbp", all_cols, cum)
        cip = 0.045 * income
        delivered = np.clip(0.9 + 0.06 * fin[None, :] + rng.normal(0, 0.08, (3, m)), 0.5, 1.15)
        ramp = 0.8 + 0.2 * k / 12.0                    # schemes deliver late in the year
        plan_ytd = cip[self.fy] * (k / 12.0)[:, None]
        self.put("efficiency_plan_variance", all_cols,
                 plan_ytd * (delivered[self.fy] * ramp[:, None] - 1.0))
        agreed_p = 1.0 / (1.0 + np.exp(-(2.0 + 1.0 * fin)))
        self.put("control_total_agreed", all_cols,
                 (rng.random((3, m)) < agreed_p[None, :]).astype(float)[self.fy])
        # Trust-only finance.
        tf = self.fin
        london = (self.tregion == 0).astype(float)
        cap_nat = np.array([18.0, 2.0, -25.0])[self.fy]
        trust_effect = 22.0 * rng.normal(0, 1, n) - 8.0 * tf + 10.0 * london
        agency = cap_nat[:, None] + trust_effect[None, :] + self.ar1(rng, n, 0.6, 8.0)
        self.put("agency_spend_vs_cap_pct", self.trust_cols, agency)
        liq = 28.0 - 6.0 * self.years[:, None] + (12.0 * tf + 8.0 * rng.normal(0, 1, n))[None, :] \
            + self.ar1(rng, n, 0.8, 2.0)
        self.put("liquidity_days", self.trust_cols, liq)
        csc = 1.5 + 0.35 * ytd[:, :n] + 0.3 * rng.normal(0, 1, n)[None, :] \
            + self.ar1(rng, n, 0.7, 0.1)
        self.put("capital_service_capacity", self.trust_cols, csc)
        self.margin = margin

    # leadership and licence

    def _leadership(self) -> None:
        rng = self.rng("leadership")
        n = self.n_trust
        cols = self.trust_cols
        inadequate = (self.overall[0] == 3).astype(float)
        risk = -3.0 - 1.0 * self.fin - 0.8 * self.lead + 1.5 * inadequate
        p0 = 1.0 / (1.0 + np.exp(-risk))
        breach = rng.random(n) < p0 * 1.3
        out = np.zeros((self.T, n))
        for i in range(self.T):
            enter = rng.random(n) < p0 * 0.06
            leave = rng.random(n) < 1.0 / 18.0
            breach = (breach & ~leave) | enter
            out[i] = breach
        self.put("licence_breach_flag", cols, out)
        gov = np.zeros((self.T, n))
        worst_led = np.argsort(self.lead + 0.5 * rng.normal(0, 1, n))[:3]
        for j in worst_led[: int(rng.integers(2, 4))]:
            a = int(rng.integers(0, self.T - 6))
            gov[a:a + int(rng.integers(6, 13)), j] = 1
        self.put("governance_failure_flag", cols, gov)
        ccg_gov = np.zeros((self.T, self.ccg_cols.size))
        j = int(rng.integers(0, self.ccg_cols.size))
        a = int(rng.integers(0, self.T - 6))
        ccg_gov[a:a + 6, j] = 1
        self.put("governance_failure_flag", self.ccg_cols, ccg_gov)
        # Capability: NHS England's view, refreshed each April.
        cap = np.empty((self.T, n))
        for y in range(3):
            z = 0.6 * self.lead + 0.4 * self.fin + 0.35 * rng.normal(0, 1, n)
            cap[12 * y:12 * y + 12] = ((z < 0.55).astype(float) + (z < -1.0))[None, :]
        self.put("capability_rating", cols, cap)

    def _systems(self) -> None:
        rng = self.rng("systems")
        for cols in (self.ics_cols, self.ccg_cols):
            met = (rng.random((3, cols.size)) < 0.9).astype(float)
            self.put("mhis_met", cols, met[self.fy])
        on_track = (rng.random(self.ccg_cols.size) < 0.85).astype(float)
        self.put("ccg_streamlined_commissioning_on_track", self.ccg_cols,
                 np.broadcast_to(on_track, (self.T, self.ccg_cols.size)))

    # missing data and rounding

    def _missing(self) -> None:
        rng = self.rng("missing")
        gaps = []
        for j in rng.choice(self.n_trust, size=5, replace=False):
            a = int(rng.integers(1, self.T - 3))
            gaps.append((j, a, a + int(rng.integers(1, 4))))
        for name in sorted(self.values):
            if METRICS[name].type == "rating":
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
