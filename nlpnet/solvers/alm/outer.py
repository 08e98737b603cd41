"""Inexact augmented Lagrangian method (iALM) on the multiple-shooting NLP.

The lifted training problem is an equality-constrained least-squares problem

    minimize_u ½c‖F(u)‖²   subject to   h(u) = 0,

with u = [θ; s_1; …; s_N], F the data residuals (/√N) and regularizer residuals, h the
layer equations z − σ(W z_prev + b) (and any equality constraints from
``Problem.subject_to``), c = ``objective_scale`` (N by default, so ½c‖F‖² is N/2 times the
training loss and the multipliers keep their size as N grows). The augmented Lagrangian

    L_β(u, λ) = ½c‖F‖² + λᵀh + (β/2)‖h‖² = β·½‖[√c F/√β ; h + λ/β]‖² − ‖λ‖²/(2β)

turns each subproblem into nonlinear least squares, solved inexactly from the previous
iterate (warm start) by the inner solver object until ‖∇_u L_β‖_∞ ≤ η_k:

    for k = 0, 1, …:
        u_{k+1} ≈ argmin_u L_{β_k}(u, λ_k)            (inner solver, tolerance η_k)
        λ_{k+1}, β_{k+1}, η_{k+1} ← outer rule          (see :mod:`.rules`)
        stop on KKT, loss stagnation, validation, or budgets

ReLU layers are smoothed in early subproblems (``relu_smoothing``): z − softplus_κ(a) with
κ_k = κ₀·growth^k, the exact ReLU once κ_k exceeds ``smoothing_max``; without it, units that
are off for every sample get no derivative and the lifted problem stalls at poor fits.
ReLU and leaky ReLU lifted by complementarity (0 ≤ z ⊥ z − a ≥ 0) are iterated on as their
exact equivalent z = max(a, 0) (resp. max(a, αa)) — the NLP's
:meth:`~nlpnet.nlp.NLP.equality_equivalent` — and the point is returned in the
complementarity variables with ε = 0, where the reported violation (the natural residual of
each pair) is exactly the ‖h‖_∞ the stopping tests used. Bounds and inequality user
constraints are refused with a pointer to IPOPT.

Stopping, checked after each outer iteration:
* KKT: ‖∇_u L_{β_k}(u_{k+1}, λ_k)‖_∞ ≤ ``grad_tol`` and ‖h(u_{k+1})‖_∞ ≤ ``feas_tol`` → ``kkt``;
* the thesis's loss stagnation: (1 + τ)·loss_k > loss_{k−1} (training loss of the network,
  from outer index ``stagnation_start`` on; the better of the last two iterates is returned)
  → ``stagnation`` if ‖h‖_∞ ≤ ``acceptable_feas_tol`` (acceptable), else ``stagnation_infeasible``;
* validation early stopping (``patience`` outer iterations without a better validation
  loss; the best iterate is restored) → ``validation``;
* the rule's own stop (Liu: ρ > 10³ρ₀) → ``rule_stop`` / ``rule_stop_infeasible``;
* ``max_iter`` (outer), ``max_inner_total``, ``max_time`` (the whole solve), a non-finite
  iterate (the previous one is returned), Ctrl-C.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...options import SolverOptions, boolean, choice, integer, option, real
from ...result import History, SolverOutput, Status
from ...validation import as_dict
from ..common import Budget, IterationLog
from .inner import AugmentedResidual, IpoptInner, LevenbergMarquardt, as_inner
from .ipopt_subproblem import ipopt_inner as _ipopt_inner
from .rules import OuterState, as_rule, initial_multipliers
from .structure import LiftedStructure

__all__ = ["AlmOptions", "solve_alm", "STATUSES", "MESSAGES"]

STATUSES = {"kkt": Status.SUCCESS, "stagnation": Status.ACCEPTABLE, "stagnation_infeasible": Status.STALLED,
            "validation": Status.STALLED, "rule_stop": Status.ACCEPTABLE, "rule_stop_infeasible": Status.STALLED,
            "max_iter": Status.MAX_ITER, "max_inner_total": Status.MAX_ITER, "max_time": Status.MAX_TIME,
            "non_finite": Status.NUMERICAL_ERROR, "user_stop": Status.USER_STOP}
MESSAGES = {"kkt": "KKT conditions met after {iterations} outer iterations",
            "stagnation": "training loss stagnated after {iterations} outer iterations (feasible)",
            "stagnation_infeasible": "training loss stagnated after {iterations} outer iterations, constraints "
                                     "not yet met",
            "validation": "validation loss did not improve; stopped after {iterations} outer iterations",
            "rule_stop": "the outer rule asked to stop after {iterations} outer iterations (feasible)",
            "rule_stop_infeasible": "the outer rule asked to stop after {iterations} outer iterations, "
                                    "constraints not yet met",
            "max_iter": "outer iteration limit reached after {iterations} outer iterations",
            "max_inner_total": "inner iteration limit reached after {iterations} outer iterations",
            "max_time": "time limit reached after {iterations} outer iterations",
            "non_finite": "non-finite iterate after {iterations} outer iterations; the previous iterate is returned",
            "user_stop": "interrupted by the user after {iterations} outer iterations"}

# old flat names that set a field of the rule or the inner solver
_INNER_SHORTCUTS = {"max_inner": "max_iter", "linear_solver": "linear_solver", "direct_max_weights":
                    "direct_max_weights", "cg_tol": "cg_tol", "cg_maxiter": "cg_maxiter", "lm_tau": "tau",
                    "ftol": "ftol", "state_damping": "state_damping", "preconditioner": "preconditioner",
                    "ipopt": "ipopt"}


@dataclass(frozen=True, kw_only=True)
class AlmOptions(SolverOptions):
    """Options of the ``alm`` solver (shared ones in :class:`~nlpnet.options.SolverOptions`).

    ``rule`` and ``inner`` are objects (:mod:`.rules`, :mod:`.inner`) or their names / dicts.
    Shortcuts: ``beta`` sets the rule's penalty parameter (β, β₀ or ρ₀), ``rule_options`` its
    other fields; ``max_inner``, ``linear_solver``, ``cg_tol``, ``cg_maxiter``, ``lm_tau``,
    ``ftol``, ``state_damping``, ``preconditioner``, ``ipopt`` set fields of the inner solver;
    ``max_outer`` is ``max_iter``.
    """

    ALIASES = {"max_outer": "max_iter"}
    max_iter: int = option(10, "outer iterations (the thesis: 10; 0: return the start point)", integer(0))
    rule: object = option("thesis", "outer rule: 'thesis', 'classic', 'liu', a rule object or a dict",
                          lambda n, v: as_rule(n, v))
    inner: object = option("lm", "inner solver: 'lm', 'gauss_newton', 'ipopt', an object or a dict",
                           lambda n, v: as_inner(n, v))
    objective_scale: object = option("samples", "c in ½c‖F‖²: 'samples' (c = N) or a number > 0",
                                     lambda n, v: v if v == "samples" else real(positive=True)(n, v))
    relu_smoothing: float | None = option(3.0, "κ₀ of the smoothed ReLU in early subproblems (None: exact)",
                                          real(positive=True, allow_none=True))
    smoothing_growth: float = option(10.0, "κ_k = κ₀·growth^k", real(lo=1.0, lo_open=True))
    smoothing_max: float = option(1e6, "exact ReLU once κ_k exceeds this", real(positive=True))
    tau: float | None = option(1e-2, "loss-stagnation tolerance τ (None: off)", real(nonneg=True, allow_none=True))
    stagnation_start: int = option(2, "first outer index (0-based) of the stagnation test", integer(1))
    max_inner_total: int | None = option(None, "inner iterations over the whole run (None: no limit)",
                                         integer(1, allow_none=True))
    grad_tol: float = option(1e-6, "KKT tolerance on ‖∇_u L_β‖_∞", real(positive=True))
    feas_tol: float = option(1e-6, "KKT tolerance on ‖h‖_∞", real(positive=True))
    acceptable_feas_tol: float = option(1e-3, "‖h‖_∞ below which a stagnation or rule stop is acceptable",
                                        real(positive=True))
    multipliers: str = option("normal", "λ₀: 'zeros', 'normal' (the thesis) or 'least_squares'",
                              choice("zeros", "normal", "least_squares"))
    multiplier_scale: float = option(3.0, "λ₀ is multiplied by this", real(positive=True))
    beta_max: float = option(1e10, "penalty cap", real(positive=True))
    lambda_max: float = option(1e8, "multipliers are clipped to [−lambda_max, lambda_max]", real(positive=True))
    patience: int | None = option(None, "validation early stopping after this many outer iterations without "
                                        "improvement (None: off)", integer(1, allow_none=True))
    restore_best: bool = option(True, "return the best-validation iterate when validation stopping fires",
                                boolean())
    batch_size: int | None = option(None, "samples per inner solve of the mini-batch ALM (None: the full batch; "
                                          "see nlpnet.solvers.alm.minibatch)", integer(1, allow_none=True))

    @classmethod
    def preprocess(cls, values, solver=""):
        values = super().preprocess(values, solver)
        rule_params = as_dict("rule_options", values.pop("rule_options", None))
        beta = values.pop("beta", None)
        rule = values.get("rule", "thesis")
        if beta is not None or rule_params:
            name = rule if isinstance(rule, str) else getattr(rule, "name", "thesis")
            if beta is not None:
                from .rules import RULES
                cls_rule = RULES.get(name) if isinstance(name, str) else None
                rule_params.setdefault(cls_rule.penalty if cls_rule else "beta", beta)
            values["rule"] = as_rule("rule", rule, **rule_params)
        inner_params = {f: values.pop(k) for k, f in _INNER_SHORTCUTS.items() if k in values}
        if inner_params:
            inner = as_inner("inner", values.get("inner", "lm"))
            valid = set(inner.field_docs())
            bad = sorted(k for k, f in _INNER_SHORTCUTS.items() if f in inner_params and f not in valid)
            if bad:
                raise ValueError(f"{bad[0]}: does not apply to inner={inner.kind!r}")
            values["inner"] = inner.replace(**inner_params)
        return values


# --------------------------------------------------------------------------- checks
def _check(nlp, opts: AlmOptions):
    if opts.patience is not None and nlp.validation is None:
        raise ValueError("patience: stops on the validation loss, but the problem has no validation data; build the "
                         "Problem with X_val=, y_val= or drop patience")
    eq = nlp.equality_equivalent()
    if np.any(~eq.is_equality):
        raise ValueError("alm: the problem has inequality constraints (from subject_to with <=/>= or bounds); "
                         "the augmented Lagrangian solver handles equalities only; use prob.solve('ipopt')")
    if eq.has_bounds:
        raise ValueError("alm: the problem has variable bounds; the augmented Lagrangian solver handles "
                         "equalities only; use prob.solve('ipopt')")
    if opts.batch_size is not None and isinstance(opts.inner, IpoptInner):
        raise ValueError("batch_size: the mini-batch ALM runs the structured inner solvers; use inner='lm' or "
                         "'gauss_newton', or drop batch_size")
    if not isinstance(opts.inner, IpoptInner):
        if not eq.glob.f_rest.is_zero():
            raise ValueError(f"alm: inner={opts.inner.kind!r} needs a least-squares objective, but add_objective "
                             "added a general term; state it as a regularizer (regularizer=...), use "
                             "inner='ipopt', or prob.solve('ipopt')")
        if eq.glob.on_states:
            raise ValueError(f"alm: inner={opts.inner.kind!r} eliminates states sample by sample, but a subject_to "
                             "constraint involves lifted states; state it on prob.theta or prob.output(X), "
                             "or use inner='ipopt'")


def estimate_memory(nlp, opts: AlmOptions) -> float:
    """Bytes of the largest arrays one LM step forms (see :mod:`.elimination`, :mod:`.block_solve`)."""
    eq = nlp.equality_equivalent()
    N, n_th, n_s = eq.N, eq.n_theta, eq.samples.n_s
    d_out = eq.samples.Y.shape[1]
    n_r = n_s + d_out
    if isinstance(opts.inner, IpoptInner):
        return 8.0 * 40 * N * n_r * (n_r + n_th)
    lin = opts.inner.linear(_Sizes(N, n_th, n_r))
    per_sample = 3 * n_r * n_r if lin["damping"] == "identity" else 4 * d_out * (n_s + d_out)
    total = N * (per_sample + 8 * n_r + 4 * sum(eq.samples.kernels.sizes))
    if lin["method"] == "direct":
        total += 2 * n_th * n_th + N * n_th
    return 8.0 * (total + 10 * (n_th + N * n_s))


class _Sizes:
    """What the inner solver's 'auto' choices read, before a structure exists."""

    def __init__(self, N, n_th, n_r):
        self.N, self.n_th, self.n_r = N, n_th, n_r


# --------------------------------------------------------------------------- one outer iteration's end
def record_iteration(nlp, st, budget, k, u, glob, h, grad_inf, beta, eta, history, log, best, extra) -> dict:
    """The history row of outer iteration k (the shared columns, then the ALM's), logged; the
    best-validation iterate kept in ``best``. Returns the row."""
    theta = u[:st.n_th]
    ev = nlp.evaluate(theta)
    ev_val = None if nlp.validation is None else nlp.evaluate(theta, "val")
    rho = glob[~st.global_is_g]
    row = {"iteration": k + 1, "time": budget.elapsed(), "objective": ev["loss"] + float(rho @ rho),
           "loss": ev["loss"], "violation": float(np.max(np.abs(h), initial=0.0))}
    if ev_val is not None:
        row["val_loss"] = ev_val["loss"]
        if ev_val["loss"] < best["val"]:
            best.update(val=ev_val["loss"], x=u.copy(), k=k)
    if ev["accuracy"] is not None:
        row["accuracy"] = ev["accuracy"]
        if ev_val is not None:
            row["val_accuracy"] = ev_val["accuracy"]
    row.update(beta=beta, eta=eta, h_norm=float(np.linalg.norm(h)), grad_norm=grad_inf, **extra)
    history.append(**row)
    log(row)
    return row


def stop_reason(opts, k, row, losses, best, rule_stop, budget, inner_total, u, prev_u):
    """The raw status when a stopping test fires after outer iteration k (see the module
    docstring), else None, and the iterate to keep."""
    loss, h_inf, val = row["loss"], row["violation"], row.get("val_loss")
    feasible = h_inf <= opts.acceptable_feas_tol
    if not (np.isfinite(loss) and np.all(np.isfinite(u))):
        return "non_finite", prev_u
    if row.get("inner_reason") == "max_time":    # the inner solver was cut by the budget: no test on a partial step
        return "max_time", u
    if row["grad_norm"] <= opts.grad_tol and h_inf <= opts.feas_tol:
        return "kkt", u
    if opts.tau is not None and k >= opts.stagnation_start and (1 + opts.tau) * loss > losses[-2]:
        return ("stagnation" if feasible else "stagnation_infeasible"), (prev_u if loss > losses[-2] else u)
    if opts.patience is not None and val is not None and k - best["k"] >= opts.patience:
        return "validation", (best["x"] if opts.restore_best else u)
    if rule_stop:
        return ("rule_stop" if feasible else "rule_stop_infeasible"), u
    if budget.exhausted():
        return "max_time", u
    if opts.max_inner_total is not None and inner_total >= opts.max_inner_total:
        return "max_inner_total", u
    return None, u


# --------------------------------------------------------------------------- main loop
def solve_alm(nlp, opts: AlmOptions) -> SolverOutput:
    eq = nlp.equality_equivalent()
    out = _solve(eq, opts)
    if eq is nlp:
        return out
    # report in the problem's own (complementarity) variables, complementarity exact (ε = 0)
    out.x = nlp.from_equality(out.x)
    out.p = np.zeros_like(nlp.p0)
    out.detail += "; complementarity layers solved as their exact equivalent z = max(a, 0) (leaky: max(a, αa))"
    return out


def _violation(st, loc, glob):
    """h: the per-sample layer rows and the user rows (the regularizer rows are not constraints)."""
    return np.concatenate([loc[:, :st.n_s].ravel(), glob[st.global_is_g]])


def _solve(nlp, opts: AlmOptions) -> SolverOutput:
    budget = Budget(opts.max_time)
    rule, inner = opts.rule, opts.inner
    c_obj = float(nlp.N) if opts.objective_scale == "samples" else float(opts.objective_scale)
    ipopt_sub, stop = _ipopt_inner(nlp, opts, c_obj, budget)
    if stop is not None:       # max_iter=0, or an IPOPT set-up that cannot fit in max_time
        return SolverOutput(x=nlp.x0.copy(), raw_status=stop[0], iterations=0, detail=stop[1], p=nlp.p0,
                            stats={"setup_time": budget.elapsed()}, feasibility_tol=opts.acceptable_feas_tol)
    st = LiftedStructure(nlp)
    if opts.batch_size is not None and opts.batch_size < st.N:
        from .minibatch import solve_minibatch
        return solve_minibatch(nlp, opts, st, budget)
    n_g = nlp.n_g
    linear = None if ipopt_sub is not None else inner.linear(st)
    unit = 1.0 / np.sqrt(st.N)

    u = nlp.x0.copy()
    h0_norm = float(np.linalg.norm(_violation(st, *st.rows(u, unit))))
    lam = initial_multipliers(opts.multipliers, n_g, opts.seed, st, u, c_obj) * opts.multiplier_scale
    lam = np.clip(lam, -opts.lambda_max, opts.lambda_max)
    beta, eta = rule.initial()
    beta = min(beta, opts.beta_max)
    log = IterationLog("alm", opts.verbose, extra=("beta", "inner_iterations"))

    history, h_hist, losses = History(), [], []
    best = {"val": np.inf, "x": u.copy(), "k": -1}
    prev_u = u.copy()
    raw, mu, inner_total, n_jac_total, k = "max_iter", None, 0, 0, 0
    setup_time = budget.elapsed()
    try:
        for k in range(opts.max_iter):
            budget_left = opts.max_inner_total - inner_total if opts.max_inner_total is not None else None
            kappa = None
            if opts.relu_smoothing is not None and st.smoothable and ipopt_sub is None:
                kappa = opts.relu_smoothing * opts.smoothing_growth ** k
                kappa = None if kappa > opts.smoothing_max else kappa
            st.set_smoothing(kappa)
            if ipopt_sub is not None:
                res = ipopt_sub.solve(u, lam, beta, budget)
            else:
                model = AugmentedResidual(st, beta, lam, linear, c_obj)
                run = inner if budget_left is None else inner.replace(max_iter=max(min(inner.max_iter, budget_left), 1))
                res = run.solve(model, u, gtol=eta / beta, deadline=budget.deadline, mu0=mu)
                res.extra["cg_iterations"] = model.n_cg
                mu = res.mu
            inner_total += res.iterations
            n_jac_total += res.jacobian_evals
            prev_u, u = u, res.x
            h_model = _violation(st, *st.rows(u, unit))   # the subproblem's constraints (smoothed ReLU if κ set)
            st.set_smoothing(None)
            loc, glob = st.rows(u, unit)
            h = _violation(st, loc, glob)
            h_hist.append(float(np.linalg.norm(h)))
            grad_inf = beta * res.grad_norm
            lam_new, beta_new, eta_new, rule_stop, extra = rule.update(
                OuterState(k=k, beta=beta, eta=eta, lam=lam, h=h_model, h_norm=float(np.linalg.norm(h_model)),
                           h0_norm=h0_norm, h_history=h_hist))
            row = record_iteration(nlp, st, budget, k, u, glob, h, grad_inf, beta, eta, history, log, best, {
                "inner_iterations": res.iterations, "kappa": np.inf if kappa is None else kappa,
                "jacobian_evals": res.jacobian_evals, "cg_iterations": res.extra.get("cg_iterations", 0),
                "inner_reason": res.reason, **extra})
            losses.append(row["loss"])
            lam = np.clip(lam_new, -opts.lambda_max, opts.lambda_max)
            beta, eta = min(beta_new, opts.beta_max), eta_new
            stop, u = stop_reason(opts, k, row, losses, best, rule_stop, budget, inner_total, u, prev_u)
            if stop is not None:
                raw = stop
                break
    except KeyboardInterrupt:
        raw = "user_stop"
    if history:
        log(history.rows()[-1], last=True)
    detail = f" (best validation at iteration {best['k'] + 1})" if raw == "validation" else ""
    stats = {"setup_time": setup_time, "outer_iterations": len(history), "inner_iterations": inner_total,
             "jacobian_evals": n_jac_total, "inner": inner.kind, "rule": rule.name,
             "linear_solver": "ipopt" if linear is None else linear["method"],
             "state_damping": None if linear is None else linear["damping"], "multipliers": lam}
    return SolverOutput(x=u, raw_status=raw, iterations=len(history), history=history, stats=stats, detail=detail,
                        p=nlp.p0, feasibility_tol=opts.acceptable_feas_tol)
