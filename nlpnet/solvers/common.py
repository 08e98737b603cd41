"""What every solver family shares: the verbose line, the time budget, the size guard.

**Verbose output.** With ``verbose=k`` a solver prints every k-th iteration (and the last)
with the same leading columns in every family — iteration, time [s], objective, training
loss, constraint violation, validation loss — followed by its own (``IterationLog``); the
values are the history row's.

**Budget.** ``max_time`` bounds the whole solve, set-up included: a :class:`Budget` starts
with the solve and every loop asks it how much time is left.

**Size guard.** Before anything large is built, a solver's ``estimate(nlp, options)``
predicts the bytes its set-up allocates; :func:`check_memory` refuses an estimate beyond
``memory_limit`` with a ``ValueError`` naming the formulation and solver and what to use
instead.
"""
from __future__ import annotations

import math
import sys
import time

__all__ = ["IterationLog", "Budget", "check_memory", "gib"]

_LEAD = (("iteration", "iter", "{:>6d}"), ("time", "time[s]", "{:>9.3f}"), ("objective", "objective", "{:>11.4e}"),
         ("loss", "loss", "{:>11.4e}"), ("violation", "violation", "{:>9.2e}"), ("val_loss", "val_loss", "{:>11.4e}"))


class IterationLog:
    """One line per k-th iteration, common columns first (see the module docstring)."""

    def __init__(self, solver: str, verbose: int, extra=()):
        self.solver, self.every, self.extra = solver, int(verbose or 0), tuple(extra)
        self._header, self._last = False, None

    def __call__(self, row: dict, last: bool = False) -> None:
        if not self.every:
            return
        it = int(row.get("iteration", 0))
        if not (last or it <= 1 or it % self.every == 0) or row is self._last:
            return
        self._last = row
        if not self._header:
            names = [h for _, h, _ in _LEAD] + [str(e) for e in self.extra]
            print(f"{self.solver}: " + "  ".join(f"{n:>11s}" for n in names), file=sys.stderr, flush=True)
            self._header = True
        cells = []
        for key, _, fmt in _LEAD:
            v = row.get(key)
            cells.append(f"{'-':>11s}" if v is None or (isinstance(v, float) and math.isnan(v))
                         else f"{fmt.format(v):>11s}")
        for key in self.extra:
            v = row.get(key, "")
            cells.append(f"{v:>11.4g}" if isinstance(v, float) else f"{str(v):>11s}")
        print(f"{self.solver}: " + "  ".join(cells), file=sys.stderr, flush=True)


class Budget:
    """Wall-clock budget of one solve (``max_time`` None: unlimited)."""

    def __init__(self, max_time):
        self.t0 = time.perf_counter()
        self.max_time = max_time

    def elapsed(self) -> float:
        return time.perf_counter() - self.t0

    def left(self) -> float:
        return math.inf if self.max_time is None else self.max_time - self.elapsed()

    def exhausted(self) -> bool:
        return self.left() <= 0

    @property
    def deadline(self):
        return None if self.max_time is None else self.t0 + self.max_time


def gib(nbytes: float) -> str:
    return f"{nbytes / 2 ** 30:.2f} GiB"


def check_memory(solver: str, nlp, estimate: float, limit: float, instead: str) -> None:
    """Refuse a set-up whose estimated memory exceeds ``limit`` (bytes)."""
    if estimate > limit:
        raise ValueError(f"memory_limit: solver {solver!r} on this {nlp.formulation} problem (N = {nlp.N}, "
                         f"{nlp.n_theta} weights) would need about {gib(estimate)} for its set-up, above the "
                         f"limit of {gib(limit)}; {instead} (or raise memory_limit= if the machine has the memory)")
