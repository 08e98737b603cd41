"""IPOPT training end to end: convergence, complementarity, extra constraints, status handling.

Seeds and bounds were measured on the 2-core machine (casadi 3.8.2, IPOPT with MUMPS):
tanh 1-3-3-1 on ``sine_data(20, seed=1)`` reaches MSE 8.7e-4 in 117 iterations (0.1 s) with
tol=1e-6 (all of seeds 0–9 succeed with MSE ≤ 0.0103); with the library's defaults ReLU
1-4-4-1 by complementarity (seed 1) reaches 2.2e-3 in ~65 iterations and leaky ReLU 1-4-4-1
(seed 0) 4.4e-3 (seeds 0–5: 2.3e-3 … 1.9e-2), with |z − max(a, 0)| ≤ 1e-8.
"""
from __future__ import annotations

import casadi as ca
import numpy as np
import pytest

import nlpnet
from nlpnet import L2, Network, Problem, Status

GRID = np.linspace(0.0, 1.0, 41)[:, None]


def tanh_problem(seed=1, **kw):
    X, y = nlpnet.sine_data(20, seed=seed)
    net = Network([1, 3, 3, 1], activation="tanh", init="nguyen_widrow", seed=seed, input_range=(0, 1))
    return Problem(net, X, y, **kw)


def relu_problem(activation="relu", seed=1, **kw):
    X, y = nlpnet.sine_data(20, seed=seed)
    net = Network([1, 4, 4, 1], activation=activation, init="he_uniform", seed=seed, input_range=(0, 1))
    return Problem(net, X, y, **kw)


@pytest.fixture(scope="module")
def relu_solved():
    prob = relu_problem("relu", seed=1)
    return prob, prob.solve("ipopt")


@pytest.fixture(scope="module")
def leaky_solved():
    prob = relu_problem(("leaky_relu", 0.1), seed=0)
    return prob, prob.solve("ipopt")


# ------------------------------------------------------------------ training
def test_ipopt_trains_tanh_multiple_shooting():
    X_val, y_val = nlpnet.sine_data(20, noise=0.0)
    prob = tanh_problem(X_val=X_val, y_val=y_val)
    res = prob.solve("ipopt", tol=1e-6)
    assert res.status is Status.SUCCESS and res.success
    assert res.solver == "ipopt" and res.formulation == "multiple_shooting"
    assert res.raw_status == "Solve_Succeeded" and "converged" in res.message
    assert res.train_loss < 5e-3  # measured 8.6e-4
    assert res.train_loss == pytest.approx(prob.mse(res.network), rel=1e-12)
    assert res.constraint_violation < 1e-6
    # at a feasible solution the lifted objective is the plain MSE
    assert res.objective == pytest.approx(res.train_loss, rel=1e-5, abs=1e-9)
    assert res.val_loss is not None and res.val_loss < 0.05  # noise-free curve, noise std 0.1
    assert 10 < res.iterations < 1000 and res.wall_time > 0
    # the returned network is a trained copy; the problem's network is untouched
    assert not np.array_equal(res.network.params, prob.network.params)
    assert res.x.shape == (prob.network.n_params + 20 * (3 + 3),)
    assert res.states["z1"].shape == (20, 3) and res.states["z2"].shape == (20, 3)
    np.testing.assert_allclose(res.states["z2"], res.network.forward_states(prob.X)[1], atol=1e-6)
    h = res.history
    assert {"iteration", "objective", "loss", "violation", "val_loss", "time"} <= set(h.keys())
    np.testing.assert_array_equal(h["iteration"], np.arange(len(h)))
    # one row per iteration plus the starting point (IPOPT also reports the start of each
    # restoration phase, which this run does not enter)
    assert len(h) == res.iterations + 1
    assert h["objective"][0] == pytest.approx(prob.mse(prob.network), rel=1e-12)
    assert h["objective"][-1] == pytest.approx(res.objective, rel=1e-9)
    assert np.all(np.diff(h["time"]) >= 0) and h["violation"][0] <= 1e-12


def test_ipopt_single_shooting_reaches_the_same_kind_of_fit():
    prob = tanh_problem(formulation="single_shooting")
    res = prob.solve("ipopt", tol=1e-6)
    assert res.success and res.formulation == "single_shooting"
    assert res.train_loss < 0.02 and res.constraint_violation == 0.0
    assert res.states == {}


def test_ipopt_trains_relu_by_complementarity(relu_solved):
    prob, res = relu_solved
    assert res.success, res.message
    assert res.train_loss < 0.01  # measured 2.2e-3; y = 0 gives ~0.5
    stages = res.stats["stages"]
    assert len(stages) >= 2  # a homotopy, not one solve of the degenerate MPCC
    # IPOPT's own statuses, or nlpnet's stops of a relaxed stage being exploited / a stalled branch NLP
    assert all(s["status"] in ("Solve_Succeeded", "Solved_To_Acceptable_Level", "Relaxation_Exploited",
                               "Branch_NLP_Stalled") for s in stages)
    assert sum(s["iterations"] for s in stages) == res.iterations
    assert "complementarity" in res.message
    # one row per iteration plus each stage's starting point (+ any restoration-phase entries)
    assert res.iterations + len(stages) <= len(res.history) <= res.iterations + len(stages) + 10
    assert set(np.unique(res.history["stage"])) == set(range(len(stages)))
    assert res.constraint_violation < 1e-6


def test_complementarity_solution_is_an_exact_relu(relu_solved):
    prob, res = relu_solved
    Z = prob.X
    for k, (W, b) in enumerate(res.network.get_weights()[:-1], start=1):
        a = Z @ W.T + b
        z = res.states[f"z{k}"]
        assert np.max(np.abs(z - np.maximum(a, 0.0))) < 1e-6, f"layer {k}"
        Z = z
    # so the lifted model and the plain forward pass agree
    np.testing.assert_allclose(res.network.predict(prob.X), res.network.forward_states(prob.X)[-1])
    assert res.objective == pytest.approx(res.train_loss, rel=1e-4)


def test_leaky_relu_complementarity_solution(leaky_solved):
    prob, res = leaky_solved
    assert res.success, res.message
    assert res.train_loss < 0.02  # measured 4.1e-3
    alpha, Z = 0.1, prob.X
    for k, (W, b) in enumerate(res.network.get_weights()[:-1], start=1):
        u, v = res.states[f"u{k}"], res.states[f"v{k}"]
        assert np.max(np.abs(u - (Z @ W.T + b))) < 1e-6
        assert np.max(np.abs(v - np.maximum(u, alpha * u))) < 1e-6
        Z = v


def test_relu_equality_formulation_runs_and_returns_status():
    prob = relu_problem("relu", relu="equality")
    res = prob.solve("ipopt", max_iter=50)
    assert isinstance(res.status, Status) and res.iterations <= 50
    assert "complementarity" not in res.message  # no homotopy without complementarity
    assert len(res.stats["stages"]) == 1
    assert np.isfinite(res.train_loss) and res.train_loss < prob.mse(prob.network)


# ------------------------------------------------------------------ extra constraints
def test_output_upper_bound_is_honoured():
    free = tanh_problem().solve("ipopt", tol=1e-6)
    top = free.network.predict(GRID).max()
    c = -0.3  # the data start at y ≈ 0 (y = −sin(0.8πx)), so this bound cuts the fit near x = 0
    assert top > c + 0.25  # the unconstrained fit goes well above it
    prob = tanh_problem()
    prob.subject_to(prob.output(GRID) <= c)
    res = prob.solve("ipopt", tol=1e-6)
    assert res.success, res.message
    assert res.network.predict(GRID).max() <= c + 1e-6
    assert res.network.predict(GRID).max() >= c - 1e-3  # it is active, not over-satisfied
    assert res.train_loss < 0.2


def test_output_lower_bound_and_monotonicity_on_a_grid():
    prob = tanh_problem()
    prob.subject_to(prob.output(GRID) >= -0.8)
    prob.subject_to(ca.diff(prob.output(GRID)) <= 0)  # non-increasing on the grid
    res = prob.solve("ipopt", tol=1e-6)
    assert res.success, res.message
    pred = res.network.predict(GRID).ravel()
    assert pred.min() >= -0.8 - 1e-6
    assert np.diff(pred).max() <= 1e-6
    assert res.train_loss < 0.05


def test_weight_bounds_are_honoured():
    prob = tanh_problem()
    prob.subject_to(prob.theta, lower=-1, upper=1)
    res = prob.solve("ipopt", tol=1e-6)
    assert res.success, res.message
    assert np.abs(res.network.params).max() <= 1 + 1e-6
    assert np.abs(prob.network.params).max() > 1  # the start violated them (Nguyen–Widrow scales up)


def test_equality_constraint_is_honoured():
    prob = tanh_problem()
    prob.subject_to(prob.output([[0.5]]) == -0.5)
    prob.subject_to(prob.output([[0.0]]) == 0.0)
    res = prob.solve("ipopt", tol=1e-6)
    assert res.success, res.message
    np.testing.assert_allclose(res.network.predict([[0.5], [0.0]]).ravel(), [-0.5, 0.0], atol=1e-6)


def test_state_constraint_is_honoured():
    prob = tanh_problem()
    prob.subject_to(prob.states["z1"] <= 0.5)
    assert prob.network.forward_states(prob.X)[0].max() > 0.9  # the start violates it
    res = prob.solve("ipopt", tol=1e-6, max_iter=1000)
    assert res.success, res.message  # measured: 189 iterations, MSE 9.0e-3
    assert res.network.forward_states(prob.X)[0].max() <= 0.5 + 1e-6
    assert res.states["z1"].max() <= 0.5 + 1e-6
    assert res.train_loss < 0.05


def test_add_objective_shrinks_weights():
    plain = tanh_problem().solve("ipopt", tol=1e-6)
    prob = tanh_problem()
    prob.add_objective(10.0 * ca.sumsqr(prob.theta))
    res = prob.solve("ipopt", tol=1e-6)
    assert res.success
    th = res.network.params
    assert np.linalg.norm(th) < 0.2 * np.linalg.norm(plain.network.params)
    # the reported objective includes the term; train_loss does not
    assert res.objective == pytest.approx(res.train_loss + 10.0 * th @ th, rel=1e-6)
    # stationarity of MSE + 10‖θ‖² in θ: compare against the single-shooting gradient
    ss = Problem(prob.network, prob.X, prob.y, formulation="single_shooting")
    ss.add_objective(10.0 * ca.sumsqr(ss.theta))
    ex = ss.nlp.expanded()
    grad = ca.Function("g", [ex.x], [ca.gradient(ex.f, ex.x)])
    assert np.abs(np.asarray(grad(th))).max() < 1e-4


def test_regularizer_changes_the_solution():
    res = tanh_problem(regularizer=L2(1e-2)).solve("ipopt", tol=1e-6)
    assert res.success
    plain = tanh_problem().solve("ipopt", tol=1e-6)
    assert np.linalg.norm(res.network.params) < np.linalg.norm(plain.network.params)


# ------------------------------------------------------------------ status handling
def test_max_iter_gives_status_and_network():
    prob = tanh_problem()
    res = prob.solve("ipopt", max_iter=3)
    assert res.status is Status.MAX_ITER and not res.success
    assert res.raw_status == "Maximum_Iterations_Exceeded"
    assert res.iterations == 3 and "iteration limit" in res.message
    assert isinstance(res.network, Network) and np.all(np.isfinite(res.network.params))
    assert len(res.history) == 4
    assert res.history["objective"][-1] < res.history["objective"][0]


def test_max_iter_in_homotopy_stops_with_max_iter():
    res = relu_problem("relu").solve("ipopt", max_iter=3)
    assert res.status is Status.MAX_ITER and not res.success and res.iterations == 3
    assert len(res.stats["stages"]) == 1


def test_iteration_budget_exhausted_between_stages_is_not_success(relu_solved):
    # a budget of exactly the first stage's iterations ends the homotopy after that stage
    _, full = relu_solved
    n = full.stats["stages"][0]["iterations"]
    res = relu_problem("relu").solve("ipopt", max_iter=n)
    assert res.iterations == n and len(res.stats["stages"]) == 1
    assert res.stats["stages"][0]["status"] == "Solve_Succeeded"
    assert res.status is Status.MAX_ITER and not res.success, res.message


@pytest.mark.parametrize("max_time", [1e-9, 1e-3])
def test_max_time_gives_max_time(max_time):
    res = tanh_problem().solve("ipopt", max_time=max_time)
    assert res.status is Status.MAX_TIME, res.message
    assert not res.success and "time limit" in res.message
    assert isinstance(res.network, Network)


def test_max_time_in_homotopy_gives_max_time():
    res = relu_problem("relu").solve("ipopt", max_time=0.05)
    assert res.status is Status.MAX_TIME, res.message
    assert res.wall_time < 2.0


def test_backend_exception_is_a_failed_result(monkeypatch):
    from nlpnet.solvers import ipopt as ipopt_mod
    prob = tanh_problem()

    def boom(*a, **k):
        raise RuntimeError("simulated back-end crash")

    monkeypatch.setattr(ipopt_mod.ca, "nlpsol", boom)
    res = prob.solve("ipopt", max_iter=5)
    assert res.status is Status.FAILED and "simulated back-end crash" in res.message
    np.testing.assert_array_equal(res.network.params, prob.network.params)


def test_solutions_are_deterministic():
    a = tanh_problem().solve("ipopt", max_iter=40)
    b = tanh_problem().solve("ipopt", max_iter=40)
    assert a.network.params.tobytes() == b.network.params.tobytes()


def test_blas_threads_limits_casadis_openblas_during_the_solve_and_restores_it(monkeypatch):
    threadpoolctl = pytest.importorskip("threadpoolctl")
    from nlpnet.solvers.threads import blas_threads
    prob = tanh_problem()
    prob.solve("ipopt", max_iter=1)  # loads IPOPT and, with it, CasADi's OpenBLAS

    def casadi_blas():
        return [d["num_threads"] for d in threadpoolctl.threadpool_info()
                if d["prefix"].startswith("libcasadi-tp-openblas")]

    if not casadi_blas():
        pytest.skip("this casadi build does not bundle OpenBLAS")
    seen = []
    import dataclasses

    from nlpnet import solvers
    spec = solvers.get_solver("ipopt")
    monkeypatch.setitem(solvers._REGISTRY, "ipopt", dataclasses.replace(
        spec, run=lambda *a: (seen.append(casadi_blas()), spec.run(*a))[1]))
    with blas_threads(2):  # a known setting to restore, whatever the machine's default
        before = casadi_blas()
        res = prob.solve("ipopt", max_iter=3, blas_threads=1)
        assert res.status is Status.MAX_ITER
        assert seen == [[1] * len(before)] and before != seen[0]
        assert casadi_blas() == before
        prob.solve("ipopt", max_iter=1, blas_threads=None)
        assert seen[-1] == before


@pytest.mark.parametrize("bad,exc", [(0, ValueError), (-1, ValueError), (1.5, TypeError), ("2", TypeError)])
def test_blas_threads_is_validated(bad, exc):
    with pytest.raises(exc, match="^blas_threads"):
        tanh_problem().solve("ipopt", blas_threads=bad)


def test_mumps_scaling_option_maps_to_ipopt_options():
    from nlpnet.solvers.ipopt import IpoptOptions
    off = IpoptOptions().base_options()
    assert off["mumps_scaling"] == 0 and off["mumps_permuting_scaling"] == 0
    on = IpoptOptions(mumps_scaling=True).base_options()
    assert "mumps_scaling" not in on and "mumps_permuting_scaling" not in on
    # an explicit IPOPT option still wins
    assert IpoptOptions(ipopt={"mumps_scaling": 77}).base_options()["mumps_scaling"] == 77
