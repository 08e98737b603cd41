"""The penalised lifted model (PP) of seed 002 (leaky ReLU, group sparsity) as a formulation.

Layers ℓ = 1..L with W_ℓ ∈ R^{d_ℓ × d_{ℓ−1}}, b_ℓ ∈ R^{d_ℓ}; per sample n the pre-activations
u_{n,ℓ} and activations v_{n,ℓ} of every layer (the output layer too) are variables,
v_{n,0} = x_n:

    (PP)  minimise   O = (1/N) Σ_n [ ‖v_{n,L} − y_n‖² + Σ_ℓ β_ℓ 1ᵀ(v_{n,ℓ} − σ_ℓ(u_{n,ℓ}))
                                     + λ_v Σ_ℓ ‖v_{n,ℓ}‖² ]  +  λ_w Σ_ℓ Σ_j ‖(W_ℓ)_{:,j}‖
          subject to u_{n,ℓ} = W_ℓ v_{n,ℓ−1} + b_ℓ,   v − u ≥ 0,   v − αu ≥ 0,
                     and for ReLU (α = 0) the bias bound b ≥ −B of (PP_b).

σ(t) = max(t, αt) on the hidden layers (0 ≤ α < 1; α = 0 is ReLU); the output layer uses the
same σ (then both inequalities) or the identity (then only v_L − u_L ≥ 0). The inequalities say
v ≥ σ(u) and the exact penalty β_ℓ 1ᵀ(v − σ(u)) drives v = σ(u) (the slides' Theorem 3: above a
threshold on β, the minimisers of (PP) are those of the lifted problem v = σ(u)). R₁ is the
group lasso on columns: a zero column of W₁ prunes an input, a zero column of W_ℓ, ℓ ≥ 2, a
hidden unit of layer ℓ − 1.

**Units.** The slides write the penalties as sums over samples; here they are per sample (the
slides' β and λ_v are ours divided by N), so one value means the same at every N. The
authors' released code minimises half of O: their β = 1 is our β = 2.

**Which model parameter comes from where.** α and the output kind from the network's
activations (hidden layers all ``"relu"`` or all the same ``"leaky_relu"``; output
``"identity"`` or the hidden layers' own activation); λ_w from an :class:`nlpnet.GroupLasso`
regularizer (none: λ_w = 0); λ_v, β (one number or one per layer) and B from
:class:`PenalizedLifting`. The loss must be the squared error (``loss="mse"``).

**The NLP.** x = [θ; s_1; …; s_N] with θ the network's parameters and
s_n = (u_{n,1}, v_{n,1}, …, u_{n,L}, v_{n,L}); sample n's rows are its L linear equations
c_ℓ = u_ℓ − W_ℓ v_{ℓ−1} − b_ℓ = 0, then v_ℓ − u_ℓ ≥ 0 for every layer, then v_ℓ − αu_ℓ ≥ 0 for
the leaky layers; x0 holds the states of a forward pass (feasible, v = σ(u)). The rows are
bilinear and the penalty nonsmooth, so the NLP carries no per-sample CasADi Functions: its
:class:`PenalizedModel` evaluates rows and objective with NumPy (``nlp.evaluator``, see
:mod:`nlpnet.nlp`) and holds the model parameters, which the ``ialam`` solver reads.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import casadi as ca
import numpy as np

from ..nlp import NLP, BlockLayout, GlobalTerms, SampleBlock, Symbols, is_one_hot
from ..validation import as_float, as_per_layer
from .base import Formulation
from .kernels import DenseKernels

__all__ = ["PenalizedLifting", "PenalizedModel", "activation", "column_norms"]


def activation(t, alpha):
    """Leaky ReLU max(t, αt) for 0 ≤ α < 1; ``alpha=None`` is the identity."""
    return t if alpha is None else np.maximum(t, alpha * t)


def column_norms(W: np.ndarray) -> np.ndarray:
    return np.sqrt(np.einsum("ij,ij->j", W, W))


@dataclass(frozen=True)
class PenalizedModel:
    """The parameters of (PP) for one network, and its evaluation on arrays (samples as rows).

    ``alphas[ℓ]`` is layer ℓ's slope (None: identity output); ``beta`` one β_ℓ per layer."""

    sizes: tuple
    alphas: tuple
    lambda_w: float
    lambda_v: float
    beta: tuple
    bias_bound: float
    solver: ClassVar[str] = "ialam"

    @property
    def n_layers(self) -> int:
        return len(self.sizes) - 1

    @property
    def relu(self) -> bool:
        """True for ReLU networks (α = 0), which carry the bias bound of (PP_b)."""
        return any(a == 0.0 for a in self.alphas)

    @property
    def bias_lower(self) -> float:
        return -self.bias_bound if self.relu else -np.inf

    # ---------------------------------------------------------------- packing
    def weights(self, theta):
        """(W list, b list) from the network's flat parameters [vec(W₁); b₁; …] (vec column-major)."""
        W, b, pos = [], [], 0
        for d_in, d_out in zip(self.sizes[:-1], self.sizes[1:]):
            W.append(np.ascontiguousarray(np.reshape(theta[pos:pos + d_in * d_out], (d_out, d_in), order="F")))
            pos += d_in * d_out
            b.append(np.array(theta[pos:pos + d_out]))
            pos += d_out
        return W, b

    @staticmethod
    def theta(W, b) -> np.ndarray:
        return np.concatenate([np.concatenate([Wl.ravel(order="F"), bl]) for Wl, bl in zip(W, b)])

    def split_states(self, S):
        """(U, V): per layer the N × d_ℓ pre-activations and activations from the states S (N × n_s)."""
        U, V, c = [], [], 0
        for d in self.sizes[1:]:
            U.append(np.ascontiguousarray(S[:, c:c + d]))
            V.append(np.ascontiguousarray(S[:, c + d:c + 2 * d]))
            c += 2 * d
        return U, V

    @staticmethod
    def join_states(U, V) -> np.ndarray:
        return np.hstack([M for pair in zip(U, V) for M in pair])

    def point(self, W, b, U, V) -> np.ndarray:
        """The NLP's x of an iterate."""
        return np.concatenate([self.theta(W, b), self.join_states(U, V).ravel()])

    def unpack_point(self, nlp, x):
        th, S = nlp.split(x)
        return (*self.weights(th), *self.split_states(S))

    # ---------------------------------------------------------------- the model on arrays
    def forward(self, X, W, b, Z1=None):
        """Pre-activations U_ℓ and activations V_ℓ of a forward pass (``Z1`` = X W₁ᵀ + b₁ if known)."""
        U, V, Z = [], [], X
        for l, (Wl, bl, al) in enumerate(zip(W, b, self.alphas)):
            Ul = Z1 if (l == 0 and Z1 is not None) else Z @ Wl.T + bl
            Z = activation(Ul, al)
            U.append(Ul)
            V.append(Z)
        return U, V

    def predict(self, X, W, b) -> np.ndarray:
        return self.forward(X, W, b)[1][-1]

    @staticmethod
    def linear_residuals(X, W, b, V, U, Z1=None):
        """C_ℓ = U_ℓ − V_{ℓ−1}W_ℓᵀ − b_ℓ for every layer (V_0 = X; ``Z1`` = X W₁ᵀ + b₁ if known)."""
        prev = [X] + V[:-1]
        return [Ul - (Z1 if (l == 0 and Z1 is not None) else Vp @ Wl.T + bl)
                for l, (Ul, Vp, Wl, bl) in enumerate(zip(U, prev, W, b))]

    def objective_terms(self, Y, W, V, U, beta=None):
        """Data fit, exact penalty, R₂ and R₁ of O (``beta``: per-layer weights other than the model's)."""
        n = Y.shape[0]
        beta = self.beta if beta is None else beta
        fit = float(np.sum((V[-1] - Y) ** 2)) / n
        pen = sum(bl * float(np.sum(Vl - activation(Ul, al))) for Vl, Ul, al, bl in zip(V, U, self.alphas, beta)) / n
        r2 = self.lambda_v * sum(float(np.sum(Vl * Vl)) for Vl in V) / n
        r1 = self.lambda_w * sum(float(column_norms(Wl).sum()) for Wl in W)
        return fit, pen, r2, r1

    def violation(self, C, V, U, b) -> float:
        """Max violation of the rows and bounds: |c|, u − v, αu − v, −B − b (positive parts)."""
        worst = max(float(np.max(np.abs(Cl), initial=0.0)) for Cl in C)
        for Vl, Ul, al in zip(V, U, self.alphas):
            worst = max(worst, float(np.max(Ul - Vl, initial=0.0)))
            if al is not None:
                worst = max(worst, float(np.max(al * Ul - Vl, initial=0.0)))
        if self.relu:
            worst = max(worst, max(float(np.max(self.bias_lower - bl, initial=0.0)) for bl in b))
        return worst if np.isfinite(worst) else float("inf")

    # ---------------------------------------------------------------- the NLP's evaluator
    def rows(self, nlp, x):
        """Every sample's rows [c_1 … c_L, v_1 − u_1 … v_L − u_L, v_ℓ − αu_ℓ (leaky layers)] and v_L."""
        W, b, U, V = self.unpack_point(nlp, x)
        C = self.linear_residuals(nlp.samples.X, W, b, V, U)
        lower = [Vl - Ul for Vl, Ul in zip(V, U)]
        leaky = [Vl - al * Ul for Vl, Ul, al in zip(V, U, self.alphas) if al is not None]
        return np.hstack(C + lower + leaky), V[-1]

    def objective(self, nlp, x) -> float:
        W, b, U, V = self.unpack_point(nlp, x)
        with np.errstate(over="ignore", invalid="ignore"):
            return float(sum(self.objective_terms(nlp.samples.Y, W, V, U)))


class PenalizedLifting(Formulation):
    """(PP) of seed 002 (see the module docstring); solved by ``prob.solve("ialam")``.

    ``lambda_v`` (≥ 0) is λ_v of R₂ = λ_v‖v‖² per sample; ``beta`` (> 0) the exact-penalty
    weight, one number or one per layer (the authors' β = 1 in their half-scaled objective);
    ``bias_bound`` (> 0) the B of (PP_b), imposed on every bias of a ReLU network."""

    name = "penalized_lifting"

    def __init__(self, lambda_v: float = 0.0, beta=2.0, bias_bound: float = 1e3):
        self.lambda_v = as_float("lambda_v", lambda_v, nonneg=True)
        self.beta = as_per_layer("beta", beta, positive=True)
        self.bias_bound = as_float("bias_bound", bias_bound, positive=True)

    def describe(self) -> str:
        return f"{self.name}(lambda_v={self.lambda_v:g}, beta={self.beta}, bias_bound={self.bias_bound:g})"

    def model(self, network, regularizers=(), loss=None) -> PenalizedModel:
        """The (PP) parameters for ``network``; ValueError naming the argument that does not fit."""
        from ..losses import GroupLasso
        if loss is not None and loss.name != "mse":
            raise ValueError(f"loss: the penalized_lifting model fits the squared error ‖v_L − y‖²; give loss='mse' "
                             f"(got {loss.name!r}), or use formulation='multiple_shooting' for other losses")
        layers = network.layers
        if any(not layer.use_bias for layer in layers):
            raise ValueError("network: the penalized_lifting model has a bias b_ℓ in every layer; build the layers "
                             "with use_bias=True")
        hidden, out = [layer.activation for layer in layers[:-1]], layers[-1].activation
        kinds = ("relu", "leaky_relu")
        if any(a != (hidden or [out])[0] for a in hidden) or any(a.name not in kinds for a in hidden):
            raise ValueError(f"network: the hidden layers of the penalized_lifting model must all be 'relu' or all "
                             f"the same 'leaky_relu', got {', '.join(str(a) for a in hidden)}; use "
                             "formulation='multiple_shooting' for other activations")
        if out.name != "identity" and ((hidden and out != hidden[0]) or out.name not in kinds):
            own = f"the hidden layers' {hidden[0]}" if hidden else "'relu' or 'leaky_relu'"
            raise ValueError(f"network: the output activation of the penalized_lifting model must be 'identity' or "
                             f"{own}, got {out}")
        slope = lambda a: None if a.name == "identity" else (0.0 if a.name == "relu" else float(a.alpha))
        alphas = tuple(slope(a) for a in hidden) + (slope(out),)
        regs = tuple(regularizers)
        bad = [type(r).__name__ for r in regs if not isinstance(r, GroupLasso)]
        if bad or len(regs) > 1:
            raise ValueError(f"regularizer: the penalized_lifting model takes one nlpnet.GroupLasso (its R₁ = "
                             f"λ_w Σ‖column‖), got {', '.join(type(r).__name__ for r in regs)}; drop the others")
        beta = self.beta if isinstance(self.beta, tuple) else (self.beta,) * len(layers)
        if len(beta) != len(layers):
            raise ValueError(f"beta: has {len(beta)} entries but the network has {len(layers)} layers; give one "
                             "number or one per layer")
        return PenalizedModel(sizes=tuple(network.sizes), alphas=alphas,
                              lambda_w=regs[0].strength if regs else 0.0, lambda_v=self.lambda_v, beta=beta,
                              bias_bound=self.bias_bound)

    def build(self, network, X, Y, regularizers=(), theta=None, loss=None, validation=None) -> NLP:
        from ..losses import MSE
        model = self.model(network, regularizers, loss)
        theta = ca.SX.sym("theta", network.n_params) if theta is None else theta
        U, V = model.forward(X, *model.weights(network.params))
        S0 = model.join_states(U, V)                      # a forward pass: feasible, v = σ(u)
        N, n_th, n_s = X.shape[0], network.n_params, S0.shape[1]
        widths = model.sizes[1:]
        n_lin, n_leaky = sum(widths), sum(d for d, a in zip(widths, model.alphas) if a is not None)
        lbr = np.zeros(2 * n_lin + n_leaky)
        ubr = np.concatenate([np.zeros(n_lin), np.full(n_lin + n_leaky, np.inf)])
        m = lbr.size
        lbx = np.full(n_th + N * n_s, -np.inf)
        if model.relu:
            for _, bs in network.param_slices():
                lbx[bs] = -model.bias_bound
        samples = SampleBlock(functions=None, kernels=DenseKernels(network), network=network.copy(),
                              loss=loss if loss is not None else MSE(), rules=(), X=X, Y=Y,
                              lbs=np.full(n_s, -np.inf), ubs=np.full(n_s, np.inf), lbr=lbr, ubr=ubr,
                              classes=is_one_hot(Y))
        names = tuple((kind, l, d) for l, d in enumerate(widths) for kind in ("u", "v"))
        layout = BlockLayout(n_samples=N, weight_idx=np.arange(n_th),
                             state_idx=n_th + np.arange(N * n_s, dtype=np.int64).reshape(N, n_s),
                             constraint_idx=np.arange(N * m, dtype=np.int64).reshape(N, m), state_names=names)
        glob = GlobalTerms(residual=ca.SX(0, 1), rows=ca.SX(0, 1), lbg=np.zeros(0), ubg=np.zeros(0), f_rest=ca.SX(0))
        return NLP(formulation=self.name, samples=samples, glob=glob, symbols=Symbols(theta, n_s, N),
                   p=ca.SX(0, 1), p0=np.zeros(0), lbx=lbx, ubx=np.full(lbx.size, np.inf), lbg=np.tile(lbr, N),
                   ubg=np.tile(ubr, N), x0=np.concatenate([network.params, S0.ravel()]), layout=layout,
                   validation=validation, evaluator=model)
