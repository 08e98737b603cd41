"""Second-order-type back-propagation baselines on the single-shooting problem.

**L-BFGS** (``"lbfgs"``): the two-loop recursion over the last ``memory`` pairs
s_k = θ_{k+1} − θ_k, y_k = ∇ℓ(θ_{k+1}) − ∇ℓ(θ_k) gives d = −H_k ∇ℓ with the initial
scaling H_0 = (sᵀy / yᵀy) I; the step length comes from a backtracking Armijo search
(ℓ(θ + αd) ≤ ℓ(θ) + c1 α ∇ℓᵀd, α ← α/2, first trial α = 1, or 1/‖∇ℓ‖∞ on the first
iteration). Pairs with sᵀy ≤ 1e-12·‖s‖‖y‖ are skipped, which keeps H_k positive definite; a
non-descent direction resets the memory. One iteration is one "epoch" in the history.

**Adam then L-BFGS** (``"adam_lbfgs"``): ``adam_epochs`` full-batch Adam epochs (the
lecture's recipe for function approximation), then L-BFGS from Adam's last point.

**Levenberg–Marquardt** (``"lm_backprop"``, MATLAB ``trainlm``): with the residual F(θ)
(data misfit / √N and regularizer residuals; ℓ = ‖F‖²) and J = ∂F/∂θ from CasADi,
each epoch solves (JᵀJ + μ I) δ = −JᵀF (through the smaller system δ = −Jᵀ(JJᵀ + μ I)⁻¹F
when there are fewer residuals than weights); the step is accepted when it lowers ℓ, and then
μ ← μ·mu_dec, else μ ← μ·mu_inc and the system is solved again; training stops when
μ > mu_max, ‖2JᵀF‖∞ < gtol, or ℓ ≤ goal. Defaults are MATLAB's (μ = 1e-3, ×0.1, ×10,
μ_max = 1e10, min_grad 1e-7, 1000 epochs). User objective terms that are not least
squares cannot be handled and are refused.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from ..options import check_int, check_nonneg, check_positive
from ..result import Status
from . import SolverSpec, register_solver
from .backprop import AdamOptions, check_unconstrained, fit
from .training import Monitor, as_early_stopping, objective_for

__all__ = ["LBFGSOptions", "AdamLBFGSOptions", "LMOptions", "lbfgs_loop"]


@dataclass
class LBFGSOptions:
    """max_epochs: iterations; memory: stored pairs; gtol: stop when ‖∇ℓ‖∞ ≤ gtol;
    ftol: stop when the relative decrease of ℓ in an iteration is below ftol; c1: Armijo
    constant; max_backtracks: halvings per line search; early_stopping, stagnation,
    max_time, verbose as for the first-order solvers."""

    max_epochs: int = 1000
    memory: int = 10
    gtol: float = 1e-8
    ftol: float = 1e-14
    c1: float = 1e-4
    max_backtracks: int = 40
    early_stopping: object = None
    stagnation: float | None = None
    max_time: float | None = None
    verbose: int = 0

    def __post_init__(self):
        check_int("max_epochs", self.max_epochs, 0)
        check_int("memory", self.memory, 1)
        check_nonneg("gtol", self.gtol)
        check_nonneg("ftol", self.ftol)
        if not (isinstance(self.c1, float) and 0 < self.c1 < 1):
            raise ValueError(f"c1: must lie in (0, 1), got {self.c1!r}")
        check_int("max_backtracks", self.max_backtracks, 1)
        self.early_stopping = as_early_stopping(self.early_stopping)
        if self.stagnation is not None:
            check_nonneg("stagnation", self.stagnation)
        check_positive("max_time", self.max_time, allow_none=True)
        check_int("verbose", self.verbose, 0)


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


def lbfgs_loop(problem, nlp, opts, theta0, monitor):
    """L-BFGS iterations; returns (θ, status, message, iterations)."""
    obj = objective_for(problem, nlp)
    fg = obj.loss_grad
    theta = np.array(theta0, dtype=float, copy=True)
    f, g = fg(theta)
    S, Y = [], []
    status, message, it = Status.MAX_ITER, f"stopped at the iteration limit ({opts.max_epochs})", 0
    n_eval = 1
    if not (np.isfinite(f) and np.all(np.isfinite(g))):
        return theta, Status.NUMERICAL_ERROR, "non-finite loss at the start", 0, n_eval
    try:
        for it in range(opts.max_epochs):
            if np.max(np.abs(g)) <= opts.gtol:
                status, message = Status.SUCCESS, f"gradient norm below gtol={opts.gtol:g}"
                break
            if monitor.out_of_time():
                status, message = Status.MAX_TIME, f"stopped at the time limit ({opts.max_time:g} s)"
                break
            d = _two_loop(g, S, Y)
            slope = g @ d
            if not slope < 0:
                S, Y = [], []
                d, slope = -g, -(g @ g)
            alpha = 1.0 if S else min(1.0, 1.0 / max(np.max(np.abs(g)), 1e-300))
            for _ in range(opts.max_backtracks):
                f_new, g_new = fg(theta + alpha * d)
                n_eval += 1
                if np.isfinite(f_new) and f_new <= f + opts.c1 * alpha * slope:
                    break
                alpha *= 0.5
            else:
                status, message = Status.STALLED, "line search failed to decrease the loss"
                break
            s, y = alpha * d, g_new - g
            if y @ s > 1e-12 * np.linalg.norm(s) * np.linalg.norm(y):
                S.append(s)
                Y.append(y)
                if len(S) > opts.memory:
                    S.pop(0)
                    Y.pop(0)
            rel = (f - f_new) / max(abs(f), 1e-300)
            theta, f, g = theta + s, f_new, g_new
            stop = monitor.end_epoch(it, f, theta, alpha, obj.val(theta) if obj.val else None)
            if stop is not None:
                status, message = stop
                it += 1
                break
            if rel < opts.ftol:
                status, message, it = Status.SUCCESS, f"relative decrease below ftol={opts.ftol:g}", it + 1
                break
        else:
            it = opts.max_epochs
    except KeyboardInterrupt:
        status, message = Status.USER_STOP, f"interrupted by the user at iteration {it}"
    return theta, status, message, it, n_eval


def run_lbfgs(problem, nlp, opts):
    t0 = time.perf_counter()
    mon = Monitor(opts, problem.X_val is not None, t0=t0)
    theta, status, message, it, n_eval = lbfgs_loop(problem, nlp, opts, nlp.x0, mon)
    theta, note = mon.restored(theta, status)
    return problem.result_from(nlp, theta, status, message + note, "lbfgs", iterations=it,
                               wall_time=time.perf_counter() - t0, history=mon.history,
                               raw_status=status.value, stats={"loss_evaluations": n_eval})


@dataclass
class AdamLBFGSOptions(AdamOptions):
    """Adam options (its ``max_epochs`` is the Adam phase, default 1000) plus the L-BFGS
    phase: ``lbfgs_epochs``, ``memory``, ``lbfgs_gtol``."""

    lbfgs_epochs: int = 500
    memory: int = 10
    lbfgs_gtol: float = 1e-8

    def __post_init__(self):
        super().__post_init__()
        check_int("lbfgs_epochs", self.lbfgs_epochs, 0)
        check_int("memory", self.memory, 1)
        check_nonneg("lbfgs_gtol", self.lbfgs_gtol)


def run_adam_lbfgs(problem, nlp, opts):
    t0 = time.perf_counter()
    mon = Monitor(opts, problem.X_val is not None, t0=t0, extra={"phase": "adam"})
    theta, st1, msg1, e1, _ = fit(problem, nlp, opts, "adam", monitor=mon)
    theta, _ = mon.restored(theta, st1)
    if st1 in (Status.NUMERICAL_ERROR, Status.USER_STOP, Status.MAX_TIME):
        status, message, e2, n_eval = st1, f"Adam phase: {msg1}", 0, 0
    else:
        lopts = LBFGSOptions(max_epochs=opts.lbfgs_epochs, memory=opts.memory, gtol=opts.lbfgs_gtol,
                             max_time=opts.max_time, verbose=opts.verbose)
        mon2 = Monitor(lopts, False, t0=t0, history=mon.history, epoch0=e1, extra={"phase": "lbfgs"})
        theta, status, msg2, e2, n_eval = lbfgs_loop(problem, nlp, lopts, theta, mon2)
        message = f"Adam phase: {msg1}; L-BFGS phase: {msg2}"
    return problem.result_from(nlp, theta, status, message, "adam_lbfgs", iterations=e1 + e2,
                               wall_time=time.perf_counter() - t0, history=mon.history, raw_status=status.value,
                               stats={"adam_epochs": e1, "lbfgs_iterations": e2, "loss_evaluations": n_eval})


@dataclass
class LMOptions:
    """MATLAB ``trainlm`` names: max_epochs (epochs), mu, mu_dec, mu_inc, mu_max, gtol
    (min_grad), goal (loss goal); early_stopping, stagnation, max_time, verbose as above."""

    max_epochs: int = 1000
    mu: float = 1e-3
    mu_dec: float = 0.1
    mu_inc: float = 10.0
    mu_max: float = 1e10
    gtol: float = 1e-7
    goal: float = 0.0
    early_stopping: object = None
    stagnation: float | None = None
    max_time: float | None = None
    verbose: int = 0

    def __post_init__(self):
        check_int("max_epochs", self.max_epochs, 0)
        check_positive("mu", self.mu)
        if not (isinstance(self.mu_dec, (int, float)) and 0 < self.mu_dec < 1):
            raise ValueError(f"mu_dec: must lie in (0, 1), got {self.mu_dec!r}")
        if not (isinstance(self.mu_inc, (int, float)) and self.mu_inc > 1):
            raise ValueError(f"mu_inc: must be > 1, got {self.mu_inc!r}")
        check_positive("mu_max", self.mu_max)
        check_nonneg("gtol", self.gtol)
        check_nonneg("goal", self.goal)
        self.early_stopping = as_early_stopping(self.early_stopping)
        if self.stagnation is not None:
            check_nonneg("stagnation", self.stagnation)
        check_positive("max_time", self.max_time, allow_none=True)
        check_int("verbose", self.verbose, 0)


def run_lm(problem, nlp, opts):
    t0 = time.perf_counter()
    obj = objective_for(problem, nlp)
    FJ = obj.residual_jacobian()
    mon = Monitor(opts, obj.val is not None, t0=t0)
    theta = np.array(nlp.x0, dtype=float, copy=True)
    mu, n = float(opts.mu), theta.size
    status, message, it, n_jac = Status.MAX_ITER, f"stopped at the epoch limit ({opts.max_epochs})", 0, 0

    def resid(th):
        F, J = FJ(th)
        return np.asarray(F).ravel(), np.asarray(J)
    F, J = resid(theta)
    n_jac += 1
    f = float(F @ F)
    try:
        for it in range(opts.max_epochs):
            g = J.T @ F
            if not np.isfinite(f):
                status, message = Status.NUMERICAL_ERROR, "non-finite loss"
                break
            if f <= opts.goal:
                status, message = Status.SUCCESS, f"loss goal {opts.goal:g} reached"
                break
            if 2 * np.max(np.abs(g)) < opts.gtol:
                status, message = Status.SUCCESS, f"gradient norm below gtol={opts.gtol:g}"
                break
            if mon.out_of_time():
                status, message = Status.MAX_TIME, f"stopped at the time limit ({opts.max_time:g} s)"
                break
            wide = J.shape[0] < n  # fewer residuals than weights: solve the smaller system
            H = J @ J.T if wide else J.T @ J
            eye = np.eye(H.shape[0])
            accepted = False
            while mu <= opts.mu_max:
                try:
                    # (JᵀJ + μI)⁻¹Jᵀ = Jᵀ(JJᵀ + μI)⁻¹ (push-through identity)
                    delta = -(J.T @ np.linalg.solve(H + mu * eye, F)) if wide else np.linalg.solve(H + mu * eye, -g)
                except np.linalg.LinAlgError:
                    mu *= opts.mu_inc
                    continue
                F_new, J_new = resid(theta + delta)
                n_jac += 1
                f_new = float(F_new @ F_new)
                if np.isfinite(f_new) and f_new < f:
                    theta, F, J, f, accepted = theta + delta, F_new, J_new, f_new, True
                    mu *= opts.mu_dec
                    break
                mu *= opts.mu_inc
            if not accepted:
                status, message = Status.STALLED, f"mu exceeded mu_max={opts.mu_max:g}"
                break
            stop = mon.end_epoch(it, f, theta, None, obj.val(theta) if obj.val else None, mu=mu)
            if stop is not None:
                status, message = stop
                it += 1
                break
        else:
            it = opts.max_epochs
    except KeyboardInterrupt:
        status, message = Status.USER_STOP, f"interrupted by the user at epoch {it}"
    theta, note = mon.restored(theta, status)
    return problem.result_from(nlp, theta, status, message + note, "lm_backprop", iterations=it,
                               wall_time=time.perf_counter() - t0, history=mon.history, raw_status=status.value,
                               stats={"jacobian_evaluations": n_jac, "final_mu": mu})


def _check_lm(problem, nlp, opts):
    check_unconstrained(problem, nlp, opts)
    import casadi as ca
    if nlp.f_rest.numel() and ca.depends_on(nlp.f_rest, nlp.x):
        raise ValueError("solver: 'lm_backprop' needs a least-squares objective; this problem has extra objective "
                         "terms (prob.add_objective). Use 'lbfgs', 'adam' or 'ipopt'")


register_solver(SolverSpec(name="lbfgs", run=run_lbfgs, options=LBFGSOptions, formulation="single_shooting",
                           check=check_unconstrained, summary="L-BFGS with Armijo backtracking (single shooting)"))
register_solver(SolverSpec(name="adam_lbfgs", run=run_adam_lbfgs, options=AdamLBFGSOptions,
                           formulation="single_shooting", check=check_unconstrained,
                           summary="Adam epochs followed by L-BFGS (single shooting)"))
register_solver(SolverSpec(name="lm_backprop", run=run_lm, options=LMOptions, formulation="single_shooting",
                           check=_check_lm, summary="Levenberg–Marquardt on the reduced problem (MATLAB trainlm)"))
