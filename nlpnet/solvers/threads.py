"""BLAS thread limits for the solvers, covering CasADi's own OpenBLAS as well as NumPy's.

The per-sample linear algebra of these solvers is tiny (blocks of tens of rows), so a
second BLAS thread costs more in hand-over and spinning than it gains: IPOPT's MUMPS
factorisation of the 1-8-8-1 multiple-shooting KKT matrix at N = 40 is about 0.5 ms per
iteration slower with two threads (``python benchmarks/ipopt_iteration.py --blas-threads``),
and the ALM's LM step likewise (``docs/alm.md``).

MUMPS inside CasADi's IPOPT calls the OpenBLAS bundled with CasADi
(``libcasadi-tp-openblas``). ``threadpoolctl`` does not recognise that file name, so a
controller for it is registered here; :func:`blas_threads` then limits every BLAS in the
process for the duration of a solve and restores the previous settings afterwards.
"""
from __future__ import annotations

import contextlib

import threadpoolctl

__all__ = ["blas_threads"]


class _CasadiOpenBLASController(threadpoolctl.OpenBLASController):
    """OpenBLAS as shipped inside the casadi wheel (same API, different file name)."""

    filename_prefixes = ("libcasadi-tp-openblas",)


_REGISTERED = False


def _register() -> None:
    global _REGISTERED
    if not _REGISTERED:
        threadpoolctl.register(_CasadiOpenBLASController)
        _REGISTERED = True


def blas_threads(n: int | None):
    """Context manager limiting all BLAS libraries to ``n`` threads (``None``: no change)."""
    if n is None:
        return contextlib.nullcontext()
    _register()
    return threadpoolctl.threadpool_limits(limits=int(n), user_api="blas")
