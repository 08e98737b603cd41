"""Multiple shooting (lifted training): every hidden state of every sample is a variable.

    minimize_{θ, z}  (1/N) Σ_j ‖σ_L(W_L z_{L−1,j} + b_L) − y_j‖² + R(θ)
    subject to       z_{k,j} = σ_k(W_k z_{k−1,j} + b_k),  k = 1..L−1,  z_{0,j} = x_j,

with ReLU / leaky ReLU layers optionally written as complementarity constraints
(:mod:`.complementarity`). Variables are ordered x = [θ; s_1; …; s_N] with s_j all states of
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
import numpy as np

from ..nlp import NLP, BlockLayout
from .base import Formulation, Unpacked, data_residual, regularizer_residuals
from .complementarity import STATE_WIDTH, lift_layer

__all__ = ["MultipleShooting"]

_RULES = ("complementarity", "equality")


class MultipleShooting(Formulation):
    name = "multiple_shooting"

    def __init__(self, relu: str = "complementarity", leaky_relu: str = "complementarity",
                 epsilon: float = 1e-8):
        for arg, val in (("relu", relu), ("leaky_relu", leaky_relu)):
            if val not in _RULES:
                raise ValueError(f"{arg}: must be one of {_RULES}, got {val!r}")
        if not (np.isfinite(epsilon) and epsilon >= 0):
            raise ValueError(f"epsilon: must be a finite number ≥ 0, got {epsilon!r}")
        self.relu, self.leaky_relu, self.epsilon = relu, leaky_relu, float(epsilon)

    def describe(self) -> str:
        eps = f", epsilon={self.epsilon:g}" if "complementarity" in (self.relu, self.leaky_relu) else ""
        return f"{self.name}(relu={self.relu}, leaky_relu={self.leaky_relu}{eps})"

    def _rule(self, act) -> str:
        if act.kind == "relu" and self.relu == "complementarity":
            return "relu"
        if act.kind == "leaky_relu" and self.leaky_relu == "complementarity":
            return "leaky_relu"
        return "equality"

    def build(self, network, X, Y, regularizers=(), theta=None) -> NLP:
        theta = ca.SX.sym("theta", network.n_params) if theta is None else theta
        n, L, n_th = X.shape[0], len(network.layers), network.n_params
        rules = [self._rule(l.activation) for l in network.layers[:-1]]
        n_s = sum(STATE_WIDTH[r] * l.units for r, l in zip(rules, network.layers[:-1]))
        S = ca.SX.sym("s", n_s, n)           # column j = states of sample j
        eps = ca.SX.sym("eps") if any(r != "equality" for r in rules) else None
        cursor, names = [0], []

        def take(name, d, layer):
            r0 = cursor[0]
            cursor[0] += d
            names.append((name, layer, d))
            return S[r0:r0 + d, :]

        Z, rows, lbg, ubg, comp, lbx, ubx, lifts, pairs = ca.DM(X.T), [], [], [], [], [], [], [], []
        m = 0
        for k, ((W, b), layer, rule) in enumerate(zip(network.symbolic_weights(theta), network.layers, rules)):
            s0 = cursor[0]
            lift = lift_layer(rule, layer.activation, network.affine(W, b, Z),
                              lambda name, d, k=k: take(name, d, k), eps)
            if lift.pairs is not None:  # local (kind, index) → offsets within the sample's block
                pr = lift.pairs.copy()
                pr[:, 1] += np.where(pr[:, 0] == 0, s0, m)
                pr[:, 3] += np.where(pr[:, 2] == 0, s0, m)
                pairs.append(pr)
            rows.append(lift.rows)
            lbg.append(lift.lbg)
            ubg.append(lift.ubg)
            comp.append(m + lift.comp_rows)
            m += lift.lbg.size
            lbx += [s[2] for s in lift.states]
            ubx += [s[3] for s in lift.states]
            lifts.append(lift)
            Z = lift.output
        G = ca.vertcat(*rows) if rows else ca.SX(0, n)
        R = data_residual(network, theta, Z, Y, L - 1)
        F = ca.vertcat(ca.vec(R), regularizer_residuals(network, theta, regularizers))
        x = ca.vertcat(theta, ca.vec(S))

        comp_local = np.concatenate(comp) if comp else np.zeros(0, dtype=np.int64)
        per_sample_lbx = np.concatenate(lbx) if lbx else np.zeros(0)
        per_sample_ubx = np.concatenate(ubx) if ubx else np.zeros(0)
        lbg_col = np.concatenate(lbg) if lbg else np.zeros(0)
        ubg_col = np.concatenate(ubg) if ubg else np.zeros(0)
        inf = np.full(n_th, np.inf)
        d_out = network.n_outputs
        layout = BlockLayout(
            n_samples=n, weight_idx=np.arange(n_th),
            state_idx=n_th + np.arange(n * n_s).reshape(n, n_s),
            constraint_idx=np.arange(n * m).reshape(n, m),
            residual_idx=np.arange(n * d_out).reshape(n, d_out),
            state_names=tuple(names))
        x0 = np.concatenate([network.params, self._start(network, X, lifts).ravel(order="F")])
        n_x = n_th + n * n_s
        comp_pairs = np.zeros((0, 2), dtype=np.int64)
        if pairs:  # sides as indices into [x; g]
            pr = np.concatenate(pairs)
            j = np.arange(n)[:, None]
            side = [np.where(pr[None, :, c] == 0, n_th + j * n_s + pr[None, :, c + 1], n_x + j * m + pr[None, :, c + 1])
                    for c in (0, 2)]
            comp_pairs = np.stack([side[0].ravel(), side[1].ravel()], axis=1).astype(np.int64)
        return NLP(
            x=x, f=ca.dot(F, F), g=ca.vec(G), residual=F, f_rest=ca.SX(0),
            p=eps if eps is not None else ca.SX(0, 1),
            p0=np.array([self.epsilon]) if eps is not None else np.zeros(0),
            lbx=np.concatenate([-inf, np.tile(per_sample_lbx, n)]),
            ubx=np.concatenate([inf, np.tile(per_sample_ubx, n)]),
            lbg=np.tile(lbg_col, n), ubg=np.tile(ubg_col, n), x0=x0, layout=layout,
            formulation=self.name,
            complementarity_idx=(np.arange(n)[:, None] * m + comp_local[None, :]).ravel(),
            complementarity_pairs=comp_pairs)

    @staticmethod
    def _start(network, X, lifts) -> np.ndarray:
        """States from one forward pass (n_s × N): a feasible start."""
        blocks, Z = [], X
        for (W, b), lift in zip(network.get_weights(), lifts):
            A = Z @ W.T if b is None else Z @ W.T + b
            vals = lift.start(A)
            blocks += [v.T for v in vals]
            Z = vals[-1]
        return np.vstack(blocks) if blocks else np.zeros((0, X.shape[0]))

    def equality_lifting(self) -> "MultipleShooting":
        """The same formulation with every ReLU / leaky ReLU lifted as the equality z = σ(a)."""
        return MultipleShooting(relu="equality", leaky_relu="equality", epsilon=self.epsilon)

    def lift_solution(self, network, X, params, layer_states) -> np.ndarray:
        """This formulation's x from weights and per-layer activations Z_k (N × units each),
        e.g. a solution of :meth:`equality_lifting`: a complementarity ReLU layer takes z = Z_k,
        a leaky one u = Z_{k−1}W_kᵀ + b_k and v = Z_k. For Z_k = max(a_k, 0) (or
        max(a_k, αa_k)) the complementarity rows hold exactly, with ε = 0."""
        blocks, Z_prev = [], X
        for (W, b), layer, Z in zip(network.with_params(params).get_weights(), network.layers[:-1], layer_states):
            if self._rule(layer.activation) == "leaky_relu":
                A = Z_prev @ W.T if b is None else Z_prev @ W.T + b
                blocks += [A.T, Z.T]
            else:
                blocks.append(Z.T)
            Z_prev = Z
        S = np.vstack(blocks) if blocks else np.zeros((0, X.shape[0]))
        return np.concatenate([params, S.ravel(order="F")])

    def unpack(self, nlp, x) -> Unpacked:
        x = np.asarray(x, dtype=float).ravel()
        lay = nlp.layout
        S = x[lay.state_idx]                 # (N, n_s)
        states, c = {}, 0
        for name, layer, d in lay.state_names:
            states[f"{name}{layer + 1}"] = S[:, c:c + d].copy()
            c += d
        return Unpacked(params=x[lay.weight_idx].copy(), states=states)

    @staticmethod
    def state_symbols(nlp) -> dict[str, ca.SX]:
        """Per lifted block (``"z1"``, ``"u1"``, ``"v1"``, …) the SX states as an (N × d) matrix."""
        lay = nlp.layout
        S = ca.reshape(nlp.x[int(lay.weight_idx.size):], lay.state_idx.shape[1], lay.n_samples)
        out, c = {}, 0
        for name, layer, d in lay.state_names:
            out[f"{name}{layer + 1}"] = S[c:c + d, :].T
            c += d
        return out
