"""What every formulation provides: ``build`` (network, data → NLP) and ``unpack`` (x → weights, states).

Both shipped formulations share one builder, :func:`structured_nlp`: a formulation is a
choice of lifting rule per hidden layer (none in single shooting), and everything else —
per-sample Functions, kernels, bounds, the feasible start, the block layout, the
complementarity bookkeeping, the global terms — follows from it. Nothing here is O(N) in
symbolic work: the per-sample Functions are built once per architecture and the rest is
NumPy index arithmetic.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import casadi as ca
import numpy as np

from ..nlp import NLP, BlockLayout, GlobalTerms, SampleBlock, Symbols, is_one_hot
from .kernels import DenseKernels
from .sample_functions import sample_functions

__all__ = ["Formulation", "Unpacked", "structured_nlp", "regularizer_residuals"]


@dataclass
class Unpacked:
    """A solution vector read back: flat parameters θ and, per lifted layer, states (rows = samples)."""

    params: np.ndarray
    states: dict[str, np.ndarray]


class Formulation(ABC):
    """Turns a network and data into an :class:`~nlpnet.nlp.NLP`, and a solution back into weights."""

    name: str = ""

    @abstractmethod
    def build(self, network, X, Y, regularizers=(), theta=None, loss=None, validation=None) -> NLP:
        """Build the NLP; ``theta`` lets several formulations share one parameter symbol."""

    def unpack(self, nlp: NLP, x) -> Unpacked:
        """Split a solution ``x`` of ``nlp`` into parameters and named states (``"z1"``, …)."""
        x = np.asarray(x, dtype=float).ravel()
        th, S = nlp.split(x)
        states, c = {}, 0
        for name, layer, d in nlp.layout.state_names:
            states[f"{name}{layer + 1}"] = S[:, c:c + d].copy()
            c += d
        return Unpacked(params=th.copy(), states=states)

    def describe(self) -> str:
        return self.name


def regularizer_residuals(network, theta, regularizers) -> ca.SX:
    Ws = [W for W, _ in network.symbolic_weights(theta)]
    parts = [r.residuals(Ws) for r in regularizers if r.strength > 0]
    return ca.vertcat(*parts) if parts else ca.SX(0, 1)


def structured_nlp(name, network, X, Y, rules, *, regularizers=(), theta=None, loss=None, epsilon=0.0,
                   validation=None, equality_builder=None) -> NLP:
    """The NLP of ``network`` on (X, Y) with one lifting rule per hidden layer (``rules``,
    empty for single shooting); see :mod:`nlpnet.nlp` for what it holds."""
    from ..losses import MSE
    loss = MSE() if loss is None else loss
    theta = ca.SX.sym("theta", network.n_params) if theta is None else theta
    fns = sample_functions(network, rules, loss)
    kern = DenseKernels(network)
    N, n_th, n_s, m = X.shape[0], network.n_params, fns.n_s, fns.m
    samples = SampleBlock(functions=fns, kernels=kern, network=network.copy(), loss=loss, rules=tuple(rules),
                          X=X, Y=Y, lbs=fns.lbs, ubs=fns.ubs, lbr=fns.lbr, ubr=fns.ubr, classes=is_one_hot(Y))
    S0 = kern.lift_states(network.params, X, rules) if rules else np.zeros((N, 0))
    x0 = np.concatenate([network.params, S0.ravel()])
    n_x = x0.size
    inf = np.full(n_th, np.inf)
    layout = BlockLayout(n_samples=N, weight_idx=np.arange(n_th),
                         state_idx=n_th + np.arange(N * n_s, dtype=np.int64).reshape(N, n_s),
                         constraint_idx=np.arange(N * m, dtype=np.int64).reshape(N, m),
                         state_names=fns.state_names)
    j = np.arange(N, dtype=np.int64)[:, None]
    comp_idx = (j * m + fns.comp_rows[None, :]).ravel()
    pr = fns.comp_pairs
    sides = [np.where(pr[None, :, c] == 0, n_th + j * n_s + pr[None, :, c + 1], n_x + j * m + pr[None, :, c + 1])
             for c in (0, 2)]
    pairs = np.stack([sides[0].ravel(), sides[1].ravel()], axis=1).astype(np.int64)
    uses_eps = fns.uses_eps
    eps = ca.SX.sym("eps") if uses_eps else ca.SX(0, 1)
    glob = GlobalTerms(residual=regularizer_residuals(network, theta, regularizers), rows=ca.SX(0, 1),
                       lbg=np.zeros(0), ubg=np.zeros(0), f_rest=ca.SX(0))
    return NLP(formulation=name, samples=samples, glob=glob, symbols=Symbols(theta, n_s, N),
               p=eps, p0=np.array([float(epsilon)]) if uses_eps else np.zeros(0),
               lbx=np.concatenate([-inf, np.tile(fns.lbs, N)]), ubx=np.concatenate([inf, np.tile(fns.ubs, N)]),
               lbg=np.tile(fns.lbr, N), ubg=np.tile(fns.ubr, N), x0=x0, layout=layout,
               complementarity_idx=comp_idx, complementarity_pairs=pairs, validation=validation,
               equality_builder=equality_builder)
