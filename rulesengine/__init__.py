"""regime: a rules engine for the English NHS's intervention regimes.

The public surface, for notebooks and scripts:

    import rulesengine as re
    policy = re.load_policy("oversight2021")          # load, validate, parse, check
    result = re.evaluate(policy)                       # on the bundled sample data
    result.to_frame()                                  # a pandas DataFrame, if pandas is installed
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Iterable

from .diagnostics import DataError, Diagnostic, PolicyError, RegimeError

if TYPE_CHECKING:
    from .engine.outcomes import Outcomes
    from .lang.checker import CheckedPolicy

__version__ = "0.1.0"

__all__ = ["load_policy", "evaluate", "load_panel", "sample_panel", "PolicyError", "DataError",
           "RegimeError", "Diagnostic", "__version__"]


def load_policy(ref: str | os.PathLike, *, policy_path: Iterable[str] = ()) -> "CheckedPolicy":
    """Load a policy by id (searched in policy_path, $REGIME_POLICY_PATH, the bundled
    policies), by path, or at a git revision (`oversight2021@HEAD~1`), and check it.
    Raises PolicyError listing every problem."""
    from .policy.revisions import load_ref

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


def evaluate(policy: "CheckedPolicy | str", data=None, *, decisions=None,
             engine: str = "auto") -> "Outcomes":
    """Evaluate a policy over a panel (the bundled sample when `data` is None)."""
    from .engine.run import evaluate as _evaluate

    if isinstance(policy, (str, os.PathLike)):
        policy = load_policy(policy)
    return _evaluate(policy, data, decisions=decisions, engine=engine)
