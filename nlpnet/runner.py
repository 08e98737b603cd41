"""Repeat a trial over seeds (and configurations, methods) with resumable results files.

:func:`run_trials` runs ``trial(task) -> dict`` for each task (a dict with at least
``config``, ``method`` and ``seed``), in worker processes when ``workers > 1``. Each
finished row is appended to the CSV file at once, so an interrupted run loses nothing;
a rerun reads the file and skips tasks whose (config, method, seed) are already there.
A trial that raises is recorded with status ``failed`` and its message; the others go on.

:func:`experiment_parser` is the command line shared by every experiment script:
``--runs R --workers W --out DIR --seed S --quick``.
"""
from __future__ import annotations

import argparse
import csv
import math
import os
import sys
import time
import traceback
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

__all__ = ["run_trials", "read_rows", "experiment_parser", "RUN_COLUMNS"]

RUN_COLUMNS = ("config", "seed", "method", "status", "train_mse", "test_mse", "time_s", "iterations")
_KEY = ("config", "method", "seed")


def _key(row) -> tuple:
    return tuple(str(row[k]) for k in _KEY)


def _parse(v: str):
    """CSV cell → int, float, or the string itself ("" stays "")."""
    for conv in (int, float):
        try:
            return conv(v)
        except (TypeError, ValueError):
            pass
    return v


def read_rows(path) -> list[dict]:
    """Rows of a results CSV (numbers parsed; empty list when the file is missing)."""
    path = Path(path)
    if not path.exists():
        return []
    with path.open(newline="") as f:
        return [{k: _parse(v) for k, v in r.items()} for r in csv.DictReader(f)]


def _safe_trial(trial, task):
    t0 = time.perf_counter()
    try:
        row = trial(task)
    except Exception as exc:  # one bad run must not end the series
        row = {"status": "failed", "message": f"{type(exc).__name__}: {exc}",
               "traceback": traceback.format_exc(limit=3)}
    row = {**{k: task[k] for k in _KEY}, **row}
    row.setdefault("time_s", time.perf_counter() - t0)
    return row


class _Writer:
    def __init__(self, path, columns):
        self.path, self.columns = (Path(path) if path else None), list(columns) if columns else None
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if self.path.exists() and self.path.stat().st_size > 0:
                with self.path.open(newline="") as f:
                    self.columns = next(csv.reader(f))

    def write(self, row: dict):
        if self.path is None:
            return
        if self.columns is None:
            self.columns = list(RUN_COLUMNS) + [k for k in row if k not in RUN_COLUMNS]
        new = not self.path.exists() or self.path.stat().st_size == 0
        with self.path.open("a", newline="") as f:
            w = csv.DictWriter(f, fieldnames=self.columns, extrasaction="ignore")
            if new:
                w.writeheader()
            w.writerow({k: _fmt(row.get(k, "")) for k in self.columns})
            f.flush()
            os.fsync(f.fileno())


def _fmt(v):
    if isinstance(v, float):
        return "" if math.isnan(v) else repr(v)
    return "" if v is None else v


def run_trials(trial, tasks, path=None, *, workers: int = 1, progress: bool = True, columns=None) -> list[dict]:
    """Run ``trial`` on every task not yet in ``path``; return all rows (old and new).

    ``trial`` must be a module-level function (it is pickled for worker processes) that
    returns a dict of results; the runner adds ``config``, ``method``, ``seed`` and, if the
    trial did not, ``time_s``. ``columns`` fixes the CSV header (default: ``RUN_COLUMNS``
    followed by the first row's other keys).
    """
    tasks = list(tasks)
    for t in tasks:
        missing = [k for k in _KEY if k not in t]
        if missing:
            raise ValueError(f"tasks: every task needs keys {_KEY}; one lacks {missing}")
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers: must be an integer ≥ 1, got {workers!r}")
    old = read_rows(path) if path else []
    done = {_key(r) for r in old}
    todo = [t for t in tasks if _key(t) not in done]
    writer = _Writer(path, columns)
    if progress and done:
        print(f"resuming: {len(tasks) - len(todo)} of {len(tasks)} runs already in {path}", file=sys.stderr)
    rows, n = [], len(todo)

    def finish(i, row):
        writer.write(row)
        rows.append(row)
        if progress:
            tr = row.get("train_mse", "")
            tr = f" train_mse={tr:.3g}" if isinstance(tr, float) else ""
            tm = row.get("time_s", "")
            tm = f" ({tm:.2f}s)" if isinstance(tm, float) else ""
            print(f"[{i}/{n}] {row['config']} {row['method']} seed={row['seed']}: {row.get('status', '')}{tr}{tm}",
                  file=sys.stderr, flush=True)

    if workers == 1 or n <= 1:
        for i, t in enumerate(todo, 1):
            finish(i, _safe_trial(trial, t))
    else:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            futures = [pool.submit(_safe_trial, trial, t) for t in todo]
            for i, fut in enumerate(as_completed(futures), 1):
                finish(i, fut.result())
    order = {_key(t): i for i, t in enumerate(tasks)}
    new = sorted(rows, key=lambda r: order.get(_key(r), len(order)))
    return [r for r in old if _key(r) in order] + new


def experiment_parser(name: str, description: str, runs: int) -> argparse.ArgumentParser:
    """The shared experiment command line; ``--out`` defaults to experiments/results/<name>."""
    p = argparse.ArgumentParser(prog=f"{name}.py", description=description)
    p.add_argument("--runs", type=int, default=runs, help=f"runs per configuration (default {runs})")
    p.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    p.add_argument("--out", type=Path, default=Path("experiments") / "results" / name,
                   help=f"output folder (default experiments/results/{name})")
    p.add_argument("--seed", type=int, default=0, help="base seed; run r uses seed S + r (default 0)")
    p.add_argument("--quick", action="store_true", help="a small smoke version (few runs, small limits)")
    return p
