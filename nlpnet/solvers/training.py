"""Shared machinery of the back-propagation solvers: the compiled loss/gradient, stopping
rules and the per-epoch history.

**Loss.** Back-propagation trains the single-shooting problem of the :class:`~nlpnet.Problem`
(same θ, same regularizers, same user objective terms). For a batch B of samples

    ℓ_B(θ) = (1/|B|) Σ_{j∈B} ‖f_θ(x_j) − y_j‖² + R(θ) + f_user(θ),

which for the full batch equals the NLP objective f = ‖F‖² + f_rest. ℓ_B and ∇ℓ_B (CasADi
reverse mode, i.e. back-propagation) are one MX ``casadi.Function`` of (θ, X_B, Y_B),
compiled once per problem and batch size and evaluated through CasADi's zero-copy
``Function.buffer()`` (no argument conversion per call). MX keeps each dense matrix
product a single operation, which is faster than an SX graph of scalar operations for every
network size measured; ``benchmarks/backprop_epoch.py`` times whole epochs. Mini-batches are drawn by a seeded permutation each
epoch and gathered with ``numpy.take`` into the buffers; the last batch may be smaller
(it gets its own compiled Function).

**Stopping** (checked at the end of every epoch, :class:`Monitor`):

* the epoch cap ``max_epochs`` and ``max_time`` (seconds);
* early stopping with Keras semantics (:class:`EarlyStopping`): the monitored value
  ("loss": the mean of the epoch's batch losses, for the full batch the loss at the
  start of the epoch; "val_loss": validation MSE plus the penalties after the epoch)
  improves when it is below best − min_delta; training stops once ``patience`` epochs in
  a row did not improve; with ``restore_best_weights`` the weights at the end of the best
  epoch are returned when early stopping triggers;
* the thesis's stagnation rule: stop when (1 + ε)·loss_k > loss_{k−1} (``stagnation`` = ε);
* ``gtol``: stop with success when ‖∇ℓ‖∞ ≤ gtol on a full-batch epoch.
"""
from __future__ import annotations

import sys
import time
from dataclasses import dataclass

import casadi as ca
import numpy as np

from ..options import check_int, check_nonneg
from ..result import History, Status

__all__ = ["EarlyStopping", "Objective", "Monitor", "objective_for", "forward"]


def forward(network, theta, Z):
    """f_θ(Z) for an input batch Z (d0 × n): the network's own symbolic forward pass, whose
    ReLU derivative at the kink is 0 as in PyTorch/Keras (see :mod:`nlpnet.activations`)."""
    return network.symbolic_forward(theta, Z)


@dataclass
class EarlyStopping:
    """Keras-style early stopping (see module docstring)."""

    monitor: str = "loss"
    patience: int = 10
    min_delta: float = 0.0
    restore_best_weights: bool = False
    start_from_epoch: int = 0

    def __post_init__(self):
        if self.monitor not in ("loss", "val_loss"):
            raise ValueError(f"early_stopping.monitor: must be 'loss' or 'val_loss', got {self.monitor!r}")
        check_int("early_stopping.patience", self.patience, 0)
        check_nonneg("early_stopping.min_delta", self.min_delta)
        check_int("early_stopping.start_from_epoch", self.start_from_epoch, 0)
        if not isinstance(self.restore_best_weights, bool):
            raise TypeError("early_stopping.restore_best_weights: expected True or False")


def as_early_stopping(value):
    if value is None or value is False:
        return None
    if value is True:
        return EarlyStopping()
    if isinstance(value, EarlyStopping):
        return value
    if isinstance(value, dict):
        valid = ("monitor", "patience", "min_delta", "restore_best_weights", "start_from_epoch")
        bad = sorted(set(value) - set(valid))
        if bad:
            raise ValueError(f"early_stopping: unknown key(s) {bad}; valid keys: {', '.join(valid)}")
        return EarlyStopping(**value)
    raise TypeError(f"early_stopping: expected None, True, a dict or EarlyStopping, got {type(value).__name__}")


class _Batch:
    """One compiled (loss, gradient) Function for a fixed batch size, with bound buffers."""

    def __init__(self, fn: ca.Function, n_params: int, size: int, d_in: int, d_out: int):
        self.fn = fn
        self.theta = np.zeros(n_params)
        self.X = np.zeros((size, d_in))     # C order (size × d) = column-major (d × size)
        self.Y = np.zeros((size, d_out))
        self.loss = np.zeros(1)
        self.grad = np.zeros(n_params)
        self._eval = None
        if hasattr(fn, "buffer"):
            try:
                buf, ev = fn.buffer()
                for i, a in enumerate((self.theta, self.X, self.Y)):
                    buf.set_arg(i, memoryview(a))
                buf.set_res(0, memoryview(self.loss))
                buf.set_res(1, memoryview(self.grad))
                self._buf, self._eval = buf, ev
            except Exception:  # older CasADi: use the ordinary call
                self._eval = None

    def __call__(self, theta):
        np.copyto(self.theta, theta)
        if self._eval is not None:
            self._eval()
            return float(self.loss[0]), self.grad.copy()
        f, g = self.fn(self.theta, self.X.T, self.Y.T)
        return float(f), np.asarray(g).ravel()


class Objective:
    """ℓ_B(θ) and ∇ℓ_B(θ) for full or mini-batches; validation loss; residual Jacobian."""

    def __init__(self, problem, nlp):
        self.nlp, self.net = nlp, problem.network
        self.X, self.Y = problem.X, problem.y
        self.N, self.n = self.X.shape[0], nlp.n_x
        data_rows = set(int(i) for i in np.asarray(nlp.layout.residual_idx).ravel())
        other = [i for i in range(nlp.residual.numel()) if i not in data_rows]
        pen = ca.sumsqr(nlp.residual[other]) if other else ca.SX(0)
        pen = pen + (nlp.f_rest if nlp.f_rest.numel() else 0)
        self._pen_sx = pen
        self.penalty = ca.Function("penalty", [nlp.x], [pen])
        self._batches: dict[int, _Batch] = {}
        self.val = None
        if problem.X_val is not None:
            th = ca.MX.sym("theta", self.n)
            out = forward(self.net, th, ca.DM(problem.X_val.T))
            v = ca.sumsqr(out - ca.DM(problem.y_val.T)) / problem.X_val.shape[0] + self.penalty(th)
            fn = ca.Function("val_loss", [th], [v])
            self.val = lambda theta: float(fn(theta))
        self._full = None
        self._jac = None

    def batch(self, size: int) -> _Batch:
        if size not in self._batches:
            th = ca.MX.sym("theta", self.n)
            Xb = ca.MX.sym("X", self.net.n_inputs, size)
            Yb = ca.MX.sym("Y", self.net.n_outputs, size)
            loss = ca.sumsqr(forward(self.net, th, Xb) - Yb) / size + self.penalty(th)
            fn = ca.Function(f"loss_grad_{size}", [th, Xb, Yb], [loss, ca.gradient(loss, th)])
            self._batches[size] = _Batch(fn, self.n, size, self.net.n_inputs, self.net.n_outputs)
        return self._batches[size]

    def full(self) -> _Batch:
        """The full-batch evaluator, data already in its buffers (loss = NLP objective)."""
        if self._full is None:
            b = self.batch(self.N) if self.N not in self._batches else self._batches[self.N]
            self._full = _Batch(b.fn, self.n, self.N, self.net.n_inputs, self.net.n_outputs)
            self._full.X[:], self._full.Y[:] = self.X, self.Y
        return self._full

    def loss_grad(self, theta):
        return self.full()(theta)

    def residual_jacobian(self):
        """Function θ ↦ (F, ∂F/∂θ) of the NLP residual (data misfit and regularizers)."""
        if self._jac is None:
            th = ca.MX.sym("theta", self.n)
            out = forward(self.net, th, ca.DM(self.X.T))
            R = ca.vec(out - ca.DM(self.Y.T)) / np.sqrt(self.N)
            data_rows = np.asarray(self.nlp.layout.residual_idx).ravel()
            other = [i for i in range(self.nlp.residual.numel()) if i not in set(data_rows.tolist())]
            if other:
                reg = ca.Function("reg", [self.nlp.x], [self.nlp.residual[other]])
                R = ca.vertcat(R, reg(th))
            self._jac = ca.Function("F_J", [th], [R, ca.jacobian(R, th)])
        return self._jac


def objective_for(problem, nlp) -> Objective:
    """The compiled objective, cached on the problem as long as the NLP is the same object."""
    cache = problem.__dict__.setdefault("_backprop_objective", {})
    hit = cache.get("entry")
    if hit is not None and hit[0] is nlp:
        return hit[1]
    obj = Objective(problem, nlp)
    cache["entry"] = (nlp, obj)
    return obj


class Monitor:
    """End-of-epoch bookkeeping: history, early stopping, stagnation, time limit."""

    def __init__(self, opts, has_val: bool, t0: float | None = None, history: History | None = None,
                 epoch0: int = 0, extra=None):
        self.es = getattr(opts, "early_stopping", None)
        if self.es is not None and self.es.monitor == "val_loss" and not has_val:
            raise ValueError("early_stopping.monitor: 'val_loss' needs validation data; build the Problem with "
                             "X_val=, y_val= or monitor 'loss'")
        self.stag = getattr(opts, "stagnation", None)
        self.max_time = getattr(opts, "max_time", None)
        self.verbose = int(getattr(opts, "verbose", 0) or 0)
        self.t0 = time.perf_counter() if t0 is None else t0
        self.history = History() if history is None else history
        self.extra = extra or {}
        self.epoch0 = epoch0
        self.best, self.best_theta, self.best_epoch, self.wait = np.inf, None, -1, 0
        self.prev_loss = None

    def elapsed(self) -> float:
        return time.perf_counter() - self.t0

    def out_of_time(self) -> bool:
        return self.max_time is not None and self.elapsed() >= self.max_time

    def end_epoch(self, epoch: int, loss: float, theta, lr=None, val_loss=None, **extra):
        """Record the epoch; return (status, message) when a stopping rule fires, else None."""
        row = {"epoch": self.epoch0 + epoch, "loss": loss}
        if val_loss is not None:
            row["val_loss"] = val_loss
        if lr is not None:
            row["lr"] = lr
        row["time"] = self.elapsed()
        self.history.append(**row, **self.extra, **extra)
        if self.verbose and (epoch % self.verbose == 0):
            v = "" if val_loss is None else f"  val_loss {val_loss:.6g}"
            print(f"epoch {epoch:6d}  loss {loss:.6g}{v}", file=sys.stderr, flush=True)
        if self.es is not None:
            cur = loss if self.es.monitor == "loss" else val_loss
            if epoch >= self.es.start_from_epoch:
                self.wait += 1
                if cur + self.es.min_delta < self.best:  # Keras: improvement = below best − min_delta
                    self.best, self.best_epoch, self.wait = cur, epoch, 0
                    if self.es.restore_best_weights:
                        self.best_theta = np.array(theta, copy=True)
                elif self.wait >= self.es.patience and epoch > 0:
                    return Status.STALLED, (f"early stopping: {self.es.monitor} did not improve by more than "
                                            f"{self.es.min_delta:g} for {self.es.patience} epochs "
                                            f"(best {self.best:.6g} at epoch {self.best_epoch})")
        if self.stag is not None and self.prev_loss is not None and (1 + self.stag) * loss > self.prev_loss:
            return Status.STALLED, f"stagnation: (1 + {self.stag:g})·loss {loss:.6g} > previous loss {self.prev_loss:.6g}"
        self.prev_loss = loss
        return None

    def restored(self, theta, status):
        """Weights to return: the best epoch's when early stopping fired and asked for it."""
        if status == Status.STALLED and self.best_theta is not None:
            return self.best_theta, f" (weights of epoch {self.best_epoch} restored)"
        return theta, ""
