"""Time per full-batch Adam epoch (loss + back-propagated gradient + Adam update + bookkeeping).

    python benchmarks/backprop_epoch.py [--epochs E] [--reps R] [--quick]

Each case trains ``E`` epochs from the same initial weights ``R`` times through the public
``prob.solve("adam", ...)`` and reports the median and minimum of (wall time of the
training loop) / epochs; compilation of the loss/gradient Function is done once before
the timed runs (it is cached per problem) and reported separately. When ``torch`` is
importable (the optional ``bench`` extra), PyTorch's full-batch Adam epoch on the same net,
weights and data (float64, ``torch.set_num_threads(1)``, the same number of epochs) is
timed beside it in the same run and the ratio ours / PyTorch printed.
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


def torch_epoch(net, X, y, epochs, reps):
    """Median seconds per full-batch Adam epoch of the same net in PyTorch, or None."""
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(1)
    acts = {"tanh": torch.nn.Tanh, "relu": torch.nn.ReLU, "sigmoid": torch.nn.Sigmoid}
    layers = []
    for k, ((W, b), act) in enumerate(zip(net.get_weights(), net.activations)):
        lin = torch.nn.Linear(W.shape[1], W.shape[0], bias=b is not None, dtype=torch.float64)
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(W))
            if b is not None:
                lin.bias.copy_(torch.from_numpy(b))
        layers.append(lin)
        if act.name != "identity":
            layers.append(acts[act.name]())
    model = torch.nn.Sequential(*layers)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    Xt, yt = torch.from_numpy(np.asarray(X, float)), torch.from_numpy(np.asarray(y, float).reshape(len(X), -1))
    per = []
    for _ in range(reps):
        t = time.perf_counter()
        for _ in range(epochs):
            opt.zero_grad()
            loss = ((model(Xt) - yt) ** 2).sum(dim=1).mean()
            loss.backward()
            opt.step()
        per.append((time.perf_counter() - t) / epochs)
    return statistics.median(per)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=HelpFormatter)
    ap.add_argument("--epochs", type=int, default=2000, help="epochs per timed run (1/20 of it for the large case)")
    ap.add_argument("--reps", type=int, default=7, help="timed runs per case (median and minimum reported)")
    ap.add_argument("--quick", action="store_true", help="smoke run: 40 epochs, 1 repetition")
    a = ap.parse_args(argv)
    if a.quick:
        a.epochs, a.reps = 40, 1
    print(f"{'case':34s} {'params':>7s} {'compile ms':>10s} {'median ms/epoch':>16s} {'min ms/epoch':>13s} "
          f"{'PyTorch ms/epoch':>17s} {'ratio':>6s}")
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
        ref = torch_epoch(net, X, y, epochs, a.reps)
        med = statistics.median(per)
        ref_s = f"{ref * 1e3:17.4f} {med / ref:6.2f}" if ref else f"{'–':>17s} {'–':>6s}"
        print(f"{label:34s} {net.n_params:7d} {t_compile * 1e3:10.1f} {med * 1e3:16.4f} "
              f"{min(per) * 1e3:13.4f} {ref_s}")


if __name__ == "__main__":
    main()
