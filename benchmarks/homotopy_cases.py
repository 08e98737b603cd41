"""IPOPT's complementarity homotopy on the problems where it used to fail (issue 10, item 5).

* **README**: the quick-start problem — ReLU 1-8-8-1 by complementarity, 16 training points of
  the chapter-2 sine data, Nguyen–Widrow weights, ``prob.output(grid) <= 0.05`` on 50 points;
* **leaky**: leaky ReLU (α = 0.1) 1-8-8-1 by complementarity on 40 points of the chapter-4
  data y = sin(x²) + noise, x ∈ [0, π], Glorot weights of seed r;
* **Table 2.2**: the chapter-2 ReLU protocol (seeds 0..R−1), as a guard that nothing got worse.

Per case: IPOPT's status, training MSE, iterations and wall time, and the ALM's MSE and time
on the same problem for reference (the ALM takes no inequality constraints, so not on README).

    python benchmarks/homotopy_cases.py [--runs 10] [--leaky 5]

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
    a = p.parse_args(argv)
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
    from chapter2 import make_problem
    fit, times, mses, iters = 0, [], [], []
    for seed in range(a.runs):
        prob = make_problem({"seed": seed, "sizes": [1, 8, 8, 1], "activation": "relu"})
        res, t = timed(prob, "ipopt")
        fit += res.train_loss < 0.03
        times.append(t)
        mses.append(res.train_loss)
        iters.append(res.iterations)
    print(f"| Table 2.2, {a.runs} seeds | {fit}/{a.runs} fit (MSE < 0.03) | mean {statistics.mean(mses):.4f} | "
          f"median {statistics.median(iters):.0f} | median {statistics.median(times):.2f} | – | – |")


if __name__ == "__main__":
    main()
