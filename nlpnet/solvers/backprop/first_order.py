"""First-order back-propagation solvers on the single-shooting problem.

``prob.solve("adam", learning_rate=1e-3, max_iter=4000, early_stopping={"monitor": "loss",
"patience": 10})`` trains the single-shooting NLP of the problem (same θ symbol, same
regularizers and objective terms) from the problem's own initial weights, whether the Problem
was built as single or multiple shooting, so lifted and back-propagation runs start from
identical networks.

One epoch is one pass over the data: one update for the full batch (``batch_size=None``),
else ⌈N/B⌉ updates on the batches of a seeded permutation (``seed``). Update rules are in
:mod:`.optimizers`, schedules in :mod:`.schedules`, the loop and stopping rules in
:mod:`.loop`, defaults in :mod:`.options`.

Extra constraints (``prob.subject_to``) cannot be honoured by these unconstrained methods:
such problems are refused with a ValueError pointing to "ipopt".
"""
from __future__ import annotations

import numpy as np

from ...result import SolverOutput
from . import optimizers as O
from .loop import BatchObjective, Monitor, train_first_order
from .schedules import as_schedule

__all__ = ["make_optimizer", "run_first_order", "check_unconstrained"]


def make_optimizer(name, o, lr):
    """The optax-style optimizer ``name`` with the options ``o`` and rate function ``lr``."""
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
    if name in ("adam", "adam_lbfgs"):
        return O.adam(lr, o.beta1, o.beta2, o.epsilon)
    if name == "nadam":
        return O.nadam(lr, o.beta1, o.beta2, o.epsilon, o.momentum_decay)
    if name == "ssa1":
        return O.ssa1(lr, o.k)
    if name == "ssa2":
        return O.ssa2(lr, o.k, o.q, o.tau)
    raise ValueError(f"solver: unknown optimizer {name!r}")


def fit(nlp, opts, name, monitor: Monitor, theta0=None):
    """Train ``theta0`` (default x0) with optimizer ``name``: (θ, raw status, epochs)."""
    objective = BatchObjective(nlp)
    sched = as_schedule(opts.learning_rate)
    nb = -(-objective.N // (objective.N if opts.batch_size is None else min(opts.batch_size, objective.N)))
    # schedules count epochs; the optimizer's counter counts updates
    opt = make_optimizer(name, opts, (lambda t: sched(t // nb)) if nb > 1 else sched)
    return train_first_order(objective, opt, opts, sched, nlp.x0 if theta0 is None else theta0, monitor)


def run_first_order(name):
    def run(nlp, opts) -> SolverOutput:
        mon = Monitor(opts, name)
        theta, raw, epochs = fit(nlp, opts, name, mon)
        theta, detail = mon.finish(theta, raw)
        return SolverOutput(x=theta, raw_status=raw, iterations=epochs, history=mon.history, detail=detail,
                            stats={"setup_time": 0.0, "epochs": epochs})
    return run


def check_unconstrained(nlp, opts):
    """Refuse what back-propagation cannot honour (extra constraints, bounds)."""
    if nlp.n_g > 0 or np.any(np.isfinite(nlp.lbx)) or np.any(np.isfinite(nlp.ubx)):
        raise ValueError("solver: back-propagation optimizers train without constraints; this problem has "
                         f"{nlp.n_g} extra constraint(s) (prob.subject_to). Use solve('ipopt') for constrained training")
    es = getattr(opts, "early_stopping", None)
    if es is not None and es.monitor == "val_loss" and nlp.validation is None:
        raise ValueError("early_stopping.monitor: 'val_loss' needs validation data; build the Problem with "
                         "X_val=, y_val= or monitor 'loss'")


def estimate_memory(nlp, opts) -> float:
    """Activations and their derivatives of one batch, weights, gradient and optimizer state."""
    B = nlp.N if getattr(opts, "batch_size", None) is None else min(opts.batch_size, nlp.N)
    return 8.0 * (3 * B * sum(nlp.samples.kernels.sizes) + 6 * nlp.n_theta)
