"""Shared problem factories and finite-difference helpers for the nlpnet test suite."""
from __future__ import annotations

import casadi as ca
import numpy as np
import pytest

import nlpnet

# Every hidden activation, as accepted by ``Network(..., activation=...)``.
ACTIVATIONS = ["tanh", "sigmoid", "relu", ("leaky_relu", 0.1), "softplus", "identity"]
ACTIVATION_IDS = ["tanh", "sigmoid", "relu", "leaky_relu", "softplus", "identity"]
RULES = ["complementarity", "equality"]


def act_id(spec) -> str:
    return spec if isinstance(spec, str) else spec[0]


def make_data(n=7, n_in=2, n_out=1, seed=0):
    """Smooth random regression data, samples as rows."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, (n, n_in))
    y = np.column_stack([np.sin(2 * X @ rng.normal(size=n_in)) + 0.3 * k for k in range(n_out)])
    return X, y


def make_net(sizes=(2, 4, 3, 1), activation="tanh", seed=0, **kw):
    return nlpnet.Network(list(sizes), activation=activation, seed=seed, **kw)


def preactivations(net, X, params=None):
    """Pre-activations W z + b of every layer (rows = samples), by a plain NumPy pass."""
    net = net if params is None else net.with_params(params)
    Z, out = np.asarray(X, float), []
    for (W, b), layer in zip(net.get_weights(), net.layers):
        A = Z @ W.T + (0.0 if b is None else b)
        out.append(A)
        Z = layer.activation.numpy(A)
    return out


def kink_margin(net, X, params=None) -> float:
    """Distance of the nearest hidden pre-activation from 0 (the ReLU kink)."""
    return float(min(np.min(np.abs(A)) for A in preactivations(net, X, params)[:-1]))


def net_away_from_kinks(sizes, activation, X, *, margin=1e-2, start_seed=0, **kw):
    """The first seeded network whose hidden pre-activations on X all stay ``margin`` from 0."""
    for s in range(start_seed, start_seed + 200):
        net = make_net(sizes, activation, seed=s, **kw)
        if kink_margin(net, X) > margin:
            return net
    raise RuntimeError("no seed keeps the pre-activations away from 0")


def fd_gradient(f, x, h=1e-6):
    """Central differences of a scalar function."""
    x = np.asarray(x, float)
    g = np.zeros_like(x)
    for i in range(x.size):
        e = np.zeros_like(x)
        e[i] = h
        g[i] = (f(x + e) - f(x - e)) / (2 * h)
    return g


def fd_jacobian(F, x, h=1e-6):
    """Central differences of a vector function; rows = outputs."""
    x = np.asarray(x, float)
    cols = []
    for i in range(x.size):
        e = np.zeros_like(x)
        e[i] = h
        cols.append((np.asarray(F(x + e)).ravel() - np.asarray(F(x - e)).ravel()) / (2 * h))
    return np.column_stack(cols)


def dm(a) -> np.ndarray:
    """A CasADi DM (or anything array-like) as a dense float64 NumPy array."""
    return np.array(ca.DM(a).full(), dtype=float)


@pytest.fixture
def sine20():
    """The thesis ch. 2 data, 20 points, one draw."""
    return nlpnet.sine_data(20, seed=0)


@pytest.fixture
def small_data():
    return make_data()
