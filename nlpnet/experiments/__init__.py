"""The published experiments, runnable by name: ``nlpnet experiment NAME ...`` (or the thin
``experiments/NAME.py`` scripts of a source checkout, which call the same code).

Each experiment module holds one protocol (see :mod:`nlpnet.experiments.base` for the
interface); :mod:`nlpnet.experiments.published` holds what several share: the Table 4.1
configurations, every published number and the ``table.md`` writer. Trials are
module-level functions of this package, so local worker processes and Dask workers import
them by name (a Dask worker needs the same nlpnet installed).
"""
from __future__ import annotations

import sys

from .base import Experiment, experiment_parser, run_experiment

__all__ = ["EXPERIMENTS", "get_experiment", "list_experiments", "main", "Experiment", "experiment_parser",
           "run_experiment"]

# rough times: the default command with --workers 2 on the project's 2-core machine (docs/experiments.md)
EXPERIMENTS = {e.name: e for e in [
    Experiment("table_2_1", "nlpnet.experiments.chapter2:TABLE_2_1",
               "thesis Table 2.1: tanh 1-3-3-1, multiple shooting (IPOPT) vs gradient descent", 20, 2, "20 s"),
    Experiment("table_2_2", "nlpnet.experiments.chapter2:TABLE_2_2",
               "thesis Table 2.2: ReLU 1-8-8-1 by complementarity, multiple shooting vs gradient descent", 20, 2,
               "30 s"),
    Experiment("table_4_1", "nlpnet.experiments.table_4_1",
               "thesis Table 4.1: augmented Lagrangian vs Adam on sin(x²), tanh and ReLU nets", 20, 2, "1 min"),
    Experiment("figure_3_1", "nlpnet.experiments.figure_3_1",
               "thesis Figures 3.1/4.1: ALM convergence per outer iteration", 5, 1, "2 s"),
    Experiment("figure_3_2", "nlpnet.experiments.figure_3_2",
               "thesis Figure 3.2: Jacobian sparsity of the lifted problem in two row orders", 1, 1, "1 s"),
    Experiment("santafe", "nlpnet.experiments.santafe",
               "thesis Tables 4.2/4.3: Santa Fe laser series, 80-48-1 tanh, ALM vs Adam", 4, 1, "5 min"),
    Experiment("optimizers", "nlpnet.experiments.optimizers",
               "every back-propagation optimizer on the Table 4.1 problems, with performance profiles", 20, 2,
               "8 min"),
    Experiment("collapse", "nlpnet.experiments.collapse",
               "lecture: collapse of a 10-layer width-2 ReLU net on |x| (Adam vs lifted solvers)", 1000, 20,
               "9 min"),
    Experiment("mnist", "nlpnet.experiments.mnist",
               "MNIST (seed 002): ReLU classifiers by Adam, SGD, L-BFGS and the ALM, cross-entropy and MSE", 3, 1,
               "2 h"),
    Experiment("ialam", "nlpnet.experiments.ialam",
               "seed 002: iALAM on leaky-ReLU nets with group sparsity (synthetic, MNIST, pruning, performance "
               "profiles)", 3, 1, "3 h"),
    Experiment("lecture", "nlpnet.experiments.lecture",
               "lecture: Adam vs Nadam, Adam then L-BFGS, learning-rate schedules, collapse fraction", 20, 2,
               "11 min"),
]}


def get_experiment(name: str) -> Experiment:
    if name not in EXPERIMENTS:
        import difflib
        close = difflib.get_close_matches(str(name), EXPERIMENTS, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ValueError(f"experiment: unknown experiment {name!r}{hint} (available: {', '.join(EXPERIMENTS)}; "
                         "`nlpnet experiment --list` describes them)")
    return EXPERIMENTS[name]


def list_experiments() -> str:
    """The ``--list`` table: name, what it reproduces, default runs, rough time."""
    w = max(len(n) for n in EXPERIMENTS)
    lines = [f"{'name':{w}s}  {'runs':>5s}  {'time':>7s}  reproduces"]
    for e in EXPERIMENTS.values():
        lines.append(f"{e.name:{w}s}  {e.runs:5d}  {e.rough_time:>7s}  {e.reproduces}")
    lines.append("")
    lines.append("runs: default runs per configuration; time: rough wall time of the default command with "
                 "--workers 2 on a 2-core machine. `nlpnet experiment NAME --help` lists the flags.")
    return "\n".join(lines)


_USAGE = ("usage: nlpnet experiment NAME [--runs R] [--workers W] [--out DIR] [--seed S] [--quick]\n"
          "                         [--backend processes|dask] [--scheduler ADDRESS] [--progress MODE]\n"
          "       nlpnet experiment --list")


def main(argv=None, prog: str | None = None) -> int:
    """``nlpnet experiment``: returns the exit code (0, 2 on bad input, 130 on Ctrl-C)."""
    from ..runner import ResultsFileBusy, SweepInterrupted
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(_USAGE + "\n\nRun one of the published experiments; --list describes them.\n", file=sys.stdout)
        print(list_experiments())
        return 0 if argv else 2
    if argv[0] == "--list":
        print(list_experiments())
        return 0
    try:
        exp = get_experiment(argv[0])
    except ValueError as exc:
        print(f"{_USAGE}\nerror: {exc}", file=sys.stderr)
        return 2
    try:
        run_experiment(exp, argv[1:], prog=prog or f"nlpnet experiment {exp.name}")
    except SweepInterrupted as exc:
        print(f"\n{exc}", file=sys.stderr)
        return 130
    except KeyboardInterrupt:  # during set-up or the report, before or after the sweep
        print("\ninterrupted", file=sys.stderr)
        return 130
    except (ValueError, ImportError, ResultsFileBusy) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0
