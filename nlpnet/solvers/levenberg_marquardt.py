"""Inner solvers for the augmented-Lagrangian subproblem min_u ½‖r(u)‖².

The residual of the subproblem with penalty β and multipliers λ is

    r(u) = [ F(u)/√β ; h(u) + λ/β ],     L_β(u, λ) = β·½‖r(u)‖² − ‖λ‖²/(2β),

so ∇_u L_β = β Jᵀr. :class:`AugmentedResidual` evaluates r and its block Jacobian through a
:class:`~nlpnet.solvers.structured.BlockStructure` (rows scaled and shifted, nothing rebuilt
when β or λ change).

**Levenberg–Marquardt** (:func:`levenberg_marquardt`): the step solves
(JᵀJ + μI) δ = −Jᵀr by state elimination. The gain ratio ρ = (actual reduction) /
(predicted reduction ½‖r‖² − ½‖r + Jδ‖²) drives Nielsen's damping update: on acceptance
μ ← μ·max(1/3, 1 − (2ρ − 1)³), ν ← 2; on rejection μ ← μν, ν ← 2ν. A step whose linear
solve fails, whose entries or residual are not finite, or whose predicted reduction is not
positive (a symptom of an indefinite or singular system) counts as a rejection: the
damping rises and the iteration goes on. It ends when ‖∇L_β‖_∞ ≤ tol, the relative
decrease of ½‖r‖² falls below ``ftol``, the step is negligible, μ exceeds its cap, or the
iteration / time budget is used.

**Gauss–Newton** (:func:`gauss_newton`): the same linear algebra with a tiny damping floor
(needed by the state elimination and harmless otherwise) and an Armijo backtracking line
search; a failed search raises the floor a hundredfold, as a safeguard.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from .block_solve import solve_damped
from .structured import BlockStructure

__all__ = ["AugmentedResidual", "InnerResult", "levenberg_marquardt", "gauss_newton"]


class AugmentedResidual:
    """r(u) = [√c F/√β ; h + λ/β] on the block structure (c = ``objective_scale``, the
    objective being ½c‖F‖²); ``lam`` indexes rows of g."""

    def __init__(self, st: BlockStructure, beta: float, lam: np.ndarray, method: str = "direct",
                 cg_tol: float = 1e-8, cg_maxiter: int = 500, objective_scale: float = 1.0):
        self.st, self.beta, self.method = st, float(beta), method
        self.cg_tol, self.cg_maxiter = cg_tol, cg_maxiter
        n_g, sb = st.n_g, np.sqrt(objective_scale / beta)
        is_g_loc = st.local_rows[0] < n_g if st.N else np.zeros(0, bool)
        self.scale_loc = np.where(is_g_loc, 1.0, sb)
        self.scale_glob = np.where(st.global_is_g, 1.0, sb)
        shift = np.zeros(n_g + 1)
        shift[:n_g] = lam / beta
        loc = np.where(st.local_rows < n_g, st.local_rows, n_g)        # F rows get no shift
        self.shift_loc = shift[loc]
        self.shift_glob = shift[np.where(st.global_is_g, st.global_rows, n_g)]
        self.n_res = self.n_jac = self.n_solve = 0

    def residual(self, u):
        self.n_res += 1
        R = self.st.rows(u)
        loc, glob = self.st.split(R)
        return self.scale_loc[None, :] * loc + self.shift_loc, self.scale_glob * glob + self.shift_glob

    def jacobian(self, u):
        self.n_jac += 1
        return self.st.jacobian(u).scaled(self.scale_loc, self.scale_glob)

    def step(self, jac, r, mu):
        self.n_solve += 1
        d, _ = solve_damped(jac, r[0], r[1], mu, self.method, self.cg_tol, self.cg_maxiter)
        return d

    @staticmethod
    def cost(r) -> float:
        return 0.5 * (float(np.sum(r[0] ** 2)) + float(r[1] @ r[1]))

    @staticmethod
    def grad(jac, r):
        return jac.rmatvec(r[0], r[1])

    @staticmethod
    def linearized_cost(jac, r, d) -> float:
        jl, jg = jac.matvec(d)
        return 0.5 * (float(np.sum((r[0] + jl) ** 2)) + float(np.sum((r[1] + jg) ** 2)))

    @staticmethod
    def jtj_diag_max(jac) -> float:
        st = jac.st
        dth = np.bincount(st.a_cols, weights=np.sum(jac.A ** 2, axis=0), minlength=st.n_th) \
            + np.sum(jac.C ** 2, axis=0)
        ds = np.sum(jac.B ** 2, axis=1)
        return float(max(dth.max(initial=0.0), ds.max(initial=0.0)))


@dataclass
class InnerResult:
    x: np.ndarray
    iterations: int          # linear solves (accepted and rejected steps)
    accepted: int
    jacobian_evals: int
    grad_norm: float         # ‖Jᵀr‖_∞ at x
    cost: float              # ½‖r‖² at x
    mu: float
    reason: str
    extra: dict = field(default_factory=dict)


def _finite(r) -> bool:
    return bool(np.all(np.isfinite(r[0])) and np.all(np.isfinite(r[1])))


def _linearize(model, x, r):
    """Jacobian, gradient and ‖gradient‖∞ at x with residual r."""
    jac = model.jacobian(x)
    g = model.grad(jac, r)
    return jac, g, (float(np.max(np.abs(g))) if g.size else 0.0)


def _evaluate(model, x):
    """Copy of x with its residual, cost, Jacobian, gradient and ‖gradient‖∞."""
    x = np.asarray(x, dtype=float).copy()
    r = model.residual(x)
    return (x, r, model.cost(r)) + _linearize(model, x, r)


def _stop_reason(gnorm, gtol, it, max_iter, deadline) -> str:
    """Why an inner loop stops before its next iteration ("" to go on)."""
    if gnorm <= gtol:
        return "gtol"
    if it >= max_iter:
        return "max_iter"
    if deadline is not None and time.perf_counter() > deadline:
        return "max_time"
    return ""


def levenberg_marquardt(model, x, *, gtol: float, max_iter: int = 100, mu0: float | None = None,
                        tau: float = 1e-4, ftol: float = 1e-10, xtol: float = 1e-12, mu_max: float = 1e20,
                        deadline: float | None = None) -> InnerResult:
    """Minimise ½‖r(x)‖² from ``x``; ``gtol`` bounds ‖Jᵀr‖_∞ (see the module docstring).
    ``mu0`` (e.g. the previous subproblem's final damping) overrides τ·max diag(JᵀJ)."""
    x, r, cost, jac, g, gnorm = _evaluate(model, x)
    scale = max(model.jtj_diag_max(jac), 1e-12)
    mu = tau * scale if mu0 is None else float(mu0)
    mu = min(max(mu, 1e-14 * scale), mu_max)
    nu, it, acc = 2.0, 0, 0
    while True:
        reason = _stop_reason(gnorm, gtol, it, max_iter, deadline)
        if reason:
            break
        it += 1
        try:
            d = model.step(jac, r, mu)
            pred = cost - model.linearized_cost(jac, r, d)
        except (np.linalg.LinAlgError, FloatingPointError, ValueError):
            d, pred = None, -1.0
        ok = d is not None and np.isfinite(pred) and pred > 0
        if ok:
            x_new = x + d
            r_new = model.residual(x_new)
            ok = _finite(r_new)
            cost_new = model.cost(r_new) if ok else np.inf
            rho = (cost - cost_new) / pred if ok else -1.0
            ok = ok and rho > 1e-4
        if not ok:
            mu, nu = mu * nu, nu * 2.0
            if mu > mu_max:
                reason = "damping_cap"
                break
            continue
        acc += 1
        small_step = np.linalg.norm(d) <= xtol * (np.linalg.norm(x) + xtol)
        small_decrease = cost - cost_new <= ftol * cost
        x, r, cost = x_new, r_new, cost_new
        mu *= max(1.0 / 3.0, 1.0 - (2.0 * rho - 1.0) ** 3)
        mu = max(mu, 1e-14 * scale)
        nu = 2.0
        jac, g, gnorm = _linearize(model, x, r)
        if small_step or small_decrease:
            reason = "gtol" if gnorm <= gtol else ("xtol" if small_step else "ftol")
            break
    return InnerResult(x=x, iterations=it, accepted=acc, jacobian_evals=model.n_jac, grad_norm=gnorm,
                       cost=cost, mu=mu, reason=reason)


def gauss_newton(model, x, *, gtol: float, max_iter: int = 100, ftol: float = 1e-10, xtol: float = 1e-12,
                 deadline: float | None = None, **_) -> InnerResult:
    """Gauss–Newton with Armijo backtracking (see the module docstring)."""
    x, r, cost, jac, g, gnorm = _evaluate(model, x)
    floor = 1e-10 * max(model.jtj_diag_max(jac), 1e-12)
    it, acc = 0, 0
    while True:
        reason = _stop_reason(gnorm, gtol, it, max_iter, deadline)
        if reason:
            break
        it += 1
        try:
            d = model.step(jac, r, floor)
            slope = float(g @ d)
        except (np.linalg.LinAlgError, FloatingPointError, ValueError):
            d, slope = None, 0.0
        t, accepted = 1.0, False
        if d is not None and slope < 0:
            for _ in range(30):
                r_new = model.residual(x + t * d)
                if _finite(r_new):
                    cost_new = model.cost(r_new)
                    if cost_new <= cost + 1e-4 * t * slope:
                        accepted = True
                        break
                t *= 0.5
        if not accepted:
            floor *= 100.0
            if floor > 1e20:
                reason = "stalled"
                break
            continue
        acc += 1
        small_step = t * np.linalg.norm(d) <= xtol * (np.linalg.norm(x) + xtol)
        small_decrease = cost - cost_new <= ftol * cost
        x, r, cost = x + t * d, r_new, cost_new
        jac, g, gnorm = _linearize(model, x, r)
        if small_step or small_decrease:
            reason = "gtol" if gnorm <= gtol else ("xtol" if small_step else "ftol")
            break
    return InnerResult(x=x, iterations=it, accepted=acc, jacobian_evals=model.n_jac, grad_norm=gnorm,
                       cost=cost, mu=floor, reason=reason)
