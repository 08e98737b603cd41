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

Every rule is a frozen option struct of its parameters that owns its penalty parameter
(``penalty`` names it: β, β₀ or ρ₀); the ALM's ``beta_max`` and ``lambda_max`` cap penalties
and clip multipliers for all of them. Multiplier start values
(:func:`initial_multipliers`): zeros; standard normal (the thesis); or the least-squares
estimate, which at the feasible start solves the per-sample adjoint equations
B_jᵀλ_j = −∂(½‖F‖²)/∂s_j — back-propagation's adjoint variables.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ...options import Options, choice, integer, option, real, resolve_options
from ...validation import as_choice

__all__ = ["ThesisRule", "ClassicRule", "LiuRule", "RULES", "as_rule", "initial_multipliers", "OuterState"]


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


@dataclass(frozen=True, kw_only=True)
class ThesisRule(Options):
    """beta: β (β_k = β^k); eta0: η_k = eta0/β_k; sigma0: dual step scale σ_0;
    reference: "first_iterate" (sound, default) or "start" (the thesis literally)."""

    PREFIX = "rule."
    beta: float = option(10.0, "β > 1: the k-th subproblem's penalty is β^k", real(lo=1.0, lo_open=True))
    eta0: float = option(1e-2, "inner tolerance scale: η_k = eta0/β_k", real(positive=True))
    sigma0: float = option(1.0, "dual step scale σ_0", real(positive=True))
    reference: str = option("first_iterate", "violation scale of σ: 'first_iterate' (sound) or 'start' (thesis)",
                            choice("first_iterate", "start"))
    name = "thesis"
    penalty = "beta"

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


@dataclass(frozen=True, kw_only=True)
class _GeometricTolerance(Options):
    """Inner tolerances η_0, η_{k+1} = max(η_k·eta_factor, eta_min), shared by two rules."""

    PREFIX = "rule."
    eta0: float = option(1e-2, "first inner tolerance", real(positive=True))
    eta_factor: float = option(0.1, "inner tolerance factor per outer step (in (0, 1])",
                               real(lo=0.0, hi=1.0, lo_open=True))
    eta_min: float = option(1e-10, "smallest inner tolerance", real(positive=True))


@dataclass(frozen=True, kw_only=True)
class ClassicRule(_GeometricTolerance):
    """beta0: first penalty; increase: factor κ for β; required_decrease: keep β when
    ‖h_k‖ ≤ this × ‖h_{k−1}‖; eta0, eta_factor, eta_min: inner tolerances η."""

    PREFIX = "rule."
    beta0: float = option(10.0, "first penalty", real(positive=True))
    increase: float = option(10.0, "penalty factor κ > 1", real(lo=1.0, lo_open=True))
    required_decrease: float = option(0.25, "keep β when ‖h_k‖ ≤ this × ‖h_{k−1}‖ (in (0, 1))",
                                      real(lo=0.0, hi=1.0, lo_open=True, hi_open=True))
    name = "classic"
    penalty = "beta0"

    def initial(self):
        return float(self.beta0), self.eta0

    def update(self, s: OuterState):
        prev = s.h_history[-2] if len(s.h_history) > 1 else np.inf
        beta = s.beta * self.increase if s.h_norm > self.required_decrease * prev else s.beta
        return s.lam + s.beta * s.h, beta, max(s.eta * self.eta_factor, self.eta_min), False, {}


@dataclass(frozen=True, kw_only=True)
class LiuRule(_GeometricTolerance):
    """rho0: first penalty ρ₀; gamma: memory γ; eta1 ∈ (0, 1): required decrease; eta2 > 1:
    penalty factor; eta3 > 0: exponent in ‖ξ‖^{1+η₃} (the slides' theory asks η₃ > 1);
    stop_factor: stop once ρ > stop_factor·ρ₀; eta0, eta_factor, eta_min: inner tolerances."""

    PREFIX = "rule."
    rho0: float = option(10.0, "first penalty ρ₀", real(positive=True))
    gamma: int = option(1, "memory γ of the violation test", integer(1))
    eta1: float = option(0.5, "required decrease η₁ ∈ (0, 1)", real(lo=0.0, hi=1.0, lo_open=True, hi_open=True))
    eta2: float = option(10.0, "penalty factor η₂ > 1", real(lo=1.0, lo_open=True))
    eta3: float = option(1.1, "exponent η₃ in ‖ξ‖^{1+η₃}", real(positive=True))
    stop_factor: float = option(1e3, "stop once ρ > stop_factor·ρ₀", real(positive=True))
    name = "liu"
    penalty = "rho0"

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


def as_rule(name, value, **params):
    """A rule from an instance, a name ("thesis", "classic", "liu") or a dict with ``kind``;
    ``params`` (e.g. the penalty shortcut) are set on it."""
    if isinstance(value, tuple(RULES.values())):
        return value.replace(**params) if params else value
    if isinstance(value, str):
        kind = as_choice(name, value, tuple(RULES))
        return resolve_options(RULES[kind], params, None, f"alm (rule {kind!r})", argname="rule_options")
    if isinstance(value, dict):
        spec = dict(value)
        kind = as_choice(f"{name}.kind", spec.pop("kind", "thesis"), tuple(RULES))
        return resolve_options(RULES[kind], {**spec, **params}, None, f"alm (rule {kind!r})", argname=name)
    raise TypeError(f"{name}: expected 'thesis', 'classic', 'liu', a rule object or a dict, got {type(value).__name__}")


def initial_multipliers(kind: str, n_g: int, seed=None, st=None, x0=None, objective_scale: float = 1.0):
    """λ_0: "zeros", "normal" (N(0, 1), the thesis) or "least_squares": at x0 the per-sample
    adjoint equations T_jᵀλ_j = −∂(½c‖F‖²)/∂s_j, whose solution is λ_j = −c F_jᵀ r_j with
    F_j = E_jT_j⁻¹ (:mod:`.elimination`) — back-propagation's adjoint variables. User rows get 0."""
    if kind == "zeros":
        return np.zeros(n_g)
    if kind == "normal":
        return np.random.default_rng(seed).standard_normal(n_g)
    if kind != "least_squares":
        raise ValueError(f"multipliers: must be 'zeros', 'normal' or 'least_squares', got {kind!r}")
    lam = np.zeros(n_g)
    if st is None or st.N == 0 or st.n_s == 0:
        return lam
    scale = 1.0 / np.sqrt(st.N)
    loc, _ = st.rows(x0, scale)
    Lf, _ = st.output_terms()
    r_out = loc[:, st.n_s:]
    if Lf is not None:                      # the weighted (Gauss–Newton) output rows: G_j r_j
        r_out = np.matmul(np.matmul(np.swapaxes(Lf, 1, 2), Lf), r_out[:, :, None])[:, :, 0]
    jac = st.jacobian(x0, scale, np.ones(st.n_G))
    lam[:st.n_gl] = -objective_scale * np.einsum("jcs,jc->js", jac.F, r_out).ravel()
    return lam
