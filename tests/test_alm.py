"""The ``alm`` solver end to end: rules, inner solvers, refusals, constraints, stopping, options.

Small problems (tanh 1-4-4-1 on ``sin_x2_data``-like data, N = 12) keep the file fast;
the Table 4.1 protocol itself is measured by ``experiments/table_4_1.py``.
"""
from __future__ import annotations

import numpy as np
import pytest

import nlpnet
from nlpnet import Network, Problem, Status
from nlpnet.solvers.alm import AlmOptions

from conftest import make_data


def small(act="tanh", n=12, seed=0, **kw):
    X, y = nlpnet.sin_x2_data(n, seed=100 + n)
    X = X / np.pi                        # inputs in [0, 1] keep the tiny net well scaled
    net = Network([1, 4, 4, 1], activation=act, seed=seed)
    if act in ("relu", "leaky_relu") or (isinstance(act, tuple) and act[0] == "leaky_relu"):
        kw.setdefault("relu", "equality")
        kw.setdefault("leaky_relu", "equality")
    return Problem(net, X, y, **kw)


def initial_mse(prob):
    return prob.mse(prob.network)


@pytest.mark.parametrize("rule", ["thesis", "classic", "liu"])
def test_each_rule_converges(rule):
    prob = small()
    res = prob.solve("alm", rule=rule, tau=None, max_outer=12, max_inner=40, multipliers="zeros")
    assert res.status in (Status.SUCCESS, Status.ACCEPTABLE, Status.MAX_ITER, Status.STALLED)
    assert res.train_loss < 0.5 * initial_mse(prob)
    assert res.constraint_violation < 1e-3        # Liu's own stop (ρ > 10³ρ₀) ends near 1e-4
    h = res.history
    assert len(h) == res.iterations and np.all(np.isfinite(h["h_norm"]))
    for col in ("iteration", "time", "objective", "loss", "violation", "beta", "h_norm", "grad_norm",
                "inner_iterations", "jacobian_evals"):
        assert col in h


CASES = [  # (activation, problem keywords, solve keywords)
    ("tanh", {}, {}),
    ("sigmoid", {}, {}),
    ("softplus", {}, {}),
    ("relu", {}, {"multipliers": "zeros"}),
    (("leaky_relu", 0.1), {}, {}),
    ("tanh", {"regularizer": nlpnet.L2(1e-4)}, {}),
    ("tanh", {"regularizer": nlpnet.GroupLasso(1e-4)}, {}),
]


@pytest.mark.parametrize("inner", ["lm", "gauss_newton", "ipopt"])
@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c[0] if isinstance(c[0], str) else c[0][0]}"
                                                      f"{'-' + type(c[1]['regularizer']).__name__ if c[1] else ''}")
def test_case_table_over_inner_solvers(case, inner):
    act, pkw, skw = case
    prob = small(act, **pkw)
    skw = {"multipliers": "zeros", **skw}     # λ₀ = 0: the start is then a fair reference point
    res = prob.solve("alm", inner=inner, max_outer=6, max_inner=40, **skw)
    assert res.status != Status.FAILED, res.message
    assert np.isfinite(res.train_loss)
    assert res.train_loss <= initial_mse(prob) + 1e-12
    assert res.stats["inner"] == inner


def test_equality_constraint_from_subject_to():
    prob = small()
    x0 = np.array([[0.5]])
    prob.subject_to(prob.output(x0) == 0.25)
    res = prob.solve("alm", rule="classic", tau=None, max_outer=10)
    assert abs(res.network.predict(x0)[0, 0] - 0.25) < 1e-4
    assert res.constraint_violation < 1e-4


@pytest.mark.parametrize("activation, states", [("relu", ["z1", "z2"]), (("leaky_relu", 0.1), ["u1", "u2", "v1", "v2"])])
def test_complementarity_lifting_is_trained_through_its_equality_equivalent(activation, states):
    X, y = make_data(12, 1, 1)
    net = Network([1, 4, 4, 1], activation=activation, seed=0)
    comp = Problem(net, X, y)                                        # complementarity rows (default)
    eq = Problem(net, X, y, relu="equality", leaky_relu="equality")
    rc, re = comp.solve("alm", max_outer=6), eq.solve("alm", max_outer=6)
    assert rc.status is re.status and "complementarity layers" in rc.message
    assert rc.train_loss == pytest.approx(re.train_loss, rel=1e-12)
    assert rc.train_loss < 0.5 * initial_mse(comp)
    # reported in the problem's own variables: its x, its states, its (ε = 0) constraints
    assert rc.x.shape == (comp.nlp.n_x,) and sorted(rc.states) == states
    # the complementarity rows (z − a ≥ 0, z(z − a) ≤ 0, z ≥ 0) are violated by at most the
    # lifted equations' residual times the size of the states
    assert rc.constraint_violation <= 10 * re.constraint_violation + 1e-12
    if activation != "relu":   # v = max(u, 0.1 u) up to the lifted equations' residual
        u, v = rc.states["u1"], rc.states["v1"]
        assert np.max(np.abs(v - np.maximum(u, 0.1 * u))) <= rc.constraint_violation + 1e-12


def test_inequality_refused_points_to_ipopt():
    prob = small()
    prob.subject_to(prob.output(np.array([[0.5]])) <= 1.0)
    with pytest.raises(ValueError, match="ipopt"):
        prob.solve("alm")


def test_state_constraint_needs_ipopt_inner():
    prob = small()
    z1 = prob.states["z1"]
    prob.subject_to(z1[0, 0] == 0.1)
    with pytest.raises(ValueError, match="inner='ipopt'"):
        prob.solve("alm")
    res = prob.solve("alm", inner="ipopt", tau=None, max_outer=6)
    assert abs(res.states["z1"][0, 0] - 0.1) < 1e-4


def test_single_shooting_refused():
    X, y = make_data(8, 1, 1)
    prob = Problem(Network([1, 3, 1], seed=0), X, y, formulation="single_shooting")
    with pytest.raises(ValueError, match="multiple_shooting"):
        prob.solve("alm")


@pytest.mark.parametrize("opts, name", [
    ({"rule": "nope"}, "rule"), ({"inner": "bfgs"}, "inner"), ({"beta": -1.0}, "beta"),
    ({"tau": -1.0}, "tau"), ({"max_outer": -1}, "max_outer"), ({"multipliers": "ones"}, "multipliers"),
    ({"linear_solver": "qr"}, "linear_solver"), ({"rule_options": {"gamma": 2}}, "rule_options"),
    ({"rule": "liu", "rule_options": {"eta1": 2.0}}, "eta1"), ({"grad_tol": 0.0}, "grad_tol"),
    ({"max_time": -1}, "max_time"), ({"bogus": 1}, "bogus"), ({"objective_scale": "x"}, "objective_scale"),
])
def test_bad_options_name_the_option(opts, name):
    with pytest.raises((ValueError, TypeError), match=name):
        small().solve("alm", **opts)


def test_deterministic():
    a = small("relu").solve("alm", multipliers="normal", seed=3, max_outer=4)
    b = small("relu").solve("alm", multipliers="normal", seed=3, max_outer=4)
    np.testing.assert_array_equal(a.x, b.x)
    assert a.train_loss == b.train_loss


def test_validation_early_stopping_restores_best():
    X, y = nlpnet.sin_x2_data(30, seed=5)
    Xv, yv = nlpnet.sin_x2_data(13, seed=6)
    prob = Problem(Network([1, 8, 8, 1], seed=1), X, y, X_val=Xv + 0.05, y_val=yv)
    res = prob.solve("alm", tau=None, patience=1, max_outer=12)
    h = res.history
    best = np.nanmin(h["val_loss"])
    assert res.val_loss == pytest.approx(best, rel=1e-9)
    if res.status == Status.STALLED:
        assert "validation" in res.message


def test_limits_and_never_raises():
    prob = small()
    res = prob.solve("alm", max_outer=1, max_inner=2)
    assert res.status == Status.MAX_ITER and res.iterations == 1
    res = prob.solve("alm", max_time=1e-9)
    assert res.status in (Status.MAX_TIME, Status.MAX_ITER, Status.ACCEPTABLE, Status.STALLED)


def test_thesis_reference_fix():
    """With the literal thesis reference ‖h(u_0)‖ (round-off at the feasible start) the dual
    step σ is ~0; the default reference gives σ_1 = 1 so the multipliers move."""
    prob = small()
    lit = prob.solve("alm", tau=None, max_outer=3, multipliers="zeros", rule_options={"reference": "start"})
    fix = prob.solve("alm", tau=None, max_outer=3, multipliers="zeros")
    assert lit.history["sigma"][0] < 1e-6
    assert fix.history["sigma"][0] == pytest.approx(1.0)
    assert np.linalg.norm(fix.stats["multipliers"]) > 1e3 * np.linalg.norm(lit.stats["multipliers"])


def test_cg_path_matches_direct_path():
    prob = small()
    a = prob.solve("alm", linear_solver="direct", tau=None, max_outer=4)
    b = prob.solve("alm", linear_solver="cg", cg_tol=1e-12, cg_maxiter=2000, tau=None, max_outer=4)
    assert b.stats["linear_solver"] == "cg"
    assert abs(a.train_loss - b.train_loss) < 1e-6 * max(1.0, a.train_loss)


def test_options_dataclass_accepted():
    res = small().solve("alm", options=AlmOptions(max_iter=2))
    assert res.iterations <= 2
