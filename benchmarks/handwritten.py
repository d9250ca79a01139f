"""oversight2021 written by hand as a plain numba kernel: the yardstick for the compiler.

The rules of policies/oversight2021.yaml, with the engine's semantics (design.md §5): Kleene
logic with NaN as unknown, pct_rank within peer groups (kind x type) as
100 x #smaller / (n - 1) over peers with a value (ties share the lowest percentile), windows
whose periods before the data are unknown, decide: worst with segment 4 a judgement level
(candidates only), fired/unknown bits per rule, incomplete flags, decisions, and
periods_in(level >= segment_3) as a run length. It must give the same outcomes as the compiled
kernel to the bit (the benchmark asserts it).

Written as a careful engineer would, without the compiler's generality:
- the 13 peer ranks of a period are computed together, one task per (metric, peer group), so
  the parallel version shares the sorting among threads; a group is sorted once (argsort)
  and ranks assigned in one walk instead of a binary search per member;
- `sustained(c, n)` keeps, per condition and entity, the last period c was false and the last
  it was unknown (O(1) state instead of an n-period ring of floats);
- the trust type decides which key metrics apply, so branches that the policy multiplies by
  a false `reports_*` are not evaluated;
- thresholds and window sizes are scalars (the policy's values do not change over periods).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

NAN = np.nan
NEVER = -(1 << 30)

# The 13 key metrics in the order of the policy's mean_of lists, and whether lower is better.
RANKED = (("ae_4hr_pct", False), ("ae_12hr_pct", True), ("rtt_18wk_pct", False),
          ("rtt_52wk_pct", True), ("cancer_62d_pct", False), ("cancer_fds_28d_pct", False),
          ("diag_6wk_pct", True), ("shmi", True), ("amb_cat1_mean_sec", True),
          ("amb_cat2_mean_sec", True), ("mh_ooa_placement_days", True),
          ("sickness_absence_pct", True), ("staff_leaver_rate_pct", True))
AE4, AE12, RTT18, RTT52, C62, FDS, DIAG, SHMI, CAT1, CAT2, OOA, SICK, LEAVE = range(13)
TOP = 13                    # the sustained() state of the top-quartile test

N_RULES = 13        # oversight2021_handwritten.yaml's rules: 7 for segment 3, 5 for 4, 1 for 1

TYPES = ("acute", "specialist", "mental_health", "community", "ambulance")
ACUTE, SPECIALIST, MH, COMMUNITY, AMBULANCE, OTHER = range(6)

FLAT = ("financial_plan_variance", "income_gbp", "forecast_meets_plan", "cqc_overall_rating",
        "cqc_safe_rating", "cqc_effective_rating", "cqc_caring_rating", "cqc_responsive_rating",
        "cqc_well_led_rating", "cqc_enforcement_action", "cqc_recommends_sm",
        "in_special_measures", "licence_breach_flag", "governance_failure_flag",
        "ccg_streamlined_commissioning_on_track")

PARAMS = ("bottom_quartile", "bottom_decile", "top_quartile", "min_share_bottom_quartile",
          "min_share_top_quartile", "sustained_quarters", "consistent_quarters", "drop_window",
          "dramatic_drop_pp", "dramatic_rise_cat2_sec", "significant_variance_pct",
          "severe_variance_pct", "longstanding_quarters")


# --- three-valued logic: 1.0 true, 0.0 false, NaN unknown --------------------------------------

@njit
def _and(a, b):
    if a == 0.0 or b == 0.0:
        return 0.0
    if a == 1.0 and b == 1.0:
        return 1.0
    return NAN


@njit
def _or(a, b):
    if a == 1.0 or b == 1.0:
        return 1.0
    if a == 0.0 and b == 0.0:
        return 0.0
    return NAN


@njit
def _not(a):
    return NAN if a != a else 1.0 - a


@njit
def _le(a, b):
    if a != a or b != b:
        return NAN
    return 1.0 if a <= b else 0.0


@njit
def _ge(a, b):
    if a != a or b != b:
        return NAN
    return 1.0 if a >= b else 0.0


@njit
def _eq(a, b):
    if a != a or b != b:
        return NAN
    return 1.0 if a == b else 0.0


@njit
def _change(x, t, e, n):
    return x[t, e] - x[t - n, e] if t >= n else NAN


@njit
def _sustained(last_false, last_unknown, j, e, t, n, c):
    """Record this period's condition c and return sustained(c, n): false if c was false in
    the last n periods, else unknown if it was unknown or the window reaches before the data,
    else true."""
    if c == 0.0:
        last_false[j, e] = t
    elif c != c:
        last_unknown[j, e] = t
    if t - last_false[j, e] < n:
        return 0.0
    if t - last_unknown[j, e] < n or t < n - 1:
        return NAN
    return 1.0


@njit
def _key(ranks, m, e, t, bq, tq, bd, sq, last_false, last_unknown):
    """Key metric m for entity e: (has a rank, 100 if in the bottom quartile else 0, 100 if
    in the top quartile else 0, sustained bottom decile)."""
    r = ranks[m, e]
    if r != r:
        return 0, 0.0, 0.0, _sustained(last_false, last_unknown, m, e, t, sq, NAN)
    return (1, 100.0 if r <= bq else 0.0, 100.0 if r >= tq else 0.0,
            _sustained(last_false, last_unknown, m, e, t, sq, 1.0 if r <= bd else 0.0))


# --- peer ranks -------------------------------------------------------------------------------

@njit
def _rank_group(x, negate, members, out):
    """pct_rank within one peer group: 100 x #peers with a strictly smaller oriented value /
    (#peers with a value - 1); unknown without a value or with fewer than two peers."""
    m = members.size
    vals = np.empty(m)
    ents = np.empty(m, np.int64)
    k = 0
    for j in range(m):
        e = members[j]
        v = x[e]
        if v == v:
            vals[k] = -v if negate else v
            ents[k] = e
            k += 1
        else:
            out[e] = NAN
    if k < 2:
        for j in range(k):
            out[ents[j]] = NAN
        return
    order = np.argsort(vals[:k])
    denom = float(k - 1)
    first = 0
    prev = vals[order[0]]
    for i in range(k):
        v = vals[order[i]]
        if v != prev:
            first = i
            prev = v
        out[ents[order[i]]] = 100.0 * first / denom


def _kernel(ranked, lower, fpv, income, fmp, overall, safe, effective, caring, responsive,
            well_led, enforcement, recommends_sm, special_measures, licence, governance,
            ccg_on_track, is_trust, is_ccg, tcode, kind_subject, gptr, gidx, decisions,
            bq, bd, tq, min_bq, min_tq, sq, cq, dw, drop_pp, rise_cat2, sig, sev, lq,
            out_computed, out_level, out_candidate, out_fired, out_unknown, out_incomplete,
            out_subject):
    P, E = out_level.shape
    G = gptr.size - 1
    ranks = np.empty((13, E))
    last_false = np.full((14, E), NEVER, np.int64)
    last_unknown = np.full((14, E), NEVER, np.int64)
    run = np.zeros(E, np.int64)          # periods_in(level >= segment_3), up to last period
    ae4, ae12, rtt18 = ranked[AE4], ranked[AE12], ranked[RTT18]
    c62, fds, diag, cat2 = ranked[C62], ranked[FDS], ranked[DIAG], ranked[CAT2]
    for t in range(P):
        # every key metric's peer rank, one task per (metric, peer group)
        for task in prange(13 * G):
            m = task // G
            g = task - m * G
            _rank_group(ranked[m][t], lower[m], gidx[gptr[g]:gptr[g + 1]], ranks[m])
        for e in prange(E):
            trust = is_trust[e]
            ty = tcode[e]
            # shares of the key metrics in the bottom and top quartile, and bottom deciles
            k0, b0, p0, s0 = _key(ranks, 0, e, t, bq, tq, bd, sq, last_false, last_unknown)
            k1, b1, p1, s1 = _key(ranks, 1, e, t, bq, tq, bd, sq, last_false, last_unknown)
            k2, b2, p2, s2 = _key(ranks, 2, e, t, bq, tq, bd, sq, last_false, last_unknown)
            k3, b3, p3, s3 = _key(ranks, 3, e, t, bq, tq, bd, sq, last_false, last_unknown)
            k4, b4, p4, s4 = _key(ranks, 4, e, t, bq, tq, bd, sq, last_false, last_unknown)
            k5, b5, p5, s5 = _key(ranks, 5, e, t, bq, tq, bd, sq, last_false, last_unknown)
            k6, b6, p6, s6 = _key(ranks, 6, e, t, bq, tq, bd, sq, last_false, last_unknown)
            k7, b7, p7, s7 = _key(ranks, 7, e, t, bq, tq, bd, sq, last_false, last_unknown)
            k8, b8, p8, s8 = _key(ranks, 8, e, t, bq, tq, bd, sq, last_false, last_unknown)
            k9, b9, p9, s9 = _key(ranks, 9, e, t, bq, tq, bd, sq, last_false, last_unknown)
            k10, b10, p10, s10 = _key(ranks, 10, e, t, bq, tq, bd, sq, last_false, last_unknown)
            k11, b11, p11, s11 = _key(ranks, 11, e, t, bq, tq, bd, sq, last_false, last_unknown)
            k12, b12, p12, s12 = _key(ranks, 12, e, t, bq, tq, bd, sq, last_false, last_unknown)
            k = k0 + k1 + k2 + k3 + k4 + k5 + k6 + k7 + k8 + k9 + k10 + k11 + k12
            # sums of 0s and 100s are exact in any order
            bsum = b0 + b1 + b2 + b3 + b4 + b5 + b6 + b7 + b8 + b9 + b10 + b11 + b12
            tsum = p0 + p1 + p2 + p3 + p4 + p5 + p6 + p7 + p8 + p9 + p10 + p11 + p12
            b_share = bsum / k if k > 0 else NAN
            t_share = tsum / k if k > 0 else NAN
            top = _sustained(last_false, last_unknown, TOP, e, t, cq, _ge(t_share, min_tq))

            access = _ge(b_share, min_bq) if trust else 0.0
            drop = 0.0
            decile = 0.0
            if ty == ACUTE:
                drop = _or(_le(_change(ae4, t, e, dw), -drop_pp),
                           _ge(_change(ae12, t, e, dw), drop_pp))
                decile = _or(_or(s0, s1), s7)
            if ty == ACUTE or ty == SPECIALIST:
                drop = _or(drop, _or(_or(_le(_change(rtt18, t, e, dw), -drop_pp),
                                         _le(_change(c62, t, e, dw), -drop_pp)),
                                     _or(_le(_change(fds, t, e, dw), -drop_pp),
                                         _ge(_change(diag, t, e, dw), drop_pp))))
                decile = _or(decile, _or(_or(_or(s2, s3), _or(s4, s5)), s6))
            elif ty == AMBULANCE:
                drop = _ge(_change(cat2, t, e, dw), rise_cat2)
                decile = _or(s8, s9)
            elif ty == MH:
                decile = s10
            if trust:
                decile = _or(decile, _or(s11, s12))

            inc = income[t, e]
            pct_income = 100.0 * fpv[t, e] / inc if inc != 0.0 else NAN
            off_plan = _or(_le(pct_income, -sig), _not(fmp[t, e]))
            severe_gap = _le(pct_income, -sev)
            ovr = overall[t, e]
            wl = well_led[t, e]
            gov = governance[t, e]
            cqc = _or(_ge(ovr, 2.0), enforcement[t, e]) if trust else 0.0
            governance_c = _or(_ge(wl, 2.0) if trust else 0.0, gov)
            sm_route = 0.0
            if trust:
                q1 = _eq(safe[t, e], 3.0)
                q2 = _eq(effective[t, e], 3.0)
                q3 = _eq(caring[t, e], 3.0)
                q4 = _eq(responsive[t, e], 3.0)
                q5 = _eq(wl, 3.0)
                n_inad = NAN
                if q1 == q1 and q2 == q2 and q3 == q3 and q4 == q4 and q5 == q5:
                    n_inad = q1 + q2 + q3 + q4 + q5
                sm_route = _or(recommends_sm[t, e], _and(_ge(n_inad, 2.0), q5))
            not_on_track = _not(ccg_on_track[t, e]) if is_ccg[e] else 0.0
            lic = licence[t, e]
            licence_met = lic if trust else 1.0
            issues = _or(_or(_or(access, drop), _or(decile, off_plan)),
                         _or(_or(cqc, governance_c), not_on_track))

            rules = (access, drop, decile, off_plan, cqc, governance_c, not_on_track,
                     _and(_and(licence_met, 1.0 if run[e] >= lq else 0.0), issues),
                     _and(licence_met, severe_gap),
                     _and(licence_met, gov),
                     _and(licence_met, sm_route),
                     special_measures[t, e],
                     _and(_and(top, _le(ovr, 1.0)), _and(_not(lic), _not(issues)))
                     if trust else 0.0)
            # decide: worst; rules 0-6 are segment 3, 7-11 segment 4 (a judgement), 12 segment 1
            fired = np.uint64(0)
            unknown = np.uint64(0)
            comp = -1
            cand = -1
            for i in range(N_RULES):
                v = rules[i]
                if v == 1.0:
                    fired |= np.uint64(1) << np.uint64(i)
                    if 7 <= i <= 11:
                        cand = 3
                    elif i == 12:
                        comp = max(comp, 0)
                    else:
                        comp = 2
                elif v != v:
                    unknown |= np.uint64(1) << np.uint64(i)
            if comp < 0:
                comp = 1
            incomplete = False
            for i in range(7):
                if rules[i] != rules[i] and comp < 2:
                    incomplete = True
            if rules[12] != rules[12] and comp < 0:
                incomplete = True
            if cand <= comp:
                cand = -1
            # an unknown segment 4 consideration could make it a candidate for worse
            top = comp if cand < 0 else cand
            for i in range(7, 12):
                if rules[i] != rules[i] and 3 > top:
                    incomplete = True
            d = decisions[t, e]
            final = comp if d != d else int(d)
            out_computed[t, e] = comp
            out_level[t, e] = final
            out_candidate[t, e] = cand
            out_incomplete[t, e] = incomplete
            for k in range(out_fired.shape[2]):     # regime's layout: rule i, bit i % 8 of byte i // 8
                out_fired[t, e, k] = (fired >> np.uint64(8 * k)) & np.uint64(255)
                out_unknown[t, e, k] = (unknown >> np.uint64(8 * k)) & np.uint64(255)
            out_subject[t, e] = kind_subject[e]
            run[e] = run[e] + 1 if final >= 2 else 0


kernel_serial = njit(nogil=True, parallel=False, error_model="numpy")(_kernel)
kernel_parallel = njit(nogil=True, parallel=True, error_model="numpy")(_kernel)


def prepare(entities, inputs: dict, params: dict, decisions: np.ndarray | None = None):
    """The hand-written kernel's arguments (inputs by reference, no copies) and its outputs.
    `params` maps each param to its value (the same in every period)."""
    P, E = inputs["ae_4hr_pct"].shape
    B = (N_RULES + 7) // 8                  # bytes of rule bits a cell (outcomes.n_bytes)
    kinds = np.array(entities.kinds)
    types = np.array(entities.types)
    tcode = np.full(E, OTHER, np.int8)
    for i, ty in enumerate(TYPES):
        tcode[types == ty] = i
    # peer groups: same kind and same type, members in entity order
    _, group = np.unique(np.char.add(np.char.add(kinds.astype(str), "|"), types.astype(str)),
                         return_inverse=True)
    order = np.argsort(group, kind="stable").astype(np.int64)
    gptr = np.zeros(group.max() + 2, np.int64)
    np.cumsum(np.bincount(group), out=gptr[1:])
    if decisions is None:
        decisions = np.full((P, E), np.nan)
    outs = dict(computed=np.zeros((P, E), np.int16), level=np.zeros((P, E), np.int16),
                candidate=np.zeros((P, E), np.int16), fired=np.zeros((P, E, B), np.uint8),
                unknown=np.zeros((P, E, B), np.uint8), incomplete=np.zeros((P, E), np.bool_),
                subject=np.zeros((P, E), np.bool_))
    subject_kinds = ("trust", "ccg")
    args = (tuple(inputs[name] for name, _ in RANKED),
            np.array([low for _, low in RANKED]),
            *(inputs[name] for name in FLAT),
            kinds == "trust", kinds == "ccg", tcode, np.isin(kinds, subject_kinds),
            gptr, order, decisions,
            *(float(params[p]) for p in PARAMS[:5]),
            *(int(params[p]) for p in PARAMS[5:8]),
            *(float(params[p]) for p in PARAMS[8:12]), float(params[PARAMS[12]]),
            *outs.values())
    return args, outs


def evaluate(entities, inputs: dict, params: dict, *, parallel: bool,
             decisions: np.ndarray | None = None) -> dict:
    """Run the hand-written kernel; the outcome arrays by the names RawOutcomes uses."""
    args, outs = prepare(entities, inputs, params, decisions)
    (kernel_parallel if parallel else kernel_serial)(*args)
    return outs
