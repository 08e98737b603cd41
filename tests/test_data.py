"""Data validation, splitting, generators and the Santa Fe loader."""
from __future__ import annotations

import numpy as np
import pytest

import nlpnet
from nlpnet.data import as_inputs, as_targets, default_data_dir, santafe_windows, train_test_split


def test_train_test_split_sizes_and_determinism():
    X, y = nlpnet.sine_data(20, seed=0)
    Xtr, Xte, ytr, yte = train_test_split(X, y, 0.2, seed=3)
    assert Xtr.shape == (16, 1) and Xte.shape == (4, 1) and ytr.shape == (16, 1) and yte.shape == (4, 1)
    # a partition of the samples, rows kept together, each part in original order
    assert sorted(np.concatenate([Xtr, Xte]).ravel().tolist()) == sorted(X.ravel().tolist())
    assert np.all(np.diff(Xtr.ravel()) > 0) and np.all(np.diff(Xte.ravel()) > 0)
    idx = np.searchsorted(X.ravel(), Xtr.ravel())
    np.testing.assert_array_equal(ytr, y[idx])
    again = train_test_split(X, y, 0.2, seed=3)
    for a, b in zip((Xtr, Xte, ytr, yte), again):
        np.testing.assert_array_equal(a, b)
    other = train_test_split(X, y, 0.2, seed=4)
    assert not np.array_equal(other[1], Xte)
    gen = train_test_split(X, y, 0.2, seed=np.random.default_rng(3))
    np.testing.assert_array_equal(gen[1], Xte)


@pytest.mark.parametrize("kwargs,match", [
    (dict(test_fraction=0.0), r"test_fraction: must lie in \(0, 1\)"),
    (dict(test_fraction=1.0), r"test_fraction"),
    (dict(test_fraction=0.01), r"test_fraction: .* leaves an empty part"),
])
def test_train_test_split_rejects_bad_fraction(kwargs, match):
    X, y = nlpnet.sine_data(20, seed=0)
    with pytest.raises(ValueError, match=match):
        train_test_split(X, y, **kwargs)


def test_train_test_split_rejects_mismatched_rows():
    with pytest.raises(ValueError, match=r"y: has 3 samples but X has 4"):
        train_test_split(np.zeros((4, 1)), np.zeros((3, 1)))


def test_sine_data_noise_free_values_and_seeding():
    X, y = nlpnet.sine_data(20, noise=0.0)
    assert X.shape == (20, 1) and y.shape == (20, 1) and X.dtype == np.float64
    np.testing.assert_allclose(X.ravel(), np.linspace(0, 1, 20), rtol=0, atol=0)
    np.testing.assert_allclose(y.ravel(), -np.sin(0.8 * np.pi * np.linspace(0, 1, 20)), rtol=0, atol=1e-15)
    a, b, c = nlpnet.sine_data(20, seed=1), nlpnet.sine_data(20, seed=1), nlpnet.sine_data(20, seed=2)
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[1], c[1])
    noise = a[1] - y
    assert 0.03 < noise.std() < 0.2  # noise level 0.1


def test_sin_x2_and_abs_data():
    X, y = nlpnet.sin_x2_data(40, noise=0.0)
    assert X.shape == (40, 1) and y.shape == (40, 1)
    assert X[0, 0] == 0.0 and X[-1, 0] == pytest.approx(np.pi, abs=1e-15)
    np.testing.assert_allclose(y.ravel(), np.sin(X.ravel() ** 2), rtol=0, atol=1e-15)
    X, y = nlpnet.abs_data(11, -2.0, 2.0)
    np.testing.assert_array_equal(y, np.abs(X))
    assert X[0, 0] == -2.0 and X[-1, 0] == 2.0
    with pytest.raises(ValueError, match=r"hi: must exceed lo"):
        nlpnet.abs_data(5, 1.0, 1.0)


@pytest.mark.parametrize("n", [1, 0, 2.5, True])
def test_generators_reject_bad_n(n):
    with pytest.raises(ValueError, match=r"n: number of samples must be an integer"):
        nlpnet.sine_data(n)


def test_as_inputs_and_targets_validation():
    np.testing.assert_array_equal(as_inputs([1.0, 2.0, 3.0], 1), [[1.0], [2.0], [3.0]])
    with pytest.raises(ValueError, match=r"X: contains 1 NaN/inf"):
        as_inputs([[1.0], [np.nan]], 1)
    with pytest.raises(ValueError, match=r"X: contains 2 NaN/inf"):
        as_inputs([[np.inf], [-np.inf]], 1)
    with pytest.raises(ValueError, match=r"X: is empty"):
        as_inputs(np.zeros((0, 1)), 1)
    with pytest.raises(ValueError, match=r"X: expected shape \(n_samples, n_features\)"):
        as_inputs(np.zeros((2, 2, 2)), 2)
    with pytest.raises(TypeError, match=r"X: expected a numeric array"):
        as_inputs([["a"]], 1)
    with pytest.raises(TypeError, match=r"X: expected an array, got None"):
        as_inputs(None, 1)
    with pytest.raises(ValueError, match=r"y: has 2 sample\(s\) but X has 3"):
        as_targets(np.zeros((2, 1)), 1, 3)
    with pytest.raises(ValueError, match=r"y: has 2 column\(s\) but the network has 1 output"):
        as_targets(np.zeros((3, 2)), 1, 3)


# ------------------------------------------------------------------ Santa Fe
def test_santafe_windows_shapes_and_normalisation():
    if default_data_dir() is None:
        pytest.skip("Santa Fe laser data not found (set NLPNET_DATA or place shared/data beside the checkout)")
    sf = santafe_windows(80)
    assert sf.X.shape == (920, 80) and sf.y.shape == (920, 1)
    assert sf.train_series.shape == (1000,) and sf.test_series.shape == (100,)
    assert abs(sf.train_series.mean()) < 1e-12 and sf.train_series.std() == pytest.approx(1.0, rel=1e-12)
    np.testing.assert_array_equal(sf.X[0], sf.train_series[:80])
    np.testing.assert_array_equal(sf.X[5, 1:], sf.X[6, :-1])
    assert sf.y[0, 0] == sf.train_series[80] and sf.y[-1, 0] == sf.train_series[-1]
    raw = np.loadtxt(default_data_dir() / "santafe_laser_train.csv")
    np.testing.assert_allclose(sf.train_series * sf.std + sf.mean, raw, rtol=1e-12)
    assert santafe_windows(10).X.shape == (990, 10)
    with pytest.raises(ValueError, match=r"lags: must be an integer in \[1, 999\]"):
        santafe_windows(1000)


def test_santafe_missing_path_gives_guidance(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"path: Santa Fe laser data not found .*looked in.*NLPNET_DATA"):
        santafe_windows(80, path=tmp_path / "nowhere")


def test_default_data_dir_honours_env(tmp_path, monkeypatch):
    for name in ("santafe_laser_train.csv", "santafe_laser_test.csv"):
        (tmp_path / name).write_text("\n".join(str(float(i % 7)) for i in range(1000 if "train" in name else 100)))
    monkeypatch.setenv("NLPNET_DATA", str(tmp_path))
    assert default_data_dir() == tmp_path
    sf = santafe_windows(5)
    assert sf.X.shape == (995, 5)
