"""run_trials: append-as-you-go, resume, failures recorded, worker processes; experiment CLI."""
from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest

from nlpnet.runner import RUN_COLUMNS, experiment_parser, read_rows, run_trials


# Trials must be module-level functions so that worker processes can unpickle them.
def square_trial(task):
    with open(task["log"], "a") as f:
        f.write(f"{task['config']},{task['method']},{task['seed']},{os.getpid()}\n")
    if task["seed"] == 13:
        raise RuntimeError("unlucky seed")
    return {"status": "success", "train_mse": float(task["seed"]) ** 2 / 100, "test_mse": "",
            "iterations": task["seed"] + 1}


def _tasks(log, seeds, config="tanh-N20", method="ipopt"):
    return [{"config": config, "method": method, "seed": s, "log": str(log)} for s in seeds]


def _calls(log) -> list[str]:
    return Path(log).read_text().splitlines() if Path(log).exists() else []


def test_rows_are_written_in_order_with_standard_columns(tmp_path):
    out, log = tmp_path / "res" / "runs.csv", tmp_path / "log.txt"
    rows = run_trials(square_trial, _tasks(log, range(4)), out, progress=False)
    assert [r["seed"] for r in rows] == [0, 1, 2, 3]
    assert all(r["config"] == "tanh-N20" and r["method"] == "ipopt" for r in rows)
    with out.open() as f:
        header = next(csv.reader(f))
    assert header[:len(RUN_COLUMNS)] == list(RUN_COLUMNS)
    back = read_rows(out)
    assert [r["seed"] for r in back] == [0, 1, 2, 3]
    assert [r["train_mse"] for r in back] == [0.0, 0.01, 0.04, 0.09]
    assert [r["iterations"] for r in back] == [1, 2, 3, 4]
    assert all(r["test_mse"] == "" for r in back) and all(isinstance(r["time_s"], float) for r in back)
    assert len(_calls(log)) == 4


def test_rerun_resumes_and_skips_finished_tasks(tmp_path):
    out, log = tmp_path / "runs.csv", tmp_path / "log.txt"
    run_trials(square_trial, _tasks(log, range(3)), out, progress=False)
    assert len(_calls(log)) == 3
    rows = run_trials(square_trial, _tasks(log, range(5)), out, progress=False)
    calls = _calls(log)
    assert len(calls) == 5 and [c.split(",")[2] for c in calls[3:]] == ["3", "4"]
    assert [r["seed"] for r in rows] == [0, 1, 2, 3, 4]
    assert len(read_rows(out)) == 5
    # nothing left to do: no calls, same rows
    again = run_trials(square_trial, _tasks(log, range(5)), out, progress=False)
    assert len(_calls(log)) == 5 and [r["seed"] for r in again] == [0, 1, 2, 3, 4]
    # other (config, method) keys are separate tasks
    run_trials(square_trial, _tasks(log, range(2), method="gd"), out, progress=False)
    assert len(_calls(log)) == 7 and len(read_rows(out)) == 7


def test_resume_reports_progress(tmp_path, capsys):
    out, log = tmp_path / "runs.csv", tmp_path / "log.txt"
    run_trials(square_trial, _tasks(log, range(2)), out, progress=True)
    err = capsys.readouterr().err
    assert "[1/2] tanh-N20 ipopt seed=0: success" in err and "train_mse=" in err
    run_trials(square_trial, _tasks(log, range(3)), out, progress=True)
    assert "resuming: 2 of 3 runs already in" in capsys.readouterr().err


def test_a_raising_trial_is_recorded_as_failed(tmp_path):
    out, log = tmp_path / "runs.csv", tmp_path / "log.txt"
    rows = run_trials(square_trial, _tasks(log, [12, 13, 14]), out, progress=False)
    by_seed = {r["seed"]: r for r in rows}
    assert by_seed[13]["status"] == "failed"
    assert "RuntimeError: unlucky seed" in by_seed[13]["message"]
    assert by_seed[12]["status"] == "success" and by_seed[14]["status"] == "success"
    assert [r["status"] for r in read_rows(out)] == ["success", "failed", "success"]
    # a failed run counts as finished: a rerun does not repeat it
    run_trials(square_trial, _tasks(log, [12, 13, 14]), out, progress=False)
    assert len(_calls(log)) == 3


def test_worker_processes(tmp_path):
    out, log = tmp_path / "runs.csv", tmp_path / "log.txt"
    rows = run_trials(square_trial, _tasks(log, range(6)), out, workers=2, progress=False)
    assert [r["seed"] for r in rows] == list(range(6))  # returned in task order
    assert sorted(r["seed"] for r in read_rows(out)) == list(range(6))
    pids = {c.split(",")[3] for c in _calls(log)}
    assert str(os.getpid()) not in pids  # ran in workers
    assert [r["train_mse"] for r in rows] == [s * s / 100 for s in range(6)]
    # resume with workers too
    run_trials(square_trial, _tasks(log, range(8)), out, workers=2, progress=False)
    assert len(_calls(log)) == 8 and len(read_rows(out)) == 8


def test_no_path_returns_rows_only(tmp_path):
    rows = run_trials(square_trial, _tasks(tmp_path / "log.txt", range(2)), None, progress=False)
    assert len(rows) == 2 and not list(tmp_path.glob("*.csv"))


@pytest.mark.parametrize("kwargs,match", [
    (dict(tasks=[{"config": "a", "seed": 0}]), r"tasks: every task needs keys .*'method'"),
    (dict(workers=0), r"workers: must be an integer ≥ 1"),
    (dict(workers=1.5), r"workers: must be an integer ≥ 1"),
])
def test_run_trials_rejects_bad_arguments(tmp_path, kwargs, match):
    args = dict(tasks=_tasks(tmp_path / "log.txt", range(1)))
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        run_trials(square_trial, args.pop("tasks"), tmp_path / "r.csv", progress=False, **args)
    assert not (tmp_path / "r.csv").exists()


def test_experiment_parser_defaults_and_flags():
    p = experiment_parser("table_2_1", "Table 2.1", runs=20)
    a = p.parse_args([])
    assert (a.runs, a.workers, a.seed, a.quick) == (20, 1, 0, False)
    assert a.out == Path("experiments") / "results" / "table_2_1"
    a = p.parse_args(["--runs", "3", "--workers", "2", "--out", "x", "--seed", "5", "--quick"])
    assert (a.runs, a.workers, str(a.out), a.seed, a.quick) == (3, 2, "x", 5, True)
