"""The shared experiment command line and the one function that runs any experiment.

    nlpnet experiment NAME [--runs R] [--workers W] [--out DIR] [--seed S] [--quick]
                           [--backend processes|dask] [--scheduler ADDRESS] [--progress MODE]

An experiment is a module with ``TITLE``, ``COLUMNS`` (its own results columns beyond the
standard ones, declared up front so the results file's header never depends on which run
finishes first), ``tasks(args) -> list of task dicts``, a module-level ``trial(task) -> dict``
(imported by name on workers), ``report(rows, args, out, command) -> str`` (writes
``table.md`` and the plots, returns the table), and optionally ``add_arguments(parser)``.
:func:`run_experiment` checks the command line before anything is built, runs the tasks
through :func:`nlpnet.runner.run_trials` into ``DIR/runs.csv`` and calls ``report``.
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from ..runner import BACKENDS, run_trials

__all__ = ["Experiment", "experiment_parser", "run_experiment", "positive_int", "nonnegative_int"]


@dataclass(frozen=True)
class Experiment:
    """A registry entry: ``module`` holds the protocol (``"package.module"``, or
    ``"package.module:NAME"`` for an object in it); the rest is what ``--list`` shows."""

    name: str
    module: str
    reproduces: str
    runs: int
    quick_runs: int
    rough_time: str

    def load(self):
        module, _, attr = self.module.partition(":")
        mod = importlib.import_module(module)
        return getattr(mod, attr) if attr else mod


def positive_int(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer (≥ 1), got {v}")
    return v


def nonnegative_int(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer ≥ 0, got {text!r}") from None
    if v < 0:
        raise argparse.ArgumentTypeError(f"must be an integer ≥ 0, got {v}")
    return v


def experiment_parser(name: str, description: str, runs: int | None = None, prog: str | None = None,
                      quick_runs: int | None = None) -> argparse.ArgumentParser:
    """The shared command line; ``--out`` defaults to experiments/results/<name>."""
    p = argparse.ArgumentParser(prog=prog or f"{name}.py", description=description,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    quick = f"; --quick: {quick_runs}" if quick_runs else ""
    p.add_argument("--runs", type=positive_int, default=runs if quick_runs is None else None, metavar="R",
                   help=f"runs (seeds) per configuration (default {runs}{quick})")
    p.add_argument("--workers", type=positive_int, default=1, metavar="W",
                   help="runs in parallel: local worker processes, or LocalCluster workers with --backend dask "
                        "(default 1: in this process)")
    p.add_argument("--out", type=Path, default=Path("experiments") / "results" / name, metavar="DIR",
                   help=f"output folder, created if missing (default experiments/results/{name})")
    p.add_argument("--seed", type=nonnegative_int, default=0, metavar="S", help="base seed; run r uses seed S + r (default 0)")
    p.add_argument("--quick", action="store_true", help="a small smoke version (few runs, small budgets)")
    p.add_argument("--backend", choices=BACKENDS, default=None,
                   help="where runs execute: local processes (default) or Dask (optional extra 'cluster')")
    p.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="submit every run to the running Dask scheduler at ADDRESS, e.g. tcp://10.0.0.5:8786 "
                        "(implies --backend dask; --workers is then the cluster's business)")
    p.add_argument("--progress", choices=("auto", "bar", "lines", "none"), default="auto",
                   help="progress display: a bar on a terminal (with tqdm), one line per run otherwise (default auto)")
    return p


def _check_out(p: argparse.ArgumentParser, out: Path) -> None:
    """Create the output folder now, so that a bad --out fails before any run."""
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        p.error(f"argument --out: cannot create {out} ({exc.strerror or exc})")
    if not os.access(out, os.W_OK):
        p.error(f"argument --out: {out} is not writable")


def run_experiment(exp: Experiment, argv=None, prog: str | None = None) -> list[dict]:
    """Parse ``argv`` with the shared command line (plus the experiment's own flags), run the
    sweep, write the report, print the table; return the rows. Raises SweepInterrupted on
    Ctrl-C (every finished run kept)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    mod = exp.load()
    p = experiment_parser(exp.name, f"{exp.reproduces}.\n\n{(mod.__doc__ or '').strip()}", exp.runs,
                          prog=prog, quick_runs=exp.quick_runs)
    if hasattr(mod, "add_arguments"):
        mod.add_arguments(p)
    a = p.parse_args(argv)
    if a.scheduler is not None and a.backend == "processes":
        p.error("argument --scheduler: a scheduler address needs --backend dask (or no --backend)")
    if a.runs is None:
        a.runs = exp.quick_runs if a.quick else exp.runs
    if hasattr(mod, "check_arguments"):
        mod.check_arguments(p, a)
    _check_out(p, a.out)
    tasks = mod.tasks(a)
    progress = False if a.progress == "none" else (True if a.progress == "auto" else a.progress)
    rows = run_trials(mod.trial, tasks, a.out / "runs.csv", workers=a.workers, backend=a.backend,
                      scheduler=a.scheduler, columns=getattr(mod, "COLUMNS", ()), progress=progress)
    command = " ".join([prog or f"nlpnet experiment {exp.name}"] + argv)
    print(mod.report(rows, a, a.out, command))
    return rows
