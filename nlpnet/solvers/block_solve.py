"""Levenberg–Marquardt steps on a :class:`~nlpnet.solvers.structured.BlockJacobian`.

A Levenberg–Marquardt step solves (JᵀJ + μI) δ = −Jᵀr. Eliminating the states sample by
sample with the push-through identity (BᵀB + μI)⁻¹Bᵀ = Bᵀ(BBᵀ + μI)⁻¹ leaves

    ( Σ_j A_jᵀ M_j A_j + CᵀC + μI ) δθ = −( Σ_j A_jᵀ M_j r_j + Cᵀ r_G ),
    δs_j = −B_jᵀ (B_jB_jᵀ + μI)⁻¹ (r_j + A_j δθ),

with M_j = μ (B_jB_jᵀ + μI)⁻¹ (a batched inverse of n_r × n_r matrices; B_jB_jᵀ is cached
across damping changes). The reduced matrix is a sum of positive semidefinite terms
A_jᵀM_jA_j plus CᵀC + μI, so no subtraction can make it indefinite. It is formed with one
gemm per neuron row, the sample index being the inner dimension: S[c, c'] =
Σ_j a_j[c] (M_j)_{r(c) r(c')} a_j[c'] costs O(N n_θ²) flops and memory bounded by chunks
of samples. All costs are linear in N.

When n_θ is large the reduced matrix is not formed; conjugate gradients runs on it
matrix-free (each product costs O(nnz A + N n_r²)), preconditioned by its neuron blocks:
the weights feeding one row (neuron) form a block Σ_j (M_j)_{rr} a_j a_jᵀ, inverted once per
step. ``method="auto"`` picks the direct path up to ``direct_max_weights`` weights.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .structured import BlockJacobian

__all__ = ["solve_damped"]

_CHUNK_ELEMENTS = 4_000_000   # samples per chunk chosen so a chunk's X_j fits in ~32 MB
_CACHE_ELEMENTS = 65_536      # ~0.5 MB operands per chunk in the row-wise reduced-matrix loop


def solve_damped(jac: "BlockJacobian", r_loc, r_glob, mu: float, method: str = "direct",
                 cg_tol: float = 1e-8, cg_maxiter: int = 500):
    """Solve (JᵀJ + μI) δ = −Jᵀr by state elimination (see the module docstring).

    ``method``: "direct" forms and solves the reduced n_θ × n_θ system; "cg" runs
    preconditioned conjugate gradients on it matrix-free. Returns (δ in x-space, info dict).
    Raises ``numpy.linalg.LinAlgError`` if the reduced system cannot be solved (the caller
    raises the damping), never returns non-finite numbers silently.
    """
    st = jac.st
    if not mu > 0:
        raise np.linalg.LinAlgError("damping must be positive for the state elimination")
    M = jac.projector(mu)
    Mr = np.einsum("jrq,jq->jr", M, r_loc)                             # M_j r_j
    info = {"method": method, "cg_iterations": 0}
    if method == "direct":
        rhs = -(jac._A_tmul(Mr) + jac.C.T @ r_glob)
        CtC = jac.C.T @ jac.C
        if st.cols_unique and st.K == st.n_th:
            # the pattern is a permutation P of the weights: solve in pattern order
            P = st.a_cols
            S = _reduced_by_rows(jac, M)
            if st.n_G:
                S += CtC[np.ix_(P, P)]
            S[np.diag_indices_from(S)] += mu
            dth = np.empty(st.n_th)
            dth[P] = np.linalg.solve(S, rhs[P])
        else:
            S = CtC
            S[np.diag_indices_from(S)] += mu
            if st.cols_unique:
                S[np.ix_(st.a_cols, st.a_cols)] += _reduced_by_rows(jac, M)
            else:
                R = _sqrt_psd(M)
                chunk = max(1, _CHUNK_ELEMENTS // max(1, st.n_r * st.n_th))
                for a in range(0, st.N, chunk):
                    sl = slice(a, min(st.N, a + chunk))
                    X = jac._X_chunk(sl, R).reshape(-1, st.n_th)
                    S += X.T @ X
            dth = np.linalg.solve(S, rhs)
    elif method == "cg":
        rhs = -(jac._A_tmul(Mr) + jac.C.T @ r_glob)
        dth, info["cg_iterations"] = _pcg(jac, M, rhs, mu, cg_tol, cg_maxiter)
    else:
        raise ValueError(f"method: must be 'direct' or 'cg', got {method!r}")
    if not np.all(np.isfinite(dth)):
        raise np.linalg.LinAlgError("non-finite weight step")
    dS = jac.back_substitute(r_loc, dth, mu, M)
    if not np.all(np.isfinite(dS)):
        raise np.linalg.LinAlgError("non-finite state step")
    return st.to_x(dth, dS), info


def _sqrt_psd(M):
    """R_j with R_jᵀR_j = M_j for symmetric positive semidefinite M_j (general patterns only)."""
    e, V = np.linalg.eigh(M)
    return np.sqrt(np.maximum(e, 0.0))[:, :, None] * np.swapaxes(V, 1, 2)


def _reduced_by_rows(jac, M):
    """Σ_j A_jᵀ M_j A_j in pattern order (rows and columns ordered like ``st.a_cols``), for
    patterns where every weight enters one row per sample:
    S[c, c'] = Σ_j a_j[c] (M_j)_{r(c) r(c')} a_j[c']. Grouping the columns by their row gives
    one gemm per row with the sample index as inner dimension, O(N K²) flops in all
    (K = nonzeros per sample, about n_θ) instead of the O(N n_r n_θ²) of a dense route.
    The pattern is sorted by row, so for row block i only the entries above its end are
    formed (the upper triangle and the diagonal blocks) and the rest is mirrored: half the
    flops of the full product."""
    st = jac.st
    # small chunks keep each row's (chunk × K) operands in cache: with one chunk of 3000
    # samples the iteration ran 5× slower than at N = 1000 instead of 3×
    chunk = max(1, _CACHE_ELEMENTS // max(1, st.K))
    ends = np.append(st.a_starts[1:], st.K)
    S = np.zeros((st.K, st.K))
    for a in range(0, st.N, chunk):
        sl = slice(a, min(st.N, a + chunk))
        A, Mc = jac.A[sl], M[sl]
        for i, r in enumerate(st.a_present):
            e = ends[i]
            blk = slice(st.a_starts[i], e)
            Wq = A[:, :e] * Mc[:, r, st.a_rows[:e]]                  # a_j[k] (M_j)_{r, r(k)}, k < e
            S[:e, blk] += Wq.T @ A[:, blk]
    # S holds the upper block triangle; S + Sᵀ doubles the diagonal blocks, so put them back
    full = S + S.T
    for i in range(st.a_present.size):
        blk = slice(st.a_starts[i], ends[i])
        full[blk, blk] = S[blk, blk]
    return full


def _pcg(jac, M, rhs, mu, tol, maxiter):
    """Preconditioned CG on the reduced system, matrix-free."""
    st = jac.st

    def S_mul(v):
        w = np.einsum("jrq,jq->jr", M, jac._A_mul(v))
        return jac._A_tmul(w) + jac.C.T @ (jac.C @ v) + mu * v

    prec = _preconditioner(jac, M, mu)
    x = np.zeros(st.n_th)
    res = rhs.copy()
    bnorm = np.linalg.norm(rhs)
    if bnorm == 0:
        return x, 0
    z = prec(res)
    p = z.copy()
    rz = res @ z
    it = 0
    for it in range(1, maxiter + 1):
        Sp = S_mul(p)
        pSp = p @ Sp
        if not pSp > 0:
            raise np.linalg.LinAlgError("non-positive curvature in CG")
        alpha = rz / pSp
        x += alpha * p
        res -= alpha * Sp
        if np.linalg.norm(res) <= tol * bnorm:
            break
        z = prec(res)
        rz_new = res @ z
        p = z + (rz_new / rz) * p
        rz = rz_new
    return x, it


def _preconditioner(jac, M, mu):
    """Neuron-block Jacobi preconditioner of the reduced matrix (diagonal if the pattern
    has a weight in several rows)."""
    st = jac.st
    Mdiag = np.einsum("jrr->jr", M)                                # (M_j)_{rr}
    CtC_diag = np.einsum("gk,gk->k", jac.C, jac.C)
    if not st.blocks:
        d = np.zeros(st.n_th)
        np.add.at(d, st.a_cols, np.einsum("jk,jk->k", jac.A ** 2, Mdiag[:, st.a_rows]))
        d += CtC_diag + mu
        return lambda v: v / d
    covered = np.zeros(st.n_th, dtype=bool)
    groups: dict[int, list] = {}
    for b in st.blocks:
        groups.setdefault(b.size, []).append(b)
    inv_blocks = []
    for size, bl in groups.items():
        ks = np.stack(bl)                                        # (nb, size) pattern entries
        cols = st.a_cols[ks]
        wts = Mdiag[:, st.a_rows[ks[:, 0]]]                      # (N, nb)
        Ab = jac.A[:, ks]                                        # (N, nb, size)
        Bk = np.einsum("jb,jbk,jbl->bkl", wts, Ab, Ab, optimize=True)
        Cc = jac.C[:, cols]                                      # (n_G, nb, size)
        Bk += np.einsum("gbk,gbl->bkl", Cc, Cc)
        Bk[:, np.arange(size), np.arange(size)] += mu
        inv_blocks.append((cols, np.linalg.inv(Bk)))
        covered[cols.ravel()] = True
    rest = np.flatnonzero(~covered)
    d_rest = CtC_diag[rest] + mu

    def apply(v):
        out = np.empty_like(v)
        for cols, Binv in inv_blocks:
            out[cols] = np.einsum("bkl,bl->bk", Binv, v[cols])
        out[rest] = v[rest] / d_rest
        return out
    return apply
