"""Where one structured Levenberg–Marquardt step of the ALM spends its time.

Problem: the Table 4.1 ReLU row, 1-16-16-1 with ReLU as the equality z = max(a, 0),
sin(x²) data, Glorot-uniform weights (seed 0), at the start point with β = 10 and μ = 1e-3.
Also the structured set-up of a solve, in a fresh process and once the per-sample Functions
of the architecture are cached. Each part of a step is timed on its own (median over ``--reps`` calls, the parts
interleaved within each repetition, one BLAS thread):
the residual rows, the Jacobian blocks in the smoothing and in the exact ReLU phase, the
per-sample projectors M_j = μ(B_jB_jᵀ + μI)⁻¹ (batched Cholesky, as used, against NumPy's
batched ``inv``), the reduced n_θ × n_θ matrix, its dense solve, and the whole step.

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
from nlpnet.solvers import block_solve, sample_rows  # noqa: E402
from nlpnet.solvers.levenberg_marquardt import AugmentedResidual  # noqa: E402
from nlpnet.solvers.structured import BlockStructure  # noqa: E402
from nlpnet.solvers.threads import blas_threads  # noqa: E402


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
    """Structured set-up of one solve: BlockStructure and the first smoothing-phase Jacobian."""
    t = time.perf_counter()
    st = BlockStructure(prob.nlp, prob)
    st.set_smoothing(3.0)
    st.jacobian(prob.nlp.x0)
    return 1e3 * (time.perf_counter() - t)


def parts(n: int, reps: int) -> dict:
    X, y = nlpnet.sin_x2_data(n, seed=n)
    net = nlpnet.Network([1, 16, 16, 1], activation="relu", init="glorot_uniform", seed=0)
    prob = nlpnet.Problem(net, X, y, relu="equality")
    prob.nlp
    sample_rows._CACHE.clear()
    first = setup_ms(prob)
    cached = statistics.median(setup_ms(prob) for _ in range(5))
    st = BlockStructure(prob.nlp, prob)
    model = AugmentedResidual(st, 10.0, np.zeros(prob.nlp.n_g), objective_scale=float(n))
    x = prob.nlp.x0
    r = model.residual(x)
    jac = model.jacobian(x)
    K = jac.gram() + MU * np.eye(st.n_r)
    M = jac.projector(MU)
    S = block_solve._reduced_by_rows(jac, M) + np.eye(st.n_th)
    rhs = np.ones(st.n_th)

    def jacobian(kappa):
        st.set_smoothing(kappa)
        model.jacobian(x)
        st.set_smoothing(None)

    fns = {
        "jacobian (smoothing phase)": lambda: jacobian(3.0),
        "jacobian (exact ReLU)": lambda: jacobian(None),
        "residual rows": lambda: model.residual(x),
        "projectors, Cholesky (used)": lambda: jac.projector(MU),
        "projectors, numpy inv": lambda: MU * np.linalg.inv(K),
        "reduced matrix": lambda: block_solve._reduced_by_rows(jac, M),
        "dense solve": lambda: np.linalg.solve(S, rhs),
        "whole solve_damped": lambda: block_solve.solve_damped(jac, r[0], r[1], MU, "direct"),
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
