"""Thesis chapter 2: Tables 2.1 (tanh 1-3-3-1) and 2.2 (ReLU 1-8-8-1 by complementarity),
the experiments ``table_2_1`` and ``table_2_2`` (:data:`TABLE_2_1`, :data:`TABLE_2_2`).

Per run r (seed S + r), one generator drives, in this order: the data draw
x = linspace(0, 1, 20), y = −sin(0.8πx) + N(0, 0.1²); the random 16/4 train/test split
(MATLAB ``dividerand(20, 0.8, 0, 0.2)``); and the Nguyen–Widrow initial weights for the
input range [0, 1]. Every method of a run therefore sees the same data and starts from the
same weights. Methods:

* ``ms_ipopt``      multiple shooting, IPOPT with the library defaults (to convergence);
* ``ms_ipopt_it40`` the thesis's budget: at most 40 IPOPT iterations (fmincon MaxIter 40);
* ``gd``            back-propagation gradient descent, lr 0.01, 2000 epochs (MATLAB ``traingd``).

A run *fits* when its training MSE is below 0.03. The thesis's multiple-shooting training
numbers are sums of squares over the 16 points (its code minimises ``res*res'``); the table
shows them divided by 16.
"""
from __future__ import annotations

import numpy as np

import nlpnet

from ..analysis import as_float, group_rows, summarize
from ..plotting import plot_fit, plot_history, save
from .published import FIT_MSE, THESIS_TABLE_2_1, THESIS_TABLE_2_2, beside, fmt, markdown_table, write_report

METHODS = {"ms_ipopt": ("ipopt", {}), "ms_ipopt_it40": ("ipopt", {"max_iter": 40}),
           "gd": ("gd", {"learning_rate": 0.01, "max_iter": 2000})}
COLUMNS = ("success", "train_sse", "violation")
N_TRAIN = 16


def make_problem(task):
    rng = np.random.default_rng(task["seed"])
    X, y = nlpnet.sine_data(20, noise=0.1, seed=rng)
    Xtr, Xte, ytr, yte = nlpnet.train_test_split(X, y, test_fraction=0.2, seed=rng)
    net = nlpnet.Network(task["sizes"], activation=task["activation"], init="nguyen_widrow", seed=rng,
                         input_range=(0.0, 1.0))
    return nlpnet.Problem(net, Xtr, ytr, X_val=Xte, y_val=yte, formulation="multiple_shooting")


def solve(task):
    prob = make_problem(task)
    solver, opts = METHODS[task["method"]]
    return prob, prob.solve(solver, **opts)


def trial(task) -> dict:
    prob, res = solve(task)
    return {"status": res.status.value, "train_mse": res.train_loss, "test_mse": res.val_loss,
            "time_s": res.wall_time, "iterations": res.iterations, "success": res.success,
            "train_sse": res.train_loss * prob.X.shape[0], "violation": res.constraint_violation,
            "message": res.message}


def make_tasks(args, config, sizes, activation) -> list[dict]:
    base = {"config": config, "sizes": sizes, "activation": activation}
    return [{**base, "method": m, "seed": args.seed + r} for r in range(args.runs) for m in METHODS]


def _table(rows, published) -> str:
    by = group_rows(rows, "method")
    header = ["method", "runs", "solver converged (thesis)", f"fit (< {FIT_MSE})", "best train MSE (thesis)",
              "avg train MSE, all runs (thesis)", "avg train MSE, fits", "avg test MSE, fits (thesis)",
              "median test MSE", "median time [s] (thesis CPU s)"]
    out = []
    for m in METHODS:
        rs = by.get(m, [])
        if not rs:
            continue
        th = published["gd"] if m == "gd" else published["ms"]
        best_th = th.get("best", th.get("best_sse", 0) / N_TRAIN)
        avg_th = th.get("avg", th.get("avg_sse", 0) / N_TRAIN)
        s = summarize(rs, "train_mse", FIT_MSE)
        fits = [r for r in rs if as_float(r["train_mse"]) < FIT_MSE]
        conv = sum(1 for r in rs if str(r.get("success")) in ("True", "true", "1"))
        test_fit = summarize(fits, "test_mse").mean if fits else float("nan")
        out.append([m, s.runs, f"{conv}/{s.runs} ({th['converged']})", f"{s.converged}/{s.runs}",
                    beside(s.best, best_th, ".2g"), beside(s.mean, avg_th, ".2g"), fmt(s.mean_converged, ".2g"),
                    beside(test_fit, th["test"], ".3g"), fmt(summarize(rs, "test_mse").median, ".2g"),
                    beside(s.median_time, th["time"], ".3g")])
    return markdown_table(header, out)


def _plots(out, rows, truth):
    """Fit and training curve of a good run of each method: the fitting run with the lowest
    test MSE (rerun in this process; runs are deterministic)."""
    for m, rs in group_rows(rows, "method").items():
        ok = [r for r in rs if isinstance(r.get("test_mse"), float)]
        if not ok:
            continue
        fits = [r for r in ok if as_float(r["train_mse"]) < FIT_MSE] or ok
        best = min(fits, key=lambda r: r["test_mse"])
        task = {"config": best["config"], "method": m, "seed": int(best["seed"]),
                "sizes": _SIZES[best["config"]], "activation": _ACT[best["config"]]}
        prob, res = solve(task)
        ax = plot_fit(res.network, prob.X, prob.y, prob.X_val, prob.y_val, truth=truth,
                      label=f"{m} (train MSE {res.train_loss:.2g})")
        ax.set_title(f"{best['config']}: {m}, seed {best['seed']} (test MSE {res.val_loss:.2g})".replace("_", " "))
        save(ax, out / f"fit_{m}.png")
        key = "objective" if "objective" in res.history else ("loss" if "loss" in res.history else None)
        if key:
            ax = plot_history(res.history, key, x="iteration")
            ax.set_xlabel("IPOPT iteration" if m.startswith("ms_") else "epoch")
            ax.set_title(f"{m}: training curve, seed {best['seed']}".replace("_", " "))
            save(ax, out / f"training_curve_{m}.png")


_SIZES = {"tanh-1-3-3-1": [1, 3, 3, 1], "relu-1-8-8-1": [1, 8, 8, 1]}
_ACT = {"tanh-1-3-3-1": "tanh", "relu-1-8-8-1": "relu"}


def make_report(rows, out, command, title, published) -> str:
    notes = (f"Training MSE is the mean over the {N_TRAIN} training points; a run *fits* when it is below {FIT_MSE}; "
             "test MSE is over the 4 held-out points. Published numbers (thesis) in parentheses; its multiple-"
             "shooting training errors are sums of squares over the 16 points and are shown divided by 16. Its "
             "MS column ran MATLAB fmincon with MaxIter 40, so both IPOPT rows sit beside it; its times are CPU "
             "seconds, ours wall-clock seconds per run. The thesis does not say which runs its averages cover.")
    text = write_report(out, title, command, [notes, _table(rows, published)])
    _plots(out, rows, truth=lambda x: -np.sin(0.8 * np.pi * x))
    return text


class ChapterTwoTable:
    """One of the two tables: the experiment interface of :mod:`nlpnet.experiments.base`."""

    COLUMNS = COLUMNS
    trial = staticmethod(trial)

    def __init__(self, title, config, sizes, activation, published):
        self.TITLE, self.config, self.sizes, self.activation, self.published = title, config, sizes, activation, published
        self.__doc__ = __doc__  # the protocol, for --help

    def tasks(self, args):
        return make_tasks(args, self.config, self.sizes, self.activation)

    def report(self, rows, args, out, command):
        return make_report(rows, out, command, self.TITLE, self.published)


TABLE_2_1 = ChapterTwoTable("Table 2.1 — tanh 1-3-3-1, multiple shooting vs gradient descent", "tanh-1-3-3-1",
                            [1, 3, 3, 1], "tanh", THESIS_TABLE_2_1)
TABLE_2_2 = ChapterTwoTable("Table 2.2 — ReLU 1-8-8-1 by complementarity, multiple shooting vs gradient descent",
                            "relu-1-8-8-1", [1, 8, 8, 1], "relu", THESIS_TABLE_2_2)
