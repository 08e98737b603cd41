"""The one place where user arrays and small scalar arguments are checked.

Every loader, transform and metric in :mod:`nlpnet.data` and :mod:`nlpnet.metrics` (and,
through :func:`as_inputs` / :func:`as_targets`, every ``Problem`` and ``Network.predict``)
turns user input into float64 arrays here, so the rules are the same everywhere and every
message names the argument:

* ``None`` → TypeError; strings (also numeric ones such as ``"1.5"``), dates and other
  non-numbers → TypeError — NumPy would parse ``"1.5"`` as 1.5 and a typo would then go
  unnoticed;
* complex values → TypeError — a float cast silently drops the imaginary part;
* ragged nested lists → ValueError saying which rows differ in length (NumPy's own message
  names no argument);
* NaN / inf → ValueError with their count.

Booleans and every integer and float dtype are accepted and converted to float64. The
returned array is always a fresh copy, so later changes to the caller's array cannot leak in.
"""
from __future__ import annotations

import decimal
import difflib
import numbers

import numpy as np

__all__ = ["as_float_array", "as_2d", "as_inputs", "as_targets", "as_generator", "check_int", "check_choice"]

# dtype kinds NumPy can produce that are not numbers: unicode/bytes/StringDType strings,
# datetimes, timedeltas, structured records
_NON_NUMERIC_KINDS = {"U": "strings", "S": "byte strings", "T": "strings", "M": "datetimes",
                      "m": "timedeltas", "V": "structured records"}


def _ragged_message(a, name: str) -> str:
    """Say where a nested list stops being rectangular (the first row whose length differs)."""
    generic = (f"{name}: is ragged (nested lists of different lengths); every sample (row) needs the "
               "same number of values")
    try:
        rows = list(a)
    except TypeError:
        return generic

    def size(r):
        if isinstance(r, (str, bytes)) or not hasattr(r, "__len__"):
            return None
        return len(r)

    first = size(rows[0]) if rows else None
    for i, r in enumerate(rows[1:], start=1):
        s = size(r)
        if s != first:
            def say(k, n):
                return f"row {k} is a single value" if n is None else f"row {k} has {n} value(s)"
            return f"{generic}: {say(0, first)} but {say(i, s)}"
    return generic


def as_float_array(a, name: str) -> np.ndarray:
    """``a`` as a fresh float64 array of any shape, after the checks listed in the module doc."""
    if a is None:
        raise TypeError(f"{name}: expected an array, got None")
    if isinstance(a, (str, bytes)):
        raise TypeError(f"{name}: expected a numeric array, got the string {a!r}; pass numbers")
    try:
        raw = np.asarray(a)
    except ValueError:
        raise ValueError(_ragged_message(a, name)) from None
    kind = raw.dtype.kind
    if kind in _NON_NUMERIC_KINDS:
        hint = ("; convert them to numbers yourself (e.g. np.asarray(..., dtype=float)) so that a typo cannot "
                "pass unnoticed") if kind in "UST" else ""
        raise TypeError(f"{name}: expected a numeric array, got {_NON_NUMERIC_KINDS[kind]} (dtype {raw.dtype}){hint}")
    if kind == "c":
        raise TypeError(f"{name}: complex values are not supported (dtype {raw.dtype}); nlpnet trains on "
                        f"real numbers — pass {name}.real if the imaginary part may be dropped")
    if kind == "O":
        # mixed Python objects: look at the entries once (object arrays are rare and small)
        for v in raw.flat:
            if isinstance(v, (numbers.Real, decimal.Decimal)):
                continue
            if isinstance(v, numbers.Complex):
                raise TypeError(f"{name}: complex values are not supported (entry {v!r}); nlpnet trains on "
                                "real numbers")
            if isinstance(v, (list, tuple, np.ndarray)):
                raise ValueError(_ragged_message(a, name))
            what = f"the string entry {v!r}; pass numbers" if isinstance(v, (str, bytes)) else \
                f"the non-numeric entry {v!r} ({type(v).__name__})"
            raise TypeError(f"{name}: expected a numeric array, got {what}")
        arr = raw.astype(np.float64)
    else:
        arr = raw.astype(np.float64, copy=True)
    if not np.all(np.isfinite(arr)):
        bad = int(np.sum(~np.isfinite(arr)))
        raise ValueError(f"{name}: contains {bad} NaN/inf value(s); clean or drop those samples first")
    return arr


def as_2d(a, name: str) -> np.ndarray:
    """``a`` as a non-empty float64 ``(n_samples, n_features)`` array; 1-D means one column."""
    return _rows(as_float_array(a, name), name)


def _rows(arr: np.ndarray, name: str) -> np.ndarray:
    """The shape checks of :func:`as_2d` on an array that :func:`as_float_array` already made."""
    if arr.ndim == 1:
        arr = arr.reshape(-1, 1)
    if arr.ndim != 2:
        raise ValueError(f"{name}: expected shape (n_samples, n_features), got {arr.shape}")
    if arr.shape[0] == 0:
        raise ValueError(f"{name}: is empty; give at least one sample (one row)")
    return arr


def check_int(value, name: str, low: int | None = None, high: int | None = None) -> int:
    """A Python int from an int or NumPy integer (never a bool or a float) within [low, high]."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name}: expected an integer, got {value!r} ({type(value).__name__})")
    value = int(value)
    if (low is not None and value < low) or (high is not None and value > high):
        lo = "-inf" if low is None else low
        hi = "inf" if high is None else high
        raise ValueError(f"{name}: must lie in [{lo}, {hi}], got {value}")
    return value


def check_choice(value, name: str, choices) -> str:
    """One of ``choices`` (strings); otherwise a ValueError listing them and the nearest match."""
    choices = tuple(choices)
    if isinstance(value, str) and value in choices:
        return value
    lowered = {c.lower(): c for c in choices}
    near = difflib.get_close_matches(str(value).lower(), list(lowered), n=1)
    hint = f"; did you mean {lowered[near[0]]!r}?" if near else ""
    raise ValueError(f"{name}: must be one of {', '.join(map(repr, choices))}, got {value!r}{hint}")


def as_inputs(X, n_inputs: int | None = None, name: str = "X") -> np.ndarray:
    """Validate inputs as a float64 ``(n_samples, n_inputs)`` array (1-D means one input)."""
    arr = as_float_array(X, name)
    if n_inputs is not None and arr.ndim == 1 and n_inputs > 1:
        arr = arr.reshape(1, -1)  # one sample of a multi-input network
    arr = _rows(arr, name)      # converted once: a large X is copied and scanned for NaN only once
    if n_inputs is not None and arr.shape[1] != n_inputs:
        raise ValueError(f"{name}: has {arr.shape[1]} column(s) but the network takes {n_inputs} input(s); "
                         "samples must be rows")
    return arr


def as_targets(y, n_outputs: int, n_samples: int, name: str = "y", x_name: str = "X") -> np.ndarray:
    """Validate targets as a float64 ``(n_samples, n_outputs)`` array matching the inputs ``x_name``."""
    arr = as_2d(y, name)
    if arr.shape[0] != n_samples:
        raise ValueError(f"{name}: has {arr.shape[0]} sample(s) but {x_name} has {n_samples}; samples must be rows")
    if arr.shape[1] != n_outputs:
        raise ValueError(f"{name}: has {arr.shape[1]} column(s) but the network has {n_outputs} output(s)")
    return arr


def as_generator(seed, name: str = "seed") -> np.random.Generator:
    """A Generator from a seed (int ≥ 0, None, SeedSequence) or the Generator itself; a bad
    seed (``-1``, ``1.5``, ``"a"``) is refused naming ``name``."""
    from ..validation import as_seed
    seed = as_seed(name, seed)
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
