"""The back-propagation training loop: the batched loss and gradient, stopping rules, history.

**Loss.** Back-propagation trains the single-shooting NLP (same θ, regularizers and user
objective terms as the problem). For a batch B of samples

    ℓ_B(θ) = (1/|B|) Σ_{j∈B} ℓ(f_θ(x_j), y_j) + ‖ρ(θ)‖² + f_rest(θ),

which for the full batch is the NLP objective. ℓ_B and ∇ℓ_B come from the NLP's batched
kernels (forward pass and back-propagation as BLAS products over the batch,
:mod:`nlpnet.formulations.kernels`); the global terms from one small CasADi Function of θ.
Networks no wider than ``NARROW_WIDTH`` units per layer are evaluated instead by one compiled
CasADi MX Function per batch size (the same matrix products, without NumPy's per-call
overhead, which dominates at such widths: 25 against 48 µs for 1-8-8-1 at N = 40, 38 against
140 µs for ten width-2 layers; from width 16 on NumPy wins, and by 12× at 80-48-1, N = 600 —
``python benchmarks/backprop_epoch.py``). Mini-batches are drawn by a seeded permutation each
epoch and gathered with ``numpy.take``; at most two batch sizes occur (the full batches and
the remainder).

**Stopping** (checked at the end of every epoch, :class:`Monitor`): the epoch cap
``max_iter`` and ``max_time``; Keras early stopping (:class:`~.options.EarlyStopping`; "loss"
is the epoch objective — for the full batch its value at the start of the epoch — and
"val_loss" the validation loss after the epoch); the thesis's stagnation rule
(1 + ε)·loss_k > loss_{k−1}; ``gtol`` on full-batch epochs. A non-finite loss, gradient or
weight stops the run at once (like Keras's TerminateOnNaN) with raw status ``non_finite``,
returning the best finite weights seen.
"""
from __future__ import annotations

import casadi as ca
import numpy as np

from ...casadi_call import BufferedFunction
from ...result import History, Status
from ..common import Budget, IterationLog

__all__ = ["BatchObjective", "Monitor", "STATUSES", "MESSAGES", "train_first_order"]

STATUSES = {"max_iter": Status.MAX_ITER, "max_time": Status.MAX_TIME, "gtol": Status.SUCCESS,
            "early_stopping": Status.STALLED, "stagnation": Status.STALLED, "ftol": Status.SUCCESS,
            "line_search": Status.STALLED, "damping": Status.STALLED, "goal": Status.SUCCESS,
            "non_finite": Status.NUMERICAL_ERROR, "user_stop": Status.USER_STOP}
MESSAGES = {"max_iter": "stopped at the iteration limit after {iterations} epochs",
            "max_time": "stopped at the time limit after {iterations} epochs",
            "gtol": "gradient norm below gtol after {iterations} epochs",
            "ftol": "relative decrease of the loss below ftol after {iterations} iterations",
            "early_stopping": "early stopping after {iterations} epochs",
            "stagnation": "loss stagnated after {iterations} epochs",
            "line_search": "the line search failed to decrease the loss after {iterations} iterations",
            "damping": "the damping exceeded mu_max after {iterations} epochs",
            "goal": "loss goal reached after {iterations} epochs",
            "non_finite": "non-finite loss, gradient or weights after {iterations} epochs; the best finite "
                          "weights are returned",
            "user_stop": "interrupted by the user after {iterations} epochs"}


NARROW_WIDTH = 8


class BatchObjective:
    """ℓ_B, the data loss and ∇ℓ_B for the full batch or any subset of rows (see module docstring)."""

    def __init__(self, nlp):
        sb = nlp.samples
        self.kern, self.loss, self.X, self.Y, self.N = sb.kernels, sb.loss, sb.X, sb.Y, sb.N
        self.network, self.classes = sb.network, sb.classes
        # one compiled Function per batch size, shared by every solve of this NLP
        self._compiled = nlp.cache.setdefault("backprop_compiled", {}) \
            if max(self.kern.sizes[1:]) <= NARROW_WIDTH else None
        self.n = nlp.n_theta
        self.validation = nlp.validation
        self._penalty = None
        if not nlp.glob.empty:
            if nlp.glob.on_states or nlp.glob.rows.numel():
                raise ValueError("back-propagation: the problem has constraints or objective terms on lifted "
                                 "states; use solve('ipopt')")
            th = nlp.symbols.theta
            term = ca.dot(nlp.glob.residual, nlp.glob.residual) + nlp.glob.f_rest
            self._penalty = BufferedFunction(ca.Function("penalty", [th, nlp.p], [term, ca.gradient(term, th)]))
            self._p0 = nlp.p0

    def __call__(self, theta, X=None, Y=None):
        """(ℓ_B, data loss, ∇ℓ_B, correct) on the rows X, Y (default: all training data);
        ``correct`` counts the argmax hits for one-hot targets (None otherwise)."""
        X = self.X if X is None else X
        Y = self.Y if Y is None else Y
        if self._compiled is None:
            data, g, O = self.kern.loss_gradient(theta, X, Y, self.loss, 1.0 / X.shape[0], outputs=True)
        else:
            out = self._function(X.shape[0])(theta, X, Y)
            data, g, O = float(out[0][0]), out[1].copy(), out[2].reshape(X.shape[0], -1)
        correct = int(np.sum(O.argmax(axis=1) == Y.argmax(axis=1))) if self.classes else None
        value = data
        if self._penalty is not None:
            pv, pg = self._penalty(theta, self._p0)
            value += float(pv[0])
            g += pg
        return value, data, g, correct

    def _function(self, B: int):
        if B not in self._compiled:
            net = self.network
            th = ca.MX.sym("theta", self.n)
            Xs, Ys = ca.MX.sym("X", net.n_inputs, B), ca.MX.sym("Y", net.n_outputs, B)
            O = net.symbolic_forward(th, Xs)
            loss = self.loss.casadi_total(O, Ys) / B
            # O is (d_L × B) column-major: the buffer holds it as the (B × d_L) rows of samples
            self._compiled[B] = BufferedFunction(ca.Function(f"loss_grad_{B}", [th, Xs, Ys],
                                                             [loss, ca.gradient(loss, th), O]))
        return self._compiled[B]

    def penalty(self, theta) -> float:
        return 0.0 if self._penalty is None else float(self._penalty(theta, self._p0)[0][0])

    def validate(self, theta):
        """(validation loss, validation accuracy or None), or (None, None) without validation data."""
        if self.validation is None:
            return None, None
        Xv, Yv = self.validation
        O = self.kern.predict(theta, Xv)
        acc = float(np.mean(O.argmax(axis=1) == Yv.argmax(axis=1))) if self.classes else None
        return float(np.mean(self.loss.values(O, Yv))), acc


class Monitor:
    """End-of-epoch bookkeeping: history rows, verbose lines, early stopping, stagnation,
    budget, and the best finite weights (returned after a non-finite step)."""

    def __init__(self, opts, solver: str, budget: Budget | None = None, history: History | None = None,
                 epoch0: int = 0, extra=None, columns=("lr",)):
        self.es = getattr(opts, "early_stopping", None)
        self.stag = getattr(opts, "stagnation", None)
        self.budget = budget or Budget(getattr(opts, "max_time", None))
        self.history = History() if history is None else history
        self.log = IterationLog(solver, getattr(opts, "verbose", 0), extra=columns)
        self.extra, self.epoch0 = extra or {}, epoch0
        self.best, self.best_theta, self.best_epoch, self.wait = np.inf, None, -1, 0
        self.prev_loss = None
        self.finite_best, self.finite_theta = np.inf, None

    def out_of_time(self) -> bool:
        return self.budget.exhausted()

    def remember(self, objective, theta) -> None:
        """Keep the lowest-objective finite weights (what a non-finite stop returns)."""
        if objective < self.finite_best:
            self.finite_best, self.finite_theta = objective, np.array(theta, copy=True)

    def end_epoch(self, epoch: int, objective: float, loss: float, theta, lr=None, val=(None, None),
                  accuracy=None, **extra):
        """Record the epoch; return a raw status key when a stopping rule fires, else None.
        ``val`` is (validation loss, validation accuracy)."""
        val_loss, val_acc = val
        row = {"iteration": self.epoch0 + epoch + 1, "time": self.budget.elapsed(), "objective": objective,
               "loss": loss, "violation": 0.0}
        if val_loss is not None:
            row["val_loss"] = val_loss
        if accuracy is not None:
            row["accuracy"] = accuracy
        if val_acc is not None:
            row["val_accuracy"] = val_acc
        if lr is not None:
            row["lr"] = lr
        row.update(self.extra, **extra)
        self.history.append(**row)
        self.log(row)
        if self.es is not None:
            # accuracies improve upwards: watch their negatives, so "below best − min_delta" holds
            cur = {"loss": objective, "val_loss": val_loss, "accuracy": None if accuracy is None else -accuracy,
                   "val_accuracy": None if val_acc is None else -val_acc}[self.es.monitor]
            if epoch >= self.es.start_from_epoch and cur is not None:
                self.wait += 1
                if cur + self.es.min_delta < self.best:  # Keras: improvement = below best − min_delta
                    self.best, self.best_epoch, self.wait = cur, epoch, 0
                    if self.es.restore_best_weights:
                        self.best_theta = np.array(theta, copy=True)
                elif self.wait >= self.es.patience and epoch > 0:
                    best = -self.best if "accuracy" in self.es.monitor else self.best
                    self.detail = (f" ({self.es.monitor} did not improve by more than {self.es.min_delta:g} for "
                                   f"{self.es.patience} epochs; best {best:.6g} at epoch {self.best_epoch})")
                    return "early_stopping"
        if self.stag is not None and self.prev_loss is not None and (1 + self.stag) * objective > self.prev_loss:
            self.detail = f" ((1 + {self.stag:g})·loss {objective:.6g} > previous loss {self.prev_loss:.6g})"
            return "stagnation"
        self.prev_loss = objective
        return None

    detail = ""

    def finish(self, theta, raw: str):
        """(weights to return, message detail): the best epoch's after early stopping when
        asked, the best finite weights after a non-finite step."""
        if self.history:
            self.log(self.history.rows()[-1], last=True)
        if raw == "non_finite":
            return (self.finite_theta if self.finite_theta is not None else theta), self.detail
        if raw == "early_stopping" and self.best_theta is not None:
            return self.best_theta, self.detail + f" (weights of epoch {self.best_epoch} restored)"
        return theta, self.detail


def _finite(a) -> bool:
    """All entries finite (one dot product; entries beyond ~1e154 count as non-finite too)."""
    return bool(np.isfinite(a @ a))


def train_first_order(objective: BatchObjective, opt, opts, schedule, theta0, monitor: Monitor):
    """The shared first-order loop. Returns (θ, raw status, epochs completed)."""
    rows0 = len(monitor.history)
    state = {"theta": np.array(theta0, dtype=float, copy=True), "raw": "max_iter"}
    try:
        with np.errstate(over="ignore", invalid="ignore"):     # divergence is detected, not warned about
            _epochs(objective, opt, opts, schedule, monitor, state)
            # the last update's weights were never evaluated: a step into overflow (finite weights,
            # infinite loss) must not be returned as a max_iter result
            if state["raw"] not in ("non_finite", "user_stop") and not np.isfinite(objective(state["theta"])[0]):
                state["raw"] = "non_finite"
    except KeyboardInterrupt:
        state["raw"] = "user_stop"
    return state["theta"], state["raw"], len(monitor.history) - rows0


def _epochs(objective, opt, opts, schedule, monitor, out) -> None:
    """The epochs of :func:`train_first_order`; ``out`` holds the current θ and raw status."""
    N = objective.N
    B = N if opts.batch_size is None else min(int(opts.batch_size), N)
    theta = out["theta"]
    ostate = opt.init(theta)
    rng = np.random.default_rng(opts.seed)
    splits = list(range(B, N, B))
    for epoch in range(opts.max_iter):
        if monitor.out_of_time():
            out["raw"] = "max_time"
            return
        lr = schedule(epoch)
        if not splits:
            obj, loss, g, correct = objective(theta)
            if not (np.isfinite(obj) and _finite(g)):
                out["raw"] = "non_finite"
                return
            monitor.remember(obj, theta)
            acc = None if correct is None else correct / N
            if opts.gtol and np.max(np.abs(g)) <= opts.gtol:
                monitor.end_epoch(epoch, obj, loss, theta, lr, objective.validate(theta), acc)
                out["raw"] = "gtol"
                return
            step, ostate = opt.update(g, ostate, theta)
            new = theta + step
        else:
            new, obj, loss, hits = theta, 0.0, 0.0, 0
            for idx in np.split(rng.permutation(N), splits):
                ob, lb, g, correct = objective(new, np.take(objective.X, idx, axis=0),
                                               np.take(objective.Y, idx, axis=0))
                if not (np.isfinite(ob) and _finite(g)):
                    obj = np.nan
                    break
                obj += ob * idx.size / N
                loss += lb * idx.size / N
                hits += correct or 0
                step, ostate = opt.update(g, ostate, new)
                new = new + step
            acc = hits / N if objective.classes else None     # Keras: the mean over the epoch's batches
        if not (np.isfinite(obj) and _finite(new)):
            out["raw"] = "non_finite"
            return
        theta = out["theta"] = new
        if splits:
            monitor.remember(obj, theta)   # the epoch's mean batch objective, at the epoch's end
        stop = monitor.end_epoch(epoch, obj, loss, theta, lr, objective.validate(theta), acc)
        if stop is not None:
            out["raw"] = stop
            return
