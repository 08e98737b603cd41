"""Block linear algebra for least-squares residuals of multiple-shooting problems.

The augmented-Lagrangian subproblem is a nonlinear least-squares problem in a residual
r(u) whose rows split into per-sample blocks and a few global rows. With u = [θ; s_1; …; s_N]
(weights θ ∈ R^{n_θ}, states s_j ∈ R^{n_s}) the Jacobian reads

    J = [ A_1  B_1             ]      A_j = ∂r_j/∂θ   (n_r × n_θ, very sparse: one entry per
        [ A_2       B_2        ]                       weight and sample in a dense net)
        [  ⋮             ⋱     ]      B_j = ∂r_j/∂s_j (n_r × n_s, dense block per sample)
        [ A_N             B_N  ]      C   = ∂r_G/∂θ   (global rows: regularizers, user
        [ C    0    …    0     ]                       constraints on weights/outputs)

Rows and Jacobian blocks come, where the NLP is a plain equality lifting, from one CasADi
Function of a single sample (θ, s_j, x_j, y_j, κ) ↦ (r_j, ∂r_j/∂θ, ∂r_j/∂s_j) mapped over
the samples and called through CasADi's zero-copy buffers (set-up independent of N; checked
numerically against the NLP's own rows). Otherwise CasADi's exact sparse Jacobian of [g; F]
is built (about 10 ms per sample) and its nonzeros, returned as a dense vector, are
scattered into the block arrays with precomputed index maps. Either way no Python loop over
samples runs per iteration.
"""
from __future__ import annotations

import casadi as ca
import numpy as np

from .sample_rows import EXACT, MapEvaluator, sample_rows

__all__ = ["BlockStructure", "BlockJacobian"]


class _Evaluator:
    """Calls a CasADi Function of (x, p) through its zero-copy buffer interface: NumPy arrays
    in and out, no DM conversion (which dominated the cost of a Jacobian evaluation)."""

    def __init__(self, f: ca.Function, p0, n_out: int = 1):
        self.f = f
        self.x = np.zeros(f.nnz_in(0))
        self.p = np.array(p0, dtype=float).ravel().copy()
        self.outs = [np.zeros(f.nnz_out(i)) for i in range(n_out)]
        self.buf, self.trigger = f.buffer()
        self.buf.set_arg(0, memoryview(self.x))
        self.buf.set_arg(1, memoryview(self.p))
        for i, o in enumerate(self.outs):
            self.buf.set_res(i, memoryview(o))
        self.n_out = n_out

    def __call__(self, x, p=None):
        self.x[:] = x
        if p is not None:
            self.p[:] = p
        self.trigger()
        return self.outs[0] if self.n_out == 1 else self.outs


def _global_rows_expr(nlp, rows, st):
    return rows[st.global_rows.tolist()] if st.n_G else ca.SX(0, 1)


class BlockStructure:
    """The raw rows R(u) = [g(u); F(u)] of an NLP, split into per-sample and global rows,
    with CasADi Functions for R and the nonzeros of ∂R/∂u, built once.

    ``local_rows`` (N × n_r) are rows of R: sample j's layer constraints then its data
    residuals; ``global_rows`` the rest (user constraints and regularizer residuals).
    """

    def __init__(self, nlp, problem=None, verify: bool = True):
        self.kappa, self.smoothable = EXACT, False
        lay = nlp.layout
        self.n_x, self.n_g = nlp.n_x, nlp.n_g
        self.widx = np.asarray(lay.weight_idx, dtype=np.int64)
        self.sidx = np.asarray(lay.state_idx, dtype=np.int64)
        self.N = int(lay.n_samples)
        self.n_th = self.widx.size
        self.n_s = self.sidx.shape[1] if self.sidx.ndim == 2 else 0
        n_F = nlp.residual.numel()
        local = np.hstack([np.asarray(lay.constraint_idx, dtype=np.int64).reshape(self.N, -1),
                           self.n_g + np.asarray(lay.residual_idx, dtype=np.int64).reshape(self.N, -1)])
        self.local_rows = local
        self.n_r = local.shape[1]
        self.n_rg = local.shape[1] - np.asarray(lay.residual_idx).reshape(self.N, -1).shape[1]  # g rows per sample
        is_local = np.zeros(self.n_g + n_F, dtype=bool)
        is_local[local.ravel()] = True
        self.global_rows = np.flatnonzero(~is_local)
        self.n_G = self.global_rows.size
        self.global_is_g = self.global_rows < self.n_g
        self.p0 = np.asarray(nlp.p0, dtype=float)

        rows = ca.vertcat(nlp.g, nlp.residual)
        self._nlp_rows = (nlp.x, nlp.p, rows)
        self._f_rows = None
        self.n_R = rows.numel()
        self.mapped = problem is not None and self._build_mapped(nlp, problem, rows, verify)
        if not self.mapped:
            # generic route: CasADi's sparse Jacobian of all rows (its construction costs
            # about 10 ms per sample, so the mapped route is preferred where it applies)
            J = ca.jacobian(rows, nlp.x)
            self.f_jnz = _Evaluator(ca.Function("alm_jac_nz", [nlp.x, nlp.p], [J.nz[:]]), self.p0)
            jr, jc = J.sparsity().get_triplet()
            self._build_maps(np.asarray(jr, dtype=np.int64), np.asarray(jc, dtype=np.int64))

    # ------------------------------------------------------------------ mapped route
    def _build_mapped(self, nlp, problem, rows, verify) -> bool:
        """Per-sample rows r_j(θ, s_j; x_j, y_j) and their Jacobians as one CasADi Function
        of a single sample, evaluated over all samples by ``Function.map`` (set-up cost
        independent of N). Valid for the equality lifting, which is checked numerically
        against the NLP's own rows; returns False (generic route) when it does not apply."""
        net = problem.network
        names = [nm for nm, _, _ in nlp.layout.state_names]
        if any(nm != "z" for nm in names) or nlp.p.numel() or self.n_s != sum(l.units for l in net.layers[:-1]):
            return False
        sr = sample_rows(net, self.N)
        if sr.n_r != self.n_r:
            return False
        self._sample_rows, self.smoothable, self._evaluators = sr, sr.smoothable, {}
        self._data = (np.ascontiguousarray(problem.X.T), np.ascontiguousarray(problem.y.T))
        self._glob_rows = _Evaluator(ca.Function("alm_global_rows", [nlp.x, nlp.p], [_global_rows_expr(nlp, rows, self)]),
                                     self.p0)
        ar, ac = sr.a_sparsity.get_triplet()
        order = np.lexsort((np.asarray(ac), np.asarray(ar)))
        self._a_perm = order
        self.a_rows, self.a_cols = np.asarray(ar, np.int64)[order], np.asarray(ac, np.int64)[order]
        self.K = self.a_rows.size
        br, bc = sr.b_sparsity.get_triplet()
        self._b_flat = np.asarray(br, np.int64) * self.n_s + np.asarray(bc, np.int64)
        # global rows depend on θ only (checked by the solver); their Jacobian is small
        g_expr = rows[self.global_rows.tolist()] if self.n_G else ca.SX(0, 1)
        Jg = ca.jacobian(g_expr, nlp.x[self.widx.tolist()]) if self.n_G else ca.SX(0, self.n_th)
        if self.n_G and ca.depends_on(g_expr, nlp.x[self.n_th:] if self.n_s else ca.SX(0, 1)):
            self.coupled = True
            return False
        self.coupled = False
        self._glob = _Evaluator(ca.Function("alm_global", [nlp.x, nlp.p], [g_expr, ca.densify(Jg)]), self.p0,
                                n_out=2)
        self._finish_maps()
        if verify:
            # the per-sample Function against the NLP's own rows of the first and the last
            # sample (every sample's rows are the same expression of its own data; a Function
            # of all rows would cost ~0.1 ms per sample to build)
            probe = self.local_rows[[0, self.N - 1]].ravel()
            f_probe = ca.Function("alm_rows_probe", [nlp.x, nlp.p], [rows[probe.tolist()]])
            rng = np.random.default_rng(0)
            for x in (nlp.x0, nlp.x0 + 0.1 * rng.standard_normal(self.n_x)):
                ref = np.asarray(f_probe(x, self.p0)).ravel()
                if not np.allclose(self._rows_mapped(x)[probe], ref, rtol=1e-10, atol=1e-12):
                    return False
        return True

    def _mapped(self, with_jacobian: bool) -> MapEvaluator:
        """This problem's evaluator of the current phase (exact or smoothed ReLU): rows and
        Jacobian nonzeros, or rows only (:mod:`.sample_rows`)."""
        key = (EXACT if self.kappa >= EXACT else "smooth", with_jacobian)
        if key not in self._evaluators:
            f = self._sample_rows.mapped(*key)
            self._evaluators[key] = MapEvaluator(f, self.n_th, self.n_s, self.N, *self._data)
        return self._evaluators[key]

    def _rows_mapped(self, x):
        loc = self._mapped(False)(x[self.widx], x[self.sidx], self.kappa)[0]
        R = np.empty(self.n_R)
        R[self.local_rows] = loc
        if self.n_G:
            R[self.global_rows] = self._glob_rows(x)
        return R

    def _finish_maps(self):
        present, starts = np.unique(self.a_rows, return_index=True)
        self.a_present, self.a_starts = present, starts
        widths = np.diff(np.append(starts, self.K))
        self.row_runs, i = [], 0
        while i < present.size:
            j = i
            while j + 1 < present.size and widths[j + 1] == widths[i]:
                j += 1
            self.row_runs.append((present[i:j + 1], int(starts[i]), j - i + 1, int(widths[i])))
            i = j + 1
        self.cols_unique = np.unique(self.a_cols).size == self.K
        self.blocks = [np.flatnonzero(self.a_rows == r) for r in present] if self.cols_unique else []

    # ------------------------------------------------------------------ set-up
    def _build_maps(self, jr, jc):
        N, n_r, n_s, n_th = self.N, self.n_r, self.n_s, self.n_th
        size = max(int(jr.max()) + 1 if jr.size else 0, int(self.local_rows.max()) + 1 if self.local_rows.size else 0,
                   int(self.global_rows.max()) + 1 if self.n_G else 0)
        row_sample = np.full(size, -1, dtype=np.int64)
        row_local = np.full(size, -1, dtype=np.int64)
        row_sample[self.local_rows.ravel()] = np.repeat(np.arange(N), n_r)
        row_local[self.local_rows.ravel()] = np.tile(np.arange(n_r), N)
        row_global = np.full(size, -1, dtype=np.int64)
        row_global[self.global_rows] = np.arange(self.n_G)

        col_kind_w = np.full(self.n_x, -1, dtype=np.int64)
        col_kind_w[self.widx] = np.arange(n_th)
        col_sample = np.full(self.n_x, -1, dtype=np.int64)
        col_state = np.full(self.n_x, -1, dtype=np.int64)
        if n_s:
            col_sample[self.sidx.ravel()] = np.repeat(np.arange(N), n_s)
            col_state[self.sidx.ravel()] = np.tile(np.arange(n_s), N)

        js, lr, gr = row_sample[jr], row_local[jr], row_global[jr]
        wc, cs, ls = col_kind_w[jc], col_sample[jc], col_state[jc]
        loc = js >= 0
        # global rows must not touch states: the elimination needs state blocks per sample
        self.coupled = bool(np.any(~loc & (cs >= 0)))
        cross = loc & (cs >= 0) & (cs != js)
        if np.any(cross):
            raise ValueError("alm: a per-sample constraint couples the states of different samples; "
                             "the structured solver cannot eliminate them (use inner='ipopt')")
        # A: union over samples of the (local row, weight) pattern
        a_sel = np.flatnonzero(loc & (wc >= 0))
        pairs = lr[a_sel] * n_th + wc[a_sel]
        uniq, inv = np.unique(pairs, return_inverse=True)
        self.K = uniq.size
        self.a_rows, self.a_cols = uniq // n_th, uniq % n_th
        self.src_A, self.dst_A = a_sel, js[a_sel] * self.K + inv
        b_sel = np.flatnonzero(loc & (cs >= 0))
        self.src_B, self.dst_B = b_sel, (js[b_sel] * n_r + lr[b_sel]) * n_s + ls[b_sel]
        c_sel = np.flatnonzero(~loc & (wc >= 0))
        self.src_C, self.dst_C = c_sel, gr[c_sel] * n_th + wc[c_sel]
        self._finish_maps()

    def set_smoothing(self, kappa) -> None:
        """Evaluate ReLU rows as z − softplus_κ(a) (κ = None: the exact ReLU). Mapped route only."""
        self.kappa = EXACT if kappa is None else float(kappa)

    # ------------------------------------------------------------------ evaluation
    def rows(self, x, p=None) -> np.ndarray:
        """R(x) = [g; F] as a flat array."""
        if self.mapped:
            return self._rows_mapped(x)
        return self.f_rows(x, p).copy()

    @property
    def f_rows(self) -> _Evaluator:
        """All rows R(x, p) as one CasADi Function of the whole NLP (generic route; built on
        first use)."""
        if self._f_rows is None:
            x, p, rows = self._nlp_rows
            self._f_rows = _Evaluator(ca.Function("alm_rows", [x, p], [rows]), self.p0)
        return self._f_rows

    def split(self, R):
        """(local (N × n_r), global (n_G,)) views of R."""
        return R[self.local_rows], R[self.global_rows]

    def jacobian(self, x, p=None) -> "BlockJacobian":
        if self.mapped:
            _, anz, bnz = self._mapped(True)(x[self.widx], x[self.sidx], self.kappa)
            A = anz.reshape(self.N, -1)[:, self._a_perm]
            B = np.zeros((self.N, self.n_r * self.n_s))
            B[:, self._b_flat] = bnz.reshape(self.N, -1)
            C = self._glob(x)[1].reshape(self.n_th, self.n_G).T if self.n_G else np.zeros((0, self.n_th))
            return BlockJacobian(self, A, B.reshape(self.N, self.n_r, self.n_s), np.ascontiguousarray(C))
        nz = self.f_jnz(x, p)
        A = np.zeros(self.N * self.K)
        A[self.dst_A] = nz[self.src_A]
        B = np.zeros(self.N * self.n_r * self.n_s)
        B[self.dst_B] = nz[self.src_B]
        C = np.zeros(self.n_G * self.n_th)
        C[self.dst_C] = nz[self.src_C]
        return BlockJacobian(self, A.reshape(self.N, self.K), B.reshape(self.N, self.n_r, self.n_s),
                             C.reshape(self.n_G, self.n_th))

    def to_x(self, dth, dS) -> np.ndarray:
        out = np.empty(self.n_x)
        out[self.widx] = dth
        out[self.sidx] = dS
        return out

    def from_x(self, v):
        return v[self.widx], v[self.sidx]


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


class BlockJacobian:
    """∂R/∂u in block form (A: N × K values on the shared pattern, B: N × n_r × n_s,
    C: n_G × n_θ), optionally with rows scaled by ``scale_local`` (n_r,) / ``scale_global``."""

    def __init__(self, st: BlockStructure, A, B, C):
        self.st, self.A, self.B, self.C = st, A, B, C
        self._eig = None

    def scaled(self, scale_local, scale_global) -> "BlockJacobian":
        st = self.st
        return BlockJacobian(st, self.A * scale_local[st.a_rows][None, :], self.B * scale_local[None, :, None],
                             self.C * scale_global[:, None])

    # ---------------------------------------------------------------- products
    def _A_mul(self, vth):
        """A_j vθ for every sample: (N × n_r)."""
        st = self.st
        out = np.zeros((st.N, st.n_r))
        if st.K:
            prod = self.A * vth[st.a_cols][None, :]
            # runs of consecutive rows with equal entry counts are summed as (N, rows, width)
            # blocks: several times faster than np.add.reduceat on this layout
            for rows, a, nb, w in st.row_runs:
                out[:, rows] = prod[:, a:a + nb * w].reshape(st.N, nb, w).sum(axis=2)
        return out

    def _A_tmul(self, W):
        """Σ_j A_jᵀ w_j for W (N × n_r): (n_θ,)."""
        st = self.st
        t = np.einsum("jk,jk->k", self.A, W[:, st.a_rows])
        return np.bincount(st.a_cols, weights=t, minlength=st.n_th)

    def matvec(self, v):
        """J v as (local (N × n_r), global (n_G,))."""
        vth, vS = self.st.from_x(v)
        loc = self._A_mul(vth) + np.einsum("jrs,js->jr", self.B, vS)
        return loc, self.C @ vth

    def rmatvec(self, loc, glob):
        """Jᵀ w for w given as (local (N × n_r), global (n_G,)); returns an x-space vector."""
        gth = self._A_tmul(loc) + self.C.T @ glob
        gS = np.einsum("jrs,jr->js", self.B, loc)
        return self.st.to_x(gth, gS)

    def dense(self) -> np.ndarray:
        """The full Jacobian as a dense (N n_r + n_G) × n_x array (tests and small problems)."""
        st = self.st
        J = np.zeros((st.N * st.n_r + st.n_G, st.n_x))
        rows = np.arange(st.N)[:, None] * st.n_r + st.a_rows[None, :]
        J[rows, st.widx[st.a_cols][None, :]] = self.A
        for j in range(st.N):
            J[j * st.n_r:(j + 1) * st.n_r, st.sidx[j]] = self.B[j]
        J[st.N * st.n_r:, st.widx] = self.C
        return J

    # ---------------------------------------------------------------- elimination
    def gram(self):
        """B_jB_jᵀ for every sample (cached: independent of μ)."""
        if self._eig is None:
            self._eig = np.matmul(self.B, np.swapaxes(self.B, 1, 2))
        return self._eig

    def projector(self, mu):
        """M_j = μ (B_jB_jᵀ + μI)⁻¹ = μ L_j⁻ᵀL_j⁻¹ for every sample, from the batched Cholesky
        factor L_j (K_j is SPD for μ > 0; a failed factorization raises LinAlgError). NumPy's
        batched ``inv`` runs an LU solve per matrix and took 1.9 ms for 80 blocks of 33 × 33
        against 1.3 ms this way."""
        K = self.gram().copy()
        idx = np.arange(self.st.n_r)
        K[:, idx, idx] += mu
        X = _tril_inverse(np.linalg.cholesky(K))
        return mu * np.matmul(np.swapaxes(X, 1, 2), X)

    def _X_chunk(self, sl, R):
        """X_j = R_j A_j for the samples in ``sl`` with R_jᵀR_j = M_j: (c × n_r × n_θ)."""
        st = self.st
        Ra = R[sl][:, :, st.a_rows] * self.A[sl][:, None, :]       # (c, n_r, K): column r(k) of R_j times a_k
        X = np.zeros((Ra.shape[0], st.n_r, st.n_th))
        np.add.at(X, (slice(None), slice(None), st.a_cols), Ra)
        return X

    def back_substitute(self, r_loc, dth, mu, M):
        """δs_j = −B_jᵀ (B_jB_jᵀ + μI)⁻¹ (r_j + A_j δθ) = −B_jᵀ M_j (r_j + A_j δθ)/μ."""
        w = r_loc + self._A_mul(dth)
        y = np.einsum("jrq,jq->jr", M, w) / mu
        return -np.einsum("jrs,jr->js", self.B, y)
