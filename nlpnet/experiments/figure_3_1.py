"""Thesis Figures 3.1/4.1: ALM convergence — ‖∇_u L_β‖ and the training loss per outer iteration.

Problem: the Table 4.1 tanh 1-8-8-1 net on x = linspace(0, π, 40), y = sin(x²) + N(0, 0.1²)
(data seed S + 40), Glorot-uniform weights (seed S + r). The thesis ran 10 outer iterations
without the stagnation stop to show the behaviour; so does this experiment (``tau=None``,
``max_iter=10``; ``--quick``: 3). Writes ``runs.csv`` (one row per run, with the
per-iteration history as space-separated columns), ``table.md`` (per-iteration medians) and
``convergence.png``.
"""
from __future__ import annotations

import numpy as np

import nlpnet

from ..plotting import panel_grid, plot_training_curves, save
from .published import fmt, markdown_table, write_report

TITLE = "Figure 3.1 — ALM convergence (tanh 1-8-8-1, N = 40)"
N = 40
HISTORY = ("grad_norm", "loss", "h_norm", "beta", "jacobian_evals")
COLUMNS = HISTORY


def trial(task) -> dict:
    X, y = nlpnet.sin_x2_data(N, seed=task["data_seed"])
    net = nlpnet.Network([1, 8, 8, 1], activation="tanh", seed=task["seed"])
    res = nlpnet.Problem(net, X, y).solve("alm", beta=10.0, tau=None, max_iter=3 if task["quick"] else 10)
    row = {"status": res.status.value, "train_mse": res.train_loss, "test_mse": "", "time_s": res.wall_time,
           "iterations": res.iterations, "message": res.message}
    for c in HISTORY:
        row[c] = " ".join(f"{v:.6g}" for v in res.history[c])
    return row


def tasks(args) -> list[dict]:
    return [{"config": f"tanh-N{N}", "method": "alm", "seed": args.seed + r, "data_seed": args.seed + N,
             "quick": args.quick} for r in range(args.runs)]


def _series(rows):
    return {c: [np.array(str(r[c]).split(), float) for r in rows if r.get(c, "") != ""] for c in HISTORY}


def report(rows, args, out, command) -> str:
    hist = _series(rows)
    k = min((len(h) for h in hist["grad_norm"]), default=0)
    table = []
    for i in range(k):
        med = {c: np.median([h[i] for h in hist[c]]) for c in HISTORY}
        table.append([i + 1, fmt(med["beta"]), fmt(med["grad_norm"]), fmt(med["h_norm"]),
                      fmt(med["loss"], ".4g"), fmt(med["jacobian_evals"], "d")])
    notes = ("Median over runs per outer iteration. The thesis shows ‖∇L_β‖ falling geometrically with the inner "
             "tolerance and the loss reaching its minimum after about 6 outer iterations (it gives no table).")
    text = write_report(out, TITLE, command, [notes, markdown_table(
        ["outer iteration", "β", "‖∇L_β‖∞", "‖h‖", "training MSE", "Jacobian evaluations"], table)])
    if k:
        fig, (a1, a2) = panel_grid(2, 2, panel=(5.2, 3.6))
        seeds = [r["seed"] for r in rows if r.get("grad_norm", "") != ""]
        plot_training_curves({f"seed {s}": (np.arange(1, len(h) + 1), h) for s, h in zip(seeds, hist["grad_norm"])},
                             ax=a1, xlabel="outer iteration", ylabel="‖∇_u L_β‖∞", legend=False)
        plot_training_curves({f"seed {s}": (np.arange(1, len(h) + 1), h) for s, h in zip(seeds, hist["loss"])},
                             ax=a2, xlabel="outer iteration", ylabel="training MSE")
        fig.suptitle("ALM per outer iteration, tanh 1-8-8-1, N = 40")
        save(fig, out / "convergence.png")
    return text
