"""The closed-form (v, u) entry minimisers of iALAM against independent brute force.

Two references that share nothing with the closed form:

* KKT enumeration: each convex piece (y ≥ 0 and y ≤ 0) is a strictly convex QP in two
  variables with two linear constraints; every active set's KKT system is solved by a generic
  batched linear solve, primal and dual feasibility are checked, and the best KKT point of
  either piece is the global minimiser. Run on 10⁵ random instances per slope α.
* grid search: for fixed y the best x is max(x_free, σ(y)); f(y) is then scanned on a grid over
  a provable bracket of the minimiser and the best cell refined three times.
"""
import numpy as np
import pytest

from nlpnet.solvers.ialam.pair_step import (CANDIDATES, identity_pair_argmin, leaky_pair_argmin,
                                            pair_objective)

ALPHAS = [0.0, 0.01, 0.1, 0.5]


def random_instances(n, seed):
    """Curvatures over four decades, centres over two, a few exact zeros and β = 0 (kinks)."""
    rng = np.random.default_rng(seed)
    a = 10.0 ** rng.uniform(-2, 2, n)
    b = 10.0 ** rng.uniform(-2, 2, n)
    p = rng.standard_normal(n) * 10.0 ** rng.uniform(-1, 1, n)
    q = rng.standard_normal(n) * 10.0 ** rng.uniform(-1, 1, n)
    beta = 10.0 ** rng.uniform(-2, 1, n)
    p[rng.random(n) < 0.02] = 0.0
    q[rng.random(n) < 0.02] = 0.0
    beta[rng.random(n) < 0.02] = 0.0
    return a, b, p, q, beta


def kkt_enumeration(a, b, p, q, beta, alpha, identity=False):
    """Best KKT point over both convex pieces and all active sets (generic linear algebra)."""
    n = a.size
    H = np.zeros((n, 2, 2))
    H[:, 0, 0], H[:, 1, 1] = a, b
    pieces = [((0.0, 1.0), (1.0, -1.0), 1.0)]               # y ≥ 0, x − y ≥ 0; σ(y) = y
    if not identity:
        pieces.append(((0.0, -1.0), (1.0, -alpha), alpha))  # −y ≥ 0, x − αy ≥ 0; σ(y) = αy
    else:
        pieces = [((1.0, -1.0), 1.0)]                         # x − y ≥ 0 only
    best_f = np.full(n, np.inf)
    best_z = np.zeros((n, 2))
    for piece in pieces:
        *rows, slope = piece
        G = np.array(rows)
        h = np.stack([-a * p + beta, -b * q - beta * slope], axis=1)
        for mask in range(2 ** len(rows)):
            act = [i for i in range(len(rows)) if mask >> i & 1]
            k = 2 + len(act)
            K = np.zeros((n, k, k))
            K[:, :2, :2] = H
            rhs = np.zeros((n, k))
            rhs[:, :2] = -h
            for j, i in enumerate(act):
                K[:, :2, 2 + j] = -G[i]
                K[:, 2 + j, :2] = G[i]
            sol = np.linalg.solve(K, rhs[..., None])[..., 0]
            z, mu = sol[:, :2], sol[:, 2:]
            scale = 1.0 + np.abs(z).sum(axis=1)
            ok = np.all(z @ G.T >= -1e-10 * scale[:, None], axis=1)
            ok &= np.all(mu >= -1e-10 * (1 + np.abs(h).sum(axis=1))[:, None], axis=1)
            f = pair_objective(z[:, 0], z[:, 1], a, b, p, q, beta, alpha, identity)
            better = ok & (f < best_f)
            best_f[better] = f[better]
            best_z[better] = z[better]
    return best_z, best_f


def grid_search(a, b, p, q, beta, alpha, points=2001, rounds=3):
    """min over y of f(max(x_free, σ(y)), y), scanned on each half-line of a provable bracket.

    On y ≥ 0 and on y ≤ 0 the reduced function is convex (partial minimisation of a jointly
    convex piece), so refining around the best grid point of each half-line cannot lose the
    minimiser; the better half wins.
    """
    x_free = p - beta / a
    sig = lambda y: np.maximum(y, alpha * y)
    F = lambda y: pair_objective(np.maximum(x_free[:, None], sig(y)), y, a[:, None], b[:, None],
                                 p[:, None], q[:, None], beta[:, None], alpha)
    # f(y) ≥ b/2 (y−q)² − β|y| + m0 with m0 = min_x a/2(x−p)² + βx; f(y*) ≤ f(0) gives |y*−q| ≤ r
    f0 = F(np.zeros((a.size, 1)))[:, 0]
    m0 = beta * p - beta ** 2 / (2 * a)
    r = beta / b + np.sqrt((beta / b) ** 2 + (2 * beta * np.abs(q) + 2 * np.maximum(f0 - m0, 0)) / b)
    best = np.full(a.size, np.inf)
    for lo, hi in [(np.zeros_like(q), np.maximum(q + r, 0)), (np.minimum(q - r, 0), np.zeros_like(q))]:
        n_pts = points
        for _ in range(rounds + 1):
            ys = lo[:, None] + (hi - lo)[:, None] * np.linspace(0, 1, n_pts)[None]
            fs = F(ys)
            k = np.argmin(fs, axis=1)
            yk = ys[np.arange(a.size), k]
            h = (hi - lo) / (n_pts - 1)
            lo, hi = np.maximum(yk - h, lo), np.minimum(yk + h, hi)
            n_pts = 201
        best = np.minimum(best, fs[np.arange(a.size), k])
    return best


def value_scale(a, b, p, q, beta):
    return 1.0 + a * p ** 2 + b * q ** 2 + beta * (np.abs(p) + np.abs(q)) + beta ** 2 * (1 / a + 1 / b)


@pytest.mark.parametrize("alpha", ALPHAS)
def test_leaky_pair_matches_kkt_enumeration_on_1e5_instances(alpha):
    a, b, p, q, beta = random_instances(100_000, seed=int(alpha * 1000))
    x, y, branch = leaky_pair_argmin(a, b, p, q, beta, alpha, return_branch=True)
    scale = value_scale(a, b, p, q, beta)
    # feasible: x ≥ y and x ≥ αy
    assert np.all(x - y >= -1e-12 * scale) and np.all(x - alpha * y >= -1e-12 * scale)
    z_ref, f_ref = kkt_enumeration(a, b, p, q, beta, alpha)
    f = pair_objective(x, y, a, b, p, q, beta, alpha)
    assert np.all(np.isfinite(f_ref))
    gap = (f - f_ref) / scale
    assert np.max(np.abs(gap)) < 1e-10, f"worst relative gap {np.max(np.abs(gap)):.3e}"
    # where the minimiser is unique the points agree as well; every candidate wins somewhere
    err = np.abs(np.stack([x, y], 1) - z_ref).max(axis=1) / (1 + np.abs(z_ref).max(axis=1))
    assert np.quantile(err, 0.999) < 1e-8
    counts = np.bincount(branch, minlength=len(CANDIDATES))
    assert np.all(counts > 1000), dict(zip(CANDIDATES, counts))


@pytest.mark.parametrize("alpha", ALPHAS)
def test_leaky_pair_is_never_beaten_by_grid_search(alpha):
    a, b, p, q, beta = random_instances(5_000, seed=7 + int(alpha * 1000))
    x, y = leaky_pair_argmin(a, b, p, q, beta, alpha)
    f = pair_objective(x, y, a, b, p, q, beta, alpha)
    f_grid = grid_search(a, b, p, q, beta, alpha)
    scale = value_scale(a, b, p, q, beta)
    assert np.all(f <= f_grid + 1e-10 * scale)          # the closed form is never worse
    assert np.all(f_grid <= f + 1e-7 * scale)           # and the grid finds it (resolution)


def test_a_missing_candidate_is_caught():
    """The references have power: dropping the diagonal candidate changes many answers."""
    a, b, p, q, beta = random_instances(20_000, seed=3)
    x, y, branch = leaky_pair_argmin(a, b, p, q, beta, 0.1, return_branch=True)
    _, f_ref = kkt_enumeration(a, b, p, q, beta, 0.1)
    # the runner-up for entries that the diagonal won is strictly worse than the reference
    won = branch == CANDIDATES.index("A-diagonal")
    xa, ya = np.maximum(p - beta / a, 0.0), np.zeros_like(p)
    f_axis = pair_objective(xa, ya, a, b, p, q, beta, 0.1)
    assert won.sum() > 1000 and np.mean(f_axis[won] > f_ref[won] + 1e-9) > 0.9


def test_leaky_pair_broadcasts_and_handles_scalars():
    x, y = leaky_pair_argmin(2.0, 3.0, np.array([[1.0, -1.0]]), np.array([[0.5], [-2.0]]), 0.5, 0.1)
    assert x.shape == y.shape == (2, 2)
    # p = 1, q = 0.5, a = 2, b = 3, β = ½: A-interior (0.75, 0.667) is feasible and optimal
    assert x[0, 0] == pytest.approx(0.75) and y[0, 0] == pytest.approx(0.5 + 0.5 / 3)


def test_identity_pair_matches_kkt_enumeration():
    a, b, p, q, beta = random_instances(100_000, seed=11)
    x, y = identity_pair_argmin(a, b, p, q, beta)
    scale = value_scale(a, b, p, q, beta)
    assert np.all(x - y >= -1e-12 * scale)
    z_ref, f_ref = kkt_enumeration(a, b, p, q, beta, 0.0, identity=True)
    f = pair_objective(x, y, a, b, p, q, beta, 0.0, identity=True)
    assert np.max(np.abs(f - f_ref) / scale) < 1e-10
    assert np.max(np.abs(np.stack([x, y], 1) - z_ref) / (1 + np.abs(z_ref))) < 1e-8
    active = np.isclose(x, y)
    assert 0.1 < active.mean() < 0.9                    # both branches are exercised
