"""`regime eval --policy P` on the sample data, step by step with a timer on each step.

Run by bench_cli.py as its own process (so imports and numba's caches are as cold or warm as
in a real run); prints one JSON object of stage -> seconds. The steps are the ones
rulesengine/cli/eval.py's command takes (through pipeline/run.py and compile/kernel.py),
called one at a time.
"""

import sys
import time

T0 = time.perf_counter()


def main() -> None:
    policy_ref = sys.argv[1]
    stages: dict[str, float] = {}
    mark = [time.perf_counter()]

    def done(name: str) -> None:
        now = time.perf_counter()
        stages[name] = stages.get(name, 0.0) + now - mark[0]
        mark[0] = now

    import os
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    import click  # noqa: F401

    import rulesengine.cli  # noqa: F401  (what `regime` imports before any command runs)
    done("import CLI (click, rulesengine.cli + commands)")
    from rulesengine.pipeline.revisions import load_ref
    done("import policy loading")
    checked, revision = load_ref(policy_ref, policy_path=())
    done("load + check policy")
    from rulesengine.data.sample import sample_panel
    done("import data loaders")
    panel = sample_panel()
    done("read sample data (parquet)")
    from rulesengine.data.bind import bind
    from rulesengine.engine.layout import make_layout
    from rulesengine.engine.params import resolve_params
    bound = bind(checked, panel)
    done("bind inputs")
    values = resolve_params(checked.policy, bound.period_kind, bound.start, bound.n_periods)
    layout = make_layout(checked, bound.entities, bound.inputs, values, bound.n_periods)
    done("params + layout")
    from rulesengine.compile import kernel as K
    from rulesengine.compile.cache import get_kernel
    done("import compiler")
    parallel = K.use_parallel(layout)
    compiled = K.compile_policy(checked, parallel=parallel)
    done("plan + generate source")
    import numba  # noqa: F401
    done("import numba")
    from rulesengine.compile import library  # noqa: F401
    from rulesengine.compile.cache import kernel_key
    kernel_key(compiled.generated.source)
    done("cache key (hash library source)")
    fn = get_kernel(compiled.generated.source, lambda f: K._warm(f, checked, compiled, layout))
    done("kernel: import + numba cache load (or compile) + warm call")
    kargs, outs = K.arguments(checked, compiled, layout)
    done("kernel arguments")
    fn(*kargs)
    done("kernel run")
    from rulesengine.engine.outcomes import RawOutcomes
    from rulesengine.pipeline.run import assemble
    outcomes = assemble(checked, bound, RawOutcomes(**outs), {}, "numba", revision)
    done("assemble outcomes")
    import io

    from rulesengine.report import evaluation as report
    from rulesengine.report.tabular import show
    done("import report")
    periods = [outcomes.n_periods - 1]
    headers, rows = report.eval_table(outcomes, periods)
    sink = io.StringIO()
    show(headers, rows, title=checked.policy.title, file=sink)
    sink.write(report.summary(outcomes, periods[0]) + "\n" + outcomes.provenance.line())
    done("render table")
    stages["total in script"] = time.perf_counter() - T0
    import json
    print(json.dumps(stages))


if __name__ == "__main__":
    main()
