"""The built-in functions of the language: the registry.

Each family's file defines its functions completely (signature, argument roles, orientation,
reference, vectorised and compiled implementations, what explain, coverage and `regime doc`
need): see spec.py for what an entry holds. This index only gathers the families, in the order
the documentation lists them; every stage looks a function up here by name. Importing it
imports NumPy but never numba, so the checker and the language server read signatures cheaply.

Adding a function: CONTRIBUTING.md, "A built-in function".
"""

from __future__ import annotations

from . import arithmetic, level, members, missing, multi, peer, time
from .spec import KINDS, KWARG_ROLES, MAX_LOOKBACK, RESULTS, Builtin

__all__ = ["BUILTINS", "Builtin", "FAMILIES", "KINDS", "KWARG_ROLES", "MAX_LOOKBACK",
           "MEMBER_FUNCTIONS", "PEER_FUNCTIONS", "RESULTS", "WINDOW_FUNCTIONS", "builtin",
           "peer_grouping"]

# (family, its heading in the documentation, its module), in the order the docs list them
FAMILIES = (
    ("time", "over time (per entity)", time),
    ("level", "earlier levels (per entity)", level),
    ("peer", "across peers (per period)", peer),
    ("members", "across the hierarchy", members),
    ("multi", "over several values", multi),
    ("missing", "missing data", missing),
    ("math", "arithmetic", arithmetic),
)

BUILTINS: dict[str, Builtin] = {name: b for _, _, module in FAMILIES
                                for name, b in module.BUILTINS.items()}

WINDOW_FUNCTIONS = frozenset(n for n, b in BUILTINS.items() if b.family == "time")
PEER_FUNCTIONS = frozenset(n for n, b in BUILTINS.items() if b.family == "peer")
MEMBER_FUNCTIONS = frozenset(n for n, b in BUILTINS.items() if b.family == "members")

peer_grouping = peer.grouping


def builtin(node) -> Builtin | None:
    """The entry of a call node's function (None for a name the checker refused)."""
    return BUILTINS.get(getattr(node, "func", None))
