"""Loss and regularizers, written as least-squares residuals.

The training loss is the mean squared error

    MSE(θ) = (1/N) Σ_j ‖f_θ(x_j) − y_j‖²  =  ‖F‖²,   F_j = (f_θ(x_j) − y_j)/√N,

kept as the residual vector F so least-squares solvers (Gauss–Newton, Levenberg–Marquardt)
can use it directly. A regularizer R(W) adds λ·φ(W) to the objective and is also given
as residuals ρ with ‖ρ‖² = λ·φ(W) (up to a constant for the smoothed ones):

* :class:`L2`          λ Σ_k ‖W_k‖_F²                       ρ = √λ · vec(W)
* :class:`L1`          λ Σ_k Σ_{il} |(W_k)_{il}|                ρ = √λ · (w² + ε²)^{1/4}
* :class:`GroupLasso`  λ Σ_k Σ_i ‖(W_k)_{:,i}‖ (column norms)   ρ = √λ · (‖col‖² + ε²)^{1/4}

L1 and group lasso are not differentiable at zero; they are smoothed with |t| ≈ √(t² + ε²)
(``smoothing`` = ε, default 1e-6) so that Newton-type solvers see a C² objective. Biases
are not regularized. Group lasso prunes *input neurons* of each layer; report the share of
zero columns with :func:`column_sparsity`.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import casadi as ca
import numpy as np

__all__ = ["Regularizer", "L2", "L1", "GroupLasso", "column_sparsity", "as_regularizers"]


@dataclass(frozen=True)
class Regularizer(ABC):
    strength: float
    smoothing: float = 1e-6

    def __post_init__(self):
        if not np.isfinite(self.strength) or self.strength < 0:
            raise ValueError(f"{type(self).__name__}.strength: must be a finite number ≥ 0, got {self.strength}")
        if not self.smoothing > 0:
            raise ValueError(f"{type(self).__name__}.smoothing: must be > 0, got {self.smoothing}")

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
