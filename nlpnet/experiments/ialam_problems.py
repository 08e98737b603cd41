"""Problems and methods of the iALAM experiment (seed 002): data, shared initial weights, and
one run of one method turned into a results row.

**Synthetic data** (ours; the slides do not give their generator): x ~ N(0, I₁₀); a teacher
network of the same architecture as the trained one, leaky ReLU with slope α on every layer
(the output too, as in the slides' problem (1)), W ~ N(0, 2/fan_in), b ~ N(0, 0.1²), and
y = teacher(x) + 0.01·N(0, 1); N = 500 training and ⌈N/5⌉ = 100 test samples from one draw
per seed. The nets are the slides' three: 10-10-1 (L = 2), 10-5-5-1 (L = 3), 10-4-3-3-1 (L = 4).

**MNIST**: ``nlpnet.mnist(N, pixels=...)``, seed 002's class-balanced split (first N/10 of each
class's training pool, ⌈N/5⌉ test digits), one-hot targets.

**Initial weights** (b = 0, the same for every method of a run): ``"authors"`` W = 0.01·randn
(their released code), ``"slides"`` W = randn/N, ``"he"`` W = randn·√(2/fan_in).

**Methods**: ``ialam`` (penalized_lifting with nlpnet.GroupLasso(λ_w), its default options);
``alm`` (multiple shooting, hidden layers lifted as z = σ(a), the same group lasso smoothed as a
least-squares residual, the default options); ``sgd`` (``gd``, lr 0.01), ``adagrad`` (lr 0.01),
``adadelta`` (lr 1.0), ``adam`` (lr 1e-3): single shooting with the same regularizer,
mini-batches of 32, a fixed number of epochs, the library's default hyper-parameters.
"""
from __future__ import annotations

import math

import numpy as np

import nlpnet

__all__ = ["SYNTHETIC_NETS", "teacher_data", "mnist_data", "initial_weights", "network", "solve", "result_row",
           "targets_met"]

SYNTHETIC_NETS = {"L2": [10, 10, 1], "L3": [10, 5, 5, 1], "L4": [10, 4, 3, 3, 1]}
BACKPROP = {"sgd": ("gd", 0.01), "adagrad": ("adagrad", 0.01), "adadelta": ("adadelta", 1.0), "adam": ("adam", 1e-3)}
BATCH_SIZE = 32
SPARSITY_TOL = 1e-6          # a column is zero when its norm is ≤ this (iALAM's prox gives exact zeros)


def activation(alpha):
    return "relu" if alpha == 0 else ("leaky_relu", float(alpha))


def teacher_data(sizes, n, alpha, seed, noise=0.01):
    """(X, y, X_test, y_test) of the synthetic generator above."""
    rng = np.random.default_rng([seed, 2023])
    n_test = math.ceil(n / 5)
    X = rng.standard_normal((n + n_test, sizes[0]))
    init = [(rng.standard_normal((o, i)) * math.sqrt(2.0 / i), 0.1 * rng.standard_normal(o))
            for i, o in zip(sizes[:-1], sizes[1:])]
    teacher = nlpnet.Network(list(sizes), activation=activation(alpha), output_activation=activation(alpha),
                             init=init)
    y = teacher.predict(X) + noise * rng.standard_normal((n + n_test, sizes[-1]))
    return X[:n], y[:n], X[n:], y[n:]


def mnist_data(n, pixels):
    """(X, Y, X_test, Y_test): nlpnet.mnist's class-balanced split ("binary" or "scaled" pixels)."""
    split = nlpnet.mnist(n, pixels=pixels)
    return split.X_train, split.y_train, split.X_test, split.y_test


def initial_weights(sizes, scheme, seed, n_samples):
    """Per layer (W, b) of the scheme (see the module docstring), drawn with ``seed``."""
    rng = np.random.default_rng(seed)
    scale = {"authors": lambda d: 0.01, "slides": lambda d: 1.0 / n_samples, "he": lambda d: math.sqrt(2.0 / d)}
    return [(scale[scheme](i) * rng.standard_normal((o, i)), np.zeros(o)) for i, o in zip(sizes[:-1], sizes[1:])]


def network(sizes, alpha, output, init):
    """Hidden layers leaky ReLU α (ReLU for α = 0); output "identity" or the same σ ("sigma")."""
    out = "identity" if output == "identity" else activation(alpha)
    return nlpnet.Network(list(sizes), activation=activation(alpha), output_activation=out, init=init)


def solve(method, net, data, lam, *, epochs, ialam=None, alm=None, seed=0):
    """One method on (X, y) with the test set as validation data; returns the TrainResult."""
    X, y, Xt, yt = data
    reg = nlpnet.GroupLasso(lam) if lam > 0 else None
    if method == "ialam":
        prob = nlpnet.Problem(net, X, y, formulation=nlpnet.PenalizedLifting(), regularizer=reg, X_val=Xt, y_val=yt)
        return prob.solve("ialam", **(ialam or {}))
    if method == "alm":
        prob = nlpnet.Problem(net, X, y, formulation="multiple_shooting", relu="equality", leaky_relu="equality",
                              regularizer=reg, X_val=Xt, y_val=yt)
        return prob.solve("alm", **(alm or {}))
    solver, lr = BACKPROP[method]
    prob = nlpnet.Problem(net, X, y, formulation="single_shooting", regularizer=reg, X_val=Xt, y_val=yt)
    return prob.solve(solver, learning_rate=lr, batch_size=BATCH_SIZE, max_iter=epochs, seed=seed)


def sparsity(network_):
    """(column sparse ratio, inputs pruned, hidden units pruned) at SPARSITY_TOL."""
    zero = [np.linalg.norm(W, axis=0) <= SPARSITY_TOL for W, _ in network_.get_weights()]
    hidden = zero[1:]
    return (float(sum(z.sum() for z in zero)) / sum(z.size for z in zero), float(zero[0].mean()),
            float(sum(z.sum() for z in hidden)) / sum(z.size for z in hidden) if hidden else 0.0)


def feasibility(res, method, X):
    """FeasVi of the returned point: iALAM's own (both parts); the ALM's (1/N)Σ‖z − σ(a)‖² over
    its lifted hidden layers (inputs X); "" for back-propagation (nothing lifted)."""
    if method == "ialam":
        return res.stats["feas_vi"]
    if method != "alm":
        return ""
    Z, total = X, 0.0
    for k, ((W, b), layer) in enumerate(zip(res.network.get_weights()[:-1], res.network.layers[:-1])):
        Zk = res.states[f"z{k + 1}"]
        total += float(np.sum((Zk - layer.activation.numpy(Z @ W.T + b)) ** 2))
        Z = Zk
    return total / X.shape[0]


def result_row(res, method, X) -> dict:
    """The results columns of one run (``X``: its training inputs)."""
    cs, inp, hid = sparsity(res.network)
    row = {"status": res.status.value, "train_mse": res.train_loss,
           "test_mse": "" if res.val_loss is None else res.val_loss, "time_s": res.wall_time,
           "iterations": res.iterations, "message": res.message, "feas_vi": feasibility(res, method, X),
           "violation": res.constraint_violation if method in ("ialam", "alm") else "", "col_sparsity": cs,
           "inputs_pruned": inp, "hidden_pruned": hid, "train_acc": res.train_accuracy,
           "test_acc": res.val_accuracy, "cpu_s": res.stats.get("cpu_time", "")}
    return {k: ("" if v is None else v) for k, v in row.items()}


def targets_met(history, targets) -> tuple:
    """(iteration, wall s) of the first history row meeting every target {column: (bound, "max"|"min")}."""
    cols = {k: history[k] for k in targets}
    for i in range(len(history)):
        if all(cols[k][i] <= v if kind == "max" else cols[k][i] >= v for k, (v, kind) in targets.items()):
            return int(history["iteration"][i]), float(history["time"][i])
    return "", ""
