"""``nlpnet`` command line.

    nlpnet train [--data sine|sin_x2|abs] [--n N] [--sizes 1,8,8,1] [--activation relu] [--solver ipopt]
                 [--formulation multiple_shooting] [--seed 0] [--save net.npz] [--plot fit.png]
    nlpnet experiment NAME [--runs R] [--workers W] [--out DIR] [--seed S] [--quick]
                           [--backend processes|dask] [--scheduler ADDRESS]
    nlpnet experiment --list
    nlpnet solvers
    nlpnet info

``nlpnet train`` with no arguments trains the thesis's 1-8-8-1 ReLU network (complementarity
constraints, IPOPT) on the chapter-2 sine data with a 16/4 split and prints the result.
Every argument is checked before training: ``--save`` and ``--plot`` create a missing
folder (as ``--out`` does for experiments) and fail at once when it cannot be created or
written, or when the plot's file type is unknown. ``nlpnet experiment`` is
:func:`nlpnet.experiments.main`; it exits with 130 after Ctrl-C, every finished run kept.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np

__all__ = ["main"]


def _sizes(text: str) -> list[int]:
    try:
        sizes = [int(s) for s in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"--sizes: expected comma-separated integers such as 1,8,8,1, got {text!r}")
    if len(sizes) < 2 or min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"--sizes: need at least two positive sizes, got {text!r}")
    return sizes


def _options(text: str) -> dict:
    try:
        opts = json.loads(text)
    except json.JSONDecodeError as exc:
        raise argparse.ArgumentTypeError(f"--options: not valid JSON ({exc}); e.g. '{{\"max_iter\": 100}}'")
    if not isinstance(opts, dict):
        raise argparse.ArgumentTypeError("--options: expected a JSON object such as '{\"max_iter\": 100}'")
    return opts


def _n_samples(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer number of samples, got {text!r}") from None
    if n < 3:
        raise argparse.ArgumentTypeError(f"must be an integer ≥ 3 (20 % of the samples are held out for testing, "
                                         f"so at least 3 leave one on each side), got {n}")
    return n


def _output_file(flag: str, path: str, suffixes=None) -> Path:
    """Create the folder of an output file now and check it is writable, so that a bad path
    fails before training rather than after it."""
    p = Path(path)
    if suffixes is not None and p.suffix.lower().lstrip(".") not in suffixes:
        raise ValueError(f"{flag}: unknown file type {p.suffix or '(none)'!r} in {path!r}; use one of "
                         f"{', '.join('.' + s for s in sorted(suffixes))}")
    folder = p.parent if str(p.parent) else Path(".")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ValueError(f"{flag}: cannot create the folder {folder} ({exc.strerror or exc})") from None
    if not os.access(folder, os.W_OK) or (p.exists() and not os.access(p, os.W_OK)):
        raise ValueError(f"{flag}: cannot write {p}; choose another path")
    return p


def _data(name: str, n: int | None, seed: int):
    import nlpnet
    rng = np.random.default_rng(seed)
    if name == "sine":
        X, y = nlpnet.sine_data(n or 20, seed=rng)
    elif name == "sin_x2":
        X, y = nlpnet.sin_x2_data(n or 40, seed=rng)
    else:
        X, y = nlpnet.abs_data(n or 100)
    return nlpnet.train_test_split(X, y, 0.2, seed=rng), rng


def cmd_train(a) -> int:
    import nlpnet
    from .solvers import get_solver
    get_solver(a.solver)  # fail on an unknown name before building anything
    if a.save:
        _output_file("--save", a.save)
    if a.plot:
        from matplotlib.backend_bases import FigureCanvasBase
        _output_file("--plot", a.plot, set(FigureCanvasBase.get_supported_filetypes()))
    (Xtr, Xte, ytr, yte), rng = _data(a.data, a.n, a.seed)
    if a.sizes[0] != 1 or a.sizes[-1] != 1:
        print("error: --sizes: the built-in data sets have one input and one output (e.g. 1,8,8,1)", file=sys.stderr)
        return 2
    init = a.init or ("nguyen_widrow" if a.data == "sine" else "glorot_uniform")
    net = nlpnet.Network(a.sizes, activation=a.activation, init=init, seed=rng,
                         input_range=(float(Xtr.min()), float(Xtr.max())))
    prob = nlpnet.Problem(net, Xtr, ytr, X_val=Xte, y_val=yte, formulation=a.formulation)
    print(f"training {net} on {a.data} data ({len(Xtr)} train / {len(Xte)} test) with {a.solver} "
          f"({prob.formulation.describe()}) ...", flush=True)
    res = prob.solve(a.solver, **a.options)
    print(f"status      {res.status.value} ({res.message})")
    print(f"train MSE   {res.train_loss:.6g}")
    print(f"test MSE    {res.val_loss:.6g}")
    print(f"iterations  {res.iterations}")
    print(f"wall time   {res.wall_time:.3f} s")
    if res.constraint_violation is not None:
        print(f"violation   {res.constraint_violation:.2e}")
    if a.save:
        print(f"saved       {res.network.save(a.save)}")
    if a.plot:
        from .plotting import plot_fit, save
        save(plot_fit(res.network, Xtr, ytr, Xte, yte, label=a.solver), a.plot)
        print(f"plot        {a.plot}")
    return 0


def cmd_solvers(a) -> int:
    from . import available_solvers
    for name, summary in available_solvers().items():
        print(f"{name:14s} {summary}")
    return 0


def cmd_info(a) -> int:
    import casadi
    import matplotlib

    from . import __version__
    from .data import default_data_dir
    print(f"nlpnet {__version__}; casadi {casadi.__version__}; numpy {np.__version__}; "
          f"matplotlib {matplotlib.__version__}")
    d = default_data_dir()
    print(f"Santa Fe data: {d if d else 'not found (set NLPNET_DATA or pass path=...)'}")
    return 0


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="nlpnet", description="Train neural networks as nonlinear programs.")
    sub = p.add_subparsers(dest="command")
    t = sub.add_parser("train", help="train a network on a built-in data set")
    t.add_argument("--data", choices=("sine", "sin_x2", "abs"), default="sine")
    t.add_argument("--n", type=_n_samples, default=None,
                   help="number of samples, ≥ 3 (default: the published size: 20 for sine, 40 for sin_x2, 100 for abs)")
    t.add_argument("--sizes", type=_sizes, default=[1, 8, 8, 1])
    t.add_argument("--activation", default="relu")
    t.add_argument("--init", default=None, help="initialiser (default nguyen_widrow for sine, else glorot_uniform)")
    t.add_argument("--formulation", default="multiple_shooting", choices=("multiple_shooting", "single_shooting"))
    t.add_argument("--solver", default="ipopt")
    t.add_argument("--options", type=_options, default={}, help="solver options as JSON")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--save", default=None, help="save the trained network (.npz; the folder is created if missing)")
    t.add_argument("--plot", default=None,
                   help="save a plot of the fit (.png, .pdf, .svg, ...; the folder is created if missing)")
    t.set_defaults(func=cmd_train)
    sub.add_parser("experiment", add_help=False, help="run a published experiment (nlpnet experiment --list)")
    sub.add_parser("solvers", help="list the available solvers").set_defaults(func=cmd_solvers)
    sub.add_parser("info", help="versions and data location").set_defaults(func=cmd_info)
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "experiment":  # its own command line: the shared experiment flags and NAME's
        from .experiments import main as experiment_main
        return experiment_main(argv[1:])
    a = p.parse_args(argv)
    if a.command is None:
        a = p.parse_args(["train"] + (argv or []))
    try:
        return a.func(a)
    except (ValueError, TypeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
