"""Learning-rate schedules: functions of the epoch index t = 0, 1, 2, … returning η(t).

* :func:`constant`            η(t) = η0
* :func:`piecewise_constant`  η(t) = v_i for b_{i−1} ≤ t < b_i (boundaries b_1 < b_2 < …,
  one more value than boundaries)
* :func:`exponential`         η(t) = η0 · exp(−λ t)
* :func:`power`               η(t) = η0 · (β t + 1)^(−α)
* :func:`cyclic`              triangular cyclical rate (Smith 2017): with half-period s,
  c = ⌊1 + t/(2s)⌋, x = |t/s − 2c + 1|, η(t) = η_lo + (η_hi − η_lo) · max(0, 1 − x)
* :func:`one_cycle`           warm-up from η_max/div to η_max over the first ``pct_start``
  of ``total`` epochs, then cosine annealing down to η_max/(div·final_div); the last
  value is held after ``total`` epochs

Every back-propagation solver accepts a schedule (or any callable ``t -> η``) as its
``learning_rate`` option, or a dict ``{"kind": "exponential", "initial": 1e-2, "rate": 1e-3}``.
Schedules count epochs, not mini-batch updates: all updates of one epoch use η(epoch).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ...validation import as_float, as_int

__all__ = ["Schedule", "constant", "piecewise_constant", "exponential", "power", "cyclic", "one_cycle",
           "as_schedule", "SCHEDULES"]


@dataclass(frozen=True)
class Schedule:
    """A named learning-rate schedule; call it with the epoch index."""

    kind: str
    fn: object
    params: dict

    def __call__(self, t: int) -> float:
        return float(self.fn(int(t)))

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return f"{self.kind}({args})"


def constant(initial: float) -> Schedule:
    initial = as_float("initial", initial, positive=True)
    return Schedule("constant", lambda t: initial, {"initial": initial})


def piecewise_constant(boundaries, values) -> Schedule:
    b = [as_int(f"boundaries[{i}]", x, 0) for i, x in enumerate(boundaries)]
    v = list(values)
    if len(v) != len(b) + 1:
        raise ValueError(f"values: need one more value than boundaries ({len(b) + 1}), got {len(v)}")
    if any(b2 <= b1 for b1, b2 in zip(b, b[1:])) or any(x < 0 for x in b):
        raise ValueError(f"boundaries: must be increasing epoch indices ≥ 0, got {b}")
    v = [as_float(f"values[{i}]", x, positive=True) for i, x in enumerate(values)]

    def fn(t):
        for bound, val in zip(b, v):
            if t < bound:
                return val
        return v[-1]
    return Schedule("piecewise_constant", fn, {"boundaries": b, "values": v})


def exponential(initial: float, rate: float) -> Schedule:
    initial = as_float("initial", initial, positive=True)
    rate = as_float("rate", rate, nonneg=True)
    return Schedule("exponential", lambda t: initial * math.exp(-rate * t), {"initial": initial, "rate": rate})


def power(initial: float, beta: float = 1.0, alpha: float = 0.5) -> Schedule:
    initial = as_float("initial", initial, positive=True)
    beta = as_float("beta", beta, nonneg=True)
    alpha = as_float("alpha", alpha, nonneg=True)
    return Schedule("power", lambda t: initial * (beta * t + 1.0) ** (-alpha),
                    {"initial": initial, "beta": beta, "alpha": alpha})


def cyclic(low: float, high: float, half_period: int) -> Schedule:
    low = as_float("low", low, positive=True)
    high = as_float("high", high, positive=True)
    half_period = as_int("half_period", half_period, 1)
    if high < low:
        raise ValueError(f"high: must be ≥ low ({low}), got {high}")

    def fn(t):
        c = math.floor(1 + t / (2 * half_period))
        x = abs(t / half_period - 2 * c + 1)
        return low + (high - low) * max(0.0, 1.0 - x)
    return Schedule("cyclic", fn, {"low": low, "high": high, "half_period": half_period})


def one_cycle(maximum: float, total: int, pct_start: float = 0.3, div: float = 25.0,
              final_div: float = 1e4) -> Schedule:
    maximum = as_float("maximum", maximum, positive=True)
    total = as_int("total", total, 2)
    if not 0 < pct_start < 1:
        raise ValueError(f"pct_start: must lie in (0, 1), got {pct_start!r}")
    div = as_float("div", div, positive=True)
    final_div = as_float("final_div", final_div, positive=True)
    start, end = maximum / div, maximum / (div * final_div)
    up = max(1, int(round(pct_start * (total - 1))))

    def fn(t):
        if t <= up:
            return start + (maximum - start) * t / up
        s = min(1.0, (t - up) / (total - 1 - up)) if total - 1 > up else 1.0
        return end + (maximum - end) * 0.5 * (1 + math.cos(math.pi * s))
    return Schedule("one_cycle", fn, {"maximum": maximum, "total": total, "pct_start": pct_start, "div": div,
                                      "final_div": final_div})


SCHEDULES = {"constant": constant, "piecewise_constant": piecewise_constant, "exponential": exponential,
             "power": power, "cyclic": cyclic, "one_cycle": one_cycle}


def as_schedule(value, name: str = "learning_rate"):
    """A float, a :class:`Schedule`, any callable ``t -> η``, or a dict with ``kind``."""
    if isinstance(value, Schedule):
        return value
    if isinstance(value, dict):
        spec = dict(value)
        kind = spec.pop("kind", None)
        if kind not in SCHEDULES:
            raise ValueError(f"{name}: a schedule dict needs 'kind' among {', '.join(SCHEDULES)}, got {kind!r}")
        try:
            return SCHEDULES[kind](**spec)
        except TypeError as exc:
            raise ValueError(f"{name}: bad parameters for the {kind} schedule: {exc}") from None
    if isinstance(value, bool):
        raise TypeError(f"{name}: expected a number, a schedule or a callable, got a bool")
    if isinstance(value, (int, float, np.integer, np.floating)):
        return constant(as_float(name, value, positive=True))
    if callable(value):
        try:  # a rate function must take the epoch index and return a positive number
            as_float(f"{name}(0)", value(0), positive=True)
        except Exception as exc:
            raise TypeError(f"{name}: a callable learning rate must map the epoch index t = 0, 1, … to a "
                            f"number > 0; calling it with 0 failed: {exc}") from None
        return value
    raise TypeError(f"{name}: expected a number > 0, a schedule (nlpnet.solvers.schedules) or a callable "
                    f"epoch -> rate, got {type(value).__name__}")
