"""First-order optimizers as small pure ``init``/``update`` pairs (the optax pattern).

``opt = adam(1e-3)``; ``state = opt.init(params)``; then per mini-batch
``step, state = opt.update(grad, state, params)`` and ``params = params + step``. The
state is an immutable tuple of arrays plus an update counter t (0 before the first
update), so a run can be replayed or checkpointed. ``learning_rate`` is a number or a
callable t ↦ η_t (the training loop turns epoch schedules into such callables). g is
the gradient at ``params``; products, squares and roots are elementwise.

* GD         θ ← θ − η g
* momentum   m ← β m − η g;  θ ← θ + m                              (Polyak's heavy ball)
* nesterov   m ← β m − η g;  θ ← θ + β m − η g   (Sutskever's reformulation: the stored
             parameters are the look-ahead point, so g is the gradient there)
* adagrad    s ← s + g²;  θ ← θ − η g / (√s + ε)
* adadelta   s ← ρ s + (1−ρ) g²;  Δ = −√(d + ε)/√(s + ε) · g;  d ← ρ d + (1−ρ) Δ²;
             θ ← θ + η Δ                                            (Zeiler 2012; η = 1)
* rmsprop    s ← ρ s + (1−ρ) g²;  θ ← θ − η g / (√s + ε)
* adam       m ← β1 m + (1−β1) g;  v ← β2 v + (1−β2) g²;  m̂ = m/(1−β1^t), v̂ = v/(1−β2^t);
             θ ← θ − η m̂ / (√v̂ + ε)                                (Kingma & Ba 2015)
* nadam      Dozat's Nesterov-Adam as in PyTorch/Keras: μ_t = β1 (1 − ½·0.96^{tψ}),
             Π_t = μ_1⋯μ_t, m and v as in Adam, v̂ = v/(1−β2^t);
             θ ← θ − η [(1−μ_t)/(1−Π_t) · g + μ_{t+1}/(1−Π_t μ_{t+1}) · m] / (√v̂ + ε)
* ssa1/ssa2  sequential operator-splitting algorithms (Alecsa, Boroş, Pinţa 2019) for the
             damped heavy-ball ODE ẍ + ẋ = −∇f(x), split into the linear part (u̇ = 0,
             v̇ = −v) and the nonlinear part (u̇ = v, v̇ = −∇f(u)), each discretised by
             Euler with step h (the learning rate). With β_n = n/(n+3) (n = 0, 1, …, the
             Nesterov/Su–Boyd–Candès friction schedule) and y_n = u_n + h β_n v_n:
               SSA1 (forward Euler):  v_{n+1} = β_n^k ((1 − hβ_n) v_n − h ∇f(y_n)),
                                      u_{n+1} = u_n + β_n (1 − hβ_n)(y_n − u_n) − h² ∇f(y_n)
               SSA2 (backward Euler): v_{n+1} = β_n^k ((1 − hβ_n)^q v_n − h ∇f(y_n)),
                                      u_{n+1} = u_n + (1 − hβ_n)/(β_n + τ) · (y_n − u_n)
             k ≥ 0 damps the velocity (k = 0: none), q ≥ 0 does the same for the friction
             factor of SSA2, and τ > 0 (not specified on the slides) only keeps the SSA2
             fraction finite at β_0 = 0. The optimizer's parameters are the points y_n, where
             the gradient is taken; u_n and v_n live in the state.
"""
from __future__ import annotations

from typing import Callable, NamedTuple

import numpy as np

__all__ = ["Optimizer", "gd", "momentum", "nesterov", "adagrad", "adadelta", "rmsprop", "adam", "nadam",
           "ssa1", "ssa2", "OPTIMIZERS"]


class Optimizer(NamedTuple):
    """A pure optimizer: ``init(params) -> state``, ``update(grad, state, params) -> (step, state)``."""

    init: Callable
    update: Callable


def _rate(learning_rate):
    return learning_rate if callable(learning_rate) else (lambda t, v=float(learning_rate): v)


def gd(learning_rate=0.01) -> Optimizer:
    lr = _rate(learning_rate)

    def init(params):
        return (0,)

    def update(g, state, params=None):
        t, = state
        return -lr(t) * g, (t + 1,)
    return Optimizer(init, update)


def momentum(learning_rate=0.01, beta=0.9, nesterov=False) -> Optimizer:
    lr = _rate(learning_rate)

    def init(params):
        return (0, np.zeros_like(params))

    def update(g, state, params=None):
        t, m = state
        eta = lr(t)
        m = beta * m - eta * g
        step = beta * m - eta * g if nesterov else m
        return step, (t + 1, m)
    return Optimizer(init, update)


def nesterov(learning_rate=0.01, beta=0.9) -> Optimizer:
    return momentum(learning_rate, beta, nesterov=True)


def adagrad(learning_rate=0.01, epsilon=1e-10, initial_accumulator=0.0) -> Optimizer:
    lr = _rate(learning_rate)

    def init(params):
        return (0, np.full_like(params, initial_accumulator))

    def update(g, state, params=None):
        t, s = state
        s = s + g * g
        return -lr(t) * g / (np.sqrt(s) + epsilon), (t + 1, s)
    return Optimizer(init, update)


def adadelta(learning_rate=1.0, rho=0.9, epsilon=1e-6) -> Optimizer:
    lr = _rate(learning_rate)

    def init(params):
        return (0, np.zeros_like(params), np.zeros_like(params))

    def update(g, state, params=None):
        t, s, d = state
        s = rho * s + (1 - rho) * g * g
        delta = -np.sqrt(d + epsilon) / np.sqrt(s + epsilon) * g
        d = rho * d + (1 - rho) * delta * delta
        return lr(t) * delta, (t + 1, s, d)
    return Optimizer(init, update)


def rmsprop(learning_rate=1e-3, rho=0.9, epsilon=1e-8) -> Optimizer:
    lr = _rate(learning_rate)

    def init(params):
        return (0, np.zeros_like(params))

    def update(g, state, params=None):
        t, s = state
        s = rho * s + (1 - rho) * g * g
        return -lr(t) * g / (np.sqrt(s) + epsilon), (t + 1, s)
    return Optimizer(init, update)


def adam(learning_rate=1e-3, beta1=0.9, beta2=0.999, epsilon=1e-8) -> Optimizer:
    lr = _rate(learning_rate)

    def init(params):
        return (0, np.zeros_like(params), np.zeros_like(params))

    def update(g, state, params=None):
        t, m, v = state
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * (g * g)
        n = t + 1
        step = (-lr(t) / (1 - beta1 ** n)) * m / (np.sqrt(v / (1 - beta2 ** n)) + epsilon)
        return step, (n, m, v)
    return Optimizer(init, update)


def nadam(learning_rate=2e-3, beta1=0.9, beta2=0.999, epsilon=1e-8, momentum_decay=4e-3) -> Optimizer:
    lr = _rate(learning_rate)

    def mu(n):
        return beta1 * (1 - 0.5 * 0.96 ** (n * momentum_decay))

    def init(params):
        return (0, np.zeros_like(params), np.zeros_like(params), 1.0)

    def update(g, state, params=None):
        t, m, v, prod = state
        n = t + 1
        mu_n, mu_next = mu(n), mu(n + 1)
        prod = prod * mu_n
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * (g * g)
        denom = np.sqrt(v / (1 - beta2 ** n)) + epsilon
        eta = lr(t)
        step = -eta * ((1 - mu_n) / (1 - prod) * g + mu_next / (1 - prod * mu_next) * m) / denom
        return step, (n, m, v, prod)
    return Optimizer(init, update)


def _beta(n):
    return n / (n + 3.0)


def ssa1(learning_rate=0.05, k=1.0) -> Optimizer:
    lr = _rate(learning_rate)

    def init(params):
        return (0, np.array(params, dtype=float, copy=True), np.zeros_like(params))

    def update(g, state, params):
        n, u, v = state
        h, b = lr(n), _beta(n)
        y = params
        v_new = b ** k * ((1 - h * b) * v - h * g)
        u_new = u + b * (1 - h * b) * (y - u) - h * h * g
        y_new = u_new + lr(n + 1) * _beta(n + 1) * v_new
        return y_new - y, (n + 1, u_new, v_new)
    return Optimizer(init, update)


def ssa2(learning_rate=0.05, k=1.0, q=1.0, tau=1e-8) -> Optimizer:
    lr = _rate(learning_rate)

    def init(params):
        return (0, np.array(params, dtype=float, copy=True), np.zeros_like(params))

    def update(g, state, params):
        n, u, v = state
        h, b = lr(n), _beta(n)
        y = params
        v_new = b ** k * ((1 - h * b) ** q * v - h * g)
        u_new = u + (1 - h * b) / (b + tau) * (y - u)
        y_new = u_new + lr(n + 1) * _beta(n + 1) * v_new
        return y_new - y, (n + 1, u_new, v_new)
    return Optimizer(init, update)


OPTIMIZERS = {"gd": gd, "momentum": momentum, "nesterov": nesterov, "adagrad": adagrad, "adadelta": adadelta,
              "rmsprop": rmsprop, "adam": adam, "nadam": nadam, "ssa1": ssa1, "ssa2": ssa2}
