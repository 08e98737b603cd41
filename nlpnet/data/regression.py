"""Regression data of the published experiments.

Generators (each returns ``(X, y)`` as columns and takes a ``seed``):

* :func:`sine_data` — thesis ch. 2: x = linspace(0, 1, n), y = −sin(0.8πx) + N(0, σ²).
* :func:`sin_x2_data` — thesis ch. 4: x = linspace(0, π, n), y = sin(x²) + N(0, σ²).
* :func:`abs_data` — y = |x| on a grid, the lecture's deep narrow ReLU collapse study.

:func:`santafe_windows` reads the Santa Fe laser series (time-series competition 1991, data
set A), normalises the 1000 training values with their mean and std and builds windows
``X[i] = s[i : i+lags]``, ``y[i] = s[i+lags]`` for one-step-ahead prediction; the 100
continuation values are normalised the same way for closed-loop tests.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .checks import as_generator

__all__ = ["sine_data", "sin_x2_data", "abs_data", "SantaFe", "santafe_windows", "default_data_dir"]


def sine_data(n: int = 20, noise: float = 0.1, seed=None):
    """Thesis ch. 2 data: x = linspace(0, 1, n), y = −sin(0.8πx) + N(0, noise²)."""
    _check_n(n)
    x = np.linspace(0.0, 1.0, n)
    y = -np.sin(0.8 * np.pi * x) + noise * as_generator(seed).standard_normal(n)
    return x.reshape(-1, 1), y.reshape(-1, 1)


def sin_x2_data(n: int = 40, noise: float = 0.1, seed=None):
    """Thesis ch. 4 data: x = linspace(0, π, n), y = sin(x²) + N(0, noise²)."""
    _check_n(n)
    x = np.linspace(0.0, np.pi, n)
    y = np.sin(x ** 2) + noise * as_generator(seed).standard_normal(n)
    return x.reshape(-1, 1), y.reshape(-1, 1)


def abs_data(n: int = 100, lo: float = -1.0, hi: float = 1.0):
    """y = |x| on x = linspace(lo, hi, n), the lecture's deep narrow ReLU example."""
    _check_n(n)
    if not hi > lo:
        raise ValueError(f"hi: must exceed lo, got lo={lo}, hi={hi}")
    x = np.linspace(lo, hi, n)
    return x.reshape(-1, 1), np.abs(x).reshape(-1, 1)


def _check_n(n):
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 2:
        raise ValueError(f"n: number of samples must be an integer ≥ 2, got {n!r}")


# ------------------------------------------------------------------ Santa Fe laser
_SANTAFE_FILES = ("santafe_laser_train.csv", "santafe_laser_test.csv")
_SANTAFE_HELP = ("The Santa Fe laser series (time series competition 1991, data set A: 1000 training and "
                 "100 continuation values, one number per line) is not bundled with nlpnet. Put "
                 "santafe_laser_train.csv and santafe_laser_test.csv in a folder and pass it as path=..., "
                 "or set NLPNET_DATA to that folder.")


def default_data_dir() -> Path | None:
    """The first existing folder among ``$NLPNET_DATA``, ``./shared/data``, ``../shared/data``
    and the ``shared/data`` folder beside the repository checkout."""
    candidates = []
    if os.environ.get("NLPNET_DATA"):
        candidates.append(Path(os.environ["NLPNET_DATA"]))
    checkout = Path(__file__).resolve().parents[2]  # nlpnet/data/regression.py → the checkout
    candidates += [Path.cwd() / "shared" / "data", Path.cwd().parent / "shared" / "data",
                   checkout.parent / "shared" / "data"]
    for c in candidates:
        if all((c / f).is_file() for f in _SANTAFE_FILES):
            return c
    return None


@dataclass
class SantaFe:
    """Lag windows of the normalised laser series.

    ``X[i] = s[i : i+lags]``, ``y[i] = s[i+lags]`` over the training series ``s``;
    ``train_series``/``test_series`` are normalised with the training mean and std
    (``mean``, ``std``) so a closed-loop prediction starts from ``train_series[-lags:]``.
    """

    X: np.ndarray
    y: np.ndarray
    train_series: np.ndarray
    test_series: np.ndarray
    mean: float
    std: float
    lags: int


def santafe_windows(lags: int = 80, path=None) -> SantaFe:
    """Load the Santa Fe laser series from ``path`` (default :func:`default_data_dir`) and
    build ``lags``-long windows (1000 − lags of them)."""
    folder = Path(path) if path is not None else default_data_dir()
    if folder is None or not all((folder / f).is_file() for f in _SANTAFE_FILES):
        where = f" (looked in {folder})" if folder is not None else ""
        raise FileNotFoundError(f"path: Santa Fe laser data not found{where}. {_SANTAFE_HELP}")
    train = np.loadtxt(folder / _SANTAFE_FILES[0], dtype=float).ravel()
    test = np.loadtxt(folder / _SANTAFE_FILES[1], dtype=float).ravel()
    if isinstance(lags, bool) or not isinstance(lags, (int, np.integer)) or not 1 <= lags < train.size:
        raise ValueError(f"lags: must be an integer in [1, {train.size - 1}], got {lags!r}")
    mean, std = float(train.mean()), float(train.std())
    s, t = (train - mean) / std, (test - mean) / std
    idx = np.arange(train.size - lags)[:, None] + np.arange(lags)[None, :]
    return SantaFe(X=s[idx], y=s[lags:].reshape(-1, 1), train_series=s, test_series=t,
                   mean=mean, std=std, lags=int(lags))
