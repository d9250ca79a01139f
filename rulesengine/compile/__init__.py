"""Compiling checked policies to numba kernels.

Importing this package does not import numba: deciding whether a compiled kernel is worth
using must stay cheap. numba learns where regime's functions keep their machine code
(compile/numba_cache.py) when the library kernels are first imported.
"""
