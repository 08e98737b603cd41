"""Options of the ``ialam`` solver: the algorithm only (the model's λ_w, λ_v, β, B, α and
output kind belong to the NLP, see :mod:`nlpnet.formulations.penalized`).

Units: the penalties are per sample (the slides' ρ and ξ are ours divided by N). The authors'
released code minimises half of our objective, so its ρ = 1 is our ρ = 2.

Provenance of each default in brackets: [slides] the SIAM OP23 slides, [authors] their
released MATLAB code (liuwei175/code-for-IALAM, terminal/test_alm_multilayer_proximal.m),
[measured] chosen here from the MNIST runs of docs/ialam.md, [ours] otherwise.
"""
from __future__ import annotations

from dataclasses import dataclass

from ...options import SolverOptions, boolean, choice, integer, option, per_layer, real

__all__ = ["IalamOptions"]

RHO_UPDATES = ("authors", "slides")


@dataclass(frozen=True, kw_only=True)
class IalamOptions(SolverOptions):
    """Options of ``prob.solve("ialam")`` (the shared ones in :class:`~nlpnet.options.SolverOptions`:
    ``max_iter`` counts outer iterations, ``seed`` is accepted and ignored — iALAM makes no
    random choice)."""

    max_iter: int = option(500, "outer iterations [authors: 500]", integer(0))

    # ---- outer loop: multipliers and the liu penalty rule --------------------------------
    rho0: object = option(2.0, "initial penalty ρ_ℓ⁽⁰⁾ > 0, one number or one per layer [authors: 1, ours ×2]",
                          per_layer(positive=True))
    rho_update: str = option("authors", "how ρ is raised: 'authors' ρ ← η₂ρ; 'slides' ρ ← max(η₂ρ, ‖ξ‖^{1+η₃}) in "
                                        "the slides' units (the increasing form; the slide prints ρ/η₂) [authors]",
                             choice(*RHO_UPDATES))
    eta1: float = option(0.9, "η₁ ∈ (0, 1): ρ is kept while ‖c_k‖ ≤ η₁·max of the last γ values [measured on "
                              "MNIST: 0.7 stops before the fit is done; the authors' test is ‖c_k‖ < max, η₁ → 1]",
                         real(lo=0.0, hi=1.0, lo_open=True, hi_open=True))
    eta2: float = option(1.2, "η₂ > 1, the factor by which ρ is raised [authors]", real(lo=1.0, lo_open=True))
    eta3: float = option(1.5, "η₃ > 1 of the 'slides' update (unused by 'authors') [ours; the slides: η₃ > 1]",
                         real(lo=1.0, lo_open=True))
    gamma: int | None = option(None, "γ ≥ 1: ρ is kept for the first γ outer steps and compared with the last γ "
                                     "violations; None = 2L [authors]", integer(1, allow_none=True))
    rho_stop_factor: float = option(1e3, "stop when ρ > rho_stop_factor·ρ⁽⁰⁾ [slides]", real(lo=1.0, lo_open=True))
    multiplier_step: object = option(1.0, "s_ℓ > 0 in ξ_ℓ ← ξ_ℓ + s_ℓ·ρ_ℓ·c_ℓ, one number or one per layer "
                                          "[authors]", per_layer(positive=True))
    beta_factor: float = option(1.2, "β ← beta_factor·β when the activation violation exceeds beta_ratio × the "
                                     "linear one (1: keep the model's β) [authors]", real(lo=1.0))
    beta_ratio: float = option(10.0, "see beta_factor [authors]", real(positive=True))
    restart_states: bool = option(True, "start every outer step's inner solve from the forward-pass states of the "
                                        "current weights [authors; measured: keeping the inner solution met the "
                                        "MNIST targets later, iteration 77 against 56]", boolean())

    # ---- inner alternating minimization --------------------------------------------------
    tau1: float = option(1.0, "τ₁ > 0: the proximal weight on u₁ and the margin in τ_ℓ = ρ‖[−W_ℓ I]‖² + τ₁ "
                              "[ours; the slides: τ₁ > 0]", real(positive=True))
    min_sweeps: int = option(3, "least (w, b) + (v, u) sweeps per outer step [measured on MNIST: 1 or 2 fit much "
                                "slower; the authors run max(3, min(10, ⌈k/20⌉))]", integer(1))
    max_sweeps: int = option(10, "most sweeps per outer step (≥ min_sweeps) [authors]", integer(1))
    inner_tol: float = option(0.2, "sweeps stop (after min_sweeps) once one lowers L_ρ by less than this; divided "
                                   "by inner_tol_factor whenever ρ is raised [authors: 0.1 in half units]",
                              real(positive=True))
    inner_tol_factor: float = option(1.5, "see inner_tol [authors]", real(lo=1.0))
    wb_max_iter: int = option(3, "most accepted proximal-gradient (BB) steps per layer per sweep [measured on "
                                 "MNIST: 5 steps prune hidden units while the features are poor, test accuracy "
                                 "0.750; 1 step never reaches TrainErr 0.0185]", integer(1))
    wb_tol: float = option(1e-9, "a layer's (w, b) step stops once its prox-gradient mapping norm is ≤ this [ours]",
                           real(positive=True))

    # ---- stopping, reporting -------------------------------------------------------------
    tol_feas: float = option(1e-6, "'success' needs the violation max|c| ≤ tol_feas [ours]", real(positive=True))
    tol_stat: float = option(1e-6, "… and the KKT residual of (PP) ≤ tol_stat [ours]", real(positive=True))
    acceptable_feas: float = option(1e-2, "at the ρ stop: 'acceptable' if max|c| ≤ this, else 'stalled' [ours]",
                                    real(positive=True))
    sparsity_tol: float = option(1e-6, "a column counts as zero when its norm is ≤ this [ours; the prox gives exact "
                                       "zeros]", real(positive=True))

    def validate(self) -> None:
        if self.max_sweeps < self.min_sweeps:
            raise ValueError(f"max_sweeps: must be ≥ min_sweeps = {self.min_sweeps}, got {self.max_sweeps}")

    def per_layer(self, name: str, n_layers: int) -> list:
        """``rho0`` or ``multiplier_step`` as n_layers floats (a tuple must have that length)."""
        value = getattr(self, name)
        if isinstance(value, tuple):
            if len(value) != n_layers:
                raise ValueError(f"{name}: has {len(value)} entries but the network has {n_layers} layers; give "
                                 "one number or one per layer")
            return list(value)
        return [value] * n_layers
