"""The `nlpnet` command line: the quick start's main job and its error handling."""
import pytest

from nlpnet.cli import main


def test_train_default_job_prints_a_converged_fit(capsys):
    assert main(["train", "--sizes", "1,4,4,1", "--seed", "1"]) == 0
    out = capsys.readouterr().out
    assert "status      success" in out
    mse = float(out.split("train MSE")[1].split()[0])
    assert mse < 0.03


def test_train_saves_and_plots(tmp_path, capsys):
    net_path, png = tmp_path / "net.npz", tmp_path / "fit.png"
    assert main(["train", "--activation", "tanh", "--sizes", "1,3,1", "--options", '{"max_iter": 50}',
                 "--save", str(net_path), "--plot", str(png)]) == 0
    assert net_path.exists() and png.stat().st_size > 1000


def test_unknown_solver_is_reported_before_training(capsys):
    assert main(["train", "--solver", "nope"]) == 2
    captured = capsys.readouterr()
    assert "unknown solver 'nope'" in captured.err
    assert "training" not in captured.out


def test_bad_option_json_and_sizes_exit_with_usage_error():
    with pytest.raises(SystemExit):
        main(["train", "--options", "{max_iter: 3}"])
    with pytest.raises(SystemExit):
        main(["train", "--sizes", "1,x,1"])


def test_solvers_lists_ipopt(capsys):
    assert main(["solvers"]) == 0
    assert "ipopt" in capsys.readouterr().out


@pytest.mark.parametrize("n", ["0", "2", "-5", "x"])
def test_n_below_three_is_rejected_naming_the_flag(n, capsys):
    with pytest.raises(SystemExit) as info:
        main(["train", "--n", n])
    assert info.value.code == 2
    assert "argument --n:" in capsys.readouterr().err


def test_save_and_plot_create_a_missing_folder(tmp_path, capsys):
    net_path, png = tmp_path / "new" / "nets" / "net.npz", tmp_path / "new" / "plots" / "fit.png"
    assert main(["train", "--activation", "tanh", "--sizes", "1,3,1", "--options", '{"max_iter": 20}', "--n", "12",
                 "--save", str(net_path), "--plot", str(png)]) == 0
    assert net_path.exists() and png.stat().st_size > 1000
    assert "on sine data (10 train / 2 test)" in capsys.readouterr().out


@pytest.mark.parametrize("flag,path,match", [
    ("--plot", "fit.pngg", "--plot: unknown file type '.pngg'"),
    ("--plot", "blocker/fit.png", "--plot: cannot create the folder"),
    ("--save", "blocker/net.npz", "--save: cannot create the folder"),
])
def test_bad_output_paths_fail_before_training(flag, path, match, tmp_path, capsys):
    (tmp_path / "blocker").write_text("a file, not a folder")
    assert main(["train", flag, str(tmp_path / path)]) == 2
    captured = capsys.readouterr()
    assert match in captured.err
    assert "training" not in captured.out


def test_experiment_subcommand_lists_and_suggests(capsys):
    assert main(["experiment", "--list"]) == 0
    assert "table_4_1" in capsys.readouterr().out
    assert main(["experiment", "lectur"]) == 2
    assert "did you mean 'lecture'?" in capsys.readouterr().err
