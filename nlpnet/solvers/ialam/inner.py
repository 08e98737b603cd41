"""One sweep of the alternating minimization that solves the inner problem (4) inexactly.

Step 1, (w, b): for each layer, the proximal-gradient/BB solver of ``weight_step`` on
(ρ_ℓ/N)[½‖U_ℓ + Ξ_ℓ/ρ_ℓ − Ṽ_{ℓ−1}Θ_ℓᵀ‖² + κ_ℓ R(W_ℓ)], κ_ℓ = Nλ_w/ρ_ℓ (the layers decouple).

Step 2, (v, u): the slides' proximal term P with S_ℓ = τ_ℓ I − ρ_ℓ MᵀM, M = [−W_ℓ  I],
τ_ℓ = ρ_ℓ ‖M‖² + τ₁ = ρ_ℓ(1 + ‖W_ℓ‖₂²) + τ₁ (ℓ ≥ 2), plus τ₁/2 ‖u₁ − u₁ʲ‖². Adding ½‖·‖²_S to the
coupling term ρ_ℓ/2‖C_ℓ + Ξ_ℓ/ρ_ℓ‖² of the pair (v_{ℓ−1}, u_ℓ) replaces its quadratic part by
τ_ℓ/2‖·‖², so the problem separates into one (pair) problem per entry of every layer, all
layers at once (a Jacobi step). With R_ℓ = Ξ_ℓ + ρ_ℓC_ℓ at the current point (the gradient of
the coupling term with respect to u_ℓ; with respect to v_{ℓ−1} it is −R_ℓW_ℓ), per entry of
layer ℓ (the factor N of the per-sample objective is multiplied out):

    v-part, ℓ < L:  a = 2λ_v + τ_{ℓ+1},  p = (τ_{ℓ+1} v + R_{ℓ+1}W_{ℓ+1}) / a
    v-part, ℓ = L:  a = 2(1 + λ_v),      p = y / (1 + λ_v)                (the data term)
    u-part, ℓ = 1:  b = ρ₁ + τ₁,         q = (ρ₁(W₁x + b₁) − Ξ₁ + τ₁u₁) / b   (exact)
    u-part, ℓ ≥ 2:  b = τ_ℓ,             q = u_ℓ − R_ℓ/τ_ℓ

and penalty β_ℓ. Since S_ℓ ⪰ τ₁I ≻ 0 the step minimises L_ρ + P exactly, so L_ρ does not
increase; the (w, b) step does not increase it either (safeguarded), hence every sweep is a
descent step. Cost: a few products V W per layer and elementwise work, O(N).
"""
from __future__ import annotations

import numpy as np

from .pair_step import identity_pair_argmin, leaky_pair_argmin
from .weight_step import prox_gradient_bb

__all__ = ["augmented_gram", "weight_step", "state_step", "spectral_norm_sq", "FirstLayer"]


class FirstLayer:
    """What never changes in layer 1: the input columns that are not zero in every sample,
    X restricted to them and its augmented Gram matrix. Columns of W₁ on blank inputs are
    exactly zero after the first (w, b) step (see ``weight_step``), and contribute nothing to
    X W₁ᵀ before it, so every layer-1 product can skip them."""

    def __init__(self, X):
        self.cols = np.flatnonzero(np.any(X != 0.0, axis=0))
        self.X = np.ascontiguousarray(X[:, self.cols])
        self.G = augmented_gram(self.X)

    def preactivation(self, W1, b1):
        return self.X @ W1[:, self.cols].T + b1


def augmented_gram(Vp: np.ndarray) -> np.ndarray:
    """[V 1]ᵀ[V 1] without forming [V 1]."""
    n, d = Vp.shape
    G = np.empty((d + 1, d + 1))
    G[:d, :d] = Vp.T @ Vp
    s = Vp.sum(axis=0)
    G[:d, d] = s
    G[d, :d] = s
    G[d, d] = n
    return G


def spectral_norm_sq(W: np.ndarray) -> float:
    """‖W‖₂² from the eigenvalues of the smaller Gram matrix (an upper bound to round-off)."""
    M = W @ W.T if W.shape[0] <= W.shape[1] else W.T @ W
    return float(np.linalg.eigvalsh(M)[-1]) * (1.0 + 1e-12)


def weight_step(X, W, b, V, U, Xi, rho, *, lambda_w, bias_lower, max_iter, tol, steps, first, deadline):
    """Proximal-gradient/BB update of every layer's (W_ℓ, b_ℓ); returns new lists and stats.
    ``first`` is the :class:`FirstLayer` of X."""
    n = X.shape[0]
    W_new, b_new, info = [], [], {"wb_steps": 0, "wb_rejections": 0, "wb_residual": 0.0, "timed_out": False}
    for l, (Wl, bl) in enumerate(zip(W, b)):
        cols = first.cols if l == 0 else slice(None)
        Vp = first.X if l == 0 else V[l - 1]
        G = first.G if l == 0 else augmented_gram(Vp)
        T = U[l] + Xi[l] / rho[l]
        C = np.empty((Wl.shape[0], Vp.shape[1] + 1))
        C[:, :-1] = T.T @ Vp
        C[:, -1] = T.sum(axis=0)
        theta = np.column_stack([Wl[:, cols], bl])
        res = prox_gradient_bb(G, C, theta, n * lambda_w / rho[l], bias_lower=bias_lower, max_iter=max_iter,
                               tol=tol, step=steps[l], deadline=deadline)
        steps[l] = res.step
        if l == 0:                                # blank-input columns: exactly zero (their minimiser)
            W1 = np.zeros_like(Wl)
            W1[:, cols] = res.theta[:, :-1]
            W_new.append(W1)
        else:
            W_new.append(np.ascontiguousarray(res.theta[:, :-1]))
        b_new.append(res.theta[:, -1].copy())
        info["wb_steps"] += res.iterations
        info["wb_rejections"] += res.rejections
        # prox-gradient mapping in the units of L_ρ (the bracket above is scaled by ρ_ℓ/N)
        info["wb_residual"] = max(info["wb_residual"], rho[l] / n * (res.residual if res.iterations else 0.0))
        info["timed_out"] |= res.timed_out
    return W_new, b_new, info


def state_step(X, Y, W, b, V, U, Xi, rho, beta, alphas, *, lambda_v, tau1, first):
    """The closed-form (v, u) update of all layers; returns (V, U, inner residual, X W₁ᵀ + b₁)."""
    n_layers = len(W)
    prev = [X] + V[:-1]
    Z1 = first.preactivation(W[0], b[0])
    R = [None] * n_layers
    tau = [None] * n_layers
    for l in range(1, n_layers):
        C = U[l] - (prev[l] @ W[l].T + b[l])
        R[l] = Xi[l] + rho[l] * C
        tau[l] = rho[l] * (1.0 + spectral_norm_sq(W[l])) + tau1
    V_new, U_new, moves = [], [], []
    for l in range(n_layers):
        if l < n_layers - 1:
            a = 2.0 * lambda_v + tau[l + 1]
            p = (tau[l + 1] * V[l] + R[l + 1] @ W[l + 1]) / a
        else:
            a = 2.0 * (1.0 + lambda_v)
            p = Y / (1.0 + lambda_v)
        if l == 0:
            bq = rho[0] + tau1
            q = (rho[0] * Z1 - Xi[0] + tau1 * U[0]) / bq
        else:
            bq = tau[l]
            q = U[l] - R[l] / tau[l]
        if alphas[l] is None:
            v, u = identity_pair_argmin(a, bq, p, q, beta[l])
        else:
            v, u = leaky_pair_argmin(a, bq, p, q, beta[l], alphas[l])
        # curvature-weighted move: a bound on the AL gradient at the new point (per entry)
        moves.append(a * a * float(np.vdot(v - V[l], v - V[l])) + bq * bq * float(np.vdot(u - U[l], u - U[l])))
        V_new.append(v)
        U_new.append(u)
    n = X.shape[0]
    return V_new, U_new, np.sqrt(sum(moves)) / n, Z1
