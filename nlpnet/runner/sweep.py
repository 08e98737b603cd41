"""run_trials: run every task of a sweep once, on any backend, resumably.

A task is a dict with at least ``config`` (str), ``method`` (str) and ``seed`` (int); the
trial is a module-level function ``trial(task) -> dict`` of results. Each finished run is
written to the results file the moment it arrives (see :mod:`nlpnet.runner.results`), so
a rerun of the same sweep skips every finished run and does only the rest.

Outcomes of a run:

* the trial returns → its row (the runner adds the key columns and, if the trial did not,
  ``time_s``);
* the trial raises → a row with status ``failed`` and the exception as ``message``;
* the worker running it dies (SIGKILL, out of memory, a crash in native code) → the run
  is submitted once more; if it is lost again it is recorded as ``failed`` with the reason;
* Ctrl-C → the sweep stops at once: in a serial sweep the run in progress is not recorded
  (whatever the interrupted solver returned), in a parallel one the workers are ended; every
  finished run stays in the file and :class:`SweepInterrupted` (a ``KeyboardInterrupt``)
  is raised, which the command line turns into exit code 130.
"""
from __future__ import annotations

import collections
import contextlib
import signal
import threading
from numbers import Integral

from .backends import BACKENDS, Lost, make_backend
from .progress import Progress, resolve_mode
from .results import KEY_COLUMNS, ResultsFile, format_cell, parse_cell, run_key, schema

__all__ = ["run_trials", "SweepInterrupted"]


class SweepInterrupted(KeyboardInterrupt):
    """Ctrl-C ended a sweep; ``done`` of ``total`` runs are finished and kept in ``path``."""

    def __init__(self, done: int, total: int, path=None):
        super().__init__(done, total, path)
        self.done, self.total, self.path = done, total, path

    def __str__(self) -> str:
        where = f" and kept in {self.path}" if self.path else ""
        return (f"interrupted: {self.done} of {self.total} runs are finished{where}; the runs in progress were "
                "not recorded; rerun the same command to resume")


class _CtrlC:
    """SIGINT during a sweep: remembered, and raised as KeyboardInterrupt except while a
    finished run is being recorded (then it is raised right after)."""

    def __init__(self):
        self.requested = False
        self._depth = 0
        self._prev = None

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            self._prev = signal.signal(signal.SIGINT, self._handler)
        return self

    def __exit__(self, *exc):
        if self._prev is not None:
            signal.signal(signal.SIGINT, self._prev)
            self._prev = None

    def _handler(self, signum, frame):
        self.requested = True
        if self._depth == 0:
            raise KeyboardInterrupt

    @contextlib.contextmanager
    def recording(self):
        self._depth += 1
        try:
            yield
        finally:
            self._depth -= 1
        if self.requested:
            raise KeyboardInterrupt


class _NoFile:
    """Results kept in memory only (``path=None``), with the same checks and formatting."""

    def __init__(self, columns):
        self.declared = self.columns = tuple(columns)
        self.rows, self.repairs = [], []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        pass

    def append(self, row):
        unknown = [k for k in row if k not in self.declared]
        if unknown:
            raise ValueError(f"columns: the trial returned {unknown}, which the declared columns do not name; "
                             f"add them to columns= (declared: {', '.join(self.declared)})")
        return {c: parse_cell(format_cell(row.get(c))) for c in self.columns}


def _check_tasks(tasks) -> list[dict]:
    tasks = list(tasks)
    seen = {}
    for i, t in enumerate(tasks):
        if not isinstance(t, dict):
            raise TypeError(f"tasks: every task must be a dict, task {i} is a {type(t).__name__}")
        missing = [k for k in KEY_COLUMNS if k not in t]
        if missing:
            raise ValueError(f"tasks: every task needs keys {KEY_COLUMNS}; task {i} lacks {missing}")
        for k in ("config", "method"):
            if not isinstance(t[k], str) or not t[k] or "\n" in t[k] or "\r" in t[k]:
                raise ValueError(f"tasks: {k!r} must be a non-empty one-line string, task {i} has {t[k]!r}")
        if isinstance(t["seed"], bool) or not isinstance(t["seed"], Integral):
            raise ValueError(f"tasks: 'seed' must be an integer, task {i} has {t['seed']!r}")
        key = run_key(t)
        if key in seen:
            raise ValueError(f"tasks: tasks {seen[key]} and {i} are the same run (config, method, seed) = {key}")
        seen[key] = i
    return tasks


def _check_options(workers, backend, scheduler, retries):
    if isinstance(workers, bool) or not isinstance(workers, Integral) or workers < 1:
        raise ValueError(f"workers: must be an integer ≥ 1, got {workers!r}")
    if backend is not None and backend not in BACKENDS:
        raise ValueError(f"backend: expected one of {', '.join(BACKENDS)}, got {backend!r}")
    if scheduler is not None:
        if not isinstance(scheduler, str) or not scheduler.strip():
            raise ValueError(f"scheduler: expected an address such as tcp://127.0.0.1:8786, got {scheduler!r}")
        if backend == "processes":
            raise ValueError("scheduler: a scheduler address needs backend='dask' (--backend dask)")
    if isinstance(retries, bool) or not isinstance(retries, Integral) or retries < 0:
        raise ValueError(f"retries: must be an integer ≥ 0, got {retries!r}")
    return int(workers), (backend or ("dask" if scheduler else "processes"))


def run_trials(trial, tasks, path=None, *, workers: int = 1, backend: str | None = None, scheduler: str | None = None,
               columns=(), progress=True, retries: int = 1, stream=None) -> list[dict]:
    """Run ``trial`` on every task not yet in the results file ``path``; return every task's
    row (finished earlier or now), in task order, as read back from the file.

    workers:   parallel runs; 1 runs in this process (with ``backend="processes"``).
    backend:   ``"processes"`` (default) or ``"dask"`` (a LocalCluster of ``workers``
               processes, or the cluster at ``scheduler``).
    scheduler: address of a running Dask scheduler, e.g. ``"tcp://10.0.0.5:8786"``.
    columns:   the experiment's own columns, declared up front; the file's header is the
               standard :data:`RUN_COLUMNS`, these, then ``message``. A trial returning a
               key that is not declared stops the sweep with a ValueError.
    progress:  True (bar on a terminal when tqdm is installed, else one line per run),
               ``"bar"``, ``"lines"`` or False.
    retries:   how often a run lost with its worker is resubmitted (default 1).
    """
    if not callable(trial):
        raise TypeError(f"trial: expected a function task -> dict, got {type(trial).__name__}")
    tasks = _check_tasks(tasks)
    workers, backend = _check_options(workers, backend, scheduler, retries)
    mode = resolve_mode(progress, stream)
    cols = schema(columns)
    store = ResultsFile(path, cols) if path is not None else _NoFile(cols)
    with store:
        finished = {run_key(r): r for r in store.rows}
        todo = [i for i, t in enumerate(tasks) if run_key(t) not in finished]
        prog = Progress(mode, total=len(tasks), done=len(tasks) - len(todo), stream=stream)
        for what in store.repairs:
            prog.note(f"repaired {path}: dropped {what}")
        if len(todo) < len(tasks):
            prog.note(f"resuming: {len(tasks) - len(todo)} of {len(tasks)} runs already in {path}")
        new = {}
        try:
            if todo:
                _sweep(trial, tasks, todo, store, new, prog, workers, backend, scheduler, retries)
        finally:
            prog.close()
        if todo and len(new) < len(todo):  # pragma: no cover - the backends always deliver every run
            raise RuntimeError(f"{len(todo) - len(new)} runs were neither finished nor failed")
    return [new[i] if i in new else finished[run_key(t)] for i, t in enumerate(tasks)]


def _sweep(trial, tasks, todo, store, new, prog, workers, backend, scheduler, retries):
    be = make_backend(trial, workers, backend, scheduler)
    lost = collections.Counter()
    ctrl_c = _CtrlC()
    try:
        with ctrl_c:
            be.start()
            for i in todo:
                be.submit(i, tasks[i])
            for ref, out in be.results():
                with ctrl_c.recording():
                    if ctrl_c.requested:  # whatever an interrupted run returned, it did not finish
                        raise KeyboardInterrupt
                    task = tasks[ref]
                    if isinstance(out, Lost):
                        lost[ref] += 1
                        if lost[ref] <= retries:
                            prog.note(f"lost {task['config']} {task['method']} seed={task['seed']}: {out.reason}; "
                                      "running it again")
                            be.resubmit_lost(ref, task) if hasattr(be, "resubmit_lost") else be.submit(ref, task)
                            continue
                        out = {"status": "failed", "message": f"lost {lost[ref]} times: {out.reason}"}
                    row = {**out, **{k: task[k] for k in KEY_COLUMNS}}  # the task names the run, not the trial
                    new[ref] = store.append(row)
                    prog.update(new[ref])
    except KeyboardInterrupt:
        be.stop()
        done = len(tasks) - len(todo) + len(new)
        raise SweepInterrupted(done, len(tasks), store.path if hasattr(store, "path") else None) from None
    finally:
        be.stop()
