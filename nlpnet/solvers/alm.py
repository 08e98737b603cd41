"""Inexact augmented Lagrangian method (iALM) on the multiple-shooting NLP.

The lifted training problem is an equality-constrained least-squares problem

    minimize_u ½‖F(u)‖²   subject to   h(u) = 0,

with u = [θ; s_1; …; s_N], F the data residuals (/√N) and regularizer residuals, h the
layer equations z − σ(W z_prev + b) (and any equality constraints from
``Problem.subject_to``). Note ½‖F‖² is half the training loss, so multipliers refer to
the halved objective. The augmented Lagrangian

    L_β(u, λ) = ½‖F‖² + λᵀh + (β/2)‖h‖² = β·½‖[F/√β ; h + λ/β]‖² − ‖λ‖²/(2β)

turns each subproblem into nonlinear least squares, solved inexactly from the previous
iterate (warm start) until ‖∇_u L_β‖_∞ ≤ η_k:

    for k = 0, 1, …:
        u_{k+1} ≈ argmin_u L_{β_k}(u, λ_k)            (inner solver, tolerance η_k)
        λ_{k+1}, β_{k+1}, η_{k+1} ← outer rule          (see :mod:`.alm_rules`)
        stop on KKT, loss stagnation, validation, or budgets

ReLU layers are smoothed in early subproblems (``relu_smoothing``): z − softplus_κ(a) with
κ_k = κ₀·growth^k, the exact ReLU once κ_k exceeds ``smoothing_max``; without it, units that
are off for every sample get no derivative and the lifted problem stalls at poor fits.

Inner solvers (``inner``): ``"lm"`` Levenberg–Marquardt with the per-sample state
elimination of :mod:`.structured` (one iteration costs O(N) time and memory), ``"gauss_newton"``
with a line search, and ``"ipopt"`` on the unconstrained subproblem (CasADi ``nlpsol`` with
the multipliers and the penalty as parameters, so it is built once). The method handles
equality constraints. ReLU and leaky ReLU lifted by complementarity (0 ≤ z ⊥ z − a ≥ 0)
are iterated on as their exact equivalent z = max(a, 0) (resp. max(a, αa)), the
thesis's form, and the result is reported in the complementarity variables with ε = 0;
bounds and inequality user constraints are refused with a pointer to IPOPT.

Stopping, checked after each outer iteration:
* KKT: ‖∇_u L_{β_k}(u_{k+1}, λ_k)‖_∞ ≤ ``grad_tol`` and ‖h(u_{k+1})‖_∞ ≤ ``feas_tol``
  → SUCCESS;
* the thesis's loss stagnation: (1 + τ)·loss_k > loss_{k−1} (training MSE of the network,
  from outer index ``stagnation_start`` on) → ACCEPTABLE if ‖h‖_∞ ≤ ``acceptable_feas_tol``
  else STALLED; the better of the last two iterates (by training MSE) is returned;
* validation early stopping (``patience`` outer iterations without a better validation
  MSE; the best iterate is restored) → STALLED;
* the rule's own stop (Liu: ρ > 10³ρ₀) → ACCEPTABLE/STALLED as for stagnation;
* ``max_outer``, ``max_inner_total``, ``max_time`` → MAX_ITER / MAX_TIME.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import casadi as ca
import numpy as np

from ..options import check_int, check_nonneg, check_positive
from ..result import History, Status
from . import SolverSpec, register_solver
from .alm_rules import RULES, OuterState, initial_multipliers, make_rule
from .levenberg_marquardt import (
    AugmentedResidual,
    InnerResult,
    gauss_newton,
    levenberg_marquardt,
)
from .structured import BlockStructure
from .threads import blas_threads

__all__ = ["AlmOptions", "solve_alm", "INNER_SOLVERS"]

INNER_SOLVERS = ("lm", "gauss_newton", "ipopt")


@dataclass
class AlmOptions:
    """Options of the ``alm`` solver.

    rule:           outer rule, "thesis" (default), "classic" or "liu" (:mod:`.alm_rules`).
    rule_options:   dict of the rule's parameters (e.g. {"sigma0": 0.5}).
    beta:           the penalty base: β of the thesis rule (β_k = β^k), β₀ of "classic",
                    ρ₀ of "liu". Default 10.
    tau:            loss-stagnation tolerance τ of the thesis ((1+τ)·loss_k > loss_{k−1});
                    None disables the test.
    stagnation_start: first outer index (0-based) at which stagnation is tested (thesis: 2).
    inner:          "lm" (default), "gauss_newton" or "ipopt".
    max_outer:      outer iterations (thesis: 10).
    max_inner:      inner iterations per subproblem.
    max_inner_total: inner iterations over the whole run (None: no limit).
    max_time:       wall-time limit in seconds (None: none).
    grad_tol, feas_tol: KKT tolerances on ‖∇_u L_β‖_∞ and ‖h‖_∞.
    acceptable_feas_tol: ‖h‖_∞ below which a stagnation stop counts as ACCEPTABLE.
    multipliers:    λ₀: "zeros" (default), "normal" (thesis) or "least_squares".
    seed:           seed of the "normal" multipliers.
    beta_max:       penalty cap; lambda_max: multipliers are clipped to [−lambda_max, lambda_max].
    patience:       validation early stopping after this many outer iterations without a
                    better validation MSE (needs X_val; None: off). restore_best: return the
                    best-validation iterate when it triggers.
    linear_solver:  "auto" (direct reduced solve up to ``direct_max_weights`` weights,
                    else preconditioned CG), "direct" or "cg".
    cg_tol, cg_maxiter: relative residual and iteration limit of CG. Loose by default: an
                    inexact step is still checked by the LM gain ratio (measured on Santa Fe
                    80-48-1: 28 s with 1e-3/100 against 89 s with 1e-8/500, same final MSE).
    lm_tau:         initial LM damping μ₀ = lm_tau·max diag(JᵀJ); later subproblems start
                    from the previous final damping.
    ftol:           inner stop on relative decrease of ½‖r‖² below ftol.
    ipopt:          extra IPOPT options for inner="ipopt" (default tol 1e-8, max_iter = max_inner).
    blas_threads:   BLAS threads during the solve (default 1: the per-sample operations are
                    tiny and threading them costs far more than it gains; None leaves the
                    setting alone). Covers CasADi's bundled OpenBLAS too (:mod:`.threads`).
    verbose:        print one line per outer iteration.
    """

    rule: str = "thesis"
    rule_options: dict | None = None
    objective_scale: float | str = "samples"
    relu_smoothing: float | None = 3.0
    smoothing_growth: float = 10.0
    smoothing_max: float = 1e6
    beta: float = 10.0
    tau: float | None = 1e-2
    stagnation_start: int = 2
    inner: str = "lm"
    max_outer: int = 10
    max_inner: int = 8
    max_inner_total: int | None = None
    max_time: float | None = None
    grad_tol: float = 1e-6
    feas_tol: float = 1e-6
    acceptable_feas_tol: float = 1e-3
    multipliers: str = "normal"
    multiplier_scale: float = 3.0
    seed: int | None = 0
    beta_max: float = 1e10
    lambda_max: float = 1e8
    patience: int | None = None
    restore_best: bool = True
    linear_solver: str = "auto"
    direct_max_weights: int = 1500
    cg_tol: float = 1e-3
    cg_maxiter: int = 100
    lm_tau: float = 1e-4
    ftol: float = 1e-10
    ipopt: dict = field(default_factory=dict)
    blas_threads: int | None = 1
    verbose: bool = False

    def __post_init__(self):
        if self.rule not in RULES:
            raise ValueError(f"rule: must be one of {', '.join(RULES)}, got {self.rule!r}")
        opts = dict(self.rule_options or {})
        key = {"thesis": "beta", "classic": "beta0", "liu": "rho0"}[self.rule]
        check_positive("beta", self.beta)
        if self.objective_scale != "samples":
            check_positive("objective_scale", self.objective_scale)
        opts.setdefault(key, float(self.beta))
        self.rule_impl = make_rule(self.rule, opts)
        if self.tau is not None:
            check_nonneg("tau", self.tau)
        check_int("stagnation_start", self.stagnation_start, 1)
        if self.inner not in INNER_SOLVERS:
            raise ValueError(f"inner: must be one of {', '.join(INNER_SOLVERS)}, got {self.inner!r}")
        check_int("max_outer", self.max_outer, 1)
        check_int("max_inner", self.max_inner, 1)
        check_int("max_inner_total", self.max_inner_total, 1, allow_none=True)
        check_positive("max_time", self.max_time, allow_none=True)
        for name in ("multiplier_scale", "grad_tol", "feas_tol", "acceptable_feas_tol", "beta_max", "lambda_max", "cg_tol",
                     "lm_tau", "ftol"):
            check_positive(name, getattr(self, name))
        if self.multipliers not in ("zeros", "normal", "least_squares"):
            raise ValueError(f"multipliers: must be 'zeros', 'normal' or 'least_squares', got {self.multipliers!r}")
        if self.seed is not None and (isinstance(self.seed, bool) or not isinstance(self.seed, (int, np.integer))):
            raise TypeError(f"seed: expected an integer or None, got {type(self.seed).__name__}")
        check_int("patience", self.patience, 1, allow_none=True)
        if self.linear_solver not in ("auto", "direct", "cg"):
            raise ValueError(f"linear_solver: must be 'auto', 'direct' or 'cg', got {self.linear_solver!r}")
        check_int("direct_max_weights", self.direct_max_weights, 1)
        check_int("cg_maxiter", self.cg_maxiter, 1)
        check_int("blas_threads", self.blas_threads, 1, allow_none=True)
        check_positive("relu_smoothing", self.relu_smoothing, allow_none=True)
        if not (isinstance(self.smoothing_growth, (int, float)) and self.smoothing_growth > 1):
            raise ValueError(f"smoothing_growth: must be a number > 1, got {self.smoothing_growth!r}")
        check_positive("smoothing_max", self.smoothing_max)
        if not isinstance(self.ipopt, dict):
            raise TypeError("ipopt: expected a dict of IPOPT options")


# --------------------------------------------------------------------------- checks
def _equality_nlp(problem, nlp):
    """The NLP the ALM iterates on: for ReLU / leaky ReLU lifted by complementarity, the same
    problem with those layers lifted as z = max(a, 0) (resp. max(a, αa)), whose feasible set
    is the complementarity system's at ε = 0; otherwise ``nlp`` itself."""
    if not nlp.has_complementarity:
        return nlp
    return problem.nlp_for(problem.formulation.equality_lifting())


def _check(problem, nlp, opts: AlmOptions):
    nlp = _equality_nlp(problem, nlp)
    if np.any(~nlp.is_equality):
        raise ValueError("alm: the problem has inequality constraints (from subject_to with <=/>= or bounds); "
                         "the augmented Lagrangian solver handles equalities only; use prob.solve('ipopt')")
    if np.any(np.isfinite(nlp.lbx)) or np.any(np.isfinite(nlp.ubx)):
        raise ValueError("alm: the problem has variable bounds; the augmented Lagrangian solver handles "
                         "equalities only; use prob.solve('ipopt')")
    if opts.inner != "ipopt":
        if not nlp.f_rest.is_zero():
            raise ValueError(f"alm: inner={opts.inner!r} needs a least-squares objective, but add_objective "
                             "added a general term; state it as a regularizer (regularizer=...), use "
                             "inner='ipopt', or prob.solve('ipopt')")
        extra = nlp.layout.extra_g_idx
        states = nlp.x[int(nlp.layout.weight_idx.size):]
        if extra.size and states.numel() and ca.depends_on(ca.vertcat(*[nlp.g[int(i)] for i in extra]), states):
            raise ValueError(f"alm: inner={opts.inner!r} eliminates states sample by sample, but a subject_to "
                             "constraint involves lifted states; state it on prob.theta or prob.output(X), "
                             "or use inner='ipopt'")


# --------------------------------------------------------------------------- inner ipopt
class _IpoptInner:
    """The unconstrained subproblem min_u L_β(u, λ) with (λ, β) as parameters: built once."""

    def __init__(self, nlp, opts: AlmOptions, c_obj: float = 1.0):
        lam = ca.SX.sym("lam", nlp.n_g)
        beta = ca.SX.sym("beta")
        h, F = nlp.g, nlp.residual
        L = 0.5 * c_obj * (ca.dot(F, F) + nlp.f_rest) + ca.dot(lam, h) + 0.5 * beta * ca.dot(h, h)
        ip = {"tol": 1e-8, "max_iter": opts.max_inner, "print_level": 0, "sb": "yes",
              "mumps_pivot_order": 5}
        ip.update(opts.ipopt)
        self.solver = ca.nlpsol("alm_inner", "ipopt", {"x": nlp.x, "f": L, "p": ca.vertcat(lam, beta, nlp.p)},
                                {"ipopt": ip, "print_time": False})
        self.grad = ca.Function("gradL", [nlp.x, lam, beta, nlp.p], [ca.gradient(L, nlp.x)])
        self.p0 = nlp.p0

    def solve(self, x, lam, beta, eta, deadline):
        sol = self.solver(x0=x, p=np.concatenate([lam, [beta], self.p0]))
        st = self.solver.stats()
        x = np.asarray(sol["x"]).ravel()
        g = np.asarray(self.grad(x, lam, beta, self.p0)).ravel()
        n = int(st.get("iter_count", 0))
        return InnerResult(x=x, iterations=n, accepted=n, jacobian_evals=n + 1,
                           grad_norm=float(np.max(np.abs(g))) / beta if g.size else 0.0,
                           cost=float(sol["f"]), mu=0.0, reason=st.get("return_status", ""))


# --------------------------------------------------------------------------- main loop
def solve_alm(problem, nlp, opts: AlmOptions):
    with blas_threads(opts.blas_threads):
        eq = _equality_nlp(problem, nlp)
        res = _solve_alm(problem, eq, opts)
    if eq is nlp:
        return res
    # report in the problem's own (complementarity) variables, complementarity exact (ε = 0)
    form = problem.formulation
    un = form.equality_lifting().unpack(eq, res.x)
    layers = [un.states[f"z{k + 1}"] for k in range(len(problem.network.layers) - 1)]
    x = form.lift_solution(problem.network, problem.X, un.params, layers)
    message = res.message + "; complementarity layers solved as their exact equivalent z = max(a, 0) (leaky: max(a, αa))"
    return problem.result_from(nlp, x, res.status, message, "alm", iterations=res.iterations,
                               wall_time=res.wall_time, history=res.history, raw_status=res.raw_status,
                               stats=res.stats, p=np.zeros_like(nlp.p0))


def _solve_alm(problem, nlp, opts: AlmOptions):
    t0 = time.perf_counter()
    deadline = None if opts.max_time is None else t0 + opts.max_time
    rule = opts.rule_impl
    st = BlockStructure(nlp, problem)
    n_g = nlp.n_g
    method = opts.linear_solver
    if method == "auto":
        method = "direct" if st.n_th <= opts.direct_max_weights else "cg"
    c_obj = float(st.N) if opts.objective_scale == "samples" else float(opts.objective_scale)
    inner_ipopt = _IpoptInner(nlp, opts, c_obj) if opts.inner == "ipopt" else None
    inner_fn = {"lm": levenberg_marquardt, "gauss_newton": gauss_newton}.get(opts.inner)

    u = nlp.x0.copy()
    R = st.rows(u)
    h0_norm = float(np.linalg.norm(R[:n_g]))
    lam = initial_multipliers(opts.multipliers, n_g, opts.seed, st, u) * opts.multiplier_scale
    lam = np.clip(lam, -opts.lambda_max, opts.lambda_max)
    beta, eta = rule.initial()
    beta = min(beta, opts.beta_max)

    history, h_hist = History(), []
    theta_of = lambda x: x[st.widx]
    losses, best = [], {"val": np.inf, "x": u.copy(), "k": -1}
    prev_u = u.copy()
    status, message, mu, inner_total, n_jac_total = Status.MAX_ITER, "", None, 0, 0
    setup_time = time.perf_counter() - t0
    k = 0
    for k in range(opts.max_outer):
        budget = opts.max_inner
        if opts.max_inner_total is not None:
            budget = min(budget, opts.max_inner_total - inner_total)
        kappa = None
        if opts.relu_smoothing is not None and st.smoothable and inner_ipopt is None:
            kappa = opts.relu_smoothing * opts.smoothing_growth ** k
            kappa = None if kappa > opts.smoothing_max else kappa
        st.set_smoothing(kappa)
        if inner_ipopt is not None:
            res = inner_ipopt.solve(u, lam, beta, eta, deadline)
        else:
            model = AugmentedResidual(st, beta, lam, method, opts.cg_tol, opts.cg_maxiter, c_obj)
            res = inner_fn(model, u, gtol=eta / beta, max_iter=max(budget, 1), mu0=mu, tau=opts.lm_tau,
                           ftol=opts.ftol, deadline=deadline)
            mu = res.mu
        inner_total += res.iterations
        n_jac_total += res.jacobian_evals
        prev_u, u = u, res.x
        h_model = st.rows(u)[:n_g]           # the subproblem's constraints (smoothed ReLU if κ is set)
        st.set_smoothing(None)
        R = st.rows(u)
        h = R[:n_g]
        h_norm, h_inf = float(np.linalg.norm(h)), float(np.max(np.abs(h), initial=0.0))
        h_hist.append(h_norm)
        net = problem.network.with_params(theta_of(u))
        loss = problem.mse(net)
        val = None if problem.X_val is None else problem.mse(net, problem.X_val, problem.y_val)
        grad_inf = beta * res.grad_norm
        losses.append(loss)
        lam_new, beta_new, eta_new, rule_stop, extra = rule.update(
            OuterState(k=k, beta=beta, eta=eta, lam=lam, h=h_model, h_norm=float(np.linalg.norm(h_model)),
                       h0_norm=h0_norm, h_history=h_hist))
        history.append(iteration=k + 1, beta=beta, eta=eta, h_norm=h_norm, h_inf=h_inf, grad_norm=grad_inf,
                       train_loss=loss, val_loss=np.nan if val is None else val, inner_iterations=res.iterations,
                       kappa=np.inf if kappa is None else kappa,
                       jacobian_evals=res.jacobian_evals, inner_reason=res.reason,
                       time=time.perf_counter() - t0, **extra)
        if opts.verbose:
            print(f"alm {k + 1:3d}  beta={beta:9.3g}  |h|={h_norm:9.3g}  |gradL|={grad_inf:9.3g}  "
                  f"loss={loss:10.4g}  inner={res.iterations:4d} ({res.reason})")
        if val is not None and val < best["val"]:
            best.update(val=val, x=u.copy(), k=k)
        lam = np.clip(lam_new, -opts.lambda_max, opts.lambda_max)
        beta, eta = min(beta_new, opts.beta_max), eta_new

        if not (np.isfinite(loss) and np.all(np.isfinite(u))):
            status, message = Status.NUMERICAL_ERROR, "non-finite iterate"
            u = prev_u
            break
        if grad_inf <= opts.grad_tol and h_inf <= opts.feas_tol:
            status, message = Status.SUCCESS, f"KKT conditions met after {k + 1} outer iterations"
            break
        if opts.tau is not None and k >= opts.stagnation_start and (1 + opts.tau) * loss > losses[-2]:
            if loss > losses[-2]:
                u = prev_u
            status = Status.ACCEPTABLE if h_inf <= opts.acceptable_feas_tol else Status.STALLED
            message = f"training loss stagnated (τ = {opts.tau:g}) after {k + 1} outer iterations"
            break
        if opts.patience is not None and val is not None and k - best["k"] >= opts.patience:
            if opts.restore_best:
                u = best["x"]
            status, message = Status.STALLED, (f"validation loss did not improve for {opts.patience} outer "
                                               f"iterations (best at iteration {best['k'] + 1})")
            break
        if rule_stop:
            status = Status.ACCEPTABLE if h_inf <= opts.acceptable_feas_tol else Status.STALLED
            message = f"outer rule {rule.name!r} asked to stop after {k + 1} outer iterations"
            break
        if deadline is not None and time.perf_counter() > deadline:
            status, message = Status.MAX_TIME, f"time limit reached after {k + 1} outer iterations"
            break
        if opts.max_inner_total is not None and inner_total >= opts.max_inner_total:
            status, message = Status.MAX_ITER, f"inner iteration limit reached after {k + 1} outer iterations"
            break
    else:
        message = f"outer iteration limit ({opts.max_outer}) reached"
    wall = time.perf_counter() - t0
    stats = {"outer_iterations": k + 1, "inner_iterations": inner_total, "jacobian_evals": n_jac_total,
             "setup_time": setup_time, "linear_solver": method if inner_ipopt is None else "ipopt",
             "rule": rule.name, "inner": opts.inner, "multipliers": lam}
    return problem.result_from(nlp, u, status, message, "alm", iterations=k + 1, wall_time=wall,
                               history=history, raw_status=message, stats=stats)


register_solver(SolverSpec(name="alm", run=solve_alm, options=AlmOptions, check=_check,
                           requires=("multiple_shooting",),
                           summary="inexact augmented Lagrangian with structured Levenberg–Marquardt "
                                   "(multiple shooting, equality lifting)"))
