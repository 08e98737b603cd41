"""KKT residual of (PP) at a forward-pass point, with the multipliers of the outer loop.

The slides' KKT conditions of (PP), written with our per-sample scaling (Ξ = N ξ), at a point
whose states come from a forward pass (v = σ(u), c = 0: primal feasible) are

* weights:  (1/N) Ξ_ℓᵀ V_{ℓ−1} ∈ λ_w ∂R₁(W_ℓ): for a column w_j ≠ 0 the column of the left side
  must equal λ_w w_j/‖w_j‖, for w_j = 0 its norm must be ≤ λ_w;
* biases:   (1/N) Ξ_ℓᵀ 1 = 0 (≤ 0 where the (PP_b) bound b ≥ −B is active);
* states, per entry, with g_v = β_ℓ + 2λ_v v − (Ξ_{ℓ+1}W_{ℓ+1}) (hidden) or 2(v − y) + β_L + 2λ_v v
  (output) and g_u = Ξ_ℓ − β_ℓ σ'(u): there are μ¹, μ² ≥ 0 with g_v = μ¹ + μ², g_u = −μ¹ − αμ²,
  μ¹ = 0 unless v = u, μ² = 0 unless v = αu. For u > 0 only μ¹ may be nonzero, for u < 0 only
  μ²; the best μ ≥ 0 is a one-dimensional projection and the residual what is left. At u = 0
  (both constraints active, σ not differentiable) the smaller of the two one-sided residuals is
  taken (σ'(0) ∈ {α, 1}, the limiting subdifferential).

Reported: ``stationarity`` = max(‖weight residual‖_F + ‖bias residual‖, ‖state residual‖_F/√N)
— the weight part in the units of O (averages over samples), the state part as a root mean
square per sample, so neither grows with N. Cost: one product Ξᵀ V and one Ξ W per layer.
"""
from __future__ import annotations

import numpy as np

from .weight_step import column_norms

__all__ = ["kkt_residual"]


def _one_sided(g_v, g_u, slope):
    """min over μ ≥ 0 of ‖(g_v − μ, g_u + slope·μ)‖², the squared residual."""
    mu = np.maximum(0.0, (g_v - slope * g_u) / (1.0 + slope * slope))
    return (g_v - mu) ** 2 + (g_u + slope * mu) ** 2


def _state_residual_sq(g_v, g_u_pos, g_u_neg, u, alpha):
    """Squared state residuals; ``g_u_pos``/``g_u_neg`` use σ'(u) = 1 and α respectively."""
    if alpha is None:                             # identity output: only v ≥ u, always active here
        return _one_sided(g_v, g_u_pos, 1.0)
    pos = _one_sided(g_v, g_u_pos, 1.0)           # u > 0: v = u active, μ¹ only
    neg = _one_sided(g_v, g_u_neg, alpha)         # u < 0: v = αu active, μ² only
    return np.where(u > 0, pos, np.where(u < 0, neg, np.minimum(pos, neg)))


def kkt_residual(X, Y, W, b, U, V, Xi, beta, alphas, lambda_w, lambda_v, bias_lower):
    """(stationarity, parts) at the forward-pass point (U, V) = forward(X, W, b)."""
    n = X.shape[0]
    prev = [X] + V[:-1]
    w_sq = b_sq = s_sq = 0.0
    for l, (Wl, bl, Xl) in enumerate(zip(W, b, Xi)):
        Gw = Xl.T @ prev[l] / n                   # (1/N) Ξᵀ V_{ℓ−1}
        norms = column_norms(Wl)
        nz = norms > 0
        R = Gw.copy()
        R[:, nz] -= lambda_w * Wl[:, nz] / norms[nz]
        g_norm = column_norms(Gw[:, ~nz])
        w_sq += float(np.sum(R[:, nz] ** 2)) + float(np.sum(np.maximum(0.0, g_norm - lambda_w) ** 2))
        gb = -Xl.sum(axis=0) / n                  # ∂L/∂b; at an active bound only gb < 0 is wrong
        gb = np.where(bl <= bias_lower, np.minimum(gb, 0.0), gb)
        b_sq += float(np.sum(gb * gb))
        Vl, Ul, al = V[l], U[l], alphas[l]
        if l + 1 < len(W):
            g_v = beta[l] + 2.0 * lambda_v * Vl - Xi[l + 1] @ W[l + 1]
        else:
            g_v = 2.0 * (Vl - Y) + beta[l] + 2.0 * lambda_v * Vl
        g_u_pos = Xl - beta[l]
        g_u_neg = Xl - beta[l] * (al if al is not None else 1.0)
        s_sq += float(np.sum(_state_residual_sq(g_v, g_u_pos, g_u_neg, Ul, al)))
    parts = {"kkt_weights": float(np.sqrt(w_sq)), "kkt_biases": float(np.sqrt(b_sq)),
             "kkt_states": float(np.sqrt(s_sq / n))}
    return max(parts["kkt_weights"] + parts["kkt_biases"], parts["kkt_states"]), parts
