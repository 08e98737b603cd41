"""Thesis chapter 2 protocol, shared by table_2_1.py (tanh 1-3-3-1) and table_2_2.py
(ReLU 1-8-8-1 by complementarity).

Per run r (seed S + r), one generator drives, in this order: the data draw
x = linspace(0, 1, 20), y = −sin(0.8πx) + N(0, 0.1²); the random 16/4 train/test split
(MATLAB ``dividerand(20, 0.8, 0, 0.2)``); and the Nguyen–Widrow initial weights for the
input range [0, 1]. Every method of a run therefore sees the same data and starts from the
same weights. Methods:

* ``ms_ipopt``      multiple shooting, IPOPT with the library defaults (to convergence);
* ``ms_ipopt_it40`` the thesis's budget: at most 40 IPOPT iterations (fmincon MaxIter 40);
* ``gd``            back-propagation gradient descent, lr 0.01, 2000 epochs (MATLAB
                    ``traingd``), when the ``gd`` solver is available.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

import nlpnet
from nlpnet.plotting import plot_fit, plot_history, save
from nlpnet.runner import experiment_parser, run_trials

GOOD_MSE = 0.03  # a run "fits" when its training MSE is below this (issue's criterion)


def methods():
    m = {"ms_ipopt": ("ipopt", {}), "ms_ipopt_it40": ("ipopt", {"max_iter": 40})}
    if "gd" in nlpnet.available_solvers():
        m["gd"] = ("gd", {"learning_rate": 0.01, "max_epochs": 2000})
    return m


def make_problem(task):
    rng = np.random.default_rng(task["seed"])
    X, y = nlpnet.sine_data(20, noise=0.1, seed=rng)
    Xtr, Xte, ytr, yte = nlpnet.train_test_split(X, y, test_fraction=0.2, seed=rng)
    net = nlpnet.Network(task["sizes"], activation=task["activation"], init="nguyen_widrow", seed=rng,
                         input_range=(0.0, 1.0))
    return nlpnet.Problem(net, Xtr, ytr, X_val=Xte, y_val=yte, formulation="multiple_shooting")


def solve(task):
    prob = make_problem(task)
    solver, opts = methods()[task["method"]]
    return prob, prob.solve(solver, **opts)


def trial(task) -> dict:
    prob, res = solve(task)
    return {"status": res.status.value, "train_mse": res.train_loss, "test_mse": res.val_loss,
            "time_s": res.wall_time, "iterations": res.iterations, "success": res.success,
            "train_sse": res.train_loss * prob.X.shape[0], "violation": res.constraint_violation,
            "message": res.message}


def _fmt(v, spec=".4f"):
    return "–" if v is None or (isinstance(v, float) and not np.isfinite(v)) else format(v, spec)


def summarize(rows, method):
    r = [x for x in rows if x["method"] == method]
    tr = np.array([float(x["train_mse"]) for x in r])
    te = np.array([float(x["test_mse"]) for x in r])
    tm = np.array([float(x["time_s"]) for x in r])
    good = tr < GOOD_MSE
    return {
        "runs": len(r), "with_status": sum(1 for x in r if x["status"]), "solver_success":
        sum(1 for x in r if str(x["success"]) in ("True", "true", "1")), "good": int(good.sum()),
        "best": tr.min() if r else None, "avg_all": tr.mean() if r else None,
        "avg_good": tr[good].mean() if good.any() else None,
        "test_good": te[good].mean() if good.any() else None, "test_all": te.mean() if r else None,
        "test_median": float(np.median(te)) if r else None, "time_median": float(np.median(tm)) if r else None,
        "time_mean": tm.mean() if r else None,
    }


def write_table(path: Path, rows, title, thesis, command):
    lines = [f"# {title}", "", f"Reproduce: `{command}`", "",
             f"Training MSE is the mean over the 16 training points; a run *fits* when it is below {GOOD_MSE}. "
             "Averages marked *fit* are over fitting runs (the thesis averages over its converged runs); "
             "test MSE is over the 4 held-out points. Times are wall-clock seconds per run on this machine.", "",
             "| method | runs | ended with a status | solver converged | fit (< 0.03) | best train MSE | "
             "avg train MSE (fit) | avg train MSE (all) | avg test MSE (fit) | median test MSE (all) | "
             "median time [s] |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for m in methods():
        s = summarize(rows, m)
        if not s["runs"]:
            continue
        lines.append(f"| nlpnet {m} | {s['runs']} | {s['with_status']} | {s['solver_success']} | {s['good']} | "
                     f"{_fmt(s['best'])} | {_fmt(s['avg_good'])} | {_fmt(s['avg_all'])} | {_fmt(s['test_good'])} | "
                     f"{_fmt(s['test_median'])} | {_fmt(s['time_median'], '.2f')} |")
    lines += ["", "Published (thesis; MS ran in MATLAB fmincon with MaxIter 40, times are CPU seconds):", "",
              "| method | converged | best train | avg train | avg test | avg time [s] |", "|---|---|---|---|---|---|"]
    for name, t in thesis.items():
        lines.append(f"| {name} | {t['converged']} | {t['best']} | {t['avg']} | {t['test']} | {t['time']} |")
    lines += ["", "The thesis's multiple-shooting training numbers are sums of squares over the 16 points "
              "(its code minimises `res*res'`), not means: divide by 16 to compare "
              f"(MS best {thesis['thesis MS']['best_mse']}, avg {thesis['thesis MS']['avg_mse']} as MSE).", ""]
    path.write_text("\n".join(lines))


def plots(out: Path, rows, base_task, truth):
    """Fit and training curve of a good run of each method: the fitting run with the lowest
    test MSE (rerun in-process; runs are deterministic)."""
    for m in methods():
        r = [x for x in rows if x["method"] == m]
        if not r:
            continue
        fits = [x for x in r if float(x["train_mse"]) < GOOD_MSE] or r
        best = min(fits, key=lambda x: float(x["test_mse"]))
        prob, res = solve({**base_task, "method": m, "seed": int(best["seed"]), "config": best["config"]})
        ax = plot_fit(res.network, prob.X, prob.y, prob.X_val, prob.y_val, truth=truth,
                      label=f"{m} (train MSE {res.train_loss:.2g})")
        ax.set_title(f"{best['config']}: {m}, seed {best['seed']} (test MSE {res.val_loss:.2g})")
        save(ax, out / f"fit_{m}.png")
        key = "objective" if "objective" in res.history else ("loss" if "loss" in res.history else None)
        if key:
            ax = plot_history(res.history, key)
            ax.set_title(f"{m}: training curve (seed {best['seed']})")
            save(ax, out / f"training_curve_{m}.png")


def main(name, title, config, sizes, activation, thesis, argv=None):
    p = experiment_parser(name, title, runs=20)
    a = p.parse_args(argv)
    runs = 2 if a.quick and a.runs == 20 else a.runs
    a.out.mkdir(parents=True, exist_ok=True)
    base = {"config": config, "sizes": sizes, "activation": activation}
    tasks = [{**base, "method": m, "seed": a.seed + r} for r in range(runs) for m in methods()]
    rows = run_trials(trial, tasks, a.out / "runs.csv", workers=a.workers)
    cmd = "python " + " ".join([f"experiments/{name}.py"] + (argv if argv is not None else sys.argv[1:]))
    write_table(a.out / "table.md", rows, title, thesis, cmd.strip())
    plots(a.out, rows, base, truth=lambda x: -np.sin(0.8 * np.pi * x))
    print((a.out / "table.md").read_text())
    for m in methods():
        s = summarize(rows, m)
        print(f"{m}: {s['good']}/{s['runs']} fit, median time {_fmt(s['time_median'], '.2f')} s", file=sys.stderr)
    return rows
