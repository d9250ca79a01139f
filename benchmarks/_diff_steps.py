"""`regime diff A B ...` with a timer around each step it takes (no profiler overhead).

Run by bench_diff.py as its own process: wraps the functions the diff command calls (where
the calling module looks them up), runs the command line with the given arguments (output
discarded), and prints one JSON object of step -> [seconds, calls]. Nested steps are
counted in their parent too.
"""

import sys
import time

T0 = time.perf_counter()


def main() -> None:
    import contextlib
    import io
    import json
    import os

    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    import rulesengine.analysis.diff as diff
    import rulesengine.cli as cli
    import rulesengine.compile.kernel as kernel
    import rulesengine.data.bind as bind
    import rulesengine.data.sample as sample
    import rulesengine.lang.parser as parser
    import rulesengine.pipeline.revisions as revisions
    import rulesengine.report.comparison as comparison

    steps: dict[str, list] = {}

    def timed(owner, attr: str, label: str) -> None:
        fn = getattr(owner, attr)
        steps[label] = [0.0, 0]          # reported in the order registered

        def wrapper(*args, **kwargs):
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                entry = steps.setdefault(label, [0.0, 0])
                entry[0] += time.perf_counter() - t0
                entry[1] += 1

        setattr(owner, attr, wrapper)

    timed(revisions, "load_ref", "load A and B (load_ref)")
    timed(diff, "diff", "diff() (everything after loading A and B)")
    timed(diff, "revert", "variants: revert() = rebuild from the parsed policies + check")
    timed(parser, "parse", "    parse expressions (Lark)")
    timed(diff, "check", "  variants: check")
    timed(diff, "prepare", "prepare() = data + bind + params + layout")
    timed(sample, "sample_panel", "  read the sample data (parquet)")
    timed(bind, "bind", "  bind inputs")
    timed(diff, "run_backend", "run_backend() = evaluate_compiled")
    timed(kernel, "compile_policy", "  plan + generate")
    timed(kernel, "get_kernel", "  kernel: numba cache load + warm call")
    timed(diff, "assemble", "assemble outcomes")
    timed(diff, "structural_diff", "structural diff")
    timed(comparison, "render_text", "render")
    sys.argv = ["regime", *sys.argv[1:]]
    t0 = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        try:
            cli.main()
        except SystemExit as e:
            if e.code not in (0, None):
                raise
    steps["command (after imports)"] = [time.perf_counter() - t0, 1]
    steps["imports and start-up (in process)"] = [t0 - T0, 1]
    print(json.dumps(steps))


if __name__ == "__main__":
    main()
