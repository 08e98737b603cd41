"""Seeded weight initialisers.

For a dense layer with ``fan_in`` inputs and ``fan_out`` units:

* ``glorot_uniform``  W ~ U(±√(6/(fan_in+fan_out)))           (Glorot & Bengio 2010)
* ``glorot_normal``   W ~ N(0, 2/(fan_in+fan_out))
* ``he_uniform``      W ~ U(±√(6/fan_in))                      (He et al. 2015)
* ``he_normal``       W ~ N(0, 2/fan_in)
* ``nguyen_widrow``   MATLAB's ``initnw``: for tanh/sigmoid layers, rows of W are random
  directions of length 0.7·S^(1/R) (S units, R inputs) and the biases spread the units'
  active regions evenly over the layer's input range; other layers get U(−1, 1) weights
  and biases, as ``initnw`` falls back to ``rands``.

Biases are zero except for Nguyen–Widrow. Every initialiser draws from one
``numpy.random.Generator`` layer by layer, so one seed fixes the whole network.
"""
from __future__ import annotations

import numpy as np

from .activations import Activation

__all__ = ["INITIALIZERS", "init_layer"]

INITIALIZERS = ("glorot_uniform", "glorot_normal", "he_uniform", "he_normal", "nguyen_widrow")


def _nguyen_widrow(rng, fan_in, fan_out, act: Activation, input_range):
    active = act.active_input_range
    if active is None:  # initnw falls back to rands for unbounded transfer functions
        return rng.uniform(-1, 1, (fan_out, fan_in)), rng.uniform(-1, 1, fan_out)
    mag = 0.7 * fan_out ** (1.0 / fan_in)
    direction = rng.uniform(-1, 1, (fan_out, fan_in))
    direction /= np.linalg.norm(direction, axis=1, keepdims=True)
    W = mag * direction
    b = mag * np.linspace(-1, 1, fan_out) * np.sign(W[:, 0]) if fan_out > 1 else np.zeros(1)
    # map from [-1, 1] to the activation's active input interval
    half, mid = 0.5 * (active[1] - active[0]), 0.5 * (active[1] + active[0])
    W, b = half * W, half * b + mid
    # map from the layer's input range to [-1, 1]
    lo, hi = (np.broadcast_to(np.asarray(v, float), (fan_in,)) for v in input_range)
    scale = 2.0 / np.where(hi > lo, hi - lo, 2.0)
    centre = 0.5 * (hi + lo)
    W_in = W * scale
    b = b - W_in @ centre
    return W_in, b


def init_layer(method: str, rng: np.random.Generator, fan_in: int, fan_out: int,
               act: Activation, input_range=(-1.0, 1.0)):
    """Return ``(W, b)`` for one layer; ``W`` has shape ``(fan_out, fan_in)``."""
    if method == "glorot_uniform":
        lim = np.sqrt(6.0 / (fan_in + fan_out))
        return rng.uniform(-lim, lim, (fan_out, fan_in)), np.zeros(fan_out)
    if method == "glorot_normal":
        return rng.normal(0.0, np.sqrt(2.0 / (fan_in + fan_out)), (fan_out, fan_in)), np.zeros(fan_out)
    if method == "he_uniform":
        lim = np.sqrt(6.0 / fan_in)
        return rng.uniform(-lim, lim, (fan_out, fan_in)), np.zeros(fan_out)
    if method == "he_normal":
        return rng.normal(0.0, np.sqrt(2.0 / fan_in), (fan_out, fan_in)), np.zeros(fan_out)
    if method == "nguyen_widrow":
        return _nguyen_widrow(rng, fan_in, fan_out, act, input_range)
    raise ValueError(f"init: unknown initialiser {method!r}; choose one of {', '.join(INITIALIZERS)} "
                     "or pass a list of (W, b) arrays")
