"""iALAM (seed 002): inexact augmented Lagrangian + alternating minimization for leaky-ReLU
networks with group sparsity, on the NLP of :class:`~nlpnet.formulations.PenalizedLifting`.

    prob = nlpnet.Problem(net, X, Y, formulation=nlpnet.PenalizedLifting(beta=2.0),
                          regularizer=nlpnet.GroupLasso(1e-3), X_val=Xt, y_val=Yt)
    res = prob.solve("ialam", max_time=60)
    res.history["loss"], res.stats["col_sparsity"], res.network.predict(Xt)

Modules: :mod:`.solver` (the outer loop, statuses, size estimate), :mod:`.inner` (one
alternating-minimization sweep), :mod:`.weight_step` (proximal gradient with BB steps),
:mod:`.pair_step` (the closed-form (v, u) entry minimisers), :mod:`.kkt` (the KKT residual of
(PP)), :mod:`.metrics` (the merit function and the slides' metrics), :mod:`.options`. See
docs/ialam.md.
"""
from __future__ import annotations

from .. import SolverSpec, register_solver
from .options import IalamOptions
from .pair_step import identity_pair_argmin, leaky_pair_argmin
from .solver import MESSAGES, STATUSES, check, estimate_memory, solve_ialam
from .weight_step import group_soft_threshold, prox_gradient_bb

__all__ = ["IalamOptions", "solve_ialam", "leaky_pair_argmin", "identity_pair_argmin", "group_soft_threshold",
           "prox_gradient_bb"]

register_solver(SolverSpec(name="ialam", run=solve_ialam, options=IalamOptions, statuses=STATUSES, messages=MESSAGES,
                           check=check, estimate=estimate_memory, requires=("penalized_lifting",), family="ialam",
                           alternative="use fewer samples, or mini-batch back-propagation (solve('adam', "
                                       "batch_size=...))",
                           summary="inexact augmented Lagrangian with alternating minimization for leaky ReLU and "
                                   "group sparsity (seed 002; penalized_lifting)"))
