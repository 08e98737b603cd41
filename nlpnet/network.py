"""Dense feed-forward networks declared once, evaluated symbolically or numerically.

A network with layers k = 1..L maps x ∈ R^{d0} to

    z_0 = x,   z_k = σ_k(W_k z_{k−1} + b_k),   f_θ(x) = z_L,

with W_k ∈ R^{d_k × d_{k−1}}. The parameters θ are packed layer by layer as
[vec(W_1); b_1; vec(W_2); b_2; …] with ``vec`` column-major, which is CasADi's own
``reshape`` order, so the same flat vector serves NumPy and CasADi.

Samples are rows for the user (``X.shape == (n_samples, d0)``); the symbolic
routines work on columns (``d × n``), CasADi's natural layout.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import casadi as ca
import numpy as np

from .activations import Activation, get_activation
from .initializers import INITIALIZERS, init_layer
from .validation import as_bool, as_finite_array, as_int, as_interval, as_seed

__all__ = ["Dense", "Network"]

_FORMAT_VERSION = 1


@dataclass(frozen=True)
class Dense:
    """A fully connected layer: ``units`` outputs, an activation, and an optional bias."""

    units: int
    activation: object = "identity"
    use_bias: bool = True

    def __post_init__(self):
        object.__setattr__(self, "units", as_int("Dense.units", self.units, 1))
        object.__setattr__(self, "activation", get_activation(self.activation, argname="Dense.activation"))
        object.__setattr__(self, "use_bias", as_bool("Dense.use_bias", self.use_bias))


def _hidden_activations(activation, n_hidden: int) -> list:
    """One activation per hidden layer: a single spec for all, or a list with one per layer."""
    if isinstance(activation, list):
        if len(activation) != n_hidden:
            raise ValueError(f"activation: a list gives one activation per hidden layer; this network has "
                             f"{n_hidden} hidden layer(s), got {len(activation)} activation(s)")
        return [get_activation(a, argname=f"activation[{i}]") for i, a in enumerate(activation)]
    return [get_activation(activation)] * n_hidden


class Network:
    """A dense feed-forward network with its current parameters.

    ``Network([1, 8, 8, 1], activation="tanh")`` gives two tanh hidden layers and a linear
    output (``output_activation``); ``activation`` may also be a list with one activation
    per hidden layer (``Network([1, 8, 8, 1], activation=["relu", "tanh"])``).
    ``Network([Dense(8, "relu"), Dense(1)], n_inputs=1)`` lists layers explicitly. ``init``
    is an initialiser name (see :mod:`nlpnet.initializers`) or a list of ``(W, b)`` arrays;
    ``seed`` fixes the draw; ``input_range`` (lo, hi) of the data — numbers or one value per
    input, lo ≤ hi — is used by Nguyen–Widrow.
    """

    def __init__(self, layers, activation="tanh", *, output_activation="identity", use_bias=True,
                 n_inputs=None, init="glorot_uniform", seed=None, input_range=(-1.0, 1.0), input_transform=None):
        if not isinstance(layers, (list, tuple)) or len(layers) == 0:
            raise TypeError("layers: give a list of sizes such as [1, 8, 8, 1] or a list of Dense layers")
        if all(isinstance(l, Dense) for l in layers):
            if n_inputs is None:
                raise ValueError("n_inputs: required when layers are given as Dense objects")
            dense = list(layers)
        elif not any(isinstance(l, Dense) for l in layers):
            sizes = [as_int(f"layers[{i}]", l) for i, l in enumerate(layers)]
            if len(sizes) < 2:
                raise ValueError(f"layers: need at least input and output sizes, got {sizes}")
            if any(l < 1 for l in sizes):
                raise ValueError(f"layers: sizes must be positive, got {sizes}")
            if n_inputs is not None and n_inputs != sizes[0]:
                raise ValueError(f"n_inputs={n_inputs} contradicts layers[0]={sizes[0]}")
            n_inputs = sizes[0]
            bias = as_bool("use_bias", use_bias)
            hidden = _hidden_activations(activation, len(sizes) - 2)
            out = get_activation(output_activation, argname="output_activation")
            dense = [Dense(u, a, bias) for u, a in zip(sizes[1:-1], hidden)] + [Dense(sizes[-1], out, bias)]
        else:
            raise TypeError("layers: mix of sizes and Dense objects; use one or the other")
        self.layers: tuple[Dense, ...] = tuple(dense)
        self.n_inputs = as_int("n_inputs", n_inputs, 1)
        self._slices = self._layout()
        self._params = np.zeros(self.n_params)
        self.initialize(init, seed=seed, input_range=input_range)
        self.input_transform = _check_transform(input_transform, self.n_inputs)

    # ----------------------------------------------------------------- structure
    @property
    def sizes(self) -> list[int]:
        return [self.n_inputs] + [l.units for l in self.layers]

    @property
    def n_outputs(self) -> int:
        return self.layers[-1].units

    @property
    def activations(self) -> list[Activation]:
        return [l.activation for l in self.layers]

    @property
    def n_params(self) -> int:
        return self._slices[-1][1].stop if self._slices else 0

    def _layout(self):
        out, pos, d_prev = [], 0, self.n_inputs
        for layer in self.layers:
            w = slice(pos, pos + layer.units * d_prev)
            pos = w.stop
            b = slice(pos, pos + (layer.units if layer.use_bias else 0))
            pos = b.stop
            out.append((w, b))
            d_prev = layer.units
        return out

    def param_slices(self) -> list[tuple[slice, slice]]:
        """For each layer, the slices of vec(W) and b in the flat parameter vector."""
        return list(self._slices)

    # ----------------------------------------------------------------- parameters
    def initialize(self, init="glorot_uniform", *, seed=None, input_range=(-1.0, 1.0)) -> "Network":
        """(Re)draw the parameters in place; returns ``self``."""
        seed = as_seed("seed", seed)
        input_range = as_interval("input_range", input_range, self.n_inputs)
        if isinstance(init, str):
            if init not in INITIALIZERS:
                raise ValueError(f"init: unknown initialiser {init!r}; choose one of {', '.join(INITIALIZERS)} "
                                 "or pass a list of (W, b) arrays")
            rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
            pairs, rng_in = [], input_range
            for k, layer in enumerate(self.layers):
                fan_in = self.sizes[k]
                W, b = init_layer(init, rng, fan_in, layer.units, layer.activation, rng_in)
                pairs.append((W, b if layer.use_bias else None))
                rng_in = layer.activation.output_range
            self.set_weights(pairs)
        elif isinstance(init, (list, tuple)):
            self.set_weights(init)
        else:
            raise TypeError("init: give an initialiser name or a list of (W, b) arrays")
        return self

    def get_weights(self) -> list[tuple[np.ndarray, np.ndarray | None]]:
        """Per layer ``(W, b)`` copies; ``b`` is None for a layer without bias."""
        out = []
        for (ws, bs), layer, d_in in zip(self._slices, self.layers, self.sizes):
            W = self.params[ws].reshape((layer.units, d_in), order="F").copy()
            out.append((W, self.params[bs].copy() if layer.use_bias else None))
        return out

    def set_weights(self, pairs) -> None:
        if len(pairs) != len(self.layers):
            raise ValueError(f"init: expected {len(self.layers)} (W, b) pairs, got {len(pairs)}")
        theta = np.zeros(self.n_params)
        for k, ((ws, bs), layer, pair) in enumerate(zip(self._slices, self.layers, pairs)):
            W, b = (pair if isinstance(pair, (tuple, list)) and len(pair) == 2 else (pair, None))
            W = np.asarray(W, dtype=float)
            if W.shape != (layer.units, self.sizes[k]):
                raise ValueError(f"init: layer {k} weight has shape {W.shape}, expected {(layer.units, self.sizes[k])}")
            theta[ws] = W.ravel(order="F")
            if layer.use_bias:
                b = np.zeros(layer.units) if b is None else np.asarray(b, dtype=float).ravel()
                if b.shape != (layer.units,):
                    raise ValueError(f"init: layer {k} bias has shape {b.shape}, expected ({layer.units},)")
                theta[bs] = b
        self.set_params(theta)

    @property
    def params(self) -> np.ndarray:
        """The flat parameter vector θ (float64, ``n_params`` entries; see the module docstring).
        Assigning it checks length and values: ``net.params = theta`` is :meth:`set_params`."""
        return self._params

    @params.setter
    def params(self, theta) -> None:
        self.set_params(theta)

    def set_params(self, theta) -> None:
        theta = as_finite_array("params", theta).ravel()
        if theta.shape != (self.n_params,):
            raise ValueError(f"params: expected {self.n_params} values, got {theta.size} "
                             f"(the network has n_params = {self.n_params})")
        self._params = theta

    def with_params(self, theta) -> "Network":
        """A copy of this network carrying parameters ``theta``."""
        net = self.copy()
        net.set_params(theta)
        return net

    def copy(self) -> "Network":
        net = object.__new__(Network)
        net.layers, net.n_inputs, net._slices = self.layers, self.n_inputs, self._slices
        net._params = self._params.copy()
        net.input_transform = getattr(self, "input_transform", None)
        return net

    def with_input_transform(self, transform) -> "Network":
        """A copy that applies ``transform`` (e.g. a fitted :class:`nlpnet.Standardize`) to raw
        inputs before its first layer: ``predict``, ``to_casadi``, ``save`` and a
        :class:`~nlpnet.Problem` built on it all take raw inputs."""
        net = self.copy()
        net.input_transform = _check_transform(transform, self.n_inputs)
        return net

    def transform_inputs(self, X) -> np.ndarray:
        """Raw inputs in the coordinates the first layer sees (the input transform applied)."""
        from .data import as_inputs
        Z = as_inputs(X, self.n_inputs, "X")
        return Z if self.input_transform is None else self.input_transform.transform(Z)

    # ----------------------------------------------------------------- evaluation
    def symbolic_weights(self, theta):
        """Per layer ``(W, b)`` as CasADi expressions of the flat vector ``theta``."""
        out = []
        for (ws, bs), layer, d_in in zip(self._slices, self.layers, self.sizes):
            W = ca.reshape(theta[ws.start:ws.stop], layer.units, d_in)
            b = theta[bs.start:bs.stop] if layer.use_bias else None
            out.append((W, b))
        return out

    @staticmethod
    def affine(W, b, Z):
        """W Z + b·1ᵀ for a column batch Z (CasADi)."""
        A = ca.mtimes(W, Z)
        return A if b is None else A + ca.repmat(b, 1, Z.shape[1])

    def symbolic_forward(self, theta, Z):
        """Output columns f_θ(Z) for an input batch ``Z`` of shape ``d0 × n`` (CasADi)."""
        for (W, b), layer in zip(self.symbolic_weights(theta), self.layers):
            Z = layer.activation.casadi(self.affine(W, b, Z))
        return Z

    def forward_states(self, X, params=None) -> list[np.ndarray]:
        """All layer outputs [z_1, …, z_L] (rows = samples) for inputs ``X``."""
        from .data import as_inputs
        Z = self.transform_inputs(X)
        net = self if params is None else self.with_params(params)
        states = []
        for (W, b), layer in zip(net.get_weights(), self.layers):
            A = Z @ W.T if b is None else Z @ W.T + b
            Z = layer.activation.numpy(A)
            states.append(Z)
        return states

    def predict(self, X) -> np.ndarray:
        """Network output for inputs ``X`` (n_samples × n_inputs) as an (n_samples × n_outputs) array."""
        return self.forward_states(X)[-1]

    def predict_classes(self, X) -> np.ndarray:
        """The predicted class of each sample: the index of its largest output (logit or score)."""
        if self.n_outputs < 2:
            raise ValueError(f"predict_classes: the network has {self.n_outputs} output; classification needs one "
                             "output per class")
        return np.argmax(self.predict(X), axis=1)

    def to_casadi(self, name: str = "net") -> ca.Function:
        """The trained network as ``casadi.Function(name, [x], [y])`` with x ∈ R^{d0}, y ∈ R^{dL}.

        The weights are embedded as constants, so the Function can be used inside another
        CasADi problem (MPC, Opti) and differentiated. For a batch use ``f.map(n)`` with
        inputs as columns.
        """
        x = ca.MX.sym("x", self.n_inputs)
        t = self.input_transform
        z = x if t is None else (x - ca.DM(t.mean)) / ca.DM(t.std)
        y = self.symbolic_forward(ca.DM(self.params), z)
        return ca.Function(name, [x], [y], ["x"], ["y"])

    # ----------------------------------------------------------------- persistence
    def to_dict(self) -> dict:
        return {"format": _FORMAT_VERSION, "n_inputs": self.n_inputs,
                "layers": [{"units": l.units, "activation": l.activation.to_spec(), "use_bias": l.use_bias}
                           for l in self.layers]}

    def save(self, path) -> Path:
        """Write architecture and parameters to an ``.npz`` file (exact float64 round trip)."""
        path = Path(path)
        if path.suffix != ".npz":
            path = path.with_suffix(path.suffix + ".npz") if path.suffix else path.with_suffix(".npz")
        arch = self.to_dict()
        if self.input_transform is not None:
            arch["input_transform"] = self.input_transform.to_dict()
        np.savez(path, architecture=np.array(json.dumps(arch)), params=self.params)
        return path

    @classmethod
    def load(cls, path) -> "Network":
        """A network written by :meth:`save`; any other file is a ValueError naming ``path``."""
        import zipfile
        path = Path(path)
        if not path.exists():
            raise FileNotFoundError(f"path: no saved network at {path}")
        what = f"path: {path} is not a network saved by Network.save"
        try:
            with np.load(path, allow_pickle=False) as f:
                if not hasattr(f, "files") or not {"architecture", "params"} <= set(f.files):
                    raise ValueError(f"{what} (it lacks the 'architecture' and 'params' entries)")
                arch = json.loads(str(f["architecture"]))
                params = f["params"].copy()
        except ValueError as exc:
            if str(exc).startswith(what):
                raise
            raise ValueError(f"{what} ({exc})") from None
        except (OSError, EOFError, zipfile.BadZipFile, json.JSONDecodeError) as exc:
            raise ValueError(f"{what} (unreadable: {type(exc).__name__}: {exc})") from None
        if not isinstance(arch, dict) or arch.get("format") != _FORMAT_VERSION:
            found = arch.get("format") if isinstance(arch, dict) else None
            raise ValueError(f"path: unsupported network file format {found!r} in {path}")
        try:
            layers = [Dense(d["units"], tuple(d["activation"]) if isinstance(d["activation"], list)
                            else d["activation"], d["use_bias"]) for d in arch["layers"]]
            net = cls(layers, n_inputs=arch["n_inputs"], init="glorot_uniform", seed=0)
            net.set_params(params)
            if arch.get("input_transform") is not None:
                from .data import Standardize
                net.input_transform = Standardize.from_dict(arch["input_transform"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"{what} (corrupt architecture: {type(exc).__name__}: {exc})") from None
        return net

    def __repr__(self) -> str:
        acts = ",".join(str(a) for a in self.activations)
        return f"Network(sizes={self.sizes}, activations=[{acts}], n_params={self.n_params})"


def _check_transform(transform, n_inputs):
    """An input transform: None or a fitted affine transform with ``transform``, ``mean``,
    ``std`` and ``to_dict`` of the network's input width (:class:`nlpnet.Standardize`)."""
    if transform is None:
        return None
    for attr in ("transform", "to_dict", "mean", "std"):
        if not hasattr(transform, attr):
            raise TypeError(f"input_transform: expected a fitted nlpnet.Standardize, got {type(transform).__name__}")
    if transform.mean is None:
        raise ValueError("input_transform: the transform is not fitted; use nlpnet.Standardize.fit(X_train)")
    if np.size(transform.mean) != n_inputs:
        raise ValueError(f"input_transform: fitted on {np.size(transform.mean)} features but the network takes "
                         f"{n_inputs} inputs")
    return transform
