"""regime: a rules engine for the English NHS's intervention regimes.

The public surface, for notebooks and scripts (rulesengine/api.py has the details):

    import rulesengine as regime
    policy = regime.load_policy("oversight2021")      # load, validate, parse, check
    result = regime.evaluate(policy, df)               # df: a DataFrame, Table, path or Panel
    result.to_frame()                                  # a pandas DataFrame
    regime.explain(policy, "RX1", df)                  # why RX1 landed where it did
    regime.diff("oversight2021", "oversight2022")     # who moves, and because of what
    regime.test("oversight2021")                       # the policy's own test cases
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Iterable

from .version import __version__

if TYPE_CHECKING:
    from .api import (Comparison, Evaluation, ExplainResult, TestReport, diff, evaluate,
                      explain, test)
    from .check.checker import CheckedPolicy
    from .diagnostics import DataError, Diagnostic, PolicyError, RegimeError

# The public names, imported from their modules on first use (PEP 562): importing a part of
# the package (as the `regime` command does with rulesengine.cli) loads only that part, not
# NumPy and the whole engine behind the API.
_LAZY = {
    **{name: "api" for name in ("Comparison", "Evaluation", "ExplainResult", "TestReport",
                                "diff", "evaluate", "explain", "test")},
    **{name: "diagnostics" for name in ("DataError", "Diagnostic", "PolicyError",
                                        "RegimeError")},
}


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'rulesengine' has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value         # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))

__all__ = ["load_policy", "evaluate", "explain", "diff", "test", "load_panel", "sample_panel",
           "Evaluation", "ExplainResult", "Comparison", "TestReport", "PolicyError", "DataError",
           "RegimeError", "Diagnostic", "__version__"]


def load_policy(ref: str | os.PathLike, *, policy_path: Iterable[str] = ()) -> "CheckedPolicy":
    """Load a policy by id (searched in policy_path, $REGIME_POLICY_PATH, the bundled
    policies), by path, or at a git revision (`oversight2021@HEAD~1`), and check it.
    Raises PolicyError listing every problem."""
    from .pipeline.revisions import load_ref

    return load_ref(os.fspath(ref), policy_path=policy_path)[0]


def load_panel(path: str | os.PathLike, *, entities: str | os.PathLike | None = None,
               policy: "CheckedPolicy | None" = None):
    """Load panel data (long/wide CSV, Parquet, or a folder of them)."""
    from .data.loaders import load_panel as _load

    return _load(path, entities=entities, policy=policy)


def sample_panel():
    """The bundled sample data set (synthetic, deterministic)."""
    from .data.sample import sample_panel as _sample

    return _sample()
