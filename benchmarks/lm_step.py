"""Where one structured Levenberg–Marquardt step of the ALM spends its time.

Problem: the Table 4.1 ReLU row, 1-16-16-1 with ReLU as the equality z = max(a, 0),
sin(x²) data, Glorot-uniform weights (seed 0), at the start point with β = 10 and μ = 1e-3.
Also the structured set-up of a solve, in a fresh process and once the per-sample Functions
of the architecture are cached. Each part of a step is timed on its own (median over ``--reps`` calls, the parts
interleaved within each repetition, one BLAS thread):
the residual rows, the Jacobian blocks in the smoothing and in the exact ReLU phase, the
state elimination in both metrics (identity: M_j = μ(B_jB_jᵀ + μI)⁻¹ from a batched Cholesky,
as used for these small layers, against NumPy's batched ``inv``; layer: the closed form of
:mod:`nlpnet.solvers.alm.elimination`), the reduced n_θ × n_θ matrix, its dense solve, and the
whole step.

    python benchmarks/lm_step.py [--sizes 80] [--reps 200] [--quick]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import nlpnet  # noqa: E402
from nlpnet.formulations import sample_functions  # noqa: E402
from nlpnet.solvers.alm import block_solve, elimination  # noqa: E402
from nlpnet.solvers.alm.inner import AugmentedResidual  # noqa: E402
from nlpnet.solvers.alm.structure import LiftedStructure  # noqa: E402
from nlpnet.solvers.threads import blas_threads  # noqa: E402

LINEAR = {"method": "direct", "damping": "identity", "cg_tol": 1e-3, "cg_maxiter": 100, "preconditioner": "auto"}


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """--help shows the module docstring as written and every flag's default."""


MU = 1e-3


def interleaved(fns: dict, reps: int) -> dict:
    """Median ms per call of each function, the functions called in turn within every
    repetition so that a change in the machine's load hits all of them alike."""
    for fn in fns.values():
        fn()
    samples = {k: [] for k in fns}
    for _ in range(reps):
        for k, fn in fns.items():
            t = time.perf_counter()
            fn()
            samples[k].append(time.perf_counter() - t)
    return {k: 1e3 * statistics.median(v) for k, v in samples.items()}


def setup_ms(prob) -> float:
    """Structured set-up of one solve: the lifted structure and the first smoothing-phase Jacobian."""
    t = time.perf_counter()
    st = LiftedStructure(prob.nlp)
    st.set_smoothing(3.0)
    x = prob.nlp.x0
    st.jacobian(x, 1.0, np.ones(st.n_G))
    return 1e3 * (time.perf_counter() - t)


def parts(n: int, reps: int) -> dict:
    X, y = nlpnet.sin_x2_data(n, seed=n)
    net = nlpnet.Network([1, 16, 16, 1], activation="relu", init="glorot_uniform", seed=0)
    prob = nlpnet.Problem(net, X, y, relu="equality")
    sample_functions._CACHE.clear()
    first = setup_ms(nlpnet.Problem(net, X, y, relu="equality"))
    cached = statistics.median(setup_ms(prob) for _ in range(5))
    st = LiftedStructure(prob.nlp)
    model = AugmentedResidual(st, 10.0, np.zeros(prob.nlp.n_g), LINEAR, objective_scale=float(n))
    x = prob.nlp.x0
    r = model.residual(x)
    jac = model.jacobian(x)
    K = jac.gram() + MU * np.eye(st.n_r)
    M = elimination.IdentityDamping(jac, MU).dense()
    S = block_solve._reduced_by_rows(jac, M) + np.eye(st.n_th)
    rhs = np.ones(st.n_th)

    def jacobian(kappa):
        st.set_smoothing(kappa)
        model.residual(x)            # the forward pass the Jacobian reads
        model.jacobian(x)
        st.set_smoothing(None)

    fns = {
        "jacobian (smoothing phase)": lambda: jacobian(3.0),
        "jacobian (exact ReLU)": lambda: jacobian(None),
        "residual rows": lambda: model.residual(x),
        "elimination, identity metric (used)": lambda: elimination.IdentityDamping(jac, MU),
        "elimination, layer metric": lambda: elimination.LayerDamping(jac, MU).dense(),
        "projectors, numpy inv": lambda: MU * np.linalg.inv(K),
        "reduced matrix": lambda: block_solve._reduced_by_rows(jac, M),
        "dense solve": lambda: np.linalg.solve(S, rhs),
        "whole solve_damped": lambda: block_solve.solve_damped(jac, r.loc, r.glob, MU, **LINEAR),
    }
    return {"n_theta": st.n_th, "n_r": st.n_r, "set-up, first solve in a process": first,
            "set-up, same architecture and N": cached, **interleaved(fns, reps)}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=HelpFormatter)
    p.add_argument("--sizes", default="80", help="comma-separated numbers of samples N")
    p.add_argument("--reps", type=int, default=200, help="calls per timed part (median reported)")
    p.add_argument("--quick", action="store_true", help="smoke run: 5 calls per part")
    a = p.parse_args(argv)
    if a.quick:
        a.reps = 5
    for n in (int(s) for s in a.sizes.split(",")):
        with blas_threads(1):
            res = parts(n, a.reps)
        print(f"N = {n}: ReLU 1-16-16-1, n_θ = {res.pop('n_theta')}, {res.pop('n_r')} rows per sample; "
              f"median ms over {a.reps} calls")
        for k, v in res.items():
            print(f"  {k:<30} {v:8.3f}")


if __name__ == "__main__":
    main()
