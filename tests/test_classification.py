"""Classification: the cross-entropy loss, its Gauss–Newton model, accuracy everywhere.

* the loss, its gradient and its Gauss–Newton weight against CasADi's AD and finite
  differences, stable for large logits;
* the ALM's weighted Levenberg–Marquardt step equals a dense solve of the weighted damped system;
* every solver family trains a small classifier and reports accuracy in the result and history;
* labels as targets, early stopping on validation accuracy, input transforms carried by the net.
"""
from __future__ import annotations

import casadi as ca
import numpy as np
import pytest
from conftest import dm, fd_gradient

import nlpnet
from nlpnet import CrossEntropy, Network, Problem
from nlpnet.solvers.alm.block_solve import solve_damped
from nlpnet.solvers.alm.inner import AugmentedResidual
from nlpnet.solvers.alm.structure import LiftedStructure


def _blobs(n=60, d=4, k=3, seed=0, spread=1.5):
    """k Gaussian blobs in d dimensions: labels and inputs (rows)."""
    rng = np.random.default_rng(seed)
    centres = spread * rng.standard_normal((k, d))
    labels = np.arange(n) % k
    return centres[labels] + 0.5 * rng.standard_normal((n, d)), labels


# ------------------------------------------------------------------ the loss
def test_cross_entropy_matches_casadi_and_finite_differences():
    rng = np.random.default_rng(1)
    O = 3 * rng.standard_normal((7, 4))
    Y = np.eye(4)[rng.integers(0, 4, 7)]
    loss = CrossEntropy()
    o, y = ca.SX.sym("o", 4), ca.SX.sym("y", 4)
    f = ca.Function("ce", [o, y], [loss.casadi(o, y), ca.gradient(loss.casadi(o, y), o),
                                   ca.hessian(loss.casadi(o, y), o)[0]])
    T, Lf = loss.gauss_newton(O, Y)
    for j in range(7):
        v, g, H = f(O[j], Y[j])
        assert loss.values(O[j:j + 1], Y[j:j + 1])[0] == pytest.approx(float(v), rel=1e-13)
        np.testing.assert_allclose(loss.gradient(O[j:j + 1], Y[j:j + 1])[0], dm(g).ravel(), rtol=0, atol=1e-13)
        np.testing.assert_allclose(loss.gradient(O[j:j + 1], Y[j:j + 1])[0],
                                   fd_gradient(lambda q: loss.values(q[None], Y[j:j + 1])[0], O[j]), atol=1e-8)
        G = Lf[j].T @ Lf[j]
        np.testing.assert_allclose(G, dm(H) / 2, rtol=0, atol=1e-13)               # G = H/2
        np.testing.assert_allclose(G @ T[j], dm(g).ravel() / 2, rtol=0, atol=1e-12)  # G t = g/2
    assert loss.total(O, Y) == pytest.approx(np.sum(loss.values(O, Y)))


def test_cross_entropy_is_stable_for_large_logits():
    loss = CrossEntropy()
    O = np.array([[1000.0, -1000.0, 0.0], [-800.0, -800.0, -799.0]])
    Y = np.eye(3)[[1, 2]]
    v = loss.values(O, Y)
    assert np.all(np.isfinite(v)) and v[0] == pytest.approx(2000.0) and v[1] == pytest.approx(np.log(1 + 2 / np.e))
    assert np.all(np.isfinite(loss.gradient(O, Y)))
    T, Lf = loss.gauss_newton(O, Y)
    assert np.all(np.isfinite(T)) and np.all(np.isfinite(Lf))


def test_mse_gauss_newton_model_is_the_residual_itself():
    O, Y = np.arange(6.0).reshape(2, 3), np.ones((2, 3))
    T, Lf = nlpnet.MSE().gauss_newton(O, Y)
    assert Lf is None and np.array_equal(T, O - Y)


# ------------------------------------------------------------------ the ALM's weighted step
@pytest.mark.parametrize("damping", ["identity", "layer"])
@pytest.mark.parametrize("method", ["direct", "cg"])
@pytest.mark.parametrize("mu", [1e-3, 1.0])
def test_weighted_lm_step_equals_a_dense_solve(damping, method, mu):
    X, labels = _blobs(9, 3, 3)
    net = Network([3, 4, 3, 3], activation="tanh", seed=0)
    nlp = Problem(net, X, labels, loss="cross_entropy", regularizer=nlpnet.L2(1e-2)).nlp
    st = LiftedStructure(nlp)
    lam = np.random.default_rng(2).standard_normal(nlp.n_g)
    lin = {"method": method, "damping": damping, "cg_tol": 1e-14, "cg_maxiter": 3000, "preconditioner": "auto"}
    model = AugmentedResidual(st, 5.0, lam, lin, st.N)
    x = nlp.x0 + 0.05 * np.random.default_rng(3).standard_normal(nlp.n_x)
    r = model.residual(x)
    jac = model.jacobian(x)
    d, _ = solve_damped(jac, r.loc, r.glob, mu, method, damping, 1e-14, 3000, "auto", r.Lf)
    J = jac.dense()
    W = np.eye(J.shape[0])
    for j in range(st.N):                                   # output rows weighted by G_j = L_jᵀL_j
        o = j * st.n_r + st.n_s + np.arange(st.n_out)
        W[np.ix_(o, o)] = r.Lf[j].T @ r.Lf[j]
    D = np.zeros((st.n_x, st.n_x))
    D[:st.n_th, :st.n_th] = np.eye(st.n_th)
    B = jac.lj.B_dense()
    for j in range(st.N):
        blk = slice(st.n_th + j * st.n_s, st.n_th + (j + 1) * st.n_s)
        T = B[j, :st.n_s]
        D[blk, blk] = np.eye(st.n_s) if damping == "identity" else T.T @ T
    rv = np.concatenate([r.loc.ravel(), r.glob])
    H = J.T @ W @ J + mu * D
    d_ref = np.linalg.solve(H, -J.T @ W @ rv)
    np.testing.assert_allclose(d, d_ref, rtol=0, atol=1e-9 * max(1.0, np.abs(d_ref).max()))
    # the model's gradient is the true gradient of the subproblem's cost
    g = model.grad(jac, r)

    def cost(v):
        return model.residual(v).cost
    np.testing.assert_allclose(g, fd_gradient(cost, x, h=1e-6), rtol=0, atol=1e-6 * max(1.0, np.abs(g).max()))


# ------------------------------------------------------------------ every solver classifies
@pytest.mark.parametrize("solver, kw, formulation", [
    ("adam", {"max_iter": 300, "learning_rate": 0.02}, "single_shooting"),
    ("adam", {"max_iter": 60, "learning_rate": 0.02, "batch_size": 16}, "single_shooting"),
    ("lbfgs", {"max_iter": 100}, "single_shooting"),
    ("alm", {"max_iter": 6}, "multiple_shooting"),
    ("ipopt", {"max_iter": 60}, "multiple_shooting"),
    ("ipopt", {"max_iter": 60}, "single_shooting"),
])
def test_every_family_trains_a_classifier_with_cross_entropy(solver, kw, formulation):
    X, labels = _blobs(60, 4, 3)
    Xv, lv = _blobs(30, 4, 3, seed=0)
    net = Network([4, 6, 3], activation="tanh", seed=1)
    prob = Problem(net, X, labels, X_val=Xv, y_val=lv, loss="cross_entropy", formulation=formulation)
    res = prob.solve(solver, **kw)
    assert res.train_accuracy is not None and res.train_accuracy >= 0.9, res
    assert res.val_accuracy >= 0.85
    assert res.accuracy(Xv, lv) == pytest.approx(res.val_accuracy)
    h = res.history
    assert "accuracy" in h and "val_accuracy" in h and np.all((h["accuracy"] >= 0) & (h["accuracy"] <= 1))
    assert h["accuracy"][-1] == pytest.approx(res.train_accuracy, abs=0.2)
    np.testing.assert_array_equal(res.network.predict_classes(Xv), res.network.predict(Xv).argmax(axis=1))


def test_mse_on_one_hot_targets_reports_accuracy_too():
    X, labels = _blobs(45, 4, 3)
    prob = Problem(Network([4, 6, 3], seed=0), X, nlpnet.one_hot(labels, 3), formulation="single_shooting")
    res = prob.solve("lbfgs", max_iter=80)
    assert res.train_accuracy >= 0.9 and "accuracy" in res.history


def test_targets_for_cross_entropy_are_checked():
    X, labels = _blobs(12, 4, 3)
    net = Network([4, 5, 3], seed=0)
    Y = Problem(net, X, labels, loss="cross_entropy").y
    np.testing.assert_array_equal(Y, np.eye(3)[labels])                      # labels become one-hot
    with pytest.raises(ValueError, match=r"^y: cross-entropy needs class probabilities"):
        Problem(net, X, 2.0 * np.eye(3)[labels], loss="cross_entropy")
    with pytest.raises(ValueError, match=r"^loss: unknown loss 'cross_entrpy'; .*did you mean 'cross_entropy'"):
        Problem(net, X, labels, loss="cross_entrpy")


def test_early_stopping_on_validation_accuracy():
    X, labels = _blobs(60, 4, 3, spread=3.0)
    Xv, lv = _blobs(30, 4, 3, seed=0, spread=3.0)
    prob = Problem(Network([4, 8, 3], seed=0), X, labels, X_val=Xv, y_val=lv, loss="cross_entropy",
                   formulation="single_shooting")
    res = prob.solve("adam", learning_rate=0.05, max_iter=2000,
                     early_stopping={"monitor": "val_accuracy", "patience": 15, "restore_best_weights": True})
    assert res.status is nlpnet.Status.STALLED and res.iterations < 2000
    va = res.history["val_accuracy"]
    assert res.val_accuracy == pytest.approx(va.max())                     # the best epoch's weights


def test_a_network_carries_its_input_transform(tmp_path):
    rng = np.random.default_rng(0)
    X = 100.0 + 50.0 * rng.standard_normal((40, 3))
    y = np.sin(X[:, :1] / 50.0)
    std = nlpnet.Standardize.fit(X)
    net = Network([3, 5, 1], seed=0).with_input_transform(std)
    prob = Problem(net, X, y, formulation="single_shooting")
    np.testing.assert_allclose(prob.X.mean(axis=0), 0.0, atol=1e-12)        # trained on standardized inputs
    res = prob.solve("lbfgs", max_iter=50)
    raw = res.network.predict(X)
    bare = res.network.with_input_transform(None).predict(std.transform(X))
    np.testing.assert_allclose(raw, bare, rtol=0, atol=1e-13)
    f = res.network.to_casadi()
    np.testing.assert_allclose(dm(f(X[0])).ravel(), raw[0], rtol=0, atol=1e-12)
    back = Network.load(res.network.save(tmp_path / "net.npz"))
    np.testing.assert_allclose(back.predict(X), raw, rtol=0, atol=0)
    assert res.train_loss == pytest.approx(float(np.mean((raw - y) ** 2)), rel=1e-12)
