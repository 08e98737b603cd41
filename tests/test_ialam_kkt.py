"""The KKT residual of (PP) against back-propagation and finite differences.

With back-propagated multipliers Ξ_L = 2(y − f(x))·σ'(u_L), Ξ_ℓ = σ'(u_ℓ)·(Ξ_{ℓ+1}W_{ℓ+1}) and
a large enough β, the state conditions of (PP) hold exactly at a forward-pass point and the
weight residual is the gradient of TrainErr = (1/N)Σ‖f(x) − y‖² (plus the group-lasso part).
"""
import numpy as np
import pytest

from nlpnet.solvers.ialam.inner import augmented_gram
from nlpnet.solvers.ialam.kkt import kkt_residual
from nlpnet.formulations.penalized import PenalizedModel
from nlpnet.solvers.ialam.weight_step import prox_gradient_bb


def layer_alphas(n_layers, alpha, output):
    return [alpha] * (n_layers - 1) + [alpha if output == "leaky_relu" else None]


def forward(X, W, b, alphas):
    sizes = (W[0].shape[1],) + tuple(w.shape[0] for w in W)
    return PenalizedModel(sizes, tuple(alphas), 0.0, 0.0, (1.0,) * len(W), 1e3).forward(X, W, b)


def backprop_multipliers(Y, W, U, V, alphas):
    d = lambda u, a: np.ones_like(u) if a is None else np.where(u > 0, 1.0, a)
    Xi = [None] * len(W)
    Xi[-1] = 2.0 * (Y - V[-1]) * d(U[-1], alphas[-1])
    for l in range(len(W) - 2, -1, -1):
        Xi[l] = d(U[l], alphas[l]) * (Xi[l + 1] @ W[l + 1])
    return Xi


def train_err(X, Y, W, b, alphas):
    return float(np.sum((forward(X, W, b, alphas)[1][-1] - Y) ** 2)) / len(X)


@pytest.mark.parametrize("alpha, output", [(0.2, "identity"), (0.1, "leaky_relu")])
def test_state_part_vanishes_and_weight_part_is_the_loss_gradient(alpha, output):
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((40, 3)), rng.standard_normal((40, 2))
    W = [rng.standard_normal((4, 3)), rng.standard_normal((2, 4))]
    b = [0.1 * rng.standard_normal(4), 0.1 * rng.standard_normal(2)]
    alphas = layer_alphas(2, alpha, output)
    U, V = forward(X, W, b, alphas)
    Xi = backprop_multipliers(Y, W, U, V, alphas)
    beta = [50.0, 50.0]                                   # large enough for μ ≥ 0 everywhere
    stat, parts = kkt_residual(X, Y, W, b, U, V, Xi, beta, alphas, 0.0, 0.0, -np.inf)
    assert parts["kkt_states"] < 1e-10
    # the weight part equals ‖∇_W TrainErr‖_F, checked by central differences
    grad_sq, h = 0.0, 1e-6
    for l in range(2):
        for idx in np.ndindex(W[l].shape):
            Wp = [w.copy() for w in W]
            Wm = [w.copy() for w in W]
            Wp[l][idx] += h
            Wm[l][idx] -= h
            grad_sq += ((train_err(X, Y, Wp, b, alphas) - train_err(X, Y, Wm, b, alphas)) / (2 * h)) ** 2
    assert parts["kkt_weights"] == pytest.approx(np.sqrt(grad_sq), rel=1e-5)
    assert stat >= parts["kkt_weights"]


def test_group_lasso_optimum_of_a_linear_model_is_a_kkt_point():
    """L = 1, identity output: (PP) at the forward point is group-lasso least squares."""
    rng = np.random.default_rng(1)
    n, d = 60, 5
    X = rng.standard_normal((n, d))
    X[:, 0] *= 0.05                                       # a weak input that the lasso removes
    Y = X @ rng.standard_normal((d, 2)) + 0.1 * rng.standard_normal((n, 2))
    lam = 0.05
    # minimise (1/N)‖Y − XWᵀ − b‖² + λΣ‖w_j‖  ⇔  ½‖Y − [X 1]Θᵀ‖² + (Nλ/2)Σ‖w_j‖
    G, C = augmented_gram(X), np.column_stack([Y.T @ X, Y.sum(0)])
    res = prox_gradient_bb(G, C, np.zeros((2, d + 1)), n * lam / 2, max_iter=5000, tol=1e-12)
    W, b = [res.theta[:, :-1]], [res.theta[:, -1]]
    assert np.all(W[0][:, 0] == 0.0)
    alphas = layer_alphas(1, 0.0, "identity")
    U, V = forward(X, W, b, alphas)
    Xi = backprop_multipliers(Y, W, U, V, alphas)
    stat, _ = kkt_residual(X, Y, W, b, U, V, Xi, [10.0], alphas, lam, 0.0, -np.inf)
    assert stat < 1e-8
    W_off = [W[0] + 1e-3]
    U2, V2 = forward(X, W_off, b, alphas)
    stat_off, _ = kkt_residual(X, Y, W_off, b, U2, V2, backprop_multipliers(Y, W_off, U2, V2, alphas),
                               [10.0], alphas, lam, 0.0, -np.inf)
    assert stat_off > 1e-4


def test_wrong_multipliers_or_small_beta_leave_a_state_residual():
    rng = np.random.default_rng(2)
    X, Y = rng.standard_normal((30, 3)), rng.standard_normal((30, 2))
    W = [rng.standard_normal((4, 3)), rng.standard_normal((2, 4))]
    b = [np.zeros(4), np.zeros(2)]
    alphas = layer_alphas(2, 0.1, "identity")
    U, V = forward(X, W, b, alphas)
    Xi = backprop_multipliers(Y, W, U, V, alphas)
    _, ok = kkt_residual(X, Y, W, b, U, V, Xi, [50.0, 50.0], alphas, 0.0, 0.0, -np.inf)
    _, bad = kkt_residual(X, Y, W, b, U, V, [0.5 * x for x in Xi], [50.0, 50.0], alphas, 0.0, 0.0, -np.inf)
    _, small_beta = kkt_residual(X, Y, W, b, U, V, Xi, [1e-3, 1e-3], alphas, 0.0, 0.0, -np.inf)
    assert ok["kkt_states"] < 1e-10 < 1e-3 < bad["kkt_states"]
    assert small_beta["kkt_states"] > 1e-3                # μ ≥ 0 fails: β below the exact-penalty bound
