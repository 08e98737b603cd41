"""run_trials and the results file: append as runs finish, resume, declared schema, torn
tails repaired, failures and lost workers recorded, Ctrl-C, progress."""
from __future__ import annotations

import io
import os
import signal
import sys
import threading
import time
from pathlib import Path

import pytest

from nlpnet.result import Status
from nlpnet.runner import (RUN_COLUMNS, ResultsFile, ResultsFileBusy, SweepInterrupted, read_rows, run_trials,
                           schema)
from nlpnet.runner.results import format_cell, parse_cell

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sweep_trials import (COLUMNS, calls, dying_trial, interrupt_trial, slow_trial,  # noqa: E402
                          square_trial)


def _tasks(log, seeds, config="tanh-N20", method="ipopt", **extra):
    return [{"config": config, "method": method, "seed": s, "log": str(log), **extra} for s in seeds]


def _lines(path) -> list[str]:
    return Path(path).read_text().splitlines()


def test_rows_are_written_in_order_with_standard_columns(tmp_path):
    out, log = tmp_path / "res" / "runs.csv", tmp_path / "log.txt"
    rows = run_trials(square_trial, _tasks(log, range(4)), out, progress=False)
    assert [r["seed"] for r in rows] == [0, 1, 2, 3]
    assert _lines(out)[0].split(",") == list(RUN_COLUMNS) + ["message"]
    back = read_rows(out)
    assert [r["train_mse"] for r in back] == [0.0, 0.01, 0.04, 0.09]
    assert [r["iterations"] for r in back] == [1, 2, 3, 4]
    assert all(r["test_mse"] == "" for r in back) and all(isinstance(r["time_s"], float) for r in back)
    assert rows == back  # what the sweep returns is what the file holds
    assert len(calls(log)) == 4


def test_rerun_resumes_and_skips_finished_tasks(tmp_path):
    out, log = tmp_path / "runs.csv", tmp_path / "log.txt"
    run_trials(square_trial, _tasks(log, range(3)), out, progress=False)
    rows = run_trials(square_trial, _tasks(log, range(5)), out, progress=False)
    assert [c[2] for c in calls(log)] == ["0", "1", "2", "3", "4"]
    assert [r["seed"] for r in rows] == [0, 1, 2, 3, 4] and len(read_rows(out)) == 5
    again = run_trials(square_trial, _tasks(log, range(5)), out, progress=False)
    assert len(calls(log)) == 5 and again == rows
    run_trials(square_trial, _tasks(log, range(2), method="gd"), out, progress=False)  # other keys: new runs
    assert len(calls(log)) == 7 and len(read_rows(out)) == 7


def test_progress_lines_and_resume_message(tmp_path, capsys):
    out, log = tmp_path / "runs.csv", tmp_path / "log.txt"
    run_trials(square_trial, _tasks(log, range(2)), out, progress="lines")
    err = capsys.readouterr().err
    assert "[1/2] tanh-N20 ipopt seed=0: success train_mse=0" in err and "ETA" in err and "failed 0" in err
    run_trials(square_trial, _tasks(log, range(3)), out, progress=True)  # stderr is not a terminal: lines
    err = capsys.readouterr().err
    assert "resuming: 2 of 3 runs already in" in err and "[3/3]" in err


def test_progress_bar_counts_runs_and_failures(tmp_path):
    pytest.importorskip("tqdm", reason="the progress bar needs the 'progress' extra (tqdm)")
    buf = io.StringIO()
    run_trials(square_trial, _tasks(tmp_path / "log.txt", [12, 13, 14]), tmp_path / "runs.csv", progress="bar",
               stream=buf)
    text = buf.getvalue()
    assert "3/3" in text and "failed=1" in text
    assert "failed: tanh-N20 ipopt seed=13: RuntimeError: unlucky seed" in text


def test_progress_bar_without_tqdm_names_the_extra(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "tqdm", None)
    with pytest.raises(ImportError, match=r'pip install "nlpnet\[progress\]"'):
        run_trials(square_trial, _tasks(tmp_path / "log.txt", [0]), tmp_path / "r.csv", progress="bar")
    run_trials(square_trial, _tasks(tmp_path / "log.txt", [0]), tmp_path / "r.csv", progress=True)
    assert "[1/1]" in capsys.readouterr().err  # auto falls back to one line per run


def test_a_raising_trial_is_recorded_as_failed_and_not_rerun(tmp_path):
    out, log = tmp_path / "runs.csv", tmp_path / "log.txt"
    rows = run_trials(square_trial, _tasks(log, [12, 13, 14]), out, progress=False)
    by_seed = {r["seed"]: r for r in rows}
    assert by_seed[13]["status"] == "failed"
    assert by_seed[13]["message"].startswith("RuntimeError: unlucky seed (at sweep_trials.py:")
    assert [r["status"] for r in read_rows(out)] == ["success", "failed", "success"]
    run_trials(square_trial, _tasks(log, [12, 13, 14]), out, progress=False)
    assert len(calls(log)) == 3


def test_columns_come_from_the_declared_schema_not_the_first_finished_row(tmp_path):
    # issue 10: the header was fixed by the first row; when that run failed, every later
    # row lost its extra columns
    out, log = tmp_path / "runs.csv", tmp_path / "log.txt"
    run_trials(slow_trial, _tasks(log, [0]), out, columns=COLUMNS, progress=False)
    run_trials(slow_trial, _tasks(log, [1, 2]), out, columns=COLUMNS, progress=False)
    header = _lines(out)[0].split(",")
    assert header == list(schema(COLUMNS))
    rows = read_rows(out)
    assert all(r["pid"] == os.getpid() for r in rows)

    def first_fails(task):
        if task["seed"] == 0:
            raise ValueError("first run fails")
        return {"status": "success", "train_mse": 1.0, "pid": 7, "payload": "kept"}
    out2 = tmp_path / "b.csv"
    rows = run_trials(first_fails, _tasks(log, range(3)), out2, columns=COLUMNS, progress=False)
    assert [r["payload"] for r in rows] == ["", "kept", "kept"] and [r["pid"] for r in read_rows(out2)] == ["", 7, 7]


def test_an_undeclared_column_stops_the_sweep_keeping_finished_runs(tmp_path):
    def extra(task):
        return {"status": "success", **({"surprise": 1} if task["seed"] == 1 else {})}
    out = tmp_path / "runs.csv"
    with pytest.raises(ValueError, match=r"columns: the trial returned \['surprise'\].*add them to columns="):
        run_trials(extra, _tasks(tmp_path / "log", range(3)), out, progress=False)
    assert [r["seed"] for r in read_rows(out)] == [0]


def _write_runs(path, n):
    run_trials(square_trial, _tasks(path.with_name("log.txt"), range(n)), path, progress=False)


def test_a_torn_last_row_is_dropped_and_its_run_redone(tmp_path, capsys):
    # issue 10: a row torn by a kill was taken as finished and the next row glued onto it
    out, log = tmp_path / "runs.csv", tmp_path / "log.txt"
    _write_runs(out, 3)
    lines = out.read_bytes().splitlines(keepends=True)
    out.write_bytes(b"".join(lines[:3]) + lines[3][:17])  # header, seeds 0-1, half of seed 2's row
    rows = run_trials(square_trial, _tasks(log, range(4)), out, progress="lines")
    assert "dropped a torn last row" in capsys.readouterr().err
    assert [c[2] for c in calls(log)][3:] == ["2", "3"]  # seed 2 redone, then seed 3
    assert [r["seed"] for r in read_rows(out)] == [0, 1, 2, 3] == [r["seed"] for r in rows]
    assert all(len(line.split(",")) == len(schema()) for line in _lines(out))


def test_malformed_duplicated_and_interrupted_rows_are_dropped_on_resume(tmp_path, capsys):
    out, log = tmp_path / "runs.csv", tmp_path / "log.txt"
    _write_runs(out, 2)
    lines = _lines(out)
    bad = "tanh-N20,5,ipopt,success,0.1\n"                       # too few fields
    stopped = lines[2].replace(",success,", ",user_stop,")        # Ctrl-C under the old runner
    out.write_text("\n".join(lines[:2]) + "\n" + bad + lines[1] + "\n" + stopped + "\n")
    run_trials(square_trial, _tasks(log, range(3)), out, progress="lines")
    err = capsys.readouterr().err
    assert "1 malformed row" in err and "1 duplicated row" in err and "interrupted by Ctrl-C" in err
    assert [r["seed"] for r in read_rows(out)] == [0, 1, 2] and [c[2] for c in calls(log)][2:] == ["1", "2"]


def test_a_changed_schema_rewrites_the_header_and_keeps_old_values(tmp_path):
    out, log = tmp_path / "runs.csv", tmp_path / "log.txt"
    run_trials(lambda task: {"status": "success", "pid": 5}, _tasks(log, [0]), out, columns=("pid",), progress=False)
    run_trials(slow_trial, _tasks(log, [0, 1]), out, columns=COLUMNS, progress=False)
    assert _lines(out)[0].split(",") == list(schema(COLUMNS))
    assert [r["pid"] for r in read_rows(out)] == [5, os.getpid()] and [c[2] for c in calls(log, "end")] == ["1"]


def test_cells_round_trip_and_every_record_is_one_line(tmp_path):
    import numpy as np
    for v in (0.1, 1 / 3, 1e-300, float("inf"), np.float64(2.5), np.int64(7), 3):
        assert parse_cell(format_cell(v)) == float(v)
    assert format_cell(float("nan")) == "nan" and format_cell(None) == "" and format_cell(True) == "True"
    assert format_cell(Status.MAX_ITER) == "max_iter"
    out = tmp_path / "runs.csv"
    with ResultsFile(out, schema()) as rf:
        back = rf.append({"config": "a", "seed": 0, "method": "m", "status": "failed",
                          "message": "line one\nline two,\"quoted\"\r\nthree"})
    assert back["message"] == 'line one | line two,"quoted" | three'
    assert len(_lines(out)) == 2 and read_rows(out)[0]["message"] == back["message"]


def test_a_second_sweep_on_the_same_file_is_refused(tmp_path):
    out = tmp_path / "runs.csv"
    with ResultsFile(out, schema()):
        with pytest.raises(ResultsFileBusy, match="another sweep is writing this file"):
            run_trials(square_trial, _tasks(tmp_path / "log", [0]), out, progress=False)
    run_trials(square_trial, _tasks(tmp_path / "log", [0]), out, progress=False)  # free again


def test_worker_processes(tmp_path):
    out, log = tmp_path / "runs.csv", tmp_path / "log.txt"
    rows = run_trials(square_trial, _tasks(log, range(6)), out, workers=2, progress=False)
    assert [r["seed"] for r in rows] == list(range(6))  # returned in task order
    assert sorted(r["seed"] for r in read_rows(out)) == list(range(6))
    assert str(os.getpid()) not in {c[3] for c in calls(log)}  # ran in workers
    assert [r["train_mse"] for r in rows] == [s * s / 100 for s in range(6)]
    run_trials(square_trial, _tasks(log, range(8)), out, workers=2, progress=False)
    assert len(calls(log)) == 8 and len(read_rows(out)) == 8


def test_a_run_lost_with_its_worker_is_retried_once_then_failed(tmp_path, capsys):
    out, log = tmp_path / "runs.csv", tmp_path / "log.txt"
    tasks = _tasks(log, range(6), sleep=0.05, die_once=[1], die_always=[3])
    rows = run_trials(dying_trial, tasks, out, workers=2, columns=COLUMNS, progress="lines")
    status = {r["seed"]: r["status"] for r in rows}
    assert status == {0: "success", 1: "success", 2: "success", 3: "failed", 4: "success", 5: "success"}
    msg = {r["seed"]: r["message"] for r in rows}[3]
    assert msg == "lost 2 times: a worker process was killed by signal 9 while the run was in progress"
    assert "lost tanh-N20 ipopt seed=1" in capsys.readouterr().err
    assert sorted(r["seed"] for r in read_rows(out)) == list(range(6))
    assert len(calls(log, "die")) == 3  # seed 1 once, seed 3 twice


def test_no_path_returns_rows_only(tmp_path):
    rows = run_trials(square_trial, _tasks(tmp_path / "log.txt", range(2)), None, progress=False)
    assert len(rows) == 2 and rows[1]["train_mse"] == 0.01 and not list(tmp_path.glob("*.csv"))


@pytest.mark.parametrize("kwargs,match", [
    (dict(tasks=[{"config": "a", "seed": 0}]), r"tasks: every task needs keys .*lacks \['method'\]"),
    (dict(tasks=[{"config": "a", "method": "m", "seed": 1.5}]), r"'seed' must be an integer"),
    (dict(tasks=[{"config": "", "method": "m", "seed": 1}]), r"'config' must be a non-empty one-line string"),
    (dict(tasks=[{"config": "a", "method": "m\nn", "seed": 1}]), r"'method' must be a non-empty one-line string"),
    (dict(tasks=[{"config": "a", "method": "m", "seed": 1}] * 2), r"tasks 0 and 1 are the same run"),
    (dict(workers=0), r"workers: must be an integer ≥ 1"),
    (dict(workers=1.5), r"workers: must be an integer ≥ 1"),
    (dict(backend="slurm"), r"backend: expected one of processes, dask"),
    (dict(backend="processes", scheduler="tcp://x:1"), r"scheduler: a scheduler address needs backend='dask'"),
    (dict(progress="fancy"), r"progress: expected True, False or one of"),
    (dict(columns=("a,b",)), r"columns: column names must be"),
])
def test_run_trials_rejects_bad_arguments_before_writing(tmp_path, kwargs, match):
    args = dict(tasks=_tasks(tmp_path / "log.txt", range(1)))
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        run_trials(square_trial, args.pop("tasks"), tmp_path / "r.csv", **{"progress": False, **args})
    assert not (tmp_path / "r.csv").exists()


def test_the_dask_backend_without_distributed_names_the_extra(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(ImportError, match=r'pip install "nlpnet\[cluster\]"'):
        run_trials(square_trial, _tasks(tmp_path / "log", [0]), tmp_path / "r.csv", backend="dask", progress=False)


def _interrupt_when(log, what, seed, timeout=20.0):
    """Send SIGINT to this process once the log shows ``what`` for ``seed`` (like a user's Ctrl-C)."""
    def watch():
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if any(c[2] == str(seed) for c in calls(log, what)):
                os.kill(os.getpid(), signal.SIGINT)
                return
            time.sleep(0.01)
    t = threading.Thread(target=watch, daemon=True)
    t.start()
    return t


def test_ctrl_c_in_a_serial_sweep_stops_at_once_without_recording_the_interrupted_run(tmp_path):
    # issue 10: the interrupted run was recorded as user_stop, the sweep went on and exited 0
    out, log = tmp_path / "runs.csv", tmp_path / "log.txt"
    tasks = _tasks(log, range(4), sleep=0.2)
    watcher = _interrupt_when(log, "start", 1)
    t0 = time.monotonic()
    with pytest.raises(SweepInterrupted) as info:
        run_trials(interrupt_trial, tasks, out, progress=False)
    assert time.monotonic() - t0 < 2.0
    watcher.join()
    assert (info.value.done, info.value.total) == (1, 4) and "rerun the same command to resume" in str(info.value)
    assert isinstance(info.value, KeyboardInterrupt)
    assert [(r["seed"], r["status"]) for r in read_rows(out)] == [(0, "success")]
    assert [c[2] for c in calls(log, "start")] == ["0", "1"]  # seeds 2 and 3 never started
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # handler restored
    rows = run_trials(interrupt_trial, tasks, out, progress=False)
    assert [r["status"] for r in rows] == ["success"] * 4
    assert [c[2] for c in calls(log, "start")] == ["0", "1", "1", "2", "3"]  # the interrupted run is redone
