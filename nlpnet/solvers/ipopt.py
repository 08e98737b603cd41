"""IPOPT on the problem's NLP (the thesis's fmincon chapter, done with exact derivatives).

``casadi.nlpsol("ipopt")`` is given the objective gradient, the constraint Jacobian and the
Hessian of the Lagrangian scattered from the NLP's per-sample blocks
(:mod:`nlpnet.formulations.assembly`): the symbolic set-up does not grow with N and an
iteration costs O(N). The default linear solver is MUMPS with the METIS fill-reducing
ordering: on the multiple-shooting KKT matrix (arrowhead: per-sample blocks plus a dense
weight border) MUMPS's automatic choice fills in badly (``benchmarks/ipopt_iteration.py``).

Complementarity formulations carry the relaxation ε in ``nlp.p``: rows z∘(z−a) − ε ≤ 0.
The solver follows a homotopy ε_0 > ε_1 > … (``homotopy``), warm-starting each stage from
the previous primal–dual point, then (``polish``) fixes each pair's branch and solves the
smooth branch NLP, whose solution satisfies complementarity exactly. The relaxed stages only
choose the branches, and their lifted objective can be driven down through states that drift
from the network (a unit with a ≈ 0 may take any z ∈ [0, √ε]): a stage whose network — its
weights with the states simulated — stays ``_EXPLOITED`` times worse than the best network seen
is stopped, and the branch NLP starts from that best network instead.

The iteration callback (:mod:`.ipopt_monitor`) records the history, keeps the best feasible
network, stops on validation data (``patience``), before an iteration that would overrun
``max_time``, on a stalled branch NLP and on Ctrl-C. The set-up that cannot be interrupted —
the symbolic per-sample derivatives, the first KKT factorizations — is estimated first and not
started when it cannot fit in ``max_time`` (:mod:`.setup`). A solve that ends at a limit returns
the best feasible point it saw. IPOPT's return status is mapped by :data:`STATUSES`; a
non-converged solve is a result, never an exception.
"""
from __future__ import annotations

from dataclasses import dataclass

import casadi as ca
import numpy as np

from ..options import SolverOptions, boolean, choice, integer, option, real
from ..result import History, SolverOutput, Status
from . import SolverSpec, register_solver
from .common import Budget, IterationLog
from .ipopt_monitor import Recorder, sigint_as_flag
from .setup import SetupTimeout, check_setup_budget, first_iteration_seconds, run_setup, symbolic_seconds

__all__ = ["IpoptOptions", "solve_ipopt", "STATUSES", "MESSAGES"]

STATUSES = {
    "Solve_Succeeded": Status.SUCCESS,
    "Solved_To_Acceptable_Level": Status.ACCEPTABLE,
    "Feasible_Point_Found": Status.SUCCESS,
    "Maximum_Iterations_Exceeded": Status.MAX_ITER,
    "Maximum_CpuTime_Exceeded": Status.MAX_TIME,
    "Maximum_WallTime_Exceeded": Status.MAX_TIME,
    "Infeasible_Problem_Detected": Status.INFEASIBLE,
    "Search_Direction_Becomes_Too_Small": Status.STALLED,
    "Diverging_Iterates": Status.NUMERICAL_ERROR,
    "User_Requested_Stop": Status.USER_STOP,
    "Restoration_Failed": Status.NUMERICAL_ERROR,
    "Error_In_Step_Computation": Status.NUMERICAL_ERROR,
    "Invalid_Number_Detected": Status.NUMERICAL_ERROR,
    "Not_Enough_Degrees_Of_Freedom": Status.FAILED,
    "Invalid_Problem_Definition": Status.FAILED,
    "Invalid_Option": Status.FAILED,
    "Insufficient_Memory": Status.FAILED,
    "Internal_Error": Status.FAILED,
    "Unrecoverable_Exception": Status.FAILED,
    "NonIpopt_Exception_Thrown": Status.FAILED,
    "Validation_Stop": Status.STALLED,          # nlpnet's own: validation loss stopped improving (patience)
    "Branch_NLP_Stalled": Status.ACCEPTABLE,    # nlpnet's own: feasible, objective flat for 50 iterations
}
MESSAGES = {
    "Solve_Succeeded": "converged after {iterations} iterations",
    "Solved_To_Acceptable_Level": "converged to IPOPT's acceptable tolerance after {iterations} iterations",
    "Feasible_Point_Found": "feasible point found after {iterations} iterations",
    "Maximum_Iterations_Exceeded": "stopped at the iteration limit after {iterations} iterations",
    "Maximum_CpuTime_Exceeded": "stopped at the time limit after {iterations} iterations",
    "Maximum_WallTime_Exceeded": "stopped at the time limit after {iterations} iterations",
    "User_Requested_Stop": "interrupted by the user after {iterations} iterations",
    "Validation_Stop": "validation loss did not improve for `patience` iterations; stopped after {iterations} "
                       "iterations",
    "Branch_NLP_Stalled": "converged to a feasible point whose objective stopped changing (relative 1e-9 over 50 "
                          "iterations) after {iterations} iterations; IPOPT's own tolerance was not met (a "
                          "degenerate branch NLP)",
}

# MUMPS ICNTL(7) orderings by name
ORDERINGS = {"amd": 0, "amf": 2, "scotch": 3, "pord": 4, "metis": 5, "qamd": 6, "auto": 7}
# IPOPT options that have an nlpnet name: set through it, not through ipopt=
_OWNED = {"max_iter": "max_iter", "max_wall_time": "max_time", "max_cpu_time": "max_time", "tol": "tol",
          "linear_solver": "linear_solver", "hessian_approximation": "hessian",
          "mumps_pivot_order": "ordering"}


def check_ipopt_options(opts: dict, argname: str = "ipopt") -> dict:
    """Validate a dict of pass-through IPOPT options: names nlpnet sets itself are refused with
    the nlpnet name; the rest are checked by IPOPT itself on a one-variable trial problem."""
    if not isinstance(opts, dict) or not all(isinstance(k, str) for k in opts):
        raise TypeError(f"{argname}: expected a dict of IPOPT option names to values")
    for k in opts:
        if k in _OWNED:
            raise ValueError(f"{argname}: {k!r} is set by nlpnet; use the solver option {_OWNED[k]}= instead")
    trial = dict(opts)
    if "print_level" in trial:   # the trial solve runs silently, so this one is checked here
        from ..validation import as_int
        as_int(f"{argname}: print_level", trial.pop("print_level"), 0, 12)
    _trial(trial, argname)
    return dict(opts)


_CHECKED: set = set()


def _trial(opts: dict, argname: str) -> None:
    key = tuple(sorted((k, repr(v)) for k, v in opts.items()))
    if key in _CHECKED or not opts:
        return
    x = ca.SX.sym("x")
    try:
        s = ca.nlpsol("check", "ipopt", {"x": x, "f": x ** 2},
                      {"ipopt": {**opts, "print_level": 0, "sb": "yes", "max_iter": 1}, "print_time": False})
        s(x0=1.0)
        st = s.stats()["return_status"]
    except RuntimeError as exc:
        raise ValueError(f"{argname}: IPOPT rejected the options {opts}: {exc}") from None
    if st == "Invalid_Option":
        raise ValueError(f"{argname}: IPOPT rejected one of the options {sorted(opts)}; check names and values "
                         "against IPOPT's option list (https://coin-or.github.io/Ipopt/OPTIONS.html)")
    _CHECKED.add(key)


# measured defaults of homotopy="auto" (python benchmarks/homotopy_cases.py --homotopies): leaky ReLU
# fits better from a tighter start (mean MSE 0.147 against 0.289 on the sin(x²) problem), ReLU as well
# from the looser one and 5× faster (Table 2.2)
AUTO_HOMOTOPY = {"relu": (1e-2, 1e-4), "leaky_relu": (1e-4, 1e-6)}


def _homotopy(name, value):
    if value == "auto":
        return value
    h = tuple(value) if isinstance(value, (list, tuple)) else (value,)
    from ..validation import as_float
    out = tuple(as_float(name, e, nonneg=True) for e in h)
    if not out:
        raise ValueError(f"{name}: must be a non-empty sequence of numbers ≥ 0")
    return out


@dataclass(frozen=True, kw_only=True)
class IpoptOptions(SolverOptions):
    """Options of the ``ipopt`` solver (shared ones in :class:`~nlpnet.options.SolverOptions`)."""

    max_iter: int = option(3000, "IPOPT iterations over all homotopy stages together", integer(0))
    tol: float = option(1e-8, "IPOPT's convergence tolerance", real(positive=True))
    ordering: str = option("metis", "MUMPS fill-reducing ordering (metis measured fastest; auto = MUMPS's own)",
                           choice(*ORDERINGS))
    linear_solver: str = option("mumps", "IPOPT linear solver (HSL solvers if your IPOPT has them)",
                                choice("mumps", "ma27", "ma57", "ma77", "ma86", "ma97", "spral"))
    homotopy: tuple = option("auto", "relaxations ε of complementarity rows, solved in turn; 'auto': (1e-2, 1e-4), "
                                      "or (1e-4, 1e-6) when a layer is leaky ReLU", _homotopy)
    polish: bool = option(True, "after the homotopy, solve the branch NLP so complementarity holds exactly",
                          boolean())
    warm_mu_init: float = option(1e-6, "initial barrier parameter of warm-started stages", real(positive=True))
    stage_tol: float = option(1e-4, "tolerance of relaxed stages when polish is on (they only pick the branch)",
                              real(positive=True))
    hessian: str = option("exact", "'exact' (assembled per sample) or 'limited-memory' (IPOPT's L-BFGS)",
                          choice("exact", "limited-memory"))
    mumps_scaling: bool = option(False, "let MUMPS scale the KKT matrix (off: −7 % per iteration, same counts)",
                                 boolean())
    ipopt: dict = option(None, "extra IPOPT options passed through (checked by IPOPT first)",
                         lambda n, v: check_ipopt_options({} if v is None else v, n))
    patience: int | None = option(None, "with validation data: stop after this many IPOPT iterations without a "
                                        "lower validation loss (None: off)", integer(1, allow_none=True))
    restore_best: bool = option(True, "return the best-validation iterate when validation stopping fires",
                                boolean())

    def base_options(self) -> dict:
        o = {"linear_solver": self.linear_solver, "hessian_approximation": self.hessian, "tol": float(self.tol),
             "print_level": 0, "sb": "yes"}       # IPOPT's own log: ipopt={"print_level": 5}
        if self.linear_solver == "mumps":
            o["mumps_pivot_order"] = ORDERINGS[self.ordering]
            if not self.mumps_scaling:  # ICNTL(8) = 0 and no matching-based permutation/scaling
                o.update(mumps_scaling=0, mumps_permuting_scaling=0)
        o.update(self.ipopt)
        return o


def branch_bounds(nlp, x, p):
    """Bounds of the branch NLP at ``x``: for each pair 0 ≤ A ⊥ B ≥ 0 the smaller side is
    fixed to 0 (its upper bound set to 0) and the product row is dropped. The branch NLP
    is smooth and satisfies LICQ generically; its solutions satisfy A∘B = 0 exactly."""
    v = np.concatenate([x, nlp.g(x, p)])
    A, B = nlp.complementarity_pairs[:, 0], nlp.complementarity_pairs[:, 1]
    fixed = np.where(v[A] <= v[B], A, B)
    ubx, ubg = nlp.ubx.copy(), nlp.ubg.copy()
    ubx[fixed[fixed < nlp.n_x]] = 0.0
    ubg[fixed[fixed >= nlp.n_x] - nlp.n_x] = 0.0
    ubg[nlp.complementarity_idx] = np.inf
    return nlp.lbx, ubx, nlp.lbg, ubg


def _functions(nlp, deadline=None):
    """The assembled derivative Functions, built once per NLP in a worker thread (see
    :func:`~nlpnet.solvers.setup.run_setup`: Ctrl-C and the deadline reach the caller)."""
    if "ipopt" not in nlp.cache:
        from ..formulations.assembly import IpoptFunctions
        nlp.cache["ipopt"] = run_setup(lambda: IpoptFunctions(nlp), deadline)
    return nlp.cache["ipopt"]


def _start_row(nlp, x, t) -> dict:
    th = x[:nlp.n_theta]
    row = {"iteration": 0, "time": t, "objective": nlp.objective(x), "loss": nlp.data_loss(th),
           "violation": nlp.constraint_violation(x), "stage": 0, "epsilon": None}
    if nlp.validation is not None:
        row["val_loss"] = nlp.data_loss(th, "val")
    return row


def solve_ipopt(nlp, opts: IpoptOptions) -> SolverOutput:
    budget = Budget(opts.max_time)
    tol = max(opts.tol, 1e-6)
    history = History()
    if opts.max_iter == 0:    # no iteration work: nothing is built, the start point is returned
        history.append(**_start_row(nlp, nlp.x0, budget.elapsed()))
        return SolverOutput(x=nlp.x0.copy(), raw_status="Maximum_Iterations_Exceeded", iterations=0,
                            history=history, stats={"setup_time": budget.elapsed(), "stages": []},
                            feasibility_tol=tol)
    comp = nlp.has_complementarity
    homotopy = opts.homotopy
    if homotopy == "auto":
        homotopy = AUTO_HOMOTOPY["leaky_relu" if "leaky_relu" in nlp.samples.rules else "relu"]
    stages = list(homotopy) if comp else [None]
    if comp and opts.polish:
        stages.append("branch")
    x, lam_x, lam_g, iters, p = nlp.x0.copy(), None, None, 0, nlp.p0
    raw, done, jumped = "Maximum_Iterations_Exceeded", [], ""
    not_started = _setup_verdict(nlp, opts, budget)
    if not not_started:
        try:
            fns = _functions(nlp, budget.deadline)
        except SetupTimeout:
            not_started = "; stopped in the symbolic set-up, which did not finish within max_time"
    if not_started:
        history.append(**_start_row(nlp, x, budget.elapsed()))
        return SolverOutput(x=x, raw_status="Maximum_WallTime_Exceeded", iterations=0, history=history,
                            stats={"setup_time": budget.elapsed(), "stages": []}, feasibility_tol=tol,
                            detail=not_started)
    log = IterationLog("ipopt", opts.verbose, extra=("epsilon",))
    patience = opts.patience if nlp.validation is not None else None
    rec = Recorder(nlp, history, log, budget.t0, tol=tol, deadline=budget.deadline, patience=patience)
    base = opts.base_options()
    for k, stage in enumerate(stages):
        left_iter, left_time = opts.max_iter - iters, budget.left()
        # a budget used up between stages ends the homotopy early with that limit as status
        if left_time <= max(rec.durations, default=0.0):
            raw = "Maximum_WallTime_Exceeded"
            break
        if left_iter <= 0:
            raw = "Maximum_Iterations_Exceeded"
            break
        ip = dict(base, max_iter=left_iter)
        if opts.polish and stage not in (None, "branch"):
            ip["tol"] = max(opts.stage_tol, opts.tol)
        if np.isfinite(left_time):
            ip["max_wall_time"] = float(left_time)
        if k > 0 and lam_x is not None:  # continue from the previous stage's primal-dual point
            ip.update(warm_start_init_point="yes", warm_start_bound_push=1e-9, warm_start_mult_bound_push=1e-9,
                      mu_init=opts.warm_mu_init)
        # NaN/inf in an evaluation is IPOPT's to handle (and ends as numerical_error), not a warning to print
        sopts = {"ipopt": ip, "print_time": False, "iteration_callback": rec, "grad_f": fns.grad_f,
                 "jac_g": fns.jac_g, "show_eval_warnings": False}
        if opts.hessian == "exact":
            sopts["hess_lag"] = fns.hess_lag
        solver = ca.nlpsol("ipopt", "ipopt", fns.problem, sopts)
        if stage == "branch":
            lbx, ubx, lbg, ubg = branch_bounds(nlp, x, p)
        else:
            p = nlp.p0 if stage is None else np.array([stage])
            lbx, ubx, lbg, ubg = nlp.lbx, nlp.ubx, nlp.lbg, nlp.ubg
        watch = _EXPLOIT_ITERATIONS if opts.polish and stage not in (None, "branch") and rec.network_points else None
        rec.start_stage(k, 0.0 if stage == "branch" else (float(p[0]) if len(p) else None), iters, watch,
                        _STALL_WINDOW if stage == "branch" else None)
        rec.exploit_ratio = _EXPLOITED
        args = dict(x0=x, p=p, lbx=lbx, ubx=ubx, lbg=lbg, ubg=ubg)
        if lam_x is not None:
            args.update(lam_x0=lam_x, lam_g0=lam_g)
        with sigint_as_flag(rec):
            sol = solver(**args)
        st = solver.stats()
        raw = _STOPS.get(rec.stop, st.get("return_status", "Unknown"))
        n_it = int(st.get("iter_count", 0))
        iters += n_it
        done.append({"stage": stage, "status": raw, "iterations": n_it})
        x_new = np.asarray(sol["x"]).ravel()
        if not np.all(np.isfinite(x_new)):
            raw = "Invalid_Number_Detected"
            break
        x, lam_x, lam_g = x_new, np.asarray(sol["lam_x"]).ravel(), np.asarray(sol["lam_g"]).ravel()
        if rec.stop == "exploited":
            rec.stop, raw = None, "Solve_Succeeded"          # the stage only had to choose the branches
        elif rec.stop is not None or not STATUSES.get(raw, Status.FAILED).success:
            break
        if opts.polish and stage not in (None, "branch") and rec.network_points and rec.best is not None:
            # the relaxed stages only choose the branches; a stage whose network is much worse than
            # one seen before it used the relaxation's slack (states drifting from the network)
            f_end, (f_best, th_best, it_best) = rec.network_value(x), rec.best
            if f_end > _EXPLOITED * f_best + 1e-12:
                x, lam_x, lam_g = nlp.lift(th_best), None, None
                stages[k + 1:] = ["branch"]
                jumped = (f"; the ε = {stage:g} stage ended at a network with objective {f_end:.3g} against "
                          f"{f_best:.3g} at iteration {it_best} (the relaxation was exploited), so the branch NLP "
                          "started from that network")
    if history:
        log(history.rows()[-1], last=True)
    x, p, detail = _returned_point(nlp, opts, rec, raw, x, p, tol)
    if stages != [None] and done:
        last = done[-1]["stage"]
        where = "the branch NLP" if last == "branch" else f"ε = {last:g}"
        detail = f"; complementarity: {len(done)}/{len(stages)} stages, last {where}" + jumped + detail
    # set-up: everything before the first iteration (IPOPT reports its start point first)
    setup = float(history.rows()[0]["time"]) if history else budget.elapsed()
    stats = {"setup_time": setup, "stages": done,
             "nnz_jacobian": fns.nnz_jacobian, "nnz_hessian": fns.nnz_hessian if opts.hessian == "exact" else 0}
    return SolverOutput(x=x, raw_status=raw, iterations=iters, history=history, stats=stats, detail=detail,
                        p=p, feasibility_tol=tol)


# a relaxed stage whose network's objective exceeds this multiple of the best seen "was exploited":
# on Table 2.2 the stage ε = 1e-2 ends 1.7–33× above its best network and ε = 1e-4 1.2–4×, yet its
# branches polish well; the README's bounded-output problem ends 1e5× above (benchmarks/homotopy_cases.py)
_EXPLOITED = 10.0
_EXPLOIT_ITERATIONS = 30     # ... for this many iterations in a row ends the stage early
_STALL_WINDOW = 50           # branch NLP: feasible iterates without progress for this many iterations
# why the iteration callback stopped IPOPT → the raw status reported
_STOPS = {"user": "User_Requested_Stop", "time": "Maximum_WallTime_Exceeded", "validation": "Validation_Stop",
          "exploited": "Relaxation_Exploited", "stalled": "Branch_NLP_Stalled"}


def _returned_point(nlp, opts, rec, raw, x, p, tol):
    """(x, p, detail): a converged solve returns its solution; validation stopping the
    best-validation iterate (``restore_best``); any other end (a limit, a failure) the best
    feasible point seen when it beats the last iterate (:mod:`.ipopt_monitor`)."""
    if STATUSES.get(raw, Status.FAILED).success and raw != "Branch_NLP_Stalled":
        return x, p, ""
    if raw == "Validation_Stop" and opts.restore_best and rec.best_val is not None:
        val, xv, it = rec.best_val
        return xv, p, f" (validation loss {val:.4g} at iteration {it} restored)"
    best = rec.best_point()
    if best is None:
        return x, p, ""
    xb, fb, it = best
    p0 = np.zeros_like(nlp.p0)
    with np.errstate(over="ignore", invalid="ignore"):
        f_last, v_last = nlp.objective(x, p), nlp.constraint_violation(x, p)
    if v_last <= tol and np.isfinite(f_last) and f_last <= fb:
        return x, p, ""
    if raw == "Branch_NLP_Stalled":
        return xb, p0, f" (the network of iteration {it})"
    return xb, p0, (f"; returned the best feasible point seen (the network of iteration {it}, objective {fb:.4g}) "
                    f"instead of the last iterate (objective {f_last:.4g}, violation {v_last:.2g})")


def check_ipopt(nlp, opts: IpoptOptions) -> None:
    if opts.patience is not None and nlp.validation is None:
        raise ValueError("patience: stops on the validation loss, but the problem has no validation data; build the "
                         "Problem with X_val=, y_val= or drop patience")


def _setup_verdict(nlp, opts: IpoptOptions, budget: Budget) -> str:
    """"" when the uninterruptible set-up fits in the time left, else why it was not started."""
    seconds = first_iteration_seconds(nlp) + (symbolic_seconds(nlp.samples) if "ipopt" not in nlp.cache else 0.0)
    return check_setup_budget("ipopt", nlp, seconds, budget.left(),
                              "use hessian='limited-memory' (no symbolic Hessian), solve('alm') or solve('adam')"
                              if opts.hessian == "exact" else "use solve('alm') or solve('adam')")


def estimate_memory(nlp, opts: IpoptOptions) -> float:
    """Bytes of the set-up: the per-sample Hessian's symbolic graph (dense in θ for single
    shooting) and the sparse LDLᵀ factor, whose dense weight border is n_θ² (one front per
    sample of its states, rows and the weights it touches)."""
    sb, n_th = nlp.samples, nlp.n_theta
    sizes = sb.kernels.sizes
    if opts.hessian == "exact":
        if sb.rules:
            nodes = sum(sizes[k + 1] * ((sizes[k] + 1) + (sizes[k] if k else 0)) ** 2 / 2
                        for k in range(len(sizes) - 1))
        else:
            nodes = n_th * n_th / 2
    else:
        nodes = 0
    block = sb.n_s + sb.m
    factor = 8.0 * (n_th * n_th / 2 + nlp.N * block * (block + n_th))
    return 120.0 * nodes + 3.0 * factor


register_solver(SolverSpec(name="ipopt", run=solve_ipopt, options=IpoptOptions, statuses=STATUSES, messages=MESSAGES,
                           estimate=estimate_memory, check=check_ipopt, family="ipopt",
                           alternative="train this network with solve('alm') or solve('adam'), which never form the "
                                       "Hessian or the dense weight block of the KKT factor",
                           summary="IPOPT interior point on the problem's NLP (exact Hessian from per-sample "
                                   "blocks, METIS ordering)"))
