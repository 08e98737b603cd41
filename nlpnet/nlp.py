"""The structured NLP contract that every solver reads, and nothing else.

A formulation turns (network, data) into

    minimize_x   f(x; p) = (1/N) Σ_j ℓ(o_j, y_j) + ‖ρ(θ)‖² + f_rest(x)
    subject to   lbg ≤ g(x; p) ≤ ubg,   lbx ≤ x ≤ ubx,

with x = [θ; s_1; …; s_N] (weights, then each sample's lifted states; no states in single
shooting) and g = [g_1; …; g_N; g_G]. The problem is N copies of one small problem coupled
only through θ, so the NLP is not one expanded expression graph but

* :attr:`NLP.samples` — one sample's rows g_j, output o_j and loss ℓ_j as CasADi Functions
  (:mod:`nlpnet.formulations.sample_functions`, symbolic size independent of N), the data they
  are evaluated on, per-sample bounds, and batched NumPy kernels for the same quantities
  (:mod:`nlpnet.formulations.kernels`);
* :attr:`NLP.glob` — the global terms: regularizer residuals ρ(θ) (least squares), user
  constraint rows g_G with their bounds and user objective terms f_rest, as small SX
  expressions in :attr:`NLP.symbols`;
* bounds, the start point x0 (feasible: states simulated from θ0), formulation parameters
  p (the complementarity relaxation ε) and the :class:`BlockLayout`.

Assemblies a back-end needs whole (IPOPT's sparse Jacobian and Hessian) are scattered from
the per-sample blocks with index maps built once (:mod:`nlpnet.formulations.assembly`); the
fully expanded SX graph (:meth:`NLP.expanded`) is built only when asked for, after a size
check. ``constraint_violation`` measures a complementarity pair 0 ≤ A ⊥ B ≥ 0 by its natural
residual |min(A, B)| (for ReLU, |z − max(a, 0)|) instead of its product row, so the reported
violation has the units of the states whatever the scale of the pre-activations.

**Formulations without per-sample CasADi rows** (``penalized_lifting``, whose only solver is
``ialam``) set :attr:`NLP.evaluator`, an object with two methods that the NLP calls instead of
its kernels and global terms:

    rows(nlp, x) -> (G, O)     every sample's rows (N × m, bounds ``lbr``/``ubr``) and outputs
    objective(nlp, x) -> float the formulation's objective at x

so ``g``, ``objective`` and ``constraint_violation`` (what ``Problem`` reports) keep their
meaning; ``samples.functions`` is None and :meth:`NLP.expanded`, :meth:`NLP.functions` and
:meth:`NLP.jacobian_sparsity` refuse with the solver to use.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

import casadi as ca
import numpy as np

__all__ = ["NLP", "BlockLayout", "SampleBlock", "GlobalTerms", "Symbols", "ExpandedNLP", "is_one_hot"]


def is_one_hot(Y) -> bool:
    """Rows of zeros with a single one (at least two columns): classification targets."""
    Y = np.asarray(Y)
    return bool(Y.ndim == 2 and Y.shape[1] > 1 and np.all((Y == 0) | (Y == 1)) and np.all(Y.sum(axis=1) == 1))


def _idx(a) -> np.ndarray:
    return np.asarray(a, dtype=np.int64)


@dataclass(frozen=True)
class BlockLayout:
    """Index maps into x and g: θ (``weight_idx``), sample j's states (row j of
    ``state_idx``) and layer rows (row j of ``constraint_idx``), user rows (``extra_g_idx``).
    With this order ∂g/∂x is an arrowhead: one block per sample plus the shared θ border."""

    n_samples: int
    weight_idx: np.ndarray
    state_idx: np.ndarray          # (N, n_s); (N, 0) in single shooting
    constraint_idx: np.ndarray     # (N, m)
    extra_g_idx: np.ndarray = field(default_factory=lambda: _idx([]))
    state_names: tuple = ()        # per-sample state blocks: (name, layer, width) in order


class Symbols:
    """The NLP's SX symbols: θ (shared with the Problem) and, created on first use, the states
    as an (n_s × N) matrix, column j = sample j. Shared by an NLP and its copies."""

    def __init__(self, theta: ca.SX, n_s: int, N: int):
        self.theta, self.n_s, self.N = theta, int(n_s), int(N)
        self._states = None

    @property
    def states(self) -> ca.SX:
        if self._states is None:
            self._states = ca.SX.sym("s", self.n_s, self.N) if self.n_s else ca.SX(0, self.N)
        return self._states

    @property
    def x(self) -> ca.SX:
        return ca.vertcat(self.theta, ca.vec(self.states)) if self.n_s else self.theta


@dataclass(frozen=True)
class SampleBlock:
    """What every sample contributes (see the module docstring). ``X``/``Y`` are the training
    data (rows = samples); ``rules`` the lifting rule of each hidden layer (empty in single
    shooting); ``lbs``/``ubs`` and ``lbr``/``ubr`` the bounds of one sample's states and rows;
    ``classes`` whether the targets are one-hot rows (:func:`is_one_hot`)."""

    functions: object            # SampleFunctions
    kernels: object              # DenseKernels
    network: object              # the architecture (a Network carrying θ0)
    loss: object                 # nlpnet.losses.Loss
    rules: tuple
    X: np.ndarray
    Y: np.ndarray
    lbs: np.ndarray
    ubs: np.ndarray
    lbr: np.ndarray
    ubr: np.ndarray
    classes: bool = False        # one-hot targets: every solver reports accuracy beside the loss

    @property
    def N(self) -> int:
        return self.X.shape[0]

    @property
    def n_s(self) -> int:
        return self.lbs.size

    @property
    def m(self) -> int:
        return self.lbr.size



@dataclass(frozen=True)
class GlobalTerms:
    """Terms that are not per sample: regularizer residuals ρ (in θ), user rows g_G with
    bounds, user objective terms f_rest; ``on_states`` when g_G or f_rest use lifted states."""

    residual: ca.SX
    rows: ca.SX
    lbg: np.ndarray
    ubg: np.ndarray
    f_rest: ca.SX
    on_states: bool = False

    @property
    def empty(self) -> bool:
        return self.residual.numel() == 0 and self.rows.numel() == 0 and self.f_rest.is_zero()


@dataclass(frozen=True)
class ExpandedNLP:
    """The whole NLP as one SX graph (x, f, g, least-squares residual F, p): a reference for
    tests and for back-ends that need it, built by :meth:`NLP.expanded`."""

    x: ca.SX
    f: ca.SX
    g: ca.SX
    residual: ca.SX
    f_rest: ca.SX
    p: ca.SX


@dataclass(frozen=True)
class NLP:
    """The structured NLP (see the module docstring)."""

    formulation: str
    samples: SampleBlock
    glob: GlobalTerms
    symbols: Symbols
    p: ca.SX
    p0: np.ndarray
    lbx: np.ndarray
    ubx: np.ndarray
    lbg: np.ndarray
    ubg: np.ndarray
    x0: np.ndarray
    layout: BlockLayout
    complementarity_idx: np.ndarray = field(default_factory=lambda: _idx([]))  # rows of g: z∘(z−a) − ε ≤ 0
    # one row per pair 0 ≤ A ⊥ B ≥ 0, same order as complementarity_idx: indices of A and B into [x; g]
    complementarity_pairs: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), dtype=np.int64))
    validation: tuple | None = None                       # (X_val, Y_val)
    equality_builder: object = field(default=None, repr=False, compare=False)
    evaluator: object = field(default=None, repr=False, compare=False)   # see the module docstring
    cache: dict = field(default_factory=dict, compare=False, repr=False)

    # ------------------------------------------------------------------ sizes
    @property
    def n_theta(self) -> int:
        return int(self.layout.weight_idx.size)

    @property
    def N(self) -> int:
        return self.samples.N

    @property
    def n_x(self) -> int:
        return self.x0.size

    @property
    def n_g(self) -> int:
        return self.lbg.size

    @property
    def is_equality(self) -> np.ndarray:
        """Boolean mask over g: True where lbg == ubg."""
        return self.lbg == self.ubg

    @property
    def has_bounds(self) -> bool:
        return bool(np.any(np.isfinite(self.lbx)) or np.any(np.isfinite(self.ubx)))

    @property
    def has_complementarity(self) -> bool:
        return self.complementarity_idx.size > 0

    # ------------------------------------------------------------------ numeric evaluation
    def split(self, x):
        """(θ, S) as views of x: θ (n_θ,) and S (N × n_s), row j = sample j's states."""
        n = self.n_theta
        return x[:n], x[n:].reshape(self.N, self.samples.n_s)

    def sample_rows(self, x, p=None):
        """Every sample's rows G (N × m) and outputs O (N × d_L), by the batched kernels."""
        if self.evaluator is not None:
            return self.evaluator.rows(self, np.asarray(x, dtype=float))
        p = self.p0 if p is None else p
        th, S = self.split(np.asarray(x, dtype=float))
        eps = float(p[0]) if len(p) else 0.0
        sb = self.samples
        if not sb.rules:
            return np.zeros((self.N, 0)), sb.kernels.predict(th, sb.X)
        return sb.kernels.lifted_rows(th, S, sb.X, sb.rules, eps)

    def global_function(self) -> ca.Function:
        """(x, p) ↦ (ρ, g_G, f_rest) as one CasADi Function (built once)."""
        if "glob" not in self.cache:
            g = self.glob
            x = self.symbols.x if g.on_states else self.symbols.theta
            self.cache["glob"] = ca.Function("global_terms", [x, self.p], [g.residual, g.rows, g.f_rest],
                                             ["x", "p"], ["rho", "g", "f_rest"])
        return self.cache["glob"]

    def global_values(self, x, p=None):
        """(ρ, g_G, f_rest) at x as NumPy values."""
        p = self.p0 if p is None else p
        if self.glob.empty:
            return np.zeros(0), np.zeros(0), 0.0
        arg = x if self.glob.on_states else x[:self.n_theta]
        rho, g, f = self.global_function()(arg, p)
        return np.asarray(rho).ravel(), np.asarray(g).ravel(), float(f)

    def g(self, x, p=None) -> np.ndarray:
        G, _ = self.sample_rows(x, p)
        return np.concatenate([G.ravel(), self.global_values(x, p)[1]])

    def objective(self, x, p=None) -> float:
        """f(x) = (1/N) Σ_j ℓ_j + ‖ρ‖² + f_rest (or the evaluator's objective)."""
        if self.evaluator is not None:
            return float(self.evaluator.objective(self, np.asarray(x, dtype=float)))
        _, O = self.sample_rows(x, p)
        rho, _, f_rest = self.global_values(x, p)
        return float(np.mean(self.samples.loss.values(O, self.samples.Y))) + float(rho @ rho) + f_rest

    def lift(self, theta) -> np.ndarray:
        """The point x of weights θ with every sample's states simulated by a forward pass: its
        layer rows hold exactly (complementarity pairs with ε = 0), whatever θ is."""
        th = np.asarray(theta, dtype=float).ravel()
        sb = self.samples
        if not sb.rules:
            return th.copy()
        return np.concatenate([th, sb.kernels.lift_states(th, sb.X, sb.rules).ravel()])

    def data_loss(self, theta, which: str = "train") -> float:
        """Mean loss of the network with weights θ on the training or validation data."""
        return self.evaluate(theta, which)["loss"]

    def evaluate(self, theta, which: str = "train") -> dict:
        """{"loss": mean loss, "accuracy": share of argmax hits (classification only, else
        None)} of the network with weights θ on the training or validation data."""
        if which == "val":
            if self.validation is None:
                return {"loss": float("nan"), "accuracy": None}
            X, Y = self.validation
        else:
            X, Y = self.samples.X, self.samples.Y
        O = self.samples.kernels.predict(np.asarray(theta, dtype=float), X)
        acc = float(np.mean(O.argmax(axis=1) == Y.argmax(axis=1))) if self.samples.classes else None
        with np.errstate(over="ignore", invalid="ignore"):
            return {"loss": float(np.mean(self.samples.loss.values(O, Y))), "accuracy": acc}

    def constraint_violation(self, x, p=None) -> float:
        """max over bounds and rows of the amount by which x violates them; a complementarity
        pair counts with its natural residual |min(A, B)| (see the module docstring)."""
        x = np.asarray(x, dtype=float)
        gval = self.g(x, p)
        lbg, ubg = self.lbg, self.ubg
        if self.has_complementarity:  # the product rows are measured through their pairs below
            lbg, ubg = lbg.copy(), ubg.copy()
            lbg[self.complementarity_idx], ubg[self.complementarity_idx] = -np.inf, np.inf
        parts = [np.maximum(self.lbx - x, 0), np.maximum(x - self.ubx, 0),
                 np.maximum(lbg - gval, 0), np.maximum(gval - ubg, 0)]
        if self.has_complementarity:
            v = np.concatenate([x, gval])
            A, B = self.complementarity_pairs[:, 0], self.complementarity_pairs[:, 1]
            parts.append(np.abs(np.minimum(v[A], v[B])))
        with np.errstate(invalid="ignore"):
            worst = max((float(np.max(q)) if q.size else 0.0) for q in parts)
        return worst if np.isfinite(worst) else float("inf")

    # ------------------------------------------------------------------ symbolic views
    def expanded(self, max_nodes: float = 5e7) -> ExpandedNLP:
        """The whole NLP as one SX graph, built on first use. Refused (ValueError) when its
        estimated size exceeds ``max_nodes`` operations: a back-end that needs it then says
        which structured solver to use instead."""
        if "expanded" in self.cache:
            return self.cache["expanded"]
        self._require_casadi_rows("expanded")
        sf, N = self.samples.functions, self.N
        nodes = N * sf.function("values").n_instructions()
        if nodes > max_nodes:
            raise ValueError(f"expanded: the {self.formulation} NLP would expand to about {nodes:.2g} SX "
                             f"operations (limit {max_nodes:.2g}); use a solver that reads the per-sample "
                             "structure (alm, adam, lbfgs, ipopt) instead of the expanded graph")
        sym = self.symbols
        Xd, Yd = ca.DM(self.samples.X.T), ca.DM(self.samples.Y.T)
        S = sym.states if self.samples.n_s else ca.SX(0, N)
        G, L = sf.mapped("values", N)(sym.theta, S, Xd, Yd, self.p if self.p.numel() else 0)
        rho, gG, f_rest = self.global_function()(sym.x if self.glob.on_states else sym.theta, self.p)
        g = ca.vertcat(ca.vec(G), gG)
        parts = [rho]
        if sf.residual is not None:
            R = sf.mapped("residual", N)(sym.theta, S, Xd, Yd, 0)
            parts.insert(0, ca.vec(R) / np.sqrt(N))
        F = ca.vertcat(*parts)
        f = ca.sum2(L) / N + ca.dot(rho, rho) + f_rest
        ex = ExpandedNLP(x=sym.x, f=f, g=g, residual=F, f_rest=f_rest, p=self.p)
        self.cache["expanded"] = ex
        return ex

    def functions(self) -> dict:
        """CasADi Functions of (x, p) of the expanded graph — objective ``f``, constraints ``g``
        and least-squares residual ``F`` — the reference the kernels are tested against."""
        if "functions" not in self.cache:
            ex = self.expanded()
            args, names = [ex.x, ex.p], ["x", "p"]
            self.cache["functions"] = {k: ca.Function(k, args, [v], names, [k])
                                       for k, v in (("f", ex.f), ("g", ex.g), ("F", ex.residual))}
        return self.cache["functions"]

    def jacobian_sparsity(self) -> ca.Sparsity:
        """Sparsity of ∂g/∂x in the NLP's row and variable order (from the per-sample pattern)."""
        self._require_casadi_rows("jacobian_sparsity")
        from .formulations.assembly import constraint_jacobian_sparsity
        return constraint_jacobian_sparsity(self)

    def _require_casadi_rows(self, what: str) -> None:
        if self.evaluator is not None:
            solver = getattr(self.evaluator, "solver", "its own solver")
            raise ValueError(f"{what}: the {self.formulation} NLP has no per-sample CasADi rows (it is evaluated by "
                             f"{type(self.evaluator).__name__}), so it has no expanded graph; solve it with "
                             f"prob.solve({solver!r}), or build the Problem with formulation='multiple_shooting' "
                             "for solvers that need CasADi expressions")

    # ------------------------------------------------------------------ derived NLPs
    def with_globals(self, glob: GlobalTerms) -> "NLP":
        """A copy with other global terms (user rows appended after the per-sample rows)."""
        n0 = self.N * self.samples.m
        n_user = glob.rows.numel()
        return replace(self, glob=glob, cache={},
                       lbg=np.concatenate([self.lbg[:n0], glob.lbg]), ubg=np.concatenate([self.ubg[:n0], glob.ubg]),
                       layout=replace(self.layout, extra_g_idx=np.arange(n0, n0 + n_user)))

    def equality_equivalent(self) -> "NLP":
        """For ReLU / leaky ReLU lifted by complementarity: the same problem lifted as the
        equality z = max(a, 0) (resp. max(a, αa)), whose feasible set is the complementarity
        system's at ε = 0; the NLP itself otherwise. Solutions map back with
        :meth:`from_equality`."""
        if not self.has_complementarity:
            return self
        if "equality" not in self.cache:
            self.cache["equality"] = self.equality_builder()
        return self.cache["equality"]

    def from_equality(self, x_eq) -> np.ndarray:
        """This NLP's x from a point of :meth:`equality_equivalent` (complementarity exact, ε = 0)."""
        if not self.has_complementarity:
            return np.asarray(x_eq, dtype=float)
        eq = self.equality_equivalent()
        th, S_eq = eq.split(np.asarray(x_eq, dtype=float))
        kern = self.samples.kernels
        Zs = kern.layer_outputs(S_eq, eq.samples.rules)
        blocks, Z = [], self.samples.X
        for k, (rule, Zk) in enumerate(zip(self.samples.rules, Zs)):
            if rule == "leaky_relu":
                W, b = kern.weights(th)[k]
                blocks += [kern.affine(k, W, b, Z), Zk]
            else:
                blocks.append(Zk)
            Z = Zk
        S = np.hstack(blocks) if blocks else np.zeros((self.N, 0))
        return np.concatenate([th, S.ravel()])
