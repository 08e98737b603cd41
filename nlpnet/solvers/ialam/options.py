"""Options of the iALAM solver: a frozen, validated dataclass.

Units: all penalties are per sample (see ``model``): the slides' β, λ_v, ρ and ξ are ours
divided by N. The authors' released code minimises half of our objective, so its β = 1 and
ρ = 1 are our 2 and 2, its ``rw`` = 1 is our λ_w = 1/N.

Provenance of each default is given in brackets: [slides] the SIAM OP23 slides, [authors]
their released MATLAB code (liuwei175/code-for-IALAM, terminal/test_alm_multilayer_proximal.m),
[measured] chosen here from the MNIST runs of benchmarks/ialam_mnist.py (docs/ialam.md).
"""
from __future__ import annotations

import dataclasses
import difflib
import math
from dataclasses import dataclass
from typing import Optional, Tuple, Union

__all__ = ["IalamOptions", "resolve_ialam_options"]

PerLayer = Union[float, Tuple[float, ...]]
RHO_UPDATES = ("authors", "slides")


@dataclass(frozen=True)
class IalamOptions:
    # ---- model (PP) -------------------------------------------------------------------
    lambda_w: float = 1e-3
    """λ_w of the group lasso R₁ = λ_w Σ_ℓ Σ_j ‖(W_ℓ)_{:,j}‖ (≥ 0). [authors: 1/N, here N = 1000]"""
    lambda_v: float = 0.0
    """λ_v of R₂ = λ_v ‖v‖², per sample (≥ 0). [authors: 0]"""
    beta: PerLayer = 2.0
    """Exact-penalty weight β_ℓ of βᵀ(v − σ(u)): one number, or one per layer (> 0). [authors: 1, ours ×2]"""
    bias_bound: float = 1e3
    """B of the (PP_b) bound b ≥ −B, imposed for ReLU (α = 0) only (> 0). [ours: the slides'
    N̄(θ_w + θ_v) is not computable; on MNIST min b ≈ −0.09, so the bound is inactive]"""

    # ---- outer loop: multipliers and the liu penalty rule --------------------------------
    rho0: PerLayer = 2.0
    """Initial penalty ρ_ℓ⁽⁰⁾, one number or one per layer (> 0). [authors: 1, ours ×2]"""
    rho_update: str = "authors"
    """How ρ is raised: "authors" ρ ← η₂ρ; "slides" ρ ← max(η₂ρ, ‖ξ‖^{1+η₃}) in the slides'
    units (the increasing form; the slide prints ρ/η₂). [authors]"""
    eta1: float = 0.9
    """η₁ ∈ (0, 1): ρ is kept while ‖c_k‖ ≤ η₁·max of the last γ values. [measured on MNIST:
    0.5 and 0.7 stop before the fit is done, 0.99 hardly ever raises ρ; the authors' test is
    ‖c_k‖ < max, i.e. η₁ → 1, plus a stagnation trigger]"""
    eta2: float = 1.2
    """η₂ > 1, the factor by which ρ is raised. [authors]"""
    eta3: float = 1.5
    """η₃ > 1 of the "slides" update (unused by "authors"). [ours; the slides only say η₃ > 1]"""
    gamma: Optional[int] = None
    """γ ≥ 1: ρ is kept for the first γ outer steps and compared with the last γ violations.
    ``None`` = 2L. [authors]"""
    rho_stop_factor: float = 1e3
    """Stop when ρ > rho_stop_factor·ρ⁽⁰⁾ (> 1). [slides]"""
    multiplier_step: PerLayer = 1.0
    """s_ℓ in ξ_ℓ ← ξ_ℓ + s_ℓ·ρ_ℓ·c_ℓ, one number or one per layer (> 0). [authors]"""
    beta_factor: float = 1.2
    """β ← beta_factor·β when the activation violation exceeds beta_ratio × the linear one (≥ 1). [authors]"""
    beta_ratio: float = 10.0
    """See ``beta_factor`` (> 0). [authors]"""
    restart_states: bool = True
    """Start every outer step's inner solve from the forward-pass states of the current
    weights (the authors' default start). [authors; keeping the inner solution instead reached
    the MNIST targets later (iteration 77 vs 56) and fitted small teacher problems worse]"""

    # ---- inner alternating minimization --------------------------------------------------
    tau1: float = 1.0
    """τ₁ > 0: the proximal weight on u₁ and the margin in τ_ℓ = ρ‖[−W_ℓ I]‖² + τ₁. [ours; the
    slides only require τ₁ > 0]"""
    min_sweeps: int = 3
    """Least number of (w, b) + (v, u) sweeps per outer step (≥ 1). [measured on MNIST: 1 or 2
    fit much slower; the authors run at most max(3, min(10, ⌈k/20⌉))]"""
    max_sweeps: int = 10
    """Most sweeps per outer step (≥ min_sweeps). [authors]"""
    inner_tol: float = 0.2
    """Sweeps stop (after min_sweeps) once a sweep lowers L_ρ by less than this; divided by
    inner_tol_factor each time ρ is raised (> 0). [authors: 0.1 in their half-scaled units]"""
    inner_tol_factor: float = 1.5
    """See ``inner_tol`` (≥ 1). [authors]"""
    wb_max_iter: int = 3
    """Most accepted proximal-gradient (BB) steps per layer per sweep (≥ 1). [measured on MNIST:
    a more exact (w, b) step fits faster but lets the group lasso remove hidden units while the
    features are still poor (5 steps: 70 % pruned, test accuracy 0.77; 3 steps: 0.81)]"""
    wb_tol: float = 1e-9
    """The (w, b) step of a layer stops once its prox-gradient mapping norm is ≤ this (> 0). [ours]"""

    # ---- stopping, reporting -------------------------------------------------------------
    max_iter: int = 500
    """Outer iteration budget (≥ 1). [authors: 500]"""
    max_time: float = 3600.0
    """Wall-time budget in seconds (> 0); the call also honours its ``deadline`` argument. [ours]"""
    tol_feas: float = 1e-6
    """KKT tolerance on the linear violation ‖C‖_F/√N ("success"). [ours]"""
    tol_stat: float = 1e-6
    """KKT tolerance on the inner fixed-point residual (a stationarity measure, see docs). [ours]"""
    acceptable_feas: float = 1e-2
    """At the ρ stop: "acceptable" if ‖C‖_F/√N ≤ this, else "stalled" (> 0). [ours]"""
    sparsity_tol: float = 1e-6
    """A column counts as zero when its norm is ≤ this (> 0). [ours; the prox gives exact zeros]"""
    verbose: int = 0
    """0 silent, 1 one line per outer iteration."""

    def __post_init__(self):
        for name in ("lambda_w", "lambda_v"):
            _number(name, getattr(self, name), minimum=0.0)
        for name in ("bias_bound", "eta3", "beta_ratio", "tau1", "inner_tol",
                     "wb_tol", "max_time", "tol_feas", "tol_stat", "acceptable_feas", "sparsity_tol"):
            _number(name, getattr(self, name), minimum=0.0, strict=True)
        for name in ("beta_factor", "inner_tol_factor"):
            _number(name, getattr(self, name), minimum=1.0)
        for name in ("eta2", "rho_stop_factor"):
            _number(name, getattr(self, name), minimum=1.0, strict=True)
        _number("eta1", self.eta1, minimum=0.0, strict=True)
        if self.eta1 >= 1.0:
            raise ValueError(f"options.eta1: must be in (0, 1), got {self.eta1!r}")
        for name in ("beta", "rho0", "multiplier_step"):
            _per_layer(name, getattr(self, name))
        if self.rho_update not in RHO_UPDATES:
            raise ValueError(f"options.rho_update: must be one of {RHO_UPDATES}, got {self.rho_update!r}"
                             + _suggest(self.rho_update, RHO_UPDATES))
        if self.gamma is not None:
            _integer("gamma", self.gamma, 1)
        for name, lo in (("min_sweeps", 1), ("max_sweeps", 1), ("wb_max_iter", 1), ("max_iter", 1),
                         ("verbose", 0)):
            _integer(name, getattr(self, name), lo)
        if self.max_sweeps < self.min_sweeps:
            raise ValueError(f"options.max_sweeps: must be ≥ min_sweeps = {self.min_sweeps}, got {self.max_sweeps}")
        if not isinstance(self.restart_states, bool):
            raise TypeError(f"options.restart_states: expected True or False, got {self.restart_states!r}")

    def per_layer(self, name: str, n_layers: int) -> list:
        """``beta``, ``rho0`` or ``multiplier_step`` as n_layers floats (a tuple must have that length)."""
        value = getattr(self, name)
        if isinstance(value, tuple):
            if len(value) != n_layers:
                raise ValueError(f"options.{name}: has {len(value)} entries but the network has "
                                 f"{n_layers} layers; give one number or one per layer")
            return [float(v) for v in value]
        return [float(value)] * n_layers


def resolve_ialam_options(options=None) -> IalamOptions:
    """``None``, an :class:`IalamOptions` or a dict of its fields (unknown keys are errors)."""
    if options is None:
        return IalamOptions()
    if isinstance(options, IalamOptions):
        return options
    if not isinstance(options, dict):
        raise TypeError(f"options: expected IalamOptions, a dict or None, got {type(options).__name__}")
    valid = [f.name for f in dataclasses.fields(IalamOptions)]
    for key in options:
        if key not in valid:
            raise ValueError(f"options: unknown option {key!r}{_suggest(key, valid)}; valid options: "
                             + ", ".join(valid))
    return IalamOptions(**options)


def _suggest(word, choices) -> str:
    close = difflib.get_close_matches(str(word), list(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _number(name, value, minimum, strict=False):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"options.{name}: expected a number, got {type(value).__name__} {value!r}")
    if not math.isfinite(value):
        raise ValueError(f"options.{name}: must be finite, got {value!r}")
    if value < minimum or (strict and value == minimum):
        raise ValueError(f"options.{name}: must be {'>' if strict else '≥'} {minimum:g}, got {value!r}")


def _integer(name, value, minimum):
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"options.{name}: expected an integer, got {type(value).__name__} {value!r}")
    if value < minimum:
        raise ValueError(f"options.{name}: must be an integer ≥ {minimum}, got {value!r}")


def _per_layer(name, value):
    if isinstance(value, list):
        raise TypeError(f"options.{name}: give a tuple (the options are frozen), e.g. {tuple(value)!r}")
    items = value if isinstance(value, tuple) else (value,)
    if not items:
        raise ValueError(f"options.{name}: the tuple is empty; give one number or one per layer")
    for v in items:
        _number(name, v, minimum=0.0, strict=True)
