"""What every formulation provides: ``build`` (network, data → NLP) and ``unpack`` (x → weights, states)."""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import casadi as ca
import numpy as np

from ..losses import Regularizer
from ..network import Network
from ..nlp import NLP

__all__ = ["Formulation", "Unpacked", "data_residual"]


@dataclass
class Unpacked:
    """A solution vector read back: flat parameters θ and, per lifted layer, states (rows = samples)."""

    params: np.ndarray
    states: dict[str, np.ndarray]


class Formulation(ABC):
    """Turns a network and data into an :class:`~nlpnet.nlp.NLP`, and a solution back into weights."""

    name: str = ""

    @abstractmethod
    def build(self, network: Network, X: np.ndarray, Y: np.ndarray,
              regularizers: tuple[Regularizer, ...] = (), theta: ca.SX | None = None) -> NLP:
        """Build the NLP; ``theta`` lets several formulations share one parameter symbol."""

    @abstractmethod
    def unpack(self, nlp: NLP, x) -> Unpacked:
        """Split a solution ``x`` of ``nlp`` into parameters and states."""

    def describe(self) -> str:
        return self.name


def data_residual(network: Network, theta, Z_last, Y: np.ndarray, layer_index: int):
    """Residual columns (σ_L(W_L Z + b_L) − Yᵀ)/√N from the input ``Z_last`` of layer ``layer_index``."""
    W, b = network.symbolic_weights(theta)[layer_index]
    out = network.layers[layer_index].activation.casadi(Network.affine(W, b, Z_last))
    n = Y.shape[0]
    return (out - ca.DM(Y.T)) / np.sqrt(n)


def regularizer_residuals(network: Network, theta, regularizers) -> ca.SX:
    Ws = [W for W, _ in network.symbolic_weights(theta)]
    parts = [r.residuals(Ws) for r in regularizers if r.strength > 0]
    return ca.vertcat(*parts) if parts else ca.SX(0, 1)
