"""Argument checks shared by every constructor and option class.

Each helper takes the argument's *name* (as the user typed it, e.g. ``"learning_rate"`` or
``"early_stopping.patience"``) and its value, and returns the value normalised to a plain
Python type, or raises a ``TypeError`` (wrong kind of value) / ``ValueError`` (right kind,
bad value) whose message starts with that name and says what is accepted. NumPy scalars
(``np.int64(5)``, ``np.float32(0.1)``) are accepted wherever the Python type is; ``bool`` is
never read as a number and strings are never read as booleans or numbers (``"no"`` is not
False).
"""
from __future__ import annotations

import difflib
import math
import numbers

import numpy as np

__all__ = ["as_bool", "as_int", "as_float", "as_per_layer", "as_choice", "as_seed", "as_finite_array",
           "as_interval", "as_dict", "did_you_mean"]


def did_you_mean(word, choices) -> str:
    """``"; did you mean 'x'?"`` for the closest of ``choices``, or ``""``."""
    if not isinstance(word, str):
        return ""
    close = difflib.get_close_matches(word, [str(c) for c in choices], n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def _is_number(v) -> bool:
    return isinstance(v, numbers.Real) and not isinstance(v, (bool, np.bool_))


def as_bool(name: str, value) -> bool:
    """True/False (or NumPy booleans); anything else is a TypeError."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    raise TypeError(f"{name}: expected True or False, got {value!r}")


def as_int(name: str, value, minimum: int | None = None, maximum: int | None = None, *,
           allow_none: bool = False):
    """An integer (Python or NumPy) within [minimum, maximum]; None if ``allow_none``."""
    if value is None and allow_none:
        return None
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        extra = " or None" if allow_none else ""
        raise TypeError(f"{name}: expected an integer{extra}, got {value!r}")
    v = int(value)
    if minimum is not None and v < minimum:
        raise ValueError(f"{name}: must be an integer ≥ {minimum}, got {v}")
    if maximum is not None and v > maximum:
        raise ValueError(f"{name}: must be an integer ≤ {maximum}, got {v}")
    return v


def as_float(name: str, value, *, positive: bool = False, nonneg: bool = False, lo=None, hi=None,
             lo_open: bool = False, hi_open: bool = False, allow_inf: bool = False, allow_none: bool = False):
    """A finite real number (Python or NumPy; ``allow_inf`` admits +inf) with optional bounds:
    ``positive`` (> 0), ``nonneg`` (≥ 0), ``lo``/``hi`` (closed unless ``lo_open``/``hi_open``)."""
    if value is None and allow_none:
        return None
    if not _is_number(value):
        extra = " or None" if allow_none else ""
        raise TypeError(f"{name}: expected a number{extra}, got {value!r}")
    v = float(value)
    if math.isnan(v) or (math.isinf(v) and not (allow_inf and v > 0)):
        raise ValueError(f"{name}: must be a finite number, got {v}")
    if positive and not v > 0:
        raise ValueError(f"{name}: must be a number > 0, got {v:g}")
    if nonneg and not v >= 0:
        raise ValueError(f"{name}: must be a number ≥ 0, got {v:g}")
    if lo is not None and (v <= lo if lo_open else v < lo):
        raise ValueError(f"{name}: must be {'>' if lo_open else '≥'} {lo:g}, got {v:g}")
    if hi is not None and (v >= hi if hi_open else v > hi):
        raise ValueError(f"{name}: must be {'<' if hi_open else '≤'} {hi:g}, got {v:g}")
    return v


def as_per_layer(name: str, value, **bounds):
    """One number for every layer, or a tuple (or list) of one number per layer, each checked
    by :func:`as_float` with ``bounds``; returned as a float or a tuple of floats (whether the
    tuple's length matches the network is for the caller, who knows the network)."""
    if isinstance(value, (tuple, list)):
        if not value:
            raise ValueError(f"{name}: the tuple is empty; give one number or one per layer")
        return tuple(as_float(f"{name}[{i}]", v, **bounds) for i, v in enumerate(value))
    if not _is_number(value):
        raise TypeError(f"{name}: expected a number or a tuple of one number per layer, got {value!r}")
    return as_float(name, value, **bounds)


def as_choice(name: str, value, choices):
    """One of ``choices`` (strings); a near miss is named in the message."""
    if not isinstance(value, str):
        raise TypeError(f"{name}: expected one of {', '.join(map(repr, choices))}, got {value!r}")
    if value not in choices:
        raise ValueError(f"{name}: must be one of {', '.join(map(repr, choices))}, got {value!r}"
                         f"{did_you_mean(value, choices)}")
    return value


def as_seed(name: str, value):
    """A seed: None, an integer ≥ 0, or a ``numpy.random.Generator`` / ``SeedSequence``
    (returned as is). NumPy's own message for ``-1`` names no argument, hence this check."""
    if value is None or isinstance(value, (np.random.Generator, np.random.SeedSequence)):
        return value
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name}: expected an integer ≥ 0, None or a numpy.random.Generator, got {value!r}")
    return as_int(name, value, 0)


def as_finite_array(name: str, value, *, ndim: int | None = None, shape=None) -> np.ndarray:
    """A float64 copy of a real array (no complex, no strings, no NaN/inf), optionally of
    ``ndim`` dimensions or exactly ``shape``."""
    arr = np.asarray(value)
    if arr.dtype == object or arr.dtype.kind not in "biuf":
        kind = "complex numbers" if arr.dtype.kind == "c" else f"values of type {arr.dtype}"
        raise TypeError(f"{name}: expected real numbers, got {kind}")
    arr = arr.astype(float, copy=True)
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name}: expected a {ndim}-dimensional array, got shape {arr.shape}")
    if shape is not None and arr.shape != tuple(shape):
        raise ValueError(f"{name}: expected shape {tuple(shape)}, got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name}: contains NaN or inf")
    return arr


def as_interval(name: str, value, size: int | None = None):
    """A pair ``(lo, hi)`` of finite numbers or of arrays broadcastable to ``size`` entries,
    with lo ≤ hi everywhere; returned as two float64 arrays (0-d for scalars)."""
    if isinstance(value, (str, bytes)) or not isinstance(value, (tuple, list)) or len(value) != 2:
        raise TypeError(f"{name}: expected a pair (lo, hi) of numbers or of arrays, got {value!r}")
    lo = as_finite_array(f"{name}[0]", value[0])
    hi = as_finite_array(f"{name}[1]", value[1])
    if size is not None:
        for part, arr in (("[0]", lo), ("[1]", hi)):
            if arr.ndim > 1 or (arr.ndim == 1 and arr.size not in (1, size)):
                raise ValueError(f"{name}{part}: expected a number or {size} values (one per input), "
                                 f"got shape {arr.shape}")
    try:
        reversed_ = np.any(lo > hi)
    except ValueError:
        raise ValueError(f"{name}: lo and hi have different shapes {lo.shape} and {hi.shape}") from None
    if reversed_:
        raise ValueError(f"{name}: the lower end exceeds the upper end (got {value!r}); give (lo, hi) with lo ≤ hi")
    return lo, hi


def as_dict(name: str, value, *, allow_none: bool = True) -> dict:
    """A dict with string keys (a copy); None gives {} when ``allow_none``."""
    if value is None and allow_none:
        return {}
    if not isinstance(value, dict):
        raise TypeError(f"{name}: expected a dict, got {type(value).__name__} {value!r}")
    for k in value:
        if not isinstance(k, str):
            raise TypeError(f"{name}: keys must be strings, got {k!r}")
    return dict(value)
