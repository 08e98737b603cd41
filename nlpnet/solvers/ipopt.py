"""IPOPT on the problem's NLP (the thesis's fmincon chapter, done with exact derivatives).

``casadi.nlpsol("ipopt")`` is built on the SX graph with the exact Hessian of the
Lagrangian. The default linear solver is MUMPS with the METIS fill-reducing ordering: on
the multiple-shooting KKT matrix (arrowhead: per-sample blocks plus a dense weight border)
MUMPS's automatic choice fills in badly, and one iteration of the 1-8-8-1 tanh net at
N = 40 costs about an order of magnitude more (``benchmarks/ipopt_iteration.py``).

Complementarity formulations carry the relaxation ε in ``nlp.p``: rows z∘(z−a) − ε ≤ 0.
The solver follows a homotopy ε_0 > ε_1 > … (``homotopy``), warm-starting each stage
from the previous primal–dual point, so the final point satisfies z = max(a, 0) to
about √ε_last.

A per-iteration history (objective, primal infeasibility, wall time, stage) is recorded by
an iteration callback. IPOPT's return status is mapped to :class:`~nlpnet.result.Status`;
a non-converged solve is a result, never an exception.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import casadi as ca
import numpy as np

from ..options import check_int, check_positive
from ..result import History, Status
from . import SolverSpec, register_solver
from .threads import blas_threads

__all__ = ["IpoptOptions", "solve_ipopt", "IPOPT_STATUS"]

IPOPT_STATUS = {
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
}

# MUMPS ICNTL(7) orderings by name
ORDERINGS = {"amd": 0, "amf": 2, "scotch": 3, "pord": 4, "metis": 5, "qamd": 6, "auto": 7}


@dataclass
class IpoptOptions:
    """Options of the ``ipopt`` solver.

    max_iter:   IPOPT iterations over all homotopy stages together.
    max_time:   wall-time limit in seconds (None: none).
    tol:        IPOPT's convergence tolerance.
    ordering:   MUMPS fill-reducing ordering: "metis" (default, measured fastest), "amd",
                "amf", "scotch", "pord", "qamd", "auto" (MUMPS's own choice).
    linear_solver: IPOPT linear solver ("mumps"; HSL solvers if your IPOPT has them).
    homotopy:   relaxation values ε for complementarity formulations, solved in turn.
    polish:     after the homotopy, fix each complementarity pair's branch and solve the
                (regular) branch NLP, so complementarity holds exactly.
    warm_mu_init: IPOPT's initial barrier parameter for warm-started stages.
    stage_tol:  IPOPT tolerance of the relaxed homotopy stages when ``polish`` is on: they
                only have to identify the active branch, the branch NLP is solved to ``tol``.
    hessian:    "exact" or "limited-memory" (L-BFGS approximation inside IPOPT).
    mumps_scaling: let MUMPS scale the KKT matrix before each factorisation (IPOPT's default);
                off by default here: the lifted network's KKT matrices are already well
                scaled, and skipping it saves about 7 % per iteration without changing
                the convergence counts measured in ``docs/solvers.md``.
    blas_threads: BLAS threads during the solve, CasADi's bundled OpenBLAS included (default 1:
                the KKT fronts are small and a second thread only adds hand-over cost;
                None leaves the setting alone).
    verbose:    print IPOPT's iteration log.
    ipopt:      extra IPOPT options passed through verbatim (checked against IPOPT first).
    """

    max_iter: int = 3000
    max_time: float | None = None
    tol: float = 1e-8
    ordering: str = "metis"
    linear_solver: str = "mumps"
    homotopy: tuple = (1e-2, 1e-4)
    polish: bool = True
    warm_mu_init: float = 1e-6
    stage_tol: float = 1e-4
    hessian: str = "exact"
    mumps_scaling: bool = False
    blas_threads: int | None = 1
    verbose: bool = False
    ipopt: dict = field(default_factory=dict)

    def __post_init__(self):
        check_int("max_iter", self.max_iter, 0)
        check_positive("max_time", self.max_time, allow_none=True)
        check_positive("tol", self.tol)
        check_positive("warm_mu_init", self.warm_mu_init)
        check_positive("stage_tol", self.stage_tol)
        check_int("blas_threads", self.blas_threads, 1, allow_none=True)
        if self.ordering not in ORDERINGS:
            raise ValueError(f"ordering: must be one of {', '.join(ORDERINGS)}, got {self.ordering!r}")
        if self.hessian not in ("exact", "limited-memory"):
            raise ValueError(f"hessian: must be 'exact' or 'limited-memory', got {self.hessian!r}")
        h = tuple(self.homotopy) if isinstance(self.homotopy, (list, tuple)) else (self.homotopy,)
        if not h or any(not (isinstance(e, (int, float)) and e >= 0) for e in h):
            raise ValueError(f"homotopy: must be a non-empty sequence of numbers ≥ 0, got {self.homotopy!r}")
        self.homotopy = tuple(float(e) for e in h)
        if not isinstance(self.ipopt, dict) or not all(isinstance(k, str) for k in self.ipopt):
            raise TypeError("ipopt: expected a dict of IPOPT option names to values")
        _check_ipopt_options(self.base_options())

    def base_options(self) -> dict:
        o = {"linear_solver": self.linear_solver, "hessian_approximation": self.hessian,
             "tol": float(self.tol), "print_level": 5 if self.verbose else 0, "sb": "yes"}
        if self.linear_solver == "mumps":
            o["mumps_pivot_order"] = ORDERINGS[self.ordering]
            if not self.mumps_scaling:  # ICNTL(8) = 0 and no matching-based permutation/scaling
                o.update(mumps_scaling=0, mumps_permuting_scaling=0)
        o.update(self.ipopt)
        return o


_CHECKED: set = set()


def _check_ipopt_options(opts: dict) -> None:
    """Reject option names or values IPOPT does not accept, by a one-variable trial solve."""
    key = tuple(sorted((k, repr(v)) for k, v in opts.items()))
    if key in _CHECKED:
        return
    x = ca.SX.sym("x")
    trial = {**opts, "print_level": 0, "max_iter": 1}
    try:
        s = ca.nlpsol("check", "ipopt", {"x": x, "f": x ** 2}, {"ipopt": trial, "print_time": False})
        s(x0=1.0)
        st = s.stats()["return_status"]
    except RuntimeError as exc:
        raise ValueError(f"ipopt: IPOPT rejected the options {opts}: {exc}") from None
    if st == "Invalid_Option":
        raise ValueError(f"ipopt: IPOPT rejected one of the options {sorted(opts)}; check the names and values "
                         "against IPOPT's option list (https://coin-or.github.io/Ipopt/OPTIONS.html)")
    _CHECKED.add(key)


class _Recorder(ca.Callback):
    """IPOPT iteration callback: appends objective, primal infeasibility and time."""

    def __init__(self, nlp, p, history: History, stage: int, t0: float):
        ca.Callback.__init__(self)
        self.nx, self.ng = nlp.n_x, nlp.n_g
        self.lbg, self.ubg, self.lbx, self.ubx = nlp.lbg, nlp.ubg, nlp.lbx, nlp.ubx
        self.history, self.stage, self.t0, self.eps = history, stage, t0, float(p[0]) if len(p) else None
        self.construct("nlpnet_ipopt_recorder", {})

    def get_n_in(self):
        return ca.nlpsol_n_out()

    def get_n_out(self):
        return 1

    def get_name_in(self, i):
        return ca.nlpsol_out(i)

    def get_name_out(self, i):
        return "ret"

    def get_sparsity_in(self, i):
        n = ca.nlpsol_out(i)
        if n in ("f",):
            return ca.Sparsity.scalar()
        if n == "x":
            return ca.Sparsity.dense(self.nx)
        if n == "g":
            return ca.Sparsity.dense(self.ng)
        return ca.Sparsity(0, 0)  # the multipliers are not recorded: CasADi then skips copying them

    def eval(self, arg):
        x = np.asarray(arg[0]).ravel()
        g = np.asarray(arg[2]).ravel()
        viol = 0.0
        if g.size:
            viol = max(viol, float(np.max(np.maximum(self.lbg - g, 0))), float(np.max(np.maximum(g - self.ubg, 0))))
        viol = max(viol, float(np.max(np.maximum(self.lbx - x, 0), initial=0)),
                   float(np.max(np.maximum(x - self.ubx, 0), initial=0)))
        self.history.append(objective=float(arg[1]), infeasibility=viol, time=time.perf_counter() - self.t0,
                            stage=self.stage, epsilon=self.eps)
        return [0]


def branch_bounds(nlp, x, p):
    """Bounds of the branch NLP at ``x``: for each pair 0 ≤ A ⊥ B ≥ 0 the smaller side is
    fixed to 0 (its upper bound set to 0) and the product row is dropped. The branch NLP
    is smooth and satisfies LICQ generically; its solutions satisfy A∘B = 0 exactly."""
    g = np.asarray(nlp.functions()["g"](x, p)).ravel()
    v = np.concatenate([x, g])
    A, B = nlp.complementarity_pairs[:, 0], nlp.complementarity_pairs[:, 1]
    fixed = np.where(v[A] <= v[B], A, B)
    ubx, ubg = nlp.ubx.copy(), nlp.ubg.copy()
    ubx[fixed[fixed < nlp.n_x]] = 0.0
    ubg[fixed[fixed >= nlp.n_x] - nlp.n_x] = 0.0
    ubg[nlp.complementarity_idx] = np.inf
    return nlp.lbx, ubx, nlp.lbg, ubg


def solve_ipopt(problem, nlp, opts: IpoptOptions):
    with blas_threads(opts.blas_threads):
        return _solve_ipopt(problem, nlp, opts)


def _solve_ipopt(problem, nlp, opts: IpoptOptions):
    t0 = time.perf_counter()
    comp = nlp.has_complementarity
    stages = list(opts.homotopy) if comp else [None]
    if comp and opts.polish:
        stages.append("branch")
    history, x, lam_x, lam_g = History(), nlp.x0.copy(), None, None
    iters, raw, p = 0, "Maximum_Iterations_Exceeded", nlp.p0
    base = opts.base_options()
    stats = {"stages": []}
    for k, stage in enumerate(stages):
        left_iter = opts.max_iter - iters
        left_time = None if opts.max_time is None else opts.max_time - (time.perf_counter() - t0)
        # a budget used up between stages ends the homotopy early: report that limit, not the
        # previous stage's success (and not MAX_ITER when it was the time that ran out)
        if left_time is not None and left_time <= 0:
            raw = "Maximum_WallTime_Exceeded"
            break
        if left_iter <= 0 and k > 0:
            raw = "Maximum_Iterations_Exceeded"
            break
        warm = k > 0
        ip = dict(base, max_iter=max(left_iter, 0))
        if opts.polish and stage not in (None, "branch"):
            ip["tol"] = max(opts.stage_tol, opts.tol)
        if left_time is not None:
            ip["max_wall_time"] = float(left_time)
        if warm:  # continue from the previous stage's primal-dual point
            ip.update(warm_start_init_point="yes", warm_start_bound_push=1e-9, warm_start_mult_bound_push=1e-9,
                      mu_init=opts.warm_mu_init)
        rec = _Recorder(nlp, p, history, k, t0)
        sopts = {"ipopt": ip, "print_time": False, "iteration_callback": rec}
        if opts.hessian == "exact":
            sopts["hess_lag"] = nlp.hessian_of_lagrangian()
        solver = ca.nlpsol("ipopt", "ipopt", nlp.as_dict(), sopts)
        if stage == "branch":
            lbx, ubx, lbg, ubg = branch_bounds(nlp, x, p)
        else:
            p = nlp.p0 if stage is None else np.array([stage])
            lbx, ubx, lbg, ubg = nlp.lbx, nlp.ubx, nlp.lbg, nlp.ubg
        # the branch NLP enforces complementarity exactly: record it as ε = 0
        rec.eps = 0.0 if stage == "branch" else (float(p[0]) if len(p) else None)
        args = dict(x0=x, p=p, lbx=lbx, ubx=ubx, lbg=lbg, ubg=ubg)
        if lam_x is not None:
            args.update(lam_x0=lam_x, lam_g0=lam_g)
        sol = solver(**args)
        st = solver.stats()
        raw = st.get("return_status", "Unknown")
        n_it = int(st.get("iter_count", 0))
        iters += n_it
        stats["stages"].append({"stage": stage, "status": raw, "iterations": n_it})
        x_new = np.asarray(sol["x"]).ravel()
        if not np.all(np.isfinite(x_new)):
            break
        x, lam_x, lam_g = x_new, np.asarray(sol["lam_x"]).ravel(), np.asarray(sol["lam_g"]).ravel()
        if not IPOPT_STATUS.get(raw, Status.FAILED).success:
            break
    status = IPOPT_STATUS.get(raw, Status.FAILED)
    message = _message(raw, iters, stages, stats["stages"])
    return problem.result_from(nlp, x, status, message, "ipopt", iterations=iters,
                               wall_time=time.perf_counter() - t0, history=history, raw_status=raw,
                               stats=stats, p=p)


def _message(raw, iters, stages, done) -> str:
    text = {
        Status.SUCCESS: "converged",
        Status.ACCEPTABLE: "converged to IPOPT's acceptable tolerance",
        Status.MAX_ITER: "stopped at the iteration limit",
        Status.MAX_TIME: "stopped at the time limit",
    }.get(IPOPT_STATUS.get(raw, Status.FAILED), f"IPOPT stopped: {raw}")
    hom = ""
    if stages != [None] and done:
        last = done[-1]["stage"]
        where = "the branch NLP" if last == "branch" else f"ε = {last:g}"
        hom = f"; complementarity: {len(done)}/{len(stages)} stages, last {where}"
    return f"{text} after {iters} iterations{hom}"


def _check(problem, nlp, opts):
    return None


register_solver(SolverSpec(name="ipopt", run=solve_ipopt, options=IpoptOptions, check=_check,
                           summary="IPOPT interior point on the problem's NLP (exact Hessian, METIS ordering)"))
