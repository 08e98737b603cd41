"""Training results shared by every solver: a status enum, a per-iteration history, and
:class:`TrainResult` (scipy.optimize-style ``status``/``success``/``message``)."""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

import numpy as np

from .network import Network

__all__ = ["Status", "History", "TrainResult"]


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
class TrainResult:
    """Outcome of ``Problem.solve``.

    ``train_loss``/``val_loss`` are MSEs of the returned network evaluated by a plain forward
    pass (not the solver's objective), so results of different formulations compare
    directly. ``objective`` and ``constraint_violation`` are the NLP's own values at the
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

    @property
    def success(self) -> bool:
        return self.status.success

    def __repr__(self) -> str:
        val = "" if self.val_loss is None else f", val_loss={self.val_loss:.4g}"
        viol = "" if self.constraint_violation is None else f", violation={self.constraint_violation:.2g}"
        return (f"TrainResult(status={self.status.value}, solver={self.solver}, train_loss={self.train_loss:.4g}"
                f"{val}{viol}, iterations={self.iterations}, wall_time={self.wall_time:.3g}s, "
                f"message={self.message!r})")
