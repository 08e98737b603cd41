"""Inner solvers for the augmented-Lagrangian subproblem min_u ½‖r(u)‖², as option objects.

The residual of the subproblem with penalty β and multipliers λ is

    r(u) = [ √c F(u)/√β ; h(u) + λ/β ],     L_β(u, λ) = β·½‖r(u)‖² − ‖λ‖²/(2β)

(c = ``objective_scale``), so ∇_u L_β = β Jᵀr. :class:`AugmentedResidual` evaluates r and its
block Jacobian through a :class:`~.structure.LiftedStructure` (rows scaled and shifted,
nothing rebuilt when β or λ change).

An inner solver is an object with ``solve(model, x, gtol, deadline, mu0) -> InnerResult``
(as alpaqa's outer solver takes an inner one), so the outer loop and benchmarks choose it
without copying the loop:

**Levenberg–Marquardt** (:class:`LevenbergMarquardt`): the step solves the damped normal
equations by state elimination (:mod:`.block_solve`). The gain ratio ρ = (actual reduction) /
(predicted reduction ½‖r‖² − ½‖r + Jδ‖²) drives Nielsen's damping update: on acceptance
μ ← μ·max(1/3, 1 − (2ρ − 1)³), ν ← 2; on rejection μ ← μν, ν ← 2ν. A step whose linear
solve fails, whose entries or residual are not finite, or whose predicted reduction is not
positive counts as a rejection: the damping rises and the iteration goes on. It ends when
‖∇L_β‖_∞ ≤ tol, the relative decrease of ½‖r‖² falls below ``ftol``, the step is negligible,
μ exceeds its cap, or the iteration / time budget is used.

**Gauss–Newton** (:class:`GaussNewton`): the same linear algebra with a tiny damping floor
(needed by the state elimination and harmless otherwise) and an Armijo backtracking line
search; a failed search raises the floor a hundredfold, as a safeguard.

**IPOPT** (:class:`IpoptInner`): IPOPT on the unconstrained subproblem of the expanded NLP
(small problems; built once with λ and β as parameters), with the time left as its limit.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from ...options import Options, choice, integer, option, real
from .block_solve import PRECONDITIONERS, solve_damped

__all__ = ["AugmentedResidual", "InnerResult", "LevenbergMarquardt", "GaussNewton", "IpoptInner", "as_inner",
           "INNER_SOLVERS"]


class Residual(NamedTuple):
    """The subproblem at one point: model rows (per sample, global), the output rows' weight
    factors (None for MSE), the true cost β⁻¹L_β + const and the model's cost ½‖r‖²_W."""

    loc: np.ndarray
    glob: np.ndarray
    Lf: np.ndarray | None
    cost: float
    model_cost: float


class AugmentedResidual:
    """r(u) = [√c F/√β ; h + λ/β] on the lifted structure (c = ``objective_scale``, the
    objective being c·(1/N)·½Σℓ_j); ``lam`` indexes rows of g (per-sample rows, then user rows).
    For a loss that is not least squares the output rows are its Gauss–Newton model, weighted
    per sample by G_j = L_jᵀL_j: the model's cost and gradient use the weight, the true cost
    the loss itself, so the LM gain ratio compares the model with the truth."""

    def __init__(self, st, beta: float, lam: np.ndarray, linear: dict, objective_scale: float = 1.0):
        self.st, self.beta, self.linear = st, float(beta), linear
        sb = np.sqrt(objective_scale / beta)
        self.out_scale = sb / np.sqrt(st.N)
        self.shift_loc = (lam[:st.n_gl] / beta).reshape(st.N, st.n_s)
        self.scale_glob = np.where(st.global_is_g, 1.0, sb)
        shift = np.zeros(st.n_G)
        shift[st.global_is_g] = lam[st.n_gl:] / beta
        self.shift_glob = shift
        self.n_res = self.n_jac = self.n_solve = self.n_cg = 0

    def residual(self, u) -> Residual:
        self.n_res += 1
        st = self.st
        loc, glob = st.rows(u, self.out_scale)
        loc[:, :st.n_s] += self.shift_loc
        glob = self.scale_glob * glob + self.shift_glob
        Lf, loss_sum = st.output_terms()
        base = 0.5 * (float(np.sum(loc[:, :st.n_s] ** 2)) + float(glob @ glob))
        out = loc[:, st.n_s:]
        if Lf is None:
            model = cost = base + 0.5 * float(np.sum(out ** 2))
        else:
            model = base + 0.5 * float(np.sum(np.matmul(Lf, out[:, :, None]) ** 2))
            cost = base + 0.5 * self.out_scale ** 2 * loss_sum
        return Residual(loc, glob, Lf, cost, model)

    def jacobian(self, u):
        self.n_jac += 1
        return self.st.jacobian(u, self.out_scale, self.scale_glob)

    def step(self, jac, r: Residual, mu):
        self.n_solve += 1
        d, info = solve_damped(jac, r.loc, r.glob, mu, Lf=r.Lf, **self.linear)
        self.n_cg += info["cg_iterations"]
        return d

    def _weighted(self, r: Residual, loc):
        """Ŵ loc: the output rows multiplied by G_j = L_jᵀL_j."""
        if r.Lf is None:
            return loc
        n_s = self.st.n_s
        out = loc.copy()
        G = np.matmul(np.swapaxes(r.Lf, 1, 2), r.Lf)
        out[:, n_s:] = np.matmul(G, loc[:, n_s:, None])[:, :, 0]
        return out

    @staticmethod
    def cost(r: Residual) -> float:
        return r.cost

    @staticmethod
    def model_cost(r: Residual) -> float:
        return r.model_cost

    def grad(self, jac, r: Residual):
        return jac.rmatvec(self._weighted(r, r.loc), r.glob)

    def linearized_cost(self, jac, r: Residual, d) -> float:
        jl, jg = jac.matvec(d)
        loc = r.loc + jl
        n_s = self.st.n_s
        out = loc[:, n_s:] if r.Lf is None else np.matmul(r.Lf, loc[:, n_s:, None])
        return 0.5 * (float(np.sum(loc[:, :n_s] ** 2)) + float(np.sum(out ** 2)) + float(np.sum((r.glob + jg) ** 2)))

    @staticmethod
    def jtj_diag_max(jac) -> float:
        return jac.diag_max()


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
    return bool(np.all(np.isfinite(r.loc)) and np.all(np.isfinite(r.glob)) and np.isfinite(r.cost))


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
            pred = model.model_cost(r) - model.linearized_cost(jac, r, d)
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


# --------------------------------------------------------------------------- solver objects
_DIRECT_FLOPS = 2e8   # 'auto' forms the reduced matrix only below this N·n_θ² (0.2 s per step here)
@dataclass(frozen=True, kw_only=True)
class _LinearSolve(Options):
    """The block-solve settings the structured inner solvers share (:mod:`.block_solve`)."""

    PREFIX = "inner."
    linear_solver: str = option("auto", "reduced weight system: 'direct' (formed), 'cg' (matrix-free), 'auto' "
                                        "(direct up to direct_max_weights weights and N·n_θ² ≤ 2e8)",
                                choice("auto", "direct", "cg"))
    direct_max_weights: int = option(1500, "largest weight count solved directly by 'auto'", integer(1))
    state_damping: str = option("auto", "state metric of the damping: 'identity' (textbook LM), 'layer' (the layer "
                                        "rows' metric, closed form for wide layers), 'auto' (identity up to 64 rows "
                                        "per sample)", choice("auto", "identity", "layer"))
    cg_tol: float = option(1e-3, "relative residual of CG (loose: the gain ratio checks every step)",
                           real(positive=True))
    cg_maxiter: int = option(100, "CG iterations per step", integer(1))
    preconditioner: str = option("auto", "CG preconditioner: neuron blocks (exact or eigenbasis), their diagonal, "
                                         "or 'auto'", choice(*PRECONDITIONERS))

    def linear(self, st) -> dict:
        """The block-solve settings for this structure, 'auto' choices resolved."""
        method = self.linear_solver
        if method == "auto":     # forming the reduced matrix costs N·n_θ² multiply-adds per step
            small = st.n_th <= self.direct_max_weights and st.N * st.n_th ** 2 <= _DIRECT_FLOPS
            method = "direct" if small else "cg"
        damping = self.state_damping
        if damping == "auto":
            damping = "identity" if st.n_r <= 64 else "layer"
        return {"method": method, "damping": damping, "cg_tol": self.cg_tol, "cg_maxiter": self.cg_maxiter,
                "preconditioner": self.preconditioner}


@dataclass(frozen=True, kw_only=True)
class LevenbergMarquardt(_LinearSolve):
    """Levenberg–Marquardt with per-sample state elimination (see the module docstring)."""

    max_iter: int = option(8, "linear solves (accepted and rejected steps) per subproblem", integer(1))
    tau: float = option(1e-4, "initial damping μ₀ = tau·max diag(JᵀJ) (later subproblems reuse the last μ)",
                        real(positive=True))
    ftol: float = option(1e-10, "stop on a relative decrease of ½‖r‖² below ftol", real(positive=True))
    kind = "lm"

    def solve(self, model, x, gtol, deadline=None, mu0=None) -> InnerResult:
        return levenberg_marquardt(model, x, gtol=gtol, max_iter=self.max_iter, mu0=mu0, tau=self.tau,
                                   ftol=self.ftol, deadline=deadline)


@dataclass(frozen=True, kw_only=True)
class GaussNewton(_LinearSolve):
    """Gauss–Newton with an Armijo line search (see the module docstring)."""

    max_iter: int = option(8, "iterations per subproblem", integer(1))
    ftol: float = option(1e-10, "stop on a relative decrease of ½‖r‖² below ftol", real(positive=True))
    kind = "gauss_newton"

    def solve(self, model, x, gtol, deadline=None, mu0=None) -> InnerResult:
        return gauss_newton(model, x, gtol=gtol, max_iter=self.max_iter, ftol=self.ftol, deadline=deadline)


def _ipopt_dict(name, value):
    from ..ipopt import check_ipopt_options
    return check_ipopt_options({} if value is None else value, name)


@dataclass(frozen=True, kw_only=True)
class IpoptInner(Options):
    """IPOPT on the unconstrained subproblem of the expanded NLP (small problems)."""

    PREFIX = "inner."
    max_iter: int = option(8, "IPOPT iterations per subproblem", integer(1))
    tol: float = option(1e-8, "IPOPT tolerance of a subproblem", real(positive=True))
    ipopt: dict = option(None, "extra IPOPT options (checked by IPOPT first)", _ipopt_dict)
    kind = "ipopt"


INNER_SOLVERS = {"lm": LevenbergMarquardt, "gauss_newton": GaussNewton, "ipopt": IpoptInner}


def as_inner(name, value):
    """An inner solver from an instance, a name ("lm", "gauss_newton", "ipopt") or a dict
    with ``kind`` and the solver's options."""
    if isinstance(value, (LevenbergMarquardt, GaussNewton, IpoptInner)):
        return value
    if isinstance(value, str):
        from ...validation import as_choice
        return INNER_SOLVERS[as_choice(name, value, tuple(INNER_SOLVERS))]()
    if isinstance(value, dict):
        from ...options import resolve_options
        from ...validation import as_choice
        spec = dict(value)
        kind = as_choice(f"{name}.kind", spec.pop("kind", "lm"), tuple(INNER_SOLVERS))
        return resolve_options(INNER_SOLVERS[kind], spec, None, f"alm inner {kind}")
    raise TypeError(f"{name}: expected 'lm', 'gauss_newton', 'ipopt', an inner-solver object or a dict, "
                    f"got {type(value).__name__}")
