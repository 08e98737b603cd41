"""Back-propagation baselines on the single-shooting problem: first-order optimizers, L-BFGS,
Adam then L-BFGS, and trainlm, all on the batched gradient of the NLP's kernels.

Every solver here shares one status table (:data:`.loop.STATUSES`) and message table; options
are in :mod:`.options`, update rules in :mod:`.optimizers`, schedules in :mod:`.schedules`.
"""
from __future__ import annotations

from .. import SolverSpec, register_solver
from . import options as opt
from .first_order import check_unconstrained, estimate_memory, run_first_order
from .lbfgs import run_adam_lbfgs, run_lbfgs
from .loop import MESSAGES, STATUSES
from .trainlm import check_lm, estimate_memory as lm_memory, run_lm

__all__ = []

_FIRST_ORDER = {
    "gd": (opt.GDOptions, "gradient descent (MATLAB traingd analogue)"),
    "momentum": (opt.MomentumOptions, "gradient descent with heavy-ball momentum"),
    "nesterov": (opt.MomentumOptions, "Nesterov accelerated gradient"),
    "adagrad": (opt.AdagradOptions, "Adagrad"),
    "adadelta": (opt.AdadeltaOptions, "Adadelta"),
    "rmsprop": (opt.RMSPropOptions, "RMSProp"),
    "adam": (opt.AdamOptions, "Adam (back-propagation, single shooting)"),
    "nadam": (opt.NadamOptions, "Nadam (Adam with Nesterov momentum)"),
    "ssa1": (opt.SSA1Options, "operator-splitting optimizer SSA1 (Alecsa et al.)"),
    "ssa2": (opt.SSA2Options, "operator-splitting optimizer SSA2 (Alecsa et al.)"),
}

for _name, (_cls, _summary) in _FIRST_ORDER.items():
    register_solver(SolverSpec(name=_name, run=run_first_order(_name), options=_cls, statuses=STATUSES,
                               messages=MESSAGES, formulation="single_shooting", check=check_unconstrained,
                               estimate=estimate_memory, summary=_summary, family="backprop",
                               alternative="use a smaller batch_size"))
_COMMON = dict(statuses=STATUSES, formulation="single_shooting", family="backprop")
register_solver(SolverSpec(name="lbfgs", run=run_lbfgs, options=opt.LBFGSOptions, check=check_unconstrained,
                           messages={**MESSAGES, "max_iter": "stopped at the iteration limit after {iterations} "
                                                             "iterations"},
                           estimate=estimate_memory, summary="L-BFGS with Armijo backtracking (single shooting)",
                           alternative="use solve('adam') with a batch_size", **_COMMON))
register_solver(SolverSpec(name="adam_lbfgs", run=run_adam_lbfgs, options=opt.AdamLBFGSOptions, messages=MESSAGES,
                           check=check_unconstrained, estimate=estimate_memory,
                           summary="Adam epochs followed by L-BFGS (single shooting)",
                           alternative="use solve('adam') with a batch_size", **_COMMON))
register_solver(SolverSpec(name="lm_backprop", run=run_lm, options=opt.LMOptions, messages=MESSAGES, check=check_lm,
                           estimate=lm_memory, summary="Levenberg–Marquardt on the reduced problem (MATLAB trainlm)",
                           alternative="use 'lbfgs' or 'adam', which never form the Jacobian", **_COMMON))
