"""Eliminating the states from a damped Gauss–Newton step, sample by sample.

A Levenberg–Marquardt step minimises ‖A δθ + B δs + r‖² + μ‖δθ‖² + μ δsᵀD δs. For fixed δθ
the states of each sample solve a small problem of their own, and what is left is

    min_δθ  Σ_j u_jᵀ M_j u_j + ‖C δθ + r_G‖² + μ‖δθ‖²,   u_j = r_j + A_j δθ,
    M_j = I − B_j (B_jᵀB_j + μD_j)⁻¹ B_jᵀ,   δs_j = −(B_jᵀB_j + μD_j)⁻¹ B_jᵀ u_j.

Two state metrics D:

* :class:`IdentityDamping` — D = I, the textbook LM step. By the push-through identity
  M_j = μ(B_jB_jᵀ + μI)⁻¹ and δs_j = −B_jᵀM_ju_j/μ, from a batched Cholesky factor of the
  n_r × n_r Gram matrices: O(N n_r³) per damping value, O(N n_r²) memory. The choice for
  small layers (the thesis's nets).
* :class:`LayerDamping` — D = T_jᵀT_j, with T_j the (unit lower block-bidiagonal, always
  invertible) layer-row part of B_j = [T_j; E_j]: the states are damped in the metric of the
  layer rows they move. With F_j = E_jT_j⁻¹ (d_L × n_s) everything is closed-form:

      B_jᵀB_j + μD_j = T_jᵀ(c I + F_jᵀF_j)T_j,   c = 1 + μ,
      G_j = (cI + FᵀF)⁻¹ = (I − Fᵀ(cI + FFᵀ)⁻¹F)/c                (Woodbury; d_L × d_L solves)
      M_j u = u − [I; F] G (u_g + Fᵀu_o),   δs_j = −T_j⁻¹ G (u_g + Fᵀ u_o),

  O(N d_L n_s) per application and memory, no per-sample factorisation of layer size: the
  choice for wide layers (784-100-50-10: n_r = 160, where a Cholesky per sample and damping
  value cost more than the rest of the step).

**Weighted output rows** (cross-entropy's Gauss–Newton model, :mod:`nlpnet.losses`): when the
output rows carry a per-sample weight G_j = L_jᵀL_j the step minimises
‖Ŵ^{1/2}(A δθ + B δs + r)‖² + …, Ŵ = diag(I, G_j). With L̂ = diag(I, L_j) and B̂ = L̂B every
formula above holds for (B̂, L̂u), and M_j = L̂ᵀ M̂_j L̂ (M̂ the unweighted M of B̂): the
identity metric factors L̂BBᵀL̂ᵀ + μI, the layer metric uses F̂ = L_jF_j. For MSE, L_j = I.

Each elimination offers ``apply(u)`` (M u), ``diag()`` (the diagonals of M_j, exact for the
Jacobi and neuron-block preconditioners because each weight enters one row per sample),
``dense()`` (M_j, for the direct reduced solve) and ``states(u)`` (δs).
"""
from __future__ import annotations

import numpy as np

__all__ = ["IdentityDamping", "LayerDamping", "make_elimination"]

_CHUNK_ELEMENTS = 8_000_000   # samples per chunk of Gram matrices (~64 MB of temporaries)


def _tril_inverse(L):
    """Inverses of a stack of lower-triangular matrices by forward substitution, one row at a
    time for all matrices at once: row i of L⁻¹ is −(L[i, :i] L⁻¹[:i, :i]) / L[i, i]."""
    n = L.shape[1]
    X = np.zeros_like(L)
    d = 1.0 / np.diagonal(L, axis1=1, axis2=2)
    X[:, 0, 0] = d[:, 0]
    for i in range(1, n):
        X[:, i, :i] = -np.matmul(L[:, i:i + 1, :i], X[:, :i, :i])[:, 0, :] * d[:, i:i + 1]
        X[:, i, i] = d[:, i]
    return X


class IdentityDamping:
    """D = I (see the module docstring). Raises LinAlgError if a Gram block is not SPD."""

    def __init__(self, jac, mu: float, Lf=None):
        self.jac, self.mu = jac, mu
        K = jac.gram()
        if Lf is not None:             # K̂ = L̂ K L̂ᵀ with L̂ = diag(I, L_f)
            o = slice(jac.st.n_s, None)
            K = K.copy()
            K[:, o, :] = np.matmul(Lf, K[:, o, :])
            K[:, :, o] = np.matmul(K[:, :, o], np.swapaxes(Lf, 1, 2))
        n = K.shape[1]
        M = np.empty_like(K)
        chunk = max(1, _CHUNK_ELEMENTS // max(1, n * n))
        idx = np.arange(n)
        for a in range(0, K.shape[0], chunk):
            Kc = K[a:a + chunk].copy()
            Kc[:, idx, idx] += mu
            X = _tril_inverse(np.linalg.cholesky(Kc))
            M[a:a + chunk] = mu * np.matmul(np.swapaxes(X, 1, 2), X)
        if Lf is not None:             # M = L̂ᵀ M̂ L̂
            o = slice(jac.st.n_s, None)
            M[:, o, :] = np.matmul(np.swapaxes(Lf, 1, 2), M[:, o, :])
            M[:, :, o] = np.matmul(M[:, :, o], Lf)
        self.M = M

    def apply(self, u):
        return np.matmul(self.M, u[:, :, None])[:, :, 0]

    def diag(self):
        return np.diagonal(self.M, axis1=1, axis2=2)

    def dense(self):
        return self.M

    def states(self, u):
        return -self.jac.lj.B_tmul(self.apply(u)) / self.mu


class LayerDamping:
    """D = TᵀT (see the module docstring)."""

    def __init__(self, jac, mu: float, Lf=None):
        self.jac, self.mu, self.c, self.Lf = jac, mu, 1.0 + mu, Lf
        F = jac.F if Lf is None else np.matmul(Lf, jac.F)    # F̂ = L_f F: (N, d_L, n_s)
        self.F, self.Ft = F, np.ascontiguousarray(np.swapaxes(F, 1, 2))
        P = np.matmul(F, np.swapaxes(F, 1, 2))               # F Fᵀ (N, d_L, d_L)
        dL = P.shape[1]
        self.P = P
        self.H = np.linalg.inv(P + self.c * np.eye(dL))      # (cI + FFᵀ)⁻¹
        self.n_s = F.shape[2]

    def _parts(self, u):
        """With v = u_g + Fᵀu_o: q = F v = F u_g + P u_o, t = H q and
        G v = (v − Fᵀt)/c = (u_g + Fᵀ(u_o − t))/c: two batched products of F, the rest
        d_L × d_L (u_o already multiplied by L_f when the rows are weighted)."""
        ug, uo = u[:, :self.n_s], u[:, self.n_s:]
        q = np.matmul(self.F, ug[:, :, None]) + np.matmul(self.P, uo[:, :, None])
        t = np.matmul(self.H, q)[:, :, 0]
        Gv = (ug + np.matmul(self.Ft, (uo - t)[:, :, None])[:, :, 0]) / self.c
        return ug, uo, q[:, :, 0], t, Gv

    def _hat(self, u):
        """L̂u = (u_g, L_f u_o)."""
        if self.Lf is None:
            return u
        out = u.copy()
        out[:, self.n_s:] = np.matmul(self.Lf, u[:, self.n_s:, None])[:, :, 0]
        return out

    def _Gv(self, u):
        return self._parts(self._hat(u))[4]

    def apply(self, u):
        ug, uo, q, t, Gv = self._parts(self._hat(u))
        out = np.empty_like(u)
        out[:, :self.n_s] = ug - Gv
        # F G v = (q − P t)/c, with P = FFᵀ: no fourth product of F
        mo = uo - (q - np.matmul(self.P, t[:, :, None])[:, :, 0]) / self.c
        out[:, self.n_s:] = mo if self.Lf is None else np.matmul(np.swapaxes(self.Lf, 1, 2), mo[:, :, None])[:, :, 0]
        return out

    def diag(self):
        F, H, P, c = self.F, self.H, self.P, self.c
        FtHF = np.einsum("jcs,jcd,jds->js", F, H, F)         # diag(FᵀHF)
        dG = (1.0 - FtHF) / c
        Moo = np.eye(P.shape[1])[None] - (P - np.matmul(np.matmul(P, H), P)) / c    # I − F G Fᵀ
        if self.Lf is not None:
            Moo = np.matmul(np.matmul(np.swapaxes(self.Lf, 1, 2), Moo), self.Lf)
        return np.hstack([1.0 - dG, np.diagonal(Moo, axis1=1, axis2=2)])

    def dense(self):
        F, H, c = self.F, self.H, self.c
        N, dL, n_s = F.shape
        G = (np.eye(n_s)[None] - np.matmul(np.swapaxes(F, 1, 2), np.matmul(H, F))) / c
        Q = np.concatenate([np.broadcast_to(np.eye(n_s), (N, n_s, n_s)), F], axis=1)   # [I; F]
        M = np.eye(n_s + dL)[None] - np.matmul(np.matmul(Q, G), np.swapaxes(Q, 1, 2))
        if self.Lf is not None:
            o = slice(n_s, None)
            M[:, o, :] = np.matmul(np.swapaxes(self.Lf, 1, 2), M[:, o, :])
            M[:, :, o] = np.matmul(M[:, :, o], self.Lf)
        return M

    def states(self, u):
        return -self.jac.lj.T_solve(self._Gv(u))


def make_elimination(kind: str, jac, mu: float, Lf=None):
    """``kind``: "identity" or "layer"; ``Lf`` the output rows' weight factors (see the module docstring)."""
    return IdentityDamping(jac, mu, Lf) if kind == "identity" else LayerDamping(jac, mu, Lf)
