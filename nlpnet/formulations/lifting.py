"""Lifting rules for one hidden layer: smooth equality, ReLU and leaky ReLU by complementarity.

For a layer with pre-activation a = W z_prev + b (per sample), each rule returns the
per-sample state blocks it adds, its constraint rows with bounds, and the next layer's input.

* ``equality``      state z;     z − σ(a) = 0.  Also ReLU as the nonsmooth equality
                    z − max(a, 0) = 0 (generalized derivative 1[a > 0]).
* ``relu`` (MPCC)   state z ≥ 0; z − a ≥ 0,  z ∘ (z − a) ≤ ε.
                    With ε = 0 this is exactly z = max(a, 0), an MPCC where no constraint
                    qualification holds; ε > 0 is Scholtes' relaxation and a solver drives
                    ε → 0 over a homotopy. Any point with ε small satisfies
                    |z − max(a, 0)| ≤ √ε.
* ``leaky_relu``    states u (pre-activation), v;  u − a = 0,  v − u ≥ 0,  v − αu ≥ 0,
                    (v − u) ∘ (v − αu) ≤ ε, which for ε = 0 means v = max(u, αu).

Each complementarity pair 0 ≤ A ⊥ B ≥ 0 is also recorded by its two sides (``pairs``), so
a solver can fix a *branch* (A = 0 or B = 0 per pair) by changing bounds only: the branch
NLP is smooth and regular, and its solutions satisfy complementarity exactly.
"""
from __future__ import annotations

from dataclasses import dataclass

import casadi as ca
import numpy as np

__all__ = ["LayerLift", "lift_layer", "STATE_WIDTH", "RULES"]


@dataclass
class LayerLift:
    """What lifting one layer adds (per sample; ``rows`` has one column per sample)."""

    states: list            # [(name, width, lbx, ubx)]
    rows: ca.SX             # constraint rows, (m × N)
    lbg: np.ndarray         # (m,)
    ubg: np.ndarray         # (m,)
    comp_rows: np.ndarray   # row numbers (within this layer's m) of z∘(z−a) ≤ ε
    output: ca.SX           # next layer's input, (d × N)
    pairs: np.ndarray = None  # (d, 4): per unit the two sides (kind, local index); kind 0 = state, 1 = row


STATE_WIDTH = {"equality": 1, "relu": 1, "leaky_relu": 2}  # state blocks per unit
RULES = tuple(STATE_WIDTH)


def lift_layer(rule: str, act, A, syms, eps) -> LayerLift:
    """Lift one layer with pre-activation matrix ``A`` (d × N, CasADi); ``eps`` is the
    relaxation symbol (the product rows are written as z∘(z−a) − ε ≤ 0).

    ``syms`` maps state names to their SX matrices (d × N), created by the caller from the
    state vector in the order of ``states``.
    """
    d = A.shape[0]
    zeros, inf = np.zeros(d), np.full(d, np.inf)
    if rule == "equality":
        z = syms("z", d)
        return LayerLift(states=[("z", d, -inf, inf)], rows=z - act.casadi(A), lbg=zeros, ubg=zeros,
                         comp_rows=np.zeros(0, dtype=np.int64), output=z)
    if rule == "relu":
        z = syms("z", d)
        rows = ca.vertcat(z - A, z * (z - A) - eps)
        units = np.arange(d)
        return LayerLift(states=[("z", d, zeros, inf)], rows=rows,
                         lbg=np.concatenate([zeros, -inf]), ubg=np.concatenate([inf, np.full(d, 0.0)]),
                         comp_rows=np.arange(d, 2 * d), output=z,
                         pairs=np.stack([0 * units, units, 0 * units + 1, units], axis=1))
    if rule == "leaky_relu":
        alpha = act.alpha
        u, v = syms("u", d), syms("v", d)
        rows = ca.vertcat(u - A, v - u, v - alpha * u, (v - u) * (v - alpha * u) - eps)
        return LayerLift(states=[("u", d, -inf, inf), ("v", d, -inf, inf)], rows=rows,
                         lbg=np.concatenate([zeros, zeros, zeros, -inf]),
                         ubg=np.concatenate([zeros, inf, inf, np.full(d, 0.0)]),
                         comp_rows=np.arange(3 * d, 4 * d), output=v,
                         pairs=np.stack([np.ones(d, int), d + np.arange(d), np.ones(d, int), 2 * d + np.arange(d)],
                                        axis=1))
    raise ValueError(f"unknown lifting rule {rule!r}")
