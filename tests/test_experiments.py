"""Every experiment runs through ``nlpnet experiment NAME --quick`` and writes the outputs of
DESIGN §5 (runs.csv with the declared columns, table.md beside the published numbers, PNG
plots); the thin scripts in experiments/ are the same command; bad flags fail before any
run; a rerun resumes; the lecture's schedule example follows the lecture's step rule."""
import csv
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from nlpnet.experiments import EXPERIMENTS, lecture
from nlpnet.experiments import main as experiment_main
from nlpnet.runner import schema

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "MPLBACKEND": "Agg", "PYTHONPATH": str(ROOT)}
CLI = [sys.executable, "-c", "import sys; from nlpnet.cli import main; sys.exit(main())"]


def run(name, out, *extra, script=False):
    cmd = ([sys.executable, str(ROOT / "experiments" / f"{name}.py")] if script else [*CLI, "experiment", name])
    return subprocess.run([*cmd, "--quick", "--out", str(out), "--progress", "lines", *extra], cwd=ROOT, env=ENV,
                          capture_output=True, text=True, timeout=300)


# experiments with several parts: every part's plot and table section appears in the quick run
PLOTS = {"ialam": {"synthetic.png", "prune.png", "profile.png"}}
SECTIONS = {"ialam": ("## Synthetic data", "## MNIST", "## Accuracy against the pruned fraction",
                      "## Performance profiles", "| TestErr | iALAM |")}


@pytest.mark.parametrize("name", list(EXPERIMENTS))
def test_quick_experiment_writes_runs_table_and_plots(name, tmp_path):
    if name == "santafe":
        from nlpnet.data import default_data_dir
        if default_data_dir() is None:
            pytest.skip("Santa Fe laser data not found (set NLPNET_DATA or put shared/data beside the repo)")
    proc = run(name, tmp_path, script=name == "table_2_1")
    assert proc.returncode == 0, proc.stderr[-2000:]
    with (tmp_path / "runs.csv").open(newline="") as f:
        reader = csv.DictReader(f)
        rows = list(reader)
    assert rows, "runs.csv has no runs"
    assert tuple(reader.fieldnames) == schema(EXPERIMENTS[name].load().COLUMNS)  # the declared schema
    assert all(r["status"] and r["status"] != "failed" for r in rows), [r["message"] for r in rows]
    table = (tmp_path / "table.md").read_text()
    assert table.startswith("# ") and "Reproduce: `" in table and "|---|" in table
    assert list(tmp_path.glob("*.png")), "no plot written"
    assert PLOTS.get(name, set()) <= {p.name for p in tmp_path.glob("*.png")}
    for section in SECTIONS.get(name, ()):
        assert section in table, section


def test_rerun_resumes_without_repeating_runs(tmp_path):
    first = run("table_4_1", tmp_path)
    assert first.returncode == 0, first.stderr[-2000:]
    n_rows = len((tmp_path / "runs.csv").read_text().splitlines())
    again = run("table_4_1", tmp_path, script=True)
    assert again.returncode == 0, again.stderr[-2000:]
    assert f"resuming: {n_rows - 1} of {n_rows - 1} runs already in" in again.stderr
    assert len((tmp_path / "runs.csv").read_text().splitlines()) == n_rows
    assert "Reproduce: `python experiments/table_4_1.py --quick" in (tmp_path / "table.md").read_text()


def test_list_names_every_experiment_with_runs_and_time(capsys):
    assert experiment_main(["--list"]) == 0
    out = capsys.readouterr().out
    for e in EXPERIMENTS.values():
        line = next(x for x in out.splitlines() if x.startswith(e.name + " "))
        assert str(e.runs) in line and e.rough_time in line and e.reproduces in line


@pytest.mark.parametrize("argv,match", [
    (["tabel_4_1"], "unknown experiment 'tabel_4_1'; did you mean 'table_4_1'?"),
    (["table_4_1", "--runs", "0"], "argument --runs: must be a positive integer"),
    (["table_4_1", "--workers", "-1"], "argument --workers: must be a positive integer"),
    (["table_4_1", "--seed", "x"], "argument --seed: expected an integer"),
    (["table_4_1", "--backend", "slurm"], "argument --backend: invalid choice"),
    (["table_4_1", "--backend", "processes", "--scheduler", "tcp://1.2.3.4:1"], "argument --scheduler: a scheduler"),
    (["optimizers", "--methods", "adam,nope"], "argument --methods: unknown solver"),
    (["collapse", "--lifted-time", "nan"], "argument --lifted-time: must be a positive number"),
    (["ialam", "--parts", "mnist,profil"], "argument --parts: unknown part(s) ['profil']"),
    (["ialam", "--synthetic-init", "glorot"], "argument --synthetic-init: unknown initialisation(s) ['glorot']"),
])
def test_bad_flags_fail_before_any_run(argv, match, tmp_path, capsys):
    code = _exit_code(lambda: experiment_main([*argv, "--out", str(tmp_path / "o")]))
    assert code == 2
    assert match in capsys.readouterr().err
    assert not (tmp_path / "o" / "runs.csv").exists()


def test_an_output_folder_that_cannot_be_created_fails_before_any_run(tmp_path, capsys):
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    assert _exit_code(lambda: experiment_main(["table_4_1", "--quick", "--out", str(blocker / "sub")])) == 2
    assert "argument --out: cannot create" in capsys.readouterr().err


def _exit_code(fn) -> int:
    try:
        return fn()
    except SystemExit as exc:
        return exc.code


def test_lecture_schedules_follow_the_lectures_step_rule():
    # η_t = 0.1·s(t) with the lecture's counter starting at t = 2; without noise the product formula
    t = np.arange(2500) + 2
    eta = 0.1 * np.exp(-0.1 * t)
    end = lecture.noisy_descent("exponential", 0, noise=False)[-1]
    np.testing.assert_allclose(end, [-5 * np.prod(1 - 2 * eta), -2.5 * np.prod(1 - 4 * eta)], rtol=1e-12)
    eta = 0.1 * (1 + 0.02 * (np.arange(25) + 2)) ** -0.5
    end = lecture.noisy_descent("polynomial", 0, noise=False)[-1]
    np.testing.assert_allclose(end, [-5 * np.prod(1 - 2 * eta), -2.5 * np.prod(1 - 4 * eta)], rtol=1e-12)
    assert len(lecture.noisy_descent("constant", 0)) == 71
    # the lecture's one noisy draw lies inside our spread over seeds
    ends = np.array([lecture.noisy_descent("exponential", s)[-1] for s in range(200)])
    z = (np.array([-0.793612, -0.070806]) - ends.mean(axis=0)) / ends.std(axis=0)
    assert np.all(np.abs(z) < 2.0), z
    np.testing.assert_array_equal(lecture.noisy_descent("exponential", 7), lecture.noisy_descent("exponential", 7))


@pytest.mark.parametrize("path", sorted((ROOT / "benchmarks").glob("*.py")), ids=lambda p: p.name)
def test_every_benchmark_takes_quick_and_documents_its_flags(path):
    import ast
    calls = [n for n in ast.walk(ast.parse(path.read_text())) if isinstance(n, ast.Call)
             and getattr(n.func, "attr", None) == "add_argument"]
    flags = [c.args[0].value for c in calls if c.args and isinstance(c.args[0], ast.Constant)]
    assert "--quick" in flags, f"{path.name} has no --quick"
    undocumented = [f for f, c in zip(flags, calls) if not any(k.arg == "help" for k in c.keywords)]
    assert not undocumented, f"{path.name}: flags without help: {undocumented}"


def test_experiment_parser_defaults_and_flags():
    from nlpnet.experiments import experiment_parser
    from nlpnet.runner import experiment_parser as old_home
    assert old_home is experiment_parser  # still importable from nlpnet.runner
    p = experiment_parser("table_2_1", "Table 2.1", runs=20)
    a = p.parse_args([])
    assert (a.runs, a.workers, a.seed, a.quick, a.backend, a.scheduler) == (20, 1, 0, False, None, None)
    assert a.out == Path("experiments") / "results" / "table_2_1"
    a = p.parse_args(["--runs", "3", "--workers", "2", "--out", "x", "--seed", "5", "--quick", "--backend", "dask",
                      "--scheduler", "tcp://h:1"])
    assert (a.runs, a.workers, str(a.out), a.seed, a.quick, a.backend, a.scheduler) == (3, 2, "x", 5, True, "dask",
                                                                                      "tcp://h:1")
