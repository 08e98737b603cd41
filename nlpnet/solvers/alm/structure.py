"""The equality-lifted least-squares problem as the ALM sees it: rows and block Jacobian.

The augmented-Lagrangian subproblem is a nonlinear least-squares problem in a residual whose
rows split into per-sample blocks and a few global rows. With u = [θ; s_1; …; s_N] the
Jacobian reads

    J = [ A_1  B_1             ]      A_j = ∂r_j/∂θ   (every weight enters one row per sample)
        [  ⋮        ⋱          ]      B_j = ∂r_j/∂s_j (block-bidiagonal over the layers)
        [ A_N             B_N  ]
        [ C    0    …    0     ]      C   = ∂r_G/∂θ   (regularizers, user constraints on θ)

Sample j's rows r_j = [layer rows; scaled data residual] come from the NLP's batched kernels
(:mod:`nlpnet.formulations.lifted_jacobian`): one forward pass over the batch gives the rows
and everything the Jacobian products need, and nothing per sample is formed unless a small
problem asks for it (:attr:`BlockJacobian.A` for the direct reduced solve). The global rows
are one CasADi Function of θ with a sparse Jacobian (SciPy CSC), so regularizers on 10⁵
weights cost O(n_θ), not O(n_θ²).
"""
from __future__ import annotations

import copy

import casadi as ca
import numpy as np
import scipy.sparse as sps

from ...casadi_call import BufferedFunction
from ...formulations.lifted_jacobian import LiftedJacobian, a_pattern, equality_rows

__all__ = ["LiftedStructure", "BlockJacobian"]


class LiftedStructure:
    """Rows and Jacobians of an equality-lifted NLP (checked by the ALM before it is built)."""

    def __init__(self, nlp):
        sb = nlp.samples
        self.nlp, self.kern = nlp, sb.kernels
        self.X, self.Y, self.loss = sb.X, sb.Y, sb.loss
        self.N, self.n_th, self.n_s = nlp.N, nlp.n_theta, sb.n_s
        self.n_out = sb.Y.shape[1]
        self.n_r = self.n_s + self.n_out          # rows per sample: layer rows then data residuals
        self.n_gl = self.N * self.n_s             # per-sample rows of g (the rest of g is user rows)
        self.n_x = nlp.n_x
        self.kappa = None
        self.smoothable = any(a.name == "relu" for a in self.kern.acts[:-1])
        # direct-path metadata: A's pattern sorted by row (see lifted_jacobian.a_pattern)
        self.a_rows, self.a_cols = a_pattern(self.kern)
        self.a_present, self.a_starts = np.unique(self.a_rows, return_index=True)
        self.layer_cols = []       # per layer: (units × fan-in (+1)) θ indices of each neuron's row
        r0 = 0
        for k in range(self.kern.L):
            d = self.kern.sizes[k + 1]
            sel = (self.a_rows >= r0) & (self.a_rows < r0 + d)
            self.layer_cols.append(self.a_cols[sel].reshape(d, -1))
            r0 += d
        self._global(nlp)
        self._cache = None
        self._eig0 = None

    def _global(self, nlp):
        g = nlp.glob
        rho, rows = g.residual, g.rows
        self.n_rho, self.n_user = rho.numel(), rows.numel()
        self.n_G = self.n_rho + self.n_user
        self.global_is_g = np.concatenate([np.zeros(self.n_rho, bool), np.ones(self.n_user, bool)])
        self.global_on_states = g.on_states
        if self.n_G:
            # rows on lifted states (inner='ipopt' only) are evaluated on all of x, without a C
            th = nlp.symbols.x if g.on_states else nlp.symbols.theta
            R = ca.vertcat(rho, rows)
            J = ca.jacobian(R, nlp.symbols.theta) if not g.on_states else ca.SX(self.n_G, 0)
            sp = J.sparsity()
            self._C_index = (np.asarray(sp.row(), np.int64), np.asarray(sp.colind(), np.int64))
            self._glob = BufferedFunction(ca.Function("alm_global", [th, nlp.p], [R, J.nz[:]]))
            self.p0 = nlp.p0

    def restricted(self, idx) -> "LiftedStructure":
        """The same structure on the samples ``idx`` only (a mini-batch): their data, their
        states and rows; θ and the global rows shared. Nothing is rebuilt."""
        sub = copy.copy(self)
        sub.X, sub.Y = self.X[idx], self.Y[idx]
        sub.N = len(idx)
        sub.n_gl = sub.N * self.n_s
        sub.n_x = self.n_th + sub.N * self.n_s
        sub._cache = sub._eig0 = None
        return sub

    def layer_eigenbasis(self, k, Zext):
        """(Q, ÃQ) for the preconditioner of layer k: Q the eigenvectors of ÃᵀÃ. The input
        layer's Ã is the data, so its basis is computed once per structure."""
        if k == 0 and self._eig0 is not None:
            return self._eig0
        _, Q = np.linalg.eigh(Zext.T @ Zext)
        out = (Q, Zext @ Q)
        if k == 0:
            self._eig0 = out
        return out

    def set_smoothing(self, kappa) -> None:
        """Evaluate ReLU rows as z − softplus_κ(a) (κ = None: the exact ReLU)."""
        self.kappa = None if kappa is None else float(kappa)

    # ------------------------------------------------------------------ evaluation
    def split_x(self, u):
        return u[:self.n_th], u[self.n_th:].reshape(self.N, self.n_s)

    def to_x(self, dth, dS) -> np.ndarray:
        return np.concatenate([dth, dS.ravel()])

    def rows(self, u, out_scale: float):
        """(local rows N × n_r, global rows n_G): layer rows, out_scale·(o − y), [ρ; g_G]."""
        th, S = self.split_x(u)
        R, Zs, Ds, out = equality_rows(self.kern, th, S, self.X, self.Y, out_scale, self.kappa, self.loss)
        glob, Cnz = (self._glob(u if self.global_on_states else th, self.p0) if self.n_G
                     else (np.zeros(0), np.zeros(0)))
        self._cache = (u.copy(), out_scale, self.kappa, Zs, Ds, Cnz.copy(), out)
        return R, glob.copy()

    def output_terms(self):
        """(L_f, Σ_j ℓ_j) at the point of the last :meth:`rows` call: the factor of the output
        rows' Gauss–Newton weight (None for a least-squares loss) and the loss value."""
        return self._cache[6]

    def jacobian(self, u, out_scale: float, glob_scale) -> "BlockJacobian":
        c = self._cache
        if c is None or c[1] != out_scale or c[2] != self.kappa or not np.array_equal(c[0], u):
            self.rows(u, out_scale)
            c = self._cache
        th = u[:self.n_th]
        lj = LiftedJacobian(self.kern, th, c[3], c[4], out_scale)
        if self.n_G:
            row, colind = self._C_index
            C = sps.csc_matrix((c[5], row, colind), shape=(self.n_G, self.n_th))
            C = sps.diags(glob_scale) @ C
        else:
            C = sps.csc_matrix((0, self.n_th))
        return BlockJacobian(self, lj, C.tocsr())


class BlockJacobian:
    """∂r/∂u at one point: per-sample part through a :class:`LiftedJacobian`, global rows C."""

    def __init__(self, st: LiftedStructure, lj: LiftedJacobian, C):
        self.st, self.lj, self.C = st, lj, C
        self._A = self._F = self._gram = None

    # ---------------------------------------------------------------- products
    def A_mul(self, v_theta):
        return self.lj.A_mul(v_theta)

    def A_tmul(self, W):
        return self.lj.A_tmul(W)

    def matvec(self, v):
        """J v as (local (N × n_r), global (n_G,))."""
        vth, vS = self.st.split_x(v)
        return self.lj.A_mul(vth) + self.lj.B_mul(vS), self.C @ vth

    def rmatvec(self, loc, glob):
        """Jᵀ w for w given as (local (N × n_r), global (n_G,)); returns an x-space vector."""
        return self.st.to_x(self.lj.A_tmul(loc) + self.C.T @ glob, self.lj.B_tmul(loc))

    def diag_max(self) -> float:
        """max diag(JᵀJ), the scale of the initial damping."""
        ones = np.ones((self.st.N, self.st.n_r))
        dth = self.lj.weighted_A_squares(ones) + np.asarray(self.C.multiply(self.C).sum(axis=0)).ravel()
        ds = self.lj.B_col_squares() if self.st.n_s else np.zeros(1)
        return float(max(dth.max(initial=0.0), ds.max(initial=0.0)))

    # ---------------------------------------------------------------- blocks, formed on request
    @property
    def A(self) -> np.ndarray:
        """A's values per sample in pattern order (N × n_θ): for the direct reduced solve."""
        if self._A is None:
            self._A = self.lj.A_values()
        return self._A

    @property
    def F(self) -> np.ndarray:
        """E_jT_j⁻¹ per sample (N × d_L × n_s): for the layer-metric state elimination."""
        if self._F is None:
            self._F = self.lj.output_state_sensitivity()
        return self._F

    def gram(self) -> np.ndarray:
        """B_jB_jᵀ per sample (N × n_r × n_r): for the identity-metric state elimination."""
        if self._gram is None:
            self._gram = self.lj.gram()
        return self._gram

    def dense(self) -> np.ndarray:
        """The full Jacobian (N n_r + n_G) × n_x as a dense array (tests and small problems)."""
        st = self.st
        J = np.zeros((st.N * st.n_r + st.n_G, st.n_x))
        rows = np.arange(st.N)[:, None] * st.n_r + st.a_rows[None, :]
        J[rows, st.a_cols[None, :]] = self.A
        j = np.arange(st.N)[:, None, None]
        J[j * st.n_r + np.arange(st.n_r)[None, :, None],
          st.n_th + j * st.n_s + np.arange(st.n_s)[None, None, :]] = self.lj.B_dense()
        J[st.N * st.n_r:, :st.n_th] = self.C.toarray()
        return J
