"""Single shooting: the states are eliminated, only θ is optimised.

    minimize_θ  (1/N) Σ_j ℓ(f_θ(x_j), y_j) + R(θ)

This is the problem back-propagation solves. It is small (n_θ variables, no constraints)
but as nonlinear as the network is deep. Per sample it contributes only its loss term, whose
gradient the batched kernels compute by back-propagation.
"""
from __future__ import annotations

from .base import Formulation, structured_nlp

__all__ = ["SingleShooting"]


class SingleShooting(Formulation):
    name = "single_shooting"

    def build(self, network, X, Y, regularizers=(), theta=None, loss=None, validation=None):
        return structured_nlp(self.name, network, X, Y, (), regularizers=regularizers, theta=theta, loss=loss,
                              validation=validation)
