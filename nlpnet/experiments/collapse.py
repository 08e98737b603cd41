"""Collapse of a deep narrow ReLU network fitted to |x| (lecture; Lu, Su & Karniadakis 2018).

A 10-layer ReLU network of width 2 (sizes 1-2-2-2-2-2-2-2-2-2-1: nine hidden ReLU layers
and a linear output, 10 weight layers) with He-normal weights and zero biases is fitted to
y = |x| on N = 50 points of linspace(−√3, √3). Run r uses seed S + r for the weights.
A run has *collapsed* when the trained network's output is constant to 1e-3 on a grid of
201 points over the same interval (max − min < 1e-3). Adam: lr 1e-3, full batch, ≤ E
epochs (``--epochs``, default 3000), EarlyStopping(loss, patience 100). The lifted solvers
(``ipopt`` on the multiple-shooting formulation with ReLU by complementarity; ``alm`` with
ReLU as an equality) run on the first K seeds (``--lifted-runs``, default 50) from the same
initial weights, with a time limit per run (``--lifted-time``, default 60 s; IPOPT also
stops after 500 iterations). ``--quick``: 20 Adam runs of ≤ 300 epochs, 1 lifted run per
solver, 2 s each.

Reports the collapsed fraction with a 95 % Wilson score interval per method, and also the
share of networks that are already constant at initialisation. Writes ``runs.csv``,
``table.md`` and ``collapse.png`` (fractions with intervals, and example fits).
"""
from __future__ import annotations

import math

import numpy as np

import nlpnet

from ..analysis import as_float, group_rows, wilson
from ..plotting import legend_outside, panel_grid, pretty, save
from .base import nonnegative_int
from .published import LECTURE, fmt, markdown_table, write_report

TITLE = "Collapse of a 10-layer width-2 ReLU network on |x|"
COLUMNS = ("spread", "collapsed", "spread_init", "collapsed_init")
SIZES = [1] + [2] * 9 + [1]
LO, HI, N = -math.sqrt(3.0), math.sqrt(3.0), 50
GRID = np.linspace(LO, HI, 201).reshape(-1, 1)
TOL = 1e-3
LIFTED = ("ipopt", "alm")


def add_arguments(p):
    p.add_argument("--lifted-runs", type=nonnegative_int, default=50, help="seeds run with the lifted solvers (default 50)")
    p.add_argument("--epochs", type=nonnegative_int, default=3000, help="Adam epoch cap (default 3000)")
    p.add_argument("--lifted-time", type=float, default=60.0, help="time limit per lifted run in s (default 60)")


def check_arguments(parser, args):
    if not (math.isfinite(args.lifted_time) and args.lifted_time > 0):
        parser.error(f"argument --lifted-time: must be a positive number of seconds, got {args.lifted_time}")
    if args.quick:
        args.lifted_runs, args.epochs, args.lifted_time = 1, 300, 2.0


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


def solve(task):
    prob, net0 = make_problem(task["seed"], task["method"])
    if task["method"] == "adam":
        res = prob.solve("adam", learning_rate=1e-3, max_iter=task["epochs"],
                         early_stopping={"monitor": "loss", "patience": 100})
    elif task["method"] == "ipopt":
        res = prob.solve("ipopt", max_iter=500, max_time=task["max_time"])
    else:
        res = prob.solve(task["method"], max_time=task["max_time"])
    return net0, res


def trial(task) -> dict:
    net0, res = solve(task)
    s, s0 = spread(res.network), spread(net0)
    return {"status": res.status.value, "train_mse": res.train_loss, "test_mse": "", "time_s": res.wall_time,
            "iterations": res.iterations, "message": res.message, "spread": s, "collapsed": int(s < TOL),
            "spread_init": s0, "collapsed_init": int(s0 < TOL)}


def tasks(args, config="relu-10x2") -> list[dict]:
    base = {"config": config, "epochs": args.epochs, "max_time": args.lifted_time}
    out = [{**base, "method": "adam", "seed": args.seed + r} for r in range(args.runs)]
    return out + [{**base, "method": m, "seed": args.seed + r} for m in LIFTED
                  for r in range(min(args.lifted_runs, args.runs))]


def fractions(rows) -> dict:
    """method → (runs, collapsed, fraction, (lo, hi), constant at init, median train MSE, mean time)."""
    out = {}
    for m, rs in group_rows([r for r in rows if r.get("collapsed", "") != ""], "method").items():
        k, n = sum(int(r["collapsed"]) for r in rs), len(rs)
        mse = [as_float(r["train_mse"]) for r in rs]
        out[m] = (n, k, k / n, wilson(k, n), sum(int(r["collapsed_init"]) for r in rs),
                  float(np.nanmedian(mse)), float(np.mean([as_float(r["time_s"]) for r in rs])))
    return out


def report(rows, args, out, command) -> str:
    stats = fractions(rows)
    table = [[m, n, k, f"{f:.3f}" + (f" ({LECTURE['collapse_fraction']:.2f})" if m == "adam" else ""),
              f"[{lo:.3f}, {hi:.3f}]", f"{k0}/{n}", fmt(mse), fmt(t, ".2f")]
             for m, (n, k, f, (lo, hi), k0, mse, t) in stats.items()]
    notes = ("Collapsed = output constant to 1e-3 on a 201-point grid; 95 % Wilson intervals. Lecture (Lu et al. "
             "2018), in parentheses: about 93 % of runs collapse to the mean, whatever the optimizer.")
    text = write_report(out, TITLE, command, [notes, markdown_table(
        ["method", "runs", "collapsed", "fraction (lecture)", "95 % CI", "constant at initialisation",
         "median train MSE", "mean time [s]"], table)])
    if stats:
        _plot(stats, rows, args, out / "collapse.png")
    return text


def _plot(stats, rows, args, path):
    fig, (a0, a1) = panel_grid(2, 2, panel=(5.2, 3.8))
    names = list(stats)
    f = [stats[m][2] for m in names]
    err = [[stats[m][2] - stats[m][3][0] for m in names], [stats[m][3][1] - stats[m][2] for m in names]]
    a0.bar([pretty(m) for m in names], f, yerr=err, capsize=6, color="tab:gray", label="ours, 95 % CI")
    a0.axhline(LECTURE["collapse_fraction"], ls="--", color="tab:red", label="lecture ≈ 93 %")
    a0.set_ylim(0, 1)
    a0.set_ylabel("collapsed fraction of runs")
    a0.set_xlabel("method")
    legend_outside(a0)
    shown = {}
    for r in rows:
        if r["method"] == "adam" and r.get("collapsed", "") != "":
            shown.setdefault(int(r["collapsed"]), int(r["seed"]))
    X, y = nlpnet.abs_data(N, LO, HI)
    a1.plot(X, y, "k.", ms=3, label="data |x|")
    for c, seed in sorted(shown.items()):
        _, res = solve({"method": "adam", "seed": seed, "epochs": args.epochs})
        a1.plot(GRID, res.network.predict(GRID), label=f"Adam, seed {seed} ({'collapsed' if c else 'not collapsed'})")
    a1.set_xlabel("input x")
    a1.set_ylabel("output y")
    a1.set_title("example Adam fits")
    legend_outside(a1)
    save(fig, path)
