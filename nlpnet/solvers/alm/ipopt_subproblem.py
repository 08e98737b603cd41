"""The ALM subproblem solved by IPOPT (``inner="ipopt"``), assembled per sample: cost O(N).

With every row of the (equality-lifted) NLP an equality g(u) = b, h = g − b, the subproblem is

    minimize_u  L_β(u; λ) = ½c f(u) + λᵀh(u) + (β/2)‖h(u)‖²

(f the NLP objective, c = ``objective_scale``). Its derivatives come from the same per-sample
blocks IPOPT itself uses (:class:`~nlpnet.formulations.assembly.IpoptFunctions`):

    ∇L_β  = ½c ∇f + Jᵀμ,                  μ = λ + βh,
    ∇²L_β = ∇²(½c f + μᵀg) + β JᵀJ,        J = ∂g/∂u (sparse: one block per sample + the θ border),

the first term being the Hessian of the NLP's Lagrangian with multipliers μ, the second a
sparse product whose pattern (per-sample blocks, their θ border and the dense θθ block) is
the KKT matrix's. Nothing symbolic grows with N: the former expanded-graph subproblem built
an SX Hessian of the whole L_β, 17 s for a 1-12-8-2 net on 64 samples before its first
iteration. λ, β and the formulation parameters are parameters of one MX problem; each
subproblem creates its IPOPT instance (cheap: MX) with the time left as ``max_wall_time`` and
an iteration callback that stops before an iteration that would not fit.
"""
from __future__ import annotations

import time

import casadi as ca
import numpy as np

from ..ipopt_monitor import IterationCallback, sigint_as_flag
from ..setup import run_setup
from .inner import InnerResult

__all__ = ["IpoptSubproblem"]


class _Deadline(IterationCallback):
    """Asks IPOPT to stop when the next iteration would end past the deadline (or on Ctrl-C)."""

    def __init__(self, nx):
        self.nx, self.deadline, self.last, self.longest, self.stop = nx, None, None, 0.0, None
        IterationCallback.__init__(self, "nlpnet_alm_inner_deadline", {})

    def reset(self, deadline):
        self.deadline, self.last, self.longest, self.stop = deadline, time.perf_counter(), 0.0, None
        self.sigint = False

    def eval(self, arg):
        try:
            if self.sigint:
                raise KeyboardInterrupt
            now = time.perf_counter()
            self.longest = max(self.longest, now - self.last)
            self.last = now
            if self.deadline is not None and now + self.longest > self.deadline:
                self.stop = "time"
                return [1]
            return [0]
        except KeyboardInterrupt:
            self.stop = "user"
            return [1]


class IpoptSubproblem:
    """min_u L_β(u, λ) by IPOPT on the structured assembly (see the module docstring)."""

    def __init__(self, nlp, inner, c_obj: float, deadline=None):
        if "ipopt" not in nlp.cache:
            from ...formulations.assembly import IpoptFunctions
            nlp.cache["ipopt"] = run_setup(lambda: IpoptFunctions(nlp), deadline)
        fns = nlp.cache["ipopt"]
        n_x, n_g, n_p = nlp.n_x, nlp.n_g, nlp.p.numel()
        u, lam, beta = ca.MX.sym("u", n_x), ca.MX.sym("lam", n_g), ca.MX.sym("beta")
        p = ca.MX.sym("p", n_p)
        par = ca.vertcat(lam, beta, p)
        f, grad_f = fns.grad_f(u, p)
        g, J = fns.jac_g(u, p)
        h = g - ca.DM(nlp.lbg)
        mu = lam + beta * h
        L = 0.5 * c_obj * f + ca.dot(lam, h) + 0.5 * beta * ca.dot(h, h)
        grad = 0.5 * c_obj * grad_f + ca.mtimes(J.T, mu)
        sigma, no_rows = ca.MX.sym("lam_f"), ca.MX.sym("lam_g", 0)
        H = fns.hess_lag(u, p, sigma * 0.5 * c_obj, sigma * mu) + sigma * beta * ca.triu(ca.mtimes(J.T, J))
        self.grad_f = ca.Function("alm_grad_L", [u, par], [L, grad], ["x", "p"], ["f", "grad_f_x"])
        self.hess = ca.Function("alm_hess_L", [u, par, sigma, no_rows], [H], ["x", "p", "lam_f", "lam_g"],
                                ["triu_hess_gamma_x_x"])
        self.jac_g = ca.Function("alm_jac_g", [u, par], [ca.MX(0, 1), ca.MX(0, n_x)], ["x", "p"],
                                 ["g", "jac_g_x"])
        self.problem = {"x": u, "p": par, "f": L}
        self.base = {"tol": inner.tol, "max_iter": inner.max_iter, "print_level": 0, "sb": "yes",
                     "mumps_pivot_order": 5, **inner.ipopt}
        self.callback = _Deadline(n_x)
        self.p0 = nlp.p0

    def solve(self, x, lam, beta, budget) -> InnerResult:
        ip = dict(self.base)
        if np.isfinite(budget.left()):
            ip["max_wall_time"] = max(float(budget.left()), 1e-3)
        solver = ca.nlpsol("alm_inner", "ipopt", self.problem,
                           {"ipopt": ip, "print_time": False, "grad_f": self.grad_f, "jac_g": self.jac_g,
                            "hess_lag": self.hess, "iteration_callback": self.callback, "show_eval_warnings": False})
        self.callback.reset(budget.deadline)
        par = np.concatenate([lam, [beta], self.p0])
        with sigint_as_flag(self.callback):
            sol = solver(x0=x, p=par)
        if self.callback.stop == "user" or self.callback.sigint:
            raise KeyboardInterrupt
        st = solver.stats()
        x = np.asarray(sol["x"]).ravel()
        g = np.asarray(self.grad_f(x, par)[1]).ravel()
        n = int(st.get("iter_count", 0))
        reason = "max_time" if self.callback.stop == "time" else st.get("return_status", "")
        return InnerResult(x=x, iterations=n, accepted=n, jacobian_evals=n + 1,
                           grad_norm=float(np.max(np.abs(g))) / beta if g.size else 0.0,
                           cost=float(sol["f"]), mu=0.0, reason=reason)


def ipopt_inner(nlp, opts, c_obj: float, budget):
    """(subproblem or None, stop or None) for the ALM's start: ``stop`` = (raw status, detail)
    when the solve must end before its first outer iteration — ``max_iter=0``, or an IPOPT
    set-up that is estimated (:mod:`nlpnet.solvers.setup`) or found not to fit in max_time."""
    from ..setup import SetupTimeout, check_setup_budget, first_iteration_seconds, symbolic_seconds
    from .inner import IpoptInner
    if opts.max_iter == 0:
        return None, ("max_iter", "")
    if not isinstance(opts.inner, IpoptInner):
        return None, None
    seconds = first_iteration_seconds(nlp) + (symbolic_seconds(nlp.samples) if "ipopt" not in nlp.cache else 0.0)
    reason = check_setup_budget("alm", nlp, seconds, budget.left(), "use the default inner='lm'")
    if reason:
        return None, ("max_time", reason)
    try:
        return IpoptSubproblem(nlp, opts.inner, c_obj, budget.deadline), None
    except SetupTimeout:
        return None, ("max_time", "; stopped in the symbolic set-up of inner='ipopt', which did not finish "
                                  "within max_time")
