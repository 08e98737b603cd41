"""Data handling: validation, splitting, and the data sets of the published experiments.

Samples are rows: inputs ``X`` have shape ``(n_samples, n_inputs)`` and targets ``y``
shape ``(n_samples, n_outputs)``; 1-D arrays are read as one column.

Generators (each returns ``(X, y)`` and takes a ``seed``):

* :func:`sine_data` — thesis ch. 2: x = linspace(0, 1, n), y = −sin(0.8πx) + N(0, σ²).
* :func:`sin_x2_data` — thesis ch. 4: x = linspace(0, π, n), y = sin(x²) + N(0, σ²).
* :func:`abs_data` — y = |x| on a grid, the deep-narrow ReLU collapse study.

:func:`santafe_windows` turns the Santa Fe laser series (competition set A) into lag
windows for one-step-ahead prediction.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["as_inputs", "as_targets", "train_test_split", "sine_data", "sin_x2_data", "abs_data",
           "SantaFe", "santafe_windows", "default_data_dir"]


def _as_2d(a, name: str) -> np.ndarray:
    if a is None:
        raise TypeError(f"{name}: expected an array, got None")
    try:
        arr = np.array(a, dtype=float)  # a copy: later changes to the caller's array must not leak in
    except (TypeError, ValueError):
        raise TypeError(f"{name}: expected a numeric array, got {type(a).__name__}") from None
    if arr.ndim == 1:
        arr = arr.reshape(-1, 1)
    if arr.ndim != 2:
        raise ValueError(f"{name}: expected shape (n_samples, n_features), got {arr.shape}")
    if arr.shape[0] == 0:
        raise ValueError(f"{name}: is empty; give at least one sample (one row)")
    if not np.all(np.isfinite(arr)):
        bad = int(np.sum(~np.isfinite(arr)))
        raise ValueError(f"{name}: contains {bad} NaN/inf value(s); clean or drop those samples first")
    return arr


def as_inputs(X, n_inputs: int | None = None, name: str = "X") -> np.ndarray:
    """Validate inputs as a float64 ``(n_samples, n_inputs)`` array (1-D means one input)."""
    if n_inputs is not None and np.ndim(X) == 1 and n_inputs > 1:
        arr = _as_2d(np.asarray(X, dtype=float).reshape(1, -1), name)
    else:
        arr = _as_2d(X, name)
    if n_inputs is not None and arr.shape[1] != n_inputs:
        raise ValueError(f"{name}: has {arr.shape[1]} column(s) but the network takes {n_inputs} input(s); "
                         "samples must be rows")
    return arr


def as_targets(y, n_outputs: int, n_samples: int, name: str = "y", x_name: str = "X") -> np.ndarray:
    """Validate targets as a float64 ``(n_samples, n_outputs)`` array matching the inputs ``x_name``."""
    arr = _as_2d(y, name)
    if arr.shape[0] != n_samples:
        raise ValueError(f"{name}: has {arr.shape[0]} sample(s) but {x_name} has {n_samples}; samples must be rows")
    if arr.shape[1] != n_outputs:
        raise ValueError(f"{name}: has {arr.shape[1]} column(s) but the network has {n_outputs} output(s)")
    return arr


def _rng(seed) -> np.random.Generator:
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def train_test_split(X, y, test_fraction: float = 0.2, seed=None):
    """Random split into ``(X_train, X_test, y_train, y_test)``; the test set has
    round(test_fraction · n) samples (MATLAB's ``dividerand`` with no validation part)."""
    X, y = _as_2d(X, "X"), _as_2d(y, "y")
    if X.shape[0] != y.shape[0]:
        raise ValueError(f"y: has {y.shape[0]} samples but X has {X.shape[0]}")
    if not (0.0 < test_fraction < 1.0):
        raise ValueError(f"test_fraction: must lie in (0, 1), got {test_fraction}")
    n = X.shape[0]
    n_test = int(round(test_fraction * n))
    if n_test == 0 or n_test == n:
        raise ValueError(f"test_fraction: {test_fraction} of {n} samples leaves an empty part")
    perm = _rng(seed).permutation(n)
    tr, te = np.sort(perm[n_test:]), np.sort(perm[:n_test])
    return X[tr], X[te], y[tr], y[te]


def sine_data(n: int = 20, noise: float = 0.1, seed=None):
    """Thesis ch. 2 data: x = linspace(0, 1, n), y = −sin(0.8πx) + N(0, noise²)."""
    _check_n(n)
    x = np.linspace(0.0, 1.0, n)
    y = -np.sin(0.8 * np.pi * x) + noise * _rng(seed).standard_normal(n)
    return x.reshape(-1, 1), y.reshape(-1, 1)


def sin_x2_data(n: int = 40, noise: float = 0.1, seed=None):
    """Thesis ch. 4 data: x = linspace(0, π, n), y = sin(x²) + N(0, noise²)."""
    _check_n(n)
    x = np.linspace(0.0, np.pi, n)
    y = np.sin(x ** 2) + noise * _rng(seed).standard_normal(n)
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
    here = Path(__file__).resolve().parent.parent
    candidates += [Path.cwd() / "shared" / "data", Path.cwd().parent / "shared" / "data",
                   here.parent / "shared" / "data"]
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
