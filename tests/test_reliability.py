"""Issue 10's reproducers: budgets that hold, statuses that match the returned point, Ctrl-C.

Each test is one case from the issue (or the brief), run on the structured core; wall-time
assertions allow the benchmark's margin (20 % + 0.5 s) and are kept small.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

import nlpnet
from nlpnet import Dense, Network, Problem, Status
from nlpnet.solvers.setup import SetupTimeout, first_iteration_seconds, run_setup, symbolic_seconds
from nlpnet.solvers import get_solver

ROOT = Path(__file__).resolve().parents[1]
SOLVERS = sorted(nlpnet.available_solvers())


def margin(max_time: float) -> float:
    """The budget a run may use: max_time plus the robustness benchmark's margin."""
    return 1.2 * max_time + 0.5


# ------------------------------------------------------------------ budgets
def test_ipopt_max_iter_zero_builds_nothing():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(60, 3)), rng.normal(size=(60, 2))
    # an architecture no other test uses, so its symbolic Hessian (about 1 s) is not cached
    prob = Problem(Network([3, 8, 8, 7, 2], activation="tanh", seed=0), X, y, formulation="single_shooting")
    t0 = time.perf_counter()
    res = prob.solve("ipopt", max_iter=0, max_time=0.5)
    assert time.perf_counter() - t0 < 0.5
    assert res.status is Status.MAX_ITER and res.iterations == 0
    np.testing.assert_array_equal(res.network.params, prob.network.params)
    assert "ipopt" not in prob.nlp.cache and "hess" not in prob.nlp.samples.functions._functions
    assert len(res.history) == 1 and res.history["iteration"][0] == 0


@pytest.mark.parametrize("solver", SOLVERS)
def test_max_iter_zero_returns_the_start_point_for_every_solver(solver):
    X, y = nlpnet.sine_data(12, seed=0)
    if "penalized_lifting" in get_solver(solver).requires:          # iALAM reads seed 002's model only
        prob = Problem(Network([1, 4, 1], activation=("leaky_relu", 0.1), seed=0), X, y, formulation="penalized_lifting")
    else:
        prob = Problem(Network([1, 4, 1], activation="tanh", seed=0), X, y)
    extra = {"lbfgs_iter": 0} if solver == "adam_lbfgs" else {}    # its L-BFGS phase has its own budget
    res = prob.solve(solver, max_iter=0, **extra)
    assert res.iterations == 0 and res.status is Status.MAX_ITER, res.message
    np.testing.assert_array_equal(res.network.params, prob.network.params)


def test_ipopt_set_up_that_cannot_fit_is_not_started():
    # the issue: 5-12-12-12-12-3 tanh, N = 120, multiple shooting, max_time = 2 took 248 s for 0 iterations;
    # one KKT factorization of this problem costs about 5e9 flops
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(120, 5)), rng.normal(size=(120, 3))
    prob = Problem(Network([5, 12, 12, 12, 12, 3], activation="tanh", seed=0), X, y)
    assert first_iteration_seconds(prob.nlp) > 2.0
    res = prob.solve("ipopt", max_iter=50, max_time=2.0)
    assert res.wall_time < margin(2.0)
    assert res.status is Status.MAX_TIME and res.iterations == 0
    assert "not started" in res.message and "raise max_time" in res.message
    np.testing.assert_array_equal(res.network.params, prob.network.params)


def test_symbolic_set_up_beyond_max_time_is_not_started():
    # single shooting 4-16-16-5-16-3: its dense per-sample Hessian takes tens of seconds to build
    rng = np.random.default_rng(0)
    net = Network([4, 16, 16, 5, 16, 3], activation="softplus", seed=0)
    prob = Problem(net, rng.normal(size=(20, 4)), rng.normal(size=(20, 3)), formulation="single_shooting")
    assert symbolic_seconds(prob.nlp.samples) > 5.0
    res = prob.solve("ipopt", max_time=5.0)
    assert res.status is Status.MAX_TIME and res.wall_time < 1.0 and "not started" in res.message
    assert "hess" not in prob.nlp.samples.functions._functions


def test_a_long_set_up_is_announced_before_it_starts(monkeypatch):
    from nlpnet.solvers import setup
    monkeypatch.setattr(setup, "WARN_SECONDS", 0.0)
    X, y = nlpnet.sine_data(10, seed=0)
    with pytest.warns(setup.SlowSetupWarning, match=r"set-up and first iteration are estimated at .* s"):
        res = Problem(Network([1, 3, 1], seed=0), X, y).solve("ipopt", max_iter=2)
    assert res.iterations == 2


def test_alm_with_inner_ipopt_honours_max_time():
    # the case took 15.5 s for max_time = 1 (its subproblem set-up was an SX Hessian of the whole NLP)
    X = np.linspace(0, 3, 64).reshape(-1, 1)
    s = np.sign(np.sin(3 * X))
    net = Network([Dense(12, "softplus"), Dense(8, "sigmoid"), Dense(2, "tanh")], n_inputs=1, seed=0)
    res = Problem(net, X, np.hstack([s, -s])).solve("alm", inner="ipopt", max_outer=6, max_inner=7, max_time=1.0)
    assert res.wall_time < margin(1.0), res.message
    assert res.status in (Status.MAX_TIME, Status.MAX_ITER) or res.success


def test_alm_inner_ipopt_matches_the_expanded_subproblem():
    """The per-sample assembly of L_β and its derivatives equals CasADi's AD of the expanded graph."""
    import casadi as ca
    from nlpnet.solvers.alm.inner import IpoptInner
    from nlpnet.solvers.alm.ipopt_subproblem import IpoptSubproblem
    X, y = nlpnet.sine_data(7, seed=1)
    prob = Problem(Network([1, 3, 2, 1], activation="tanh", seed=1), X, y, regularizer=nlpnet.L2(1e-2))
    prob.subject_to(prob.output(np.array([[0.5]])) == 0.1)
    nlp = prob.nlp
    sub = IpoptSubproblem(nlp, IpoptInner(), 7.0)
    ex = nlp.expanded()
    lam, beta = ca.SX.sym("lam", nlp.n_g), ca.SX.sym("beta")
    h = ex.g - nlp.lbg
    L = 0.5 * 7.0 * ex.f + ca.dot(lam, h) + 0.5 * beta * ca.dot(h, h)
    ref = ca.Function("ref", [ex.x, lam, beta], [L, ca.gradient(L, ex.x), ca.triu(ca.hessian(L, ex.x)[0])])
    rng = np.random.default_rng(3)
    u, lv, b = nlp.x0 + 0.1 * rng.normal(size=nlp.n_x), rng.normal(size=nlp.n_g), 5.0
    par = np.concatenate([lv, [b], nlp.p0])
    f, g = sub.grad_f(u, par)
    H = sub.hess(u, par, 1.0, np.zeros(0))
    fr, gr, Hr = ref(u, lv, b)
    assert float(f) == pytest.approx(float(fr), rel=1e-12)
    np.testing.assert_allclose(np.asarray(g).ravel(), np.asarray(gr).ravel(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ca.DM(H).full(), ca.DM(Hr).full(), rtol=1e-10, atol=1e-10)


def test_run_setup_returns_at_the_deadline_and_passes_errors():
    t0 = time.perf_counter()
    with pytest.raises(SetupTimeout):
        run_setup(lambda: time.sleep(3.0), deadline=time.perf_counter() + 0.2)
    assert time.perf_counter() - t0 < 1.0
    assert run_setup(lambda: 42) == 42
    with pytest.raises(ZeroDivisionError):
        run_setup(lambda: 1 / 0)


# ------------------------------------------------------------------ honest statuses
def test_back_propagation_stops_on_overflow_with_the_best_finite_weights():
    # the issue: returned max_iter with an infinite training loss and weights near 1e78
    X = np.linspace(-1e3, 1e3, 30).reshape(-1, 1)
    prob = Problem(Network([1, 4, 1], "relu", seed=0), X, 3 * X, formulation="single_shooting")
    for solver in ("gd", "momentum", "nesterov", "ssa1"):
        res = prob.solve(solver, learning_rate=1.0, max_epochs=3)
        assert res.status is Status.NUMERICAL_ERROR and res.raw_status == "non_finite", (solver, res.message)
        assert np.isfinite(res.train_loss) and np.max(np.abs(res.network.params)) < 1e3
        assert res.train_loss <= prob.mse(prob.network) * (1 + 1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_alm_status_is_decided_on_the_reported_violation(seed):
    # the issue: inputs ×300 into a 2-6-6-1 leaky ReLU net, 'success' with constraint_violation 0.032
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, (30, 2)) * 300
    y = np.sin(X[:, :1] / 300) + X[:, 1:] / 300
    res = Problem(Network([2, 6, 6, 1], ("leaky_relu", 0.1), seed=seed), X, y).solve("alm")
    last = res.history["violation"][-1]
    if res.success:
        assert res.constraint_violation <= 1e-3 * (1 + 1e-9)      # acceptable_feas_tol
    # the violation the stopping test used is the one reported (natural residual, state units)
    assert res.constraint_violation == pytest.approx(last, rel=1e-6, abs=1e-12)


def test_ipopt_at_a_limit_returns_the_best_feasible_network():
    X, y = nlpnet.sine_data(20, seed=1)
    prob = Problem(Network([1, 4, 4, 1], activation="relu", init="he_uniform", seed=1, input_range=(0, 1)), X, y)
    res = prob.solve("ipopt", max_iter=25)
    assert res.status is Status.MAX_ITER
    h = res.history
    # every iterate's network (weights θ, states by a forward pass) is feasible here: no user rows
    assert res.train_loss == pytest.approx(np.min(h["loss"]), rel=1e-12)
    assert res.constraint_violation <= 1e-12
    assert res.train_loss < h["loss"][-1]


def test_ipopt_validation_stopping_restores_the_best_validation_iterate():
    X, y = nlpnet.sin_x2_data(30, seed=2)
    Xv, yv = nlpnet.sin_x2_data(12, seed=5)
    prob = Problem(Network([1, 8, 8, 1], activation="tanh", seed=2), X / np.pi, y, X_val=Xv / np.pi + 0.01,
                   y_val=yv)
    res = prob.solve("ipopt", patience=5, tol=1e-12, max_iter=2000)
    assert res.raw_status == "Validation_Stop" and res.status is Status.STALLED, res.message
    h = res.history
    best = int(np.argmin(h["val_loss"]))
    assert res.iterations - h["iteration"][best] >= 5
    assert res.val_loss == pytest.approx(h["val_loss"][best], rel=1e-9)
    kept = prob.solve("ipopt", patience=5, tol=1e-12, max_iter=2000, restore_best=False)
    assert kept.iterations == res.iterations and kept.val_loss >= res.val_loss


def test_readme_output_bound_problem_converges_quickly():
    """The README's problem: ReLU by complementarity with an output bound on a grid. IPOPT used to
    spend 3000 iterations in the second relaxed stage and return a network with MSE 1.8e5."""
    X, y = nlpnet.sine_data(20, seed=0)
    Xtr, Xte, ytr, yte = nlpnet.train_test_split(X, y, 0.2, seed=0)
    net = Network([1, 8, 8, 1], activation="relu", init="nguyen_widrow", seed=0, input_range=(0, 1))
    prob = Problem(net, Xtr, ytr, X_val=Xte, y_val=yte)
    grid = np.linspace(0, 1, 50).reshape(-1, 1)
    prob.subject_to(prob.output(grid) <= 0.05)
    res = prob.solve("ipopt")
    assert res.success and res.train_loss < 0.01 and res.iterations < 500, res.message
    assert res.network.predict(grid).max() <= 0.05 + 1e-6 and res.constraint_violation < 1e-6


# ------------------------------------------------------------------ Ctrl-C with a real SIGINT
def _interrupt(script: str, wait_for, delay: float = 0.0, timeout: float = 60.0):
    """Run ``script`` in a subprocess, send SIGINT ``delay`` seconds after a line of its stderr
    satisfies ``wait_for``, and return (stdout, seconds from the signal to the exit, return code)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1")
    proc = subprocess.Popen([sys.executable, "-c", textwrap.dedent(script)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env, cwd=str(ROOT))
    t_end = time.monotonic() + timeout
    try:
        for line in proc.stderr:
            if wait_for(line):
                break
            if time.monotonic() > t_end:
                raise AssertionError("the subprocess never reached the point to interrupt")
        else:
            raise AssertionError(f"the subprocess ended first: {proc.communicate()}")
        time.sleep(delay)
        t0 = time.monotonic()
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=30)
        return out, time.monotonic() - t0, proc.returncode
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_ctrl_c_during_ipopt_iterations_gives_user_stop():
    out, seconds, rc = _interrupt("""
        import numpy as np, nlpnet
        X, y = nlpnet.sin_x2_data(40, seed=0)
        prob = nlpnet.Problem(nlpnet.Network([1, 8, 8, 1], activation="tanh", seed=0), X / np.pi, y)
        res = prob.solve("ipopt", tol=1e-14, max_iter=100000, verbose=1, ipopt={"acceptable_iter": 0})
        print("STATUS", res.status.value, res.raw_status, res.iterations, np.isfinite(res.train_loss))
    """, wait_for=lambda line: line.startswith("ipopt:") and line.split()[1].isdigit() and int(line.split()[1]) >= 20)
    assert rc == 0 and "STATUS user_stop User_Requested_Stop" in out, out
    assert out.strip().endswith("True") and seconds < 10


def test_ctrl_c_during_the_symbolic_set_up_is_honoured_at_once():
    # a single-shooting Hessian that takes tens of seconds to build symbolically
    out, seconds, rc = _interrupt("""
        import sys, numpy as np, nlpnet
        rng = np.random.default_rng(0)
        X, y = rng.normal(size=(20, 4)), rng.normal(size=(20, 3))
        net = nlpnet.Network([4, 16, 16, 5, 16, 3], activation="softplus", seed=0)
        prob = nlpnet.Problem(net, X, y, formulation="single_shooting")
        print("building", file=sys.stderr, flush=True)
        import warnings; warnings.simplefilter("ignore")
        res = prob.solve("ipopt", max_iter=5)
        print("STATUS", res.status.value)
    """, wait_for=lambda line: "building" in line, delay=1.5)
    assert rc == 0 and "STATUS user_stop" in out, out
    assert seconds < 5.0
