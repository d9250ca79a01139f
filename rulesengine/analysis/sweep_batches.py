"""Running a sweep's variants and draws in batches: the policy specialised to the sweep once
(engine/batch.py: the values no variant changes computed once, the residual policy that
varies), then each batch of variants evaluated by the residual's engine, locally or as Dask
tasks.

Determinism: a draw's random numbers come from a generator seeded by (seed, variant, draw),
never by batch or worker, so a sweep gives the same numbers however it is split up (one
process, or Dask workers with any partitioning).
"""

from __future__ import annotations

import threading
from dataclasses import replace
from typing import TYPE_CHECKING, Mapping, Sequence

import numpy as np

from ..diagnostics import RegimeError
from ..engine.batch import specialise, unspecialised
from ..engine.reference import evaluate_reference
from ..engine.vectorised import evaluate_vectorised

if TYPE_CHECKING:
    from .sweep import Design, Noise


def draw_seed(seed: int, variant: int, draw: int) -> np.random.Generator:
    """The generator for one (variant, draw): independent of how the sweep is split up."""
    return np.random.default_rng(np.random.SeedSequence([int(seed), int(variant), int(draw)]))


def perturbed(base: np.ndarray, noise: Noise, rng: np.random.Generator,
              kind: str | None) -> np.ndarray:
    """An input's values with noise drawn from `rng`; missing values stay missing,
    percentages stay within 0..100 and counts stay non-negative."""
    sd = noise.sd * np.abs(base) if noise.relative else noise.sd
    value = base + rng.standard_normal(base.shape) * sd
    if kind == "percent":
        value = np.clip(value, 0.0, 100.0)
    elif kind == "count":
        value = np.maximum(value, 0.0)
    return value


def perturb(layout, noise: Sequence[Noise], rng: np.random.Generator, kinds: Mapping[str, str]):
    """A Layout whose noisy inputs are perturbed (`perturbed`, in the order given)."""
    if not noise:
        return layout
    inputs = dict(layout.inputs)
    for n in noise:
        inputs[n.metric] = perturbed(layout.inputs[n.metric], n, rng, kinds.get(n.metric))
    return replace(layout, inputs=inputs)


class Batches:
    """What every batch of a sweep needs, made once (and scattered once to Dask workers):
    the policy specialised to the sweep (engine/batch.py: the values every variant shares,
    computed once; the residual policy that varies), the design, the noise and the engine
    that runs the residual. `run` evaluates a batch of variants; the residual's compiled
    kernel is loaded once per process and its arguments bound once (compile/batch.py)."""

    def __init__(self, spec, design: Design, *, noise: Sequence[Noise], draws: int, seed: int,
                 looked_at: Sequence[int], engine: str, kinds: Mapping[str, str],
                 noise_base: Mapping[str, np.ndarray]) -> None:
        self.spec = spec
        self.design = design
        self.noise = tuple(noise)
        self.draws = draws
        self.seed = seed
        # the periods looked at, as indices into the residual's periods
        self.looked_at = np.asarray(looked_at, dtype=np.int64) - spec.start
        self.engine = engine
        self.kinds = dict(kinds)
        # a draw's noise is drawn over the whole of an input (as `perturb` draws it), then
        # cut to the residual's periods: the same numbers however the sweep is evaluated
        self.noise_base = dict(noise_base)
        self._runners: dict[int, object] = {}

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_runners"] = {}          # a compiled kernel is loaded by each worker
        return state

    def _noisy(self, variant: int, draw: int) -> dict[str, np.ndarray]:
        rng = draw_seed(self.seed, variant, draw)
        start, stop = self.spec.start, self.spec.start + self.spec.n_periods
        out = {}
        for n in self.noise:
            out[n.metric] = perturbed(self.noise_base[n.metric], n, rng,
                                      self.kinds.get(n.metric))[start:stop]
        return out

    def run(self, variants: Sequence[int]) -> np.ndarray:
        """Levels [len(variants), draws, T, E] for the given variant indices: the unit of
        work a local loop or a Dask task runs."""
        spec, t = self.spec, self.looked_at
        out = np.full((len(variants), self.draws, len(t), spec.layout.n_entities), -1,
                      dtype=np.int16)
        evaluate = self._evaluator()
        for i, v in enumerate(variants):
            params = self.design.params(v)
            for d in range(self.draws):
                level, subject = evaluate(params, self._noisy(v, d) if self.noise else None)
                out[i, d] = np.where(subject[t], level[t], -1)
        return out

    def _evaluator(self):
        """(params, inputs) -> (level, subject) over the residual's periods."""
        if self.engine == "fused":
            # one per thread: a variant writes its params into the runner's arrays, and a
            # Dask worker may run two tasks of one sweep in two threads at once
            thread = threading.get_ident()
            runner = self._runners.get(thread)
            if runner is None:
                # the compiler (code generation, the kernel cache): only for the fused engine
                from ..compile.batch import CompiledVariants

                runner = self._runners[thread] = CompiledVariants(self.spec,
                                                                  ceilings(self.design))
            return runner.run
        evaluate = evaluate_vectorised if self.engine == "vectorised" else evaluate_reference

        def run(params, inputs):
            raw = evaluate(self.spec.checked, self.spec.layout_for(params, inputs))
            return raw.level, raw.subject
        return run


def run_variants(batches: Batches, variants: Sequence[int]) -> np.ndarray:
    """Levels [len(variants), draws, T, E] of the given variants (a Dask task)."""
    return batches.run(variants)


def specialised(checked, layout, design: Design, noise: Sequence[Noise],
                looked_at: Sequence[int]):
    """The policy specialised to a sweep over `layout` (engine/batch.py)."""
    names = list(design.names)
    metrics = sorted({n.metric for n in noise})
    try:
        return specialise(checked, layout, params=names, inputs=metrics, looked_at=looked_at,
                          ceilings=ceilings(design))
    except RecursionError:
        return unspecialised(checked, layout, params=names, inputs=metrics)


def ceilings(design: Design) -> dict[str, float]:
    """The largest value each swept param takes: how far back a window may reach, and the
    size of a compiled kernel's ring buffers."""
    if not design.names or not len(design.values):
        return {}
    return {n: float(design.values[:, j].max()) for j, n in enumerate(design.names)}


def batches(n: int, size: int) -> list[range]:
    return [range(i, min(i + size, n)) for i in range(0, n, size)]


def _batch_summary(spec) -> dict:
    """How the sweep was split: shared values computed once, what each variant evaluates."""
    return {"shared_values": spec.shared, "policy_nodes": spec.nodes,
            "residual_nodes": spec.residual_nodes, "judgement_rules_left_out":
            spec.dropped_rules, "periods_evaluated": spec.n_periods}


def _run_dask(address: str, plan: Batches, work: Sequence[range],
              progress) -> list[np.ndarray]:
    """Variant batches as Dask tasks; the specialised policy (residual, shared values, data)
    is scattered to the workers once, and each worker loads the residual's kernel once."""
    try:
        from dask.distributed import Client, LocalCluster, as_completed
    except ImportError:
        raise RegimeError("--dask needs Dask: pip install 'regime[dask]'") from None
    cluster = None
    if address == "local" or address.startswith("local:"):
        workers = int(address.split(":", 1)[1]) if ":" in address else 2
        if workers < 1:
            raise RegimeError(f"--dask {address}: give at least one worker")
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                               dashboard_address=None)
        client = Client(cluster)
    elif address.startswith("tcp://"):
        try:
            client = Client(address, timeout=30)
        except OSError as e:
            raise RegimeError(f"--dask {address}: cannot reach the scheduler ({e})") from None
    else:
        raise RegimeError(f"--dask {address}: give local, local:N or tcp://HOST:PORT")
    try:
        shared = client.scatter(plan, broadcast=True)
        futures = [client.submit(run_variants, shared, list(b), pure=False) for b in work]
        index = {f.key: i for i, f in enumerate(futures)}
        parts: list = [None] * len(futures)
        done = 0
        for future in as_completed(futures):
            parts[index[future.key]] = future.result()
            done += len(work[index[future.key]])
            if progress:
                progress(done, plan.design.n_variants)
        return parts
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
