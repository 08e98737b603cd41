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
