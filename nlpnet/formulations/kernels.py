"""Batched NumPy kernels of a dense network: every quantity for a whole batch as matrix products.

With samples as rows, Z_0 = X (n × d_0) and for layers k = 1..L

    A_k = Z_{k−1} W_kᵀ + 1 b_kᵀ,    Z_k = σ_k(A_k),    D_k = σ_k'(A_k),

so one layer is one BLAS product over the batch (CasADi's scalar graphs and MX ``mtimes`` are
50–250× slower at width 100). These kernels are the solvers' arithmetic; the NLP's
per-sample CasADi Functions (:mod:`.sample_functions`) are their reference in the tests.

**Back-propagation** (single shooting): for ℓ̄ = w Σ_j ℓ(o_j, y_j), o = Z_L,

    Δ_L = w ∂ℓ/∂o ⊙ D_L,   ∂ℓ̄/∂W_k = Δ_kᵀ Z_{k−1},   ∂ℓ̄/∂b_k = Δ_kᵀ 1,   Δ_{k−1} = (Δ_k W_k) ⊙ D_{k−1}.

**Lifted rows** (multiple shooting). A sample's states s_j hold, layer by layer, what its
lifting rule adds (:mod:`.lifting`): z for the equality z − σ(a) = 0 and for ReLU by
complementarity, (u, v) for leaky ReLU by complementarity. :meth:`DenseKernels.lifted_rows`
evaluates every sample's rows and its output at once; :meth:`DenseKernels.lift_states`
simulates the states from the weights (a feasible start).

ReLU rows can be smoothed (the ALM's early subproblems): σ_κ(a) = max(a, 0) +
log(1 + e^{−κ|a|})/κ with σ_κ'(a) = 1/(1 + e^{−κa}); κ = None is the exact ReLU with
derivative 1[a > 0] (:mod:`nlpnet.activations`). The Jacobian of the equality-lifted rows is
in :mod:`.lifted_jacobian`.
"""
from __future__ import annotations

import numpy as np

__all__ = ["DenseKernels", "activate", "RULE_WIDTH"]

RULE_WIDTH = {"equality": 1, "relu": 1, "leaky_relu": 2}        # state blocks per unit
RULE_ROWS = {"equality": 1, "relu": 2, "leaky_relu": 4}         # rows per unit


def activate(act, A, kappa=None, need_derivative=True):
    """(σ(A), σ'(A)) elementwise; σ' is None for the identity (a multiplication saved)."""
    n = act.name
    if n == "tanh":
        Z = np.tanh(A)
        return Z, (1.0 - Z * Z) if need_derivative else None
    if n == "sigmoid":
        Z = 0.5 * (1.0 + np.tanh(0.5 * A))
        return Z, Z * (1.0 - Z) if need_derivative else None
    if n == "relu":
        if kappa is not None:  # softplus_κ: the smoothed ReLU of the ALM's early subproblems
            Z = np.maximum(A, 0.0) + np.log1p(np.exp(-kappa * np.abs(A))) / kappa
            return Z, 0.5 * (1.0 + np.tanh(0.5 * kappa * A)) if need_derivative else None
        return np.maximum(A, 0.0), (A > 0).astype(float) if need_derivative else None
    if n == "leaky_relu":
        return np.maximum(A, act.alpha * A), np.where(A > 0, 1.0, act.alpha) if need_derivative else None
    if n == "softplus":
        return np.logaddexp(0.0, A), 0.5 * (1.0 + np.tanh(0.5 * A)) if need_derivative else None
    return A, None


class DenseKernels:
    """Batched evaluation of one dense architecture (weights are arguments, never stored)."""

    def __init__(self, network):
        self.sizes = list(network.sizes)
        self.acts = list(network.activations)
        self.slices = network.param_slices()
        self.use_bias = [l.use_bias for l in network.layers]
        self.n_params = network.n_params
        self.L = len(self.acts)

    # ------------------------------------------------------------------ weights
    def weights(self, theta) -> list:
        """Per layer (W_k, b_k) as views of θ (b_k None without bias)."""
        out = []
        for k, (ws, bs) in enumerate(self.slices):
            W = theta[ws].reshape(self.sizes[k + 1], self.sizes[k], order="F")
            out.append((W, theta[bs] if self.use_bias[k] else None))
        return out

    def transposed_view(self, vec, k):
        """W_kᵀ as a (d_{k−1} × d_k) C-order view into a flat parameter-shaped vector: the
        layout BLAS writes ∂/∂W_k into without a copy (vec is column-major)."""
        return vec[self.slices[k][0]].reshape(self.sizes[k], self.sizes[k + 1])

    def affine(self, k, W, b, Z):
        A = Z @ W.T
        if b is not None:
            A += b
        return A

    # ------------------------------------------------------------------ forward / back-prop
    def forward(self, theta, X, kappa=None, derivatives=True):
        """Lists over layers: inputs Z_{k−1} (Z_0 = X, and Z_L last), and derivatives D_k."""
        Zs, Ds, Z = [X], [], X
        for k, ((W, b), act) in enumerate(zip(self.weights(theta), self.acts)):
            Z, D = activate(act, self.affine(k, W, b, Z), kappa if act.name == "relu" else None, derivatives)
            Zs.append(Z)
            Ds.append(D)
        return Zs, Ds

    def predict(self, theta, X) -> np.ndarray:
        return self.forward(theta, X, derivatives=False)[0][-1]

    def loss_gradient(self, theta, X, Y, loss, weight: float, outputs: bool = False):
        """(w Σ_j ℓ(o_j, y_j), its θ-gradient) by back-propagation (a new gradient array), and
        the outputs o_j as a third entry if ``outputs``. Overflow in a diverging run gives
        inf/NaN values, which the caller checks."""
        weights = self.weights(theta)
        Zs, Ds, Z = [X], [], X
        for k, ((W, b), act) in enumerate(zip(weights, self.acts)):
            A = Z @ W.T
            if b is not None:
                A += b
            Z, D = activate(act, A, None, True)
            Zs.append(Z)
            Ds.append(D)
        value = weight * loss.total(Z, Y)
        delta = loss.gradient(Z, Y)
        delta *= weight
        grad = np.empty(self.n_params)
        self._backward(weights, delta, Zs, Ds, grad)
        return (value, grad, Z) if outputs else (value, grad)

    def backward(self, theta, delta, Zs, Ds, grad) -> None:
        """∂/∂θ of Σ_j δ_jᵀ o_j (δ = ∂(·)/∂o, n × d_L) into ``grad``."""
        self._backward(self.weights(theta), delta, Zs, Ds, grad)

    def _backward(self, weights, delta, Zs, Ds, grad) -> None:
        for k in range(self.L - 1, -1, -1):
            if Ds[k] is not None:
                delta = delta * Ds[k]
            np.matmul(Zs[k].T, delta, out=self.transposed_view(grad, k))
            if self.use_bias[k]:
                np.add.reduce(delta, axis=0, out=grad[self.slices[k][1]])
            if k:
                delta = delta @ weights[k][0]

    def output_jacobian(self, theta, X) -> np.ndarray:
        """∂o_j/∂θ for every sample: (n × d_L × n_θ), one back-propagation per output unit
        without the sum over samples (∂o_j/∂W_k[i, c] = Δ_k[j, i] Z_{k−1}[j, c])."""
        Zs, Ds = self.forward(theta, X)
        weights = self.weights(theta)
        n, dL = X.shape[0], self.sizes[-1]
        J = np.zeros((n, dL, self.n_params))
        for c in range(dL):
            delta = np.zeros((n, dL))
            delta[:, c] = 1.0
            for k in range(self.L - 1, -1, -1):
                if Ds[k] is not None:
                    delta = delta * Ds[k]
                ws, bs = self.slices[k]
                J[:, c, ws] = np.einsum("jc,ji->jci", Zs[k], delta).reshape(n, -1)
                if self.use_bias[k]:
                    J[:, c, bs] = delta
                if k:
                    delta = delta @ weights[k][0]
        return J

    # ------------------------------------------------------------------ lifted rows
    def state_layout(self, rules) -> list:
        """Per hidden layer: (rule, offset of its states in s_j, width d_k, offset of its rows)."""
        out, s, r = [], 0, 0
        for k, rule in enumerate(rules):
            d = self.sizes[k + 1]
            out.append((rule, s, d, r))
            s += RULE_WIDTH[rule] * d
            r += RULE_ROWS[rule] * d
        return out

    def lifted_rows(self, theta, S, X, rules, eps=0.0, kappa=None):
        """(G, O): every sample's layer rows (n × m, in the per-sample row order of
        :mod:`.lifting`) and outputs (n × d_L), from the states S (n × n_s)."""
        weights = self.weights(theta)
        layout = self.state_layout(rules)
        m = sum(RULE_ROWS[r] * d for r, _, d, _ in layout)
        G = np.empty((X.shape[0], m))
        Z = X
        for k, (rule, s0, d, r0) in enumerate(layout):
            A = self.affine(k, *weights[k], Z)
            act = self.acts[k]
            if rule == "equality":
                z = S[:, s0:s0 + d]
                G[:, r0:r0 + d] = z - activate(act, A, kappa if act.name == "relu" else None, False)[0]
                Z = z
            elif rule == "relu":
                z = S[:, s0:s0 + d]
                G[:, r0:r0 + d] = z - A
                G[:, r0 + d:r0 + 2 * d] = z * (z - A) - eps
                Z = z
            else:
                u, v, alpha = S[:, s0:s0 + d], S[:, s0 + d:s0 + 2 * d], act.alpha
                G[:, r0:r0 + d] = u - A
                G[:, r0 + d:r0 + 2 * d] = v - u
                G[:, r0 + 2 * d:r0 + 3 * d] = v - alpha * u
                G[:, r0 + 3 * d:r0 + 4 * d] = (v - u) * (v - alpha * u) - eps
                Z = v
        O = activate(self.acts[-1], self.affine(self.L - 1, *weights[-1], Z), None, False)[0]
        return G, O

    def lift_states(self, theta, X, rules) -> np.ndarray:
        """States S (n × n_s) of one forward pass: z = σ(a), or (u, v) = (a, σ(a)) for
        leaky ReLU by complementarity. The lifted rows vanish there (a feasible start)."""
        weights, blocks, Z = self.weights(theta), [], X
        for k, rule in enumerate(rules):
            A = self.affine(k, *weights[k], Z)
            Z = activate(self.acts[k], A, None, False)[0]
            blocks += [A, Z] if rule == "leaky_relu" else [Z]
        return np.hstack(blocks) if blocks else np.zeros((X.shape[0], 0))

    def layer_outputs(self, S, rules) -> list:
        """The activations Z_k (n × d_k) of every hidden layer inside states S."""
        return [S[:, s0 + d:s0 + 2 * d] if rule == "leaky_relu" else S[:, s0:s0 + d]
                for rule, s0, d, _ in self.state_layout(rules)]
