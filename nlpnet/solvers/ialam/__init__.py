"""iALAM (seed 002): inexact augmented Lagrangian + alternating minimization for leaky-ReLU
networks with group sparsity, as a self-contained NumPy solver.

    from nlpnet.solvers.ialam import run_ialam, IalamOptions, init_weights
    W0, b0 = init_weights([784, 200, 10], seed=0)
    out = run_ialam(X, Y, 0.0, "leaky_relu", W0, b0, IalamOptions(lambda_w=1e-3))
    out.status, out.history[-1]["train_err"], out.W

Modules: ``model`` (the model (PP), metrics, initialisation), ``pair_step`` (the closed-form
(v, u) entry minimisers), ``weight_step`` (proximal gradient with BB steps), ``inner`` (one
alternating-minimization sweep), ``solver`` (the outer loop), ``options``. See docs/ialam.md.
"""
from .model import forward_states, init_weights, predict
from .options import IalamOptions, resolve_ialam_options
from .pair_step import identity_pair_argmin, leaky_pair_argmin
from .solver import HISTORY_KEYS, STATUSES, IalamOutput, run_ialam
from .weight_step import group_soft_threshold, prox_gradient_bb

__all__ = ["run_ialam", "IalamOptions", "IalamOutput", "HISTORY_KEYS", "STATUSES", "init_weights",
           "forward_states", "predict", "resolve_ialam_options", "leaky_pair_argmin",
           "identity_pair_argmin", "group_soft_threshold", "prox_gradient_bb"]
