"""IPOPT's complementarity homotopy on the problems where it used to fail (issue 10, item 5).

* **README**: the quick-start problem — ReLU 1-8-8-1 by complementarity, 16 training points of
  the chapter-2 sine data, Nguyen–Widrow weights, ``prob.output(grid) <= 0.05`` on 50 points;
* **leaky**: leaky ReLU (α = 0.1) 1-8-8-1 by complementarity on 40 points of the chapter-4
  data y = sin(x²) + noise, x ∈ [0, π], Glorot weights of seed r;
* **Table 2.2**: the chapter-2 ReLU protocol (seeds 0..R−1), as a guard that nothing got worse.

Per case: IPOPT's status, training MSE, iterations and wall time, and the ALM's MSE and time
on the same problem for reference (the ALM takes no inequality constraints, so not on README).

    python benchmarks/homotopy_cases.py [--runs 10] [--leaky 5] [--variants 3] [--quick]

``--variants K`` also runs the first K leaky cases with other IPOPT settings (homotopies
starting lower, the nonsmooth equality lifting) to see whether the homotopy is to blame;
``--homotopies`` compares the two homotopies (1e-2, 1e-4) and (1e-4, 1e-6) over the leaky
sin(x²) problem (10 seeds), leaky ReLU on the chapter-2 sine data (N = 40, 8 seeds), Table 2.2
(10 seeds) and the README problem — the measurement behind ``homotopy="auto"``.

Run it with ``PYTHONPATH`` pointing at another checkout to compare versions.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

import nlpnet

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "experiments"))


def readme_problem():
    X, y = nlpnet.sine_data(20, seed=0)
    Xtr, Xte, ytr, yte = nlpnet.train_test_split(X, y, 0.2, seed=0)
    net = nlpnet.Network([1, 8, 8, 1], activation="relu", init="nguyen_widrow", seed=0, input_range=(0, 1))
    prob = nlpnet.Problem(net, Xtr, ytr, X_val=Xte, y_val=yte)
    prob.subject_to(prob.output(np.linspace(0, 1, 50).reshape(-1, 1)) <= 0.05)
    return prob


def leaky_problem(seed):
    X, y = nlpnet.sin_x2_data(40, seed=seed)
    return nlpnet.Problem(nlpnet.Network([1, 8, 8, 1], activation=("leaky_relu", 0.1), seed=seed), X, y)


def timed(prob, solver, **kw):
    t0 = time.perf_counter()
    res = prob.solve(solver, **kw)
    return res, time.perf_counter() - t0


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=10, help="Table 2.2 seeds")
    p.add_argument("--leaky", type=int, default=5, help="leaky-ReLU seeds")
    p.add_argument("--variants", type=int, default=0, help="leaky seeds to rerun with other IPOPT settings")
    p.add_argument("--homotopies", action="store_true", help="compare the two homotopies on four problem sets")
    p.add_argument("--quick", action="store_true", help="one leaky seed and two Table 2.2 seeds")
    a = p.parse_args(argv)
    if a.quick:
        a.runs, a.leaky, a.variants = min(a.runs, 2), min(a.leaky, 1), 0
    if a.homotopies:
        return compare_homotopies()
    print(f"nlpnet from {Path(nlpnet.__file__).parent}")
    print("| case | IPOPT status | IPOPT train MSE | iterations | IPOPT time [s] | ALM train MSE | ALM time [s] |")
    print("|---|---|---|---|---|---|---|")
    res, t = timed(readme_problem(), "ipopt")
    print(f"| README | {res.status.value} | {res.train_loss:.3g} | {res.iterations} | {t:.2f} | – | – |", flush=True)
    for seed in range(a.leaky):
        res, t = timed(leaky_problem(seed), "ipopt")
        alm, ta = timed(leaky_problem(seed), "alm")
        print(f"| leaky seed {seed} | {res.status.value} | {res.train_loss:.3g} | {res.iterations} | {t:.2f} | "
              f"{alm.train_loss:.3g} | {ta:.2f} |", flush=True)
    variants = {"homotopy=(1e-4, 1e-6)": ({}, {"homotopy": (1e-4, 1e-6)}),
                "homotopy=(1e-6,)": ({}, {"homotopy": (1e-6,)}),
                "leaky_relu='equality'": ({"leaky_relu": "equality"}, {})}
    for seed in range(a.variants):
        for name, (pkw, skw) in variants.items():
            X, y = nlpnet.sin_x2_data(40, seed=seed)
            net = nlpnet.Network([1, 8, 8, 1], activation=("leaky_relu", 0.1), seed=seed)
            res, t = timed(nlpnet.Problem(net, X, y, **pkw), "ipopt", max_iter=1000, **skw)
            print(f"| leaky seed {seed}, {name} | {res.status.value} | {res.train_loss:.3g} | {res.iterations} | "
                  f"{t:.2f} | – | – |", flush=True)
    from nlpnet.experiments.chapter2 import make_problem
    fit, times, mses, iters = 0, [], [], []
    for seed in range(a.runs):
        prob = make_problem({"seed": seed, "sizes": [1, 8, 8, 1], "activation": "relu"})
        res, t = timed(prob, "ipopt")
        fit += res.train_loss < 0.03
        times.append(t)
        mses.append(res.train_loss)
        iters.append(res.iterations)
    if not a.runs:
        return
    print(f"| Table 2.2, {a.runs} seeds | {fit}/{a.runs} fit (MSE < 0.03) | mean {statistics.mean(mses):.4f} | "
          f"median {statistics.median(iters):.0f} | median {statistics.median(times):.2f} | – | – |")


def compare_homotopies():
    from nlpnet.experiments.chapter2 import make_problem

    def leaky_sine(seed):
        X, y = nlpnet.sine_data(40, seed=seed)
        return nlpnet.Problem(nlpnet.Network([1, 8, 8, 1], activation=("leaky_relu", 0.1), seed=seed), X, y)

    sets = {"leaky 1-8-8-1, sin(x²), N = 40": (leaky_problem, 10),
            "leaky 1-8-8-1, chapter-2 sine, N = 40": (leaky_sine, 8),
            "Table 2.2 (ReLU)": (lambda s: make_problem({"seed": s, "sizes": [1, 8, 8, 1], "activation": "relu"}), 10),
            "README (ReLU, output bound)": (lambda s: readme_problem(), 1)}
    print("| problems | homotopy | mean train MSE | median train MSE | median time [s] |")
    print("|---|---|---|---|---|")
    for name, (make, runs) in sets.items():
        for hom in ((1e-2, 1e-4), (1e-4, 1e-6)):
            mses, times = [], []
            for seed in range(runs):
                res, t = timed(make(seed), "ipopt", homotopy=hom)
                mses.append(res.train_loss)
                times.append(t)
            print(f"| {name} | {hom} | {statistics.mean(mses):.4f} | {statistics.median(mses):.4f} | "
                  f"{statistics.median(times):.2f} |", flush=True)


if __name__ == "__main__":
    main()
