"""Every back-propagation optimizer on the Table 4.1 problems, with Dolan–Moré profiles.

Problems (thesis Table 4.1 protocol): x = linspace(0, π, N), y = sin(x²) + N(0, 0.1²) (one
data draw per N, seed S + N), all N points train; tanh 1-8-8-1 with N ∈ {10, 20, 40} and
ReLU 1-16-16-1 with N ∈ {20, 40, 80}; run r starts from Glorot-uniform weights and zero
biases drawn with seed S + r, the same for every method. Every method gets the Adam
protocol's budget: full batch, ≤ 4000 epochs (iterations), EarlyStopping(loss,
patience 10), each optimizer's default hyper-parameters (Adam: lr 1e-3; ``adam_lbfgs``:
then ≤ 500 L-BFGS iterations). Converged = final training MSE < 0.25. ``--quick``: the
tanh N = 10 and ReLU N = 20 rows, 200 epochs.

Writes ``runs.csv``, ``table.md`` (converged counts, mean MSE over converged runs, best
MSE, mean time and epochs, with the thesis's and PyTorch's Adam beside ours) and
``profile.png``: performance profiles over all (problem, run) pairs of the final training
MSE and of the wall time, a non-converged run counting as a failure.
"""
from __future__ import annotations

import time

import numpy as np

import nlpnet

from ..analysis import group_rows, summarize
from ..plotting import panel_grid, plot_performance_profile, save
from .published import (CONVERGED_MSE, PYTORCH_ADAM_TABLE_4_1, TABLE_4_1_CONFIGS, THESIS_TABLE_4_1, fmt,
                        markdown_table, write_report)

TITLE = "Back-propagation optimizers on the Table 4.1 problems"
COLUMNS = ()
METHODS = ("adam", "gd", "momentum", "nesterov", "adagrad", "adadelta", "rmsprop", "nadam", "ssa1", "ssa2",
           "lbfgs", "adam_lbfgs", "lm_backprop")
QUICK_CONFIGS = ("tanh-N10", "relu-N20")


def add_arguments(p):
    p.add_argument("--methods", default=",".join(METHODS), help="comma-separated solver names (default: all 13)")


def check_arguments(parser, args):
    args.method_list = [m for m in args.methods.split(",") if m]
    unknown = [m for m in args.method_list if m not in nlpnet.available_solvers()]
    if unknown or not args.method_list:
        parser.error(f"argument --methods: unknown solver(s) {unknown}; available: "
                     f"{', '.join(nlpnet.available_solvers())}")


def trial(task) -> dict:
    act, sizes, n = TABLE_4_1_CONFIGS[task["config"]]
    X, y = nlpnet.sin_x2_data(n, seed=task["data_seed"])
    net = nlpnet.Network(sizes, activation=act, init="glorot_uniform", seed=task["seed"])
    prob = nlpnet.Problem(net, X, y, formulation="single_shooting")
    opts = {"max_iter": task["epochs"], "early_stopping": {"monitor": "loss", "patience": 10}}
    if task["method"] == "adam_lbfgs":
        opts["lbfgs_iter"] = 500
    t = time.perf_counter()
    res = prob.solve(task["method"], **opts)
    return {"status": res.status.value, "train_mse": res.train_loss, "test_mse": "",
            "time_s": time.perf_counter() - t, "iterations": res.iterations, "message": res.message}


def tasks(args) -> list[dict]:
    configs = QUICK_CONFIGS if args.quick else tuple(TABLE_4_1_CONFIGS)
    epochs = 200 if args.quick else 4000
    return [{"config": c, "method": m, "seed": args.seed + r, "data_seed": args.seed + TABLE_4_1_CONFIGS[c][2],
             "epochs": epochs} for c in configs for m in args.method_list for r in range(args.runs)]


def report(rows, args, out, command) -> str:
    by = group_rows(rows, "config", "method")
    methods = [m for m in args.method_list if any(k[1] == m for k in by)]
    table = []
    for cfg in TABLE_4_1_CONFIGS:
        for m in methods:
            rs = by.get((cfg, m))
            if not rs:
                continue
            s = summarize(rs, "train_mse", CONVERGED_MSE)
            th = THESIS_TABLE_4_1["adam"][cfg] if m == "adam" else None
            table.append([cfg, m, f"{s.converged}/{s.runs}", fmt(s.mean_converged), fmt(s.best), fmt(s.mean_time),
                          fmt(np.mean([r["iterations"] or 0 for r in rs]), ".0f"),
                          f"{fmt(th[0])} / {fmt(th[1])} / {th[4]}" if th else "",
                          str(PYTORCH_ADAM_TABLE_4_1[cfg]) if th else ""])
    notes = ("Converged = final training MSE < 0.25. Avg MSE over converged runs, best over all runs; time and "
             "epochs averaged over all runs. Thesis Adam: avg / best / converged of 20; PyTorch Adam (same protocol, "
             "issue 4): converged of 20.")
    text = write_report(out, TITLE, command, [notes, markdown_table(
        ["config", "method", "converged", "avg MSE (converged)", "best MSE", "avg time [s]", "avg epochs",
         "thesis Adam", "PyTorch Adam"], table)])
    problems = sorted({(r["config"], r["seed"]) for r in rows})
    if problems and methods:
        idx = {p: i for i, p in enumerate(problems)}
        mse = {m: np.full(len(problems), np.inf) for m in methods}
        wall = {m: np.full(len(problems), np.inf) for m in methods}
        for r in rows:
            if r["method"] in mse and isinstance(r["train_mse"], float) and r["train_mse"] < CONVERGED_MSE:
                mse[r["method"]][idx[(r["config"], r["seed"])]] = r["train_mse"]
                wall[r["method"]][idx[(r["config"], r["seed"])]] = float(r["time_s"])
        fig, (a1, a2) = panel_grid(2, 2, panel=(6.2, 4.4))
        plot_performance_profile(mse, ax=a1, metric="final MSE", title="final training MSE", legend=False)
        plot_performance_profile(wall, ax=a2, metric="time", title="wall time")
        fig.suptitle(f"Performance profiles over {len(problems)} (problem, run) pairs; failure: MSE ≥ {CONVERGED_MSE}")
        save(fig, out / "profile.png")
    return text
