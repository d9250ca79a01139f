"""What would close the gap to the hand-written kernel? Variants of the generated oversight2021
kernel, patched in its source text, each asserted to give the same outcomes as the real one,
timed against it on the same data (best of N, taking turns; compiling excluded):

  A  peer ranks: pct_rank takes "lower is better" as a flag instead of a negated copy of the
     row, sorts each group once (argsort) and assigns ranks in one walk, instead of a sort
     plus two binary searches per member and three [E] scratch arrays per call
     (benchmarks/handwritten.py's pct_rank_groups; a library change);
  B  windows: ring buffers sized to a power of two and indexed with a mask instead of `%`
     (a code generator change, plus _ring_sizes);
  C  A and B together;
  P  parallel kernels: the original parallel kernel vs C with the period's 13 ranks computed
     in one parallel loop over (metric, peer group) instead of one after another on one
     thread (handwritten.pct_ranks_parallel).

The text patches depend on the generated code's shape today; the script says so and stops if
a patch no longer applies. This is evidence for changes, not a test.

    python benchmarks/whatif_kernel.py [--entities 200000] [--periods 50] [--repeat 3]
"""

from __future__ import annotations

import importlib.util
import os
import re
import tempfile
from pathlib import Path

import numpy as np

import _common as C

RANK = re.compile(r"lib\.pct_rank\((-?)(x\d+)\[t\], (gp\d+), (gi\d+), (m\d+)\)")
HEADER = "from rulesengine.compile import library as lib"


def oriented(source: str) -> str:
    """A: the library rank with an orientation flag and one sort per group."""
    out, n = RANK.subn(lambda m: f"hw.pct_rank_groups({m[2]}[t], {bool(m[1])}, {m[3]}, "
                                 f"{m[4]}, {m[5]})", source)
    assert n > 0, "no lib.pct_rank call found: the generated code has changed shape"
    return out


def masked(source: str) -> str:
    """B: ring indexes with a mask (ring sizes are made powers of two in the arguments)."""
    out, n = re.subn(r"% (r\d+)\b", r"& (\1 - 1)", source)
    assert n > 0, "no ring buffer index found: the generated code has changed shape"
    return out


def together(source: str) -> str:
    """P: the consecutive rank calls of a stage as one parallel call."""
    lines = source.splitlines()
    out, i = [], 0
    while i < len(lines):
        m = RANK.search(lines[i])
        if not m:
            out.append(lines[i])
            i += 1
            continue
        group = []
        while i < len(lines) and RANK.search(lines[i]):
            group.append(RANK.search(lines[i]))
            i += 1
        assert len({(g[3], g[4]) for g in group}) == 1, "ranks over several groupings"
        indent = lines[i - 1][:len(lines[i - 1]) - len(lines[i - 1].lstrip())]
        xs = ", ".join(f"{g[2]}[t]" for g in group)
        flags = ", ".join(str(bool(g[1])) for g in group)
        outs = ", ".join(g[5] for g in group)
        out.append(f"{indent}hw.pct_ranks_parallel(({xs},), ({flags},), {group[0][3]}, "
                   f"{group[0][4]}, ({outs},))")
    return "\n".join(out) + "\n"


def load(source: str, folder: Path, name: str):
    source = source.replace("cache=True", "cache=False").replace(
        HEADER, HEADER + "\nimport handwritten as hw")
    path = folder / f"{name}.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(f"whatif_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.kernel


def main(argv=None) -> list[C.Row]:
    parser = C.standard_args(__doc__.splitlines()[0])
    parser.add_argument("--entities", type=int, default=200_000)
    parser.add_argument("--periods", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    if args.quick:
        args.entities, args.repeat = 20_000, 2
    tmp = tempfile.TemporaryDirectory(prefix="regime-bench-whatif-")
    os.environ["REGIME_CACHE_DIR"] = str(Path(tmp.name) / "kernels")

    from rulesengine.compile.cache import get_kernel
    from rulesengine.compile.kernel import arguments, compile_policy, evaluate_compiled

    checked = C.load_policy("oversight2021")
    layout, _, _ = C.make_layout_at_scale(checked, args.entities, args.periods)
    size = f"{layout.n_entities:,} x {layout.n_periods}"
    rows: list[C.Row] = []
    for parallel in (False, True):
        mode = "parallel" if parallel else "serial"
        compiled = compile_policy(checked, parallel=parallel)
        raw = evaluate_compiled(checked, layout, parallel=parallel)
        original = get_kernel(compiled.generated.source, lambda f: None)
        kargs, outs = arguments(checked, compiled, layout)
        ring = [i for i, (role, _) in enumerate(compiled.generated.args) if role == "rings"][0]
        pow2 = list(kargs)
        pow2[ring] = np.array([1 << int(np.ceil(np.log2(r))) for r in kargs[ring]],
                              dtype=np.int64)
        src = compiled.generated.source
        variants = ({"A ranks": (oriented(src), kargs), "B rings": (masked(src), pow2),
                     "C = A + B": (masked(oriented(src)), pow2)} if not parallel else
                    {"P = C + parallel ranks": (together(masked(oriented(src))), pow2)})
        fns = {"original": lambda: original(*kargs)}
        for name, (text, vargs) in variants.items():
            fn = load(text, Path(tmp.name), re.sub(r"\W+", "_", name) + mode)
            fn(*vargs)
            for field, value in outs.items():
                assert np.array_equal(value, getattr(raw, field)), f"{name}: '{field}' differs"
            fns[name] = (lambda fn=fn, vargs=vargs: fn(*vargs))
        best = C.interleaved_best(fns, args.repeat)
        for name, seconds in best.items():
            print(f"{mode:8s} {name:24s} {seconds:7.3f} s")
            if name != "original":
                rows.append(C.Row("what-if", f"{name} / original, {mode}",
                                  seconds / best["original"], "x", note=size))
    tmp.cleanup()
    C.finish(rows, args, "What-if: patched variants of the generated kernel")
    return rows


if __name__ == "__main__":
    main()
