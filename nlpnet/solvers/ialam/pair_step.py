"""Closed-form minimisers of the (v, u) entry problems of iALAM.

After the proximal terms of the slides (S_ℓ, τ_ℓ) the (v, u) block of the augmented
Lagrangian separates into one two-variable problem per entry (sample n, layer ℓ, unit i):
with x = v_{n,ℓ,i}, y = u_{n,ℓ,i},

    minimise  f(x, y) = a/2 (x − p)² + b/2 (y − q)² + β (x − σ(y))
    subject to x ≥ y,  x ≥ α y,                                          (pair)

where a, b > 0 are the curvatures of the v- and u-parts, p, q their centres, β ≥ 0 the layer's
exact-penalty weight and σ(y) = max(y, αy), 0 ≤ α < 1, the leaky ReLU (α = 0: ReLU). The two
constraints together say x ≥ σ(y).

Because −βσ is concave, f is nonconvex, but it is convex on each half-plane:

* piece A (y ≥ 0): σ(y) = y, the feasible set is the wedge {y ≥ 0, x ≥ y};
* piece B (y ≤ 0): σ(y) = αy, the feasible set is the wedge {y ≤ 0, x ≥ αy}.

A strictly convex quadratic on a wedge attains its minimum either at its unconstrained
minimiser (when that lies in the wedge) or on one of the two boundary rays, where it is a
one-dimensional convex quadratic whose minimiser is clamped to the ray. The candidates are

    A-interior   x = p − β/a,              y = q + β/b          (if y ≥ 0 and x ≥ y)
    axis         x = max(p − β/a, 0),      y = 0                (shared ray of A and B)
    A-diagonal   x = y = max((a p + b q)/(a + b), 0)
    B-interior   x = p − β/a,              y = q + αβ/b         (if y ≤ 0 and x ≥ αy)
    B-edge       y = min((aαp + b q)/(aα² + b), 0),  x = α y

and the global minimiser is the candidate with the smallest f. On B's edge x = αy the two
penalty terms cancel (β·αy − β·αy), which is why β does not appear in its formula.

For an identity output layer σ(y) = y and only x ≥ y is imposed; the problem is then convex
with the solution "unconstrained point if feasible, else x = y = (ap + bq)/(a + b)".

Everything is elementwise NumPy (broadcasting), so the cost is linear in the number of
entries. The test suite checks both forms against an independent enumeration of KKT points
and a grid search.
"""
from __future__ import annotations

import numpy as np

__all__ = ["pair_objective", "leaky_pair_argmin", "identity_pair_argmin", "CANDIDATES"]

# Names of the candidates, in the order of the index returned with ``return_branch=True``.
CANDIDATES = ("A-interior", "axis", "A-diagonal", "B-interior", "B-edge")


def pair_objective(x, y, a, b, p, q, beta, alpha, identity=False):
    """f(x, y) of (pair); with ``identity=True`` σ is the identity. No feasibility check."""
    sig = y if identity else np.maximum(y, alpha * y)
    return 0.5 * a * (x - p) ** 2 + 0.5 * b * (y - q) ** 2 + beta * (x - sig)


def leaky_pair_argmin(a, b, p, q, beta, alpha, *, return_branch=False):
    """Global minimiser (x, y) of (pair) for leaky ReLU slope ``0 <= alpha < 1``.

    ``a, b`` (> 0), ``p, q`` and ``beta`` (≥ 0) are arrays or scalars that broadcast together
    (in iALAM a, b and β are one number per layer, p and q arrays); ``alpha`` is a scalar.
    With ``return_branch=True`` also returns, per entry, the index into :data:`CANDIDATES` of
    the winning candidate (ties go to the earlier candidate).
    """
    a, b, beta = (np.asarray(t, dtype=float) for t in (a, b, beta))
    p, q = np.broadcast_arrays(np.asarray(p, dtype=float), np.asarray(q, dtype=float))
    shape = np.broadcast_shapes(a.shape, b.shape, beta.shape, p.shape)
    x_free = p - beta / a                        # x-part minimiser, the same in both pieces
    bb = beta * beta
    # Each candidate's objective in closed form (on B's edge and on the diagonal the two
    # penalty terms cancel); the winner is kept by strict comparisons in CANDIDATES order.
    yA = q + beta / b                            # A-interior, feasible iff yA ≥ 0 and x ≥ yA
    fA = 0.5 * bb / a + 0.5 * bb / b + beta * (x_free - yA)
    best_f = np.where((yA >= 0.0) & (x_free >= yA), fA, np.inf)
    best_x = np.broadcast_to(x_free, shape).copy()
    best_y = np.broadcast_to(yA, shape).copy()
    branch = np.zeros(shape, dtype=np.int8)

    def offer(f, x, y, k):
        nonlocal best_f
        better = f < best_f
        best_f = np.where(better, f, best_f)
        np.copyto(best_x, x, where=better)
        np.copyto(best_y, y, where=better)
        branch[better] = k

    x_axis = np.maximum(x_free, 0.0)             # axis: y = 0, x ≥ 0
    offer(0.5 * a * (x_axis - p) ** 2 + 0.5 * b * q * q + beta * x_axis, x_axis, 0.0, 1)
    t = np.maximum((a * p + b * q) / (a + b), 0.0)   # A-diagonal: x = y = t ≥ 0
    offer(0.5 * a * (t - p) ** 2 + 0.5 * b * (t - q) ** 2, t, t, 2)
    yB = q + alpha * beta / b                    # B-interior, feasible iff yB ≤ 0 and x ≥ αyB
    fB = 0.5 * bb / a + 0.5 * alpha * alpha * bb / b + beta * (x_free - alpha * yB)
    offer(np.where((yB <= 0.0) & (x_free >= alpha * yB), fB, np.inf), x_free, yB, 3)
    t = np.minimum((a * alpha * p + b * q) / (a * alpha * alpha + b), 0.0)   # B-edge: x = αt, t ≤ 0
    offer(0.5 * a * (alpha * t - p) ** 2 + 0.5 * b * (t - q) ** 2, alpha * t, t, 4)
    return (best_x, best_y, branch) if return_branch else (best_x, best_y)


def identity_pair_argmin(a, b, p, q, beta):
    """Minimiser of a/2 (x − p)² + b/2 (y − q)² + β (x − y) subject to x ≥ y (convex)."""
    a, b, p, q, beta = np.broadcast_arrays(*(np.asarray(t, dtype=float) for t in (a, b, p, q, beta)))
    x = p - beta / a
    y = q + beta / b
    on_line = x < y                              # the constraint is active
    t = (a * p + b * q) / (a + b)
    return np.where(on_line, t, x), np.where(on_line, t, y)
