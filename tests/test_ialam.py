"""iALAM end to end through prob.solve("ialam") on small problems: options, descent, statuses,
budgets, metrics, and the one-layer case where (PP) is group-lasso least squares."""
import math

import numpy as np
import pytest

import nlpnet
from nlpnet import GroupLasso, Network, PenalizedLifting, Problem, Status
from nlpnet.formulations.penalized import PenalizedModel
from nlpnet.solvers.ialam import IalamOptions
from nlpnet.solvers.ialam.inner import FirstLayer, augmented_gram, state_step, weight_step
from nlpnet.solvers.ialam.metrics import augmented_lagrangian, network_metrics, state_violations


def act(alpha):
    return "relu" if alpha == 0 else ("leaky_relu", alpha)


def small_normal(sizes, seed, scale=0.01):
    """The authors' initialisation: W = scale·randn, b = 0."""
    rng = np.random.default_rng(seed)
    return [(scale * rng.standard_normal((o, i)), np.zeros(o)) for i, o in zip(sizes[:-1], sizes[1:])]


def teacher_data(n=150, sizes=(4, 6, 3), alpha=0.1, output="identity", seed=0, blank=0):
    """A random leaky-ReLU teacher network (weights N(0, 1/d_in), biases 0.3·N(0, 1)) plus noise
    0.01; ``blank`` input columns are zero."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, sizes[0]))
    X[:, :blank] = 0.0
    init = [(rng.standard_normal((o, i)) / np.sqrt(i), 0.3 * rng.standard_normal(o))
            for i, o in zip(sizes[:-1], sizes[1:])]
    out = "identity" if output == "identity" else act(alpha)
    teacher = Network(list(sizes), activation=act(alpha), output_activation=out, init=init)
    return X, teacher.predict(X) + 0.01 * rng.standard_normal((n, sizes[-1]))


def problem(X, Y, alpha=0.1, output="identity", lam=1e-4, seed=0, init="he_normal", val=None, **form):
    sizes = [X.shape[1], 6, Y.shape[1]] if "sizes" not in form else form.pop("sizes")
    out = "identity" if output == "identity" else act(alpha)
    net = Network(list(sizes), activation=act(alpha), output_activation=out, init=init, seed=seed)
    kw = {} if val is None else {"X_val": val[0], "y_val": val[1]}
    return Problem(net, X, Y, formulation=PenalizedLifting(**form), regularizer=GroupLasso(lam) if lam else None, **kw)


def small_run(alpha=0.1, output="identity", seed=0, lam=1e-4, **opts):
    X, Y = teacher_data(alpha=alpha, output=output, seed=seed)
    prob = problem(X, Y, alpha, output, lam, seed)
    return prob, prob.solve("ialam", **{"max_iter": 100, **opts})


# ---- options -----------------------------------------------------------------------------

def test_options_are_shared_toolkit_dataclasses_with_their_defaults():
    o = IalamOptions()
    with pytest.raises(Exception):
        o.rho0 = 5.0
    assert (o.max_iter, o.max_time, o.rho0, o.eta1, o.eta2, o.wb_max_iter) == (500, None, 2.0, 0.9, 1.2, 3)
    assert o.per_layer("rho0", 3) == [2.0, 2.0, 2.0]
    assert IalamOptions(rho0=(1.0, 2.0)).per_layer("rho0", 2) == [1.0, 2.0]
    assert IalamOptions(multiplier_step=[1, 0.5]).multiplier_step == (1.0, 0.5)


@pytest.mark.parametrize("kwargs, exc, message", [
    ({"rho0": -1.0}, ValueError, r"^rho0: must be a number > 0"),
    ({"rho0": (1.0, math.nan)}, ValueError, r"^rho0\[1\]: must be a finite number"),
    ({"tau1": math.inf}, ValueError, r"^tau1: must be a finite number"),
    ({"eta1": 1.0}, ValueError, r"^eta1: must be < 1"), ({"eta2": 1.0}, ValueError, r"^eta2: must be > 1"),
    ({"max_sweeps": True}, TypeError, r"^max_sweeps: expected an integer"),
    ({"min_sweeps": 5, "max_sweeps": 3}, ValueError, r"^max_sweeps: must be ≥ min_sweeps = 5"),
    ({"rho_update": "author"}, ValueError, r"did you mean 'authors'"),
    ({"restart_states": 1}, TypeError, r"^restart_states: expected True or False"),
    ({"gamma": 0}, ValueError, r"^gamma: must be an integer ≥ 1"),
    ({"multiplier_step": ()}, ValueError, r"^multiplier_step: the tuple is empty"),
])
def test_options_reject_bad_values_with_a_clear_message(kwargs, exc, message):
    with pytest.raises(exc, match=message):
        IalamOptions(**kwargs)


def test_unknown_option_and_a_model_parameter_given_to_the_solver_are_refused():
    X, Y = teacher_data()
    prob = problem(X, Y)
    with pytest.raises(ValueError, match=r"unknown option\(s\) 'rho_0'.*did you mean 'rho0'"):
        prob.solve("ialam", rho_0=1.0)
    with pytest.raises(ValueError, match=r"unknown option\(s\) 'lambda_w'"):   # λ_w is the GroupLasso's
        prob.solve("ialam", lambda_w=1e-3)


def test_per_layer_length_is_checked_before_any_work():
    X, Y = teacher_data()
    with pytest.raises(ValueError, match=r"^rho0: has 3 entries but the network has 2 layers"):
        problem(X, Y).solve("ialam", rho0=(1.0, 1.0, 1.0))


# ---- the inner sweep is a descent method -------------------------------------------------

@pytest.mark.parametrize("alpha, output", [(0.0, "leaky_relu"), (0.1, "leaky_relu"), (0.2, "identity")])
def test_both_half_steps_never_increase_the_augmented_lagrangian(alpha, output):
    rng = np.random.default_rng(4)
    X, Y = teacher_data(n=80, sizes=(4, 5, 4, 3), alpha=alpha, output=output, seed=4)
    alphas = (alpha, alpha, alpha if output == "leaky_relu" else None)
    rho, beta, lam_w, lam_v = [3.0, 2.0, 5.0], [1.0, 2.0, 0.5], 1e-2, 1e-3
    model = PenalizedModel((4, 5, 4, 3), alphas, lam_w, lam_v, tuple(beta), 1e3)
    W = [10 * w for w, _ in small_normal([4, 5, 4, 3], 4)]
    b = [np.zeros(d) for d in (5, 4, 3)]
    U, V = model.forward(X, W, b)
    U = [u + 0.1 * rng.standard_normal(u.shape) for u in U]   # an infeasible state
    V = [np.maximum(v, u) for v, u in zip(V, U)]              # but v ≥ σ(u)
    Xi = [0.5 * rng.standard_normal(u.shape) for u in U]

    def L(W, b, V, U):
        C = state_violations(model, X, W, b, V, U)[2]
        return augmented_lagrangian(model, Y, W, V, U, C, Xi, rho, beta)

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

# (6 ReLU units before a ReLU output start dead on some draws — seeds 1 and 4 of 0–4 here, as
# with the standalone core on the same data — so the ReLU case uses seed 2)
@pytest.mark.parametrize("alpha, output, seed", [(0.1, "identity", 0), (0.0, "leaky_relu", 2)])
def test_fits_a_teacher_network(alpha, output, seed):
    prob, res = small_run(alpha, output, seed)
    assert res.raw_status == "max_iter" and res.iterations == 100
    baseline = float(np.sum((prob.y - prob.y.mean(0)) ** 2)) / len(prob.y)
    assert res.train_loss < 0.08 * baseline
    h = res.history
    assert h["stationarity"][-1] < 0.2 * h["stationarity"][0]
    assert h["loss"][-1] == pytest.approx(res.train_loss, rel=1e-12) == pytest.approx(res.stats["train_err"])
    assert res.stats["feas_linear"] < 1e-4
    # the NLP's own objective and violation at the returned point are the last row's
    assert res.objective == pytest.approx(h["objective"][-1], rel=1e-10)
    assert res.constraint_violation == pytest.approx(h["violation"][-1], rel=1e-6)


def test_history_and_result_contract():
    X, Y = teacher_data()
    Xt, Yt = teacher_data(n=40, seed=9)
    prob = problem(X, Y, init=small_normal([4, 6, 3], 0), val=(Xt, Yt))
    before = prob.network.params.copy()
    res = prob.solve("ialam", max_iter=12)
    assert res.raw_status == "max_iter" and res.iterations == len(res.history) == 12
    h = res.history
    assert h.keys()[:6] == ["iteration", "time", "objective", "loss", "violation", "val_loss"]
    assert {"train_err", "test_err", "feas_activation", "feas_linear", "feas_vi", "col_sparsity", "inputs_pruned",
            "hidden_pruned", "rho", "beta", "stationarity", "sweeps"} <= set(h.keys())
    assert all(len(r) == len(h.keys()) for r in h.rows())                     # the same keys in every row
    np.testing.assert_array_equal(h["test_err"], h["val_loss"])
    assert res.val_loss == pytest.approx(h["val_loss"][-1]) and np.all(np.isnan(h["train_acc"]))  # not one-hot
    assert "accuracy" not in h
    assert {k: v.shape for k, v in res.states.items()} == {"u1": (150, 6), "v1": (150, 6), "u2": (150, 3),
                                                          "v2": (150, 3)}
    assert res.stats["inner_iterations"] == int(h["sweeps"].sum())
    np.testing.assert_array_equal(prob.network.params, before)                # the problem's network untouched


def test_same_problem_same_numbers():
    _, a = small_run(max_iter=20)
    _, b = small_run(max_iter=20)
    np.testing.assert_array_equal(a.x, b.x)
    for key in a.history.keys():
        if key not in ("time", "cpu_time"):
            np.testing.assert_array_equal(a.history[key], b.history[key])


def test_max_iter_zero_returns_the_start():
    prob, res = small_run(max_iter=0)
    assert res.raw_status == "max_iter" and res.iterations == 0
    np.testing.assert_array_equal(res.x, prob.nlp.x0)


def test_time_budget_is_honoured():
    X, Y = teacher_data(n=3000, sizes=(4, 40, 3))
    prob = problem(X, Y, sizes=[4, 40, 3])
    res = prob.solve("ialam", max_iter=100000, rho_stop_factor=1e12, tol_feas=1e-300, max_time=0.3)
    assert res.status is Status.MAX_TIME and res.wall_time < 0.3 + 0.5
    assert res.iterations >= 1 and np.all(np.isfinite(res.x))


def test_non_finite_values_stop_at_once_with_the_last_finite_iterate():
    X, Y = teacher_data()
    prob = problem(X * 1e160, Y, init=small_normal([4, 6, 3], 0))   # products overflow in the first sweep
    res = prob.solve("ialam", max_iter=50)
    assert res.status is Status.NUMERICAL_ERROR and "finite" in res.message
    assert np.all(np.isfinite(res.network.params))


def test_relu_bias_bound_holds():
    X, Y = teacher_data(alpha=0.0, output="leaky_relu")
    prob = problem(X, Y, 0.0, "leaky_relu", bias_bound=0.05)
    assert np.isclose(prob.nlp.lbx[prob.network.param_slices()[0][1]], -0.05).all()
    res = prob.solve("ialam", max_iter=30)
    assert min(float(b.min()) for _, b in res.network.get_weights()) >= -0.05


def test_blank_inputs_are_pruned_and_reported():
    X, Y = teacher_data(sizes=(6, 6, 3), blank=2, seed=3)
    res = problem(X, Y, lam=1e-3, seed=3, init=small_normal([6, 6, 3], 3)).solve("ialam", max_iter=40)
    assert np.all(res.network.get_weights()[0][0][:, :2] == 0.0)
    assert res.stats["inputs_pruned"] >= 2 / 6 and res.stats["col_sparsity"] >= 2 / 12


def test_large_group_lasso_prunes_hidden_units():
    _, small = small_run(lam=1e-4, max_iter=60)
    _, large = small_run(lam=0.3, max_iter=60)
    assert small.stats["hidden_pruned"] == 0.0 and large.stats["hidden_pruned"] > 0.3
    assert large.history["hidden_pruned"][-1] == large.stats["hidden_pruned"]


def test_network_metrics_count_zero_columns():
    W = [np.array([[1.0, 0.0, 2.0], [0.5, 0.0, 0.0]]), np.array([[0.0, 3.0]])]
    b = [np.zeros(2), np.zeros(1)]
    model = PenalizedModel((3, 2, 1), (0.0, None), 0.0, 0.0, (1.0, 1.0), 1e3)
    m = network_metrics(model, np.eye(3), np.ones((3, 1)), W, b, 1e-9)
    assert m["inputs_pruned"] == pytest.approx(1 / 3) and m["hidden_pruned"] == pytest.approx(1 / 2)
    assert m["col_sparsity"] == pytest.approx(2 / 5) and math.isnan(m["train_acc"]) and math.isnan(m["test_err"])


def test_one_hot_targets_give_accuracies():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((90, 5))
    Y = np.eye(3)[np.argmax(X[:, :3], axis=1)]
    prob = problem(X, Y, 0.0, "leaky_relu", sizes=[5, 8, 3], init=small_normal([5, 8, 3], 0), val=(X[:30], Y[:30]))
    res = prob.solve("ialam", max_iter=60)
    assert res.stats["train_acc"] > 0.9 and 0.0 <= res.stats["test_acc"] <= 1.0
    assert res.train_accuracy == pytest.approx(res.stats["train_acc"]) == pytest.approx(res.history["accuracy"][-1])
    assert res.val_accuracy == pytest.approx(res.history["val_accuracy"][-1])


def test_slides_penalty_update_and_per_layer_options_run():
    X, Y = teacher_data()
    prob = problem(X, Y, beta=(2.0, 1.0))
    res = prob.solve("ialam", rho_update="slides", rho0=(1.0, 3.0), multiplier_step=(1.0, 0.5), max_iter=40)
    assert isinstance(res.status, Status) and np.isfinite(res.train_loss)
    assert res.stats["rho"][1] / res.stats["rho"][0] >= 1.0 and prob.nlp.evaluator.beta == (2.0, 1.0)


def test_one_layer_model_converges_to_the_group_lasso_solution_with_success():
    """L = 1, identity output: (PP) is group-lasso least squares; iALAM must reach its KKT point."""
    from nlpnet.solvers.ialam import prox_gradient_bb
    rng = np.random.default_rng(0)
    X = rng.standard_normal((100, 5))
    X[:, 4] *= 0.02                                   # an input weak enough to be pruned
    Y = X @ rng.standard_normal((5, 2)) + 0.1 * rng.standard_normal((100, 2))
    lam = 0.01
    net = Network([5, 2], output_activation="identity", init=small_normal([5, 2], 0))
    res = Problem(net, X, Y, formulation=PenalizedLifting(), regularizer=GroupLasso(lam)).solve("ialam", max_iter=200)
    assert res.status is Status.SUCCESS and res.iterations < 60, res.message
    # reference: min (1/N)‖Y − XWᵀ − b‖² + λΣ‖w_j‖ ⇔ ½‖Y − [X 1]Θᵀ‖² + (Nλ/2)Σ‖w_j‖
    G, C = augmented_gram(X), np.column_stack([Y.T @ X, Y.sum(0)])
    ref = prox_gradient_bb(G, C, np.zeros((2, 6)), 100 * lam / 2, max_iter=5000, tol=1e-13).theta
    (W, b), = res.network.get_weights()
    assert np.all(ref[:, 4] == 0.0) and np.all(W[:, 4] == 0.0)
    assert np.allclose(W, ref[:, :-1], atol=1e-5) and np.allclose(b, ref[:, -1], atol=1e-5)
    assert res.constraint_violation <= 1e-6


def test_verbose_prints_the_shared_columns(capsys):
    small_run(max_iter=4, verbose=2)
    err = capsys.readouterr().err
    assert "ialam:" in err and "objective" in err and "violation" in err and "rho" in err
    assert len([line for line in err.splitlines() if line.startswith("ialam:")]) == 1 + 3   # header, 1, 2, 4
