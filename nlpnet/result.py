"""Training results shared by every solver: a status enum, a per-iteration history, what a
solver returns (:class:`SolverOutput`) and what the user gets (:class:`TrainResult`,
scipy.optimize-style ``status``/``success``/``message``).

A solver returns its raw output — the point x of the NLP it was given, its native status
key, counters and history — and :class:`~nlpnet.Problem` turns it into the
:class:`TrainResult` through the back-end's status table and message table
(:class:`~nlpnet.solvers.SolverSpec`), like cvxpy's apply/invert.

**History columns with the same meaning in every back-end** (one row per main iteration):

=============  ==========================================================================
iteration      the main iteration the row ends: epoch, ALM outer iteration, L-BFGS iteration
               (1, 2, …); IPOPT's own counter (0 at the start point of each homotopy stage)
time           seconds since the solve started (set-up included)
objective      the NLP objective at the row's iterate (mini-batch back-propagation: the
               mean of the epoch's batch objectives, as Keras reports ``loss``)
loss           the training loss of the row's network (mean ℓ over the training data,
               penalties excluded; mini-batch: the mean over the epoch's batches)
violation      max constraint violation of the iterate (0 for unconstrained solvers)
val_loss       validation loss, when the problem has validation data
=============  ==========================================================================

Back-ends add their own columns after these (``epsilon``/``stage`` for IPOPT's homotopy,
``beta``/``h_norm``/``inner_iterations`` for the ALM, ``lr`` for back-propagation). Every
back-end's ``stats`` has ``setup_time`` (seconds before the first iteration).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

import numpy as np

from .network import Network

__all__ = ["Status", "History", "TrainResult", "SolverOutput"]


class Status(str, Enum):
    """How a training run ended. ``SUCCESS`` means the solver's own convergence test passed."""

    SUCCESS = "success"                  # converged to the requested tolerance
    ACCEPTABLE = "acceptable"            # converged to a looser, "acceptable" tolerance
    MAX_ITER = "max_iter"                # iteration (epoch) limit reached
    MAX_TIME = "max_time"                # wall-time limit reached
    STALLED = "stalled"                  # no further progress possible (stagnation, early stop)
    INFEASIBLE = "infeasible"            # the solver found the constraints locally infeasible
    NUMERICAL_ERROR = "numerical_error"  # NaN/inf, failed step computation or restoration
    USER_STOP = "user_stop"              # interrupted (Ctrl-C or callback)
    FAILED = "failed"                    # any other failure, e.g. an exception inside the back-end

    @property
    def success(self) -> bool:
        return self in (Status.SUCCESS, Status.ACCEPTABLE)


class History:
    """Per-iteration records as columns: ``h["loss"]`` is a NumPy array over iterations."""

    def __init__(self):
        self._rows: list[dict] = []

    def append(self, **row) -> None:
        self._rows.append(row)

    def extend(self, other: "History", **extra) -> None:
        for r in other._rows:
            self._rows.append({**r, **extra})

    def __len__(self) -> int:
        return len(self._rows)

    def keys(self) -> list[str]:
        keys: dict[str, None] = {}
        for r in self._rows:
            keys.update(dict.fromkeys(r))
        return list(keys)

    def __getitem__(self, key: str) -> np.ndarray:
        if key not in self.keys():
            raise KeyError(f"history has no column {key!r}; columns: {', '.join(self.keys())}")
        return np.array([r.get(key, np.nan) for r in self._rows])

    def __contains__(self, key: str) -> bool:
        return key in self.keys()

    def rows(self) -> list[dict]:
        return [dict(r) for r in self._rows]

    def __repr__(self) -> str:
        return f"History({len(self)} rows; columns {self.keys()})"


@dataclass
class SolverOutput:
    """What a solver returns: a point ``x`` of the NLP it was given, its native status key
    (an entry of its status table), the iteration count, history and counters, and text
    ``detail`` appended to the message. ``p`` are the formulation parameters at x (None:
    the NLP's defaults); ``feasibility_tol`` the violation the solver's success test allowed."""

    x: np.ndarray
    raw_status: str
    iterations: int
    history: History = field(default_factory=History)
    stats: dict = field(default_factory=dict)
    detail: str = ""
    p: np.ndarray | None = None
    feasibility_tol: float | None = None


@dataclass
class TrainResult:
    """Outcome of ``Problem.solve``.

    ``train_loss``/``val_loss`` are the mean loss (MSE or cross-entropy) of the returned network
    by a plain forward pass (not the solver's objective), so results of different formulations
    compare directly; ``train_accuracy``/``val_accuracy`` the share of argmax hits when the
    targets are one-hot (else None), and :meth:`accuracy` that of any data set. ``objective`` and ``constraint_violation`` are the NLP's own values at the
    returned point. ``raw_status`` is the back-end's status string.
    """

    status: Status
    message: str
    network: Network
    solver: str
    formulation: str
    train_loss: float
    iterations: int
    wall_time: float
    history: History = field(default_factory=History)
    val_loss: float | None = None
    objective: float | None = None
    constraint_violation: float | None = None
    raw_status: str = ""
    x: np.ndarray | None = None
    states: dict = field(default_factory=dict)
    stats: dict = field(default_factory=dict)
    train_accuracy: float | None = None
    val_accuracy: float | None = None

    @property
    def success(self) -> bool:
        return self.status.success

    def accuracy(self, X, y) -> float:
        """Share of samples of raw inputs ``X`` whose predicted class matches ``y`` (labels,
        one-hot rows or scores): e.g. the test accuracy."""
        from .metrics import accuracy
        return accuracy(y, self.network.predict(X))
    def __repr__(self) -> str:
        val = "" if self.val_loss is None else f", val_loss={self.val_loss:.4g}"
        if self.train_accuracy is not None:
            val += f", train_accuracy={self.train_accuracy:.4g}"
        viol = "" if self.constraint_violation is None else f", violation={self.constraint_violation:.2g}"
        return (f"TrainResult(status={self.status.value}, solver={self.solver}, train_loss={self.train_loss:.4g}"
                f"{val}{viol}, iterations={self.iterations}, wall_time={self.wall_time:.3g}s, "
                f"message={self.message!r})")
