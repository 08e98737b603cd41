"""Time per full-batch Adam epoch (loss + back-propagated gradient + Adam update + bookkeeping).

    python benchmarks/backprop_epoch.py [--epochs E] [--reps R] [--quick]

Each case trains ``E`` epochs from the same initial weights ``R`` times through the public
``prob.solve("adam", ...)`` and reports the median and minimum of (wall time of the
training loop) / epochs; compilation of the loss/gradient Function is done once before
the timed runs (it is cached per problem) and reported separately.
"""
from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

import nlpnet


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """--help shows the module docstring as written and every flag's default."""


def cases():
    X, y = nlpnet.sin_x2_data(40, seed=0)
    yield "1-8-8-1 tanh, N=40", nlpnet.Network([1, 8, 8, 1], activation="tanh", seed=0), X, y
    X, y = nlpnet.sin_x2_data(80, seed=0)
    yield "1-16-16-1 relu, N=80", nlpnet.Network([1, 16, 16, 1], activation="relu", seed=0), X, y
    try:
        sf = nlpnet.santafe_windows(80)
        X, y, src = sf.X[:600], sf.y[:600], "Santa Fe"
    except Exception:  # data not available: random data of the same shape
        rng = np.random.default_rng(0)
        X, y, src = rng.standard_normal((600, 80)), rng.standard_normal((600, 1)), "random"
    yield f"80-48-1 tanh, N=600 ({src})", nlpnet.Network([80, 48, 1], activation="tanh", seed=0), X, y


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=HelpFormatter)
    ap.add_argument("--epochs", type=int, default=2000, help="epochs per timed run (1/20 of it for the large case)")
    ap.add_argument("--reps", type=int, default=7, help="timed runs per case (median and minimum reported)")
    ap.add_argument("--quick", action="store_true", help="smoke run: 40 epochs, 1 repetition")
    a = ap.parse_args(argv)
    if a.quick:
        a.epochs, a.reps = 40, 1
    print(f"{'case':34s} {'params':>7s} {'compile ms':>10s} {'median ms/epoch':>16s} {'min ms/epoch':>13s}")
    for label, net, X, y in cases():
        prob = nlpnet.Problem(net, X, y, formulation="single_shooting")
        t = time.perf_counter()
        prob.solve("adam", max_iter=1)
        t_compile = time.perf_counter() - t
        epochs = a.epochs if net.n_params * X.shape[0] < 1e5 else max(a.epochs // 20, 20)
        per = []
        for _ in range(a.reps):
            r = prob.solve("adam", learning_rate=1e-3, max_iter=epochs)
            per.append(r.history["time"][-1] / r.iterations)
        print(f"{label:34s} {net.n_params:7d} {t_compile * 1e3:10.1f} {statistics.median(per) * 1e3:16.4f} "
              f"{min(per) * 1e3:13.4f}")


if __name__ == "__main__":
    main()
