"""How IPOPT should treat ReLU complementarity: homotopy strategies on the Table 2.2 problem.

Runs the Table 2.2 protocol (ReLU 1-8-8-1 by complementarity, 16 training points, the
chapter-2 data, split and Nguyen–Widrow weights of seed r) with several settings of the
``ipopt`` solver and prints, per strategy, how many runs fit (training MSE < 0.03), the
median IPOPT iterations, the median wall time per run, the mean training MSE and the worst complementarity error
max |z − max(a, 0)| over all runs.

    python benchmarks/complementarity.py [--runs 10] [--quick]
"""
from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from nlpnet.experiments.chapter2 import make_problem  # noqa: E402


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """--help shows the module docstring as written and every flag's default."""


STRATEGIES = {
    "eps 1e-2..1e-8, no branch NLP": dict(homotopy=(1e-2, 1e-4, 1e-6, 1e-8), polish=False),
    "eps 1e-2,1e-4 (tol 1e-8) + branch NLP": dict(homotopy=(1e-2, 1e-4), polish=True, stage_tol=1e-8),
    "eps 1e-2 (tol 1e-4) + branch NLP": dict(homotopy=(1e-2,), polish=True),
    "default: eps 1e-2,1e-4 (tol 1e-4) + branch NLP": dict(),
}


def complementarity_error(res, X) -> float:
    """max |z − max(a, 0)| over every hidden unit and sample, a recomputed from the weights."""
    Z = X
    err = 0.0
    for k, (W, b) in enumerate(res.network.get_weights()[:-1]):
        z = res.states[f"z{k + 1}"]
        a = Z @ W.T + b
        err = max(err, float(np.max(np.abs(z - np.maximum(a, 0.0)))))
        Z = z
    return err


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=HelpFormatter)
    p.add_argument("--runs", type=int, default=10, help="seeds 0..runs-1 of the Table 2.2 protocol")
    p.add_argument("--quick", action="store_true", help="smoke run: one seed")
    a = p.parse_args(argv)
    if a.quick:
        a.runs = 1
    print(f"Table 2.2 problem, seeds 0..{a.runs - 1}")
    print(f"{'strategy':48s} {'fit<0.03':>9s} {'med iters':>10s} {'med time s':>11s} {'mean MSE':>9s} {'max |z-relu(a)|':>16s}")
    for name, opts in STRATEGIES.items():
        fit, iters, times, errs, mses = 0, [], [], [], []
        for seed in range(a.runs):
            prob = make_problem({"seed": seed, "sizes": [1, 8, 8, 1], "activation": "relu"})
            res = prob.solve("ipopt", **opts)
            fit += res.train_loss < 0.03
            mses.append(res.train_loss)
            iters.append(res.iterations)
            times.append(res.wall_time)
            errs.append(complementarity_error(res, prob.X))
        print(f"{name:48s} {fit:>5d}/{a.runs:<3d} {statistics.median(iters):>10.0f} "
              f"{statistics.median(times):>11.2f} {statistics.mean(mses):>9.4f} {max(errs):>16.1e}", flush=True)


if __name__ == "__main__":
    main()
