"""The (W, b) step of iALAM: proximal gradient with Barzilai–Borwein steps, one layer at a time.

With the states fixed, the augmented Lagrangian restricted to layer ℓ's weights is (samples as
rows, Ṽ = [V_{ℓ−1}, 1] of shape N × (d+1), Θ = [W_ℓ, b_ℓ] of shape d_ℓ × (d+1))

    (ρ/N) · [ ½ ‖T − Ṽ Θᵀ‖² + κ Σ_j ‖W_{:,j}‖ ],   T = U_ℓ + Ξ_ℓ/ρ,   κ = N λ_w / ρ,

plus, for ReLU nets, the bias bound b ≥ −B of (PP_b). Expanding the square with the Gram
matrix G = ṼᵀṼ and C = TᵀṼ gives the smooth part f(Θ) = ½ tr(Θ G Θᵀ) − tr(C Θᵀ) + const,
∇f = Θ G − C. G and C cost O(N d²) once per call; every iteration then costs one product
Θ G, independent of N (for the first layer G is fixed by the data and is computed once).

The nonsmooth part is separable over columns, so its proximal map is column-wise group
soft-thresholding, w_j ← w_j · max(0, 1 − tκ/‖w_j‖), and a clamp of the bias column.

Step sizes: the two Barzilai–Borwein formulas ⟨s,s⟩/⟨s,y⟩ and ⟨s,y⟩/⟨y,y⟩ alternately
(s = Θ_{k+1} − Θ_k, y = ∇f_{k+1} − ∇f_k = s G), clamped to [t_safe, 10⁴ t_safe] where
t_safe = 1/trace(G) ≤ 1/λ_max(G). Safeguard: a trial point whose objective exceeds the
current one is rejected and the step halved (at the latest t ≤ t_safe gives descent), so the
block objective never increases. The change of the objective is computed as
⟨Δ, ½(P_old + P_new) − C⟩ + κ(R_new − R_old) with P = Θ G, which is exact for a quadratic and
avoids the cancellation of ½‖T‖² against the other terms.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from ...formulations.penalized import column_norms

__all__ = ["group_soft_threshold", "column_norms", "BlockResult", "prox_gradient_bb", "block_objective"]


def group_soft_threshold(W: np.ndarray, threshold: float) -> np.ndarray:
    """prox of threshold·Σ_j ‖W_{:,j}‖: each column shrunk towards 0 by ``threshold`` in norm."""
    norms = column_norms(W)
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(norms > threshold, 1.0 - threshold / norms, 0.0)
    return W * factor


def _prox(theta: np.ndarray, t: float, kappa: float, bias_lower: float) -> np.ndarray:
    out = np.empty_like(theta)
    out[:, :-1] = group_soft_threshold(theta[:, :-1], t * kappa)
    out[:, -1] = np.maximum(theta[:, -1], bias_lower)
    return out


def block_objective(theta, G, C, kappa, T_sq=0.0):
    """½ tr(ΘGΘᵀ) − tr(CΘᵀ) + κ Σ_j ‖W_{:,j}‖ (+ ½‖T‖² if given): the bracket above."""
    P = theta @ G
    return 0.5 * np.vdot(theta, P) - np.vdot(C, theta) + kappa * column_norms(theta[:, :-1]).sum() + 0.5 * T_sq


@dataclass
class BlockResult:
    theta: np.ndarray
    iterations: int          # accepted steps
    rejections: int          # trial steps rejected by the safeguard
    step: float              # last step size tried (a warm start for the next call)
    residual: float          # ‖prox-gradient mapping‖_F at the last accepted step
    decrease: float          # objective(start) − objective(end) ≥ 0
    timed_out: bool


def prox_gradient_bb(G, C, theta, kappa, *, bias_lower=-np.inf, max_iter=20, tol=0.0,
                     step=None, deadline=None, max_backtracks=40) -> BlockResult:
    """Minimise ½tr(ΘGΘᵀ) − tr(CΘᵀ) + κΣ_j‖W_{:,j}‖ s.t. b ≥ bias_lower, from ``theta``.

    ``G`` is (d+1)×(d+1) positive semidefinite, ``C`` and ``theta`` are d_ℓ×(d+1) with the bias
    as last column. Stops after ``max_iter`` accepted steps, when the prox-gradient mapping
    norm is ≤ ``tol``, when no trial step decreases the objective, or at ``deadline``
    (a ``time.perf_counter()`` value). Never increases the objective.
    """
    theta_in = theta
    theta = np.array(theta, dtype=float, copy=True)
    # Columns whose input is zero in every sample (blank pixels, dead units) have a zero row and
    # column in G and in C: their part of the objective is κ‖w_j‖ alone, minimised exactly by
    # w_j = 0. Zero them and solve the rest, which decouples from them exactly.
    null = np.flatnonzero(np.diag(G)[:-1] <= 0.0)
    if null.size:
        theta[:, null] = 0.0
        keep = np.setdiff1d(np.arange(G.shape[0]), null)
        sub = prox_gradient_bb(G[np.ix_(keep, keep)], C[:, keep], theta[:, keep], kappa, bias_lower=bias_lower,
                               max_iter=max_iter, tol=tol, step=step, deadline=deadline,
                               max_backtracks=max_backtracks)
        theta[:, keep] = sub.theta
        dropped = 0.0 if kappa == 0 else kappa * float(column_norms(np.asarray(theta_in)[:, null]).sum())
        return BlockResult(theta, sub.iterations, sub.rejections, sub.step, sub.residual,
                           sub.decrease + dropped, sub.timed_out)
    t_safe = 1.0 / max(float(np.trace(G)), np.finfo(float).tiny)
    t_max = 1e4 * t_safe
    t = t_safe if step is None else float(np.clip(step, t_safe, t_max))
    P = theta @ G
    grad = P - C
    R = column_norms(theta[:, :-1]).sum()
    accepted = rejected = 0
    residual, decrease, timed_out = np.inf, 0.0, False
    while accepted < max_iter:
        if deadline is not None and time.perf_counter() > deadline:
            timed_out = True
            break
        for _ in range(max_backtracks):
            trial = _prox(theta - t * grad, t, kappa, bias_lower)
            D = trial - theta
            if not D.any():                       # a fixed point of the prox-gradient map
                return BlockResult(theta, accepted, rejected, t, 0.0, decrease, False)
            P_new = trial @ G
            R_new = column_norms(trial[:, :-1]).sum()
            dF = np.vdot(D, 0.5 * (P + P_new) - C) + kappa * (R_new - R)
            if dF <= 0.0:
                break
            rejected += 1
            t *= 0.5
        else:
            break                                 # no descent even for tiny steps: stationary to round-off
        Y = P_new - P
        sy, ss = np.vdot(D, Y), np.vdot(D, D)
        residual = np.sqrt(ss) / t
        theta, P, grad, R = trial, P_new, P_new - C, R_new
        decrease -= dF
        accepted += 1
        if residual <= tol:
            break
        if sy <= 0.0:                            # no curvature along s: take the largest step
            t = t_max
        elif accepted % 2:
            t = ss / sy
        else:
            t = sy / max(np.vdot(Y, Y), np.finfo(float).tiny)
        t = float(np.clip(t, t_safe, t_max))
    return BlockResult(theta, accepted, rejected, t, residual, decrease, timed_out)
