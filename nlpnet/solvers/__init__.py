"""Solver registry: every back-end is a :class:`SolverSpec` that ``Problem.solve(name)`` reads.

A spec names its options dataclass, the formulation it needs (None: the problem's own), the
formulations it accepts as the problem's own (``requires``), a ``check(nlp, options)`` run
before anything is built (it raises ``ValueError`` naming what to change), a memory
``estimate(nlp, options)`` in bytes for the size guard with the ``alternative`` it suggests, and ``run(nlp, options) ->
SolverOutput``. ``statuses`` maps the back-end's native status keys to
:class:`~nlpnet.result.Status` and ``messages`` to message templates (formatted with
``iterations`` and the output's stats), so the caller turns a raw output into a result in
one place. A solver reads only the NLP; this module imports nothing from the rest of nlpnet.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

__all__ = ["SolverSpec", "register_solver", "get_solver", "available_solvers"]


def _no_check(nlp, options):
    return None


def _no_estimate(nlp, options):
    return 0.0


@dataclass(frozen=True)
class SolverSpec:
    name: str
    run: Callable
    options: type
    statuses: dict
    messages: dict
    formulation: str | None = None
    requires: tuple[str, ...] = ()
    check: Callable = field(default=_no_check)
    estimate: Callable = field(default=_no_estimate)
    summary: str = ""
    family: str = ""
    alternative: str = ""          # what to use when the size guard refuses (see solvers.common)


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
        import difflib
        close = difflib.get_close_matches(name, list(_REGISTRY), n=1, cutoff=0.5)
        hint = f"; did you mean {close[0]!r}?" if close else "."
        raise ValueError(f"solver: unknown solver {name!r}{hint} Available: {', '.join(sorted(_REGISTRY))}")
    return _REGISTRY[name]


def _load_builtin():
    # imported lazily so that `import nlpnet` stays light and registration has no cycles
    from . import ipopt  # noqa: F401
    from . import alm  # noqa: F401
    from . import backprop  # noqa: F401
    from . import ialam  # noqa: F401
