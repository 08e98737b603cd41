"""Milliseconds per IPOPT iteration on the multiple-shooting 1-8-8-1 tanh network.

Runs the library defaults and variants that each change one choice (MUMPS ordering,
MUMPS scaling, BLAS threads) at N = 40 and N = 160 samples of the chapter-4 data. The time
per iteration is taken between the first and the last iteration callbacks, so solver
set-up is excluded. Configurations are interleaved within each repeat (the machine's load
drifts), the median over repeats is reported, and ratios are formed within the same run.
The last column counts MUMPS factorisations per iteration (IPOPT refactorises when the
KKT matrix has the wrong inertia, which on this nonconvex problem is most iterations).

    python benchmarks/ipopt_iteration.py [--repeats 5] [--iters 30] [--sizes 40,160] [--quick]
"""
from __future__ import annotations

import argparse
import os
import re
import statistics
import tempfile

import nlpnet


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """--help shows the module docstring as written and every flag's default."""


VARIANTS = {
    "defaults": {},
    "ordering=auto": {"ordering": "auto"},
    "ordering=amd": {"ordering": "amd"},
    "mumps_scaling=on": {"mumps_scaling": True},
    "blas_threads=2": {"blas_threads": 2},
}


def problem(N: int, seed: int = 0) -> nlpnet.Problem:
    X, y = nlpnet.sin_x2_data(N, seed=seed)
    net = nlpnet.Network([1, 8, 8, 1], activation="tanh", init="glorot_uniform", seed=seed)
    prob = nlpnet.Problem(net, X, y, formulation="multiple_shooting")
    prob.solve("ipopt", max_iter=0)  # the per-sample Functions are built once, as every solve after the first finds them
    return prob


def ms_per_iteration(prob: nlpnet.Problem, iters: int, **options) -> float:
    res = prob.solve("ipopt", max_iter=iters, tol=1e-14, **options)
    t = res.history["time"]
    return 1e3 * (t[-1] - t[0]) / max(len(t) - 1, 1)


def factorizations_per_iteration(prob: nlpnet.Problem, iters: int, **options) -> float:
    """From IPOPT's detailed log, which reports the trial factorisations of every step."""
    fd, path = tempfile.mkstemp(suffix=".txt")
    os.close(fd)
    try:
        extra = {**options.pop("ipopt", {}), "output_file": path, "file_print_level": 7}
        res = prob.solve("ipopt", max_iter=iters, tol=1e-14, ipopt=extra, **options)
        with open(path) as fh:
            n = sum(int(m) for m in re.findall(r"Number of trial factorizations performed: (\d+)", fh.read()))
    finally:
        os.unlink(path)
    return n / max(res.iterations, 1)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=HelpFormatter)
    p.add_argument("--repeats", type=int, default=5, help="interleaved repeats per variant (median reported)")
    p.add_argument("--iters", type=int, default=30, help="IPOPT iterations per timed solve")
    p.add_argument("--sizes", default="40,160", help="comma-separated numbers of samples N")
    p.add_argument("--variants", default=",".join(VARIANTS), help=f"subset of {', '.join(VARIANTS)}")
    p.add_argument("--quick", action="store_true", help="smoke run: N = 40, 1 repeat of 5 iterations")
    a = p.parse_args(argv)
    if a.quick:
        a.repeats, a.iters, a.sizes = 1, 5, "40"
    names = a.variants.split(",")
    unknown = [n for n in names if n not in VARIANTS]
    if unknown:
        p.error(f"--variants: unknown {unknown}; choose from {list(VARIANTS)}")
    print(f"IPOPT ms/iteration, multiple shooting 1-8-8-1 tanh, median of {a.repeats} runs of {a.iters} iterations")
    print(f"{'N':>5} {'n_x':>6} {'n_g':>6}  {'variant':<18} {'ms/it':>7} {'× defaults':>10} {'fact./it':>8}")
    for N in (int(s) for s in a.sizes.split(",")):
        prob = problem(N)
        samples = {n: [] for n in names}
        for _ in range(a.repeats):
            for n in names:
                samples[n].append(ms_per_iteration(prob, a.iters, **VARIANTS[n]))
        med = {n: statistics.median(s) for n, s in samples.items()}
        base = med.get("defaults", float("nan"))
        for n in names:
            fac = factorizations_per_iteration(prob, a.iters, **VARIANTS[n])
            print(f"{N:>5} {prob.nlp.n_x:>6} {prob.nlp.n_g:>6}  {n:<18} {med[n]:>7.2f} {med[n] / base:>10.2f} {fac:>8.2f}")


if __name__ == "__main__":
    main()
