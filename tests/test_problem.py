"""Problem: input validation, symbols for extra constraints, option validation (no long solves)."""
from __future__ import annotations

import casadi as ca
import numpy as np
import pytest

import nlpnet
from nlpnet import Network, Problem
from conftest import dm, make_data, make_net


@pytest.fixture
def prob():
    X, y = nlpnet.sine_data(10, seed=0)
    return Problem(Network([1, 3, 3, 1], activation="tanh", seed=0), X, y)


# ------------------------------------------------------------------ bad input
@pytest.mark.parametrize("X,y,exc,match", [
    ([[0.0], [np.nan], [1.0]], [[0.0], [1.0], [2.0]], ValueError, r"^X: contains 1 NaN/inf"),
    ([[0.0], [0.5], [1.0]], [[0.0], [np.inf], [2.0]], ValueError, r"^y: contains 1 NaN/inf"),
    (np.zeros((3, 2)), np.zeros((3, 1)), ValueError, r"^X: has 2 column\(s\) but the network takes 1"),
    (np.zeros((3, 1)), np.zeros((3, 2)), ValueError, r"^y: has 2 column\(s\) but the network has 1 output"),
    (np.zeros((3, 1)), np.zeros((4, 1)), ValueError, r"^y: has 4 sample\(s\) but X has 3"),
    (np.zeros((0, 1)), np.zeros((0, 1)), ValueError, r"^X: is empty"),
    (np.zeros((3, 1)), np.zeros((0, 1)), ValueError, r"^y: is empty"),
    (np.zeros((3, 1, 1)), np.zeros((3, 1)), ValueError, r"^X: expected shape"),
    (None, np.zeros((3, 1)), TypeError, r"^X: expected an array"),
])
def test_problem_rejects_bad_data(X, y, exc, match):
    with pytest.raises(exc, match=match):
        Problem(Network([1, 3, 1]), X, y)


def test_problem_rejects_bad_validation_data_and_arguments():
    X, y = nlpnet.sine_data(10, seed=0)
    net = Network([1, 3, 1])
    with pytest.raises(ValueError, match=r"X_val, y_val: give both or neither"):
        Problem(net, X, y, X_val=X[:3])
    with pytest.raises(ValueError, match=r"X_val, y_val: give both or neither"):
        Problem(net, X, y, y_val=y[:3])
    with pytest.raises(ValueError, match=r"^y_val: has 2 sample\(s\) but X_val has 3"):
        Problem(net, X, y, X_val=X[:3], y_val=y[:2])
    with pytest.raises(ValueError, match=r"^X_val: contains 1 NaN"):
        Problem(net, X, y, X_val=np.array([[np.nan]]), y_val=[[0.0]])
    with pytest.raises(TypeError, match=r"^network: expected nlpnet.Network"):
        Problem("net", X, y)
    with pytest.raises(ValueError, match=r"formulation: unknown formulation 'direct'"):
        Problem(net, X, y, formulation="direct")
    with pytest.raises(ValueError, match=r"relu: apply only to formulation='multiple_shooting'"):
        Problem(net, X, y, formulation="single_shooting", relu="equality")
    with pytest.raises(ValueError, match=r"relu: must be one of"):
        Problem(net, X, y, relu="smooth")
    with pytest.raises(TypeError, match=r"regularizer: expected nlpnet.L2/L1/GroupLasso"):
        Problem(net, X, y, regularizer=0.1)


def test_problem_copies_network_and_data():
    X, y = nlpnet.sine_data(10, seed=0)
    net = Network([1, 3, 1], seed=0)
    p0 = net.params.copy()
    prob = Problem(net, X, y)
    net.params[:] = 0.0
    X[:] = 0.0
    np.testing.assert_array_equal(prob.network.params, p0)
    assert prob.X.max() == 1.0


@pytest.mark.parametrize("call,exc,match", [
    (lambda p: p.solve("bfgs_typo"), ValueError, r"^solver: unknown solver 'bfgs_typo'; did you mean 'lbfgs'\? Available: .*ipopt"),
    (lambda p: p.solve(3), TypeError, r"^solver: expected a solver name"),
    (lambda p: p.solve("ipopt", foo=1), ValueError,
     r"^options: unknown option\(s\) 'foo' for solver 'ipopt'. Valid options: max_iter, .*ipopt"),
    (lambda p: p.solve("ipopt", {"maxiter": 5}), ValueError, r"unknown option\(s\) 'maxiter'"),
    (lambda p: p.solve("ipopt", options=[1]), TypeError, r"^options: expected IpoptOptions or dict"),
    (lambda p: p.solve("ipopt", max_iter=-1), ValueError, r"^max_iter: must be an integer ≥ 0, got -1"),
    (lambda p: p.solve("ipopt", max_iter=2.5), TypeError, r"^max_iter: expected an integer"),
    (lambda p: p.solve("ipopt", max_time=0), ValueError, r"^max_time: must be a number > 0"),
    (lambda p: p.solve("ipopt", tol=-1e-3), ValueError, r"^tol: must be a number > 0"),
    (lambda p: p.solve("ipopt", ordering="nested"), ValueError, r"^ordering: must be one of .*metis"),
    (lambda p: p.solve("ipopt", hessian="bfgs"), ValueError, r"^hessian: must be one of 'exact', 'limited-memory'"),
    (lambda p: p.solve("ipopt", homotopy=()), ValueError, r"^homotopy: must be a non-empty sequence"),
    (lambda p: p.solve("ipopt", homotopy=(1e-2, -1.0)), ValueError, r"^homotopy:"),
    (lambda p: p.solve("ipopt", ipopt={"not_an_option": 1}), ValueError, r"^ipopt: IPOPT rejected .*not_an_option"),
    (lambda p: p.solve("ipopt", ipopt={"mu_strategy": "bogus"}), ValueError, r"^ipopt: IPOPT rejected"),
    (lambda p: p.solve("ipopt", ipopt=["tol"]), TypeError, r"^ipopt: expected a dict"),
])
def test_solve_rejects_bad_solver_and_options(prob, call, exc, match):
    with pytest.raises(exc, match=match):
        call(prob)


def test_options_accept_dataclass_and_dict_with_overrides(prob):
    from nlpnet.solvers.ipopt import IpoptOptions
    from nlpnet.options import resolve_options
    o = resolve_options(IpoptOptions, IpoptOptions(max_iter=7), {"tol": 1e-5}, "ipopt")
    assert o.max_iter == 7 and o.tol == 1e-5
    o = resolve_options(IpoptOptions, {"max_iter": 9, "homotopy": [1e-3, 0]}, {}, "ipopt")
    assert o.max_iter == 9 and o.homotopy == (1e-3, 0.0)
    res = prob.solve("ipopt", {"max_iter": 2}, tol=1e-5)
    assert res.iterations == 2
    assert "ipopt" in nlpnet.available_solvers()


# ------------------------------------------------------------------ symbols
def test_output_symbol_matches_predict(prob):
    grid = np.linspace(-0.5, 1.5, 13)[:, None]
    out = prob.output(grid)
    assert out.shape == (13, 1)
    val = dm(ca.Function("o", [prob.theta], [out])(prob.network.params))
    np.testing.assert_allclose(val, prob.network.predict(grid), rtol=1e-13, atol=1e-14)
    with pytest.raises(ValueError, match=r"^X: has 2 column"):
        prob.output(np.zeros((3, 2)))


def test_weights_and_states_symbols(prob):
    (W1, b1), (W2, b2), (W3, b3) = prob.weights()
    assert W1.shape == (3, 1) and W2.shape == (3, 3) and b3.shape == (1, 1)
    st = prob.states
    assert set(st) == {"z1", "z2"} and st["z1"].shape == (10, 3)
    f = ca.Function("s", [prob.nlp.symbols.x], [st["z2"]])
    np.testing.assert_allclose(dm(f(prob.nlp.x0)), prob.network.forward_states(prob.X)[1], rtol=0, atol=1e-15)
    X, y = nlpnet.sine_data(10, seed=0)
    ss = Problem(Network([1, 3, 1]), X, y, formulation="single_shooting")
    with pytest.raises(AttributeError, match=r"states: only the multiple_shooting"):
        ss.states
    leaky = Problem(Network([1, 3, 1], activation="leaky_relu"), X, y)
    assert set(leaky.states) == {"u1", "v1"}


def test_subject_to_builds_rows_with_bounds(prob):
    grid = np.linspace(0, 1, 5)[:, None]
    n0 = prob.nlp.n_g
    prob.subject_to(prob.output(grid) <= 0.5)
    prob.subject_to(prob.output(grid) >= -0.5)
    prob.subject_to(prob.output([[0.5]]) == 0.1)
    prob.subject_to(prob.theta, lower=-1, upper=2)
    nlp = prob.nlp
    assert nlp.n_g == n0 + 5 + 5 + 1 + prob.network.n_params
    np.testing.assert_array_equal(nlp.layout.extra_g_idx, np.arange(n0, nlp.n_g))
    ub, lb = nlp.ubg[n0:], nlp.lbg[n0:]
    assert np.all(ub[:5] == 0) and np.all(np.isinf(lb[:5]))
    assert np.all(ub[5:10] == 0) and np.all(np.isinf(lb[5:10]))   # c <= expr  →  c − expr <= 0
    assert ub[10] == 0 and lb[10] == 0
    assert np.all(lb[11:] == -1) and np.all(ub[11:] == 2)
    # the extra rows evaluate to what they say
    g = nlp.g(nlp.x0)[n0:]
    np.testing.assert_allclose(g, dm(nlp.functions()["g"](nlp.x0, nlp.p0)).ravel()[n0:], rtol=0, atol=1e-14)
    pred = prob.network.predict(grid).ravel()
    np.testing.assert_allclose(g[:5], pred - 0.5, atol=1e-14)
    np.testing.assert_allclose(g[5:10], -0.5 - pred, atol=1e-14)
    np.testing.assert_allclose(g[11:], prob.network.params, atol=0)


def test_subject_to_and_add_objective_reject_bad_input(prob):
    with pytest.raises(TypeError, match=r"^subject_to: give a comparison"):
        prob.subject_to()
    with pytest.raises(TypeError, match=r"^constraint: got a plain bool"):
        prob.subject_to(1 <= 2)
    with pytest.raises(TypeError, match=r"^constraint: MX expressions are not supported"):
        prob.subject_to(ca.MX.sym("m") <= 1)
    with pytest.raises(TypeError, match=r"^constraint: expected a CasADi SX expression"):
        prob.subject_to(np.ones(3))
    with pytest.raises(ValueError, match=r"^constraint: uses symbols that are not this problem's"):
        prob.subject_to(ca.SX.sym("foreign") <= 1)
    with pytest.raises(TypeError, match=r"^constraint: expected a comparison"):
        prob.subject_to(prob.theta[0] + 1)
    with pytest.raises(ValueError, match=r"^lower/upper: some lower bounds exceed"):
        prob.subject_to(prob.theta, lower=1, upper=0)
    with pytest.raises(ValueError, match=r"^term: objective terms must be scalar"):
        prob.add_objective(prob.theta)
    with pytest.raises(ValueError, match=r"^term: uses symbols"):
        prob.add_objective(ca.SX.sym("q") ** 2)


def test_add_objective_enters_objective(prob):
    f0 = dm(prob.nlp.functions()["f"](prob.nlp.x0, prob.nlp.p0)).item()
    prob.add_objective(2.0 * ca.sumsqr(prob.theta))
    prob.add_objective(prob.theta[0])
    f1 = dm(prob.nlp.functions()["f"](prob.nlp.x0, prob.nlp.p0)).item()
    th = prob.network.params
    assert f1 - f0 == pytest.approx(2.0 * th @ th + th[0], rel=1e-12)


def test_state_constraints_cannot_move_to_single_shooting():
    X, y = make_data(5, 2, 1)
    prob = Problem(make_net((2, 3, 1), "tanh"), X, y)
    prob.subject_to(prob.states["z1"] <= 0.9)
    assert prob.nlp.n_g > 0
    with pytest.raises(ValueError, match=r"subject_to: the extra constraints or objective use lifted states"):
        prob.nlp_for("single_shooting")


def test_nlp_for_a_formulation_instance_builds_a_variant_with_the_same_weights_and_extras():
    from nlpnet.formulations import MultipleShooting
    X, y = make_data(6, 1, 1)
    prob = Problem(Network([1, 3, 1], activation="relu", seed=0), X, y)      # ReLU by complementarity
    prob.subject_to(prob.output(np.array([[0.5]])) == 0.2)
    eq = prob.nlp_for(MultipleShooting(relu="equality"))
    assert prob.nlp.has_complementarity and not eq.has_complementarity
    assert eq is prob.nlp_for(MultipleShooting(relu="equality"))            # built once
    assert prob.nlp_for(MultipleShooting()) is prob.nlp                     # the problem's own
    assert eq.n_g == 6 * 3 + 1                                              # layer rows + the extra row
    np.testing.assert_array_equal(eq.x0[:prob.network.n_params], prob.network.params)
    prob.subject_to(prob.states["z1"][0, 0] == 0.1)                         # a state of the own NLP
    with pytest.raises(ValueError, match="lifted states"):
        prob.nlp_for(MultipleShooting(relu="equality", leaky_relu="equality", epsilon=1e-6))
