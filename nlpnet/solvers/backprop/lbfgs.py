"""L-BFGS and Adam-then-L-BFGS on the single-shooting problem (batched gradient).

**L-BFGS** (``"lbfgs"``): the two-loop recursion over the last ``memory`` pairs
s_k = θ_{k+1} − θ_k, y_k = ∇ℓ(θ_{k+1}) − ∇ℓ(θ_k) gives d = −H_k ∇ℓ with the initial
scaling H_0 = (sᵀy / yᵀy) I; the step length comes from a backtracking Armijo search
(ℓ(θ + αd) ≤ ℓ(θ) + c1 α ∇ℓᵀd, α ← α/2, first trial α = 1, or 1/‖∇ℓ‖∞ on the first
iteration). Pairs with sᵀy ≤ 1e-12·‖s‖‖y‖ are skipped, which keeps H_k positive definite; a
non-descent direction resets the memory. One iteration is one history row.

**Adam then L-BFGS** (``"adam_lbfgs"``): ``max_iter`` full-batch Adam epochs (the lecture's
recipe for function approximation), then ``lbfgs_iter`` L-BFGS iterations from Adam's last point.
"""
from __future__ import annotations

import numpy as np

from ...result import SolverOutput
from .first_order import fit
from .loop import BatchObjective, Monitor
from .options import LBFGSOptions

__all__ = ["lbfgs_loop", "run_lbfgs", "run_adam_lbfgs"]


def _two_loop(g, S, Y):
    q = g.copy()
    alphas = []
    for s, y in zip(reversed(S), reversed(Y)):
        rho = 1.0 / (y @ s)
        a = rho * (s @ q)
        alphas.append((rho, a))
        q -= a * y
    if S:
        q *= (S[-1] @ Y[-1]) / (Y[-1] @ Y[-1])
    for (s, y), (rho, a) in zip(zip(S, Y), reversed(alphas)):
        b = rho * (y @ q)
        q += (a - b) * s
    return -q


def lbfgs_loop(objective: BatchObjective, opts, theta0, monitor: Monitor):
    """L-BFGS iterations; returns (θ, raw status, iterations, loss evaluations)."""
    theta = np.array(theta0, dtype=float, copy=True)
    f, loss, g, correct = objective(theta)
    S, Y = [], []
    raw, n_eval, rows0 = "max_iter", 1, len(monitor.history)
    if not (np.isfinite(f) and np.all(np.isfinite(g))):
        return theta, "non_finite", 0, n_eval
    monitor.remember(f, theta)
    try:
        for it in range(opts.max_iter):
            if np.max(np.abs(g)) <= opts.gtol:
                raw = "gtol"
                break
            if monitor.out_of_time():
                raw = "max_time"
                break
            d = _two_loop(g, S, Y)
            slope = g @ d
            if not slope < 0:
                S, Y = [], []
                d, slope = -g, -(g @ g)
            alpha = 1.0 if S else min(1.0, 1.0 / max(np.max(np.abs(g)), 1e-300))
            for _ in range(opts.max_backtracks):
                f_new, loss_new, g_new, correct_new = objective(theta + alpha * d)
                n_eval += 1
                if np.isfinite(f_new) and f_new <= f + opts.c1 * alpha * slope:
                    break
                alpha *= 0.5
            else:
                raw = "line_search"
                break
            if not np.all(np.isfinite(g_new)):
                raw = "non_finite"
                break
            s, y = alpha * d, g_new - g
            if y @ s > 1e-12 * np.linalg.norm(s) * np.linalg.norm(y):
                S.append(s)
                Y.append(y)
                if len(S) > opts.memory:
                    S.pop(0)
                    Y.pop(0)
            rel = (f - f_new) / max(abs(f), 1e-300)
            theta, f, loss, g, correct = theta + s, f_new, loss_new, g_new, correct_new
            monitor.remember(f, theta)
            acc = None if correct is None else correct / objective.N
            stop = monitor.end_epoch(it, f, loss, theta, alpha, objective.validate(theta), acc)
            if stop is not None:
                raw = stop
                break
            if rel < opts.ftol:
                raw = "ftol"
                break
    except KeyboardInterrupt:
        raw = "user_stop"
    return theta, raw, len(monitor.history) - rows0, n_eval


def run_lbfgs(nlp, opts) -> SolverOutput:
    mon = Monitor(opts, "lbfgs")
    theta, raw, it, n_eval = lbfgs_loop(BatchObjective(nlp), opts, nlp.x0, mon)
    theta, detail = mon.finish(theta, raw)
    return SolverOutput(x=theta, raw_status=raw, iterations=it, history=mon.history, detail=detail,
                        stats={"setup_time": 0.0, "loss_evaluations": n_eval})


def run_adam_lbfgs(nlp, opts) -> SolverOutput:
    mon = Monitor(opts, "adam_lbfgs", extra={"phase": "adam"})
    theta, raw1, e1 = fit(nlp, opts, "adam", mon)
    theta, detail = mon.finish(theta, raw1)
    e2, n_eval = 0, 0
    if raw1 in ("non_finite", "user_stop", "max_time"):
        raw, detail = raw1, f" (in the Adam phase){detail}"
    else:
        lopts = LBFGSOptions(max_iter=opts.lbfgs_iter, memory=opts.memory, gtol=opts.lbfgs_gtol,
                             max_time=opts.max_time, verbose=opts.verbose)
        mon2 = Monitor(lopts, "adam_lbfgs", budget=mon.budget, history=mon.history, epoch0=e1,
                       extra={"phase": "lbfgs"})
        theta, raw, e2, n_eval = lbfgs_loop(BatchObjective(nlp), lopts, theta, mon2)
        theta, d2 = mon2.finish(theta, raw)
        detail = f" (Adam phase: {raw1}, {e1} epochs; L-BFGS phase: {e2} iterations){d2}"
    return SolverOutput(x=theta, raw_status=raw, iterations=e1 + e2, history=mon.history, detail=detail,
                        stats={"setup_time": 0.0, "adam_epochs": e1, "lbfgs_iterations": e2,
                               "loss_evaluations": n_eval})
