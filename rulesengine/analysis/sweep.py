"""Sweeps: a policy evaluated over many parameter variants and noisy draws of its data.

A sweep answers two questions every regime raises: how much does the answer depend on the
numbers nobody published (`--grid`, `--sample`), and how sure are we of an organisation's
level given noisy data (`--noise`)? The data are bound once; what no variant changes is
computed once, and each variant (and draw) evaluates only the rest (sweep_batches.py,
engine/batch.py), so a variant's outcome equals `regime eval --param ...` exactly. A draw's
random numbers come from (seed, variant, draw): the same however the sweep is split up.

Statistics come from well-kept libraries: designs from `scipy.stats.qmc` (Latin hypercube,
scrambled Sobol) and SALib (Saltelli's scheme for Sobol indices, Morris trajectories);
indices from SALib's `sobol.analyze` and `morris.analyze`.
"""

from __future__ import annotations

import itertools
import math
import re
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Callable, Mapping, Sequence

import numpy as np

from .. import codes
from ..diagnostics import Diagnostic, RegimeError, did_you_mean
from ..engine.params import check_overrides
from ..files import Limit
from ..periods import PeriodError, format_period, parse_period
from ..pipeline.run import choose_engine, prepare
from ..provenance import build
# the batched running of variants and draws; draw_seed, perturb, perturbed, run_variants and
# ceilings are re-exported, so that this module stays the sweep's one public surface
from .sweep_batches import (  # noqa: F401
    Batches, _batch_summary, _run_dask, batches, ceilings, draw_seed, perturb, perturbed,
    run_variants, specialised)

if TYPE_CHECKING:
    from ..provenance import Provenance

METHODS = ("grid", "lhs", "sobol", "morris")
MAX_VARIANTS = 1_000_000
MAX_DRAWS = 100_000
# The levels of every variant, draw, period and organisation are held at once (int16): the
# limit keeps them to 400 MB by default.
RESULT_CELLS = Limit("sweep", 200_000_000, "REGIME_MAX_SWEEP_CELLS", unit="results")


# --- what to sweep ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Noise:
    """Perturb one input: normal noise with standard deviation `sd` in the input's own unit
    (2 = 2 percentage points for a percent input), or `sd` times the value when relative."""

    metric: str
    sd: float
    relative: bool = False

    def describe(self) -> str:
        return f"{self.metric}={_num(self.sd * 100) + '%rel' if self.relative else _num(self.sd)}"


@dataclass(frozen=True)
class Design:
    """The variants to evaluate: one row of param values per variant (columns `names`)."""

    method: str                              # grid | lhs | sobol | morris | none
    names: tuple[str, ...]
    values: np.ndarray                       # float64 [V, len(names)]
    bounds: tuple[tuple[float, float], ...] = ()   # for sampled designs: (lo, hi) per name
    salib_problem: Mapping | None = None     # for sobol / morris: SALib's problem dict
    seed: int = 0

    @property
    def n_variants(self) -> int:
        return max(len(self.values), 1)

    def params(self, v: int) -> dict[str, float]:
        if not self.names:
            return {}
        return {n: float(x) for n, x in zip(self.names, self.values[v])}


def parse_grid(text: str) -> tuple[str, np.ndarray]:
    """`NAME=START:STOP:STEP` (STOP included) or `NAME=a,b,c`."""
    name, values = _split(text, "--grid", "NAME=START:STOP:STEP, e.g. bottom_quartile=20:30:1")
    if ":" in values:
        parts = values.split(":")
        if len(parts) != 3:
            raise RegimeError(f"--grid {text}: write NAME=START:STOP:STEP (three numbers)")
        start, stop, step = (_float(p, f"--grid {text}") for p in parts)
        if step <= 0:
            raise RegimeError(f"--grid {text}: the step must be positive")
        if stop < start:
            raise RegimeError(f"--grid {text}: STOP is below START")
        count = (stop - start) / step + 1e-9       # inf for a tiny step over a huge span
        if not count < MAX_VARIANTS:
            raise RegimeError(f"--grid {text}: more than {MAX_VARIANTS:,} values; at most "
                              f"{MAX_VARIANTS:,}")
        n = int(math.floor(count)) + 1
        # start + i * step, rounded to the step's decimals so 0.1 steps do not drift
        decimals = max(_decimals(parts[0]), _decimals(parts[2]))
        return name, np.round(start + step * np.arange(n), decimals)
    items = [_float(p, f"--grid {text}") for p in values.split(",") if p.strip()]
    if not items:
        raise RegimeError(f"--grid {text}: no values")
    return name, np.array(items, dtype=np.float64)


def parse_range(text: str) -> tuple[str, float, float]:
    """`NAME=LO:HI`."""
    name, values = _split(text, "--range", "NAME=LO:HI, e.g. bottom_quartile=15:35")
    parts = values.split(":")
    if len(parts) != 2:
        raise RegimeError(f"--range {text}: write NAME=LO:HI")
    lo, hi = (_float(p, f"--range {text}") for p in parts)
    if not hi > lo:
        raise RegimeError(f"--range {text}: HI must be above LO")
    return name, lo, hi


def parse_noise(text: str) -> Noise:
    """`METRIC=SD` in the input's unit, or `METRIC=5%rel` relative to the value."""
    name, value = _split(text, "--noise", "METRIC=SD or METRIC=5%rel, e.g. ae_4hr_pct=2")
    relative = value.lower().endswith("%rel")
    sd = _float(value[:-4] if relative else value, f"--noise {text}")
    if sd < 0:
        raise RegimeError(f"--noise {text}: a standard deviation cannot be negative")
    return Noise(name, sd / 100 if relative else sd, relative)


def grid_design(grids: Sequence[tuple[str, np.ndarray]]) -> Design:
    """The Cartesian product of the grids, first name varying slowest."""
    names = tuple(n for n, _ in grids)
    _no_repeats(names, "--grid")
    n = math.prod(len(v) for _, v in grids)
    if n > MAX_VARIANTS:
        raise RegimeError(f"--grid: {n:,} variants in all; at most {MAX_VARIANTS:,}")
    values = np.array(list(itertools.product(*(v for _, v in grids))), dtype=np.float64)
    return Design("grid", names, values.reshape(n, len(names)))


def sampled_design(ranges: Sequence[tuple[str, float, float]], n: int, method: str,
                   seed: int, integral: Mapping[str, bool] | None = None) -> Design:
    """`n` variants drawn over the ranges: Latin hypercube or scrambled Sobol points
    (scipy.stats.qmc), or SALib's Saltelli scheme (method `sobol`, for Sobol indices: n
    base samples give n * (2k + 2) variants) or Morris trajectories (n trajectories give
    n * (k + 1) variants). Params that must be whole numbers (windows, lags) are rounded."""
    names = tuple(r[0] for r in ranges)
    _no_repeats(names, "--range")
    if not names:
        raise RegimeError("--sample needs at least one --range NAME=LO:HI")
    if n < 1:
        raise RegimeError("--sample: give a number of variants of at least 1")
    if n > MAX_VARIANTS:                   # before a design of that size is drawn
        raise RegimeError(f"--sample {n:,}: at most {MAX_VARIANTS:,} variants")
    lo = np.array([r[1] for r in ranges])
    hi = np.array([r[2] for r in ranges])
    problem = {"num_vars": len(names), "names": list(names),
               "bounds": [[float(a), float(b)] for a, b in zip(lo, hi)]}
    k = len(names)
    if method == "lhs":
        from scipy.stats import qmc

        unit = qmc.LatinHypercube(d=k, seed=seed).random(n)
        values = qmc.scale(unit, lo, hi)
        problem = None
    elif method == "sobol":
        from SALib.sample import sobol as saltelli

        total = n * (2 * k + 2)
        _limit(total, "--sample with --method sobol", f"{n} x (2 x {k} + 2)")
        values = saltelli.sample(problem, n, calc_second_order=True, scramble=True, seed=seed)
    elif method == "morris":
        from SALib.sample import morris

        _limit(n * (k + 1), "--sample with --method morris", f"{n} x ({k} + 1)")
        values = morris.sample(problem, n, num_levels=4, seed=seed)
    else:
        raise RegimeError(f"--method {method}: choose lhs, sobol or morris")
    values = np.asarray(values, dtype=np.float64).reshape(-1, k)
    for j, name in enumerate(names):
        if (integral or {}).get(name):
            values[:, j] = np.clip(np.round(values[:, j]), math.ceil(lo[j]), math.floor(hi[j]))
    _limit(len(values), "--sample", str(len(values)))
    return Design(method, names, values, tuple(zip(lo.tolist(), hi.tolist())), problem, seed)


# --- running ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class SweepRun:
    """Levels of every (variant, draw) in the periods looked at: the raw result of a sweep."""

    levels: np.ndarray              # int16 [V, D, T, E]: final level index, -1 where not decided on
    period_labels: tuple[str, ...]  # the T periods looked at
    entity_ids: Sequence[str]       # the entities' columns (data/strings.py), not copied
    entity_names: Sequence[str]
    level_ids: tuple[str, ...]
    level_labels: tuple[str, ...]


def sweep(checked, data=None, *, design: Design, noise: Sequence[Noise] = (), draws: int = 1,
          seed: int = 0, period: str | None = None, decisions=None,
          params: Mapping[str, float] | None = None, engine: str = "auto",
          dask: str | None = None, batch_size: int | None = None,
          progress: Callable[[int, int], None] | None = None) -> "SweepResult":
    """Evaluate every variant (and draw) of a checked policy over `data` (a Panel, a path or
    None for the bundled sample); `period` is one period, `all`, or a financial year
    (`2021/22` for a quarterly policy means its four quarters); default: the latest."""
    _check_design(checked, design)
    if draws < 1 or draws > MAX_DRAWS:
        raise RegimeError(f"--draws {draws}: give 1 to {MAX_DRAWS:,}")
    bound, layout, _ = prepare(checked, data, decisions=decisions, params=params)
    kinds = {name: inp.type for name, inp in checked.policy.inputs.items()}
    for n in noise:
        if n.metric not in checked.policy.inputs:
            raise RegimeError(f"--noise {n.metric}: policy '{checked.policy.id}' has no input "
                              f"'{n.metric}'" + did_you_mean(n.metric, checked.policy.inputs))
        if kinds[n.metric] in ("flag", "rating"):
            raise RegimeError(f"--noise {n.metric}: a {kinds[n.metric]} has no numeric noise; "
                              "perturb numeric inputs only")
        if n.metric not in layout.inputs:
            raise RegimeError(f"--noise {n.metric}: the policy does not read it in any rule")
    periods = select_periods(bound.period_labels, bound.period_kind, period)
    # Every operator looks back (lags, windows, previous(level)), never forward, so periods
    # after the last one looked at cannot change it: leave them out of every evaluation.
    layout = layout.head(max(periods) + 1)
    n_variants = design.n_variants
    results = n_variants * draws * len(periods) * layout.n_entities
    if results > RESULT_CELLS.value():
        raise RegimeError(Diagnostic(
            f"{RESULT_CELLS.message(results)}: {n_variants:,} variant(s) x {draws:,} draw(s) x "
            f"{len(periods):,} period(s) x {layout.n_entities:,} organisations",
            code=codes.TOO_LARGE, hint="fewer variants, draws or periods (--period), or "
                                   + RESULT_CELLS.hint))
    # What no variant changes is computed once; what varies is the residual policy, and
    # the whole sweep's size says whether compiling its kernel pays (pipeline/run.py's
    # thresholds): one compiled kernel serves every variant and draw.
    spec = specialised(checked, layout, design, noise, periods)
    engine = choose_engine(spec.checked, spec.layout, engine, variants=n_variants * draws)
    size = batch_size or max(1, min(1000, math.ceil(n_variants / 16)))
    work = batches(n_variants, size)
    plan = Batches(spec, design, noise=noise, draws=draws, seed=seed, looked_at=periods,
                   engine=engine, kinds=kinds,
                   noise_base={n.metric: layout.inputs[n.metric] for n in noise})
    if dask:
        parts = _run_dask(dask, plan, work, progress)
    else:
        parts = []
        done = 0
        for b in work:
            parts.append(plan.run(b))
            done += len(b)
            if progress:
                progress(done, n_variants)
    levels = np.concatenate(parts, axis=0) if parts else np.empty((0, draws, len(periods), 0))
    p = checked.policy
    base = build(checked, bound, engine, params=params, decisions=decisions).for_periods(
        [bound.period_labels[t] for t in periods])
    run = SweepRun(levels=levels,
                   period_labels=tuple(bound.period_labels[t] for t in periods),
                   entity_ids=bound.entities.ids, entity_names=bound.entities.names,
                   level_ids=tuple(lv.id for lv in p.levels),
                   level_labels=tuple(lv.label for lv in p.levels))
    return SweepResult(policy_id=p.id, policy_version=p.version, policy_hash=p.content_hash,
                       design=design, noise=tuple(noise), draws=draws, seed=seed, run=run,
                       engine=engine, base=base, batch=_batch_summary(spec))


def select_periods(labels: Sequence[str], kind: str, period: str | None) -> list[int]:
    """Period indices: one period, `latest` (default), `all`, or a financial year such as
    `2021/22` (every period of the policy's kind inside it)."""
    labels = list(labels)
    if not labels:
        raise RegimeError("the data have no periods")
    if period is None or period.strip().lower() == "latest":
        return [len(labels) - 1]
    text = period.strip()
    if text.lower() == "all":
        return list(range(len(labels)))
    fy = re.fullmatch(r"(\d{4})/(\d{2})", text)
    if fy and kind != "year":
        start_year = int(fy.group(1))
        inside = [i for i, label in enumerate(labels)
                  if _financial_year(parse_period(label, kind).ordinal, kind) == start_year]
        if not inside:
            raise RegimeError(f"--period {text}: the data cover {labels[0]} to {labels[-1]}")
        return inside
    try:
        label = format_period(kind, parse_period(text, kind).ordinal)
    except PeriodError as e:
        raise RegimeError(f"--period: {e}") from None
    if label not in labels:
        raise RegimeError(f"--period {text}: the data cover {labels[0]} to {labels[-1]}")
    return [labels.index(label)]


def _financial_year(ordinal: int, kind: str) -> int:
    """The starting calendar year of the NHS financial year (April to March) of a period."""
    label = format_period(kind, ordinal)
    year = int(label[:4])
    if kind == "month":
        month = int(label[5:7])
    else:   # quarter: 2021-Q1 is January to March
        month = 3 * int(label[-1]) - 2
    return year if month >= 4 else year - 1


def _check_design(checked, design: Design) -> None:
    """Every param value of the design checked as `--param` values are (by the checker's own
    rules, through `check_overrides`). The checker limits a param by range and, where it is a
    window or lag, to whole numbers; so checking each param's lowest and highest values, and
    that every value is whole where one must be, covers every variant with a few checks
    instead of one re-check of the policy per variant."""
    integral = integral_params(checked, design.names)
    for j, name in enumerate(design.names):
        column = design.values[:, j]
        for value in {float(column.min()), float(column.max())}:
            check_overrides(checked, {name: value}, what="sweep value")
        if integral.get(name):
            fractional = column[column != np.round(column)]
            if len(fractional):
                check_overrides(checked, {name: float(fractional[0])}, what="sweep value")


def integral_params(checked, names: Sequence[str]) -> dict[str, bool]:
    """Which params the policy uses as whole numbers of periods (windows, lags): the checker
    decides, by refusing a fractional value, so no rule is restated here."""
    out = {}
    for name in names:
        if name not in checked.policy.params:
            continue
        base = checked.policy.params[name].values[0].value
        try:
            check_overrides(checked, {name: float(base) + 0.5})
            out[name] = False
        except RegimeError:
            out[name] = True
    return out


# --- results ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class SweepResult:
    policy_id: str
    policy_version: str
    policy_hash: str
    design: Design
    noise: tuple[Noise, ...]
    draws: int
    seed: int
    run: SweepRun
    engine: str
    base: "Provenance | None" = None     # the provenance every variant shares
    batch: Mapping | None = None         # how the work was split (_batch_summary)
    _cache: dict = field(default_factory=dict, compare=False, repr=False)

    # tidy tables, one per view -----------------------------------------------------------------

    def variants_table(self) -> dict[str, list]:
        """One row per variant: its id and param values."""
        d = self.design
        table: dict[str, list] = {"variant": list(range(d.n_variants))}
        for j, name in enumerate(d.names):
            table[name] = d.values[:, j].tolist()
        return table

    def counts_table(self) -> dict[str, list]:
        """Per variant, draw and period: organisations at each level."""
        lv = self.run.levels
        v_n, d_n, t_n, _ = lv.shape
        rows: dict[str, list] = {"variant": [], "draw": [], "period": [], "level": [],
                                 "label": [], "count": []}
        for k, (lid, label) in enumerate(zip(self.run.level_ids, self.run.level_labels)):
            counts = (lv == k).sum(axis=3)          # [V, D, T]
            for v, d, t in itertools.product(range(v_n), range(d_n), range(t_n)):
                rows["variant"].append(v)
                rows["draw"].append(d)
                rows["period"].append(self.run.period_labels[t])
                rows["level"].append(lid)
                rows["label"].append(label)
                rows["count"].append(int(counts[v, d, t]))
        return rows

    def level_probabilities(self) -> np.ndarray:
        """[T, E, L]: share of (variant, draw) runs that put the organisation at each level
        (NaN where the organisation is not decided on in that period)."""
        if "prob" not in self._cache:
            lv = self.run.levels
            runs = lv.shape[0] * lv.shape[1]
            flat = lv.reshape(runs, lv.shape[2], lv.shape[3])
            n_levels = len(self.run.level_ids)
            prob = np.stack([(flat == k).sum(axis=0) for k in range(n_levels)], axis=-1)
            prob = prob.astype(np.float64) / max(runs, 1)
            decided = (flat >= 0).any(axis=0)
            prob[~decided] = np.nan
            self._cache["prob"] = prob
        return self._cache["prob"]

    def organisations_table(self) -> dict[str, list]:
        """Per organisation and period: the probability of each level, the modal level and
        its stability (share of runs at the modal level)."""
        prob = self.level_probabilities()
        rows: dict[str, list] = {"period": [], "entity": [], "name": [], "modal_level": [],
                                 "stability": []}
        for lid in self.run.level_ids:
            rows[f"p_{lid}"] = []
        for t, period in enumerate(self.run.period_labels):
            for e, eid in enumerate(self.run.entity_ids):
                p = prob[t, e]
                if np.isnan(p).all():
                    continue
                modal = int(np.argmax(p))
                rows["period"].append(period)
                rows["entity"].append(eid)
                rows["name"].append(self.run.entity_names[e])
                rows["modal_level"].append(self.run.level_ids[modal])
                rows["stability"].append(float(p[modal]))
                for k, lid in enumerate(self.run.level_ids):
                    rows[f"p_{lid}"].append(float(p[k]))
        return rows

    def _outputs(self) -> dict[str, np.ndarray]:
        """Scalar outputs per variant (mean over draws and periods) that sensitivity is
        measured on: the mean level index of the organisations decided on, and the count at
        each level."""
        lv = self.run.levels.astype(np.float64)
        decided = lv >= 0
        with np.errstate(invalid="ignore"):
            mean_level = np.where(decided, lv, 0).sum(axis=(2, 3)) / decided.sum(axis=(2, 3))
        out = {"mean_level": np.nanmean(mean_level, axis=1)}
        for k, lid in enumerate(self.run.level_ids):
            out[f"count_{lid}"] = (self.run.levels == k).sum(axis=(2, 3)).mean(axis=1) \
                / max(len(self.run.period_labels), 1)
        return out

    def sensitivity_table(self) -> dict[str, list]:
        """Sensitivity of each output to each param. Sobol designs: SALib's first-order (S1)
        and total (ST) indices with 95% confidence intervals; Morris: mu*, sigma; grids and
        Latin hypercubes: the first-order index estimated as the correlation ratio (eta
        squared: the share of the output's variance explained by the param's value, binned),
        and the range of the output's mean across the param's values."""
        d = self.design
        rows: dict[str, list] = {"param": [], "output": [], "measure": [], "value": [],
                                 "conf": []}

        def add(param, output, measure, value, conf=float("nan")):
            rows["param"].append(param)
            rows["output"].append(output)
            rows["measure"].append(measure)
            rows["value"].append(float(value))
            rows["conf"].append(float(conf))

        if not d.names or d.n_variants < 2:
            return rows
        for output, y in self._outputs().items():
            if d.method == "sobol" and d.salib_problem is not None:
                from SALib.analyze import sobol

                if np.nanstd(y) == 0:
                    for name in d.names:
                        add(name, output, "S1", 0.0)
                        add(name, output, "ST", 0.0)
                    continue
                si = sobol.analyze(dict(d.salib_problem), y, calc_second_order=True,
                                   seed=d.seed)
                for j, name in enumerate(d.names):
                    add(name, output, "S1", si["S1"][j], si["S1_conf"][j])
                    add(name, output, "ST", si["ST"][j], si["ST_conf"][j])
            elif d.method == "morris" and d.salib_problem is not None:
                from SALib.analyze import morris

                si = morris.analyze(dict(d.salib_problem), d.values, y, num_levels=4,
                                    seed=d.seed)
                for j, name in enumerate(d.names):
                    add(name, output, "mu_star", si["mu_star"][j], si["mu_star_conf"][j])
                    add(name, output, "sigma", si["sigma"][j])
            else:
                for j, name in enumerate(d.names):
                    eta2, spread = _eta_squared(d.values[:, j], y)
                    add(name, output, "eta2", eta2)
                    add(name, output, "range", spread)
        return rows

    def dependence_table(self, top: int = 10) -> dict[str, list]:
        """For each param, the organisations whose level depends most on it: the share of the
        variance of the organisation's level index (over variants, averaged over draws and
        periods) that the param's value explains (correlation ratio)."""
        d = self.design
        rows: dict[str, list] = {"param": [], "entity": [], "name": [], "score": []}
        if not d.names or d.n_variants < 2:
            return rows
        lv = self.run.levels
        decided = (lv >= 0).sum(axis=(1, 2))                   # [V, E]
        with np.errstate(invalid="ignore", divide="ignore"):
            per_variant = np.where(lv >= 0, lv, 0).sum(axis=(1, 2)) / decided
        per_variant[decided == 0] = np.nan
        for j, name in enumerate(d.names):
            scores = np.array([_eta_squared(d.values[:, j], per_variant[:, e])[0]
                               for e in range(per_variant.shape[1])])
            order = np.argsort(-np.nan_to_num(scores, nan=-1.0), kind="stable")
            for e in order[:top]:
                if not scores[e] > 0:
                    break
                rows["param"].append(name)
                rows["entity"].append(self.run.entity_ids[e])
                rows["name"].append(self.run.entity_names[e])
                rows["score"].append(float(scores[e]))
        return rows

    def tables(self) -> dict[str, dict[str, list]]:
        return {"variants": self.variants_table(), "counts": self.counts_table(),
                "organisations": self.organisations_table(),
                "sensitivity": self.sensitivity_table(), "dependence": self.dependence_table()}

    def provenance(self) -> dict:
        """The shared provenance record (regime.provenance/1: policy, data, engine, base
        --param overrides, decisions, periods) and what the sweep varied."""
        out = self.base.to_json() if self.base is not None else {}
        out["sweep"] = {"method": self.design.method, "params": list(self.design.names),
                        "variants": self.design.n_variants,
                        "noise": [n.describe() for n in self.noise], "draws": self.draws,
                        "seed": self.seed}
        if self.batch is not None:
            out["sweep"]["batch"] = dict(self.batch)
        return out


def _eta_squared(x: np.ndarray, y: np.ndarray, bins: int = 10) -> tuple[float, float]:
    """Correlation ratio of y on x (x binned into at most `bins` groups of its distinct values
    or quantiles) and the range of y's group means. NaN-safe; 0 where y does not vary."""
    ok = ~np.isnan(y)
    x, y = x[ok], y[ok]
    if len(y) < 2 or np.var(y) == 0:
        return 0.0, 0.0
    distinct = np.unique(x)
    if len(distinct) <= bins:
        groups = np.searchsorted(distinct, x)
    else:
        edges = np.quantile(x, np.linspace(0, 1, bins + 1)[1:-1])
        groups = np.searchsorted(edges, x, side="right")
    means = []
    between = 0.0
    mu = y.mean()
    for g in np.unique(groups):
        sel = y[groups == g]
        means.append(sel.mean())
        between += len(sel) * (sel.mean() - mu) ** 2
    return float(between / (len(y) * np.var(y))), float(max(means) - min(means))


# --- small parsers ------------------------------------------------------------------------------

def _split(text: str, option: str, example: str) -> tuple[str, str]:
    name, sep, value = (p.strip() for p in text.partition("="))
    if not sep or not name or not value:
        raise RegimeError(f"{option} '{text}': write {example}")
    return name, value


def _float(text: str, where: str) -> float:
    try:
        value = float(text.strip())
    except ValueError:
        raise RegimeError(f"{where}: '{text.strip()}' is not a number") from None
    if not math.isfinite(value):
        raise RegimeError(f"{where}: '{text.strip()}' is not a finite number")
    return value


def _decimals(text: str) -> int:
    text = text.strip().lower()
    if "e" in text:
        return 12
    return len(text.split(".", 1)[1]) if "." in text else 0


def _no_repeats(names: Sequence[str], option: str) -> None:
    seen = set()
    for n in names:
        if n in seen:
            raise RegimeError(f"{option} {n}: given twice")
        seen.add(n)


def _limit(n: int, option: str, how: str) -> None:
    if n > MAX_VARIANTS:
        raise RegimeError(f"{option}: {how} = {n:,} variants; at most {MAX_VARIANTS:,}")


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(float(x))
