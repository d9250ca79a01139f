"""Shared pieces of the benchmarks: paths, timing, machine load, result rows and the synthetic
data for oversight2021 at scale.

Every benchmark reports ratios measured in one process (or wall times of whole processes
against a stated target); absolute timings are printed for context, never judged alone.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PYTHON = sys.executable


# --- results ----------------------------------------------------------------------------------

@dataclass
class Row:
    """One reported figure: a ratio or a wall time, with its target when it has one."""

    bench: str
    name: str
    value: float
    unit: str                     # "x" ratio, "s" seconds, "%" share (value 0-1), "MB"
    target: str = ""              # e.g. "<= 1.5x", "< 1 s"; empty when there is none
    met: bool | None = None
    note: str = ""

    def cell(self) -> str:
        if self.unit == "x":
            return f"{self.value:.2f}x"
        if self.unit == "%":
            return f"{100 * self.value:.0f}%"
        if self.unit == "s":
            return f"{self.value:.3f} s"
        return f"{self.value:.0f} {self.unit}"


def judge(value: float, op: str, limit: float) -> bool:
    return value <= limit if op == "<=" else value < limit


def print_rows(rows: list[Row], title: str | None = None) -> None:
    """A plain text table of result rows."""
    if title:
        print(f"\n== {title}")
    headers = ["benchmark", "figure", "value", "target", "met", "note"]
    table = [[r.bench, r.name, r.cell(), r.target,
              "" if r.met is None else ("yes" if r.met else "NO"), r.note] for r in rows]
    widths = [max(len(h), *(len(t[i]) for t in table)) if table else len(h)
              for i, h in enumerate(headers)]
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths)))
    print("  ".join("-" * w for w in widths))
    for t in table:
        print("  ".join(c.ljust(w) for c, w in zip(t, widths)).rstrip())


def standard_args(description: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--json-out", help="Also write the result rows to this JSON file "
                        "(used by run.py).")
    parser.add_argument("--quick", action="store_true",
                        help="Smaller sizes and fewer repeats: a smoke test, not a measurement.")
    return parser


def finish(rows: list[Row], args, title: str) -> None:
    print_rows(rows, title)
    print(f"load average (1, 5, 15 min): {load_note()}")
    if args.json_out:
        Path(args.json_out).write_text(json.dumps([asdict(r) for r in rows], indent=1))


# --- timing -----------------------------------------------------------------------------------

def load_note() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} CPUs"


def best_of(fn: Callable[[], object], repeat: int) -> float:
    """The fastest of `repeat` calls, in seconds (the least disturbed by other work)."""
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def interleaved_best(fns: dict[str, Callable[[], object]], repeat: int,
                     clock: Callable[[], float] = time.perf_counter) -> dict[str, float]:
    """Best-of-N for several contenders, run in turn (A B A B ...) so that a burst of load
    from other processes hurts all of them alike. `clock=time.process_time` gives this
    process's CPU seconds instead of wall seconds."""
    best = {k: float("inf") for k in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            t0 = clock()
            fn()
            best[name] = min(best[name], clock() - t0)
    return best


# --- oversight2021 at scale -------------------------------------------------------------------

TYPE_SHARES = {"acute": 129, "specialist": 17, "mental_health": 47, "community": 17,
               "ambulance": 10, "ccg": 106, "ics": 42}      # the sample's mix of bodies


def load_policy(ref: str = "oversight2021"):
    from rulesengine.pipeline.revisions import load_ref

    checked, _ = load_ref(ref, policy_path=())
    return checked


@dataclass
class Profile:
    """Per input and peer type, what the bundled sample (quarterly) looks like."""

    kind: str                      # "number" | "flag" | "rating"
    by_type: dict                  # type -> (present, mean, between_sd, within_sd) | p | probs
    decimals: int
    better: str | None


def sample_profiles(checked) -> dict[str, Profile]:
    """Distributions of every input the policy reads, fitted per trust type on the bundled
    synthetic sample (itself modelled on NHS England's published data)."""
    from rulesengine.pipeline.run import prepare

    bound, _, _ = prepare(checked, None)
    types = np.array(bound.entities.types)
    out: dict[str, Profile] = {}
    for name in checked.used_inputs:
        inp = checked.policy.inputs[name]
        a = bound.inputs[name]
        by_type: dict = {}
        for ty in TYPE_SHARES:
            sel = a[:, types == ty]
            known = ~np.isnan(sel)
            if sel.size == 0 or known.mean() < 0.5:
                continue
            v = sel[known]
            if inp.type == "flag":
                by_type[ty] = float(v.mean())
            elif inp.type == "rating":
                n = len(checked.policy.scales[inp.scale].labels)
                by_type[ty] = np.bincount(v.astype(int), minlength=n)[:n] / v.size
            else:
                with np.errstate(all="ignore"):
                    between = float(np.nanstd(np.nanmean(sel, axis=0)))
                total = float(np.std(v))
                within = float(np.sqrt(max(total ** 2 - between ** 2, (0.2 * total) ** 2)))
                by_type[ty] = (float(known.mean()), float(v.mean()), between, within)
        kind = inp.type if inp.type in ("flag", "rating") else "number"
        decimals = _decimals(a)
        if decimals > 3:
            # quarterly means of monthly figures: round as a quarterly publication would
            # (percentages to 0.1, ratios to 0.001, times and days to 1), which gives ties
            big = np.nanmean(np.abs(a)) > 100
            decimals = 1 if inp.type == "percent" else (0 if big else 3)
        out[name] = Profile(kind, by_type, decimals, inp.better)
    return out


def _decimals(a: np.ndarray) -> int:
    v = a[~np.isnan(a)]
    for d in (-5, 0, 1, 2, 3):
        scaled = v * 10.0 ** d
        if np.all(np.abs(scaled - np.round(scaled)) < 1e-6):
            return d
    return 4


def make_entities(n: int):
    """n organisations in the sample's mix: trusts of five types, CCGs, and ICSs (their
    parents, not decided on), each ICS in one of 7 regions."""
    from rulesengine.data.panel import Entities

    total = sum(TYPE_SHARES.values())
    counts = {ty: max(1, round(n * c / total)) for ty, c in TYPE_SHARES.items()}
    counts["acute"] += n - sum(counts.values())
    rng = np.random.default_rng(7)
    types = np.concatenate([np.full(c, ty, dtype=object) for ty, c in counts.items()])
    rng.shuffle(types)
    n_ics = counts["ics"]
    ics_ids = [f"ICS{i:05d}" for i in range(n_ics)]
    ids, kinds, parents, regions = [], [], [], []
    k_ics = 0
    for i, ty in enumerate(types):
        if ty == "ics":
            ids.append(ics_ids[k_ics])
            kinds.append("ics")
            parents.append("")
            regions.append(f"Region {k_ics % 7 + 1}")
            k_ics += 1
        else:
            ids.append(f"{'C' if ty == 'ccg' else 'T'}{i:07d}")
            kinds.append("ccg" if ty == "ccg" else "trust")
            p = int(rng.integers(n_ics))
            parents.append(ics_ids[p])
            regions.append(f"Region {p % 7 + 1}")
    names = [f"Synthetic body {x}" for x in ids]
    return Entities(tuple(ids), tuple(names), tuple(kinds), tuple(str(t) for t in types),
                    tuple(parents), tuple(regions))


def make_inputs(checked, entities, n_periods: int, seed: int = 11,
                profiles: dict[str, Profile] | None = None) -> dict[str, np.ndarray]:
    """Every input of the policy as a float64 [periods, entities] array: persistent entity
    effects (a shared performance trait correlates the metrics), AR(1) noise over quarters,
    values rounded as published (so ranks have ties), about 1.5% missing at random plus
    whole missing quarters for a few organisations; flags and ratings persistent, changing
    rarely. Metrics a type does not report are missing for it."""
    profiles = profiles or sample_profiles(checked)
    rng = np.random.default_rng(seed)
    P, E = n_periods, len(entities)
    types = np.array(entities.types)
    trait = rng.standard_normal(E)                       # overall performance, higher = better
    gaps = rng.random((P, E)) < 0.004                    # whole quarters missing (EPR go-live)
    out: dict[str, np.ndarray] = {}
    for name, prof in profiles.items():
        a = np.full((P, E), np.nan)
        for ty, spec in prof.by_type.items():
            cols = np.flatnonzero(types == ty)
            m = cols.size
            if m == 0:
                continue
            if prof.kind == "flag":
                a[:, cols] = _markov_flag(rng, P, m, spec)
            elif prof.kind == "rating":
                a[:, cols] = _ratings(rng, P, m, spec)
            else:
                present, mean, between, within = spec
                sign = -1.0 if prof.better == "lower" else 1.0
                effect = mean + between * (0.5 * sign * trait[cols]
                                           + 0.87 * rng.standard_normal(m))
                noise = rng.standard_normal(m) * within
                block = np.empty((P, m))
                for t in range(P):
                    noise = 0.7 * noise + 0.71 * within * rng.standard_normal(m)
                    block[t] = effect + noise
                if name.endswith("_pct"):
                    np.clip(block, 0.0, 100.0, out=block)
                elif mean > 0 and prof.decimals >= 0:
                    np.maximum(block, 0.0, out=block)
                scale = 10.0 ** prof.decimals
                block = np.round(block * scale) / scale
                if present < 0.99:
                    block[:, rng.random(m) > present] = np.nan
                a[:, cols] = block
        a[rng.random((P, E)) < 0.015] = np.nan
        a[gaps] = np.nan
        out[name] = a
    return out


def _markov_flag(rng, P: int, m: int, p: float) -> np.ndarray:
    """A persistent 0/1 flag with stationary share p, changing state rarely."""
    state = (rng.random(m) < p).astype(np.float64)
    leave1, leave0 = 0.15, 0.15 * p / max(1e-9, 1 - p)
    block = np.empty((P, m))
    for t in range(P):
        r = rng.random(m)
        state = np.where(state == 1.0, (r >= leave1).astype(float), (r < leave0).astype(float))
        block[t] = state
    return block


def _ratings(rng, P: int, m: int, probs: np.ndarray) -> np.ndarray:
    """Scale positions (0 = best) that stand for years: about 6% re-rated each quarter."""
    cum = np.cumsum(probs)
    draw = lambda k: np.minimum(np.searchsorted(cum, rng.random(k)), len(probs) - 1)  # noqa
    state = draw(m).astype(np.float64)
    block = np.empty((P, m))
    for t in range(P):
        redo = rng.random(m) < 0.06
        state[redo] = draw(int(redo.sum()))
        block[t] = state
    return block


def make_layout_at_scale(checked, n_entities: int, n_periods: int, seed: int = 11):
    """(layout, entities, inputs) for the policy over synthetic data of the given size."""
    from rulesengine.engine.layout import make_layout
    from rulesengine.engine.params import resolve_params
    from rulesengine.periods import parse_period

    entities = make_entities(n_entities)
    inputs = make_inputs(checked, entities, n_periods, seed)
    start = parse_period("2012-Q2", "quarter").ordinal
    params = resolve_params(checked.policy, "quarter", start, n_periods)
    layout = make_layout(checked, entities, inputs, params, n_periods)
    return layout, entities, inputs


def persistent_cache() -> Path:
    """A kernel cache kept between benchmark runs (in the temp folder, not the user's cache),
    so that "warm" runs need not first compile every kernel again."""
    path = Path(tempfile.gettempdir()) / "regime-bench-kernels"
    path.mkdir(exist_ok=True)
    return path


def cache_env(cache_dir: str | os.PathLike) -> dict[str, str]:
    """The environment for a child process with its own kernel cache directory."""
    env = dict(os.environ)
    env["REGIME_CACHE_DIR"] = str(cache_dir)
    return env
