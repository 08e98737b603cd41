"""Activation functions, usable on CasADi symbols and on NumPy arrays.

Each activation ``σ`` knows three things:

* ``casadi(a)`` — the symbolic expression σ(a) for SX/MX graphs (derivatives by AD);
* ``numpy(a)`` — the same function on arrays, for fast prediction;
* ``derivative(a)`` — σ'(a) on arrays, used by structure-exploiting solvers and tests.

ReLU and leaky ReLU are not differentiable at 0. Everywhere in nlpnet — NumPy
``derivative``, and the CasADi expressions that AD differentiates — their derivative is
1[a > 0] (resp. α + (1 − α)·1[a > 0]), the subgradient PyTorch and Keras use. The
symbolic form is ``if_else(a > 0, a, 0)`` rather than ``fmax(a, 0)`` because CasADi
differentiates ``fmax`` as ½ at a = 0 exactly; with zero initial biases the sample x = 0 sits
on every first-layer kink, and the ½ revives units that back-propagation elsewhere leaves
dead (it visibly changed the Adam convergence counts of thesis Table 4.1).

``kind`` tells the formulations how the activation may be lifted: ``"smooth"``
activations become equality constraints z = σ(a); ``"relu"`` and ``"leaky_relu"``
may also be written as complementarity constraints (see ``formulations``).
"""
from __future__ import annotations

from dataclasses import dataclass

import casadi as ca
import numpy as np

__all__ = ["Activation", "get_activation", "ACTIVATION_NAMES"]


@dataclass(frozen=True)
class Activation:
    """A scalar activation applied elementwise. ``alpha`` is used by leaky ReLU only."""

    name: str
    alpha: float = 0.0

    def __post_init__(self):
        if self.name not in ACTIVATION_NAMES:
            raise ValueError(f"Activation.name: must be one of {', '.join(ACTIVATION_NAMES)}, got {self.name!r}")
        if self.name == "leaky_relu":
            object.__setattr__(self, "alpha", _alpha("Activation.alpha", self.alpha))
        elif self.alpha != 0.0:
            raise ValueError(f"Activation.alpha: applies to 'leaky_relu' only, got {self.alpha!r} for {self.name!r}")

    @property
    def kind(self) -> str:
        return self.name if self.name in ("relu", "leaky_relu") else "smooth"

    @property
    def output_range(self) -> tuple[float, float]:
        """Range of σ, used by the Nguyen–Widrow initialiser for the next layer."""
        return {
            "tanh": (-1.0, 1.0),
            "sigmoid": (0.0, 1.0),
        }.get(self.name, (-1.0, 1.0))

    @property
    def active_input_range(self) -> tuple[float, float] | None:
        """Input interval where σ is not saturated (MATLAB's ``active``), or None."""
        return {"tanh": (-2.0, 2.0), "sigmoid": (-4.0, 4.0)}.get(self.name)

    def casadi(self, a):
        n = self.name
        if n == "tanh":
            return ca.tanh(a)
        if n == "sigmoid":
            return 1.0 / (1.0 + ca.exp(-a))
        if n == "relu":
            return ca.if_else(a > 0, a, 0)
        if n == "leaky_relu":
            return ca.if_else(a > 0, a, self.alpha * a)
        if n == "softplus":
            # log(1 + e^a) written to avoid overflow for large a
            return ca.fmax(a, 0) + ca.log1p(ca.exp(-ca.fabs(a)))
        return a

    def numpy(self, a: np.ndarray) -> np.ndarray:
        n = self.name
        if n == "tanh":
            return np.tanh(a)
        if n == "sigmoid":
            return 0.5 * (1.0 + np.tanh(0.5 * a))
        if n == "relu":
            return np.maximum(a, 0.0)
        if n == "leaky_relu":
            return np.maximum(a, self.alpha * a)
        if n == "softplus":
            return np.logaddexp(0.0, a)
        return np.asarray(a, dtype=float)

    def derivative(self, a: np.ndarray) -> np.ndarray:
        n = self.name
        if n == "tanh":
            return 1.0 - np.tanh(a) ** 2
        if n == "sigmoid":
            s = 0.5 * (1.0 + np.tanh(0.5 * a))
            return s * (1.0 - s)
        if n == "relu":
            return (a > 0).astype(float)
        if n == "leaky_relu":
            return np.where(a > 0, 1.0, self.alpha)
        if n == "softplus":
            return 0.5 * (1.0 + np.tanh(0.5 * a))
        return np.ones_like(a, dtype=float)

    def to_spec(self):
        return ("leaky_relu", self.alpha) if self.name == "leaky_relu" else self.name

    def __str__(self) -> str:
        return f"leaky_relu({self.alpha:g})" if self.name == "leaky_relu" else self.name


ACTIVATION_NAMES = ("tanh", "sigmoid", "relu", "leaky_relu", "softplus", "identity")
_ALIASES = {"linear": "identity", "none": "identity", "logistic": "sigmoid", "poslin": "relu",
            "tansig": "tanh", "purelin": "identity"}


def get_activation(spec, *, argname: str = "activation") -> Activation:
    """Turn ``spec`` into an :class:`Activation`.

    Accepted: an :class:`Activation`; a name from ``ACTIVATION_NAMES`` (aliases such as
    ``"linear"`` and MATLAB's ``"tansig"``/``"poslin"`` too); ``"leaky_relu"`` (α = 0.01);
    the tuple ``("leaky_relu", alpha)``; ``"leaky_relu(0.1)"``. ``None`` is refused (write
    ``"identity"`` for a linear layer: a forgotten argument must not silently build a linear
    net), and so is a slope for any other activation (``("tanh", 0.5)``). A *list* means one
    activation per hidden layer and is read by :class:`~nlpnet.network.Network`, not here.
    """
    if isinstance(spec, Activation):
        return spec
    if spec is None:
        raise TypeError(f"{argname}: got None; write 'identity' for a linear layer (choose one of "
                        f"{', '.join(ACTIVATION_NAMES)})")
    if isinstance(spec, list):
        raise TypeError(f"{argname}: expected one activation, got the list {spec!r}; a list (one activation per "
                        "hidden layer) is accepted only by Network(sizes, activation=[...])")
    alpha = None
    if isinstance(spec, tuple):
        if len(spec) != 2 or not isinstance(spec[0], str):
            raise TypeError(f"{argname}: expected a name or ('leaky_relu', alpha), got {spec!r}")
        spec, alpha = spec
    if not isinstance(spec, str):
        raise TypeError(f"{argname}: expected an activation name such as 'tanh', got {type(spec).__name__}")
    name = spec.strip().lower()
    if name.startswith("leaky_relu(") and name.endswith(")"):
        try:
            alpha = float(name[len("leaky_relu("):-1])
        except ValueError:
            raise ValueError(f"{argname}: cannot read alpha from {spec!r}; write e.g. 'leaky_relu(0.1)'") from None
        name = "leaky_relu"
    name = _ALIASES.get(name, name)
    if name not in ACTIVATION_NAMES:
        from .validation import did_you_mean
        raise ValueError(f"{argname}: unknown activation {spec!r}; choose one of {', '.join(ACTIVATION_NAMES)}"
                         f"{did_you_mean(name, ACTIVATION_NAMES)}")
    if name == "leaky_relu":
        return Activation(name, 0.01 if alpha is None else _alpha(f"{argname} alpha", alpha))
    if alpha is not None:
        raise ValueError(f"{argname}: a slope alpha applies to 'leaky_relu' only, got ({spec!r}, {alpha!r}); "
                         f"write {spec!r} or ('leaky_relu', {alpha!r})")
    return Activation(name)


def _alpha(name, value) -> float:
    """The leaky-ReLU slope: a finite number in (0, 1)."""
    from .validation import as_float
    alpha = as_float(name, value)
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"{name}: the leaky_relu slope must lie in (0, 1), got {alpha:g}")
    return alpha
