"""The Dask backend: a LocalCluster gives the same runs as local processes; a worker killed
by SIGKILL mid-sweep loses nothing finished; ``--scheduler`` runs against a scheduler and
workers started by hand; no worker outlives its client; Ctrl-C ends cleanly."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

pytest.importorskip("distributed", reason="the Dask backend needs the optional extra 'cluster' "
                                          "(pip install \"nlpnet[cluster]\")")

from nlpnet.experiments import main as experiment_main  # noqa: E402
from nlpnet.runner import read_rows, run_trials  # noqa: E402
from nlpnet.runner.backends import DaskBackend  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sweep_trials import COLUMNS, calls, slow_trial, square_trial  # noqa: E402
from test_crash_safety import (CLI, ENV, ROOT, alive, experiment, log_lines, rows_without_timing,  # noqa: E402
                               sweep, wait_for)

DASK = str(Path(sys.executable).with_name("dask"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The quick Table 4.1 sweep on two local worker processes."""
    out = tmp_path_factory.mktemp("processes")
    assert experiment_main(["table_4_1", "--quick", "--workers", "2", "--out", str(out), "--progress", "none"]) == 0
    return out / "runs.csv"


def test_a_local_cluster_gives_the_same_runs_as_local_processes(reference, tmp_path):
    assert experiment_main(["table_4_1", "--quick", "--backend", "dask", "--workers", "2", "--out", str(tmp_path),
                            "--progress", "none"]) == 0
    assert rows_without_timing(tmp_path / "runs.csv") == rows_without_timing(reference)
    assert len(read_rows(reference)) == 8


def test_a_worker_killed_mid_sweep_loses_no_finished_run(tmp_path, capsys):
    out, log = tmp_path / "runs.csv", tmp_path / "log.txt"
    tasks = [{"config": "c", "method": "m", "seed": s, "sleep": 0.4, "log": str(log)} for s in range(8)]

    def kill_the_worker_running_seed_3():
        if wait_for(lambda: any(c[2] == "3" for c in calls(log, "start")), timeout=60):
            pid = int(next(c[3] for c in calls(log, "start") if c[2] == "3"))
            os.kill(pid, signal.SIGKILL)
    killer = threading.Thread(target=kill_the_worker_running_seed_3, daemon=True)
    killer.start()
    rows = run_trials(slow_trial, tasks, out, backend="dask", workers=2, columns=COLUMNS, progress="lines")
    killer.join()
    assert [r["status"] for r in rows] == ["success"] * 8
    assert sorted(r["seed"] for r in read_rows(out)) == list(range(8))  # one row per run, none lost
    assert [c[2] for c in calls(log, "start")].count("3") == 2 and [c[2] for c in calls(log, "end")].count("3") == 1
    assert "lost c m seed=3: its Dask worker" in capsys.readouterr().err


@pytest.fixture
def hand_started_cluster(tmp_path):
    """A `dask scheduler` and two single-threaded `dask worker` processes on localhost."""
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    logs = tmp_path / "cluster-logs"
    logs.mkdir()
    procs = [subprocess.Popen([DASK, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
                              env=ENV, stdout=subprocess.DEVNULL, stderr=open(logs / "scheduler.txt", "w"))]
    try:
        assert wait_for(lambda: _listening(port), timeout=30), (logs / "scheduler.txt").read_text()
        procs.append(subprocess.Popen([DASK, "worker", address, "--nthreads", "1", "--nworkers", "2",
                                       "--no-dashboard"], env=ENV, stdout=subprocess.DEVNULL,
                                      stderr=open(logs / "worker.txt", "w")))
        yield address
    finally:
        for p in reversed(procs):
            p.send_signal(signal.SIGINT)  # a clean and quick shutdown (SIGTERM waits for close timeouts)
        for p in reversed(procs):
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


def _listening(port) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def test_the_scheduler_path_runs_table_4_1_against_a_hand_started_cluster(hand_started_cluster, reference, tmp_path):
    proc = subprocess.run([*CLI, "experiment", "table_4_1", "--quick", "--scheduler", hand_started_cluster,
                           "--out", str(tmp_path), "--progress", "lines"], cwd=ROOT, env=ENV, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert rows_without_timing(tmp_path / "runs.csv") == rows_without_timing(reference)
    table = (tmp_path / "table.md").read_text()
    assert "| tanh-N10 | alm |" in table and "| relu-N20 | adam |" in table
    again = subprocess.run([*CLI, "experiment", "table_4_1", "--quick", "--scheduler", hand_started_cluster,
                            "--out", str(tmp_path), "--progress", "lines"], cwd=ROOT, env=ENV, capture_output=True,
                           text=True, timeout=300)
    assert again.returncode == 0 and "resuming: 8 of 8 runs already in" in again.stderr


def test_an_unreachable_scheduler_is_reported_before_any_run(tmp_path):
    be = DaskBackend(square_trial, 1, f"tcp://127.0.0.1:{free_port()}", connect_timeout=1.0)
    t0 = time.monotonic()
    with pytest.raises(ValueError, match=r"scheduler: cannot connect to .* start one with `dask scheduler`"):
        be.start()
    assert time.monotonic() - t0 < 15


def test_killing_the_client_leaves_no_local_cluster_workers(tmp_path):
    out, log = tmp_path / "runs.csv", tmp_path / "log.txt"
    proc = sweep(out, 4, "--workers", 2, "--backend", "dask", "--sleep", 60)
    assert wait_for(lambda: len(log_lines(log, "start")) == 2, timeout=60)
    workers = [int(line[4]) for line in log_lines(log, "start")]
    proc.kill()
    proc.wait()
    assert wait_for(lambda: not any(alive(p) for p in workers), timeout=10), "Dask workers outlived their client"


def test_ctrl_c_on_the_dask_backend_exits_130_without_a_traceback(tmp_path):
    out, log = tmp_path / "runs.csv", tmp_path / "log.txt"
    proc = sweep(out, 4, "--workers", 2, "--backend", "dask", "--sleep", 60, start_new_session=True)
    assert wait_for(lambda: len(log_lines(log, "start")) == 2, timeout=60)
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err[-2000:]
    assert "interrupted: 0 of 4 runs are finished" in err
