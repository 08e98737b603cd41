"""The Jacobian of the equality-lifted rows, applied by batched products, never formed.

Sample j's rows are r_j = [z_k − σ_k(a_k)]_{k<L} followed by c·(σ_L(a_L) − y_j) (the scaled
data residual; c = 1/√N times any scaling a solver applies), a_k = W_k z_{k−1} + b_k,
z_0 = x_j. For a loss that is not least squares (cross-entropy) the output rows are its
Gauss–Newton residual c·t_j in the output, weighted per sample by G_j = L_jᵀL_j
(:meth:`nlpnet.losses.Loss.gauss_newton`); the Jacobian below is the same, the weight enters
where the rows are squared (:mod:`nlpnet.solvers.alm.elimination`). Its Jacobian splits as J_j = [A_j | B_j] with A_j = ∂r_j/∂θ and B_j = ∂r_j/∂s_j.
With D_k = σ_k'(A_k) (n × d_k), inputs Z_{k−1} (n × d_{k−1}), row signs s_k = −1 for the
layer rows and s_L = c for the output rows, and a direction (V, v_b) in θ or v_z in s:

    (A v)_k = s_k D_k ⊙ (Z_{k−1} V_kᵀ + 1 v_bᵀ)
    (B v)_k = [k < L] v_{z_k} + [k ≥ 2] s_k D_k ⊙ (v_{z_{k−1}} W_kᵀ)
    Aᵀw:  ∂/∂W_k = (s_k D_k ⊙ w_k)ᵀ Z_{k−1},  ∂/∂b_k = (s_k D_k ⊙ w_k)ᵀ 1
    Bᵀw:  (Bᵀw)_{z_k} = w_k + (s_{k+1} D_{k+1} ⊙ w_{k+1}) W_{k+1}

and the Gram matrices K_j = B_jB_jᵀ are block tridiagonal over the row blocks:

    K_kk = [k < L] I + [k ≥ 2] s_k² (W_kW_kᵀ) ⊙ d_k d_kᵀ,    K_{k−1,k} = s_k W_kᵀ diag(d_k),

built in O(n Σ d_k²) without forming B. Every product is a BLAS call over the whole batch;
memory is O(n Σ d_k) plus n n_r² for the Gram matrices.

For small weight counts the reduced system is formed explicitly; :meth:`LiftedJacobian.A_values`
gives A's nonzeros (every weight enters one row per sample, so A_j has n_θ entries) in the
pattern order of :func:`a_pattern`: rows ascending, within a row the weights W_k[i, :] then b_k[i].
"""
from __future__ import annotations

import numpy as np

from .kernels import activate

__all__ = ["LiftedJacobian", "a_pattern", "equality_rows"]


def a_pattern(kern):
    """(rows, cols) of A_j's nonzeros in pattern order (see the module docstring)."""
    rows, cols, r0 = [], [], 0
    for k, (ws, bs) in enumerate(kern.slices):
        d_in, d = kern.sizes[k], kern.sizes[k + 1]
        i = np.arange(d)
        c_w = ws.start + np.arange(d_in)[None, :] * d + i[:, None]            # (d, d_in)
        parts = [c_w] + ([bs.start + i[:, None]] if kern.use_bias[k] else [])
        c = np.hstack(parts)
        rows.append(np.repeat(r0 + i, c.shape[1]))
        cols.append(c.ravel())
        r0 += d
    return np.concatenate(rows).astype(np.int64), np.concatenate(cols).astype(np.int64)


def equality_rows(kern, theta, S, X, Y, out_scale, kappa=None, loss=None):
    """Rows of every sample, (n × n_r): layer rows then out_scale·t_j, with t_j the loss's
    Gauss–Newton residual in the output (o − y for MSE; ``loss.gauss_newton``), what the
    Jacobian needs (inputs Z_{k−1}, derivatives D_k), and (L_f, Σℓ_j): the factor of the
    output rows' weight (None for MSE) and the loss value."""
    weights = kern.weights(theta)
    n, L = X.shape[0], kern.L
    R = np.empty((n, S.shape[1] + kern.sizes[-1]))
    Zs, Ds, Z, r0 = [], [], X, 0
    for k in range(L):
        act = kern.acts[k]
        A = kern.affine(k, *weights[k], Z)
        sig, D = activate(act, A, kappa if (act.name == "relu" and k < L - 1) else None)
        Zs.append(Z)
        Ds.append(D)
        d = kern.sizes[k + 1]
        if k < L - 1:
            z = S[:, r0:r0 + d]
            R[:, r0:r0 + d] = z - sig
            Z = z
        else:
            if loss is None or loss.least_squares:
                R[:, r0:] = out_scale * (sig - Y)
                out = (None, None)
            else:
                T, Lf = loss.gauss_newton(sig, Y)
                R[:, r0:] = out_scale * T
                out = (Lf, loss.total(sig, Y))
        r0 += d
    return R, Zs, Ds, out


class LiftedJacobian:
    """∂r/∂(θ, s) of the equality-lifted rows at one point (see the module docstring)."""

    def __init__(self, kern, theta, Zs, Ds, out_scale: float):
        self.kern, self.Zs, self.L = kern, Zs, kern.L
        self.W = [W for W, _ in kern.weights(theta)]
        self.N = Zs[0].shape[0]
        d = kern.sizes[1:]
        self.offsets = np.concatenate([[0], np.cumsum(d)]).astype(int)
        self.n_r = int(self.offsets[-1])
        self.n_s = int(self.offsets[-2])
        self.n_th = kern.n_params
        # s_k D_k per row block (None: the identity output, s_L alone)
        self.sD = [(-1.0 if k < self.L - 1 else out_scale) * (D if D is not None else 1.0)
                   for k, D in enumerate(Ds)]
        self.out_scale = out_scale

    def _block(self, M, k):
        return M[:, self.offsets[k]:self.offsets[k + 1]]

    def _sD(self, k, shape):
        s = self.sD[k]
        return np.broadcast_to(s, shape) if np.ndim(s) == 0 else s

    # ---------------------------------------------------------------- products
    def A_mul(self, v_theta, inputs=None):
        """A v. ``inputs`` {k: (Ã, cols)} replaces layer k's inputs [Z_{k−1}, 1] by Ã (N × n)
        and reads its weights as the (d_k × n) matrix v[cols], bias column included: the same
        product in another basis of the fan-in (see :mod:`nlpnet.solvers.alm.block_solve`)."""
        inputs = inputs or {}
        out = np.empty((self.N, self.n_r))
        for k, ((W, b), Z) in enumerate(zip(self.kern.weights(v_theta), self.Zs)):
            if k in inputs:
                Zt, cols = inputs[k]
                P = Zt @ v_theta[cols].T
            else:
                P = Z @ W.T
                if b is not None:
                    P += b
            self._block(out, k)[:] = P * self.sD[k]
        return out

    def A_tmul(self, Wl, inputs=None):
        """Aᵀ w, with ``inputs`` as in :meth:`A_mul` (layer k's entries then in its basis)."""
        inputs = inputs or {}
        g = np.zeros(self.n_th)
        kern = self.kern
        for k, Z in enumerate(self.Zs):
            U = self._block(Wl, k) * self.sD[k]
            if k in inputs:
                Zt, cols = inputs[k]
                g[cols] = U.T @ Zt
                continue
            np.matmul(Z.T, U, out=kern.transposed_view(g, k))
            if kern.use_bias[k]:
                np.sum(U, axis=0, out=g[kern.slices[k][1]])
        return g

    def B_mul(self, vS):
        out = np.zeros((self.N, self.n_r))
        for k in range(self.L):
            blk = self._block(out, k)
            if k < self.L - 1:
                blk += self._block(vS, k)
            if k >= 1:
                blk += (self._block(vS, k - 1) @ self.W[k].T) * self.sD[k]
        return out

    def B_tmul(self, Wl):
        out = np.empty((self.N, self.n_s))
        for k in range(self.L - 1):
            self._block(out, k)[:] = self._block(Wl, k) + (self._block(Wl, k + 1) * self.sD[k + 1]) @ self.W[k + 1]
        return out

    def matvec(self, v_theta, vS):
        return self.A_mul(v_theta) + self.B_mul(vS)

    # ---------------------------------------------------------------- blocks
    def gram(self) -> np.ndarray:
        """K_j = B_jB_jᵀ for every sample: (N × n_r × n_r)."""
        K = np.zeros((self.N, self.n_r, self.n_r))
        o = self.offsets
        for k in range(self.L):
            sl = slice(o[k], o[k + 1])
            if k < self.L - 1:
                K[:, sl, sl] += np.eye(o[k + 1] - o[k])
            if k >= 1:
                W = self.W[k]
                sD = self._sD(k, (self.N, W.shape[0]))
                K[:, sl, sl] += (W @ W.T)[None] * (sD[:, :, None] * sD[:, None, :])
                prev = slice(o[k - 1], o[k])
                off = W.T[None, :, :] * sD[:, None, :]            # (N, d_{k−1}, d_k)
                K[:, prev, sl] = off
                K[:, sl, prev] = np.swapaxes(off, 1, 2)
        return K

    def A_values(self) -> np.ndarray:
        """A's nonzeros per sample in the order of :func:`a_pattern`: (N × n_θ)."""
        parts = []
        for k, Z in enumerate(self.Zs):
            d = self.kern.sizes[k + 1]
            Zext = np.hstack([Z, np.ones((self.N, 1))]) if self.kern.use_bias[k] else Z
            sD = self._sD(k, (self.N, d))
            parts.append((sD[:, :, None] * Zext[:, None, :]).reshape(self.N, -1))
        return np.hstack(parts)

    def weighted_A_squares(self, w) -> np.ndarray:
        """Σ_j Σ_r w_{jr} A_j[r, ·]² (n_θ,): the diagonal of Σ_j A_jᵀ diag(w_j) A_j."""
        g = np.zeros(self.n_th)
        kern = self.kern
        for k, Z in enumerate(self.Zs):
            d = kern.sizes[k + 1]
            U = self._block(w, k) * self._sD(k, (self.N, d)) ** 2
            np.matmul((Z * Z).T, U, out=kern.transposed_view(g, k))
            if kern.use_bias[k]:
                np.sum(U, axis=0, out=g[kern.slices[k][1]])
        return g

    def layer_inputs(self, k) -> np.ndarray:
        """Ã_k = [Z_{k−1}, 1] (N × n_in): the inputs each neuron row of layer k multiplies."""
        Z = self.Zs[k]
        return np.hstack([Z, np.ones((self.N, 1))]) if self.kern.use_bias[k] else Z

    def layer_weights(self, w, k) -> np.ndarray:
        """ω = w ⊙ (s_k D_k)² for the rows of layer k (N × d_k): A_j[r, ·] = (s_k D_k)_{jr} ã_j."""
        return self._block(w, k) * self._sD(k, (self.N, self.kern.sizes[k + 1])) ** 2

    def neuron_blocks(self, w, layer) -> np.ndarray:
        """Σ_j w_{jr} A_j[r, cols(r)]ᵀ A_j[r, cols(r)] for each row r (neuron) of ``layer``:
        (d_k × n_in × n_in), n_in = fan-in (+1 for the bias), in :func:`a_pattern` order."""
        Zext = self.layer_inputs(layer)
        omega = self.layer_weights(w, layer)
        d, n = omega.shape[1], Zext.shape[1]
        out = np.empty((d, n, n))
        chunk = max(1, 4_000_000 // max(1, self.N * n))       # (chunk × N × n) temporaries of ~32 MB
        for a in range(0, d, chunk):
            T = omega[:, a:a + chunk].T[:, :, None] * Zext[None, :, :]          # (c, N, n): ω_i ⊙ Ã
            np.matmul(Zext.T[None, :, :], T, out=out[a:a + chunk])               # Ãᵀ diag(ω_i) Ã, BLAS
        return out

    def B_col_squares(self) -> np.ndarray:
        """Σ_r B_j[r, ·]² for every sample: (N × n_s), the states' part of diag(JᵀJ)."""
        out = np.empty((self.N, self.n_s))
        for k in range(self.L - 1):
            W = self.W[k + 1]
            sD = self._sD(k + 1, (self.N, W.shape[0]))
            self._block(out, k)[:] = 1.0 + (sD * sD) @ (W * W)
        return out

    # ---------------------------------------------------------------- the square part T of B
    # B_j = [T_j; E_j]: T = ∂(layer rows)/∂s is unit lower block-bidiagonal (always invertible),
    # E = ∂(output rows)/∂s touches the last hidden layer only.
    def T_solve(self, b) -> np.ndarray:
        """T_j⁻¹ b_j for every sample (b: N × n_s), by forward substitution over the layers."""
        x = np.empty_like(b)
        for k in range(self.L - 1):
            blk = self._block(x, k)
            blk[:] = self._block(b, k)
            if k >= 1:
                blk -= (self._block(x, k - 1) @ self.W[k].T) * self.sD[k]
        return x

    def output_state_sensitivity(self) -> np.ndarray:
        """F_j = E_j T_j⁻¹ for every sample: (N × d_L × n_s), the derivative of the output rows
        with respect to the layer rows when the states follow them (a back-propagation from
        each output unit through the lifted layers)."""
        L, N, dL = self.L, self.N, self.kern.sizes[-1]
        F = np.empty((N, dL, self.n_s))
        if L < 2:
            return F
        W = self.W[L - 1]
        sD = self._sD(L - 1, (N, dL))
        Y = sD[:, :, None] * W[None, :, :]
        F[:, :, self.offsets[L - 2]:self.offsets[L - 1]] = Y
        for k in range(L - 3, -1, -1):
            sDk = self._sD(k + 1, (N, self.W[k + 1].shape[0]))
            Y = -(Y * sDk[:, None, :]) @ self.W[k + 1]
            F[:, :, self.offsets[k]:self.offsets[k + 1]] = Y
        return F

    def B_dense(self) -> np.ndarray:
        """B_j for every sample: (N × n_r × n_s), for tests and small problems."""
        B = np.zeros((self.N, self.n_r, self.n_s))
        o = self.offsets
        for k in range(self.L):
            sl = slice(o[k], o[k + 1])
            if k < self.L - 1:
                B[:, sl, sl] = np.eye(o[k + 1] - o[k])
            if k >= 1:
                sD = self._sD(k, (self.N, self.W[k].shape[0]))
                B[:, sl, o[k - 1]:o[k]] = sD[:, :, None] * self.W[k][None]
        return B
