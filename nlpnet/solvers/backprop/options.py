"""Options of the back-propagation family, one struct per solver, all deriving from
:class:`~nlpnet.options.SolverOptions` (``max_iter`` counts epochs; ``epochs`` and
``max_epochs`` are accepted as its aliases, ``lr`` as ``learning_rate``'s).

Defaults follow PyTorch (ε outside the square root, Adam/Nadam ε = 1e-8), with RMSProp's
ρ = 0.9 as in Keras and the lecture; GD's and momentum's learning rate 0.01 is MATLAB's
``traingd``; the trainlm defaults are MATLAB's.
"""
from __future__ import annotations

from dataclasses import dataclass

from ...options import Options, SolverOptions, boolean, choice, integer, option, real
from .schedules import as_schedule

__all__ = ["EarlyStopping", "as_early_stopping", "BackpropOptions", "GDOptions", "MomentumOptions",
           "AdagradOptions", "AdadeltaOptions", "RMSPropOptions", "AdamOptions", "NadamOptions", "SSA1Options",
           "SSA2Options", "LBFGSOptions", "AdamLBFGSOptions", "LMOptions"]


@dataclass(frozen=True, kw_only=True)
class EarlyStopping(Options):
    """Keras-style early stopping: stop once ``monitor`` has not improved by more than
    ``min_delta`` for ``patience`` epochs in a row (improvement: below best − min_delta);
    ``restore_best_weights`` returns the best epoch's weights when it triggers. ``monitor``
    is "loss" (the epoch objective, penalties included, as Keras's ``loss``), "val_loss",
    or for one-hot targets "accuracy" / "val_accuracy" (these improve upwards)."""

    PREFIX = "early_stopping."
    monitor: str = option("loss", "'loss', 'val_loss', 'accuracy' or 'val_accuracy'",
                          choice("loss", "val_loss", "accuracy", "val_accuracy"))
    patience: int = option(10, "epochs without improvement before stopping", integer(0))
    min_delta: float = option(0.0, "smallest change that counts as an improvement", real(nonneg=True))
    restore_best_weights: bool = option(False, "return the best epoch's weights when stopping", boolean())
    start_from_epoch: int = option(0, "epochs before early stopping starts watching", integer(0))


def as_early_stopping(name, value):
    """None/False (off), True (defaults), a dict or an :class:`EarlyStopping`."""
    if value is None or value is False:
        return None
    if value is True:
        return EarlyStopping()
    if isinstance(value, EarlyStopping):
        return value
    if isinstance(value, dict):
        from ...options import resolve_options
        return resolve_options(EarlyStopping, value, None, name)
    raise TypeError(f"{name}: expected None, True, a dict or EarlyStopping, got {type(value).__name__}")


_STOPPING = {
    "early_stopping": lambda default=None: option(default, "None, True, a dict or EarlyStopping", as_early_stopping),
    "stagnation": lambda: option(None, "ε of the thesis's rule: stop when (1 + ε)·loss_k > loss_{k−1} (None: off)",
                                 real(nonneg=True, allow_none=True)),
}


@dataclass(frozen=True, kw_only=True)
class BackpropOptions(SolverOptions):
    """Shared by every first-order solver. One epoch is one pass over the data."""

    ALIASES = {"max_epochs": "max_iter", "epochs": "max_iter", "lr": "learning_rate"}
    max_iter: int = option(1000, "epochs (passes over the data)", integer(0))
    learning_rate: object = option(1e-3, "a number, a schedule, a dict {'kind': …} or a callable epoch ↦ rate",
                                   lambda n, v: as_schedule(v, n))
    batch_size: int | None = option(None, "samples per update (None: the full batch)", integer(1, allow_none=True))
    early_stopping: object = _STOPPING["early_stopping"]()
    stagnation: float | None = _STOPPING["stagnation"]()
    gtol: float = option(0.0, "stop with success when ‖∇ℓ‖∞ ≤ gtol on a full-batch epoch (0: off)",
                         real(nonneg=True))


def _lr(default):
    return option(default, "learning rate (number, schedule, dict or callable)", lambda n, v: as_schedule(v, n))


@dataclass(frozen=True, kw_only=True)
class GDOptions(BackpropOptions):
    """Plain gradient descent θ ← θ − η g (MATLAB ``traingd``: lr 0.01)."""

    learning_rate: object = _lr(0.01)


@dataclass(frozen=True, kw_only=True)
class MomentumOptions(BackpropOptions):
    """Heavy ball / Nesterov with momentum β ∈ [0, 1)."""

    learning_rate: object = _lr(0.01)
    momentum: float = option(0.9, "β ∈ [0, 1)", real(lo=0.0, hi=1.0, hi_open=True))


@dataclass(frozen=True, kw_only=True)
class AdagradOptions(BackpropOptions):
    learning_rate: object = _lr(0.01)
    epsilon: float = option(1e-10, "added to √s", real(positive=True))
    initial_accumulator: float = option(0.0, "start value of the squared-gradient sum", real(nonneg=True))


@dataclass(frozen=True, kw_only=True)
class AdadeltaOptions(BackpropOptions):
    learning_rate: object = _lr(1.0)
    rho: float = option(0.9, "decay ρ ∈ [0, 1)", real(lo=0.0, hi=1.0, hi_open=True))
    epsilon: float = option(1e-6, "inside both square roots", real(positive=True))


@dataclass(frozen=True, kw_only=True)
class RMSPropOptions(BackpropOptions):
    learning_rate: object = _lr(1e-3)
    rho: float = option(0.9, "decay ρ ∈ [0, 1)", real(lo=0.0, hi=1.0, hi_open=True))
    epsilon: float = option(1e-8, "added to √s", real(positive=True))


@dataclass(frozen=True, kw_only=True)
class AdamOptions(BackpropOptions):
    learning_rate: object = _lr(1e-3)
    beta1: float = option(0.9, "first-moment decay ∈ [0, 1)", real(lo=0.0, hi=1.0, hi_open=True))
    beta2: float = option(0.999, "second-moment decay ∈ [0, 1)", real(lo=0.0, hi=1.0, hi_open=True))
    epsilon: float = option(1e-8, "added to √v̂", real(positive=True))


@dataclass(frozen=True, kw_only=True)
class NadamOptions(AdamOptions):
    learning_rate: object = _lr(2e-3)
    momentum_decay: float = option(4e-3, "ψ of the momentum schedule μ_t = β1(1 − ½·0.96^{tψ})", real(nonneg=True))


@dataclass(frozen=True, kw_only=True)
class SSA1Options(BackpropOptions):
    """``learning_rate`` is the splitting step h; ``k`` the velocity damping exponent."""

    learning_rate: object = _lr(0.05)
    k: float = option(1.0, "velocity damping exponent (0: none)", real(nonneg=True))


@dataclass(frozen=True, kw_only=True)
class SSA2Options(SSA1Options):
    q: float = option(1.0, "friction exponent", real(nonneg=True))
    tau: float = option(1e-8, "shift keeping (1 − hβ_n)/(β_n + τ) finite at β_0 = 0", real(positive=True))


@dataclass(frozen=True, kw_only=True)
class LBFGSOptions(SolverOptions):
    """L-BFGS with Armijo backtracking; ``max_iter`` counts iterations (one history row each)."""

    ALIASES = {"max_epochs": "max_iter", "epochs": "max_iter"}
    max_iter: int = option(1000, "L-BFGS iterations", integer(0))
    memory: int = option(10, "stored (s, y) pairs", integer(1))
    gtol: float = option(1e-8, "stop when ‖∇ℓ‖∞ ≤ gtol", real(nonneg=True))
    ftol: float = option(1e-14, "stop when the relative decrease of ℓ in an iteration is below ftol",
                         real(nonneg=True))
    c1: float = option(1e-4, "Armijo constant ∈ (0, 1)", real(lo=0.0, hi=1.0, lo_open=True, hi_open=True))
    max_backtracks: int = option(40, "halvings per line search", integer(1))
    early_stopping: object = _STOPPING["early_stopping"]()
    stagnation: float | None = _STOPPING["stagnation"]()


@dataclass(frozen=True, kw_only=True)
class AdamLBFGSOptions(AdamOptions):
    """``max_iter`` full-batch Adam epochs, then ``lbfgs_iter`` L-BFGS iterations from Adam's
    last point (the lecture's recipe)."""

    ALIASES = {**AdamOptions.ALIASES, "lbfgs_epochs": "lbfgs_iter"}
    lbfgs_iter: int = option(500, "L-BFGS iterations after the Adam phase", integer(0))
    memory: int = option(10, "L-BFGS stored pairs", integer(1))
    lbfgs_gtol: float = option(1e-8, "L-BFGS gradient tolerance", real(nonneg=True))


@dataclass(frozen=True, kw_only=True)
class LMOptions(SolverOptions):
    """MATLAB ``trainlm``: max_iter (epochs), mu, mu_dec, mu_inc, mu_max, gtol (min_grad), goal."""

    ALIASES = {"max_epochs": "max_iter", "epochs": "max_iter"}
    max_iter: int = option(1000, "epochs", integer(0))
    mu: float = option(1e-3, "initial damping μ", real(positive=True))
    mu_dec: float = option(0.1, "μ factor after a successful step ∈ (0, 1)",
                           real(lo=0.0, hi=1.0, lo_open=True, hi_open=True))
    mu_inc: float = option(10.0, "μ factor after a failed step (> 1)", real(lo=1.0, lo_open=True))
    mu_max: float = option(1e10, "stop when μ exceeds this", real(positive=True))
    gtol: float = option(1e-7, "stop when ‖2JᵀF‖∞ < gtol (MATLAB min_grad)", real(nonneg=True))
    goal: float = option(0.0, "stop when the loss is ≤ goal", real(nonneg=True))
    early_stopping: object = _STOPPING["early_stopping"]()
    stagnation: float | None = _STOPPING["stagnation"]()
