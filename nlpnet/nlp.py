"""The NLP contract that every solver reads.

A formulation turns (network, data) into

    minimize_x   f(x; p) = ‖F(x)‖² + f_rest(x)
    subject to   lbg ≤ g(x; p) ≤ ubg,   lbx ≤ x ≤ ubx,

held as CasADi SX expressions, with a feasible start ``x0``. ``F`` is the least-squares
residual (data misfit / √N and regularizer residuals); ``f_rest`` holds any objective terms
a user added that are not in least-squares form. ``p`` holds formulation parameters such as
the complementarity relaxation ε (empty when there are none).

The :class:`BlockLayout` tells structured solvers where every piece lives: the network
parameters θ (``weight_idx``), each sample's lifted states (row j of ``state_idx``), each
sample's layer constraints (row j of ``constraint_idx``) and data residuals (row j of
``residual_idx``). Rows of g past the per-sample blocks are user constraints
(``extra_g_idx``). With this ordering ∂g/∂x is an arrowhead: one block per sample plus the
shared weight border.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

import casadi as ca
import numpy as np

__all__ = ["NLP", "BlockLayout"]


def _idx(a) -> np.ndarray:
    return np.asarray(a, dtype=np.int64)


@dataclass(frozen=True)
class BlockLayout:
    """Index maps into x, g and F (see module docstring). Arrays of int64."""

    n_samples: int
    weight_idx: np.ndarray
    state_idx: np.ndarray          # (n_samples, states per sample), empty for single shooting
    constraint_idx: np.ndarray     # (n_samples, layer constraints per sample)
    residual_idx: np.ndarray       # (n_samples, n_outputs): data residual rows of F
    extra_g_idx: np.ndarray = field(default_factory=lambda: _idx([]))
    state_names: tuple = ()        # per-sample state blocks: (name, layer, width) in order

    def with_extra_g(self, idx) -> "BlockLayout":
        return replace(self, extra_g_idx=_idx(idx))


@dataclass(frozen=True)
class NLP:
    """Symbolic NLP plus bounds, start point and block layout (see module docstring)."""

    x: ca.SX
    f: ca.SX
    g: ca.SX
    residual: ca.SX
    f_rest: ca.SX
    p: ca.SX
    p0: np.ndarray
    lbx: np.ndarray
    ubx: np.ndarray
    lbg: np.ndarray
    ubg: np.ndarray
    x0: np.ndarray
    layout: BlockLayout
    formulation: str
    complementarity_idx: np.ndarray = field(default_factory=lambda: _idx([]))  # rows of g: z∘(z−a) − ε ≤ 0
    # one row per pair 0 ≤ A ⊥ B ≥ 0, same order as complementarity_idx: indices of A and B into [x; g]
    complementarity_pairs: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), dtype=np.int64))
    cache: dict = field(default_factory=dict, compare=False, repr=False)  # derivative Functions built once

    def hessian_of_lagrangian(self) -> ca.Function:
        """``nlp_hess_l(x, p, lam_f, lam_g)`` → upper triangle of ∇²ₓ(λ_f f + λ_gᵀ g), built
        once per NLP (its symbolic construction dominates solver set-up on large problems)."""
        if "hess_lag" not in self.cache:
            lam_f, lam_g = ca.SX.sym("lam_f"), ca.SX.sym("lam_g", self.n_g)
            H = ca.triu(ca.hessian(lam_f * self.f + ca.dot(lam_g, self.g), self.x)[0])
            self.cache["hess_lag"] = ca.Function("nlp_hess_l", [self.x, self.p, lam_f, lam_g], [H],
                                                 ["x", "p", "lam_f", "lam_g"], ["triu_hess_gamma_x_x"])
        return self.cache["hess_lag"]

    @property
    def n_x(self) -> int:
        return self.x.numel()

    @property
    def n_g(self) -> int:
        return self.g.numel()

    @property
    def is_equality(self) -> np.ndarray:
        """Boolean mask over g: True where lbg == ubg."""
        return self.lbg == self.ubg

    @property
    def has_inequalities(self) -> bool:
        return bool(np.any(~self.is_equality)) or bool(np.any(np.isfinite(self.lbx)) or np.any(np.isfinite(self.ubx)))

    @property
    def has_complementarity(self) -> bool:
        return self.complementarity_idx.size > 0

    def as_dict(self) -> dict:
        """``{"x", "f", "g", "p"}`` for ``casadi.nlpsol``."""
        return {"x": self.x, "f": self.f, "g": self.g, "p": self.p}

    def functions(self) -> dict[str, ca.Function]:
        """CasADi Functions of (x, p): objective, constraints, residual (built once per NLP)."""
        if "functions" not in self.cache:
            args, names = [self.x, self.p], ["x", "p"]
            self.cache["functions"] = {
                "f": ca.Function("f", args, [self.f], names, ["f"]),
                "g": ca.Function("g", args, [self.g], names, ["g"]),
                "F": ca.Function("F", args, [self.residual], names, ["F"]),
            }
        return self.cache["functions"]

    def with_extras(self, g_extra, lbg_extra, ubg_extra, f_extra) -> "NLP":
        """A copy with user constraints appended to g and user objective terms added."""
        if g_extra.numel() == 0 and f_extra is None:
            return self
        n0 = self.n_g
        g = ca.vertcat(self.g, g_extra)
        f_rest = self.f_rest if f_extra is None else self.f_rest + f_extra
        return replace(self, g=g, f=ca.dot(self.residual, self.residual) + f_rest, f_rest=f_rest, cache={},
                       lbg=np.concatenate([self.lbg, lbg_extra]), ubg=np.concatenate([self.ubg, ubg_extra]),
                       layout=self.layout.with_extra_g(np.arange(n0, n0 + g_extra.numel())))

    def constraint_violation(self, x, p=None) -> float:
        """max over bounds and constraints of the amount by which ``x`` violates them."""
        p = self.p0 if p is None else p
        gval = np.asarray(self.functions()["g"](x, p)).ravel()
        viol = [np.maximum(self.lbx - x, 0), np.maximum(x - self.ubx, 0),
                np.maximum(self.lbg - gval, 0), np.maximum(gval - self.ubg, 0)]
        return float(max((v.max() if v.size else 0.0) for v in viol))

    def jacobian_sparsity(self, include_residual: bool = True) -> ca.Sparsity:
        """Sparsity of ∂[F; g]/∂x (or ∂g/∂x) in the variable and row order of the NLP."""
        rows = ca.vertcat(self.residual, self.g) if include_residual else self.g
        return ca.jacobian(rows, self.x).sparsity()
