"""The numbers the synthetic sample is tuned to, and the script that fitted them.

`FITTED` is committed: the generator (`synth.py`) reads only these constants, so installing or
running regime never reads ../shared/data. Run this module by hand to re-fit the figures that
come from the real files and print them for pasting here:

    python -m rulesengine.data.fit_synth ../shared/data

What it fits from `ae_monthly_provider_2023_2025` (NHS England's monthly A&E provider return,
type-1 trusts): the spread of trusts' mean 4-hour performance (`ae_trust_sd`), and the monthly
noise around each trust's mean (`ae_noise_sd`, `ae_noise_rho`, lag-1 correlation). From
`nof_2025_26_q3`: the share of acute trusts in deficit in 2025/26 (`deficit_share_2025`), which
the 2025/26 margin mean is set to reproduce.

The rest are history, not fitted (domain.md §1, §3, §10): the Keogh counts (14 reviewed, 11
placed, hsj-keogh11), about a third of bodies in deficit in 2005/06 (190 of about 590,
pac-2007), surpluses from 2007/08, most trusts in deficit from 2015/16, and the share of trusts
in actual or suspected licence breach (about a third; 60% of providers were in segments 1-2 at
the first SOF segmentation, nhsp-2017). They are in `FITTED` too, so one place holds every
number the sample rests on.
"""

from __future__ import annotations

import sys
from pathlib import Path

FITTED = {
    # fitted from ae_monthly_provider_2023_2025 (type-1 acute trusts, 2023-04 to 2025-06)
    "ae_trust_sd": 6.5,
    "ae_noise_sd": 3.0,
    "ae_noise_rho": 0.7,
    # nof_2025_26_q3: share of the 129 acute trusts flagged in deficit
    "deficit_share_2025": 0.55,
    # history (domain.md §3a, hsj-keogh11)
    "keogh_reviewed": 14,
    "keogh_placed": 11,
    # outturn margin (% of income) by financial year, 2004/05 ... 2025/26
    "trust_margin_mu": [0.7, 0.5, 1.0, 1.4, 1.5, 1.4, 1.2, 1.0, 0.9, 0.6, -0.3, -1.5,
                        -0.5, -0.6, -0.5, -0.2, 0.5, 0.4, -1.0, -1.3, -0.9, -0.3],
    "trust_margin_sd": [1.2] * 10 + [1.9] * 12,
    "commissioner_margin_mu": [0.5, 0.4, 0.9, 0.8, 0.8, 0.7, 0.6, 0.6, 0.6, 0.4, 0.3, 0.1,
                               0.2, 0.3, 0.2, 0.2, 0.4, 0.3, 0.1, 0.2, 0.2, 0.2],
    "commissioner_margin_sd": [1.0] * 10 + [0.8] * 12,
    # history: about a third of trusts in actual or suspected licence breach (nhsp-2017)
    "licence_breach_share": 0.27,
    "governance_episodes": 12,
}


def fit(shared: Path) -> dict:
    """The fitted figures from the real files under `shared` (../shared/data)."""
    import numpy as np
    import pandas as pd

    out = {}
    folder = shared / "ae_monthly_provider_2023_2025"
    files = sorted(folder.glob("*.csv"))
    if files:
        frame = pd.concat(pd.read_csv(f) for f in files)
        cols = {c.lower(): c for c in frame.columns}
        att = next((cols[c] for c in cols if "type 1" in c and "attend" in c and "over" not in c
                    and "4" not in c), None)
        br = next((cols[c] for c in cols if "type 1" in c and "over 4" in c), None)
        code = next((cols[c] for c in cols if c in ("org code", "org_code", "code")), None)
        month = next((cols[c] for c in cols if "period" in c or "month" in c), None)
        if att and br and code and month:
            f = frame[[code, month, att, br]].dropna()
            f = f[f[att] > 0]
            f["pct"] = 100 * (1 - f[br] / f[att])
            wide = f.pivot_table(index=month, columns=code, values="pct")
            means = wide.mean()
            resid = wide - means
            out["ae_trust_sd"] = round(float(means.std()), 2)
            out["ae_noise_sd"] = round(float(np.nanstd(resid.values)), 2)
            r = resid.values
            a, b = r[1:].ravel(), r[:-1].ravel()
            ok = ~np.isnan(a) & ~np.isnan(b)
            out["ae_noise_rho"] = round(float(np.corrcoef(a[ok], b[ok])[0, 1]), 2)
    nof = shared / "nof_2025_26_q3" / "nof_q3_2025_26_segments.csv"
    if nof.exists():
        f = pd.read_csv(nof)
        f = f[(f["trust_type"] == "Acute trust") & f["lt_segment"].notna()]
        out["deficit_share_2025"] = round(float(f["lt_in_deficit"].mean()), 2)
    return out


if __name__ == "__main__":      # pragma: no cover - run by hand
    root = Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/data")
    for key, value in fit(root).items():
        print(f"{key}: {value}   (committed: {FITTED.get(key)})")
