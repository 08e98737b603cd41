"""The penalised lifted model (PP) of seed 002 on arrays, and its evaluation.

Layers ℓ = 1..L with W_ℓ ∈ R^{d_ℓ × d_{ℓ−1}}, b_ℓ ∈ R^{d_ℓ}; per sample n the pre-activations
u_{n,ℓ} and activations v_{n,ℓ} are variables (v_{n,0} = x_n). Stored with samples as rows:
U_ℓ, V_ℓ, Ξ_ℓ are N × d_ℓ, so every layer map is one BLAS product V_{ℓ−1} W_ℓᵀ.

    (PP)  minimise   O = (1/N) Σ_n [ ‖v_{n,L} − y_n‖² + Σ_ℓ β_ℓ 1ᵀ(v_{n,ℓ} − σ_ℓ(u_{n,ℓ}))
                                     + λ_v Σ_ℓ ‖v_{n,ℓ}‖² ]  +  λ_w Σ_ℓ Σ_j ‖(W_ℓ)_{:,j}‖
          subject to v − u ≥ 0,  v − αu ≥ 0,  u_{n,ℓ} = W_ℓ v_{n,ℓ−1} + b_ℓ,
          and for α = 0 (ReLU) the bias bound b ≥ −B of (PP_b).

σ_ℓ(t) = max(t, αt) on the hidden layers; the output layer uses the same leaky ReLU or the
identity (then only v_L − u_L ≥ 0 is imposed). This is the slides' (PP) with the per-sample
penalties written per sample: the slides' β, λ_v (and below ρ, ξ) equal ours divided by N, so
one set of option values means the same at every N.

The augmented Lagrangian of the inner problem (4), with C_ℓ = U_ℓ − V_{ℓ−1}W_ℓᵀ − 1b_ℓᵀ:

    L_ρ = O + (1/N) Σ_ℓ [ ⟨Ξ_ℓ, C_ℓ⟩ + ρ_ℓ/2 ‖C_ℓ‖² ].

Metrics follow the slides: TrainErr/TestErr = (1/N) Σ_n ‖f(x_n) − y_n‖² with the network f
evaluated by a forward pass with σ exactly; FeasVi = (1/N) Σ‖v − σ(u)‖² + (1/N) Σ‖C‖²
(reported as its two parts and their sum); the column sparse ratio = fraction of all
Σ_ℓ d_{ℓ−1} columns of the W_ℓ whose norm is ≤ a tolerance.
"""
from __future__ import annotations

import numpy as np

from .weight_step import column_norms

__all__ = ["activation", "forward", "predict", "linear_residuals", "objective_terms",
           "augmented_lagrangian", "network_metrics", "init_weights", "forward_states"]


def activation(t, alpha):
    """Leaky ReLU max(t, αt) for 0 ≤ α < 1; ``alpha=None`` is the identity."""
    return t if alpha is None else np.maximum(t, alpha * t)


def layer_alphas(n_layers, hidden_alpha, output):
    """Per-layer slope: hidden layers α, the output α or ``None`` (identity)."""
    return [hidden_alpha] * (n_layers - 1) + [hidden_alpha if output == "leaky_relu" else None]


def forward(X, W, b, alphas, Z1=None):
    """Pre-activations U_ℓ and activations V_ℓ of a forward pass, samples as rows.
    ``Z1`` = X W₁ᵀ + b₁ if the caller has it already (the costliest product)."""
    U, V, Z = [], [], X
    for l, (Wl, bl, al) in enumerate(zip(W, b, alphas)):
        Ul = Z1 if (l == 0 and Z1 is not None) else Z @ Wl.T + bl
        Z = activation(Ul, al)
        U.append(Ul)
        V.append(Z)
    return U, V


def forward_states(X, W, b, hidden_alpha, output):
    """States (U, V) consistent with the weights (the start the slides and the authors use)."""
    return forward(np.asarray(X, float), W, b, layer_alphas(len(W), hidden_alpha, output))


def predict(X, W, b, alphas):
    return forward(X, W, b, alphas)[1][-1]


def linear_residuals(X, W, b, V, U, Z1=None):
    """C_ℓ = U_ℓ − V_{ℓ−1}W_ℓᵀ − b_ℓ for every layer (V_0 = X; ``Z1`` = X W₁ᵀ + b₁ if known)."""
    prev = [X] + V[:-1]
    return [Ul - (Z1 if (l == 0 and Z1 is not None) else Vp @ Wl.T + bl)
            for l, (Ul, Vp, Wl, bl) in enumerate(zip(U, prev, W, b))]


def objective_terms(Y, W, V, U, alphas, beta, lambda_w, lambda_v):
    """The pieces of O: data fit, exact penalty, R₂ and R₁ (all already divided by N)."""
    n = Y.shape[0]
    fit = float(np.sum((V[-1] - Y) ** 2)) / n
    pen = sum(bl * float(np.sum(Vl - activation(Ul, al))) for Vl, Ul, al, bl in zip(V, U, alphas, beta)) / n
    r2 = lambda_v * sum(float(np.sum(Vl * Vl)) for Vl in V) / n
    r1 = lambda_w * sum(float(column_norms(Wl).sum()) for Wl in W)
    return fit, pen, r2, r1


def augmented_lagrangian(Y, W, V, U, C, Xi, rho, alphas, beta, lambda_w, lambda_v):
    n = Y.shape[0]
    al = sum(objective_terms(Y, W, V, U, alphas, beta, lambda_w, lambda_v))
    al += sum(float(np.vdot(Xl, Cl)) + 0.5 * rl * float(np.vdot(Cl, Cl)) for Xl, Cl, rl in zip(Xi, C, rho)) / n
    return al


def _accuracy(out, Y):
    if Y is None or not is_one_hot(Y):
        return float("nan")
    return float(np.mean(np.argmax(out, axis=1) == np.argmax(Y, axis=1)))


def is_one_hot(Y) -> bool:
    return Y.ndim == 2 and Y.shape[1] > 1 and bool(np.all((Y == 0) | (Y == 1))) and bool(np.all(Y.sum(1) == 1))


def network_metrics(X, Y, W, b, alphas, sparsity_tol, X_test=None, Y_test=None, out=None):
    """TrainErr, TestErr, accuracies and the sparsity figures of the weights alone
    (``out`` = the network's output on X, if the caller has it)."""
    out = predict(X, W, b, alphas) if out is None else out
    m = {"train_err": float(np.sum((out - Y) ** 2)) / X.shape[0], "train_acc": _accuracy(out, Y)}
    if X_test is not None:
        out_t = predict(X_test, W, b, alphas)
        m["test_err"] = float(np.sum((out_t - Y_test) ** 2)) / X_test.shape[0]
        m["test_acc"] = _accuracy(out_t, Y_test)
    else:
        m["test_err"] = m["test_acc"] = float("nan")
    zero = [column_norms(Wl) <= sparsity_tol for Wl in W]
    m["col_sparsity"] = float(sum(z.sum() for z in zero)) / sum(z.size for z in zero)
    m["inputs_pruned"] = float(zero[0].mean())
    hidden = zero[1:]
    m["hidden_pruned"] = float(sum(z.sum() for z in hidden)) / sum(z.size for z in hidden) if hidden else 0.0
    return m


def state_violations(X, W, b, V, U, alphas, Z1=None):
    """The two parts of FeasVi: (1/N)Σ‖v − σ(u)‖² and (1/N)Σ‖C‖², and the residuals C."""
    n = X.shape[0]
    act = sum(float(np.sum((Vl - activation(Ul, al)) ** 2)) for Vl, Ul, al in zip(V, U, alphas)) / n
    C = linear_residuals(X, W, b, V, U, Z1)
    lin = sum(float(np.vdot(Cl, Cl)) for Cl in C) / n
    return act, lin, C


INIT_SCHEMES = ("authors", "slides", "he")


def init_weights(sizes, seed=None, scheme="authors", n_samples=None):
    """Initial (W, b), b = 0, ``sizes`` = [d0, ..., dL]. Schemes: ``"authors"`` W = 0.01·randn
    (their released code), ``"slides"`` W = randn/N (needs ``n_samples``), ``"he"``
    W = randn·√(2/d_{ℓ−1}) (ours, for nets with two or more hidden layers: with the small
    scales the deeper activations are so small that the group lasso outweighs them; on MNIST
    784-100-50-10 at λ_w = 1/N the first outer iteration prunes 98 % of the hidden units)."""
    if scheme not in INIT_SCHEMES:
        raise ValueError(f"scheme: must be one of {INIT_SCHEMES}, got {scheme!r}")
    if scheme == "slides" and not (isinstance(n_samples, int) and n_samples > 0):
        raise ValueError("n_samples: the 'slides' scheme W = randn/N needs the number of samples N > 0")
    if len(sizes) < 2 or any(not isinstance(d, (int, np.integer)) or d < 1 for d in sizes):
        raise ValueError(f"sizes: need at least two positive integer layer widths, got {sizes!r}")
    rng = np.random.default_rng(seed)
    scale = {"authors": lambda d: 0.01, "slides": lambda d: 1.0 / n_samples, "he": lambda d: np.sqrt(2.0 / d)}[scheme]
    W = [scale(sizes[i]) * rng.standard_normal((sizes[i + 1], sizes[i])) for i in range(len(sizes) - 1)]
    b = [np.zeros(sizes[i + 1]) for i in range(len(sizes) - 1)]
    return W, b
