"""Losses and regularizers, each both symbolic (CasADi, one sample) and batched (NumPy).

**Loss.** The training loss is a mean over samples of a per-sample loss ℓ(o_j, y_j) of the
network output o_j (:class:`MSE`, or :class:`CrossEntropy` of the logits o_j for classification):

    L(θ) = (1/N) Σ_j ℓ(o_j, y_j).

:class:`MSE` is ℓ(o, y) = ‖o − y‖² (sum over outputs, mean over samples); it is a least-squares
loss with residual r(o, y) = o − y, so ‖F‖² = L for F_j = r_j/√N, the form Gauss–Newton and
Levenberg–Marquardt solvers use. A loss gives its per-sample CasADi expression (for the
NLP's per-sample Functions) and, for whole batches, its values and its gradient ∂ℓ/∂o
(for the batched kernels).

**Regularizers.** A regularizer R(W) adds λ·φ(W) to the objective and is also given as
residuals ρ with ‖ρ‖² = λ·φ(W) (up to a constant for the smoothed ones):

* :class:`L2`          λ Σ_k ‖W_k‖_F²                       ρ = √λ · vec(W)
* :class:`L1`          λ Σ_k Σ_{il} |(W_k)_{il}|                ρ = √λ · (w² + ε²)^{1/4}
* :class:`GroupLasso`  λ Σ_k Σ_i ‖(W_k)_{:,i}‖ (column norms)   ρ = √λ · (‖col‖² + ε²)^{1/4}

L1 and group lasso are not differentiable at zero; they are smoothed with |t| ≈ √(t² + ε²)
(``smoothing`` = ε, default 1e-6) so that Newton-type solvers see a C² objective; :meth:`Regularizer.value` is the
exact (unsmoothed) penalty. Biases are not
regularized. Group lasso prunes *input neurons* of each layer; report the share of zero
columns with :func:`column_sparsity`.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import casadi as ca
import numpy as np

__all__ = ["Loss", "MSE", "CrossEntropy", "get_loss", "Regularizer", "L2", "L1", "GroupLasso", "column_sparsity", "as_regularizers"]


class Loss(ABC):
    """A per-sample loss ℓ(o, y) of the network output o (see the module docstring)."""

    name: str = ""
    least_squares: bool = False

    @abstractmethod
    def casadi(self, o, y):
        """ℓ(o, y) for one sample (CasADi column vectors)."""

    @abstractmethod
    def values(self, O: np.ndarray, Y: np.ndarray) -> np.ndarray:
        """ℓ(o_j, y_j) for a batch (rows = samples): shape (n,)."""

    @abstractmethod
    def gradient(self, O: np.ndarray, Y: np.ndarray) -> np.ndarray:
        """∂ℓ/∂o_j for a batch: shape (n, d)."""

    def total(self, O: np.ndarray, Y: np.ndarray) -> float:
        """Σ_j ℓ(o_j, y_j) over a batch."""
        return float(np.sum(self.values(O, Y)))

    def casadi_total(self, O, Y):
        """Σ_j ℓ(o_j, y_j) for a CasADi batch with samples as columns."""
        o, y = ca.MX.sym("o", O.shape[0]), ca.MX.sym("y", Y.shape[0])
        per = ca.Function("loss", [o, y], [self.casadi(o, y)]).map(O.shape[1])
        return ca.sum2(per(O, Y))

    def residual(self, o, y):
        """r(o, y) with ℓ = ‖r‖², for least-squares losses (CasADi)."""
        raise TypeError(f"loss: {self.name!r} is not a least-squares loss")

    @abstractmethod
    def gauss_newton(self, O: np.ndarray, Y: np.ndarray):
        """(T, Lf): per sample a residual t_j in the output and a factor L_j (d × d; None: the
        identity) of the weight G_j = L_jᵀL_j with

            ½(t_j + δ)ᵀ G_j (t_j + δ) = ½ℓ(o_j) + ½g_jᵀδ + ¼δᵀH_jδ + const,

        g = ∂ℓ/∂o, H = ∂²ℓ/∂o² (so G = H/2 and G t = g/2): the loss's exact quadratic model in
        the output — the generalised Gauss–Newton model the ALM's Levenberg–Marquardt steps use
        once the network is linearised."""

    def check_targets(self, Y: np.ndarray, name: str = "y") -> None:
        """Raise ValueError when the targets do not suit this loss."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class MSE(Loss):
    """ℓ(o, y) = ‖o − y‖²: the mean over samples of the squared error summed over outputs."""

    name = "mse"
    least_squares = True

    def casadi(self, o, y):
        return ca.sumsqr(o - y)

    def residual(self, o, y):
        return o - y

    def values(self, O, Y):
        with np.errstate(over="ignore", invalid="ignore"):  # a diverged network reports inf
            return np.sum((O - Y) ** 2, axis=1)

    def total(self, O, Y):
        r = (O - Y).ravel()
        return float(r @ r)

    def casadi_total(self, O, Y):
        return ca.sumsqr(O - Y)

    def gradient(self, O, Y):
        return 2.0 * (O - Y)

    def gauss_newton(self, O, Y):
        return O - Y, None       # g = 2(o − y), H = 2I: t = o − y, G = I, and the model is exact


class CrossEntropy(Loss):
    """Softmax cross-entropy of logits o against class probabilities y (one-hot rows):

        ℓ(o, y) = lse(o) − yᵀo,   lse(o) = m + log Σ_c e^{o_c − m},  m = max_c o_c

    (the shift m keeps every exponent ≤ 0). With p = softmax(o): ∂ℓ/∂o = p − y and
    ∂²ℓ/∂o² = diag(p) − ppᵀ, positive semidefinite with 1 in its null space. Its Gauss–Newton
    weight G = ½(diag(p) − ppᵀ) has the factor L = diag(√p)(I − 1pᵀ)/√2 (LᵀL = G, using
    Σp = 1), and t = 1 − y ⊘ p solves G t = ½(p − y) (Gt = ½(p − y − p·1ᵀ(p − y)) and
    1ᵀ(p − y) = 0). p is floored at 1e-12 in t, which only matters at points where the
    true class has all but vanished."""

    name = "cross_entropy"

    def casadi(self, o, y):
        m = ca.mmax(o)
        return m + ca.log(ca.sum1(ca.exp(o - m))) - ca.dot(y, o)

    @staticmethod
    def _lse(O):
        m = np.max(O, axis=1, keepdims=True)
        with np.errstate(over="ignore", invalid="ignore"):
            return (m + np.log(np.sum(np.exp(O - m), axis=1, keepdims=True)))[:, 0]

    @staticmethod
    def softmax(O):
        E = np.exp(O - np.max(O, axis=1, keepdims=True))
        return E / np.sum(E, axis=1, keepdims=True)

    def values(self, O, Y):
        with np.errstate(over="ignore", invalid="ignore"):
            return self._lse(O) - np.sum(Y * O, axis=1)

    def total(self, O, Y):
        return float(np.sum(self.values(O, Y)))

    def gradient(self, O, Y):
        return self.softmax(O) - Y

    def gauss_newton(self, O, Y):
        P = self.softmax(O)
        T = 1.0 - Y / np.maximum(P, 1e-12)
        d = P.shape[1]
        Lf = (np.sqrt(P)[:, :, None] * (np.eye(d)[None] - P[:, None, :])) / np.sqrt(2.0)
        return T, Lf

    def check_targets(self, Y, name="y"):
        if np.any(Y < 0) or not np.allclose(Y.sum(axis=1), 1.0, atol=1e-9):
            raise ValueError(f"{name}: cross-entropy needs class probabilities per row (one-hot targets, or "
                             "nonnegative rows summing to 1); convert labels with nlpnet.one_hot(labels)")


LOSSES = {"mse": MSE, "cross_entropy": CrossEntropy}
_LOSS_ALIASES = {"ce": "cross_entropy", "crossentropy": "cross_entropy", "softmax_cross_entropy": "cross_entropy",
                 "categorical_crossentropy": "cross_entropy"}


def get_loss(spec) -> Loss:
    """A :class:`Loss` from an instance or a name (``"mse"``)."""
    if isinstance(spec, Loss):
        return spec
    if isinstance(spec, str) and _LOSS_ALIASES.get(spec, spec) in LOSSES:
        return LOSSES[_LOSS_ALIASES.get(spec, spec)]()
    from .validation import did_you_mean
    raise ValueError(f"loss: unknown loss {spec!r}; choose one of {', '.join(LOSSES)}{did_you_mean(spec, LOSSES)}")


@dataclass(frozen=True)
class Regularizer(ABC):
    """λ·φ(W) on the weight matrices (biases are not regularized); see the module docstring."""

    strength: float
    smoothing: float = 1e-6

    def __post_init__(self):
        from .validation import as_float
        name = type(self).__name__
        object.__setattr__(self, "strength", as_float(f"{name}.strength", self.strength, nonneg=True))
        object.__setattr__(self, "smoothing", as_float(f"{name}.smoothing", self.smoothing, positive=True))

    @abstractmethod
    def residuals(self, weights) -> ca.SX:
        """Residuals ρ(W) (CasADi) with ‖ρ‖² equal to the penalty, for the weight matrices given."""

    @abstractmethod
    def value(self, weights_np) -> float:
        """The exact (unsmoothed) penalty for NumPy weight matrices."""


class L2(Regularizer):
    """Weight decay λ Σ ‖W_k‖_F²."""

    def residuals(self, weights):
        return ca.sqrt(self.strength) * ca.vertcat(*[ca.vec(W) for W in weights])

    def value(self, weights_np):
        return self.strength * sum(float(np.sum(W ** 2)) for W in weights_np)


class L1(Regularizer):
    """λ Σ |w| over all weights (smoothed by ``smoothing``)."""

    def residuals(self, weights):
        w = ca.vertcat(*[ca.vec(W) for W in weights])
        return ca.sqrt(self.strength) * (w ** 2 + self.smoothing ** 2) ** 0.25

    def value(self, weights_np):
        return self.strength * sum(float(np.sum(np.abs(W))) for W in weights_np)


class GroupLasso(Regularizer):
    """λ Σ_k Σ_i ‖(W_k)_{:,i}‖: one group per input neuron of each layer."""

    def residuals(self, weights):
        cols = [ca.sum1(W ** 2).T for W in weights]  # squared column norms
        return ca.sqrt(self.strength) * (ca.vertcat(*cols) + self.smoothing ** 2) ** 0.25

    def value(self, weights_np):
        return self.strength * sum(float(np.sum(np.linalg.norm(W, axis=0))) for W in weights_np)


def column_sparsity(weights_np, tol: float = 1e-4) -> float:
    """Share of weight columns (input neurons, over all layers) whose norm is below ``tol``."""
    norms = np.concatenate([np.linalg.norm(W, axis=0) for W in weights_np])
    return float(np.mean(norms < tol))


def as_regularizers(reg) -> tuple[Regularizer, ...]:
    if reg is None:
        return ()
    items = reg if isinstance(reg, (list, tuple)) else [reg]
    for r in items:
        if not isinstance(r, Regularizer):
            raise TypeError(f"regularizer: expected nlpnet.L2/L1/GroupLasso instances, got {type(r).__name__}")
    return tuple(items)
