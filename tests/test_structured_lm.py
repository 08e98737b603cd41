"""Structured linear algebra of the ALM's Levenberg–Marquardt solver.

* the state-eliminated solve of (JᵀJ + μI) δ = −Jᵀr equals a dense solve of the same
  damped system (direct and CG paths, with and without global rows);
* the block Jacobian (mapped per-sample route and generic route) equals CasADi's exact sparse
  Jacobian of [g; F] and central finite differences, for tanh and ReLU;
* a singular / failing linear solve raises the damping instead of an exception.
"""
from __future__ import annotations

import casadi as ca
import numpy as np
import pytest
from conftest import make_data, net_away_from_kinks

import nlpnet
from nlpnet.solvers.block_solve import solve_damped
from nlpnet.solvers.levenberg_marquardt import (
    AugmentedResidual,
    gauss_newton,
    levenberg_marquardt,
)
from nlpnet.solvers.structured import BlockStructure


def _problem(activation="tanh", sizes=(2, 4, 3, 2), n=9, reg=None, seed=0):
    X, y = make_data(n, sizes[0], sizes[-1], seed=seed)
    kw = {"relu": "equality"} if activation == "relu" else {}
    if activation == "relu":
        net = net_away_from_kinks(list(sizes), "relu", X, margin=1e-3)
    else:
        net = nlpnet.Network(list(sizes), activation=activation, seed=seed)
    return nlpnet.Problem(net, X, y, regularizer=reg, **kw)


def _point(nlp, scale=0.05, seed=1):
    return nlp.x0 + scale * np.random.default_rng(seed).standard_normal(nlp.n_x)


@pytest.mark.parametrize("method", ["direct", "cg"])
@pytest.mark.parametrize("reg", [None, nlpnet.L2(1e-2)], ids=["plain", "l2"])
@pytest.mark.parametrize("mu", [1e-6, 1e-3, 1e-1, 10.0])
def test_structured_solve_equals_dense(method, reg, mu):
    prob = _problem("tanh", reg=reg)
    nlp = prob.nlp
    st = BlockStructure(nlp, prob)
    x = _point(nlp)
    model = AugmentedResidual(st, beta=10.0, lam=np.random.default_rng(2).standard_normal(nlp.n_g))
    r = model.residual(x)
    jac = model.jacobian(x)
    d, info = solve_damped(jac, r[0], r[1], mu, method, cg_tol=1e-14, cg_maxiter=2000)
    J = jac.dense()
    rv = np.concatenate([r[0].ravel(), r[1]])
    H = J.T @ J + mu * np.eye(J.shape[1])
    d_ref = np.linalg.solve(H, -J.T @ rv)
    # backward error: the structured step solves the damped system to round-off. The
    # elimination divides by μ in the back substitution, so at μ = 1e-6 round-off alone
    # reaches ~1e-10 relative (5 seeds: 1e-11 … 1.8e-10), hence the looser bound there
    g = J.T @ rv
    assert np.linalg.norm(H @ d + g) <= (1e-10 if mu >= 1e-3 else 1e-9) * np.linalg.norm(g)
    if mu >= 1e-3:   # cond(H) ≤ ~1e4 here, so the two solutions agree to 1e-10 (relative)
        assert np.max(np.abs(d - d_ref)) <= 1e-10 * max(1.0, np.max(np.abs(d_ref)))


@pytest.mark.parametrize("activation", ["relu", ("leaky_relu", 0.1)], ids=["relu", "leaky_relu"])
@pytest.mark.parametrize("mu", [1e-3, 1.0])
def test_structured_solve_equals_dense_on_complementarity_patterns(activation, mu):
    # complementarity rows: a ReLU weight enters two rows of a sample (the general reduced-
    # matrix route); leaky ReLU: one row, built from CasADi's whole-NLP Jacobian
    X, y = make_data(9, 2, 2, seed=0)
    prob = nlpnet.Problem(nlpnet.Network([2, 4, 3, 2], activation=activation, seed=0), X, y)
    st = BlockStructure(prob.nlp, prob)
    assert st.cols_unique is (activation != "relu")
    x = _point(prob.nlp)
    model = AugmentedResidual(st, beta=10.0, lam=np.random.default_rng(2).standard_normal(prob.nlp.n_g))
    r = model.residual(x)
    jac = model.jacobian(x)
    d, _ = solve_damped(jac, r[0], r[1], mu, "direct")
    J = jac.dense()
    rv = np.concatenate([r[0].ravel(), r[1]])
    d_ref = np.linalg.solve(J.T @ J + mu * np.eye(J.shape[1]), -J.T @ rv)
    assert np.max(np.abs(d - d_ref)) <= 1e-10 * max(1.0, np.max(np.abs(d_ref)))


def test_sample_rows_are_built_once_per_architecture_and_size():
    a, b = _problem("relu", seed=0), _problem("relu", seed=1)        # other data, other weights
    c = _problem("relu", n=10, seed=0)
    sa, sb, sc = (BlockStructure(p.nlp, p) for p in (a, b, c))
    assert sa._sample_rows is sb._sample_rows and sc._sample_rows is not sa._sample_rows
    for p, st in ((b, sb), (c, sc)):   # each evaluates its own data
        R = ca.Function("R", [p.nlp.x], [ca.vertcat(p.nlp.g, p.nlp.residual)])
        np.testing.assert_allclose(st.rows(p.nlp.x0), np.asarray(R(p.nlp.x0)).ravel(), rtol=0, atol=1e-13)


@pytest.mark.parametrize("sample", [0, -1])
def test_mapped_route_is_refused_when_it_does_not_reproduce_the_nlp(sample):
    # the per-sample Function reads the problem's data; if it disagrees with the data the
    # NLP was built from (first or last sample), the set-up check falls back to the generic route
    prob = _problem("tanh")
    nlp = prob.nlp
    assert BlockStructure(nlp, prob).mapped
    prob.X = prob.X.copy()
    prob.X[sample] += 0.5
    st = BlockStructure(nlp, prob)
    assert not st.mapped
    np.testing.assert_allclose(st.rows(nlp.x0), np.asarray(ca.Function("R", [nlp.x], [ca.vertcat(nlp.g, nlp.residual)])(
        nlp.x0)).ravel(), rtol=0, atol=1e-13)


@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_block_jacobian_matches_casadi_and_fd(activation):
    prob = _problem(activation, reg=nlpnet.L2(1e-3))
    nlp = prob.nlp
    x = nlp.x0 + (0.0 if activation == "relu" else 0.05) * np.random.default_rng(3).standard_normal(nlp.n_x)
    rows = ca.vertcat(nlp.g, nlp.residual)
    J_ref = np.asarray(ca.Function("J", [nlp.x], [ca.jacobian(rows, nlp.x)])(x))
    f = ca.Function("R", [nlp.x], [rows])
    for mapped in (True, False):
        st = BlockStructure(nlp, prob if mapped else None)
        assert st.mapped == mapped
        jac = st.jacobian(x)
        J = jac.dense()
        # dense() lists rows as (sample-local rows …, global rows): reorder CasADi's to match
        order = np.concatenate([st.local_rows.ravel(), st.global_rows])
        np.testing.assert_allclose(J, J_ref[order], rtol=0, atol=1e-12)
        np.testing.assert_allclose(st.rows(x), np.asarray(f(x)).ravel(), rtol=0, atol=1e-13)
    # central differences (ReLU: pre-activations stay ≥ 1e-3 from the kink, steps are 1e-6)
    h, fd = 1e-6, np.zeros_like(J_ref)
    for i in range(nlp.n_x):
        e = np.zeros(nlp.n_x)
        e[i] = h
        fd[:, i] = (np.asarray(f(x + e)).ravel() - np.asarray(f(x - e)).ravel()) / (2 * h)
    np.testing.assert_allclose(J_ref, fd, rtol=0, atol=1e-7)


def test_products_match_dense():
    prob = _problem("tanh", reg=nlpnet.L2(1e-2))
    st = BlockStructure(prob.nlp, prob)
    jac = st.jacobian(_point(prob.nlp))
    J = jac.dense()
    rng = np.random.default_rng(4)
    v = rng.standard_normal(st.n_x)
    loc, glob = jac.matvec(v)
    np.testing.assert_allclose(np.concatenate([loc.ravel(), glob]), J @ v, atol=1e-12)
    w_loc, w_glob = rng.standard_normal((st.N, st.n_r)), rng.standard_normal(st.n_G)
    np.testing.assert_allclose(jac.rmatvec(w_loc, w_glob), J.T @ np.concatenate([w_loc.ravel(), w_glob]),
                               atol=1e-12)


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
    prob = _problem("tanh")
    st = BlockStructure(prob.nlp, prob)
    base = AugmentedResidual(st, beta=10.0, lam=np.zeros(prob.nlp.n_g))
    x0 = _point(prob.nlp, 0.2)
    c0 = base.cost(base.residual(x0))
    flaky = _Flaky(base, fail=3, kind=kind)
    res = solver(flaky, x0, gtol=1e-9, max_iter=30)
    assert flaky.calls > 3 and np.all(np.isfinite(res.x))
    assert res.cost < c0


def test_always_singular_stops_cleanly():
    prob = _problem("tanh")
    st = BlockStructure(prob.nlp, prob)
    flaky = _Flaky(AugmentedResidual(st, beta=10.0, lam=np.zeros(prob.nlp.n_g)), fail=10 ** 9)
    x0 = prob.nlp.x0
    res = levenberg_marquardt(flaky, x0, gtol=1e-12, max_iter=200)
    assert res.reason in ("damping_cap", "max_iter") and np.array_equal(res.x, x0)
