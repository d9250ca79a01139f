"""Benchmark 9: `regime explain` and the HTML report's explanations on the bundled sample, for
oversight2025 (rank-heavy: every metric scored among peers, then quartiles of the average)
and oversight2021.

In one process, taking turns, best of N (CPU time of this process):

- eval: the policy's whole evaluation on the sample (prepare + engine + assemble), the unit
  a user already waits for;
- explain: one organisation's explanation with every what-if search (flips of each rule, the
  smallest change reaching each other level), for several organisations spread over the
  peer groups; reported per organisation, over eval, and against
- one-at-a-time: the same explanation with each value the searches try evaluated on its own
  (a what-if probe per value, the last 16 kept), as explain did before engine/probe.Scenarios
  evaluated many values in one pass; asserted identical (JSON) before anything is timed;
- report: the explanations of every organisation the policy decides on, without what-ifs
  (what `regime report` lays out), with one shared Explainer.

Then whole processes: `python cli.py explain --policy oversight2025 --entity T002`, cold (an
empty kernel and data cache) and warm, wall time.

    python benchmarks/bench_explain.py [--repeat 3] [--organisations 6] [--quick]
"""

from __future__ import annotations

import os
import resource
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

import _common as C

CLI = str(C.ROOT / "cli.py")
WHOLE = ["explain", "--policy", "oversight2025", "--entity", "T002"]


def one_at_a_time():
    """The explainer with the searches' values evaluated one by one (the previous code)."""
    from rulesengine.analysis.explain.explainer import _Explainer
    from rulesengine.engine.outcomes import decide

    class OneAtATime(_Explainer):
        def prefetch(self, name, xs):
            pass

        def probe_at(self, name, x):
            key = (name, x)
            probe = self._recent.get(key)
            if probe is None:
                probe = self.probe.with_input(name, self.t, self.e, x)
                if len(self._recent) >= 16:
                    self._recent.pop(next(iter(self._recent)))
                self._recent[key] = probe
            return probe

        def level_at(self, name, x):
            key = (name, x)
            if key not in self._levels:
                probe = self.probe_at(name, x)
                values = np.array([self.val(r.when, probe) for r in self.p.rules])
                d = decide((values == 1)[:, None], np.isnan(values)[:, None],
                           self.L.rule_levels, self.L.rule_judgement, self.L.default_level,
                           self.p.decide == "first")
                self._levels[key] = int(d.computed[0])
            return self._levels[key]

        def signature(self, name, nodes):
            def sig(x):
                probe = self.probe_at(name, x)
                return tuple(self.truth(self.val(n, probe)) for n in nodes)
            return sig

    def explain(explainer, entity: str, t: int):
        worker = OneAtATime(explainer, explainer.outcomes.entities.ids.index(entity), t)
        worker._recent = {}
        return worker.run()
    return explain


def measure(policy: str, n_orgs: int, repeat: int, old_orgs: int) -> list[C.Row]:
    from rulesengine.analysis.explain import Explainer
    from rulesengine.pipeline.run import evaluate_all
    from rulesengine.policy.effective import default_period

    checked = C.load_policy(policy)
    done = evaluate_all(checked)
    outcomes, layout = done.outcomes, done.layout
    t = default_period(outcomes)
    subjects = [outcomes.entities.ids[int(e)] for e in np.flatnonzero(outcomes.raw.subject[t])]
    step = max(1, len(subjects) // n_orgs)
    chosen = subjects[::step][:n_orgs]
    old = one_at_a_time()

    def explain(entity):
        return Explainer(checked, outcomes, layout).explain(entity, t)

    for entity in chosen[:old_orgs]:
        assert old(Explainer(checked, outcomes, layout), entity, t).to_json() == \
            explain(entity).to_json(), f"{policy} {entity}: one-at-a-time differs"

    def report():
        shared = Explainer(checked, outcomes, layout)
        return [shared.explain(e, t, what_if=False) for e in subjects]

    fns = {"eval": lambda: evaluate_all(checked),
           "report": report,
           **{f"explain {e}": (lambda e=e: explain(e)) for e in chosen}}
    best = C.interleaved_best(fns, repeat, clock=time.process_time)
    slow = C.interleaved_best(
        {f"old {e}": (lambda e=e: old(Explainer(checked, outcomes, layout), e, t))
         for e in chosen[:old_orgs]}, 1, clock=time.process_time)
    per_org = [best[f"explain {e}"] for e in chosen]
    print(f"\n{policy}: {len(subjects)} organisations decided on in {outcomes.period_labels[t]}; "
          f"eval {best['eval']:.3f} s CPU")
    for e in chosen:
        line = f"  explain {e}: {best[f'explain {e}']:.3f} s"
        if f"old {e}" in slow:
            line += f"  (one at a time: {slow[f'old {e}']:.2f} s)"
        print(line)
    print(f"  report's {len(subjects)} explanations: {best['report']:.3f} s")
    worst = max(per_org)
    rows = [
        C.Row("explain", f"{policy}: explain / eval, median of {len(chosen)} organisations",
              float(np.median(per_org)) / best["eval"], "x"),
        C.Row("explain", f"{policy}: explain, slowest organisation (CPU)", worst, "s",
              "< 1 s", worst < 1.0),
        C.Row("explain", f"{policy}: report's explanations / eval", best["report"] / best["eval"],
              "x", note=f"{len(subjects)} organisations"),
    ]
    for e in chosen[:old_orgs]:
        rows.append(C.Row("explain", f"{policy} {e}: one at a time / explain",
                          slow[f"old {e}"] / best[f"explain {e}"], "x"))
    return rows


def whole(env: dict) -> tuple[float, float]:
    """(wall, CPU) seconds of one whole process: on a machine shared with other work the CPU
    time says what the process itself cost."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run([C.PYTHON, CLI, *WHOLE], env=env, cwd=C.ROOT, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main(argv=None) -> list[C.Row]:
    parser = C.standard_args(__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--organisations", type=int, default=6)
    parser.add_argument("--old", type=int, default=2,
                        help="How many organisations to explain one value at a time too "
                             "(about 10 s each).")
    args = parser.parse_args(argv)
    if args.quick:
        args.repeat, args.organisations, args.old = 1, 2, 1
    with tempfile.TemporaryDirectory(prefix="regime-bench-explain-") as tmp:
        # this process's caches too: nothing here reads or fills the user's
        os.environ["REGIME_CACHE_DIR"] = str(Path(tmp) / "process")
        rows = []
        for policy in ("oversight2025", "oversight2021"):
            rows += measure(policy, args.organisations, args.repeat, args.old)
        cold, cold_cpu = whole(C.cache_env(Path(tmp) / "cold"))
        warm, warm_cpu = min(whole(C.cache_env(Path(tmp) / "cold")) for _ in range(args.repeat))
        print(f"\nwhole process {' '.join(WHOLE)}: cold {cold:.2f} s ({cold_cpu:.2f} s CPU), "
              f"warm {warm:.2f} s ({warm_cpu:.2f} s CPU)")
        rows += [C.Row("explain", "regime explain oversight2025 T002, cold (process)", cold, "s",
                       "< 5 s", cold < 5.0, f"{cold_cpu:.2f} s CPU"),
                 C.Row("explain", "regime explain oversight2025 T002, warm (process)", warm, "s",
                       "< 2 s", warm < 2.0, f"{warm_cpu:.2f} s CPU")]
    C.finish(rows, args, "regime explain")
    return rows


if __name__ == "__main__":
    main()
