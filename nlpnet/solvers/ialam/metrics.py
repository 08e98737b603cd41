"""What the iALAM outer loop measures: its merit function and the slides' metrics.

With C_ℓ = U_ℓ − V_{ℓ−1}W_ℓᵀ − 1b_ℓᵀ the augmented Lagrangian of the inner problem (4) is

    L_ρ = O + (1/N) Σ_ℓ [ ⟨Ξ_ℓ, C_ℓ⟩ + ρ_ℓ/2 ‖C_ℓ‖² ]

(O the objective of (PP), :mod:`nlpnet.formulations.penalized`, with the current β).

Metrics follow the slides: TrainErr/TestErr = (1/N) Σ_n ‖f(x_n) − y_n‖² with the network f
evaluated by a forward pass with σ exactly; FeasVi = (1/N) Σ‖v − σ(u)‖² + (1/N) Σ‖C‖² (reported
as its two parts and their sum); the column sparse ratio = the fraction of all Σ_ℓ d_{ℓ−1}
columns of the W_ℓ whose norm is ≤ a tolerance, and separately the fraction of inputs (zero
columns of W₁) and of hidden units (zero columns of W_ℓ, ℓ ≥ 2) pruned.
"""
from __future__ import annotations

import numpy as np

from ...formulations.penalized import activation, column_norms

__all__ = ["augmented_lagrangian", "network_metrics", "state_violations"]


def augmented_lagrangian(model, Y, W, V, U, C, Xi, rho, beta) -> float:
    n = Y.shape[0]
    al = sum(model.objective_terms(Y, W, V, U, beta))
    al += sum(float(np.vdot(Xl, Cl)) + 0.5 * rl * float(np.vdot(Cl, Cl)) for Xl, Cl, rl in zip(Xi, C, rho)) / n
    return al


def _accuracy(out, Y, classes):
    return float(np.mean(np.argmax(out, axis=1) == np.argmax(Y, axis=1))) if classes else float("nan")


def network_metrics(model, X, Y, W, b, sparsity_tol, test=None, classes=False, out=None) -> dict:
    """TrainErr, TestErr (``test`` = (X_test, Y_test) or None), accuracies (one-hot targets:
    ``classes``) and the sparsity figures of the weights; ``out`` = the network's output on X."""
    out = model.predict(X, W, b) if out is None else out
    m = {"train_err": float(np.sum((out - Y) ** 2)) / X.shape[0], "train_acc": _accuracy(out, Y, classes)}
    if test is not None:
        out_t = model.predict(test[0], W, b)
        m["test_err"] = float(np.sum((out_t - test[1]) ** 2)) / test[0].shape[0]
        m["test_acc"] = _accuracy(out_t, test[1], classes)
    else:
        m["test_err"] = m["test_acc"] = float("nan")
    zero = [column_norms(Wl) <= sparsity_tol for Wl in W]
    m["col_sparsity"] = float(sum(z.sum() for z in zero)) / sum(z.size for z in zero)
    m["inputs_pruned"] = float(zero[0].mean())
    hidden = zero[1:]
    m["hidden_pruned"] = float(sum(z.sum() for z in hidden)) / sum(z.size for z in hidden) if hidden else 0.0
    return m


def state_violations(model, X, W, b, V, U, Z1=None):
    """The two parts of FeasVi, (1/N)Σ‖v − σ(u)‖² and (1/N)Σ‖C‖², and the residuals C."""
    n = X.shape[0]
    act = sum(float(np.sum((Vl - activation(Ul, al)) ** 2)) for Vl, Ul, al in zip(V, U, model.alphas)) / n
    C = model.linear_residuals(X, W, b, V, U, Z1)
    lin = sum(float(np.vdot(Cl, Cl)) for Cl in C) / n
    return act, lin, C
