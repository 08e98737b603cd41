"""Whole-NLP derivatives scattered from the per-sample blocks (what IPOPT needs), cost O(N).

IPOPT wants the gradient of f, the sparse Jacobian of g and the upper triangle of the
Hessian of the Lagrangian λ_f f + λᵀg as CasADi Functions of (x, p). Each is a sum of
per-sample contributions that touch only θ and that sample's states s_j, plus global terms:

    ∇f        = [ (1/N) Σ_j ∇_θ ℓ_j ;  (1/N) ∇_{s_j} ℓ_j ]                  + ∇(‖ρ‖² + f_rest)
    ∂g/∂x     = [ ∂g_j/∂θ   ∂g_j/∂s_j ]  (rows j·m … (j+1)·m − 1)             ; ∂g_G/∂x
    ∇²L       = Σ_j H_j^{θθ} (one dense-ish θ block)  ⊕  H_j^{θs}, H_j^{ss} per sample ⊕ global

The per-sample blocks come from one mapped Function each (:mod:`.sample_functions`; the map
sums the θθ blocks itself). Their nonzeros, in the map's output order, are put into the
NLP's compressed-column order by one gather whose index map is computed once with NumPy
(:func:`_scatter`), so the set-up has no symbolic work that grows with N and an evaluation
costs one pass over the samples plus one gather. The global terms (regularizers, user
constraints on weights, outputs or states) are ordinary SX Functions of θ (or of x).
"""
from __future__ import annotations

import casadi as ca
import numpy as np

__all__ = ["IpoptFunctions", "constraint_jacobian_sparsity"]


def _scatter(n_row, n_col, rows, cols, src):
    """Sparsity of the triplets (rows, cols) and, for each nonzero in compressed-column order,
    the index into the source vector ``src`` of its value."""
    order = np.argsort(cols * np.int64(n_row) + rows, kind="stable")   # compressed-column order
    r, c = rows[order], cols[order]
    colind = np.zeros(n_col + 1, dtype=np.int64)
    np.add.at(colind, c + 1, 1)
    colind = np.cumsum(colind)
    sp = ca.Sparsity(int(n_row), int(n_col), colind.tolist(), r.tolist())
    return sp, src[order]


def _triplets(sp) -> tuple:
    r, c = sp.get_triplet()
    return np.asarray(r, dtype=np.int64), np.asarray(c, dtype=np.int64)


def _jacobian_layout(nlp):
    """Triplets and source indices of the per-sample constraint Jacobian (rows of all samples)."""
    fns, N = nlp.samples.functions, nlp.N
    n_th, n_s, m = nlp.n_theta, nlp.samples.n_s, nlp.samples.m
    sp_t, sp_s = fns.sparsity("jac")
    tr, tc = _triplets(sp_t)
    sr, sc = _triplets(sp_s)
    j = np.arange(N, dtype=np.int64)[:, None]
    rows = np.concatenate([(j * m + tr).ravel(), (j * m + sr).ravel()])
    cols = np.concatenate([np.broadcast_to(tc, (N, tc.size)).ravel(), (n_th + j * n_s + sc).ravel()])
    # the map returns (nnz × N) blocks; their vec is sample-major
    src = np.concatenate([(j * tr.size + np.arange(tr.size)).ravel(),
                          N * tr.size + (j * sr.size + np.arange(sr.size)).ravel()])
    return rows, cols, src


def constraint_jacobian_sparsity(nlp) -> ca.Sparsity:
    """Sparsity of ∂g/∂x: per-sample rows from their pattern, then the user rows."""
    rows, cols, src = _jacobian_layout(nlp)
    sp, _ = _scatter(nlp.N * nlp.samples.m, nlp.n_x, rows, cols, src)
    if nlp.glob.rows.numel():
        sym = nlp.symbols
        JG = ca.jacobian(nlp.glob.rows, sym.x).sparsity()
        sp = ca.vertcat(ca.DM(sp, 1), ca.DM(JG, 1)).sparsity()
    return sp


class IpoptFunctions:
    """The MX problem and its derivative Functions for ``casadi.nlpsol`` (see module docstring)."""

    def __init__(self, nlp):
        sb, fns, N = nlp.samples, nlp.samples.functions, nlp.N
        n_th, n_s, m, n_x = nlp.n_theta, sb.n_s, sb.m, nlp.n_x
        x = ca.MX.sym("x", n_x)
        p = ca.MX.sym("p", nlp.p.numel())
        T = x[:n_th]
        S = ca.reshape(x[n_th:], n_s, N) if n_s else ca.MX(0, N)
        eps = p if nlp.p.numel() else 0
        Xd, Yd = ca.DM(sb.X.T), ca.DM(sb.Y.T)
        data = (T, S, Xd, Yd, eps)

        # objective and constraints
        G, L = fns.mapped("values", N)(*data)
        glob = nlp.glob
        gx = x if glob.on_states else T
        has_glob = not glob.empty
        if has_glob:
            sym = nlp.symbols
            gsym = sym.x if glob.on_states else sym.theta
            obj_G = ca.dot(glob.residual, glob.residual) + glob.f_rest
            lam_G = ca.SX.sym("lam_G", glob.rows.numel())
            lam_fs = ca.SX.sym("lam_f")
            HG = ca.triu(ca.hessian(lam_fs * obj_G + ca.dot(lam_G, glob.rows), gsym)[0])
            fG = ca.Function("global_obj", [gsym, nlp.p], [obj_G, ca.gradient(obj_G, gsym)])
            jG = ca.Function("global_jac", [gsym, nlp.p], [glob.rows, ca.jacobian(glob.rows, gsym)])
            hG = ca.Function("global_hess", [gsym, nlp.p, lam_fs, lam_G], [HG])
            f_G, grad_G = fG(gx, p)
            g_G, J_G = jG(gx, p)
        n_gG = glob.rows.numel()
        f = ca.sum2(L) / N + (f_G if has_glob else 0)
        g = ca.vertcat(ca.vec(G), g_G) if n_gG else ca.vec(G)
        pad = n_x - n_th

        # gradient of the objective
        l_sum, gt, gs = fns.mapped("grad", N)(*data)
        grad = ca.vertcat(gt, ca.vec(gs)) / N
        if has_glob:
            grad = grad + (grad_G if glob.on_states else ca.vertcat(grad_G, ca.MX(pad, 1)))
        self.grad_f = ca.Function("nlp_grad_f", [x, p], [l_sum / N + (f_G if has_glob else 0), grad],
                                  ["x", "p"], ["f", "grad_f_x"])

        # constraint Jacobian
        rows, cols, src = _jacobian_layout(nlp)
        spJ, perm = _scatter(N * m, n_x, rows, cols, src)
        _, Jt, Js = fns.mapped("jac", N)(*data)
        Jnz = ca.vertcat(ca.vec(Jt), ca.vec(Js))
        J = ca.sparsity_cast(Jnz[perm.tolist()], spJ) if perm.size else ca.MX(spJ)
        if n_gG:
            J = ca.vertcat(J, J_G if glob.on_states else ca.horzcat(J_G, ca.MX(n_gG, pad)))
        self.jac_g = ca.Function("nlp_jac_g", [x, p], [g, J], ["x", "p"], ["g", "jac_g_x"])

        # Hessian of the Lagrangian (upper triangle)
        lam_f = ca.MX.sym("lam_f")
        lam_g = ca.MX.sym("lam_g", g.numel())
        Lam = ca.reshape(lam_g[:N * m], m, N) if m else ca.MX(0, N)
        h_tt, h_ts, h_ss = fns.mapped("hess", N)(*data, lam_f / N, Lam)
        a_sp, b_sp, c_sp = fns.sparsity("hess")
        ar, ac = _triplets(a_sp)
        br, bc = _triplets(b_sp)
        cr, cc = _triplets(c_sp)
        j = np.arange(N, dtype=np.int64)[:, None]
        na, nb, nc = ar.size, br.size, cr.size
        rows = np.concatenate([ar, np.broadcast_to(br, (N, nb)).ravel(), (n_th + j * n_s + cr).ravel()])
        cols = np.concatenate([ac, (n_th + j * n_s + bc).ravel(), (n_th + j * n_s + cc).ravel()])
        src = np.concatenate([np.arange(na), na + (j * nb + np.arange(nb)).ravel(),
                              na + N * nb + (j * nc + np.arange(nc)).ravel()])
        spH, perm = _scatter(n_x, n_x, rows, cols, src)
        Hnz = ca.vertcat(h_tt, ca.vec(h_ts), ca.vec(h_ss))
        H = ca.sparsity_cast(Hnz[perm.tolist()], spH)
        if has_glob:
            HGx = hG(gx, p, lam_f, lam_g[N * m:])
            H = H + (HGx if glob.on_states else ca.diagcat(HGx, ca.MX(pad, pad)))
        self.hess_lag = ca.Function("nlp_hess_l", [x, p, lam_f, lam_g], [H],
                                    ["x", "p", "lam_f", "lam_g"], ["triu_hess_gamma_x_x"])
        self.problem = {"x": x, "p": p, "f": f, "g": g}
        self.nnz_jacobian, self.nnz_hessian = int(spJ.nnz()), int(spH.nnz())
