"""Compiling checked policies to numba kernels."""

# numba must learn where regime's functions keep their machine code before the library's
# kernels are decorated (compile/numba_cache.py says why and what is trusted).
from . import numba_cache as _numba_cache

_numba_cache.install()
