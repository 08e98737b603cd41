"""One contract, every registered solver (rockit's test_methods.py is the model).

Problem factories live in one place; every solver in ``available_solvers()`` runs on the ones
it accepts with a small budget, and the result contract is checked: a ``Status``, success only
with a finite loss, counters, the shared history columns, ``setup_time``, determinism for a
fixed seed, and a clear error for every kind of bad option.
"""
from __future__ import annotations

import numpy as np
import pytest

import nlpnet
from nlpnet import Network, Problem, Status
from nlpnet.solvers import get_solver

SOLVERS = sorted(nlpnet.available_solvers())
COMMON = ("iteration", "time", "objective", "loss", "violation")


def tanh_ms():
    X, y = nlpnet.sin_x2_data(16, seed=1)
    return Problem(Network([1, 5, 5, 1], activation="tanh", seed=0), X / np.pi, y,
                   X_val=X[::3] / np.pi + 0.01, y_val=y[::3])


def relu_ms():
    X, y = nlpnet.abs_data(12)
    return Problem(Network([1, 4, 4, 1], activation="relu", seed=2), X, y)


def tanh_ss():
    X, y = nlpnet.sine_data(14, seed=3)
    return Problem(Network([1, 4, 1], activation="tanh", seed=4), X, y, formulation="single_shooting")


def leaky_pp():
    """Seed 002's model (PP): leaky ReLU, group lasso, validation data as the test set."""
    X, y = nlpnet.sin_x2_data(16, seed=1)
    return Problem(Network([1, 5, 5, 1], activation=("leaky_relu", 0.1), init="he_normal", seed=0), X / np.pi, y,
                   formulation=nlpnet.PenalizedLifting(), regularizer=nlpnet.GroupLasso(1e-3),
                   X_val=X[::3] / np.pi + 0.01, y_val=y[::3])


FACTORIES = {"tanh_ms": tanh_ms, "relu_ms": relu_ms, "tanh_ss": tanh_ss, "leaky_pp": leaky_pp}
OWN = {"ms": "multiple_shooting", "ss": "single_shooting", "pp": "penalized_lifting"}


def _cases():
    for name in SOLVERS:
        spec = get_solver(name)
        for fname, factory in FACTORIES.items():
            own = OWN[fname.rsplit("_", 1)[1]]
            if (spec.requires and own not in spec.requires) or (own == "penalized_lifting" and not spec.requires):
                continue            # (PP) has no CasADi rows: only the solvers that require it read it
            yield pytest.param(name, fname, id=f"{name}-{fname}")


def own_problem(spec):
    """A small problem in the formulation the solver reads."""
    if "penalized_lifting" in spec.requires:
        return leaky_pp()
    return tanh_ms() if not spec.formulation else tanh_ss()


BUDGET = {"ipopt": {"max_iter": 15}, "alm": {"max_iter": 3}, "lm_backprop": {"max_iter": 5},
          "lbfgs": {"max_iter": 10}, "adam_lbfgs": {"max_iter": 5, "lbfgs_iter": 5}}


@pytest.mark.parametrize("solver, factory", list(_cases()))
def test_result_contract(solver, factory):
    prob = FACTORIES[factory]()
    opts = BUDGET.get(solver, {"max_iter": 8})
    res = prob.solve(solver, seed=3, **opts)
    spec = get_solver(solver)
    assert isinstance(res.status, Status) and res.raw_status in spec.statuses
    assert res.status is spec.statuses[res.raw_status] or res.status in (Status.STALLED, Status.NUMERICAL_ERROR)
    assert isinstance(res.message, str) and res.message
    if res.success:
        assert np.isfinite(res.train_loss)
    assert np.isfinite(res.train_loss) or res.status is Status.NUMERICAL_ERROR
    assert isinstance(res.iterations, int) and 0 <= res.iterations <= opts["max_iter"] + opts.get("lbfgs_iter", 0)
    assert res.wall_time > 0 and "setup_time" in res.stats and res.stats["setup_time"] >= 0
    h = res.history
    assert len(h) > 0 and set(COMMON) <= set(h.keys())
    assert np.all(np.diff(h["time"]) >= 0) and np.all(np.isfinite(h["objective"]))
    if prob.X_val is not None:
        assert "val_loss" in h
    if spec.family != "ipopt":     # IPOPT's rows also hold each stage's start point
        assert len(h) == res.iterations
        np.testing.assert_array_equal(h["iteration"], np.arange(1, len(h) + 1))
    assert res.train_loss == pytest.approx(prob.mse(res.network), rel=1e-12)
    again = FACTORIES[factory]().solve(solver, seed=3, **opts)
    np.testing.assert_array_equal(again.x, res.x)          # same seed, same numbers
    assert again.status is res.status and again.iterations == res.iterations


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("bad, exc, match", [
    ({"max_itr": 5}, ValueError, r"unknown option\(s\) 'max_itr'.*did you mean 'max_iter'\?"),
    ({"max_iter": "5"}, TypeError, r"^max_iter: expected an integer"),
    ({"max_iter": -1}, ValueError, r"^max_iter: must be an integer"),
    ({"max_iter": 2.0}, TypeError, r"^max_iter: expected an integer"),
    ({"max_time": -1.0}, ValueError, r"^max_time: must be a number > 0"),
    ({"max_time": float("nan")}, ValueError, r"^max_time: must be a finite number"),
    ({"verbose": "no"}, TypeError, r"^verbose: expected an integer"),
    ({"seed": -1}, ValueError, r"^seed: must be an integer ≥ 0"),
    ({"seed": "a"}, TypeError, r"^seed: expected an integer"),
    ({"memory_limit": 0}, ValueError, r"^memory_limit: must be a number > 0"),
    ({"blas_threads": 0}, ValueError, r"^blas_threads: must be an integer ≥ 1"),
])
def test_bad_options_are_refused_naming_them(solver, bad, exc, match):
    prob = own_problem(get_solver(solver))
    with pytest.raises(exc, match=match):
        prob.solve(solver, **bad)


@pytest.mark.parametrize("solver", SOLVERS)
def test_shared_vocabulary_and_numpy_scalars(solver):
    prob = own_problem(get_solver(solver))
    res = prob.solve(solver, max_iter=np.int64(2), max_time=np.float32(30.0), seed=np.int64(1), verbose=0)
    assert isinstance(res.status, Status) and res.iterations <= 2 + (5 if solver == "adam_lbfgs" else 0) * 100


def test_aliases_are_accepted_and_conflicts_refused():
    prob = tanh_ss()
    a = prob.solve("adam", epochs=3)
    b = prob.solve("adam", max_epochs=3)
    c = prob.solve("adam", max_iter=3)
    assert a.iterations == b.iterations == c.iterations == 3
    np.testing.assert_array_equal(a.x, c.x)
    with pytest.raises(ValueError, match=r"max_epochs: is another name for 'max_iter'"):
        prob.solve("adam", max_iter=3, max_epochs=3)
    assert tanh_ms().solve("alm", max_outer=2).iterations <= 2


def test_size_guard_refuses_ipopt_on_a_large_network_before_building_anything():
    rng = np.random.default_rng(0)
    X, y = rng.random((200, 784)), np.eye(10)[rng.integers(0, 10, 200)]
    prob = Problem(Network([784, 100, 50, 10], activation="relu", seed=0), X, y, relu="equality")
    with pytest.raises(ValueError, match=r"^memory_limit: solver 'ipopt' on this multiple_shooting problem .*"
                                         r"solve\('alm'\)"):
        prob.solve("ipopt")
    assert "ipopt" not in prob.nlp.cache            # nothing was built
    with pytest.raises(ValueError, match=r"memory_limit: solver 'lm_backprop'"):
        prob.solve("lm_backprop", memory_limit=1e8)
