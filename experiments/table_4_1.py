"""Thesis Table 4.1: the augmented Lagrangian method (and Adam, when available) on sin(x²).

    python experiments/table_4_1.py [--runs R] [--workers W] [--out DIR] [--seed S] [--quick]

Protocol (DESIGN §4): x = linspace(0, π, N), y = sin(x²) + N(0, 0.1²), one data draw per N
(seed S + N), all N points train; tanh 1-8-8-1 with N ∈ {10, 20, 40}, ReLU 1-16-16-1 with
N ∈ {20, 40, 80}; run r starts from Glorot-uniform weights and zero biases drawn with seed
S + r, shared by every method. ALM: multiple shooting (ReLU as the nonsmooth equality
z = max(a, 0)), ``prob.solve("alm", beta=10, tau=1e-2)`` with the library's other defaults.
Adam: single shooting, lr 1e-3, full batch, ≤ 4000 epochs, EarlyStopping(loss, patience 10);
its column is added when the ``adam`` solver is installed. Converged = final training MSE
< 0.25 (y = 0 gives about 0.55). Averages over converged runs, best over all runs.

Writes ``runs.csv``, ``table.md`` (ours beside the thesis's numbers) and ``histograms.png``
(final training MSE per configuration and method, the thesis's Figure 4.3).
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import nlpnet  # noqa: E402
from nlpnet.runner import experiment_parser, run_trials  # noqa: E402

CONFIGS = {"tanh-N10": ("tanh", [1, 8, 8, 1], 10), "tanh-N20": ("tanh", [1, 8, 8, 1], 20),
           "tanh-N40": ("tanh", [1, 8, 8, 1], 40), "relu-N20": ("relu", [1, 16, 16, 1], 20),
           "relu-N40": ("relu", [1, 16, 16, 1], 40), "relu-N80": ("relu", [1, 16, 16, 1], 80)}
CONVERGED = 0.25


def _alm(act, X, y, net, quick):
    prob = nlpnet.Problem(net, X, y, formulation="multiple_shooting",
                          **({"relu": "equality"} if act == "relu" else {}))
    return prob.solve("alm", beta=10.0, tau=1e-2, **({"max_outer": 3} if quick else {}))


def _adam(act, X, y, net, quick):
    prob = nlpnet.Problem(net, X, y, formulation="single_shooting")
    return prob.solve("adam", learning_rate=1e-3, max_epochs=50 if quick else 4000,
                      early_stopping={"monitor": "loss", "patience": 10})


# method name → how to train one run; "adam" is used only when that solver is installed
METHODS = {"alm": _alm, "adam": _adam}

# thesis Table 4.1: (avg MSE over converged, best MSE, time s, epochs, converged of 20)
THESIS = {
    "alm": {"tanh-N10": (2.10e-1, 1.59e-1, 1.85, 6.38, 16), "tanh-N20": (5.87e-2, 7.69e-3, 8.06, 7.50, 20),
            "tanh-N40": (1.61e-2, 7.90e-3, 11.6, 6.90, 20), "relu-N20": (1.63e-1, 1.08e-2, 4.41, 5.47, 15),
            "relu-N40": (9.89e-2, 1.37e-2, 8.09, 5.11, 18), "relu-N80": (1.02e-1, 1.03e-2, 25.3, 4.21, 14)},
    "adam": {"tanh-N10": (2.09e-2, 1.20e-11, 18.7, 3790, 17), "tanh-N20": (1.25e-2, 9.84e-4, 19.8, 3960, 17),
             "tanh-N40": (2.56e-2, 7.58e-3, 19.2, 3920, 15), "relu-N20": (1.22e-1, 3.15e-3, 30.3, 3500, 5),
             "relu-N40": (6.28e-2, 8.85e-3, 22.4, 2690, 5), "relu-N80": (7.61e-2, 7.64e-3, 29.9, 3150, 4)},
}


def trial(task) -> dict:
    act, sizes, n = CONFIGS[task["config"]]
    X, y = nlpnet.sin_x2_data(n, seed=task["data_seed"])
    net = nlpnet.Network(sizes, activation=act, init="glorot_uniform", seed=task["seed"])
    res = METHODS[task["method"]](act, X, y, net, task["quick"])
    row = {"status": res.status.value, "train_mse": res.train_loss, "test_mse": "", "time_s": res.wall_time,
           "iterations": res.iterations, "message": res.message}
    if task["method"] == "alm":
        row.update(inner_iterations=res.stats.get("inner_iterations"),
                   jacobian_evals=res.stats.get("jacobian_evals"), violation=res.constraint_violation)
    return row


def methods_available() -> list[str]:
    avail = nlpnet.available_solvers()
    return [m for m in METHODS if m in avail]


def summarize(rows, methods) -> str:
    lines = ["# Table 4.1 — ALM vs Adam on y = sin(x²)", "",
             "Converged = final training MSE < 0.25; avg MSE and mean epochs over converged runs, best over all; "
             "time = median wall time per run (ours, this machine) / mean (thesis). Thesis numbers in parentheses.",
             "", "| config | method | converged | avg MSE | best MSE | time (s) | epochs |",
             "|---|---|---|---|---|---|---|"]
    for cfg in CONFIGS:
        for m in methods:
            rs = [r for r in rows if r["config"] == cfg and r["method"] == m]
            if not rs:
                continue
            mse = np.array([float(r["train_mse"]) if r["train_mse"] != "" else np.inf for r in rs])
            ok = mse < CONVERGED
            t = np.array([float(r["time_s"]) for r in rs])
            ep = np.array([float(r["iterations"]) for r in rs])
            th = THESIS.get(m, {}).get(cfg)
            f = (lambda v, w: f"{v:.3g} ({w:.3g})") if th else (lambda v, w: f"{v:.3g}")
            avg = mse[ok].mean() if ok.any() else np.nan
            lines.append(f"| {cfg} | {m} | {ok.sum()}/{len(rs)}" + (f" ({th[4]}/20)" if th else "") +
                         f" | {f(avg, th[0] if th else 0)} | {f(mse.min(), th[1] if th else 0)} | "
                         f"{f(np.median(t), th[2] if th else 0)} | {f(ep[ok].mean() if ok.any() else np.nan, th[3] if th else 0)} |")
    return "\n".join(lines) + "\n"


def plot(rows, methods, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(2, 3, figsize=(12, 6), sharey=False)
    for ax, cfg in zip(axes.ravel(), CONFIGS):
        for m in methods:
            mse = [float(r["train_mse"]) for r in rows if r["config"] == cfg and r["method"] == m
                   and r["train_mse"] != ""]
            if mse:
                ax.hist(np.log10(np.maximum(mse, 1e-12)), bins=15, alpha=0.6, label=m)
        ax.axvline(np.log10(CONVERGED), color="k", ls="--", lw=1)
        ax.set_title(cfg)
        ax.set_xlabel("log10 final training MSE")
    axes[0, 0].legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv=None):
    args = experiment_parser("table_4_1", __doc__.splitlines()[0], runs=20).parse_args(argv)
    runs = 2 if args.quick else args.runs
    configs = ["tanh-N10", "relu-N20"] if args.quick else list(CONFIGS)
    methods = methods_available()
    tasks = [{"config": c, "method": m, "seed": args.seed + r, "data_seed": args.seed + CONFIGS[c][2],
              "quick": args.quick} for c in configs for m in methods for r in range(runs)]
    args.out.mkdir(parents=True, exist_ok=True)
    rows = run_trials(trial, tasks, args.out / "runs.csv", workers=args.workers)
    table = summarize(rows, methods)
    (args.out / "table.md").write_text(table)
    plot(rows, methods, args.out / "histograms.png")
    print(table)


if __name__ == "__main__":
    main()
