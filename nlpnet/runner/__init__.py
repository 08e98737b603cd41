"""Sweeps: run a trial over (config, method, seed) tasks on local processes or a Dask cluster,
writing each finished run to a crash-safe, resumable results file.

    from nlpnet.runner import run_trials
    rows = run_trials(trial, tasks, "out/runs.csv", workers=2, columns=("violation",))
    rows = run_trials(trial, tasks, "out/runs.csv", backend="dask", workers=4)
    rows = run_trials(trial, tasks, "out/runs.csv", scheduler="tcp://10.0.0.5:8786")

* :mod:`~nlpnet.runner.sweep`     — :func:`run_trials`: resume, retries of lost runs, Ctrl-C;
* :mod:`~nlpnet.runner.results`   — the results file: declared schema, one durable line per
  run, validation and repair of a file torn by a kill;
* :mod:`~nlpnet.runner.backends`  — serial, local worker processes, Dask;
* :mod:`~nlpnet.runner.progress`  — tqdm bar or one line per finished run.

The experiments' shared command line lives in :mod:`nlpnet.experiments`.
"""
from .backends import BACKENDS, Lost, call_trial, make_backend
from .progress import PROGRESS_MODES, Progress
from .results import KEY_COLUMNS, RUN_COLUMNS, ResultsFile, ResultsFileBusy, read_rows, run_key, schema
from .sweep import SweepInterrupted, run_trials

__all__ = ["run_trials", "SweepInterrupted", "read_rows", "ResultsFile", "ResultsFileBusy", "RUN_COLUMNS",
           "KEY_COLUMNS", "schema", "run_key", "BACKENDS", "Lost", "call_trial", "make_backend", "Progress",
           "PROGRESS_MODES", "experiment_parser"]


def __getattr__(name):
    # the shared experiment command line moved to nlpnet.experiments; kept importable from here
    if name == "experiment_parser":
        from ..experiments.base import experiment_parser
        return experiment_parser
    raise AttributeError(f"module 'nlpnet.runner' has no attribute {name!r}")
