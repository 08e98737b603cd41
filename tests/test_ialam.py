"""iALAM end to end on small problems: options, inputs, descent, statuses, budgets, metrics."""
import math
import time

import numpy as np
import pytest

from nlpnet.solvers.ialam import (HISTORY_KEYS, STATUSES, IalamOptions, forward_states, init_weights,
                                  predict, resolve_ialam_options, run_ialam)
from nlpnet.solvers.ialam.inner import FirstLayer, augmented_gram, state_step, weight_step
from nlpnet.solvers.ialam.model import (augmented_lagrangian, layer_alphas, network_metrics,
                                        state_violations)


def teacher_data(n=150, sizes=(4, 6, 3), alpha=0.1, output="identity", seed=0, blank=0):
    """A random leaky-ReLU teacher network (weights N(0, 1/d_in)) plus noise 0.01;
    ``blank`` input columns are zero."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, sizes[0]))
    X[:, :blank] = 0.0
    W = [rng.standard_normal((sizes[i + 1], sizes[i])) / np.sqrt(sizes[i]) for i in range(len(sizes) - 1)]
    b = [0.3 * rng.standard_normal(sizes[i + 1]) for i in range(len(sizes) - 1)]
    Y = predict(X, W, b, layer_alphas(len(W), alpha, output)) + 0.01 * rng.standard_normal((n, sizes[-1]))
    return X, Y


def small_run(alpha=0.1, output="identity", seed=0, **opts):
    X, Y = teacher_data(alpha=alpha, output=output, seed=seed)
    W0, b0 = init_weights([4, 6, 3], seed=seed, scheme="he")
    options = {"lambda_w": 1e-4, "max_iter": 100, **opts}
    return X, Y, run_ialam(X, Y, alpha, output, W0, b0, options)


# ---- options -----------------------------------------------------------------------------

def test_options_defaults_are_valid_and_frozen():
    o = IalamOptions()
    with pytest.raises(Exception):
        o.rho0 = 5.0
    assert o.per_layer("beta", 3) == [2.0, 2.0, 2.0]
    assert IalamOptions(rho0=(1.0, 2.0)).per_layer("rho0", 2) == [1.0, 2.0]


@pytest.mark.parametrize("kwargs, exc, words", [
    ({"rho0": -1.0}, ValueError, "rho0"), ({"beta": math.nan}, ValueError, "finite"),
    ({"tau1": math.inf}, ValueError, "finite"), ({"lambda_w": "1e-3"}, TypeError, "lambda_w"),
    ({"max_iter": 2.5}, TypeError, "max_iter"), ({"max_sweeps": True}, TypeError, "max_sweeps"),
    ({"eta1": 1.0}, ValueError, "(0, 1)"), ({"eta2": 1.0}, ValueError, "eta2"),
    ({"min_sweeps": 5, "max_sweeps": 3}, ValueError, "min_sweeps"),
    ({"rho_update": "author"}, ValueError, "did you mean 'authors'"),
    ({"beta": [1.0, 2.0]}, TypeError, "tuple"), ({"restart_states": 1}, TypeError, "True or False"),
    ({"gamma": 0}, ValueError, "gamma"),
])
def test_options_reject_bad_values_with_a_clear_message(kwargs, exc, words):
    with pytest.raises(exc, match=None) as err:
        IalamOptions(**kwargs)
    assert words in str(err.value)


def test_unknown_option_key_suggests_the_nearest():
    with pytest.raises(ValueError, match="did you mean 'lambda_w'"):
        resolve_ialam_options({"lamda_w": 1.0})


def test_per_layer_length_is_checked_before_any_work():
    X, Y = teacher_data()
    W0, b0 = init_weights([4, 6, 3], seed=0)
    with pytest.raises(ValueError, match="beta: has 3 entries but the network has 2 layers"):
        run_ialam(X, Y, 0.1, "identity", W0, b0, {"beta": (1.0, 1.0, 1.0)})


# ---- inputs ------------------------------------------------------------------------------

@pytest.mark.parametrize("change, exc, words", [
    (lambda a: {**a, "X": a["X"][:, :3]}, ValueError, "W0[0]"),
    (lambda a: {**a, "Y": a["Y"][:10]}, ValueError, "rows"),
    (lambda a: {**a, "X": np.where(a["X"] > 2, np.nan, a["X"])}, ValueError, "NaN"),
    (lambda a: {**a, "hidden_alpha": 1.0}, ValueError, "[0, 1)"),
    (lambda a: {**a, "output": "identiy"}, ValueError, "did you mean 'identity'"),
    (lambda a: {**a, "b0": a["b0"][:1]}, ValueError, "one bias per layer"),
    (lambda a: {**a, "W0": [a["W0"][0], a["W0"][1][:2]], "b0": [a["b0"][0], a["b0"][1][:2]]}, ValueError,
     "output width"),
    (lambda a: {**a, "X_test": a["X"]}, ValueError, "both or neither"),
    (lambda a: {**a, "deadline": math.inf}, ValueError, "deadline"),
])
def test_bad_inputs_raise_before_any_work(change, exc, words):
    X, Y = teacher_data()
    W0, b0 = init_weights([4, 6, 3], seed=0)
    args = change({"X": X, "Y": Y, "hidden_alpha": 0.1, "output": "identity", "W0": W0, "b0": b0,
                   "X_test": None, "deadline": None})
    with pytest.raises(exc) as err:
        run_ialam(args["X"], args["Y"], args["hidden_alpha"], args["output"], args["W0"], args["b0"],
                  X_test=args["X_test"], Y_test=None, deadline=args["deadline"])
    assert words in str(err.value)


def test_init_weights_follow_the_two_schemes():
    W, b = init_weights([5, 4, 2], seed=1)
    assert [w.shape for w in W] == [(4, 5), (2, 4)] and all(np.all(v == 0) for v in b)
    assert 0.003 < np.std(np.concatenate([w.ravel() for w in W])) < 0.03
    Ws, _ = init_weights([5, 4, 2], seed=1, scheme="slides", n_samples=1000)
    assert np.allclose(Ws[0], W[0] / 10.0)                 # randn/N versus 0.01·randn, same draws
    with pytest.raises(ValueError, match="n_samples"):
        init_weights([5, 4, 2], scheme="slides")


# ---- the inner sweep is a descent method -------------------------------------------------

@pytest.mark.parametrize("alpha, output", [(0.0, "leaky_relu"), (0.1, "leaky_relu"), (0.2, "identity")])
def test_both_half_steps_never_increase_the_augmented_lagrangian(alpha, output):
    rng = np.random.default_rng(4)
    X, Y = teacher_data(n=80, sizes=(4, 5, 4, 3), alpha=alpha, output=output, seed=4)
    W, b = init_weights([4, 5, 4, 3], seed=4)
    W = [10 * w for w in W]
    alphas = layer_alphas(3, alpha, output)
    U, V = forward_states(X, W, b, alpha, output)
    U = [u + 0.1 * rng.standard_normal(u.shape) for u in U]   # an infeasible state
    V = [np.maximum(v, u) for v, u in zip(V, U)]              # but v ≥ σ(u)
    Xi = [0.5 * rng.standard_normal(u.shape) for u in U]
    rho, beta, lam_w, lam_v = [3.0, 2.0, 5.0], [1.0, 2.0, 0.5], 1e-2, 1e-3

    def L(W, b, V, U):
        C = state_violations(X, W, b, V, U, alphas)[2]
        return augmented_lagrangian(Y, W, V, U, C, Xi, rho, alphas, beta, lam_w, lam_v)

    values, steps, first = [L(W, b, V, U)], [None] * 3, FirstLayer(X)
    for _ in range(6):
        W, b, _ = weight_step(X, W, b, V, U, Xi, rho, lambda_w=lam_w, bias_lower=-np.inf, max_iter=5,
                              tol=0.0, steps=steps, first=first, deadline=None)
        values.append(L(W, b, V, U))
        V, U, _, _ = state_step(X, Y, W, b, V, U, Xi, rho, beta, alphas, lambda_v=lam_v, tau1=0.5, first=first)
        values.append(L(W, b, V, U))
        for v, u, a in zip(V, U, alphas):                    # the constraints v ≥ σ(u) hold
            assert np.all(v - (u if a is None else np.maximum(u, a * u)) >= -1e-12)
    assert np.all(np.diff(values) <= 1e-10 * abs(values[0])), np.diff(values)
    assert values[-1] < values[0]


# ---- whole runs ----------------------------------------------------------------------------

@pytest.mark.parametrize("alpha, output", [(0.1, "identity"), (0.0, "leaky_relu")])
def test_fits_a_teacher_network(alpha, output):
    X, Y, out = small_run(alpha, output)
    assert out.status in STATUSES and out.iterations == 100
    baseline = float(np.sum((Y - Y.mean(0)) ** 2)) / len(Y)
    assert out.stats["train_err"] < 0.08 * baseline
    first = out.history[0]
    assert out.history[-1]["stationarity"] < 0.2 * first["stationarity"]
    assert out.history[-1]["train_err"] == pytest.approx(out.stats["train_err"])
    assert out.stats["feas_linear"] < 1e-4
    # the reported TrainErr is the network's own error (σ exactly, not the lifted states)
    pred = predict(X, out.W, out.b, layer_alphas(2, alpha, output))
    assert out.stats["train_err"] == pytest.approx(float(np.sum((pred - Y) ** 2)) / len(Y))


def test_history_and_output_contract():
    X, Y = teacher_data()
    Xt, Yt = teacher_data(n=40, seed=9)
    W0, b0 = init_weights([4, 6, 3], seed=0)
    out = run_ialam(X, Y, 0.1, "identity", W0, b0, {"max_iter": 12}, X_test=Xt, Y_test=Yt)
    assert out.status in STATUSES and out.iterations == len(out.history) == 12
    assert all(tuple(row) == HISTORY_KEYS for row in out.history)
    assert all(np.isfinite(row["test_err"]) for row in out.history)
    assert all(math.isnan(row["train_acc"]) for row in out.history)      # targets are not one-hot
    assert [v.shape for v in out.V] == [(150, 6), (150, 3)] and len(out.U) == 2
    assert out.inner_iterations == sum(row["sweeps"] for row in out.history)
    assert W0[0][0, 0] != out.W[0][0, 0]                                 # W0 itself is not modified
    assert init_weights([4, 6, 3], seed=0)[0][0][0, 0] == W0[0][0, 0]


def test_same_seed_same_numbers():
    _, _, a = small_run(max_iter=20)
    _, _, b = small_run(max_iter=20)
    assert all(np.array_equal(x, y) for x, y in zip(a.W + a.b, b.W + b.b))
    drop_time = lambda h: [{k: v for k, v in row.items() if k not in ("time", "cpu_time")} for row in h]
    np.testing.assert_equal(drop_time(a.history), drop_time(b.history))   # (NaN == NaN here)


def test_max_iter_status():
    _, _, out = small_run(max_iter=3)
    assert out.status == "max_iter" and out.iterations == 3


def test_deadline_and_time_budget_are_honoured():
    X, Y = teacher_data(n=3000, sizes=(4, 40, 3))
    W0, b0 = init_weights([4, 40, 3], seed=0)
    for kwargs in ({"deadline": time.monotonic() + 0.3}, {}):
        opts = {"max_iter": 100000, "rho_stop_factor": 1e12, "tol_feas": 1e-300,
                "max_time": 100.0 if kwargs else 0.3}
        t = time.monotonic()
        out = run_ialam(X, Y, 0.1, "identity", W0, b0, opts, **kwargs)
        assert out.status == "max_time" and time.monotonic() - t < 0.3 + 0.5
        assert out.iterations >= 1 and np.all(np.isfinite(out.W[0]))


def test_non_finite_values_stop_at_once_with_the_last_finite_iterate():
    X, Y = teacher_data()
    X = X * 1e160                                   # products overflow to inf in the first sweep
    W0, b0 = init_weights([4, 6, 3], seed=0)
    out = run_ialam(X, Y, 0.1, "identity", W0, b0, {"max_iter": 50})
    assert out.status == "numerical_error" and "finite" in out.message
    assert all(np.all(np.isfinite(w)) for w in out.W + out.b)


def test_relu_bias_bound_holds():
    _, _, out = small_run(0.0, "leaky_relu", bias_bound=0.05, max_iter=30)
    assert min(float(v.min()) for v in out.b) >= -0.05


def test_blank_inputs_are_pruned_and_reported():
    X, Y = teacher_data(sizes=(6, 6, 3), blank=2, seed=3)
    W0, b0 = init_weights([6, 6, 3], seed=3)
    out = run_ialam(X, Y, 0.1, "identity", W0, b0, {"lambda_w": 1e-3, "max_iter": 40})
    assert np.all(out.W[0][:, :2] == 0.0)
    assert out.stats["inputs_pruned"] >= 2 / 6
    assert out.stats["col_sparsity"] >= 2 / 12


def test_large_group_lasso_prunes_hidden_units():
    _, _, small = small_run(lambda_w=1e-4, max_iter=60)
    _, _, large = small_run(lambda_w=0.3, max_iter=60)
    assert small.stats["hidden_pruned"] == 0.0 and large.stats["hidden_pruned"] > 0.3


def test_network_metrics_count_zero_columns():
    W = [np.array([[1.0, 0.0, 2.0], [0.5, 0.0, 0.0]]), np.array([[0.0, 3.0]])]
    b = [np.zeros(2), np.zeros(1)]
    X = np.eye(3)
    Y = np.ones((3, 1))
    m = network_metrics(X, Y, W, b, layer_alphas(2, 0.0, "identity"), 1e-9)
    assert m["inputs_pruned"] == pytest.approx(1 / 3) and m["hidden_pruned"] == pytest.approx(1 / 2)
    assert m["col_sparsity"] == pytest.approx(2 / 5) and math.isnan(m["train_acc"])


def test_one_hot_targets_give_accuracies():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((90, 5))
    labels = np.argmax(X[:, :3], axis=1)
    Y = np.eye(3)[labels]
    W0, b0 = init_weights([5, 8, 3], seed=0)
    out = run_ialam(X, Y, 0.0, "leaky_relu", W0, b0, {"max_iter": 60, "lambda_w": 1e-4},
                    X_test=X[:30], Y_test=Y[:30])
    assert out.stats["train_acc"] > 0.9 and 0.0 <= out.stats["test_acc"] <= 1.0


def test_slides_penalty_update_and_per_layer_options_run():
    _, _, out = small_run(rho_update="slides", rho0=(1.0, 3.0), beta=(2.0, 1.0), multiplier_step=(1.0, 0.5),
                          max_iter=40)
    assert out.status in STATUSES and np.isfinite(out.stats["train_err"])
    assert out.stats["rho"][1] / out.stats["rho"][0] >= 1.0


def test_one_layer_model_converges_to_the_group_lasso_solution_with_success():
    """L = 1, identity output: (PP) is group-lasso least squares; iALAM must reach its KKT point."""
    from nlpnet.solvers.ialam import prox_gradient_bb
    rng = np.random.default_rng(0)
    X = rng.standard_normal((100, 5))
    X[:, 4] *= 0.02                                   # an input weak enough to be pruned
    Y = X @ rng.standard_normal((5, 2)) + 0.1 * rng.standard_normal((100, 2))
    lam = 0.01
    W0, b0 = init_weights([5, 2], seed=0)
    out = run_ialam(X, Y, 0.0, "identity", W0, b0, {"lambda_w": lam, "max_iter": 200})
    assert out.status == "success" and out.iterations < 60, out.message
    # reference: min (1/N)‖Y − XWᵀ − b‖² + λΣ‖w_j‖ ⇔ ½‖Y − [X 1]Θᵀ‖² + (Nλ/2)Σ‖w_j‖
    G, C = augmented_gram(X), np.column_stack([Y.T @ X, Y.sum(0)])
    ref = prox_gradient_bb(G, C, np.zeros((2, 6)), 100 * lam / 2, max_iter=5000, tol=1e-13).theta
    assert np.all(ref[:, 4] == 0.0) and np.all(out.W[0][:, 4] == 0.0)
    assert np.allclose(out.W[0], ref[:, :-1], atol=1e-5) and np.allclose(out.b[0], ref[:, -1], atol=1e-5)
