"""Back-propagation solvers: first-order optimizers on the single-shooting problem.

``prob.solve("adam", learning_rate=1e-3, max_epochs=4000,
early_stopping={"monitor": "loss", "patience": 10})`` trains the single-shooting view of
the problem (same θ symbol, same regularizers and objective terms) from the problem's own
initial weights, whether the Problem was built as single or multiple shooting, so lifted
and back-propagation runs start from identical networks.

One epoch is one pass over the data: one update for the full batch (``batch_size=None``),
else ⌈N/B⌉ updates on the batches of a seeded permutation (``seed``). Update rules and
defaults are in :mod:`nlpnet.solvers.optimizers`, schedules in
:mod:`nlpnet.solvers.schedules`, the loss, stopping rules and history in
:mod:`nlpnet.solvers.training`. Defaults follow PyTorch (ε outside the square root,
Adam/Nadam ε = 1e-8), with RMSProp's ρ = 0.9 as in Keras and the lecture.

Extra constraints (``prob.subject_to``) cannot be honoured by these unconstrained methods:
such problems are refused with a ValueError pointing to "ipopt". A run that produces a
non-finite loss stops with status ``numerical_error`` and returns the last finite weights.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from ..options import check_int, check_nonneg, check_positive
from ..result import Status
from . import SolverSpec, register_solver
from . import optimizers as O
from .schedules import as_schedule
from .training import Monitor, as_early_stopping, objective_for

__all__ = ["BackpropOptions", "GDOptions", "MomentumOptions", "AdagradOptions", "AdadeltaOptions",
           "RMSPropOptions", "AdamOptions", "NadamOptions", "SSA1Options", "SSA2Options", "fit", "check_unconstrained"]


@dataclass
class BackpropOptions:
    """Options shared by every first-order solver.

    learning_rate:  a number, a schedule (:mod:`nlpnet.solvers.schedules`), a dict
                    ``{"kind": ..., ...}`` or a callable epoch ↦ rate.
    max_epochs:     epoch cap (passes over the data).
    batch_size:     samples per update; None = full batch.
    seed:           seed of the per-epoch shuffles (mini-batches only).
    early_stopping: None, True (defaults), a dict or :class:`~nlpnet.solvers.training.EarlyStopping`.
    stagnation:     ε of the thesis's rule "stop when (1 + ε)·loss_k > loss_{k−1}"; None = off.
    gtol:           stop with success when ‖∇ℓ‖∞ ≤ gtol (full batch); 0 = off.
    max_time:       wall-time limit in seconds; None = none.
    verbose:        print the loss every ``verbose`` epochs (0 = silent).
    """

    learning_rate: object = 1e-3
    max_epochs: int = 1000
    batch_size: int | None = None
    seed: int | None = 0
    early_stopping: object = None
    stagnation: float | None = None
    gtol: float = 0.0
    max_time: float | None = None
    verbose: int = 0

    def __post_init__(self):
        as_schedule(self.learning_rate, "learning_rate")
        check_int("max_epochs", self.max_epochs, 0)
        check_int("batch_size", self.batch_size, 1, allow_none=True)
        if self.seed is not None and (isinstance(self.seed, bool) or not isinstance(self.seed, (int, np.integer))):
            raise TypeError(f"seed: expected an integer or None, got {type(self.seed).__name__}")
        self.early_stopping = as_early_stopping(self.early_stopping)
        if self.stagnation is not None:
            check_nonneg("stagnation", self.stagnation)
        check_nonneg("gtol", self.gtol)
        check_positive("max_time", self.max_time, allow_none=True)
        check_int("verbose", self.verbose, 0)


def _unit(name, v, lo=0.0, hi=1.0, closed_hi=False):
    ok = isinstance(v, (int, float)) and not isinstance(v, bool) and lo <= v and (v <= hi if closed_hi else v < hi)
    if not ok:
        raise ValueError(f"{name}: must lie in [{lo}, {hi}{']' if closed_hi else ')'}, got {v!r}")


@dataclass
class GDOptions(BackpropOptions):
    """Plain gradient descent (MATLAB ``traingd``: lr 0.01)."""

    learning_rate: object = 0.01


@dataclass
class MomentumOptions(BackpropOptions):
    """Heavy ball / Nesterov. ``momentum`` = β ∈ [0, 1)."""

    learning_rate: object = 0.01
    momentum: float = 0.9

    def __post_init__(self):
        super().__post_init__()
        _unit("momentum", self.momentum)


@dataclass
class AdagradOptions(BackpropOptions):
    learning_rate: object = 0.01
    epsilon: float = 1e-10
    initial_accumulator: float = 0.0

    def __post_init__(self):
        super().__post_init__()
        check_positive("epsilon", self.epsilon)
        check_nonneg("initial_accumulator", self.initial_accumulator)


@dataclass
class AdadeltaOptions(BackpropOptions):
    learning_rate: object = 1.0
    rho: float = 0.9
    epsilon: float = 1e-6

    def __post_init__(self):
        super().__post_init__()
        _unit("rho", self.rho)
        check_positive("epsilon", self.epsilon)


@dataclass
class RMSPropOptions(BackpropOptions):
    learning_rate: object = 1e-3
    rho: float = 0.9
    epsilon: float = 1e-8

    def __post_init__(self):
        super().__post_init__()
        _unit("rho", self.rho)
        check_positive("epsilon", self.epsilon)


@dataclass
class AdamOptions(BackpropOptions):
    learning_rate: object = 1e-3
    beta1: float = 0.9
    beta2: float = 0.999
    epsilon: float = 1e-8

    def __post_init__(self):
        super().__post_init__()
        _unit("beta1", self.beta1)
        _unit("beta2", self.beta2)
        check_positive("epsilon", self.epsilon)


@dataclass
class NadamOptions(AdamOptions):
    learning_rate: object = 2e-3
    momentum_decay: float = 4e-3

    def __post_init__(self):
        super().__post_init__()
        check_nonneg("momentum_decay", self.momentum_decay)


@dataclass
class SSA1Options(BackpropOptions):
    """``learning_rate`` is the splitting step h; ``k`` the velocity damping exponent."""

    learning_rate: object = 0.05
    k: float = 1.0

    def __post_init__(self):
        super().__post_init__()
        check_nonneg("k", self.k)


@dataclass
class SSA2Options(SSA1Options):
    """``q`` the friction exponent; ``tau`` > 0 the regularising shift of β_n (see optimizers)."""

    q: float = 1.0
    tau: float = 1e-8

    def __post_init__(self):
        super().__post_init__()
        check_nonneg("q", self.q)
        check_positive("tau", self.tau)


def _make(name, o, lr):
    if name == "gd":
        return O.gd(lr)
    if name in ("momentum", "nesterov"):
        return O.momentum(lr, o.momentum, nesterov=name == "nesterov")
    if name == "adagrad":
        return O.adagrad(lr, o.epsilon, o.initial_accumulator)
    if name == "adadelta":
        return O.adadelta(lr, o.rho, o.epsilon)
    if name == "rmsprop":
        return O.rmsprop(lr, o.rho, o.epsilon)
    if name == "adam":
        return O.adam(lr, o.beta1, o.beta2, o.epsilon)
    if name == "nadam":
        return O.nadam(lr, o.beta1, o.beta2, o.epsilon, o.momentum_decay)
    if name == "ssa1":
        return O.ssa1(lr, o.k)
    if name == "ssa2":
        return O.ssa2(lr, o.k, o.q, o.tau)
    raise ValueError(f"solver: unknown optimizer {name!r}")


def fit(problem, nlp, opts, name, theta0=None, monitor=None):
    """The shared training loop. Returns (θ, status, message, epochs, monitor)."""
    obj = objective_for(problem, nlp)
    sched = as_schedule(opts.learning_rate)
    N = obj.N
    B = N if opts.batch_size is None else min(int(opts.batch_size), N)
    nb = -(-N // B)
    opt = _make(name, opts, (lambda t: sched(t // nb)) if nb > 1 else sched)
    mon = monitor or Monitor(opts, obj.val is not None)
    h0 = len(mon.history)
    theta = np.array(nlp.x0 if theta0 is None else theta0, dtype=float, copy=True)
    state = opt.init(theta)
    rng = np.random.default_rng(opts.seed)
    full = obj.full() if nb == 1 else None
    sizes = [B] * (N // B) + ([N % B] if N % B else [])
    fns = [obj.batch(s) for s in sizes] if nb > 1 else []
    status, message, epoch = Status.MAX_ITER, f"stopped at the epoch limit ({opts.max_epochs})", 0
    gtol, has_val = opts.gtol, obj.val is not None
    try:
        for epoch in range(opts.max_epochs):
            if mon.out_of_time():
                status, message = Status.MAX_TIME, f"stopped at the time limit ({opts.max_time:g} s)"
                break
            if full is not None:
                loss, g = full(theta)
                if not np.isfinite(loss) or not np.all(np.isfinite(g)):
                    status, message = Status.NUMERICAL_ERROR, f"non-finite loss or gradient at epoch {epoch}"
                    break
                if gtol and np.max(np.abs(g)) <= gtol:
                    mon.end_epoch(epoch, loss, theta, sched(epoch), obj.val(theta) if has_val else None)
                    status, message = Status.SUCCESS, f"gradient norm below gtol={gtol:g}"
                    break
                step, state = opt.update(g, state, theta)
                new = theta + step
            else:
                perm = rng.permutation(N)
                new, total, pos = theta, 0.0, 0
                for fb, s in zip(fns, sizes):
                    idx = perm[pos:pos + s]
                    pos += s
                    np.take(obj.X, idx, axis=0, out=fb.X)
                    np.take(obj.Y, idx, axis=0, out=fb.Y)
                    lb, g = fb(new)
                    total += lb * s
                    step, state = opt.update(g, state, new)
                    new = new + step
                loss = total / N
            if not np.isfinite(loss) or not np.all(np.isfinite(new)):
                status, message = Status.NUMERICAL_ERROR, f"non-finite loss or weights at epoch {epoch}"
                break
            theta = new
            stop = mon.end_epoch(epoch, loss, theta, sched(epoch), obj.val(theta) if has_val else None)
            if stop is not None:
                status, message = stop
                break
    except KeyboardInterrupt:
        status, message = Status.USER_STOP, f"interrupted by the user at epoch {epoch}"
    theta, note = mon.restored(theta, status)
    return theta, status, message + note, len(mon.history) - h0, mon


def run_first_order(name):
    def run(problem, nlp, opts):
        t0 = time.perf_counter()
        theta, status, message, epochs, mon = fit(problem, nlp, opts, name)
        return problem.result_from(nlp, theta, status, message, name, iterations=epochs,
                                   wall_time=time.perf_counter() - t0, history=mon.history,
                                   raw_status=status.value, stats={"epochs": epochs})
    return run


def check_unconstrained(problem, nlp, opts):
    """Refuse what back-propagation cannot honour (extra constraints, bounds)."""
    if nlp.n_g > 0 or np.any(np.isfinite(nlp.lbx)) or np.any(np.isfinite(nlp.ubx)):
        raise ValueError("solver: back-propagation optimizers train without constraints; this problem has "
                         f"{nlp.n_g} extra constraint(s) (prob.subject_to). Use solve('ipopt') for constrained training")
    es = getattr(opts, "early_stopping", None)
    if es is not None and es.monitor == "val_loss" and problem.X_val is None:
        raise ValueError("early_stopping.monitor: 'val_loss' needs validation data; build the Problem with "
                         "X_val=, y_val= or monitor 'loss'")


_SPECS = {
    "gd": (GDOptions, "gradient descent (MATLAB traingd analogue)"),
    "momentum": (MomentumOptions, "gradient descent with heavy-ball momentum"),
    "nesterov": (MomentumOptions, "Nesterov accelerated gradient"),
    "adagrad": (AdagradOptions, "Adagrad"),
    "adadelta": (AdadeltaOptions, "Adadelta"),
    "rmsprop": (RMSPropOptions, "RMSProp"),
    "adam": (AdamOptions, "Adam (back-propagation, single shooting)"),
    "nadam": (NadamOptions, "Nadam (Adam with Nesterov momentum)"),
    "ssa1": (SSA1Options, "operator-splitting optimizer SSA1 (Alecsa et al.)"),
    "ssa2": (SSA2Options, "operator-splitting optimizer SSA2 (Alecsa et al.)"),
}

for _name, (_cls, _summary) in _SPECS.items():
    register_solver(SolverSpec(name=_name, run=run_first_order(_name), options=_cls, formulation="single_shooting",
                               check=check_unconstrained, summary=_summary))
