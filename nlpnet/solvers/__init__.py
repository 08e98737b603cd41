"""Solver registry: every back-end is a :class:`SolverSpec` read by ``Problem.solve(name)``.

A spec names its options dataclass, the formulation it needs (None: the problem's own),
the formulations it accepts as the problem's own (``requires``), a ``check`` run on the
options and NLP before anything is built, and ``run(problem, nlp, options) -> TrainResult``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

__all__ = ["SolverSpec", "register_solver", "get_solver", "available_solvers"]


def _no_check(problem, nlp, options):
    return None


@dataclass(frozen=True)
class SolverSpec:
    name: str
    run: Callable
    options: type
    formulation: str | None = None
    requires: tuple[str, ...] = ()
    check: Callable = field(default=_no_check)
    summary: str = ""


_REGISTRY: dict[str, SolverSpec] = {}


def register_solver(spec: SolverSpec) -> SolverSpec:
    _REGISTRY[spec.name] = spec
    return spec


def available_solvers() -> dict[str, str]:
    """Solver names and one-line summaries."""
    _load_builtin()
    return {k: v.summary for k, v in sorted(_REGISTRY.items())}


def get_solver(name) -> SolverSpec:
    _load_builtin()
    if not isinstance(name, str):
        raise TypeError(f"solver: expected a solver name, got {type(name).__name__}")
    if name not in _REGISTRY:
        raise ValueError(f"solver: unknown solver {name!r}; available: {', '.join(sorted(_REGISTRY))}")
    return _REGISTRY[name]


def _load_builtin():
    # imported lazily so that `import nlpnet` stays light and registration has no cycles
    from . import ipopt  # noqa: F401
    from . import alm  # noqa: F401
    from . import backprop  # noqa: F401
    from . import quasi_newton  # noqa: F401
