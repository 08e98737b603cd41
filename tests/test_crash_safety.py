"""Real sweep processes killed or interrupted (issue 10): a SIGKILL at any moment loses at
most the runs in progress and the resumed file parses with one row per finished run; killing
the parent of a worker pool leaves no worker behind; Ctrl-C stops at once, exit code 130,
no traceback, the interrupted run not counted as finished."""
from __future__ import annotations

import csv
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "tests" / "sweep_trials.py"
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "tests")]), "MPLBACKEND": "Agg"}
TIMING = {"time_s"}
CLI = [sys.executable, "-c", "import sys; from nlpnet.cli import main; sys.exit(main())"]


def sweep(out, n, *args, **popen):
    return subprocess.Popen([sys.executable, str(SCRIPT), str(out), str(n), *map(str, args)], env=ENV,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **popen)


def experiment(*args, **popen):
    return subprocess.Popen([*CLI, "experiment", *map(str, args)], cwd=ROOT, env=ENV, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **popen)


def wait_for(predicate, timeout=30.0, every=0.02):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(every)
    return False


def log_lines(path, what):
    p = Path(path)
    return [line.split(",") for line in p.read_text().splitlines() if line.startswith(what + ",")] if p.exists() else []


def alive(pid) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is dead for our purpose
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


def check_file(path, n_tasks):
    """The file parses; header, then one well-formed row per finished run, no duplicates."""
    if not path.exists():
        return []
    text = path.read_text()
    rows = list(csv.reader(text.splitlines()))
    if not rows:
        return []
    header, body = rows[0], rows[1:]
    keys = [(r[header.index("config")], r[header.index("method")], r[header.index("seed")]) for r in body
            if len(r) == len(header)]
    assert len(keys) == len(set(keys)), "a run was recorded twice"
    assert len(keys) <= n_tasks
    # only the last line can be torn (a kill during its write); the resume drops it
    assert all(len(r) == len(header) for r in body[:-1]), "a torn row in the middle of the file"
    return keys


def rows_without_timing(path):
    with open(path, newline="") as f:
        return sorted((tuple((k, v) for k, v in r.items() if k not in TIMING) for r in csv.DictReader(f)))


def test_sigkill_of_a_real_experiment_at_random_moments_loses_only_runs_in_progress(tmp_path):
    ref, out = tmp_path / "reference", tmp_path / "killed"
    proc = experiment("table_4_1", "--quick", "--out", ref, "--progress", "none")
    assert proc.wait(timeout=300) == 0, proc.stderr.read()[-2000:]
    n_tasks = len(rows_without_timing(ref / "runs.csv"))
    rng = random.Random(20261202)
    finished_before, kills = 0, 0
    for attempt in range(3):
        proc = experiment("table_4_1", "--quick", "--out", out, "--progress", "none")
        time.sleep(rng.uniform(0.5, 2.2))  # start-up takes about 1.5 s, the 8 runs about 1 s
        if proc.poll() is not None:  # finished before the kill
            assert proc.returncode == 0, proc.stderr.read()[-2000:]
            break
        proc.kill()
        proc.wait()
        kills += 1
        keys = check_file(out / "runs.csv", n_tasks)
        assert len(keys) >= finished_before, "a finished run was lost"
        finished_before = len(keys)
    proc = experiment("table_4_1", "--quick", "--out", out, "--progress", "none")
    assert proc.wait(timeout=300) == 0, proc.stderr.read()[-2000:]
    assert kills >= 1
    assert rows_without_timing(out / "runs.csv") == rows_without_timing(ref / "runs.csv")


@pytest.mark.parametrize("workers", [1, 2])
def test_sigkill_during_fast_multipage_writes_keeps_the_file_valid(tmp_path, workers):
    out, n = tmp_path / "runs.csv", 40
    rng = random.Random(workers)
    for _ in range(4):
        proc = sweep(out, n, "--workers", workers, "--payload", 20000, "--sleep", 0.01)
        time.sleep(rng.uniform(0.3, 1.5))
        proc.kill()
        proc.wait()
        check_file(out, n)
    proc = sweep(out, n, "--workers", workers, "--payload", 20000)
    assert proc.wait(timeout=120) == 0, proc.stderr.read()[-2000:]
    keys = check_file(out, n)
    assert sorted(int(k[2]) for k in keys) == list(range(n))


def test_killing_the_parent_of_a_worker_pool_leaves_no_workers(tmp_path):
    out, log = tmp_path / "runs.csv", tmp_path / "log.txt"
    proc = sweep(out, 4, "--workers", 2, "--sleep", 60)
    assert wait_for(lambda: len(log_lines(log, "start")) == 2), proc.stderr.read() if proc.poll() else "no start"
    workers = [int(line[4]) for line in log_lines(log, "start")]
    assert proc.pid not in workers and all(alive(p) for p in workers)
    proc.kill()
    proc.wait()
    assert wait_for(lambda: not any(alive(p) for p in workers), timeout=5), "worker processes outlived their parent"


def test_ctrl_c_with_two_workers_exits_130_without_a_traceback(tmp_path):
    out, log = tmp_path / "runs.csv", tmp_path / "log.txt"
    proc = sweep(out, 6, "--workers", 2, "--sleep", 60, start_new_session=True)
    assert wait_for(lambda: len(log_lines(log, "start")) == 2)
    workers = [int(line[4]) for line in log_lines(log, "start")]
    t0 = time.monotonic()
    os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in a terminal does: the whole process group
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130 and time.monotonic() - t0 < 10
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err[-2000:]
    assert "interrupted: 0 of 6 runs are finished" in err
    assert not any(alive(p) for p in workers)
    proc = sweep(out, 6, "--workers", 2, "--sleep", 0.01)
    assert proc.wait(timeout=60) == 0
    assert sorted(int(k[2]) for k in check_file(out, 6)) == list(range(6))


def test_ctrl_c_in_a_serial_experiment_exits_130_and_the_rerun_redoes_the_interrupted_run(tmp_path):
    out = tmp_path / "t41"
    proc = experiment("table_4_1", "--quick", "--workers", 1, "--out", out, "--progress", "lines")
    assert wait_for(lambda: len(check_file(out / "runs.csv", 8)) >= 1, timeout=120, every=0.005), \
        proc.stderr.read()[-2000:]
    t0 = time.monotonic()
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err[-2000:]
    assert time.monotonic() - t0 < 10
    assert "Traceback" not in err and "rerun the same command to resume" in err
    done = check_file(out / "runs.csv", 8)
    assert 1 <= len(done) < 8
    with open(out / "runs.csv", newline="") as f:
        assert all(r["status"] != "user_stop" for r in csv.DictReader(f))
    proc = experiment("table_4_1", "--quick", "--workers", 1, "--out", out, "--progress", "lines")
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err[-2000:]
    assert f"resuming: {len(done)} of 8 runs already in" in err
    assert len(check_file(out / "runs.csv", 8)) == 8
