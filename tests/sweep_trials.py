"""Trials for the runner tests. They live in an importable module (not in a test file) so that
worker processes and Dask workers, which import a trial by name, find them.

Run as a script it is a small sweep driven from the command line, for the tests that kill
or interrupt a real sweep process:

    python tests/sweep_trials.py OUT_CSV N [--workers W] [--backend processes|dask] [--sleep S]
"""
from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

COLUMNS = ("pid", "payload")


def log(task, what="run"):
    if task.get("log"):
        with open(task["log"], "a") as f:
            f.write(f"{what},{task['config']},{task['method']},{task['seed']},{os.getpid()}\n")


def calls(path, what="run") -> list[list[str]]:
    p = Path(path)
    lines = p.read_text().splitlines() if p.exists() else []
    return [line.split(",")[1:] for line in lines if line.startswith(what + ",")]


def square_trial(task):
    """seed s → train_mse s²/100, iterations s + 1; seed 13 raises."""
    log(task)
    if task["seed"] == 13:
        raise RuntimeError("unlucky seed")
    return {"status": "success", "train_mse": float(task["seed"]) ** 2 / 100, "test_mse": "",
            "iterations": task["seed"] + 1}


def slow_trial(task):
    """Logs its start, then sleeps ``task["sleep"]`` seconds in small Python-level steps."""
    log(task, "start")
    end = time.monotonic() + task.get("sleep", 0.0)
    while time.monotonic() < end:
        time.sleep(0.01)
    log(task, "end")
    # a long value makes the row span several pages of the file, so a kill can tear its write
    return {"status": "success", "train_mse": task["seed"] / 7, "test_mse": "", "iterations": 1,
            "pid": os.getpid(), "payload": "x" * task.get("payload", 0)}


def dying_trial(task):
    """Kills its own worker with SIGKILL: on the first attempt for seeds in ``die_once``,
    on every attempt for seeds in ``die_always``; otherwise like :func:`slow_trial`."""
    marker = Path(task["log"]).with_name(f"attempt-{task['config']}-{task['method']}-{task['seed']}")
    first = not marker.exists()
    marker.touch()
    if task["seed"] in task.get("die_always", ()) or (first and task["seed"] in task.get("die_once", ())):
        log(task, "die")
        time.sleep(task.get("sleep", 0.0))
        os.kill(os.getpid(), signal.SIGKILL)
    return slow_trial(task)


def interrupt_trial(task):
    """Stands for a solver that catches Ctrl-C and returns ``user_stop``, as nlpnet's do."""
    log(task, "start")
    try:
        end = time.monotonic() + task.get("sleep", 0.0)
        while time.monotonic() < end:
            time.sleep(0.01)
    except KeyboardInterrupt:
        return {"status": "user_stop", "train_mse": 1.0, "test_mse": "", "iterations": 0}
    log(task, "end")
    return {"status": "success", "train_mse": 0.0, "test_mse": "", "iterations": 1}


def main(argv=None):
    import argparse

    from nlpnet.runner import SweepInterrupted, run_trials
    p = argparse.ArgumentParser()
    p.add_argument("out")
    p.add_argument("n", type=int)
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--backend", default=None)
    p.add_argument("--sleep", type=float, default=0.0)
    p.add_argument("--payload", type=int, default=0)
    p.add_argument("--trial", default="slow_trial")
    a = p.parse_args(argv)
    log_path = str(Path(a.out).with_name("log.txt"))
    tasks = [{"config": "c", "method": "m", "seed": s, "sleep": a.sleep, "payload": a.payload, "log": log_path}
             for s in range(a.n)]
    try:
        run_trials(globals()[a.trial], tasks, a.out, workers=a.workers, backend=a.backend, columns=COLUMNS,
                   progress="lines")
    except SweepInterrupted as exc:
        print(exc, file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import sweep_trials  # noqa: F401  - workers import the trials under this name, not __main__
    sys.exit(sweep_trials.main())
