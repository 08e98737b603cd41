"""iALAM: the inexact augmented Lagrangian method with alternating minimization (seed 002).

Reads only the NLP of :class:`~nlpnet.formulations.PenalizedLifting`: the data, the validation
data (the test set of TestErr), the weights of x0 as W⁽⁰⁾, b⁽⁰⁾ and its forward-pass states, and
the model's parameters (``nlp.evaluator``). Outer loop (the slides' IALM framework, the ``liu``
rule), k = 1, 2, …:

1. (``restart_states``) start the states from a forward pass of the current weights; solve the
   inner problem min L_ρ(w, b, v, u; ξ) over v ≥ u, v ≥ αu inexactly by sweeps of
   :mod:`.inner` (at least ``min_sweeps``, at most ``max_sweeps``, stopping once a sweep lowers
   L_ρ by less than the current inner tolerance);
2. ξ ← ξ + s·ρ·c with the linear residual c = u − Ψ(v)w − Ab of the new point;
3. keep ρ for k ≤ γ and while ‖c_k‖ ≤ η₁ max_{t=k−γ..k−1} ‖c_t‖, else raise it: "authors"
   ρ ← η₂ρ, or "slides" ρ ← max(η₂ρ, ‖ξ‖^{1+η₃}) (the increasing form, in the slides' units);
   with every raise the inner tolerance is divided by ``inner_tol_factor`` (authors);
4. β ← beta_factor·β when (1/N)Σ‖v − σ(u)‖² > beta_ratio·(1/N)Σ‖c‖² (authors, k > 1);
5. stop: ``success`` when the violation max|c| ≤ tol_feas and the KKT residual of (PP) at the
   forward-pass point (:mod:`.kkt`) is ≤ tol_stat; at ρ > rho_stop_factor·ρ⁽⁰⁾ (the slides'
   rule) ``acceptable`` when max|c| ≤ acceptable_feas, else ``stalled``; ``max_iter``,
   ``max_time`` (checked before every sweep and BB step), Ctrl-C (``user_stop``); a non-finite
   value ends the run with ``numerical_error`` and the last finite iterate.

The returned point is the last iterate (w, b, v, u); the trained network is (w, b) with σ
exactly. Every step is a BLAS product over the batch or an elementwise closed form: O(N).
"""
from __future__ import annotations

import math
import time

import numpy as np

from ...formulations.penalized import PenalizedModel
from ...result import History, SolverOutput, Status
from ..common import Budget, IterationLog
from .inner import FirstLayer, state_step, weight_step
from .kkt import kkt_residual
from .metrics import augmented_lagrangian, network_metrics, state_violations
from .options import IalamOptions

__all__ = ["solve_ialam", "check", "estimate_memory", "STATUSES", "MESSAGES"]

STATUSES = {"success": Status.SUCCESS, "acceptable": Status.ACCEPTABLE, "stalled": Status.STALLED,
            "max_iter": Status.MAX_ITER, "max_time": Status.MAX_TIME, "numerical_error": Status.NUMERICAL_ERROR,
            "user_stop": Status.USER_STOP}
MESSAGES = {"success": "KKT tolerances met after {iterations} outer iterations",
            "acceptable": "ρ exceeded rho_stop_factor·ρ0 (the slides' stop) after {iterations} outer iterations, "
                          "constraints met to acceptable_feas",
            "stalled": "ρ exceeded rho_stop_factor·ρ0 after {iterations} outer iterations, but the violation is "
                       "above acceptable_feas",
            "max_iter": "outer iteration limit reached after {iterations} outer iterations",
            "max_time": "time limit reached after {iterations} outer iterations",
            "numerical_error": "non-finite values after {iterations} outer iterations; the last finite iterate "
                               "is returned",
            "user_stop": "interrupted by the user after {iterations} outer iterations"}
LOG_COLUMNS = ("rho", "beta", "feas_vi", "col_sparsity", "sweeps")


def check(nlp, opts: IalamOptions) -> None:
    model = nlp.evaluator
    if not isinstance(model, PenalizedModel):
        raise ValueError("ialam: needs the penalized_lifting formulation; build the Problem with "
                         "formulation=nlpnet.PenalizedLifting(...)")
    if not nlp.glob.empty:
        raise ValueError("ialam: the problem has extra constraints or objective terms (subject_to / add_objective), "
                         "which the alternating minimization of (PP) cannot take; drop them, or solve the "
                         "multiple_shooting problem with solve('ipopt')")
    for name in ("rho0", "multiplier_step"):
        opts.per_layer(name, model.n_layers)


def estimate_memory(nlp, opts: IalamOptions) -> float:
    """Bytes of the arrays one outer iteration holds: about 16 N × Σd_ℓ state-shaped arrays
    (states, multipliers, residuals, the snapshot, the pair step's temporaries), the input
    columns once more, the Gram matrices and a few weight-sized arrays."""
    sizes = nlp.evaluator.sizes
    n_state = nlp.N * sum(sizes[1:])
    grams = sum((d + 1) ** 2 for d in sizes[:-1])
    return 8.0 * (16 * n_state + nlp.N * sizes[0] + 3 * grams + 8 * nlp.n_theta)


def _finite(arrays) -> bool:
    return all(np.isfinite(np.sum(a)) or np.all(np.isfinite(a)) for a in arrays)


def solve_ialam(nlp, opts: IalamOptions) -> SolverOutput:
    # overflow is detected and reported as "numerical_error"; no warnings on the way
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        return _solve(nlp, opts)


def _solve(nlp, opts: IalamOptions) -> SolverOutput:
    budget, cpu0 = Budget(opts.max_time), time.process_time()
    model: PenalizedModel = nlp.evaluator
    X, Y, test, classes = nlp.samples.X, nlp.samples.Y, nlp.validation, nlp.samples.classes
    W, b, U, V = model.unpack_point(nlp, nlp.x0)
    n, n_layers, alphas = X.shape[0], model.n_layers, model.alphas
    beta = list(model.beta)
    rho0 = opts.per_layer("rho0", n_layers)
    mult_step = opts.per_layer("multiplier_step", n_layers)
    gamma = opts.gamma if opts.gamma is not None else 2 * n_layers
    end = budget.deadline if budget.deadline is not None else math.inf
    rho = list(rho0)
    fwd = (U, V)                                  # forward pass of the current weights (x0's states)
    Xi = [np.zeros_like(Ul) for Ul in U]
    first = FirstLayer(X)                         # layer 1's data and Gram matrix never change
    steps = [None] * n_layers
    inner_tol = opts.inner_tol
    viol_hist, history = [], History()
    counts = dict(sweeps=0, wb_steps=0, wb_rejections=0, rho_raises=0, beta_raises=0)
    log = IterationLog("ialam", opts.verbose, extra=LOG_COLUMNS)
    raw, k, Z1, last = "max_iter", 0, None, None
    setup_time = budget.elapsed()
    try:
        for k in range(1, opts.max_iter + 1):
            if opts.restart_states and k > 1:
                U, V = list(fwd[0]), list(fwd[1])  # (no step modifies arrays in place)
            C = state_violations(model, X, W, b, V, U, Z1=fwd[0][0])[2]
            al_prev = augmented_lagrangian(model, Y, W, V, U, C, Xi, rho, beta)
            timed_out = broken = False
            move, n_sweeps, wb_k = math.inf, 0, 0
            for j in range(opts.max_sweeps):
                if time.perf_counter() > end:
                    timed_out = True
                    break
                snapshot = (W, b, V, U)
                W, b, info = weight_step(X, W, b, V, U, Xi, rho, lambda_w=model.lambda_w, bias_lower=model.bias_lower,
                                         max_iter=opts.wb_max_iter, tol=opts.wb_tol, steps=steps, first=first,
                                         deadline=end)
                V, U, move_j, Z1 = state_step(X, Y, W, b, V, U, Xi, rho, beta, alphas, lambda_v=model.lambda_v,
                                              tau1=opts.tau1, first=first)
                C = state_violations(model, X, W, b, V, U, Z1=Z1)[2]
                al = augmented_lagrangian(model, Y, W, V, U, C, Xi, rho, beta)
                if not (math.isfinite(al) and _finite(W + b + V + U)):
                    broken = True
                    break
                n_sweeps += 1
                wb_k += info["wb_steps"]
                counts["wb_rejections"] += info["wb_rejections"]
                move = float(max(move_j, info["wb_residual"]))
                if info["timed_out"] or time.perf_counter() > end:
                    timed_out = True
                    break
                if j + 1 >= opts.min_sweeps and al_prev - al < inner_tol:
                    break
                al_prev = al
            counts["sweeps"] += n_sweeps
            counts["wb_steps"] += wb_k
            if broken:
                W, b, V, U = snapshot               # (the steps return new arrays: the snapshot is intact)
                raw = "numerical_error"
                break
            if n_sweeps == 0:                       # out of time before any work this iteration
                raw, k = "max_time", k - 1
                break

            act, lin, C = state_violations(model, X, W, b, V, U, Z1=Z1)
            fwd = model.forward(X, W, b, Z1=Z1)
            c_norm = math.sqrt(sum(float(np.vdot(Cl, Cl)) for Cl in C))
            al = augmented_lagrangian(model, Y, W, V, U, C, Xi, rho, beta)
            Xi_new = [Xl + sl * rl * Cl for Xl, sl, rl, Cl in zip(Xi, mult_step, rho, C)]
            if not _finite(Xi_new):
                raw = "numerical_error"
                break
            Xi = Xi_new
            stat, kkt = kkt_residual(X, Y, W, b, fwd[0], fwd[1], Xi, beta, alphas, model.lambda_w,
                                     model.lambda_v, model.bias_lower)
            metrics = network_metrics(model, X, Y, W, b, opts.sparsity_tol, test, classes, out=fwd[1][-1])
            last = row = _row(k, budget, cpu0, model, Y, W, V, U, b, C, Xi, rho, beta, act, lin, c_norm, stat, kkt,
                              metrics, test is not None, classes, aug_lagrangian=al, sweeps=n_sweeps, wb_steps=wb_k,
                              complete=not timed_out, inner_residual=move)
            history.append(**row)
            log(row)

            if row["violation"] <= opts.tol_feas and stat <= opts.tol_stat:
                raw = "success"
                break
            if timed_out:
                raw = "max_time"
                break
            # the liu rule: keep ρ for the first γ steps and while the violation keeps falling
            past = viol_hist[-gamma:]
            viol_hist.append(c_norm)
            if k > gamma and c_norm > opts.eta1 * max(past):
                if opts.rho_update == "authors":
                    rho = [opts.eta2 * r for r in rho]
                else:                               # slides: ρ/N ← max(η₂ρ/N, ‖ξ/N‖^{1+η₃}) per layer
                    rho = [max(opts.eta2 * r, n * (math.sqrt(float(np.vdot(Xl, Xl))) / n) ** (1 + opts.eta3))
                           for r, Xl in zip(rho, Xi)]
                counts["rho_raises"] += 1
                inner_tol /= opts.inner_tol_factor
            if k > 1 and act > opts.beta_ratio * lin and opts.beta_factor > 1.0:
                beta = [opts.beta_factor * bl for bl in beta]
                counts["beta_raises"] += 1
            if max(r / r0 for r, r0 in zip(rho, rho0)) > opts.rho_stop_factor:
                raw = "acceptable" if row["violation"] <= opts.acceptable_feas else "stalled"
                break
    except KeyboardInterrupt:
        raw = "user_stop"
    if last is not None:
        log(last, last=True)

    final = network_metrics(model, X, Y, W, b, opts.sparsity_tol, test, classes)
    act, lin, C = state_violations(model, X, W, b, V, U)
    viol = model.violation(C, V, U, b)
    stats = {"setup_time": setup_time, "time": budget.elapsed(), "cpu_time": time.process_time() - cpu0,
             "outer_iterations": len(history), "inner_iterations": counts["sweeps"], **counts,
             "rho": list(rho), "beta": list(beta), "gamma": gamma, "feas_activation": act, "feas_linear": lin,
             "feas_vi": act + lin, "violation": viol, **final}
    return SolverOutput(x=model.point(W, b, U, V), raw_status=raw, iterations=len(history), history=history,
                        stats=stats, detail=f" (violation {viol:.2e})", p=nlp.p0,
                        feasibility_tol=opts.acceptable_feas)


def _row(k, budget, cpu0, model, Y, W, V, U, b, C, Xi, rho, beta, act, lin, c_norm, stat, kkt, metrics, has_test,
         classes, **counters) -> dict:
    """One history row: the shared columns first (docs/solvers.md), then iALAM's own."""
    n = Y.shape[0]
    row = {"iteration": k, "time": budget.elapsed(), "objective": sum(model.objective_terms(Y, W, V, U)),
           "loss": metrics["train_err"], "violation": model.violation(C, V, U, b)}
    if has_test:
        row["val_loss"] = metrics["test_err"]
    if classes:
        row["accuracy"] = metrics["train_acc"]
        if has_test:
            row["val_accuracy"] = metrics["test_acc"]
    row.update(metrics)
    row.update(feas_activation=act, feas_linear=lin, feas_vi=act + lin, violation_rms=c_norm / math.sqrt(n),
               stationarity=stat, **kkt, rho=max(rho), beta=max(beta), xi_norm=math.sqrt(sum(float(np.vdot(Xl, Xl)) for Xl in Xi)),
               cpu_time=time.process_time() - cpu0, **counters)
    return row
