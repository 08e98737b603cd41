"""Seed 002: iALAM on leaky-ReLU networks with group sparsity, beside back-propagation and the ALM.

Four parts (``--parts``, default all), every run through ``prob.solve(...)`` from initial
weights shared by the methods of a run (data, initialisations and methods:
:mod:`nlpnet.experiments.ialam_problems`):

* ``synthetic`` — the slides' three nets 10-10-1, 10-5-5-1, 10-4-3-3-1 on our teacher-network
  data (N = 500, ⌈N/5⌉ test, leaky ReLU α = 0.1 on every layer, λ_w = 1e-3, He initial
  weights; ``--synthetic-init he,slides,authors`` adds the other two); iALAM, SGD, Adagrad,
  Adadelta, Adam (200 epochs of mini-batches of 32) and the ALM; seeds S … S + R − 1 (data and
  weights).
* ``mnist`` — N = 1000 class-balanced digits (binarised pixels as the authors' code, and p/255):
  784-200-10 ReLU with a ReLU output and the authors' W = 0.01·randn (their reference run);
  784-100-50-10 with the same, with He weights, and with He weights and an identity output;
  iALAM on all, the four back-propagation methods on the two target settings (binarised);
  then N = 4000 (binarised; the two target settings, iALAM, seed S only). λ_w = 1/N.
* ``prune`` — 784-200-10 as above with λ_w ∈ {0.1, 0.3, 1, 3, 10, 30}/N: accuracy against the
  fraction of hidden units pruned.
* ``profile`` — Dolan–Moré profiles of TrainErr and TestErr over a grid of MNIST problems:
  nets 784-16-10 and 784-32-16-10 (identity output, He weights) × N ∈ {100, 200} ×
  λ_w ∈ {0.3, 1, 3}/N × α ∈ {0, 0.01, 0.1} × ``--profile-seeds`` initialisations (default 20:
  720 problems), iALAM against SGD, Adadelta and Adam (200 epochs, batches of 32).

``--quick``: one small configuration per part with small budgets. Writes ``runs.csv``,
``table.md`` (with the authors' reference run and the issue's targets beside ours),
``synthetic.png``, ``prune.png`` and ``profile.png``.
"""
from __future__ import annotations

from .base import positive_int
from .ialam_problems import (SYNTHETIC_NETS, initial_weights, mnist_data, network, result_row, solve,
                             targets_met, teacher_data)

TITLE = "Seed 002 — iALAM for leaky-ReLU networks with group sparsity"
PARTS = ("synthetic", "mnist", "prune", "profile")
COLUMNS = ("net", "n_train", "lambda_w", "alpha", "output", "init", "pixels", "feas_vi", "violation", "col_sparsity",
           "inputs_pruned", "hidden_pruned", "train_acc", "test_acc", "cpu_s", "targets_iter", "targets_s")
BACKPROP = ("sgd", "adagrad", "adadelta", "adam")
TARGETS_200 = {"loss": (0.0185, "max"), "val_accuracy": (0.765, "min"), "col_sparsity": (0.224, "min")}
TARGETS_DEEP = {"accuracy": (0.99, "min"), "val_accuracy": (0.80, "min")}
# MNIST settings: name → (net, output, init, targets, back-propagation too)
MNIST_SETTINGS = {"784-200-10-relu-authors": ("784-200-10", "sigma", "authors", TARGETS_200, True),
                  "784-100-50-10-relu-authors": ("784-100-50-10", "sigma", "authors", TARGETS_DEEP, False),
                  "784-100-50-10-relu-he": ("784-100-50-10", "sigma", "he", TARGETS_DEEP, False),
                  "784-100-50-10-identity-he": ("784-100-50-10", "identity", "he", TARGETS_DEEP, True)}
PRUNE_FACTORS = (0.1, 0.3, 1.0, 3.0, 10.0, 30.0)
INITS = ("he", "slides", "authors")
PROFILE_GRID = {"nets": ("784-16-10", "784-32-16-10"), "n": (100, 200), "lam": (0.3, 1.0, 3.0),
                "alpha": (0.0, 0.01, 0.1)}


def add_arguments(p):
    p.add_argument("--parts", default=",".join(PARTS), help=f"comma-separated parts to run (default: {','.join(PARTS)})")
    p.add_argument("--profile-seeds", type=positive_int, default=20, metavar="K",
                   help="initialisations per problem of the performance-profile grid (default 20: 720 problems; "
                        "--quick: 1)")
    p.add_argument("--synthetic-init", default="he", metavar="LIST",
                   help=f"initialisations of the synthetic part, comma-separated from {', '.join(INITS)} (default he)")


def check_arguments(parser, args):
    args.part_list = [x for x in args.parts.split(",") if x]
    unknown = [x for x in args.part_list if x not in PARTS]
    if unknown or not args.part_list:
        parser.error(f"argument --parts: unknown part(s) {unknown}; choose from {', '.join(PARTS)}")
    args.init_list = [x for x in args.synthetic_init.split(",") if x]
    unknown = [x for x in args.init_list if x not in INITS]
    if unknown or not args.init_list:
        parser.error(f"argument --synthetic-init: unknown initialisation(s) {unknown}; choose from {', '.join(INITS)}")


def sizes_of(net: str) -> list:
    return [int(d) for d in net.split("-")]


def configs(quick: bool) -> dict:
    """Every configuration: name → spec (which part(s) show it, data, net, λ_w, budgets, methods)."""
    out = {}
    syn_budget = dict(epochs=10, ialam={"max_iter": 20}, alm={"max_iter": 2}) if quick else dict(epochs=200)
    for name, sizes in SYNTHETIC_NETS.items():
        for init in INITS:
            if not quick or name == "L2":
                out[f"syn-{name}" + ("" if init == "he" else f"-{init}")] = dict(
                    parts=("synthetic",), data="synthetic", sizes=sizes, n=60 if quick else 500, alpha=0.1,
                    output="sigma", init=init, lam=1e-3, methods=("ialam",) + BACKPROP + ("alm",), **syn_budget)
    n0 = 100 if quick else 1000
    mnist_budget = dict(epochs=5, ialam={"max_iter": 15}) if quick else dict(epochs=200)
    settings = {"784-16-10-relu-authors": ("784-16-10", "sigma", "authors", TARGETS_200, True)} if quick \
        else MNIST_SETTINGS
    for key, (net, output, init, targets, bp) in settings.items():
        for pixels, n in ([("binary", n0)] if quick else [("binary", 1000), ("scaled", 1000), ("binary", 4000)]):
            if n == 4000 and not bp:
                continue
            methods = ("ialam",) + (BACKPROP if bp and pixels == "binary" and n == n0 and not quick else ())
            out[f"mnist-{key}-{pixels}-N{n}"] = dict(
                parts=("mnist",), data="mnist", sizes=sizes_of(net), n=n, pixels=pixels, alpha=0.0, output=output,
                init=init, lam=1.0 / n, lam_factor=1.0, methods=("ialam", "adam") if quick else methods,
                targets=targets, one_seed=n == 4000, **mnist_budget)
    first = next(k for k in out if k.startswith("mnist-"))       # 784-200-10, binarised, N = n0
    base = out[first]
    for f in ((1.0, 10.0) if quick else PRUNE_FACTORS):
        if f == 1.0:
            out[first] = dict(base, parts=base["parts"] + ("prune",))
        else:
            out[f"{first}-lam{f:g}"] = dict(base, parts=("prune",), lam=f / n0, lam_factor=f, methods=("ialam",),
                                            targets=None)
    grid = dict(nets=("784-16-10",), n=(100,), lam=(1.0,), alpha=(0.0, 0.1)) if quick else PROFILE_GRID
    prof_budget = dict(epochs=5, ialam={"max_iter": 15}) if quick else dict(epochs=200)
    for net in grid["nets"]:
        for n in grid["n"]:
            for f in grid["lam"]:
                for a in grid["alpha"]:
                    out[f"prof-{net}-N{n}-lam{f:g}-a{a:g}"] = dict(
                        parts=("profile",), data="mnist", sizes=sizes_of(net), n=n, pixels="binary", alpha=a,
                        output="identity", init="he", lam=f / n, lam_factor=f, methods=("ialam", "sgd", "adadelta",
                                                                                         "adam"), **prof_budget)
    return out


def tasks(args) -> list[dict]:
    out = []
    for name, spec in configs(args.quick).items():
        if not set(spec["parts"]) & set(args.part_list):
            continue
        if spec["data"] == "synthetic" and spec["init"] not in args.init_list:
            continue
        seeds = (args.profile_seeds if not args.quick else 1) if "profile" in spec["parts"] else args.runs
        seeds = 1 if spec.get("one_seed") else seeds
        out += [{"config": name, "method": m, "seed": args.seed + r, "quick": args.quick}
                for r in range(seeds) for m in spec["methods"]]
    return out


def trial(task) -> dict:
    spec = configs(task["quick"])[task["config"]]
    seed, sizes = task["seed"], spec["sizes"]
    if spec["data"] == "synthetic":
        data = teacher_data(sizes, spec["n"], spec["alpha"], seed)
    else:
        data = mnist_data(spec["n"], spec["pixels"])
    net = network(sizes, spec["alpha"], spec["output"], initial_weights(sizes, spec["init"], seed, spec["n"]))
    res = solve(task["method"], net, data, spec["lam"], epochs=spec["epochs"], ialam=spec.get("ialam"),
                alm=spec.get("alm"), seed=seed)
    row = result_row(res, task["method"], data[0])
    hit = targets_met(res.history, spec["targets"]) if spec.get("targets") and task["method"] == "ialam" else ("", "")
    row.update(net="-".join(map(str, sizes)), n_train=spec["n"], lambda_w=spec["lam"], alpha=spec["alpha"],
               output=spec["output"], init=spec["init"], pixels=spec.get("pixels", ""), targets_iter=hit[0],
               targets_s=hit[1])
    return row


def report(rows, args, out, command) -> str:
    from .ialam_report import write
    return write(rows, args, out, command, configs(args.quick))
