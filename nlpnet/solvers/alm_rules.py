"""Outer rules of the augmented Lagrangian method: penalties, inner tolerances, multipliers.

After the k-th subproblem (k = 0, 1, …) returns u_{k+1} with violation h = h(u_{k+1}), a
rule sets the multipliers λ_{k+1}, the next penalty β_{k+1} and inner tolerance η_{k+1}
(bounding ‖∇_u L_β‖_∞), and may ask to stop.

* :class:`ThesisRule` — Algorithm 1 of the thesis (after Sahin et al., 2019):
  β_k = β^k, η_k = η_0/β_k and λ ← λ + σ_{k+1} h with the bounded dual step
  σ_{k+1} = σ_0 min(‖h_ref‖ log²2 / (‖h‖ (k+1) log²(k+2)), 1).
  *Feasible-start pitfall*: the thesis takes h_ref = h(u_0), but the start is feasible
  (states simulated from the weights), so ‖h(u_0)‖ is round-off, σ ≈ 0 and the multipliers
  never move — the method degenerates to a quadratic penalty shifted by the random λ_0/β.
  ``reference="first_iterate"`` (default) uses max(‖h(u_0)‖, ‖h(u_1)‖), the violation
  after the first subproblem, which is the first meaningful scale; ``"start"`` reproduces
  the thesis literally.
* :class:`ClassicRule` — Hestenes–Powell / Bertsekas: λ ← λ + βh; β ← κβ unless ‖h‖ fell
  below ``required_decrease`` times its previous value; η ← max(η·``eta_factor``, η_min).
* :class:`LiuRule` — the inexact ALM of the leaky-ReLU slides: ξ ← ξ + ρh; ρ is kept for
  the first γ outer steps and while ‖h_k‖ ≤ η₁ max of the previous γ values, otherwise
  ρ ← max(η₂ρ, ‖ξ‖^{1+η₃}). The slide prints ρ/η₂, which would *decrease* ρ when
  feasibility stalls; the increasing form η₂ρ is the intended one and is used here. The
  slides stop when ρ > 10³ ρ₀ (``stop_factor``).

Every rule is a dataclass of its parameters; the ALM's ``beta_max`` and ``lambda_max``
cap penalties and clip multipliers for all of them. Multiplier start values
(:func:`initial_multipliers`): zeros; standard normal (the thesis); or the least-squares
estimate, which at the feasible start solves the per-sample adjoint equations
B_jᵀλ_j = −∂(½‖F‖²)/∂s_j — back-propagation's adjoint variables.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..options import check_int, check_positive

__all__ = ["ThesisRule", "ClassicRule", "LiuRule", "RULES", "make_rule", "initial_multipliers"]


@dataclass
class OuterState:
    k: int                 # index of the subproblem just solved (0-based)
    beta: float            # its penalty
    eta: float             # its inner tolerance
    lam: np.ndarray        # its multipliers
    h: np.ndarray          # h(u_{k+1})
    h_norm: float
    h0_norm: float         # ‖h(u_0)‖
    h_history: list        # ‖h(u_1)‖, …, ‖h(u_{k+1})‖


@dataclass
class ThesisRule:
    """beta: β (β_k = β^k); eta0: η_k = eta0/β_k; sigma0: dual step scale σ_0;
    reference: "first_iterate" (sound, default) or "start" (the thesis literally)."""

    beta: float = 10.0
    eta0: float = 1e-2
    sigma0: float = 1.0
    reference: str = "first_iterate"
    name = "thesis"

    def __post_init__(self):
        if not (isinstance(self.beta, (int, float)) and self.beta > 1):
            raise ValueError(f"rule_options.beta: must be a number > 1 (β_k = β^k), got {self.beta!r}")
        check_positive("rule_options.eta0", self.eta0)
        check_positive("rule_options.sigma0", self.sigma0)
        if self.reference not in ("first_iterate", "start"):
            raise ValueError(f"rule_options.reference: must be 'first_iterate' or 'start', got {self.reference!r}")

    def initial(self):
        return 1.0, self.eta0

    def update(self, s: OuterState):
        ref = s.h0_norm if self.reference == "start" else max(s.h0_norm, s.h_history[0])
        k = s.k
        if s.h_norm > 0:
            sigma = self.sigma0 * min(ref * math.log(2) ** 2 / (s.h_norm * (k + 1) * math.log(k + 2) ** 2), 1.0)
        else:
            sigma = self.sigma0
        beta = float(self.beta) ** (k + 1)
        return s.lam + sigma * s.h, beta, self.eta0 / beta, False, {"sigma": sigma}


@dataclass
class ClassicRule:
    """beta0: first penalty; increase: factor κ for β; required_decrease: keep β when
    ‖h_k‖ ≤ this × ‖h_{k−1}‖; eta0, eta_factor, eta_min: inner tolerances η."""

    beta0: float = 10.0
    increase: float = 10.0
    required_decrease: float = 0.25
    eta0: float = 1e-2
    eta_factor: float = 0.1
    eta_min: float = 1e-10
    name = "classic"

    def __post_init__(self):
        check_positive("rule_options.beta0", self.beta0)
        if not (isinstance(self.increase, (int, float)) and self.increase > 1):
            raise ValueError(f"rule_options.increase: must be a number > 1, got {self.increase!r}")
        if not (isinstance(self.required_decrease, (int, float)) and 0 < self.required_decrease < 1):
            raise ValueError(f"rule_options.required_decrease: must be in (0, 1), got {self.required_decrease!r}")
        check_positive("rule_options.eta0", self.eta0)
        if not (isinstance(self.eta_factor, (int, float)) and 0 < self.eta_factor <= 1):
            raise ValueError(f"rule_options.eta_factor: must be in (0, 1], got {self.eta_factor!r}")
        check_positive("rule_options.eta_min", self.eta_min)

    def initial(self):
        return float(self.beta0), self.eta0

    def update(self, s: OuterState):
        prev = s.h_history[-2] if len(s.h_history) > 1 else np.inf
        beta = s.beta * self.increase if s.h_norm > self.required_decrease * prev else s.beta
        return s.lam + s.beta * s.h, beta, max(s.eta * self.eta_factor, self.eta_min), False, {}


@dataclass
class LiuRule:
    """rho0: first penalty ρ₀; gamma: memory γ; eta1 ∈ (0, 1): required decrease; eta2 > 1:
    penalty factor; eta3 > 0: exponent in ‖ξ‖^{1+η₃} (the slides' theory asks η₃ > 1);
    stop_factor: stop once ρ > stop_factor·ρ₀; eta0, eta_factor, eta_min: inner tolerances."""

    rho0: float = 10.0
    gamma: int = 1
    eta1: float = 0.5
    eta2: float = 10.0
    eta3: float = 1.1
    stop_factor: float = 1e3
    eta0: float = 1e-2
    eta_factor: float = 0.1
    eta_min: float = 1e-10
    name = "liu"

    def __post_init__(self):
        check_positive("rule_options.rho0", self.rho0)
        check_int("rule_options.gamma", self.gamma, 1)
        if not (isinstance(self.eta1, (int, float)) and 0 < self.eta1 < 1):
            raise ValueError(f"rule_options.eta1: must be in (0, 1), got {self.eta1!r}")
        if not (isinstance(self.eta2, (int, float)) and self.eta2 > 1):
            raise ValueError(f"rule_options.eta2: must be a number > 1, got {self.eta2!r}")
        check_positive("rule_options.eta3", self.eta3)
        check_positive("rule_options.stop_factor", self.stop_factor)
        check_positive("rule_options.eta0", self.eta0)
        check_positive("rule_options.eta_min", self.eta_min)

    def initial(self):
        return float(self.rho0), self.eta0

    def update(self, s: OuterState):
        lam = s.lam + s.beta * s.h
        k1 = s.k + 1                                   # the slides count outer steps from 1
        past = s.h_history[-1 - self.gamma:-1]
        if k1 <= self.gamma or (past and s.h_norm <= self.eta1 * max(past)):
            rho = s.beta
        else:
            rho = max(self.eta2 * s.beta, float(np.linalg.norm(lam)) ** (1 + self.eta3))
        stop = rho > self.stop_factor * self.rho0
        return lam, rho, max(s.eta * self.eta_factor, self.eta_min), stop, {}


RULES = {"thesis": ThesisRule, "classic": ClassicRule, "liu": LiuRule}


def make_rule(name: str, options):
    if name not in RULES:
        raise ValueError(f"rule: must be one of {', '.join(RULES)}, got {name!r}")
    cls = RULES[name]
    if options is None:
        return cls()
    if isinstance(options, cls):
        return options
    if not isinstance(options, dict):
        raise TypeError(f"rule_options: expected a dict or {cls.__name__}, got {type(options).__name__}")
    valid = [f for f in cls.__dataclass_fields__]
    unknown = sorted(set(options) - set(valid))
    if unknown:
        raise ValueError(f"rule_options: unknown option(s) {', '.join(map(repr, unknown))} for rule {name!r}; "
                         f"valid options: {', '.join(valid)}")
    return cls(**options)


def initial_multipliers(kind: str, n_g: int, seed=None, st=None, x0=None, beta=1.0) -> np.ndarray:
    """λ_0: "zeros", "normal" (N(0, 1), the thesis) or "least_squares" (per-sample adjoint
    solve at x0 on the block structure ``st``; user-constraint rows get 0)."""
    if kind == "zeros":
        return np.zeros(n_g)
    if kind == "normal":
        return np.random.default_rng(seed).standard_normal(n_g)
    if kind != "least_squares":
        raise ValueError(f"multipliers: must be 'zeros', 'normal' or 'least_squares', got {kind!r}")
    lam = np.zeros(n_g)
    if st is None or st.N == 0 or st.n_s == 0:
        return lam
    R = st.rows(x0)
    loc, _ = st.split(R)
    jac = st.jacobian(x0)
    n_rg = st.n_rg
    Bh, Bf = jac.B[:, :n_rg, :], jac.B[:, n_rg:, :]              # ∂h_j/∂s_j, ∂F_j/∂s_j
    grad_s = np.einsum("jrs,jr->js", Bf, loc[:, n_rg:])            # ∂(½‖F‖²)/∂s_j
    # min ‖B_hᵀ λ_j + ∇_s‖ per sample: pinv handles rank-deficient blocks
    lam_loc = -np.einsum("jrs,js->jr", np.linalg.pinv(np.swapaxes(Bh, 1, 2)), grad_s)
    lam[st.local_rows[:, :n_rg].ravel()] = lam_loc.ravel()
    return lam
