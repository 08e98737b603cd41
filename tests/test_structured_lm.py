"""Structured linear algebra of the ALM's Levenberg–Marquardt solver.

* the lifted rows and block Jacobian (batched kernels) equal CasADi's AD of the expanded NLP
  and central finite differences;
* the state-eliminated solve of (JᵀJ + μ diag(I, D)) δ = −Jᵀr equals a dense solve of the same
  damped system, for both state metrics (D = I and D = TᵀT), direct and CG paths, with and
  without global rows;
* a singular / failing linear solve raises the damping instead of an exception.
"""
from __future__ import annotations

import casadi as ca
import numpy as np
import pytest
from conftest import make_data, net_away_from_kinks

import nlpnet
from nlpnet.solvers.alm.block_solve import solve_damped
from nlpnet.solvers.alm.elimination import make_elimination
from nlpnet.solvers.alm.inner import AugmentedResidual, gauss_newton, levenberg_marquardt
from nlpnet.solvers.alm.structure import LiftedStructure


def _problem(activation="tanh", sizes=(2, 4, 3, 2), n=9, reg=None, seed=0):
    X, y = make_data(n, sizes[0], sizes[-1], seed=seed)
    kw = {"relu": "equality", "leaky_relu": "equality"}
    if activation == "relu":
        net = net_away_from_kinks(list(sizes), "relu", X, margin=1e-3)
    else:
        net = nlpnet.Network(list(sizes), activation=activation, seed=seed)
    return nlpnet.Problem(net, X, y, regularizer=reg, **kw)


def _point(nlp, scale=0.05, seed=1):
    return nlp.x0 + scale * np.random.default_rng(seed).standard_normal(nlp.n_x)


def _model(nlp, linear=None, beta=10.0, seed=2):
    st = LiftedStructure(nlp)
    lam = np.random.default_rng(seed).standard_normal(nlp.n_g)
    lin = linear or {"method": "direct", "damping": "identity", "cg_tol": 1e-14, "cg_maxiter": 2000,
                     "preconditioner": "auto"}
    return st, AugmentedResidual(st, beta, lam, lin)


def _damping_matrix(jac, mu, damping):
    """μ diag(I_θ, D) with D = I or blockdiag(T_jᵀT_j) (T_j: the layer-row part of B_j)."""
    st = jac.st
    D = np.zeros((st.n_x, st.n_x))
    D[:st.n_th, :st.n_th] = np.eye(st.n_th)
    B = jac.lj.B_dense()
    for j in range(st.N):
        blk = slice(st.n_th + j * st.n_s, st.n_th + (j + 1) * st.n_s)
        T = B[j, :st.n_s, :]
        D[blk, blk] = np.eye(st.n_s) if damping == "identity" else T.T @ T
    return mu * D


@pytest.mark.parametrize("damping", ["identity", "layer"])
@pytest.mark.parametrize("method", ["direct", "cg"])
@pytest.mark.parametrize("reg", [None, nlpnet.L2(1e-2)], ids=["plain", "l2"])
@pytest.mark.parametrize("mu", [1e-6, 1e-3, 1e-1, 10.0])
def test_structured_solve_equals_dense(damping, method, reg, mu):
    nlp = _problem("tanh", reg=reg).nlp
    _, model = _model(nlp)
    x = _point(nlp)
    r = model.residual(x)
    jac = model.jacobian(x)
    d, info = solve_damped(jac, r[0], r[1], mu, method, damping, cg_tol=1e-14, cg_maxiter=2000)
    J = jac.dense()
    rv = np.concatenate([r[0].ravel(), r[1]])
    H = J.T @ J + _damping_matrix(jac, mu, damping)
    d_ref = np.linalg.solve(H, -J.T @ rv)
    # backward error: the structured step solves the damped system to round-off (the identity
    # elimination divides by μ in the back substitution: looser at μ = 1e-6)
    g = J.T @ rv
    assert np.linalg.norm(H @ d + g) <= (1e-10 if mu >= 1e-3 else 1e-9) * np.linalg.norm(g)
    if mu >= 1e-3:
        assert np.max(np.abs(d - d_ref)) <= 1e-10 * max(1.0, np.max(np.abs(d_ref)))


@pytest.mark.parametrize("rows", ["plain", "l2", "coupled"])
def test_cg_in_the_eigenbasis_solves_the_same_system(monkeypatch, rows):
    """Layers too wide for exact neuron blocks are solved in their eigenbasis (rotated
    products, diagonal preconditioner; weight decay by its low-rank form in that basis, rows
    coupling weights in the original basis): forced on every layer here, the step still
    solves the damped system."""
    from nlpnet.solvers.alm import block_solve
    monkeypatch.setattr(block_solve, "_BLOCK_ELEMENTS", 0)
    prob = _problem("tanh", sizes=(3, 5, 4, 2), n=11, reg=nlpnet.L2(1e-2) if rows == "l2" else None)
    if rows == "coupled":
        W1 = prob.weights()[0][0]
        prob.subject_to(W1[0, 0] + W1[1, 2] - W1[2, 1] == 0.3)
    nlp = prob.nlp
    _, model = _model(nlp)
    x = _point(nlp)
    r = model.residual(x)
    jac = model.jacobian(x)
    mu = 1e-2
    d, info = solve_damped(jac, r[0], r[1], mu, "cg", "layer", cg_tol=1e-13, cg_maxiter=3000)
    J = jac.dense()
    rv = np.concatenate([r[0].ravel(), r[1]])
    H = J.T @ J + _damping_matrix(jac, mu, "layer")
    g = J.T @ rv
    assert 0 < info["cg_iterations"] < 3000
    assert np.linalg.norm(H @ d + g) <= 1e-10 * np.linalg.norm(g)


@pytest.mark.parametrize("damping", ["identity", "layer"])
def test_eliminations_match_their_dense_formula(damping):
    nlp = _problem("tanh", sizes=(2, 5, 4, 3, 2)).nlp
    _, model = _model(nlp)
    x = _point(nlp)
    jac = model.jacobian(x)
    mu = 0.3
    E = make_elimination(damping, jac, mu)
    B = jac.lj.B_dense()
    n_s = B.shape[2]
    rng = np.random.default_rng(5)
    u = rng.standard_normal((jac.st.N, jac.st.n_r))
    for j in (0, jac.st.N - 1):
        T = B[j, :n_s]
        Dj = np.eye(n_s) if damping == "identity" else T.T @ T
        Kinv = np.linalg.inv(B[j].T @ B[j] + mu * Dj)
        M = np.eye(B.shape[1]) - B[j] @ Kinv @ B[j].T
        np.testing.assert_allclose(E.dense()[j], M, rtol=0, atol=1e-12)
        np.testing.assert_allclose(E.apply(u)[j], M @ u[j], rtol=0, atol=1e-12)
        np.testing.assert_allclose(E.diag()[j], np.diag(M), rtol=0, atol=1e-12)
        np.testing.assert_allclose(E.states(u)[j], -Kinv @ B[j].T @ u[j], rtol=0, atol=1e-12)


@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid", ("leaky_relu", 0.2), "softplus", "identity"],
                         ids=["tanh", "relu", "sigmoid", "leaky_relu", "softplus", "identity"])
def test_rows_and_block_jacobian_match_casadi(activation):
    prob = _problem(activation, reg=nlpnet.L2(1e-3))
    nlp = prob.nlp
    ex = nlp.expanded()
    x = nlp.x0 + (0.0 if activation == "relu" else 0.05) * np.random.default_rng(3).standard_normal(nlp.n_x)
    st = LiftedStructure(nlp)
    scale = 1.0 / np.sqrt(st.N)
    loc, glob = st.rows(x, scale)
    # the expanded graph's rows, in the structure's order: per sample (layer rows, residuals), then ρ
    N, m, d = st.N, st.n_s, st.n_out
    order_g = np.arange(N * m).reshape(N, m)
    order_F = N * m + np.arange(N * d).reshape(N, d)
    order = np.concatenate([np.hstack([order_g, order_F]).ravel(), N * m + N * d + np.arange(st.n_G)])
    rows = ca.vertcat(ex.g, ex.residual)
    R_ref = np.asarray(ca.Function("R", [ex.x], [rows])(x)).ravel()[order]
    np.testing.assert_allclose(np.concatenate([loc.ravel(), glob]), R_ref, rtol=0, atol=1e-12)
    J_ref = np.asarray(ca.Function("J", [ex.x], [ca.jacobian(rows, ex.x)])(x))[order]
    jac = st.jacobian(x, scale, np.ones(st.n_G))
    np.testing.assert_allclose(jac.dense(), J_ref, rtol=0, atol=1e-12)
    rng = np.random.default_rng(4)
    v = rng.standard_normal(st.n_x)
    lv, gv = jac.matvec(v)
    np.testing.assert_allclose(np.concatenate([lv.ravel(), gv]), J_ref @ v, rtol=0, atol=1e-11)
    w_loc, w_glob = rng.standard_normal((st.N, st.n_r)), rng.standard_normal(st.n_G)
    np.testing.assert_allclose(jac.rmatvec(w_loc, w_glob), J_ref.T @ np.concatenate([w_loc.ravel(), w_glob]),
                               rtol=0, atol=1e-11)
    lj = jac.lj
    B = lj.B_dense()
    np.testing.assert_allclose(lj.gram(), np.matmul(B, np.swapaxes(B, 1, 2)), rtol=0, atol=1e-12)
    np.testing.assert_allclose(lj.B_col_squares(), np.sum(B ** 2, axis=1), rtol=0, atol=1e-12)
    T, E = B[:, :st.n_s], B[:, st.n_s:]
    np.testing.assert_allclose(np.matmul(T, lj.T_solve(w_loc[:, :st.n_s])[:, :, None])[:, :, 0], w_loc[:, :st.n_s],
                               rtol=0, atol=1e-11)
    np.testing.assert_allclose(lj.output_state_sensitivity(), np.matmul(E, np.linalg.inv(T)), rtol=0, atol=1e-11)
    A = jac.dense()[:st.N * st.n_r, :st.n_th]
    w = rng.random((st.N, st.n_r))
    np.testing.assert_allclose(lj.weighted_A_squares(w), (w.ravel()[:, None] * A ** 2).sum(axis=0), rtol=0,
                               atol=1e-12)


def test_block_jacobian_matches_finite_differences():
    prob = _problem("tanh", reg=nlpnet.GroupLasso(1e-3))
    nlp = prob.nlp
    st = LiftedStructure(nlp)
    x = _point(nlp)
    scale = 1.0 / np.sqrt(st.N)
    J = st.jacobian(x, scale, np.ones(st.n_G)).dense()

    def R(v):
        loc, glob = st.rows(v, scale)
        return np.concatenate([loc.ravel(), glob])
    h, fd = 1e-6, np.zeros_like(J)
    for i in range(nlp.n_x):
        e = np.zeros(nlp.n_x)
        e[i] = h
        fd[:, i] = (R(x + e) - R(x - e)) / (2 * h)
    np.testing.assert_allclose(J, fd, rtol=0, atol=1e-7)


class _Flaky:
    """Wraps a model so that its first ``fail`` linear solves fail like a singular system."""

    def __init__(self, model, fail=3, kind="raise"):
        self.m, self.fail, self.kind, self.calls = model, fail, kind, 0

    def __getattr__(self, name):
        return getattr(self.m, name)

    def step(self, jac, r, mu):
        self.calls += 1
        if self.calls <= self.fail:
            if self.kind == "raise":
                raise np.linalg.LinAlgError("injected singular matrix")
            d = self.m.step(jac, r, mu)
            return np.full_like(d, np.nan) if self.kind == "nan" else -1e3 * d   # NaN or an uphill step
        return self.m.step(jac, r, mu)


@pytest.mark.parametrize("kind", ["raise", "nan", "uphill"])
@pytest.mark.parametrize("solver", [levenberg_marquardt, gauss_newton])
def test_injected_singular_step_does_not_crash(kind, solver):
    nlp = _problem("tanh").nlp
    _, base = _model(nlp)
    x0 = _point(nlp, 0.2)
    c0 = base.cost(base.residual(x0))
    flaky = _Flaky(base, fail=3, kind=kind)
    res = solver(flaky, x0, gtol=1e-9, max_iter=30)
    assert flaky.calls > 3 and np.all(np.isfinite(res.x))
    assert res.cost < c0


def test_always_singular_stops_cleanly():
    nlp = _problem("tanh").nlp
    _, base = _model(nlp)
    flaky = _Flaky(base, fail=10 ** 9)
    x0 = nlp.x0
    res = levenberg_marquardt(flaky, x0, gtol=1e-12, max_iter=200)
    assert res.reason in ("damping_cap", "max_iter") and np.array_equal(res.x, x0)
