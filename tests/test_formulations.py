"""Formulations: feasible start, derivatives against finite differences, block layout, unpacking."""
from __future__ import annotations

import casadi as ca
import numpy as np
import pytest

import nlpnet
from nlpnet import L1, L2, Dense, GroupLasso, MultipleShooting, Network, SingleShooting, column_sparsity
from conftest import (ACTIVATION_IDS, ACTIVATIONS, RULES, dm, fd_gradient, fd_jacobian, make_data,
                      make_net, net_away_from_kinks)

SIZES = (2, 4, 3, 2)


def _both(net, X, y, rule="complementarity", regularizers=()):
    ms = MultipleShooting(relu=rule, leaky_relu=rule).build(net, X, y, regularizers)
    ss = SingleShooting().build(net, X, y, regularizers)
    return ms, ss


def _eval(nlp, name, x):
    return dm(nlp.functions()[name](x, nlp.p0))


# ------------------------------------------------------------------ feasible start
@pytest.mark.parametrize("rule", RULES)
@pytest.mark.parametrize("spec", ACTIVATIONS, ids=ACTIVATION_IDS)
def test_feasible_start_equals_single_shooting(spec, rule):
    X, y = make_data(9, 2, 2, seed=3)
    net = make_net(SIZES, spec, seed=4)
    ms, ss = _both(net, X, y, rule)
    f_ms, f_ss = _eval(ms, "f", ms.x0).item(), _eval(ss, "f", ss.x0).item()
    mse = float(np.mean(np.sum((net.predict(X) - y) ** 2, axis=1)))
    assert f_ss == pytest.approx(mse, rel=1e-12)
    assert f_ms == pytest.approx(f_ss, rel=1e-12)
    assert ms.constraint_violation(ms.x0) <= 1e-12
    assert ms.constraint_violation(ms.x0, np.zeros(ms.p0.size)) <= 1e-12  # also for ε = 0
    np.testing.assert_allclose(_eval(ms, "F", ms.x0), _eval(ss, "F", ss.x0), rtol=1e-12, atol=1e-15)
    np.testing.assert_array_equal(ms.x0[ms.layout.weight_idx], net.params)


def test_feasible_start_with_mixed_layers_no_bias_and_regularizer():
    X, y = make_data(6, 3, 2, seed=1)
    net = Network([Dense(4, "relu", use_bias=False), Dense(3, ("leaky_relu", 0.2)), Dense(3, "sigmoid"),
                   Dense(2, "tanh")], n_inputs=3, seed=2)
    regs = (L2(1e-2), GroupLasso(1e-3))
    ms, ss = _both(net, X, y, regularizers=regs)
    assert _eval(ms, "f", ms.x0).item() == pytest.approx(_eval(ss, "f", ss.x0).item(), rel=1e-12)
    assert ms.constraint_violation(ms.x0) <= 1e-12
    un = MultipleShooting().unpack(ms, ms.x0)
    fwd = net.forward_states(X)
    np.testing.assert_array_equal(un.params, net.params)
    np.testing.assert_allclose(un.states["z1"], fwd[0], rtol=0, atol=1e-15)
    np.testing.assert_allclose(un.states["v2"], fwd[1], rtol=0, atol=1e-15)
    np.testing.assert_allclose(un.states["z3"], fwd[2], rtol=0, atol=1e-15)
    assert set(un.states) == {"z1", "u2", "v2", "z3"}


def test_single_shooting_has_no_constraints_and_unpacks_params():
    X, y = make_data()
    net = make_net()
    ss = SingleShooting().build(net, X, y)
    assert ss.n_g == 0 and ss.n_x == net.n_params and not ss.has_complementarity
    assert ss.constraint_violation(ss.x0) == 0.0
    np.testing.assert_array_equal(SingleShooting().unpack(ss, ss.x0).params, net.params)


# ------------------------------------------------------------------ derivatives
@pytest.mark.parametrize("spec", ACTIVATIONS, ids=ACTIVATION_IDS)
def test_single_shooting_gradient_and_hessian_match_fd(spec):
    X, y = make_data(8, 2, 2, seed=5)
    net = net_away_from_kinks(SIZES, spec, X, margin=1e-2)
    ss = SingleShooting().build(net, X, y, (L2(1e-3),)).expanded()
    f = ca.Function("f", [ss.x], [ss.f])
    grad = ca.Function("g", [ss.x], [ca.gradient(ss.f, ss.x)])
    H, _ = ca.hessian(ss.f, ss.x)
    hess = ca.Function("H", [ss.x], [H])
    th = net.params
    g_ad = dm(grad(th)).ravel()
    g_fd = fd_gradient(lambda t: dm(f(t)).item(), th, h=1e-5)
    scale = max(1.0, np.abs(g_ad).max())
    np.testing.assert_allclose(g_ad, g_fd, rtol=0, atol=1e-7 * scale)
    H_ad = dm(hess(th))
    H_fd = fd_jacobian(lambda t: dm(grad(t)), th, h=1e-5)
    np.testing.assert_allclose(H_ad, H_ad.T, rtol=0, atol=1e-12 * max(1, np.abs(H_ad).max()))
    np.testing.assert_allclose(H_ad, H_fd, rtol=0, atol=1e-6 * max(1.0, np.abs(H_ad).max()))
    if spec == "identity":  # a linear net has a nonzero Hessian from the products W_2 W_1
        assert np.abs(H_ad).max() > 1e-3


@pytest.mark.parametrize("rule", RULES)
@pytest.mark.parametrize("spec", ACTIVATIONS, ids=ACTIVATION_IDS)
def test_multiple_shooting_jacobian_and_lagrangian_hessian_match_fd(spec, rule):
    X, y = make_data(5, 2, 2, seed=6)
    net = net_away_from_kinks(SIZES, spec, X, margin=1e-2)
    nlp = MultipleShooting(relu=rule, leaky_relu=rule).build(net, X, y)
    ms = nlp.expanded()
    # a generic point near the feasible start (states off the manifold)
    x = nlp.x0 + 1e-3 * np.random.default_rng(0).standard_normal(nlp.n_x)
    p = nlp.p0
    g = ca.Function("g", [ms.x, ms.p], [ms.g])
    J = ca.Function("J", [ms.x, ms.p], [ca.jacobian(ms.g, ms.x)])
    J_ad = dm(J(x, p))
    J_fd = fd_jacobian(lambda v: dm(g(v, p)), x, h=1e-6)
    np.testing.assert_allclose(J_ad, J_fd, rtol=0, atol=1e-7 * max(1.0, np.abs(J_ad).max()))
    # Hessian of the Lagrangian f + λᵀg, what IPOPT uses
    lam = np.random.default_rng(1).standard_normal(nlp.n_g)
    lag = ms.f + ca.dot(ca.DM(lam), ms.g)
    gradL = ca.Function("gL", [ms.x, ms.p], [ca.gradient(lag, ms.x)])
    HL = ca.Function("HL", [ms.x, ms.p], [ca.hessian(lag, ms.x)[0]])
    H_ad = dm(HL(x, p))
    H_fd = fd_jacobian(lambda v: dm(gradL(v, p)), x, h=1e-6)
    np.testing.assert_allclose(H_ad, H_fd, rtol=0, atol=1e-6 * max(1.0, np.abs(H_ad).max()))


def test_relu_equality_derivative_at_kink_is_a_generalized_derivative():
    # z − max(a, 0) with a = 0 exactly (zero bias, zero input, as with zero-bias inits and x = 0):
    # the derivative in a must lie in the Clarke set [0, 1] (CasADi's fmax gives 1/2)
    net = Network([1, 1, 1], activation="relu", init=[(np.array([[1.0]]), np.array([0.0])), (np.eye(1), None)])
    nlp = MultipleShooting(relu="equality").build(net, np.zeros((1, 1)), np.zeros((1, 1)))
    ms = nlp.expanded()
    J = dm(ca.Function("J", [ms.x], [ca.jacobian(ms.g, ms.x)])(nlp.x0))
    # x = [W1, b1, W2, b2, z]; g = z − max(W1·0 + b1, 0)
    assert J.shape == (1, 5)
    np.testing.assert_array_equal(J[0, [0, 2, 3, 4]], [0.0, 0.0, 0.0, 1.0])
    assert -1.0 <= J[0, 1] <= 0.0


# ------------------------------------------------------------------ structure
@pytest.mark.parametrize("spec", ["tanh", "relu", ("leaky_relu", 0.1)], ids=["tanh", "relu", "leaky"])
def test_block_layout_gives_arrowhead_jacobian(spec):
    X, y = make_data(6, 2, 2, seed=2)
    net = make_net(SIZES, spec, seed=0)
    ms = MultipleShooting().build(net, X, y)
    lay = ms.layout
    n_th = net.n_params
    per = {"tanh": 7, "relu": 7, "leaky_relu": 14}[nlpnet.get_activation(spec).name]
    assert lay.state_idx.shape == (6, per) and lay.constraint_idx.shape[0] == 6
    assert ms.n_x == n_th + 6 * per and ms.n_g == lay.constraint_idx.size
    np.testing.assert_array_equal(lay.weight_idx, np.arange(n_th))
    np.testing.assert_array_equal(lay.state_idx.ravel(), np.arange(n_th, ms.n_x))  # sample-major blocks
    sp = ms.jacobian_sparsity()
    ex = ms.expanded()
    assert sp == ca.jacobian(ex.g, ex.x).sparsity()       # the pattern assembled per sample is CasADi's
    rows, cols = np.array(sp.get_triplet())
    for j in range(6):
        in_block = np.isin(rows, lay.constraint_idx[j])
        allowed = np.concatenate([lay.weight_idx, lay.state_idx[j]])
        assert np.all(np.isin(cols[in_block], allowed)), f"sample {j} couples to another sample's states"
    # residual rows of sample j likewise touch only θ and that sample's states
    rF, cF = np.array(ca.jacobian(ex.residual, ex.x).sparsity().get_triplet())
    for j in range(6):
        sel = np.isin(rF, j * 2 + np.arange(2))            # sample j's two output residuals
        assert np.all(np.isin(cF[sel], np.concatenate([lay.weight_idx, lay.state_idx[j]])))


def test_complementarity_rows_and_bounds():
    X, y = make_data(4, 2, 1, seed=0)
    net = make_net((2, 3, 1), "relu")
    ms = MultipleShooting(epsilon=1e-6).build(net, X, y)
    assert ms.has_complementarity and ms.p0.tolist() == [1e-6]
    assert ms.complementarity_idx.size == 4 * 3
    np.testing.assert_array_equal(ms.ubg[ms.complementarity_idx], 0.0)
    assert np.all(np.isinf(ms.lbg[ms.complementarity_idx]))
    np.testing.assert_array_equal(ms.lbx[ms.layout.state_idx], 0.0)  # z ≥ 0
    eq = MultipleShooting(relu="equality").build(net, X, y)
    assert not eq.has_complementarity and eq.p.numel() == 0 and np.all(eq.is_equality)
    tanh = MultipleShooting().build(make_net((2, 3, 1), "tanh"), X, y)
    assert not tanh.has_complementarity and np.all(tanh.is_equality) and not tanh.has_bounds


def test_constraint_violation_detects_infeasible_states():
    X, y = make_data(5, 2, 1, seed=0)
    net = make_net((2, 3, 1), "tanh")
    ms = MultipleShooting().build(net, X, y)
    x = ms.x0.copy()
    x[ms.layout.state_idx[2, 1]] += 0.25
    assert ms.constraint_violation(x) == pytest.approx(0.25, rel=1e-12)


@pytest.mark.parametrize("kwargs,match", [
    (dict(relu="penalty"), r"relu: must be one of"),
    (dict(leaky_relu="x"), r"leaky_relu: must be one of"),
    (dict(epsilon=-1.0), r"epsilon: must be a number ≥ 0"),
    (dict(epsilon=float("inf")), r"epsilon: must be a finite number"),
])
def test_multiple_shooting_rejects_bad_options(kwargs, match):
    with pytest.raises(ValueError, match=match):
        MultipleShooting(**kwargs)


# ------------------------------------------------------------------ regularizers
def test_regularizer_residuals_match_their_values():
    net = make_net((3, 5, 2), "tanh", seed=1)
    X, y = make_data(4, 3, 2)
    Ws = [W for W, _ in net.get_weights()]
    base = _eval(SingleShooting().build(net, X, y), "f", net.params).item()
    for reg, tol in ((L2(0.3), 1e-12), (L1(0.3), 1e-5), (GroupLasso(0.3), 1e-5)):
        f = _eval(SingleShooting().build(net, X, y, (reg,)), "f", net.params).item()
        assert f - base == pytest.approx(reg.value(Ws), rel=tol), type(reg).__name__
    assert L2(0.5).value([np.array([[1.0, 2.0]])]) == pytest.approx(2.5)
    assert L1(0.5).value([np.array([[1.0, -2.0]])]) == pytest.approx(1.5)
    assert GroupLasso(1.0).value([np.array([[3.0, 0.0], [4.0, 1.0]])]) == pytest.approx(6.0)
    assert column_sparsity([np.array([[3.0, 0.0], [4.0, 0.0]]), np.array([[1.0]])]) == pytest.approx(1 / 3)


def test_regularizer_validation():
    with pytest.raises(ValueError, match=r"L2.strength"):
        L2(-1.0)
    with pytest.raises(ValueError, match=r"L1.smoothing"):
        L1(1.0, smoothing=0.0)
