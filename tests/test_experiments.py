"""Every experiment script runs in its --quick form and writes the outputs of DESIGN §5:
runs.csv with the standard columns, table.md beside the published numbers, PNG plots; a
rerun resumes instead of repeating finished runs."""
import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = ["table_2_1", "table_2_2", "table_4_1", "figure_3_1", "figure_3_2", "santafe", "optimizers", "collapse"]
COLUMNS = {"config", "seed", "method", "status", "train_mse", "test_mse", "time_s", "iterations"}


def run(name, out):
    env = {**os.environ, "MPLBACKEND": "Agg"}
    return subprocess.run([sys.executable, str(ROOT / "experiments" / f"{name}.py"), "--quick", "--out", str(out)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("name", SCRIPTS)
def test_quick_experiment_writes_runs_table_and_plots(name, tmp_path):
    if name == "santafe":
        from nlpnet.data import default_data_dir
        if default_data_dir() is None:
            pytest.skip("Santa Fe laser data not found (set NLPNET_DATA or put shared/data beside the repo)")
    proc = run(name, tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    with (tmp_path / "runs.csv").open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert rows, "runs.csv has no runs"
    assert COLUMNS <= set(rows[0]), f"missing columns {COLUMNS - set(rows[0])}"
    assert all(r["status"] for r in rows), "every run must end with a status"
    assert (tmp_path / "table.md").read_text().strip()
    assert list(tmp_path.glob("*.png")), "no plot written"


def test_rerun_resumes_without_repeating_runs(tmp_path):
    first = run("table_2_2", tmp_path)
    assert first.returncode == 0, first.stderr[-2000:]
    n_rows = len((tmp_path / "runs.csv").read_text().splitlines())
    again = run("table_2_2", tmp_path)
    assert again.returncode == 0, again.stderr[-2000:]
    assert "resuming" in again.stderr
    assert len((tmp_path / "runs.csv").read_text().splitlines()) == n_rows
