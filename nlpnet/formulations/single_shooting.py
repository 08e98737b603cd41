"""Single shooting: the states are eliminated, only θ is optimised.

    minimize_θ  (1/N) Σ_j ‖f_θ(x_j) − y_j‖² + R(θ)

This is the problem back-propagation solves. It is small (n_θ variables, no constraints)
but as nonlinear as the network is deep.
"""
from __future__ import annotations

import casadi as ca
import numpy as np

from ..nlp import NLP, BlockLayout
from .base import Formulation, Unpacked, data_residual, regularizer_residuals

__all__ = ["SingleShooting"]


class SingleShooting(Formulation):
    name = "single_shooting"

    def build(self, network, X, Y, regularizers=(), theta=None) -> NLP:
        theta = ca.SX.sym("theta", network.n_params) if theta is None else theta
        n, L = X.shape[0], len(network.layers)
        Z = ca.DM(X.T)
        for (W, b), layer in zip(network.symbolic_weights(theta)[:-1], network.layers[:-1]):
            Z = layer.activation.casadi(network.affine(W, b, Z))
        R = data_residual(network, theta, Z, Y, L - 1)
        F = ca.vertcat(ca.vec(R), regularizer_residuals(network, theta, regularizers))
        d_out = network.n_outputs
        layout = BlockLayout(
            n_samples=n, weight_idx=np.arange(network.n_params),
            state_idx=np.zeros((n, 0), dtype=np.int64), constraint_idx=np.zeros((n, 0), dtype=np.int64),
            residual_idx=np.arange(n * d_out).reshape(n, d_out))
        inf = np.full(network.n_params, np.inf)
        return NLP(x=theta, f=ca.dot(F, F), g=ca.SX(0, 1), residual=F, f_rest=ca.SX(0), p=ca.SX(0, 1),
                   p0=np.zeros(0), lbx=-inf, ubx=inf, lbg=np.zeros(0), ubg=np.zeros(0),
                   x0=network.params.copy(), layout=layout, formulation=self.name)

    def unpack(self, nlp, x) -> Unpacked:
        x = np.asarray(x, dtype=float).ravel()
        return Unpacked(params=x[nlp.layout.weight_idx].copy(), states={})
