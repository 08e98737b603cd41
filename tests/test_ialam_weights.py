"""The (W, b) step of iALAM: group soft-thresholding and the safeguarded BB proximal gradient."""
import numpy as np
import pytest
from scipy.optimize import minimize

from nlpnet.solvers.ialam.inner import augmented_gram
from nlpnet.solvers.ialam.weight_step import (block_objective, column_norms, group_soft_threshold,
                                              prox_gradient_bb)


def test_group_soft_threshold_is_the_prox_of_the_column_norm():
    rng = np.random.default_rng(0)
    Z = rng.standard_normal((6, 40)) * rng.uniform(0.1, 3, 40)
    t = 1.2
    W = group_soft_threshold(Z, t)
    norms = column_norms(Z)
    zero = norms <= t
    assert zero.any() and (~zero).any()
    assert np.all(W[:, zero] == 0.0)                              # ‖z‖ ≤ t  ⇒  prox = 0
    # elsewhere the optimality condition w − z + t·w/‖w‖ = 0 of ½‖w − z‖² + t‖w‖
    Wn = W[:, ~zero]
    resid = Wn - Z[:, ~zero] + t * Wn / column_norms(Wn)
    assert np.max(np.abs(resid)) < 1e-12
    # and a direct numerical minimisation agrees column by column
    for j in np.flatnonzero(~zero)[:5]:
        f = lambda w: 0.5 * np.sum((w - Z[:, j]) ** 2) + t * np.linalg.norm(w)
        ref = minimize(f, Z[:, j], method="BFGS", options={"gtol": 1e-10}).x
        assert np.allclose(W[:, j], ref, atol=1e-6)


def make_block(n=60, d=5, d_out=3, blank=1, seed=0):
    """A layer block with ``blank`` input columns that are zero in every sample (MNIST borders)."""
    rng = np.random.default_rng(seed)
    V = rng.standard_normal((n, d)) * rng.uniform(0.2, 3.0, d)
    V[:, :blank] = 0.0
    T = V @ rng.standard_normal((d, d_out)) + 0.3 * rng.standard_normal((n, d_out)) + 0.5
    G = augmented_gram(V)
    C = np.column_stack([T.T @ V, T.sum(axis=0)])
    return V, T, G, C


def direct_objective(theta, V, T, kappa):
    """½‖T − [V 1]Θᵀ‖² + κΣ‖W_{:,j}‖ evaluated on the samples (not via G)."""
    R = T - V @ theta[:, :-1].T - theta[:, -1]
    return 0.5 * np.sum(R * R) + kappa * column_norms(theta[:, :-1]).sum()


@pytest.mark.parametrize("kappa", [0.0, 2.0, 30.0])
def test_bb_steps_never_increase_the_block_objective(kappa):
    V, T, G, C = make_block(seed=1)
    theta = np.random.default_rng(2).standard_normal((3, 6))
    values, step, rejections = [direct_objective(theta, V, T, kappa)], 1e3, 0   # a huge first step
    for _ in range(60):
        res = prox_gradient_bb(G, C, theta, kappa, max_iter=1, step=step)
        theta, step, rejections = res.theta, res.step, rejections + res.rejections
        values.append(direct_objective(theta, V, T, kappa))
    assert np.all(np.diff(values) <= 1e-9 * abs(values[0]))
    assert rejections > 0                                     # the safeguard did act
    assert values[-1] < 0.5 * values[0]


def test_reported_decrease_matches_the_objective():
    V, T, G, C = make_block(seed=3)
    theta = np.zeros((3, 6))
    res = prox_gradient_bb(G, C, theta, 5.0, max_iter=15)
    drop = direct_objective(theta, V, T, 5.0) - direct_objective(res.theta, V, T, 5.0)
    assert res.decrease == pytest.approx(drop, rel=1e-9)
    sq = float(np.sum(T * T))
    assert block_objective(res.theta, G, C, 5.0, sq) == pytest.approx(direct_objective(res.theta, V, T, 5.0))


def conic_reference(V, T, kappa, bias_lower=-np.inf):
    """SLSQP on the smooth reformulation min ½‖T − ṼΘᵀ‖² + κΣs_j, s_j² ≥ ‖w_j‖², s ≥ 0."""
    n, d = V.shape
    d_out = T.shape[1]
    nt = d_out * (d + 1)

    def f(z):
        th = z[:nt].reshape(d_out, d + 1)
        R = T - V @ th[:, :-1].T - th[:, -1]
        return 0.5 * np.sum(R * R) + kappa * z[nt:].sum()

    def jac(z):
        th = z[:nt].reshape(d_out, d + 1)
        R = T - V @ th[:, :-1].T - th[:, -1]
        g = np.column_stack([-R.T @ V, -R.sum(0)])
        return np.concatenate([g.ravel(), np.full(d, kappa)])

    cons = [{"type": "ineq", "fun": lambda z, j=j: z[nt + j] ** 2 - np.sum(z[:nt].reshape(d_out, d + 1)[:, j] ** 2)}
            for j in range(d)]
    cons.append({"type": "ineq", "fun": lambda z: z[nt:]})
    if np.isfinite(bias_lower):
        cons.append({"type": "ineq", "fun": lambda z: z[:nt].reshape(d_out, d + 1)[:, -1] - bias_lower})
    z0 = np.concatenate([np.full(nt, 0.1), np.ones(d)])
    sol = minimize(f, z0, jac=jac, constraints=cons, method="SLSQP", options={"maxiter": 500, "ftol": 1e-14})
    return sol.x[:nt].reshape(d_out, d + 1), sol.fun


@pytest.mark.parametrize("kappa, bias_lower", [(3.0, -np.inf), (40.0, -np.inf), (3.0, 0.6)])
def test_block_solve_converges_to_the_reference_minimiser(kappa, bias_lower):
    V, T, G, C = make_block(n=40, d=4, d_out=2, blank=1, seed=5)
    res = prox_gradient_bb(G, C, np.zeros((2, 5)), kappa, bias_lower=bias_lower, max_iter=3000, tol=1e-11)
    ref_theta, ref_val = conic_reference(V, T, kappa, bias_lower)
    val = direct_objective(res.theta, V, T, kappa)
    assert val <= ref_val + 1e-7 * abs(ref_val)
    assert np.allclose(res.theta, ref_theta, atol=1e-4)
    assert np.all(res.theta[:, 0] == 0.0)                   # the blank input column is pruned exactly
    assert np.all(res.theta[:, -1] >= bias_lower)
    # optimality of the group lasso: zero columns have ‖∇_j f‖ ≤ κ, others ∇_j f = −κ w_j/‖w_j‖
    grad = res.theta @ G - C
    norms = column_norms(res.theta[:, :-1])
    for j in range(4):
        if norms[j] == 0:
            assert np.linalg.norm(grad[:, j]) <= kappa * (1 + 1e-6)
        else:
            assert np.allclose(grad[:, j], -kappa * res.theta[:, j] / norms[j], atol=1e-5)
    if np.isfinite(bias_lower):
        assert np.any(np.isclose(res.theta[:, -1], bias_lower))  # the bound is active here


def test_deadline_in_the_past_returns_the_start():
    V, T, G, C = make_block(blank=0, seed=7)
    theta = np.ones((3, 6))
    res = prox_gradient_bb(G, C, theta, 1.0, max_iter=50, deadline=0.0)
    assert res.timed_out and res.iterations == 0 and np.array_equal(res.theta, theta)


def test_blank_columns_are_zeroed_exactly_in_one_call():
    V, T, G, C = make_block(n=50, d=6, d_out=3, blank=3, seed=8)
    theta = np.ones((3, 7))
    res = prox_gradient_bb(G, C, theta, 0.5, max_iter=1)
    assert np.all(res.theta[:, :3] == 0.0) and np.all(res.theta[:, 3:6] != 0.0)
    drop = direct_objective(theta, V, T, 0.5) - direct_objective(res.theta, V, T, 0.5)
    assert res.decrease == pytest.approx(drop, rel=1e-9) and drop > 0
