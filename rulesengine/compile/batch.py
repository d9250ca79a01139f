"""One compiled kernel for every variant of a sweep, its arguments bound once.

engine/batch.py specialises a policy to a sweep: the values every variant shares are computed
once and the residual policy holds only what varies. Here the residual's kernel is compiled
(or loaded from the cache) once, its arguments (inputs, shared values, peer groups, string
table, output arrays) are laid out once, and a variant only writes its param values into the
params array (and its noisy inputs into theirs) before the call: no Python work per
organisation or per period, a call overhead in microseconds.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Mapping

import numpy as np

from ..engine.batch import Specialised
from .cache import get_kernel
from .kernel import _warm, arguments, compile_policy


class CompiledVariants:
    """The residual kernel of a specialised policy, ready to run variant after variant.

    `ceilings`: the largest value each varying param takes in the sweep: a window's ring
    buffer is sized for the longest window any variant asks for (a larger ring than one
    variant needs holds more history than it reads, which changes nothing)."""

    def __init__(self, spec: Specialised, ceilings: Mapping[str, float]) -> None:
        checked, layout = spec.checked, spec.layout
        P = layout.n_periods
        sized = replace(
            layout,
            params={**layout.params,
                    **{n: np.full(P, float(v)) for n, v in ceilings.items()
                       if n in layout.params}},
            # the varying inputs get arrays of their own: each variant writes into them
            inputs={**layout.inputs,
                    **{n: layout.inputs[n].copy() for n in spec.varying_inputs
                       if n in layout.inputs}})
        compiled = compile_policy(checked, parallel=False)
        self.fn = get_kernel(compiled.generated.source,
                             lambda f: _warm(f, checked, compiled, sized))
        self.args, self.outs = arguments(checked, compiled, sized)
        roles = compiled.generated.args
        self.prm = self.args[[role for role, _ in roles].index("params")]
        self.rows = {name: i for i, name in enumerate(checked.policy.params)}
        self.inputs = {name: self.args[i] for i, (role, name) in enumerate(roles)
                       if role == "input"}

    def run(self, params: Mapping[str, float],
            inputs: Mapping[str, np.ndarray] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(level, subject) [P, E] of one variant; the arrays are overwritten by the next
        call (copy what is kept)."""
        for name, value in params.items():
            self.prm[self.rows[name], :] = value
        for name, arr in (inputs or {}).items():
            target = self.inputs.get(name)
            if target is not None:
                target[...] = arr
        self.fn(*self.args)
        return self.outs["level"], self.outs["subject"]
