"""Tables and plots of the iALAM experiment (:mod:`nlpnet.experiments.ialam`).

Medians are over the seeds of a configuration. The MNIST table sets the authors' own run
(their MATLAB/MEX code under GNU Octave on this machine, same split) and the issue's targets
beside ours; "targets first met" is the first outer iteration whose iterate meets every target
of its row (median over the seeds that meet them). Performance profiles (Dolan–Moré): per
problem (configuration, seed) the cost of a method is its final TrainErr or TestErr, a failure
(a non-finite value or a failed run) counts as unsolved; the table gives ρ_s(τ), the share of
problems on which method s is within a factor τ of the best method.
"""
from __future__ import annotations

import math

import numpy as np

from ..analysis import as_float, group_rows, performance_ratios
from ..plotting import legend_outside, panel_grid, plot_performance_profile, pretty, save
from .published import IALAM_REFERENCE, fmt, markdown_table, write_report

__all__ = ["write"]

TAUS = (1.0, 1.5, 2.0, 4.0, 10.0)
ROW_KEY = {"loss": "train_mse", "accuracy": "train_acc", "val_accuracy": "test_acc", "col_sparsity": "col_sparsity"}


def _med(rows, key, spec=".3g"):
    v = np.array([as_float(r.get(key)) for r in rows], float)
    return fmt(float(np.median(v[np.isfinite(v)])) if np.isfinite(v).any() else math.nan, spec)


def _statuses(rows) -> str:
    counts = {}
    for r in rows:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    return ", ".join(f"{k} {v}" if len(counts) > 1 or v > 1 else k for k, v in sorted(counts.items()))


def _meets(row, targets) -> bool:
    return all((as_float(row.get(ROW_KEY[k])) <= v) if kind == "max" else (as_float(row.get(ROW_KEY[k])) >= v)
               for k, (v, kind) in targets.items())


def _targets_text(targets) -> str:
    name = {"loss": "TrainErr", "accuracy": "train acc", "val_accuracy": "test acc", "col_sparsity": "sparsity"}
    return ", ".join(f"{name[k]} {'≤' if kind == 'max' else '≥'} {v:g}" for k, (v, kind) in targets.items())


def synthetic(by, cfgs) -> str:
    out = []
    for name, spec in cfgs.items():
        if "synthetic" not in spec["parts"]:
            continue
        for m in spec["methods"]:
            rs = by.get((name, m))
            if rs:
                out.append(["-".join(map(str, spec["sizes"])) + ("" if spec["init"] == "he" else f" ({spec['init']})"),
                            pretty(m), len(rs), _med(rs, "train_mse"),
                            _med(rs, "test_mse"), _med(rs, "feas_vi"), _med(rs, "col_sparsity"),
                            _med(rs, "hidden_pruned"), _med(rs, "iterations", ".0f"), _med(rs, "time_s"), _statuses(rs)])
    return markdown_table(["net", "method", "runs", "TrainErr", "TestErr", "FeasVi", "col. sparsity", "hidden pruned",
                           "iterations / epochs", "time [s]", "status"], out) if out else ""


def mnist(by, cfgs) -> str:
    out = []
    for name, spec in cfgs.items():
        if "mnist" not in spec["parts"]:
            continue
        net = "-".join(map(str, spec["sizes"]))
        label = (f"{net}, {'ReLU' if spec['output'] == 'sigma' else 'identity'} output, {spec['init']}, "
                 f"{spec['pixels']}, N = {spec['n']}")
        for m in spec["methods"]:
            rs = by.get((name, m))
            if not rs:
                continue
            hits = [r for r in rs if r.get("targets_iter") not in ("", None)]
            first = (f"{len(hits)}/{len(rs)}: it {_med(hits, 'targets_iter', '.0f')}, {_med(hits, 'targets_s', '.1f')} s"
                     if hits else (f"0/{len(rs)}" if m == "ialam" else ""))
            ref = IALAM_REFERENCE.get(net, "") if (m == "ialam" and spec["init"] == "authors"
                                                  and spec["pixels"] == "binary" and spec["n"] == 1000) else ""
            out.append([label, pretty(m), _med(rs, "train_mse", ".4f"), _med(rs, "train_acc"), _med(rs, "test_acc"),
                        _med(rs, "col_sparsity"), _med(rs, "hidden_pruned"), _med(rs, "iterations", ".0f"),
                        _med(rs, "cpu_s", ".1f"), _med(rs, "time_s", ".1f"), _statuses(rs),
                        f"{sum(_meets(r, spec['targets']) for r in rs)}/{len(rs)}", first, ref])
    return markdown_table(["setting", "method", "TrainErr", "train acc", "test acc", "col. sparsity", "hidden pruned",
                           "iterations / epochs", "CPU s", "wall s", "status", "final meets targets",
                           "targets first met", "authors' code (Octave)"], out) if out else ""


def prune(by, cfgs, path) -> str:
    out, points = [], []
    for name, spec in cfgs.items():
        rs = by.get((name, "ialam")) if "prune" in spec["parts"] else None
        if not rs:
            continue
        out.append([f"{spec['lam_factor']:g}/N", _med(rs, "train_mse", ".4f"), _med(rs, "train_acc"),
                    _med(rs, "test_acc"), _med(rs, "hidden_pruned"), _med(rs, "inputs_pruned"), _med(rs, "col_sparsity"),
                    _med(rs, "iterations", ".0f"), _med(rs, "time_s", ".1f"), _statuses(rs)])
        points.append((spec["lam_factor"], [(as_float(r["hidden_pruned"]), as_float(r["train_acc"]),
                                             as_float(r["test_acc"])) for r in rs]))
    if not out:
        return ""
    fig, (ax,) = panel_grid(1, 1, panel=(6.2, 4.2))
    for col, label, marker in ((1, "training accuracy", "o"), (2, "test accuracy", "s")):
        xs = [np.median([p[0] for p in pts]) for _, pts in points]
        ys = [np.median([p[col] for p in pts]) for _, pts in points]
        ax.plot(xs, ys, marker=marker, label=label)
        ax.scatter([p[0] for _, pts in points for p in pts], [p[col] for _, pts in points for p in pts], s=10,
                   alpha=0.4, marker=marker)
    for (f, pts), x, y in zip(points, xs, ys):
        ax.annotate(f"λ_w = {f:g}/N", (x, y), textcoords="offset points", xytext=(4, -12), fontsize=7)
    ax.set_xlabel("fraction of hidden units pruned")
    ax.set_ylabel("accuracy")
    ax.set_title("784-200-10 on MNIST: accuracy against pruning (λ_w raised)")
    legend_outside(ax)
    save(fig, path)
    return markdown_table(["λ_w", "TrainErr", "train acc", "test acc", "hidden units pruned", "inputs pruned",
                           "col. sparsity", "outer iterations", "wall s", "status"], out)


def profile(rows, cfgs, path) -> str:
    names = [n for n, s in cfgs.items() if "profile" in s["parts"]]
    methods = next((cfgs[n]["methods"] for n in names), ())
    problems = sorted({(r["config"], r["seed"]) for r in rows if r["config"] in names})
    if not problems:
        return ""
    idx = {p: i for i, p in enumerate(problems)}
    costs = {key: {m: np.full(len(problems), np.inf) for m in methods} for key in ("train_mse", "test_mse")}
    for r in rows:
        p = (r["config"], r["seed"])
        if p in idx and r["method"] in methods and r["status"] not in ("failed", "numerical_error"):
            for key in costs:
                v = as_float(r.get(key))
                costs[key][r["method"]][idx[p]] = v if np.isfinite(v) else np.inf
    fig, axes = panel_grid(2, 2, panel=(6.2, 4.4))
    for ax, (key, label) in zip(axes, (("train_mse", "TrainErr"), ("test_mse", "TestErr"))):
        plot_performance_profile(costs[key], ax=ax, metric=label, title=label, legend=key == "test_mse")
    fig.suptitle(f"Performance profiles over {len(problems)} MNIST problems")
    save(fig, path)
    table = []
    for key, label in (("train_mse", "TrainErr"), ("test_mse", "TestErr")):
        order, R = performance_ratios(costs[key])
        for m, r in zip(order, R):
            table.append([label, pretty(m)] + [fmt(float(np.mean(r <= t)), ".3f") for t in TAUS]
                         + [fmt(float(np.mean(np.isfinite(r))), ".3f"), fmt(float(np.median(costs[key][m])), ".4f")])
    return markdown_table(["metric", "method"] + [f"ρ(τ = {t:g})" for t in TAUS] + ["ρ(∞)", "median value"],
                          table) + f"\n\n{len(problems)} problems ({len(names)} grid points × seeds)."


def write(rows, args, out, command, cfgs) -> str:
    by = group_rows(rows, "config", "method")
    mnist_cfg = [s for s in cfgs.values() if "mnist" in s["parts"] and s.get("targets")]
    blocks = ["Medians over seeds. TrainErr/TestErr = (1/N)Σ‖f(x) − y‖² of the network with σ exactly; column "
              "sparsity, inputs and hidden units pruned at column norm ≤ 1e-6; FeasVi only for the lifted methods "
              "(iALAM: both parts; ALM: its hidden layers). Back-propagation: mini-batches of 32."]
    syn = synthetic(by, cfgs)
    if syn:
        blocks += ["## Synthetic data (the slides' three nets, our teacher-network generator)", syn]
        _plot_synthetic(by, cfgs, out / "synthetic.png")
    mn = mnist(by, cfgs)
    if mn:
        targets = "; ".join(f"{'-'.join(map(str, s['sizes']))}: {_targets_text(s['targets'])}"
                            for s in {('-'.join(map(str, s['sizes']))): s for s in mnist_cfg}.values())
        blocks += ["## MNIST", f"Targets (issue 12): {targets}.", mn]
    pr = prune(by, cfgs, out / "prune.png")
    if pr:
        blocks += ["## Accuracy against the pruned fraction (λ_w raised)", pr]
    pf = profile(rows, cfgs, out / "profile.png")
    if pf:
        blocks += ["## Performance profiles (TrainErr, TestErr)", pf]
    return write_report(out, "Seed 002 — iALAM for leaky-ReLU networks with group sparsity", command, blocks)


def _plot_synthetic(by, cfgs, path):
    names = [n for n, s in cfgs.items() if "synthetic" in s["parts"] and any((n, m) in by for m in s["methods"])]
    fig, axes = panel_grid(len(names), 3, panel=(4.4, 3.4))
    for ax, name in zip(axes, names):
        methods = [m for m in cfgs[name]["methods"] if (name, m) in by]
        for key, marker, label in (("train_mse", "o", "TrainErr"), ("test_mse", "x", "TestErr")):
            xs, ys = [], []
            for i, m in enumerate(methods):
                v = [as_float(r[key]) for r in by[(name, m)]]
                xs += [i + (0.12 if key == "test_mse" else -0.12)] * len(v)
                ys += v
            ax.scatter(xs, ys, marker=marker, label=label, s=18)
        ax.set_xticks(range(len(methods)), [pretty(m) for m in methods], rotation=40, ha="right", fontsize=8)
        ax.set_yscale("log")
        ax.set_ylabel("error")
        ax.set_title("-".join(map(str, cfgs[name]["sizes"])) + ("" if cfgs[name]["init"] == "he"
                                                                else f", {cfgs[name]['init']} init"))
    legend_outside(axes[-1])
    fig.suptitle("Synthetic data: final TrainErr and TestErr per seed")
    save(fig, path)
