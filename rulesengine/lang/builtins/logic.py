"""Values over cells as NumPy arrays, and the three-valued logic the reference implementations
of the built-ins and the reference evaluator share.

A value is a float64 array over cells (one period's entities, or [periods, entities] in the
vectorised engine): NaN is unknown; a condition is 1.0 (true), 0.0 (false) or NaN (unknown).
Strings are object arrays with None for unknown (or codes, in the vectorised engine).
"""

from __future__ import annotations

import numpy as np

NAN = np.nan


def k_and(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Kleene and of conditions (1, 0 or NaN): false if either is false, else true if both
    are true, else unknown."""
    out = np.minimum(a, b)              # both known: the smaller; either unknown: NaN
    out[(a == 0) | (b == 0)] = 0.0
    return out


def k_or(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Kleene or: true if either is true, else false if both are false, else unknown."""
    out = np.maximum(a, b)
    out[(a == 1) | (b == 1)] = 1.0
    return out


def k_not(a: np.ndarray) -> np.ndarray:
    return 1.0 - a                      # unknown stays unknown: 1 - NaN is NaN


def is_unknown(x: np.ndarray) -> np.ndarray:
    """Where a value is unknown: NaN for numbers and conditions, None for strings."""
    if x.dtype == object:
        return np.array([v is None or (isinstance(v, float) and v != v) for v in x.flat],
                        dtype=bool).reshape(x.shape)
    return np.isnan(x)


def truth(mask: np.ndarray, *operands: np.ndarray) -> np.ndarray:
    """A comparison's result: 1/0, or unknown where any operand is unknown."""
    out = mask.astype(np.float64)
    for x in operands:
        if known_constant(x):
            continue
        out[is_unknown(x)] = NAN
    return out


def constant(value: float, shape: tuple[int, ...]) -> np.ndarray:
    """A number over all cells, as one value broadcast (read-only: no evaluator writes into
    a value it did not create)."""
    return np.broadcast_to(np.float64(value), shape)


def known_constant(x: np.ndarray) -> bool:
    """Whether x is a broadcast number that is known (nothing in it can be unknown)."""
    return (x.dtype != object and x.ndim > 0 and not any(x.strides) and x.size > 0
            and not np.isnan(x.flat[0]))


def seq_sum(a: np.ndarray, axis: int = 0) -> np.ndarray:
    """Sum in index order (np.sum may pair terms up; the kernel adds one by one, and the two
    must agree to the last bit)."""
    if a.shape[axis] == 0:
        return np.zeros(np.delete(a.shape, axis)) if a.ndim > 1 else np.float64(0.0)
    # a running total (not np.add.accumulate, which keeps every partial sum: n times the
    # memory, most of the time of a what-if over hundreds of values)
    terms = np.moveaxis(a, axis, 0)
    total = terms[0].copy()
    for term in terms[1:]:
        total += term
    return total if a.ndim > 1 else total[()]


def round_to(x: np.ndarray, digits: int) -> np.ndarray:
    """Half-to-even rounding of the scaled value (the kernel does the same, bit for bit)."""
    scale = 10.0 ** digits
    return np.rint(x * scale) / scale
