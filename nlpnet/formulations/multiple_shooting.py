"""Multiple shooting (lifted training): every hidden state of every sample is a variable.

    minimize_{θ, z}  (1/N) Σ_j ℓ(σ_L(W_L z_{L−1,j} + b_L), y_j) + R(θ)
    subject to       z_{k,j} = σ_k(W_k z_{k−1,j} + b_k),  k = 1..L−1,  z_{0,j} = x_j,

with ReLU / leaky ReLU layers optionally written as complementarity constraints
(:mod:`.lifting`). Variables are ordered x = [θ; s_1; …; s_N] with s_j all states of
sample j, and constraints g = [g_1; …; g_N] with g_j all layer equations of sample j, so
∂g/∂x has one diagonal block per sample plus the dense θ border (the "arrowhead"): KKT
systems factorise with little fill and structured solvers can eliminate states sample by
sample. The start point is feasible: states come from one forward pass at θ0.

``relu`` chooses how ReLU layers are lifted: ``"complementarity"`` (default, an MPCC that
a solver relaxes by ε and drives ε → 0) or ``"equality"`` (z − max(a, 0) = 0, nonsmooth).
``leaky_relu`` likewise (``"complementarity"`` uses pre-activation variables).
``epsilon`` is the default relaxation stored in ``nlp.p0``.
"""
from __future__ import annotations

import casadi as ca

from ..validation import as_choice, as_float
from .base import Formulation, structured_nlp

__all__ = ["MultipleShooting"]

_RULES = ("complementarity", "equality")


class MultipleShooting(Formulation):
    name = "multiple_shooting"

    def __init__(self, relu: str = "complementarity", leaky_relu: str = "complementarity",
                 epsilon: float = 1e-8):
        self.relu = as_choice("relu", relu, _RULES)
        self.leaky_relu = as_choice("leaky_relu", leaky_relu, _RULES)
        self.epsilon = as_float("epsilon", epsilon, nonneg=True)

    def describe(self) -> str:
        eps = f", epsilon={self.epsilon:g}" if "complementarity" in (self.relu, self.leaky_relu) else ""
        return f"{self.name}(relu={self.relu}, leaky_relu={self.leaky_relu}{eps})"

    def rules(self, network) -> tuple:
        """The lifting rule of each hidden layer."""
        out = []
        for layer in network.layers[:-1]:
            kind = layer.activation.kind
            if kind == "relu" and self.relu == "complementarity":
                out.append("relu")
            elif kind == "leaky_relu" and self.leaky_relu == "complementarity":
                out.append("leaky_relu")
            else:
                out.append("equality")
        return tuple(out)

    def build(self, network, X, Y, regularizers=(), theta=None, loss=None, validation=None):
        theta = ca.SX.sym("theta", network.n_params) if theta is None else theta
        rules = self.rules(network)

        def equality():  # the same problem with every layer lifted as z = σ(a), same θ symbol
            return self.equality_lifting().build(network, X, Y, regularizers, theta, loss, validation)
        return structured_nlp(self.name, network, X, Y, rules, regularizers=regularizers, theta=theta, loss=loss,
                              epsilon=self.epsilon, validation=validation,
                              equality_builder=equality if any(r != "equality" for r in rules) else None)

    def equality_lifting(self) -> "MultipleShooting":
        """The same formulation with every ReLU / leaky ReLU lifted as the equality z = σ(a)."""
        return MultipleShooting(relu="equality", leaky_relu="equality", epsilon=self.epsilon)

    @staticmethod
    def state_symbols(nlp) -> dict[str, ca.SX]:
        """Per lifted block (``"z1"``, ``"u1"``, ``"v1"``, …) the SX states as an (N × d) matrix."""
        S = nlp.symbols.states
        out, c = {}, 0
        for name, layer, d in nlp.layout.state_names:
            out[f"{name}{layer + 1}"] = S[c:c + d, :].T
            c += d
        return out
