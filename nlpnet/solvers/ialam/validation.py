"""Argument checks of :func:`run_ialam`: every problem is reported before any work is done."""
from __future__ import annotations

import difflib
import math

import numpy as np

__all__ = ["validate_inputs", "OUTPUTS"]

OUTPUTS = ("leaky_relu", "identity")


def _matrix(name, A, n_cols=None):
    if A is None:
        raise TypeError(f"{name}: expected a 2-D array, got None")
    try:
        A = np.array(A, dtype=float)             # a private float64 copy
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name}: expected a numeric 2-D array ({exc})") from None
    if A.ndim == 1 and name.startswith("Y"):
        A = A[:, None]                           # one target per sample
    if A.ndim != 2:
        raise ValueError(f"{name}: expected a 2-D array with samples as rows, got shape {A.shape}")
    if A.shape[0] == 0 or A.shape[1] == 0:
        raise ValueError(f"{name}: is empty (shape {A.shape}); give at least one sample and one column")
    if not np.all(np.isfinite(A)):
        raise ValueError(f"{name}: contains NaN or inf; clean or impute the data first")
    if n_cols is not None and A.shape[1] != n_cols:
        raise ValueError(f"{name}: has {A.shape[1]} columns, expected {n_cols}")
    return A


def validate_inputs(X, Y, hidden_alpha, output, W0, b0, X_test, Y_test, deadline):
    X = _matrix("X", X)
    Y = _matrix("Y", Y)
    if Y.shape[0] != X.shape[0]:
        raise ValueError(f"Y: has {Y.shape[0]} rows but X has {X.shape[0]}; samples are rows in both")
    if isinstance(hidden_alpha, bool) or not isinstance(hidden_alpha, (int, float, np.floating)) \
            or not 0.0 <= float(hidden_alpha) < 1.0:
        raise ValueError(f"hidden_alpha: the leaky-ReLU slope must be a number in [0, 1) (0 = ReLU), "
                         f"got {hidden_alpha!r}")
    if output not in OUTPUTS:
        close = difflib.get_close_matches(str(output), OUTPUTS, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ValueError(f"output: must be one of {OUTPUTS}, got {output!r}{hint}")
    if not isinstance(W0, (list, tuple)) or not isinstance(b0, (list, tuple)) or len(W0) == 0:
        raise TypeError("W0, b0: expected non-empty lists of arrays, one per layer (see init_weights)")
    if len(W0) != len(b0):
        raise ValueError(f"b0: has {len(b0)} arrays but W0 has {len(W0)}; give one bias per layer")
    W, b, width = [], [], X.shape[1]
    for l, (Wl, bl) in enumerate(zip(W0, b0)):
        Wl = _matrix(f"W0[{l}]", Wl)
        if Wl.shape[1] != width:
            raise ValueError(f"W0[{l}]: has shape {Wl.shape}, expected (d_{l + 1}, {width}) to follow "
                             f"{'X' if l == 0 else f'W0[{l - 1}]'}")
        bl = np.array(bl, dtype=float).reshape(-1) if np.ndim(bl) <= 2 else None
        if bl is None or bl.shape != (Wl.shape[0],) or not np.all(np.isfinite(bl)):
            raise ValueError(f"b0[{l}]: expected {Wl.shape[0]} finite numbers (W0[{l}] has {Wl.shape[0]} rows)")
        W.append(np.ascontiguousarray(Wl))
        b.append(bl)
        width = Wl.shape[0]
    if width != Y.shape[1]:
        raise ValueError(f"W0[-1]: has {width} rows but Y has {Y.shape[1]} columns; the output width must match")
    if (X_test is None) != (Y_test is None):
        raise ValueError("X_test, Y_test: give both or neither")
    if X_test is not None:
        X_test = _matrix("X_test", X_test, X.shape[1])
        Y_test = _matrix("Y_test", Y_test, Y.shape[1])
        if Y_test.shape[0] != X_test.shape[0]:
            raise ValueError(f"Y_test: has {Y_test.shape[0]} rows but X_test has {X_test.shape[0]}")
    if deadline is not None and (isinstance(deadline, bool) or not isinstance(deadline, (int, float))
                                 or not math.isfinite(deadline)):
        raise ValueError(f"deadline: expected a time.monotonic() value or None, got {deadline!r}")
    return X, Y, X_test, Y_test, W, b
