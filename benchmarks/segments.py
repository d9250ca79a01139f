"""The 4-rule segmentation policy of issue 12, its data at any size, and the two hand-written
contenders: a branch-free numba kernel and NumPy masks.

Trusts by quarter; inputs ae and rtt (percent), pv (number), cqc (rating), lead (flag):
segment 4 if pv <= -5 or (cqc == inadequate and lead); segment 3 if ae < 25 or rtt < 25 or
pv < 0 or cqc >= requires_improvement; segment 1 if ae >= 75 and rtt >= 75 and pv >= 0 and
cqc <= good; else segment 2; decide: worst.

A rule fires when its condition is true; with missing values (NaN) a comparison is false in
both hand-written versions, and since none of the conditions negates anything, "true" in
Kleene logic is exactly "true with NaN comparisons false": the hand-written segments equal
regime's computed levels cell for cell (asserted before timing). They compute only the
segment; regime also writes fired and unknown bits per rule, the incomplete flag and the
candidate level.
"""

from __future__ import annotations

import numpy as np

POLICY = """\
policy: segments
title: Four-rule segmentation (issue 12)
version: "1"
entity: trust
period: quarter
levels:
  - {id: segment_1}
  - {id: segment_2}
  - {id: segment_3}
  - {id: segment_4}
default: segment_2
decide: worst
scales:
  cqc: [outstanding, good, requires_improvement, inadequate]
inputs:
  ae: {type: percent}
  rtt: {type: percent}
  pv: {type: number}
  cqc: {type: rating, scale: cqc}
  lead: {type: flag}
rules:
  - id: s4
    level: segment_4
    when: pv <= -5 or (cqc == inadequate and lead)
  - id: s3
    level: segment_3
    when: ae < 25 or rtt < 25 or pv < 0 or cqc >= requires_improvement
  - id: s1
    level: segment_1
    when: ae >= 75 and rtt >= 75 and pv >= 0 and cqc <= good
"""

CQC = ("outstanding", "good", "requires_improvement", "inadequate")


def load():
    from pathlib import Path

    from rulesengine.check.checker import check
    from rulesengine.policy.load import load_policy_text

    return check(load_policy_text(POLICY, Path("segments.yaml")))


def panel(n_entities: int, n_periods: int = 4, seed: int = 12):
    """A Panel built directly from NumPy arrays: about 1% of each input but the rating missing."""
    from rulesengine.data.panel import Entities, Panel
    from rulesengine.periods import parse_period

    rng = np.random.default_rng(seed)
    shape = (n_periods, n_entities)

    def holes(a):
        a[rng.random(shape) < 0.01] = np.nan
        return a

    values = {
        "ae": holes(np.round(rng.uniform(0, 100, shape), 1)),
        "rtt": holes(np.round(rng.uniform(0, 100, shape), 1)),
        "pv": holes(np.round(rng.normal(1.0, 4.0, shape), 1)),
        # no gaps in ratings: regime carries a rating forward over a gap, as CQC ratings stand
        "cqc": rng.integers(0, 4, shape).astype(np.float64),
        "lead": holes((rng.random(shape) < 0.3).astype(np.float64)),
    }
    ids = tuple(f"T{i:07d}" for i in range(n_entities))
    ents = Entities(ids, ids, ("trust",) * n_entities, ("acute",) * n_entities,
                    ("",) * n_entities, ("R1",) * n_entities)
    start = parse_period("2024-Q1", "quarter").ordinal
    return Panel("quarter", start, n_periods, ents, values, labels={"cqc": CQC})


def arrays(p):
    """The hand-written contenders' inputs: the panel's arrays (cqc codes are positions in the
    scale already)."""
    return tuple(np.ascontiguousarray(p.values[k]) for k in ("ae", "rtt", "pv", "cqc", "lead"))


def masks(ae, rtt, pv, cqc, lead) -> np.ndarray:
    """NumPy masks, as an analyst would write them (segment index 0-3)."""
    with np.errstate(invalid="ignore"):
        s4 = (pv <= -5) | ((cqc == 3) & (lead == 1))
        s3 = (ae < 25) | (rtt < 25) | (pv < 0) | (cqc >= 2)
        s1 = (ae >= 75) & (rtt >= 75) & (pv >= 0) & (cqc <= 1)
    seg = np.where(s1, 0, 1).astype(np.int16)
    seg[s3] = 2
    seg[s4] = 3
    return seg


def numba_kernel():
    """The branch-free hand-written kernel (compiled on first call)."""
    from numba import njit

    @njit(cache=False, boundscheck=False, fastmath=False)
    def kernel(ae, rtt, pv, cqc, lead, out):
        P, E = ae.shape
        for t in range(P):
            for e in range(E):
                a, r, v, c, ld = ae[t, e], rtt[t, e], pv[t, e], cqc[t, e], lead[t, e]
                s4 = (v <= -5.0) | ((c == 3.0) & (ld == 1.0))
                s3 = (a < 25.0) | (r < 25.0) | (v < 0.0) | (c >= 2.0)
                s1 = (a >= 75.0) & (r >= 75.0) & (v >= 0.0) & (c <= 1.0)
                # worst fired level, else the default (segment 2): branch-free
                base = 1 - np.int16(s1)
                out[t, e] = max(base, max(np.int16(s3) * 2, np.int16(s4) * 3))
        return out

    return kernel
