"""The synthetic sample's bodies: trusts of the real types in 42 systems, CCGs, PCTs and SHAs,
systems, the local health economies within them (the parents of trusts and CCGs) and regions,
with each era's lifetime (`from`/`to` in the entities table: PCTs and SHAs to March 2013, CCGs
April 2013 to June 2022) and what each body became (`successor`): a CCG its system's ICB, a
PCT a CCG of its region, an SHA its region. Part of `synth.py`'s world (see there for how the
values are made)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .catalogue import LIFETIMES
from .panel import Entities

START = "2004-04"
N_MONTHS = 264
N_YEARS = N_MONTHS // 12
N_PCT = 152
N_SHA = 10
SHA_REGION = (0, 1, 1, 2, 3, 3, 4, 5, 6, 6)          # the 10 SHAs of 2006-13 in today's regions
REGIONS = ("London", "South East", "South West", "Midlands", "East of England", "North West",
           "North East and Yorkshire")
ICS_PER_REGION = (5, 6, 7, 11, 6, 3, 4)                     # the 42 ICBs of 2022
TRUSTS_PER_TYPE = {"acute": 129, "specialist": 17, "mental_health": 47, "community": 17,
                   "ambulance": 10}
AMBULANCE_PER_REGION = (1, 2, 1, 2, 1, 1, 2)
N_CCG = 106
# A system with this many acute trusts or more held two local health economies, else one.
ECONOMY_SPLIT = 4
TYPE_LABELS = {"acute": "Acute", "specialist": "Specialist", "mental_health": "Mental Health",
               "community": "Community", "ambulance": "Ambulance"}


@dataclass
class _Trust:
    id: str
    type: str
    ics: int


class _Bodies:
    """The world's entities (a mixin of synth._World, which gives it `rng`)."""

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
        sha_id = [f"SHA{j + 1:02d}" for j in range(N_SHA)]
        for tr in trusts:
            add(tr.id, f"Synthetic {TYPE_LABELS[tr.type]} Trust {tr.id}", "trust", tr.type,
                ics_id[tr.ics], REGIONS[self.region_of_ics[tr.ics]])
        for j, ics in enumerate(self.ccg_ics):
            cid = f"C{j + 1:03d}"
            add(cid, f"Synthetic CCG {cid}", "ccg", "ccg", ics_id[ics],
                REGIONS[self.region_of_ics[ics]])
        # PCTs (to March 2013) belong to the SHA of their region; the SHAs of 2006-13.
        sha_region = np.array(SHA_REGION)
        pct_sha = np.concatenate([rng.choice(np.flatnonzero(sha_region == r),
                                             size=int(np.sum(self.region_of_ics[self.ccg_ics]
                                                             == r) * N_PCT / len(self.ccg_ics)
                                                      + 0.5))
                                  for r in range(len(REGIONS))])
        pct_sha = np.concatenate([pct_sha, rng.choice(N_SHA, size=max(0, N_PCT - pct_sha.size))])
        pct_sha = pct_sha[:N_PCT]
        self.pct_sha = pct_sha
        for j, sh in enumerate(pct_sha):
            pid = f"P{j + 1:03d}"
            add(pid, f"Synthetic PCT {pid}", "pct", "pct", sha_id[sh], REGIONS[SHA_REGION[sh]])
        for j in range(N_SHA):
            add(sha_id[j], f"Synthetic SHA {j + 1:02d}", "sha", "sha", reg_id[SHA_REGION[j]],
                REGIONS[SHA_REGION[j]])
        for j in range(n_ics):
            region = self.region_of_ics[j]
            add(ics_id[j], f"Synthetic ICS {j + 1:02d}", "ics", "ics", reg_id[region],
                REGIONS[region])
        for j, name in enumerate(REGIONS):
            add(reg_id[j], name, "region", "region", "", name)
        starts, ends, successors = self._lifetimes(ids, kinds, regions, reg_id)
        self.entities = Entities(*(tuple(c) for c in (ids, names, kinds, types, parents, regions,
                                                      starts, ends, successors)))
        self.n_ent = len(ids)
        self.n_trust = len(trusts)
        self.ttype = np.array([tr.type for tr in trusts])
        self.tics = np.array([tr.ics for tr in trusts])
        self.tregion = self.region_of_ics[self.tics]
        self.trust_cols = np.arange(self.n_trust)
        self.ccg_cols = np.arange(self.n_trust, self.n_trust + len(self.ccg_ics))
        self.pct_cols = np.arange(self.ccg_cols[-1] + 1, self.ccg_cols[-1] + 1 + N_PCT)
        self.sha_cols = np.arange(self.pct_cols[-1] + 1, self.pct_cols[-1] + 1 + N_SHA)
        self.ics_cols = np.arange(self.sha_cols[-1] + 1, self.sha_cols[-1] + 1 + n_ics)

    def _economies(self) -> None:
        """The local health economies of the success regime's era (2015: success2015's unit;
        the three areas chosen were parts of today's systems, e.g. North Cumbria): one or two
        within each system, two where it has ECONOMY_SPLIT acute trusts or more, its trusts
        and CCGs dealt to them in turn (acute trusts first). An economy is the parent of its
        trusts and CCGs and a child of its system, so a system's members are its economies.
        Added after the values, with no values of their own and no random draws: no metric
        of any other body moves."""
        e = self.entities
        n_ics = len(self.region_of_ics)
        ics_id = [f"ICS{j + 1:02d}" for j in range(n_ics)]
        acute = np.bincount([tr.ics for tr in self.trusts if tr.type == "acute"],
                            minlength=n_ics)
        per_ics = np.where(acute >= ECONOMY_SPLIT, 2, 1)
        first = np.concatenate([[0], np.cumsum(per_ics)[:-1]])
        he_id = [f"HE{k + 1:02d}" for k in range(int(per_ics.sum()))]
        parents = list(e.parents)
        dealt = np.zeros(n_ics, dtype=int)
        order = sorted(range(self.n_trust), key=lambda j: (self.trusts[j].type != "acute", j))
        for j in order:
            ics = self.trusts[j].ics
            parents[j] = he_id[first[ics] + dealt[ics] % per_ics[ics]]
            dealt[ics] += 1
        dealt[:] = 0
        for j, ics in enumerate(self.ccg_ics):
            parents[self.n_trust + j] = he_id[first[ics] + dealt[ics] % per_ics[ics]]
            dealt[ics] += 1
        he_ics = np.repeat(np.arange(n_ics), per_ics)
        n_he = len(he_id)
        regions = [REGIONS[self.region_of_ics[i]] for i in he_ics]
        self.entities = Entities(
            e.ids + tuple(he_id), e.names + tuple(f"Synthetic health economy {h[2:]}"
                                                  for h in he_id),
            e.kinds + ("health_economy",) * n_he, e.types + ("health_economy",) * n_he,
            tuple(parents) + tuple(ics_id[i] for i in he_ics), e.regions + tuple(regions),
            e.starts + ("",) * n_he, e.ends + ("",) * n_he, e.successors + ("",) * n_he)
        for name, arr in self.values.items():
            self.values[name] = np.concatenate([arr, np.full((arr.shape[0], n_he), np.nan)],
                                               axis=1)
        self.n_ent = len(self.entities)

    def _lifetimes(self, ids, kinds, regions, reg_id):
        """Each body's era (LIFETIMES) and successor: a CCG its system's ICB, a PCT a CCG of
        its region (spread evenly over them, in order), an SHA its region. No random draws,
        so the values of every metric are as before lifetimes were added."""
        # A system (ICS) holds its trusts (through its local health economies) throughout, so
        # it has no `from` (its own data begin in April 2021, LIFETIMES).
        starts = [LIFETIMES.get(k, (None, None))[0] or "" if k != "ics" else "" for k in kinds]
        ends = [LIFETIMES.get(k, (None, None))[1] or "" for k in kinds]
        successors = [""] * len(ids)
        ccgs_in = {r: [j for j, k in enumerate(kinds) if k == "ccg" and regions[j] == r]
                   for r in set(regions)}
        pcts_in = {r: [j for j, k in enumerate(kinds) if k == "pct" and regions[j] == r]
                   for r in set(regions)}
        for j, kind in enumerate(kinds):
            if kind == "ccg":
                successors[j] = f"ICS{self.ccg_ics[int(ids[j][1:]) - 1] + 1:02d}"
            elif kind == "sha":
                successors[j] = reg_id[REGIONS.index(regions[j])]
        for r, pcts in pcts_in.items():
            ccgs = ccgs_in[r]
            for i, j in enumerate(pcts):
                successors[j] = ids[ccgs[i * len(ccgs) // len(pcts)]]
        return starts, ends, successors
