"""Collapse of a deep narrow ReLU network fitted to |x| (lecture; Lu, Su & Karniadakis 2018).

    python experiments/collapse.py [--runs R] [--workers W] [--out DIR] [--seed S] [--quick]
                                   [--lifted-runs K] [--epochs E]

A 10-layer ReLU network of width 2 (sizes 1-2-2-2-2-2-2-2-2-2-1: nine hidden ReLU layers
and a linear output, 10 weight layers) with He-normal weights and zero biases is fitted to
y = |x| on N = 50 points of linspace(−√3, √3). Run r uses seed S + r for the weights.
A run has *collapsed* when the trained network's output is constant to 1e-3 on a grid of
201 points over the same interval (max − min < 1e-3). Adam: lr 1e-3, full batch, ≤ E
epochs (default 3000), EarlyStopping(loss, patience 100). The lifted solvers ("ipopt" on
the multiple-shooting formulation; "alm" when registered) are run on the first K seeds
(default 50), from the same initial weights, with a time limit per run (--lifted-time,
default 60 s; IPOPT also stops after 500 iterations).

Reports the collapsed fraction with a 95 % Wilson score interval per method, and also the
share of networks that are already constant at initialisation. Writes ``runs.csv``,
``table.md`` and ``collapse.png`` (fractions with intervals, and example fits).
"""
from __future__ import annotations

import math
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import nlpnet  # noqa: E402
from nlpnet.runner import experiment_parser, read_rows, run_trials  # noqa: E402

SIZES = [1] + [2] * 9 + [1]
LO, HI, N = -math.sqrt(3.0), math.sqrt(3.0), 50
GRID = np.linspace(LO, HI, 201).reshape(-1, 1)
TOL = 1e-3


def make_problem(seed: int, method: str):
    """Adam: single shooting; ipopt: multiple shooting with ReLU by complementarity; alm:
    multiple shooting with ReLU as an equality (the ALM handles equality constraints only)."""
    X, y = nlpnet.abs_data(N, LO, HI)
    net = nlpnet.Network(SIZES, activation="relu", init="he_normal", seed=seed)
    if method == "alm":
        return nlpnet.Problem(net, X, y, formulation="multiple_shooting", relu="equality"), net
    form = "multiple_shooting" if method == "ipopt" else "single_shooting"
    return nlpnet.Problem(net, X, y, formulation=form), net


def spread(net) -> float:
    out = net.predict(GRID)
    return float(out.max() - out.min())


def trial(task) -> dict:
    method = task["method"]
    prob, net0 = make_problem(task["seed"], method)
    t = time.perf_counter()
    if method == "adam":
        res = prob.solve("adam", learning_rate=1e-3, max_epochs=task["epochs"],
                         early_stopping={"monitor": "loss", "patience": 100})
    elif method == "ipopt":
        res = prob.solve("ipopt", max_iter=500, max_time=task["max_time"])
    else:
        opts = {"max_time": task["max_time"]} if "max_time" in _option_names(method) else {}
        res = prob.solve(method, **opts)
    s = spread(res.network)
    return {"status": res.status.value, "train_mse": res.train_loss, "test_mse": "",
            "time_s": time.perf_counter() - t, "iterations": res.iterations,
            "spread": s, "collapsed": int(s < TOL), "spread_init": spread(net0), "collapsed_init": int(spread(net0) < TOL)}


def _option_names(method):
    import dataclasses
    from nlpnet.solvers import get_solver
    return {f.name for f in dataclasses.fields(get_solver(method).options)}


def wilson(k: int, n: int, z: float = 1.959964) -> tuple[float, float]:
    """95 % Wilson score interval for a binomial proportion k/n."""
    if n == 0:
        return (float("nan"), float("nan"))
    p = k / n
    d = 1 + z * z / n
    c = (p + z * z / (2 * n)) / d
    h = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return max(0.0, c - h), min(1.0, c + h)


def summarize(rows, out: Path, command: str):
    by = defaultdict(list)
    for r in rows:
        if r.get("collapsed", "") != "":
            by[r["method"]].append(r)
    lines = ["# Collapse of a 10-layer width-2 ReLU network on |x|\n", f"Command: `{command}`\n",
             "Collapsed = output constant to 1e-3 on a 201-point grid. 95 % Wilson intervals. "
             "Lecture (Lu et al. 2018): about 93 % of runs collapse to the mean (> 90 %).\n",
             "| method | runs | collapsed | fraction | 95 % CI | constant at init | median train MSE | mean time s |",
             "|---|---|---|---|---|---|---|---|"]
    stats = {}
    for m, rs in by.items():
        k, n = sum(int(r["collapsed"]) for r in rs), len(rs)
        k0 = sum(int(r["collapsed_init"]) for r in rs)
        lo, hi = wilson(k, n)
        stats[m] = (k / n, lo, hi)
        mse = np.median([float(r["train_mse"]) for r in rs if r["train_mse"] != ""])
        t = np.mean([float(r["time_s"]) for r in rs])
        lines.append(f"| {m} | {n} | {k} | {k / n:.3f} | [{lo:.3f}, {hi:.3f}] | {k0}/{n} | {mse:.3g} | {t:.2f} |")
    (out / "table.md").write_text("\n".join(lines) + "\n")
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(1, 2, figsize=(11, 4))
    names = list(stats)
    f = [stats[m][0] for m in names]
    err = [[stats[m][0] - stats[m][1] for m in names], [stats[m][2] - stats[m][0] for m in names]]
    ax[0].bar(names, f, yerr=err, capsize=6, color="tab:gray")
    ax[0].set_ylim(0, 1)
    ax[0].set_ylabel("collapsed fraction (95 % Wilson CI)")
    ax[0].axhline(0.93, ls="--", color="tab:red", label="lecture ≈ 93 %")
    ax[0].legend()
    adam = by.get("adam", [])
    shown = {}
    for r in adam:
        shown.setdefault(int(r["collapsed"]), r["seed"])
    X, y = nlpnet.abs_data(N, LO, HI)
    ax[1].plot(X, y, "k.", ms=3, label="data |x|")
    for c, seed in sorted(shown.items()):
        prob, _ = make_problem(int(seed), "adam")
        res = prob.solve("adam", learning_rate=1e-3, max_epochs=int(adam[0].get("epochs_used", 3000) or 3000),
                         early_stopping={"monitor": "loss", "patience": 100})
        ax[1].plot(GRID, res.network.predict(GRID), label=f"Adam seed {seed} ({'collapsed' if c else 'fit'})")
    ax[1].legend(fontsize=8)
    ax[1].set_title("example Adam fits")
    fig.tight_layout()
    fig.savefig(out / "collapse.png", dpi=120)
    plt.close(fig)


def main(argv=None):
    p = experiment_parser("collapse", __doc__.splitlines()[0], runs=1000)
    p.add_argument("--lifted-runs", type=int, default=50, help="seeds run with the lifted solvers (default 50)")
    p.add_argument("--epochs", type=int, default=3000, help="Adam epoch cap (default 3000)")
    p.add_argument("--lifted-time", type=float, default=60.0, help="time limit s per lifted run (default 60)")
    a = p.parse_args(argv)
    runs, lifted, epochs, max_time = (20, 1, 300, 5.0) if a.quick else (a.runs, a.lifted_runs, a.epochs, a.lifted_time)
    solvers = nlpnet.available_solvers()
    lifted_methods = [m for m in ("ipopt", "alm") if m in solvers]
    tasks = [{"config": "relu-10x2", "method": "adam", "seed": a.seed + r, "epochs": epochs, "max_time": max_time,
              "epochs_used": epochs} for r in range(runs)]
    tasks += [{"config": "relu-10x2", "method": m, "seed": a.seed + r, "epochs": epochs, "max_time": max_time}
              for m in lifted_methods for r in range(min(lifted, runs))]
    a.out.mkdir(parents=True, exist_ok=True)
    run_trials(trial, tasks, a.out / "runs.csv", workers=a.workers)
    command = ("python experiments/collapse.py " + " ".join(sys.argv[1:] if argv is None else argv)).strip()
    summarize(read_rows(a.out / "runs.csv"), a.out, command)
    print((a.out / "table.md").read_text())


if __name__ == "__main__":
    main()
