"""Limit the BLAS/LAPACK thread count around the many small dense operations of the
structured solvers.

The reduced systems are built from thousands of tiny per-sample factorizations; with
OpenBLAS's default threading each tiny call pays a thread hand-off, and on a 2-core machine
that also runs other work the cost explodes (measured: a batched ``eigh`` of 40 matrices
33 × 33 took 0.9 s with 2 threads under load, 6 ms with 1). :func:`blas_threads` sets the
thread count of the OpenBLAS that NumPy loaded (found through ``/proc/self/maps``) and
restores it afterwards; it does nothing where that library or its symbols are not found.
"""
from __future__ import annotations

import ctypes
import os
from contextlib import contextmanager

__all__ = ["blas_threads"]

_API = None


def _find():
    global _API
    if _API is not None:
        return _API
    _API = False
    try:
        import numpy  # noqa: F401  (make sure NumPy's BLAS is loaded)
        paths = set()
        with open("/proc/self/maps") as f:
            for line in f:
                p = line.split()[-1]
                if "blas" in os.path.basename(p).lower() and ".so" in os.path.basename(p):
                    paths.add(p)
        for p in sorted(paths):
            lib = ctypes.CDLL(p)
            for get, set_ in (("scipy_openblas_get_num_threads64_", "scipy_openblas_set_num_threads64_"),
                              ("openblas_get_num_threads64_", "openblas_set_num_threads64_"),
                              ("openblas_get_num_threads", "openblas_set_num_threads")):
                if hasattr(lib, get) and hasattr(lib, set_):
                    g, s = getattr(lib, get), getattr(lib, set_)
                    g.restype, s.argtypes = ctypes.c_int, [ctypes.c_int]
                    _API = (g, s)
                    return _API
    except OSError:
        pass
    return _API


@contextmanager
def blas_threads(n: int | None):
    """Run the block with ``n`` BLAS threads (None: leave unchanged)."""
    api = _find() if n is not None else False
    if not api:
        yield
        return
    get, set_ = api
    old = get()
    set_(int(n))
    try:
        yield
    finally:
        set_(old)
