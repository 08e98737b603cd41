"""Thesis Tables 4.2/4.3: the Santa Fe laser series with an 80-48-1 tanh network.

Protocol (DESIGN §4): the 1000 training values of Santa Fe set A, normalised with their mean
and std; 80-lag windows (920); run r draws a random 600 train / 320 validation split and
Glorot-uniform weights with seed S + r. ALM: multiple shooting, ``prob.solve("alm",
beta=10, tau=1e-2)`` (library defaults otherwise; with 3937 weights the reduced systems are
solved by preconditioned CG). Adam: single shooting, lr 1e-3, full batch, ≤ 10000 epochs,
EarlyStopping(loss, patience 10) — the monitor of every Keras listing in the thesis (with
val_loss Adam stopped after about 400 epochs at MSE ≈ 1e-2, far from the thesis's 2353
epochs and 2.5e-4). Test: 100-step closed-loop prediction from the last 80 training values,
compared with the 100 continuation values (MSE on the normalised scale). Also reported:
epochs (outer iterations for ALM), wall time and the Jacobian evaluations of each ALM outer
iteration. ``--quick``: 120/60 split, width 8, ALM ≤ 3 outer iterations, Adam ≤ 50 epochs.

Writes ``runs.csv``, ``table.md`` (ours beside the thesis) and ``prediction.png``.
The data must be available (``NLPNET_DATA``); see :func:`nlpnet.santafe_windows`.
"""
from __future__ import annotations

import numpy as np

import nlpnet

from ..analysis import group_rows, summarize
from ..plotting import legend_outside, save
from .published import THESIS_SANTA_FE, THESIS_SANTA_FE_JACOBIANS, beside, markdown_table, write_report

TITLE = "Tables 4.2/4.3 — Santa Fe laser, 80-48-1 tanh"
COLUMNS = ("val_mse", "jacobian_evals_per_outer", "inner_iterations", "prediction")
N_TRAIN, N_VAL, LAGS, HORIZON = 600, 320, 80, 100
METHODS = ("alm", "adam")


def closed_loop(net, series, horizon=HORIZON, lags=LAGS) -> np.ndarray:
    window = list(series[-lags:])
    out = []
    for _ in range(horizon):
        p = float(net.predict(np.array(window[-lags:])[None, :])[0, 0])
        out.append(p)
        window.append(p)
    return np.array(out)


def trial(task) -> dict:
    sf = nlpnet.santafe_windows(LAGS)
    idx = np.random.default_rng(task["seed"]).permutation(sf.X.shape[0])
    n_tr, n_va = (120, 60) if task["quick"] else (N_TRAIN, N_VAL)
    tr, va = idx[:n_tr], idx[n_tr:n_tr + n_va]
    net = nlpnet.Network([LAGS, 8 if task["quick"] else 48, 1], activation="tanh", init="glorot_uniform",
                         seed=task["seed"])
    if task["method"] == "alm":
        prob = nlpnet.Problem(net, sf.X[tr], sf.y[tr], X_val=sf.X[va], y_val=sf.y[va])
        res = prob.solve("alm", beta=10.0, tau=1e-2, **({"max_iter": 3} if task["quick"] else {}))
    else:
        prob = nlpnet.Problem(net, sf.X[tr], sf.y[tr], formulation="single_shooting", X_val=sf.X[va], y_val=sf.y[va])
        res = prob.solve("adam", learning_rate=1e-3, max_iter=50 if task["quick"] else 10000,
                         early_stopping={"monitor": "loss", "patience": 10})
    pred = closed_loop(res.network, sf.train_series)
    row = {"status": res.status.value, "train_mse": res.train_loss,
           "test_mse": float(np.mean((pred - sf.test_series[:HORIZON]) ** 2)), "time_s": res.wall_time,
           "iterations": res.iterations, "val_mse": res.val_loss, "message": res.message,
           "prediction": " ".join(f"{v:.6g}" for v in pred)}
    if task["method"] == "alm":
        row["jacobian_evals_per_outer"] = " ".join(str(int(v)) for v in res.history["jacobian_evals"])
        row["inner_iterations"] = res.stats["inner_iterations"]
    return row


def check_arguments(parser, args):
    try:
        nlpnet.santafe_windows(LAGS)
    except FileNotFoundError as exc:
        parser.error(f"the Santa Fe data is needed: {exc}")


def tasks(args) -> list[dict]:
    return [{"config": "santafe", "method": m, "seed": args.seed + r, "quick": args.quick}
            for m in METHODS for r in range(args.runs)]


def report(rows, args, out, command) -> str:
    by = group_rows(rows, "method")
    table = []
    for m in METHODS:
        rs = [r for r in by.get(m, []) if isinstance(r.get("train_mse"), float)]
        if not rs:
            continue
        tr, te = summarize(rs, "train_mse"), summarize(rs, "test_mse")
        th = THESIS_SANTA_FE[m]
        table.append([m, len(rs), beside(tr.mean, th[0], ".4g"), beside(tr.best, th[1], ".4g"),
                      beside(te.mean, th[2], ".4g"), beside(te.best, th[3], ".4g"),
                      beside(np.mean([r["iterations"] for r in rs]), th[4], ".4g"), beside(tr.mean_time, th[5], ".4g")])
    blocks = ["Normalised scale; prediction = 100-step closed loop from the last 80 training values. avg / best "
              "over runs; time = mean wall time per run. Thesis numbers in parentheses.",
              markdown_table(["method", "runs", "train MSE avg", "train MSE best", "prediction MSE avg",
                              "prediction MSE best", "epochs", "time [s]"], table)]
    jac = [r for r in by.get("alm", []) if r.get("jacobian_evals_per_outer", "") != ""]
    if jac:
        blocks.append("Jacobian evaluations per ALM outer iteration (one line per run; thesis, one run: "
                      f"{THESIS_SANTA_FE_JACOBIANS}):\n\n" + "\n".join(f"- seed {r['seed']}: {r['jacobian_evals_per_outer']}"
                                                                     for r in jac))
    text = write_report(out, TITLE, command, blocks)
    _plot(rows, out / "prediction.png")
    return text


def _plot(rows, path):
    import matplotlib.pyplot as plt
    sf = nlpnet.santafe_windows(LAGS)
    fig, ax = plt.subplots(figsize=(9, 4))
    ax.plot(np.arange(1, HORIZON + 1), sf.test_series[:HORIZON], "k-", lw=2, label="data")
    for r in rows:
        if r.get("prediction"):
            ax.plot(np.arange(1, HORIZON + 1), np.array(str(r["prediction"]).split(), float), lw=1, alpha=0.8,
                    label=f"{'ALM' if r['method'] == 'alm' else 'Adam'}, seed {r['seed']}")
    ax.set_xlabel("prediction step (closed loop)")
    ax.set_ylabel("laser intensity (normalised)")
    legend_outside(ax)
    save(fig, path)
