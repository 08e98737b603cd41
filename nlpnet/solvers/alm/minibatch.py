"""The mini-batch augmented Lagrangian method (the thesis's future work).

The lifted problem is N sample blocks coupled only through θ, and its augmented Lagrangian is
a sum over them:

    L_β(θ, s, λ) = Σ_j [ ½ℓ_j(θ, s_j) + λ_jᵀh_j(θ, s_j) + (β/2)‖h_j(θ, s_j)‖² ] + global terms

(objective scale c = N, so each sample weighs ½ℓ_j). One outer iteration of the mini-batch
method is one pass over a seeded random partition of the samples into batches of
``batch_size``; for each batch B:

1. the inner solver (the same object as the full-batch method's) runs on
   Σ_{j∈B}[½ℓ_j + λ_jᵀh_j + (β/2)‖h_j‖²] + (|B|/N)·global terms in (θ, s_B) — every sample keeps
   the weight it has in the full problem, the global terms their share — warm-started from
   the current θ and the batch's states of its last visit; the other samples' states and
   multipliers are kept as they are;
2. the batch's multipliers take the first-order step λ_B ← λ_B + β h_B.

After the pass, the outer rule sets β and η from the violation of all samples (its own
multiplier step is not used: every sample's multipliers moved with its batch), user-row
multipliers take their step, and the full-batch stopping tests run (KKT on the whole
Lagrangian, stagnation, validation, budgets). An inner step on a batch costs O(|B|) time and
memory (the kernels over |B| samples); one outer iteration visits every sample once, as one
full-batch outer iteration does.
"""
from __future__ import annotations

import numpy as np

from ...result import History, SolverOutput
from ..common import Budget, IterationLog
from .inner import AugmentedResidual
from .outer import record_iteration, stop_reason
from .rules import OuterState, initial_multipliers

__all__ = ["solve_minibatch"]


def _h(st, loc, glob):
    return np.concatenate([loc[:, :st.n_s].ravel(), glob[st.global_is_g]])


def solve_minibatch(nlp, opts, st, budget: Budget) -> SolverOutput:
    rule, inner = opts.rule, opts.inner
    N, n_th, n_s = st.N, st.n_th, st.n_s
    c_full = float(N) if opts.objective_scale == "samples" else float(opts.objective_scale)
    unit = 1.0 / np.sqrt(N)
    rng = np.random.default_rng(opts.seed)
    u = nlp.x0.copy()
    h0_norm = float(np.linalg.norm(_h(st, *st.rows(u, unit))))
    lam = initial_multipliers(opts.multipliers, nlp.n_g, opts.seed, st, u, c_full) * opts.multiplier_scale
    lam = np.clip(lam, -opts.lambda_max, opts.lambda_max)
    beta, eta = rule.initial()
    beta = min(beta, opts.beta_max)
    B = min(int(opts.batch_size), N)
    log = IterationLog("alm", opts.verbose, extra=("beta", "inner_iterations"))
    history, h_hist, losses = History(), [], []
    best = {"val": np.inf, "x": u.copy(), "k": -1}
    raw, mu, inner_total = "max_iter", None, 0
    setup_time = budget.elapsed()
    try:
        for k in range(opts.max_iter):
            kappa = None
            if opts.relu_smoothing is not None and st.smoothable:
                kappa = opts.relu_smoothing * opts.smoothing_growth ** k
                kappa = None if kappa > opts.smoothing_max else kappa
            prev_u, n_inner, n_cg = u.copy(), 0, 0
            lam_loc = lam[:st.n_gl].reshape(N, n_s)
            for idx in np.split(rng.permutation(N), list(range(B, N, B))):
                idx = np.sort(idx)
                sub = st.restricted(idx)
                sub.set_smoothing(kappa)
                S = u[n_th:].reshape(N, n_s)
                u_b = np.concatenate([u[:n_th], S[idx].ravel()])
                lam_b = np.concatenate([lam_loc[idx].ravel(), lam[st.n_gl:]])
                c_b = c_full * len(idx) / N
                model = AugmentedResidual(sub, beta, lam_b, inner.linear(sub), c_b)
                res = inner.solve(model, u_b, gtol=eta / beta, deadline=budget.deadline, mu0=mu)
                mu, n_inner, n_cg = res.mu, n_inner + res.iterations, n_cg + model.n_cg
                u[:n_th] = res.x[:n_th]
                S[idx] = res.x[n_th:].reshape(len(idx), n_s)
                loc_b, _ = sub.rows(res.x, 1.0 / np.sqrt(len(idx)))
                lam_loc[idx] = np.clip(lam_loc[idx] + beta * loc_b[:, :n_s], -opts.lambda_max, opts.lambda_max)
                if budget.exhausted():
                    break
            inner_total += n_inner
            st.set_smoothing(kappa)
            h_model = _h(st, *st.rows(u, unit))
            st.set_smoothing(None)
            loc, glob = st.rows(u, unit)
            h = _h(st, loc, glob)
            h_hist.append(float(np.linalg.norm(h)))
            lam[st.n_gl:] = np.clip(lam[st.n_gl:] + beta * h[st.n_gl:], -opts.lambda_max, opts.lambda_max)
            # the whole Lagrangian's gradient at the end of the pass, for the KKT test
            full = AugmentedResidual(st, beta, lam, inner.linear(st), c_full)
            r = full.residual(u)
            grad_inf = beta * float(np.max(np.abs(full.grad(full.jacobian(u), r)), initial=0.0))
            _, beta_new, eta_new, rule_stop, extra = rule.update(
                OuterState(k=k, beta=beta, eta=eta, lam=lam, h=h_model, h_norm=float(np.linalg.norm(h_model)),
                           h0_norm=h0_norm, h_history=h_hist))
            row = record_iteration(nlp, st, budget, k, u, glob, h, grad_inf, beta, eta, history, log, best, {
                "inner_iterations": n_inner, "cg_iterations": n_cg, "kappa": np.inf if kappa is None else kappa,
                "batch_size": B, **extra})
            losses.append(row["loss"])
            beta, eta = min(beta_new, opts.beta_max), eta_new
            stop, u = stop_reason(opts, k, row, losses, best, rule_stop, budget, inner_total, u, prev_u)
            if stop is not None:
                raw = stop
                break
    except KeyboardInterrupt:
        raw = "user_stop"
    if history:
        log(history.rows()[-1], last=True)
    stats = {"setup_time": setup_time, "outer_iterations": len(history), "inner_iterations": inner_total,
             "inner": inner.kind, "rule": rule.name, "batch_size": B, "multipliers": lam}
    return SolverOutput(x=u, raw_status=raw, iterations=len(history), history=history, stats=stats,
                        detail=f" (mini-batches of {B})", p=nlp.p0, feasibility_tol=opts.acceptable_feas_tol)
