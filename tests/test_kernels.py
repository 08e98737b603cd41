"""The batched NumPy kernels and the per-sample assemblies against CasADi's AD of the expanded NLP.

CasADi stays the reference: every quantity the solvers compute by matrix products over the
batch (rows, objective, back-propagated gradient, output Jacobian, smoothed ReLU rows) and
every whole-NLP derivative IPOPT receives (scattered from per-sample blocks) must equal the AD
of the same expressions on the fully expanded SX graph to 1e-10, on random nets of every
activation and lifting rule. (At a ReLU kink both sides use the derivative 1[a > 0], so no
point needs to avoid the kinks here.)
"""
from __future__ import annotations

import casadi as ca
import numpy as np
import pytest
from conftest import ACTIVATION_IDS, ACTIVATIONS, RULES, dm, make_data

import nlpnet
from nlpnet import Dense, MultipleShooting, Network, SingleShooting
from nlpnet.formulations.assembly import IpoptFunctions
from nlpnet.formulations.lifted_jacobian import equality_rows
from nlpnet.solvers.backprop.loop import BatchObjective


def _close(a, b, tol=1e-10):
    a, b = np.asarray(a, float), np.asarray(b, float)
    np.testing.assert_allclose(a, b, rtol=0, atol=tol * max(1.0, np.abs(b).max(initial=0.0)))


def _point(nlp, seed=0, scale=0.05):
    x = nlp.x0 + scale * np.random.default_rng(seed).standard_normal(nlp.n_x)
    lb, ub = nlp.lbx, nlp.ubx
    return np.clip(x, lb, ub)


@pytest.mark.parametrize("rule", RULES)
@pytest.mark.parametrize("spec", ACTIVATIONS, ids=ACTIVATION_IDS)
def test_rows_and_objective_match_casadi(spec, rule):
    X, y = make_data(11, 3, 2, seed=1)
    net = Network([3, 5, 4, 2], activation=spec, seed=0)
    nlp = MultipleShooting(relu=rule, leaky_relu=rule).build(net, X, y, (nlpnet.L2(1e-2),))
    fns = nlp.functions()
    for seed in range(3):
        x = _point(nlp, seed)
        _close(nlp.g(x), dm(fns["g"](x, nlp.p0)).ravel())
        _close(nlp.objective(x), dm(fns["f"](x, nlp.p0)).item())


@pytest.mark.parametrize("width", [4, 12], ids=["compiled", "numpy"])
@pytest.mark.parametrize("spec", ACTIVATIONS, ids=ACTIVATION_IDS)
def test_backprop_gradient_matches_casadi(spec, width):
    X, y = make_data(13, 3, 2, seed=2)
    net = Network([3, width, width, 2], activation=spec, seed=0)
    nlp = SingleShooting().build(net, X, y, (nlpnet.GroupLasso(1e-3), nlpnet.L2(1e-3)))
    ex = nlp.expanded()
    ref = ca.Function("r", [ex.x], [ex.f, ca.gradient(ex.f, ex.x)])
    obj = BatchObjective(nlp)
    assert (obj._compiled is not None) == (width <= 8)
    for seed in range(2):
        th = _point(nlp, seed)
        f, loss, g, _ = obj(th)
        f_ref, g_ref = ref(th)
        _close(f, float(f_ref))
        _close(g, dm(g_ref).ravel())
        assert loss == pytest.approx(nlp.data_loss(th), rel=1e-12)
    # a subset of rows is a mini-batch with its own mean
    idx = np.array([0, 3, 7, 8])
    f, _, g, _ = obj(th, X[idx], y[idx])
    sub = SingleShooting().build(net, X[idx], y[idx], (nlpnet.GroupLasso(1e-3), nlpnet.L2(1e-3))).expanded()
    fs, gs = ca.Function("s", [sub.x], [sub.f, ca.gradient(sub.f, sub.x)])(th)
    _close(f, float(fs))
    _close(g, dm(gs).ravel())


@pytest.mark.parametrize("spec", ACTIVATIONS, ids=ACTIVATION_IDS)
def test_output_jacobian_matches_casadi(spec):
    X, y = make_data(7, 2, 3, seed=3)
    net = Network([2, 4, 3], activation=spec, seed=0)
    nlp = SingleShooting().build(net, X, y)
    ex = nlp.expanded()
    J_ref = dm(ca.Function("J", [ex.x], [ca.jacobian(ex.residual, ex.x)])(net.params)) * np.sqrt(7)
    J = nlp.samples.kernels.output_jacobian(net.params, X).reshape(-1, net.n_params)
    _close(J, J_ref)


def test_smoothed_relu_rows_match_their_casadi_expression():
    X, y = make_data(9, 2, 1, seed=4)
    net = Network([2, 5, 4, 1], activation="relu", seed=0)
    nlp = MultipleShooting(relu="equality").build(net, X, y)
    th, S = nlp.split(_point(nlp, 1, scale=0.3))
    kappa = 7.0
    R, _, _, _ = equality_rows(nlp.samples.kernels, th, S, X, y, 1.0, kappa)
    # reference: z − (max(a, 0) + log(1 + exp(−κ|a|))/κ) on the hidden layers, from CasADi
    t, s, xs = ca.SX.sym("t", net.n_params), ca.SX.sym("s", 9), ca.SX.sym("x", 2)
    (W1, b1), (W2, b2), (W3, b3) = net.symbolic_weights(t)
    sp = lambda a: ca.fmax(a, 0) + ca.log1p(ca.exp(-kappa * ca.fabs(a))) / kappa  # noqa: E731
    z1, z2 = s[:5], s[5:]
    rows = ca.vertcat(z1 - sp(W1 @ xs + b1), z2 - sp(W2 @ z1 + b2), W3 @ z2 + b3)
    f = ca.Function("r", [t, s, xs], [rows])
    for j in range(9):
        ref = dm(f(th, S[j], X[j])).ravel()
        ref[-1] -= y[j, 0]
        _close(R[j], ref)


@pytest.mark.parametrize("formulation", ["single_shooting", "ms-complementarity", "ms-equality"])
@pytest.mark.parametrize("spec", ["tanh", "relu", ("leaky_relu", 0.2), "softplus"],
                         ids=["tanh", "relu", "leaky_relu", "softplus"])
def test_ipopt_derivatives_scattered_from_samples_match_the_expanded_graph(spec, formulation):
    X, y = make_data(6, 2, 2, seed=5)
    net = Network([2, 3, 3, 2], activation=spec, seed=0)
    form = (SingleShooting() if formulation == "single_shooting"
            else MultipleShooting(relu=formulation[3:], leaky_relu=formulation[3:]))
    prob = nlpnet.Problem(net, X, y, formulation=form, regularizer=nlpnet.L2(1e-2))
    prob.subject_to(prob.output(np.array([[0.1, 0.2]])) <= 0.3)            # a global row on θ
    prob.add_objective(1e-2 * prob.theta[0] ** 4)                           # a general objective term
    nlp = prob.nlp
    ex = nlp.expanded()
    fns = IpoptFunctions(nlp)
    lam_f, lam_g = ca.SX.sym("lf"), ca.SX.sym("lg", nlp.n_g)
    H = ca.triu(ca.hessian(lam_f * ex.f + ca.dot(lam_g, ex.g), ex.x)[0])
    ref = ca.Function("ref", [ex.x, ex.p, lam_f, lam_g], [ex.f, ca.gradient(ex.f, ex.x), ex.g,
                                                          ca.jacobian(ex.g, ex.x), H])
    rng = np.random.default_rng(6)
    x = _point(nlp, 2)
    lf, lg = 0.7, rng.standard_normal(nlp.n_g)
    f0, g0, gv, J0, H0 = ref(x, nlp.p0, lf, lg)
    f1, g1 = fns.grad_f(x, nlp.p0)
    gv1, J1 = fns.jac_g(x, nlp.p0)
    H1 = fns.hess_lag(x, nlp.p0, lf, lg)
    _close(float(f1), float(f0))
    _close(dm(g1).ravel(), dm(g0).ravel())
    _close(dm(gv1).ravel(), dm(gv).ravel())
    _close(dm(J1), dm(J0))
    _close(dm(H1), dm(H0))


def test_mixed_layers_without_bias():
    X, y = make_data(8, 3, 2, seed=7)
    net = Network([Dense(4, "tanh", use_bias=False), Dense(3, ("leaky_relu", 0.3)), Dense(2, "sigmoid")],
                  n_inputs=3, seed=1)
    for form in (SingleShooting(), MultipleShooting()):
        nlp = form.build(net, X, y)
        fns = nlp.functions()
        x = _point(nlp, 3)
        _close(nlp.objective(x), dm(fns["f"](x, nlp.p0)).item())
        if nlp.n_g:
            _close(nlp.g(x), dm(fns["g"](x, nlp.p0)).ravel())
