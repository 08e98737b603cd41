"""Scaling of the ALM's structured Levenberg–Marquardt solver with the number of samples N.

    python benchmarks/alm_scaling.py [--sizes 100,300,1000,3000,10000] [--reps 5] [--no-scipy]
                                     [--trf-probe 5] [--trf-budget 120] [--quick]

Problem: ReLU 1-16-16-1 (z = max(a, 0) lifted as an equality), x = linspace(0, π, N),
y = sin(x²) + N(0, 0.1²), Glorot-uniform weights (seed 0). For every N it prints

* one LM iteration (Jacobian evaluation + damped state-eliminated solve + residual at the
  trial point) at the start point, β = 10: median wall time over ``--reps`` repetitions
  and peak traced memory (``tracemalloc``: NumPy's arrays and Python objects; CasADi's own
  work buffers are not traced);
* one full ALM solve with the library defaults: wall time, outer/inner iterations, and the
  peak traced memory of a second, traced run;
* the same outer schedule (thesis rule, β = 10, the same λ₀ and stagnation rule) with
  ``scipy.optimize.least_squares(method="trf", tr_solver="lsmr")`` and the exact sparse
  Jacobian as the inner solver — the thesis's choice, with its ``ftol = xtol = None`` — at
  every N: the time per trf iteration (median over ``--reps`` runs of the first subproblem
  capped at ``--trf-probe`` evaluations), and a full solve with its wall time and status
  within ``--trf-budget`` seconds (a run past the budget is stopped and reported as such;
  scipy is the optional ``bench`` extra, imported only here);

and the fitted log-log slopes of time and memory against N.

trf with ``xtol = None`` keeps shrinking its trust region when ``gtol`` is out of reach; once
the radius is exactly 0, ``scipy.optimize._lsq.common.solve_trust_region_2d`` raises
"attempt to get argmin of an empty sequence". That is the failure the thesis caught as
"Divide by 0"; it is reported here as a status, not hidden.
"""
from __future__ import annotations

import argparse
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import nlpnet  # noqa: E402
from nlpnet.solvers.alm.block_solve import solve_damped  # noqa: E402
from nlpnet.solvers.alm.inner import AugmentedResidual  # noqa: E402
from nlpnet.solvers.alm.rules import OuterState, ThesisRule, initial_multipliers  # noqa: E402
from nlpnet.solvers.alm.structure import LiftedStructure  # noqa: E402
from nlpnet.solvers.threads import blas_threads  # noqa: E402

LINEAR = {"method": "direct", "damping": "identity", "cg_tol": 1e-3, "cg_maxiter": 100, "preconditioner": "auto"}


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """--help shows the module docstring as written and every flag's default."""


def problem(n):
    X, y = nlpnet.sin_x2_data(n, seed=n)
    net = nlpnet.Network([1, 16, 16, 1], activation="relu", seed=0)
    return nlpnet.Problem(net, X, y, relu="equality")


def lm_iteration(model, x, mu):
    r = model.residual(x)
    jac = model.jacobian(x)
    d, _ = solve_damped(jac, r.loc, r.glob, mu, **LINEAR)
    model.residual(x + d)
    return d


def time_lm(prob, reps):
    nlp = prob.nlp
    st = LiftedStructure(nlp)
    model = AugmentedResidual(st, 10.0, np.zeros(nlp.n_g), LINEAR, objective_scale=float(st.N))
    x = nlp.x0
    with blas_threads(1):
        lm_iteration(model, x, 1e-3)                     # warm-up
        times = []
        for _ in range(reps):
            t = time.perf_counter()
            lm_iteration(model, x, 1e-3)
            times.append(time.perf_counter() - t)
        tracemalloc.start()
        lm_iteration(model, x, 1e-3)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return float(np.median(times)), peak


def time_alm(prob, traced):
    if traced:
        tracemalloc.start()
    res = prob.solve("alm")
    peak = tracemalloc.get_traced_memory()[1] if traced else 0
    if traced:
        tracemalloc.stop()
    return res, peak


class _OutOfTime(Exception):
    pass


def _trf_parts(prob, N):
    """The exact sparse Jacobian's pattern (CSR triplets) in the LM's residual order."""
    nlp = prob.nlp
    st = LiftedStructure(nlp)
    n_r, n_G, n_th, n_s = st.n_r, st.n_G, st.n_th, st.n_s
    sidx = n_th + np.arange(N * n_s).reshape(N, n_s)
    rows = np.concatenate([(np.arange(N)[:, None] * n_r + st.a_rows[None, :]).ravel(),
                           (np.arange(N)[:, None, None] * n_r + np.arange(n_r)[None, :, None]
                            + 0 * np.arange(n_s)[None, None, :]).ravel(),
                           (N * n_r + np.repeat(np.arange(n_G), n_th))])
    cols = np.concatenate([np.tile(st.a_cols, N), np.broadcast_to(sidx[:, None, :], (N, n_r, n_s)).ravel(),
                           np.tile(np.arange(n_th), n_G)])
    return st, rows, cols, (N * n_r + n_G, st.n_x)


def _trf_subproblem(st, rows, cols, shape, x, b, lam, gtol, N, calls, max_nfev=None, deadline=None):
    """One ALM subproblem by trf; ``calls[0]`` counts residual evaluations (kept on errors)."""
    from scipy import sparse
    from scipy.optimize import least_squares
    model = AugmentedResidual(st, b, lam, LINEAR, objective_scale=float(N))

    def fun(u):
        if deadline is not None and time.perf_counter() > deadline:
            raise _OutOfTime
        calls[0] += 1
        r = model.residual(u)
        return np.concatenate([r.loc.ravel(), r.glob])

    def jac(u):
        J = model.jacobian(u)
        vals = [J.A.ravel(), J.lj.B_dense().ravel(), J.C.toarray().ravel()]
        return sparse.csr_matrix((np.concatenate(vals), (rows, cols)), shape=shape)

    return least_squares(fun, x, jac, method="trf", tr_solver="lsmr", ftol=None, xtol=None, gtol=gtol,
                         max_nfev=max_nfev)


def trf_iteration_time(prob, probe, reps):
    """Seconds per trf evaluation in the first subproblem (β = 1, λ₀ of the ALM defaults)."""
    N = prob.X.shape[0]
    st, rows, cols, shape = _trf_parts(prob, N)
    lam = initial_multipliers("normal", prob.nlp.n_g, 0) * 3.0
    times = []
    for _ in range(reps):
        calls = [0]
        t = time.perf_counter()
        _trf_subproblem(st, rows, cols, shape, prob.nlp.x0.copy(), 1.0, lam, 1e-12, N, calls, max_nfev=probe)
        times.append((time.perf_counter() - t) / max(calls[0], 1))
    return float(np.median(times))


def alm_with_trf(prob, max_outer=10, tau=1e-2, beta=10.0, budget=None):
    """The thesis's schedule with scipy's trf as inner solver (β_k = β^k, η_k = η₀/β_k)."""
    nlp = prob.nlp
    N = prob.X.shape[0]
    st, rows, cols, shape = _trf_parts(prob, N)
    rule = ThesisRule(beta=beta)
    lam = initial_multipliers("normal", nlp.n_g, 0) * 3.0        # the ALM defaults' λ₀
    b, eta = rule.initial()
    x, losses, hist, t0, status = nlp.x0.copy(), [], [], time.perf_counter(), "max_outer"
    deadline = None if budget is None else t0 + budget
    unit = 1.0 / np.sqrt(N)

    def h_of(u):
        loc, glob = st.rows(u, unit)
        return np.concatenate([loc[:, :st.n_s].ravel(), glob[st.global_is_g]])
    h0 = float(np.linalg.norm(h_of(x)))
    calls = [0]
    for k in range(max_outer):
        try:
            sol = _trf_subproblem(st, rows, cols, shape, x, b, lam, eta / b, N, calls, deadline=deadline)
        except _OutOfTime:
            status = f"time budget {budget:g} s reached in outer iteration {k + 1}"
            break
        except Exception as exc:  # the thesis saw trf fail inside scipy on ReLU problems
            status = f"scipy error ({type(exc).__name__}: {exc}) in outer iteration {k + 1}"
            break
        x = sol.x
        h = h_of(x)
        hist.append(float(np.linalg.norm(h)))
        loss = prob.mse(prob.network.with_params(x[:st.n_th]))
        losses.append(loss)
        lam, b, eta, _, _ = rule.update(OuterState(k=k, beta=b, eta=eta, lam=lam, h=h, h_norm=hist[-1],
                                                   h0_norm=h0, h_history=hist))
        if k >= 2 and (1 + tau) * loss > losses[-2]:
            status = "stagnated"
            break
    return {"time": time.perf_counter() - t0, "nfev": calls[0], "outer": len(losses),
            "mse": losses[-1] if losses else float("nan"), "status": status}


def slope(ns, vals):
    ns, vals = np.asarray(ns, float), np.asarray(vals, float)
    ok = vals > 0
    return float(np.polyfit(np.log(ns[ok]), np.log(vals[ok]), 1)[0]) if ok.sum() >= 2 else float("nan")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=HelpFormatter)
    p.add_argument("--sizes", default="100,300,1000,3000,10000", help="comma-separated numbers of samples N")
    p.add_argument("--reps", type=int, default=5, help="repetitions of each timed LM iteration (median reported)")
    p.add_argument("--no-scipy", action="store_true", help="skip the scipy trf comparison")
    p.add_argument("--trf-probe", type=int, default=5, help="trf evaluations timed per repetition")
    p.add_argument("--trf-budget", type=float, default=120.0, help="seconds allowed for each full trf-inner ALM run")
    p.add_argument("--quick", action="store_true", help="smoke run: N = 100,300, 1 repetition, 2 trf evaluations, "
                   "3 s trf budget")
    args = p.parse_args(argv)
    if args.quick:
        args.sizes, args.reps, args.trf_probe, args.trf_budget = "100,300", 1, 2, 3.0
    sizes = [int(s) for s in args.sizes.split(",")]
    scipy_ok = not args.no_scipy
    print(f"{'N':>6} | {'LM iter (ms)':>12} {'LM peak MB':>10} | {'ALM (s)':>8} {'outer':>5} {'inner':>5} "
          f"{'MSE':>8} {'ALM peak MB':>11} | {'trf it (ms)':>11} {'trf/LM':>6} | {'trf ALM (s)':>11} {'nfev':>5} "
          f"{'trf MSE':>8} status")
    res_rows = []
    for n in sizes:
        prob = problem(n)
        reps = args.reps if n < 10000 else max(2, args.reps // 2)
        t_it, m_it = time_lm(prob, reps)
        res, _ = time_alm(prob, False)
        _, m_alm = time_alm(problem(n), True)
        line = (f"{n:>6} | {1e3 * t_it:>12.2f} {m_it / 2**20:>10.2f} | {res.wall_time:>8.2f} {res.iterations:>5d} "
                f"{res.stats['inner_iterations']:>5d} {res.train_loss:>8.3g} {m_alm / 2**20:>11.1f} |")
        row = {"n": n, "t_it": t_it, "m_it": m_it, "t_alm": res.wall_time, "m_alm": m_alm}
        if scipy_ok:
            with blas_threads(1):
                t_trf = trf_iteration_time(problem(n), args.trf_probe, reps)
                tr = alm_with_trf(problem(n), budget=args.trf_budget)
            line += (f" {1e3 * t_trf:>11.1f} {t_trf / t_it:>6.0f} | {tr['time']:>11.2f} {tr['nfev']:>5d} "
                     f"{tr['mse']:>8.3g} {tr['status']}")
            row["t_trf"] = t_trf
        print(line, flush=True)
        res_rows.append(row)
    ns = [r["n"] for r in res_rows]
    print(f"\nlog-log slopes over N = {ns[0]}…{ns[-1]}: LM iteration time {slope(ns, [r['t_it'] for r in res_rows]):.3f}, "
          f"LM iteration peak memory {slope(ns, [r['m_it'] for r in res_rows]):.3f}, "
          f"ALM solve time {slope(ns, [r['t_alm'] for r in res_rows]):.3f}, "
          f"ALM solve peak memory {slope(ns, [r['m_alm'] for r in res_rows]):.3f}"
          + (f", trf iteration time {slope(ns, [r['t_trf'] for r in res_rows]):.3f}" if scipy_ok else ""))


if __name__ == "__main__":
    main()
