"""Thesis Table 4.1: the augmented Lagrangian method versus Adam on y = sin(x²).

Protocol (DESIGN §4): x = linspace(0, π, N), y = sin(x²) + N(0, 0.1²), one data draw per N
(seed S + N), all N points train; tanh 1-8-8-1 with N ∈ {10, 20, 40}, ReLU 1-16-16-1 with
N ∈ {20, 40, 80}; run r starts from Glorot-uniform weights and zero biases drawn with seed
S + r, shared by both methods. ALM: multiple shooting (ReLU as the nonsmooth equality
z = max(a, 0)), ``prob.solve("alm", beta=10, tau=1e-2)`` with the library's other defaults.
Adam: single shooting, lr 1e-3, full batch, ≤ 4000 epochs, EarlyStopping(loss, patience 10).
Converged = final training MSE < 0.25 (y = 0 gives about 0.55). Averages over converged
runs, best over all runs. ``--quick``: the tanh N = 10 and ReLU N = 20 rows, ALM ≤ 3 outer
iterations, Adam ≤ 50 epochs.

Writes ``runs.csv``, ``table.md`` (ours beside the thesis's numbers) and ``histograms.png``
(final training MSE per configuration and method, the thesis's Figure 4.3).
"""
from __future__ import annotations

import nlpnet

from ..analysis import group_rows, summarize
from ..plotting import legend_outside, panel_grid, plot_histogram, save
from .published import CONVERGED_MSE, TABLE_4_1_CONFIGS, THESIS_TABLE_4_1, beside, markdown_table, write_report

TITLE = "Table 4.1 — ALM vs Adam on y = sin(x²)"
COLUMNS = ("inner_iterations", "jacobian_evals", "violation")
METHODS = ("alm", "adam")
QUICK_CONFIGS = ("tanh-N10", "relu-N20")


def solve(task):
    act, sizes, n = TABLE_4_1_CONFIGS[task["config"]]
    X, y = nlpnet.sin_x2_data(n, seed=task["data_seed"])
    net = nlpnet.Network(sizes, activation=act, init="glorot_uniform", seed=task["seed"])
    if task["method"] == "alm":
        prob = nlpnet.Problem(net, X, y, formulation="multiple_shooting",
                              **({"relu": "equality"} if act == "relu" else {}))
        return prob.solve("alm", beta=10.0, tau=1e-2, **({"max_iter": 3} if task["quick"] else {}))
    prob = nlpnet.Problem(net, X, y, formulation="single_shooting")
    return prob.solve("adam", learning_rate=1e-3, max_iter=50 if task["quick"] else 4000,
                      early_stopping={"monitor": "loss", "patience": 10})


def trial(task) -> dict:
    res = solve(task)
    row = {"status": res.status.value, "train_mse": res.train_loss, "test_mse": "", "time_s": res.wall_time,
           "iterations": res.iterations, "message": res.message}
    if task["method"] == "alm":
        row.update(inner_iterations=res.stats.get("inner_iterations"),
                   jacobian_evals=res.stats.get("jacobian_evals"), violation=res.constraint_violation)
    return row


def tasks(args) -> list[dict]:
    configs = QUICK_CONFIGS if args.quick else tuple(TABLE_4_1_CONFIGS)
    return [{"config": c, "method": m, "seed": args.seed + r, "data_seed": args.seed + TABLE_4_1_CONFIGS[c][2],
             "quick": args.quick} for c in configs for m in METHODS for r in range(args.runs)]


def table(rows) -> str:
    by = group_rows(rows, "config", "method")
    out = []
    for cfg in TABLE_4_1_CONFIGS:
        for m in METHODS:
            rs = by.get((cfg, m))
            if not rs:
                continue
            s = summarize(rs, "train_mse", CONVERGED_MSE)
            th = THESIS_TABLE_4_1[m][cfg]
            out.append([cfg, m, f"{s.converged}/{s.runs} ({th[4]}/20)", beside(s.mean_converged, th[0]),
                        beside(s.best, th[1]), beside(s.median_time, th[2]), beside(s.mean_iterations_converged, th[3])])
    return markdown_table(["config", "method", "converged", "avg MSE (converged)", "best MSE", "time [s]",
                           "epochs / outer iterations"], out)


def plot(rows, path) -> None:
    by = group_rows(rows, "config", "method")
    configs = [c for c in TABLE_4_1_CONFIGS if any((c, m) in by for m in METHODS)]
    if not configs:
        return
    fig, axes = panel_grid(len(configs))
    for ax, cfg in zip(axes, configs):
        vals = {m: [r["train_mse"] for r in by[(cfg, m)]] for m in METHODS if (cfg, m) in by}
        plot_histogram(vals, ax=ax, bins=15, threshold=CONVERGED_MSE,
                       threshold_label=f"converged: MSE < {CONVERGED_MSE}", legend=False)
        ax.set_title(cfg)
    legend_outside(axes[min(2, len(axes) - 1)])
    fig.suptitle("Final training MSE per run (thesis Figure 4.3)")
    save(fig, path)


def report(rows, args, out, command) -> str:
    notes = ("Converged = final training MSE < 0.25; avg MSE and mean epochs (ALM: outer iterations) over "
             "converged runs, best over all runs; time = median wall time per run on this machine (thesis: mean). "
             "Thesis numbers in parentheses.")
    text = write_report(out, TITLE, command, [notes, table(rows)])
    plot(rows, out / "histograms.png")
    return text
