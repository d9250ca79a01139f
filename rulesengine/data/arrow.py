"""Arrow arrays to NumPy without pyarrow's `to_numpy`, which imports pandas (about a second
of start-up for every command that reads a Parquet file, the bundled sample included).

Only the two shapes the loaders need: float64 values (NaN where null) and integer dictionary
indices (-1 where null), read straight from the array's buffers.
"""

from __future__ import annotations

import numpy as np


def _valid(arr) -> np.ndarray | None:
    """The validity bitmap as booleans, or None when nothing is null."""
    bitmap = arr.buffers()[0]
    if arr.null_count == 0 or bitmap is None:
        return None
    bits = np.unpackbits(np.frombuffer(bitmap, np.uint8), bitorder="little")
    return bits[arr.offset:arr.offset + len(arr)].astype(bool)


def arrow_floats(arr) -> np.ndarray:
    """A float64 Arrow array as a fresh float64 NumPy array, NaN where null."""
    n = len(arr)
    if n == 0:
        return np.zeros(0)
    data = np.frombuffer(arr.buffers()[1], np.float64)[arr.offset:arr.offset + n].copy()
    valid = _valid(arr)
    if valid is not None:
        data[~valid] = np.nan
    return data


def arrow_codes(arr) -> np.ndarray:
    """An integer Arrow array (dictionary indices) as int64, -1 where null."""
    import pyarrow as pa

    n = len(arr)
    if n == 0:
        return np.zeros(0, np.int64)
    kind = "i" if pa.types.is_signed_integer(arr.type) else "u"
    dtype = np.dtype(f"<{kind}{arr.type.bit_width // 8}")
    data = np.frombuffer(arr.buffers()[1], dtype)[arr.offset:arr.offset + n].astype(np.int64)
    valid = _valid(arr)
    if valid is not None:
        data[~valid] = -1
    return data
