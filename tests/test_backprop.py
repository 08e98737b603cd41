"""Back-propagation solvers: one table over all optimizers, update-rule references,
schedules, early stopping, mini-batch determinism, option checking."""
from __future__ import annotations

import math

import casadi as ca
import numpy as np
import pytest

import nlpnet
from nlpnet import EarlyStopping
from nlpnet.solvers.backprop import optimizers as O
from nlpnet.solvers.backprop import schedules as S
from nlpnet.solvers.backprop.loop import BatchObjective, Monitor
from nlpnet.result import Status

ALL = ["gd", "momentum", "nesterov", "adagrad", "adadelta", "rmsprop", "adam", "nadam", "ssa1", "ssa2",
       "lbfgs", "adam_lbfgs", "lm_backprop"]


def least_squares_problem():
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, (30, 2))
    y = X @ np.array([[1.5], [-2.0]]) + 0.5 + 0.05 * rng.standard_normal((30, 1))
    A = np.c_[X, np.ones(30)]
    c, *_ = np.linalg.lstsq(A, y, rcond=None)
    net = nlpnet.Network([2, 1], seed=0)  # one identity layer: linear least squares, convex
    return nlpnet.Problem(net, X, y, formulation="single_shooting"), float(np.mean((A @ c - y) ** 2))


def regression_problem(formulation="single_shooting", **kw):
    X, y = nlpnet.sine_data(20, seed=0)
    return nlpnet.Problem(nlpnet.Network([1, 6, 1], activation="tanh", seed=0), X, y, formulation=formulation, **kw)


# options per solver: (convex quadratic, small regression)
TABLE = {
    "gd": ({"learning_rate": 0.3}, {"learning_rate": 0.2}),
    "momentum": ({"learning_rate": 0.1}, {"learning_rate": 0.05}),
    "nesterov": ({"learning_rate": 0.1}, {"learning_rate": 0.05}),
    "adagrad": ({"learning_rate": 0.5}, {"learning_rate": 0.1}),
    "adadelta": ({}, {}),
    "rmsprop": ({"learning_rate": 0.01}, {"learning_rate": 0.01}),
    "adam": ({"learning_rate": 0.05}, {"learning_rate": 0.01}),
    "nadam": ({"learning_rate": 0.05}, {"learning_rate": 0.01}),
    "ssa1": ({"learning_rate": 0.3}, {"learning_rate": 0.2}),
    "ssa2": ({"learning_rate": 0.3}, {"learning_rate": 0.2}),
    "lbfgs": ({}, {}),
    "adam_lbfgs": ({"max_epochs": 100}, {"max_epochs": 200, "learning_rate": 0.01}),
    "lm_backprop": ({}, {}),
}


@pytest.mark.parametrize("name", ALL)
def test_every_optimizer_solves_least_squares(name):
    prob, fstar = least_squares_problem()
    opts = {"max_epochs": 2000, **TABLE[name][0]}
    res = prob.solve(name, **opts)
    assert res.solver == name and res.formulation == "single_shooting"
    assert res.train_loss - fstar <= 1e-4, (res.train_loss, fstar, res.message)
    assert len(res.history) == res.iterations or name == "lm_backprop"


@pytest.mark.parametrize("name", ALL)
def test_every_optimizer_fits_small_regression(name):
    prob = regression_problem()
    opts = {"max_epochs": 3000, **TABLE[name][1]}
    res = prob.solve(name, **opts)
    assert res.train_loss < 0.01, (res.train_loss, res.message)  # noise variance 0.01; y has variance 0.12
    assert res.status in (Status.MAX_ITER, Status.SUCCESS, Status.STALLED)


def test_full_batch_loss_and_gradient_equal_the_nlp_objective_with_regularizers():
    regs = [nlpnet.L2(1e-3), nlpnet.L1(1e-3), nlpnet.GroupLasso(1e-3)]
    prob = regression_problem(regularizer=regs)
    nlp = prob.nlp_for("single_shooting")
    f, _, g, _ = BatchObjective(nlp)(nlp.x0)
    ex = nlp.expanded()
    ref = ca.Function("r", [ex.x], [ex.f, ca.gradient(ex.f, ex.x)])(nlp.x0)
    assert f == pytest.approx(float(ref[0]), rel=1e-12)
    np.testing.assert_allclose(g, np.asarray(ref[1]).ravel(), rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("name", ["adam", "lbfgs", "lm_backprop"])
def test_same_result_from_single_and_multiple_shooting_problems(name):
    a = regression_problem().solve(name, max_epochs=50)
    b = regression_problem("multiple_shooting").solve(name, max_epochs=50)
    np.testing.assert_array_equal(a.network.params, b.network.params)


# ------------------------------------------------------------------ update rules
GRADS = [np.array([0.3, -1.2, 2.0]), np.array([-0.5, 0.1, 1.0]), np.array([0.2, 0.4, -0.3]),
         np.array([1.5, -0.2, 0.0]), np.array([-0.1, -0.9, 0.6])]


def run_steps(opt, grads, theta0):
    theta, state, out = theta0.copy(), opt.init(theta0), []
    for g in grads:
        step, state = opt.update(g, state, theta)
        theta = theta + step
        out.append(theta.copy())
    return out


def test_adam_matches_kingma_ba():
    lr, b1, b2, eps = 0.01, 0.9, 0.999, 1e-8
    theta = np.array([1.0, -2.0, 0.5])
    got = run_steps(O.adam(lr, b1, b2, eps), GRADS, theta)
    m = v = 0.0
    for t, g in enumerate(GRADS, 1):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g ** 2
        theta = theta - lr * (m / (1 - b1 ** t)) / (np.sqrt(v / (1 - b2 ** t)) + eps)
        np.testing.assert_allclose(got[t - 1], theta, rtol=1e-14)


def test_nadam_matches_dozat_as_in_pytorch():
    lr, b1, b2, eps, psi = 0.002, 0.9, 0.999, 1e-8, 4e-3
    theta = np.array([1.0, -2.0, 0.5])
    got = run_steps(O.nadam(lr, b1, b2, eps, psi), GRADS, theta)
    m = v = 0.0
    mus = [b1 * (1 - 0.5 * 0.96 ** (t * psi)) for t in range(0, len(GRADS) + 2)]
    for t, g in enumerate(GRADS, 1):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g ** 2
        p_t, p_next = math.prod(mus[1:t + 1]), math.prod(mus[1:t + 2])
        m_hat = mus[t + 1] * m / (1 - p_next) + (1 - mus[t]) * g / (1 - p_t)
        theta = theta - lr * m_hat / (np.sqrt(v / (1 - b2 ** t)) + eps)
        np.testing.assert_allclose(got[t - 1], theta, rtol=1e-13)


def test_rmsprop_matches_hinton():
    lr, rho, eps = 0.01, 0.9, 1e-8
    theta = np.array([1.0, -2.0, 0.5])
    got = run_steps(O.rmsprop(lr, rho, eps), GRADS, theta)
    s = 0.0
    for t, g in enumerate(GRADS):
        s = rho * s + (1 - rho) * g ** 2
        theta = theta - lr * g / (np.sqrt(s) + eps)
        np.testing.assert_allclose(got[t], theta, rtol=1e-14)


def test_ssa1_matches_the_operator_splitting_scheme():
    # f(x) = ½ xᵀ A x, gradient evaluated at y_n as the scheme prescribes
    A = np.diag([1.0, 3.0, 0.5])
    h, k = 0.1, 1.0
    u, v = np.array([1.0, -2.0, 0.5]), np.zeros(3)
    opt = O.ssa1(h, k)
    theta, state = u.copy(), opt.init(u)
    for n in range(8):
        step, state = opt.update(A @ theta, state, theta)  # optimizer's params are the y_n
        theta = theta + step
        b = n / (n + 3)
        y = u + h * b * v
        g = A @ y
        v, u = b ** k * ((1 - h * b) * v - h * g), u + b * (1 - h * b) * (y - u) - h * h * g
        b1 = (n + 1) / (n + 4)
        np.testing.assert_allclose(theta, u + h * b1 * v, rtol=1e-13, atol=1e-15)
        np.testing.assert_allclose(state[1], u, rtol=1e-13, atol=1e-15)


def test_nesterov_gradient_is_taken_at_the_look_ahead_point():
    A = np.diag([1.0, 2.0])
    lr, beta = 0.1, 0.9
    x, m = np.array([1.0, 1.0]), np.zeros(2)  # classic NAG on x, with m the velocity
    opt = O.nesterov(lr, beta)
    theta, state = x.copy(), opt.init(x)
    for _ in range(5):
        step, state = opt.update(A @ theta, state, theta)
        theta = theta + step
        m = beta * m - lr * A @ (x + beta * m)
        x = x + m
        np.testing.assert_allclose(theta, x + beta * m, rtol=1e-13)  # stored point = look-ahead


# ------------------------------------------------------------------ schedules
def test_schedule_values():
    assert S.exponential(0.1, 0.5)(4) == pytest.approx(0.1 * math.exp(-2.0))
    assert S.power(0.1, 2.0, 0.5)(4) == pytest.approx(0.1 / 3.0)
    pc = S.piecewise_constant([10, 20], [1.0, 0.5, 0.1])
    assert [pc(0), pc(9), pc(10), pc(19), pc(20), pc(1000)] == [1.0, 1.0, 0.5, 0.5, 0.1, 0.1]
    cy = S.cyclic(0.1, 1.0, 5)
    assert [cy(0), cy(5), cy(10), cy(15)] == pytest.approx([0.1, 1.0, 0.1, 1.0])
    assert cy(2) == pytest.approx(0.1 + 0.9 * 0.4) and cy(7) == pytest.approx(0.1 + 0.9 * 0.6)
    oc = S.one_cycle(1.0, 101, pct_start=0.3, div=25, final_div=1e4)
    assert oc(0) == pytest.approx(0.04) and oc(30) == pytest.approx(1.0)
    assert oc(100) == pytest.approx(1.0 / 25e4) and oc(500) == pytest.approx(1.0 / 25e4)
    assert oc(15) == pytest.approx(0.52) and max(oc(t) for t in range(101)) == pytest.approx(1.0)


def test_schedule_drives_the_learning_rate_history():
    prob = regression_problem()
    res = prob.solve("gd", learning_rate={"kind": "exponential", "initial": 0.1, "rate": 0.01}, max_epochs=20)
    np.testing.assert_allclose(res.history["lr"], 0.1 * np.exp(-0.01 * np.arange(20)))


# ------------------------------------------------------------------ early stopping
class _Opts:
    def __init__(self, **es):
        self.early_stopping = EarlyStopping(**es)
        self.stagnation = None
        self.max_time = None
        self.verbose = 0


def feed(losses, **es):
    mon = Monitor(_Opts(**es), "test")
    for e, loss in enumerate(losses):
        stop = mon.end_epoch(e, loss, loss, np.array([float(e)]))
        if stop:
            return e, mon, stop
    return None, mon, None


def test_early_stopping_patience_and_min_delta():
    e, mon, stop = feed([5, 4, 3, 3.5, 3.6, 3.7, 1.0], patience=3)
    assert e == 5 and mon.best_epoch == 2 and stop == "early_stopping"
    e, _, _ = feed([5, 4, 3, 3.5, 2.9, 3.7, 3.8, 3.9], patience=3)
    assert e == 7  # the improvement at epoch 4 resets the wait
    e, mon, _ = feed([5, 4, 3.95, 3.9, 3.85, 3.8], patience=2, min_delta=0.1)
    assert e == 3 and mon.best_epoch == 1  # decreases smaller than min_delta do not count


def test_restore_best_weights_keras_semantics():
    e, mon, stop = feed([5, 4, 3, 3.5, 3.6, 3.7], patience=3, restore_best_weights=True)
    theta, note = mon.finish(np.array([5.0]), stop)
    assert theta[0] == 2.0 and "restored" in note
    # through solve: a too-large step makes GD oscillate upwards; weights of the best epoch come back
    prob = regression_problem()
    res = prob.solve("gd", learning_rate=3.0, max_epochs=500,
                     early_stopping={"monitor": "loss", "patience": 5, "restore_best_weights": True})
    loss = res.history["loss"]
    best = int(np.argmin(loss))
    assert res.status == Status.STALLED and res.iterations == best + 6
    # Keras keeps the weights at the end of the best epoch, whose loss is the next epoch's "loss"
    assert res.train_loss == pytest.approx(prob.mse(prob.network.with_params(res.x)))
    assert res.train_loss <= loss[best + 1] * (1 + 1e-12)


def test_val_loss_monitor_and_stagnation_rule():
    X, y = nlpnet.sine_data(20, seed=0)
    Xv, yv = nlpnet.sine_data(10, seed=1)
    prob = nlpnet.Problem(nlpnet.Network([1, 6, 1], seed=0), X, y, formulation="single_shooting", X_val=Xv, y_val=yv)
    res = prob.solve("adam", learning_rate=0.01, max_epochs=100, early_stopping={"monitor": "val_loss", "patience": 3})
    assert "val_loss" in res.history and len(res.history["val_loss"]) == res.iterations
    res = prob.solve("gd", learning_rate=0.05, max_epochs=5000, stagnation=1e-3)
    loss = res.history["loss"]
    assert res.status == Status.STALLED and (1 + 1e-3) * loss[-1] > loss[-2]
    assert np.all((1 + 1e-3) * loss[1:-1] <= loss[:-2])


# ------------------------------------------------------------------ mini-batches, failures, options
def test_minibatch_determinism():
    prob = regression_problem()
    a = prob.solve("adam", batch_size=6, max_epochs=30, seed=7, learning_rate=0.01)
    b = prob.solve("adam", batch_size=6, max_epochs=30, seed=7, learning_rate=0.01)
    c = prob.solve("adam", batch_size=6, max_epochs=30, seed=8, learning_rate=0.01)
    np.testing.assert_array_equal(a.x, b.x)
    np.testing.assert_array_equal(a.history["loss"], b.history["loss"])
    assert not np.array_equal(a.x, c.x)
    full = prob.solve("adam", batch_size=20, max_epochs=5)   # one batch of all samples = full batch
    ref = prob.solve("adam", max_epochs=5)
    np.testing.assert_allclose(full.x, ref.x, rtol=1e-12)


def test_divergence_returns_a_status():
    res = regression_problem().solve("gd", learning_rate=1e6, max_epochs=200)
    assert res.status == Status.NUMERICAL_ERROR and np.all(np.isfinite(res.network.params))


@pytest.mark.parametrize("opts, word", [
    ({"learning_rate": -1.0}, "learning_rate"), ({"beta1": 1.5}, "beta1"), ({"batch_size": 0}, "batch_size"),
    ({"max_epochs": -3}, "max_epochs"), ({"lrate": 0.1}, "unknown option"), ({"lr": -1.0}, "lr"),
    ({"early_stopping": {"monitor": "acc"}}, "early_stopping.monitor"),
    ({"early_stopping": {"patience": 2, "wait": 1}}, "early_stopping"),
    ({"learning_rate": {"kind": "warp"}}, "learning_rate"),
    ({"early_stopping": {"monitor": "val_loss"}}, "val_loss"),
])
def test_bad_options_raise_value_error_naming_them(opts, word):
    with pytest.raises(ValueError, match=word):
        regression_problem().solve("adam", **opts)


def test_constraints_are_refused_with_a_pointer_to_ipopt():
    prob = regression_problem()
    prob.subject_to(prob.output(prob.X) <= 1.0)
    with pytest.raises(ValueError, match="ipopt"):
        prob.solve("adam")
    with pytest.raises(ValueError, match="ipopt"):
        prob.solve("lbfgs")


def test_solvers_are_registered():
    names = nlpnet.available_solvers()
    assert set(ALL) <= set(names)


def test_relu_kink_has_zero_derivative_like_deep_learning_frameworks():
    # with zero biases the sample x = 0 sits on every first-layer kink; ReLU'(0) = 0 means it
    # contributes nothing to the first-layer bias gradient (CasADi's fmax would give ½)
    X = np.array([[0.0]])
    net = nlpnet.Network([1, 3, 1], activation="relu", seed=0)
    prob = nlpnet.Problem(net, X, np.array([[1.0]]), formulation="single_shooting")
    nlp = prob.nlp_for("single_shooting")
    f, _, g, _ = BatchObjective(nlp)(nlp.x0)
    b1 = net.param_slices()[0][1]
    assert np.all(g[b1] == 0.0) and f == pytest.approx(1.0)
