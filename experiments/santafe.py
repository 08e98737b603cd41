"""Thesis Tables 4.2/4.3: the Santa Fe laser series with an 80-48-1 tanh network.

    python experiments/santafe.py [--runs R] [--workers W] [--out DIR] [--seed S] [--quick]

Protocol (DESIGN §4): the 1000 training values of Santa Fe set A, normalised with their mean
and std; 80-lag windows (920); run r draws a random 600 train / 320 validation split and
Glorot-uniform weights with seed S + r. ALM: multiple shooting, ``prob.solve("alm",
beta=10, tau=1e-2)`` (library defaults otherwise; with 3937 weights the reduced systems are
solved by preconditioned CG). Adam (when installed): single shooting, lr 1e-3, full batch,
≤ 10000 epochs, EarlyStopping(loss, patience 10) — the monitor of every Keras listing in
the thesis (with val_loss Adam stopped after about 400 epochs at MSE ≈ 1e-2, far from the
thesis's 2353 epochs and 2.5e-4). Test: 100-step closed-loop prediction
from the last 80 training values, compared with the 100 continuation values (MSE on the
normalised scale). Also reported: epochs (outer iterations for ALM), wall time and the
Jacobian evaluations of each ALM outer iteration.

Writes ``runs.csv``, ``table.md`` (ours beside the thesis) and ``prediction.png``.
The data must be available (``NLPNET_DATA`` or ``path``); see :func:`nlpnet.santafe_windows`.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import nlpnet  # noqa: E402
from nlpnet.runner import experiment_parser, run_trials  # noqa: E402

N_TRAIN, N_VAL, LAGS, HORIZON = 600, 320, 80, 100
# thesis Tables 4.2/4.3: train MSE avg/best, prediction MSE avg/best, epochs, time (s)
THESIS = {"alm": (3.712e-4, 2.779e-4, 1.070, 0.829, 5, 1201.0),
          "adam": (2.517e-4, 2.329e-4, 0.2016, 0.0910, 2353, 20.9)}
THESIS_JAC_PER_EPOCH = "42.25, 12.75, 17.0, 3.0, 2.0"


def closed_loop(net, series, horizon=HORIZON, lags=LAGS) -> np.ndarray:
    window = list(series[-lags:])
    out = []
    for _ in range(horizon):
        p = float(net.predict(np.array(window[-lags:])[None, :])[0, 0])
        out.append(p)
        window.append(p)
    return np.array(out)


def _split(sf, seed, quick):
    idx = np.random.default_rng(seed).permutation(sf.X.shape[0])
    n_tr, n_va = (120, 60) if quick else (N_TRAIN, N_VAL)
    return idx[:n_tr], idx[n_tr:n_tr + n_va]


def _alm(sf, tr, va, net, quick):
    prob = nlpnet.Problem(net, sf.X[tr], sf.y[tr], X_val=sf.X[va], y_val=sf.y[va])
    return prob.solve("alm", beta=10.0, tau=1e-2, **({"max_outer": 3} if quick else {}))


def _adam(sf, tr, va, net, quick):
    prob = nlpnet.Problem(net, sf.X[tr], sf.y[tr], formulation="single_shooting",
                          X_val=sf.X[va], y_val=sf.y[va])
    return prob.solve("adam", learning_rate=1e-3, max_epochs=50 if quick else 10000,
                      early_stopping={"monitor": "loss", "patience": 10})


METHODS = {"alm": _alm, "adam": _adam}


def trial(task) -> dict:
    sf = nlpnet.santafe_windows(LAGS)
    tr, va = _split(sf, task["seed"], task["quick"])
    width = 8 if task["quick"] else 48
    net = nlpnet.Network([LAGS, width, 1], activation="tanh", init="glorot_uniform", seed=task["seed"])
    res = METHODS[task["method"]](sf, tr, va, net, task["quick"])
    pred = closed_loop(res.network, sf.train_series)
    row = {"status": res.status.value, "train_mse": res.train_loss,
           "test_mse": float(np.mean((pred - sf.test_series[:HORIZON]) ** 2)),
           "time_s": res.wall_time, "iterations": res.iterations, "val_mse": res.val_loss,
           "prediction": " ".join(f"{v:.6g}" for v in pred)}
    if task["method"] == "alm":
        row["jacobian_evals_per_outer"] = " ".join(str(int(v)) for v in res.history["jacobian_evals"])
        row["inner_iterations"] = res.stats["inner_iterations"]
    return row


def summarize(rows, methods) -> str:
    lines = ["# Tables 4.2/4.3 — Santa Fe laser, 80-48-1 tanh", "",
             "Normalised scale; prediction = 100-step closed loop from the last 80 training values. "
             "avg / best over runs; time = mean wall time per run. Thesis numbers in parentheses.", "",
             "| method | runs | train MSE avg | train MSE best | prediction MSE avg | prediction MSE best | "
             "epochs | time (s) |", "|---|---|---|---|---|---|---|---|"]
    for m in methods:
        rs = [r for r in rows if r["method"] == m and r.get("train_mse", "") != ""]
        if not rs:
            continue
        tr = np.array([float(r["train_mse"]) for r in rs])
        te = np.array([float(r["test_mse"]) for r in rs])
        ep = np.mean([float(r["iterations"]) for r in rs])
        t = np.mean([float(r["time_s"]) for r in rs])
        th = THESIS.get(m)
        f = lambda v, i: f"{v:.4g} ({th[i]:.4g})" if th else f"{v:.4g}"
        lines.append(f"| {m} | {len(rs)} | {f(tr.mean(), 0)} | {f(tr.min(), 1)} | {f(te.mean(), 2)} | "
                     f"{f(te.min(), 3)} | {f(ep, 4)} | {f(t, 5)} |")
    jac = [r.get("jacobian_evals_per_outer", "") for r in rows if r["method"] == "alm"]
    if jac:
        lines += ["", "Jacobian evaluations per ALM outer iteration (one line per run; thesis, one run: "
                  f"{THESIS_JAC_PER_EPOCH}):", ""] + [f"- seed {r['seed']}: {r['jacobian_evals_per_outer']}"
                                                    for r in rows if r["method"] == "alm"]
    return "\n".join(lines) + "\n"


def plot(rows, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    sf = nlpnet.santafe_windows(LAGS)
    fig, ax = plt.subplots(figsize=(9, 4))
    ax.plot(np.arange(HORIZON), sf.test_series[:HORIZON], "k-", lw=2, label="data")
    for r in rows:
        if r.get("prediction"):
            ax.plot(np.fromstring(str(r["prediction"]), sep=" "), lw=1, alpha=0.8,
                    label=f"{r['method']} seed {r['seed']}")
    ax.set_xlabel("step")
    ax.set_ylabel("normalised intensity")
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv=None):
    args = experiment_parser("santafe", __doc__.splitlines()[0], runs=4).parse_args(argv)
    try:
        nlpnet.santafe_windows(LAGS)
    except FileNotFoundError as exc:
        raise SystemExit(str(exc))
    runs = 1 if args.quick else args.runs
    avail = nlpnet.available_solvers()
    methods = [m for m in METHODS if m in avail]
    tasks = [{"config": "santafe", "method": m, "seed": args.seed + r, "quick": args.quick}
             for m in methods for r in range(runs)]
    args.out.mkdir(parents=True, exist_ok=True)
    rows = run_trials(trial, tasks, args.out / "runs.csv", workers=args.workers)
    table = summarize(rows, methods)
    (args.out / "table.md").write_text(table)
    plot(rows, args.out / "prediction.png")
    print(table)


if __name__ == "__main__":
    main()
