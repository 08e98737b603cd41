"""Formulations: how a training problem becomes an NLP (see each module for the math)."""
from __future__ import annotations

from .base import Formulation, Unpacked
from .multiple_shooting import MultipleShooting
from .single_shooting import SingleShooting

__all__ = ["Formulation", "Unpacked", "SingleShooting", "MultipleShooting", "get_formulation", "FORMULATIONS"]

FORMULATIONS = ("single_shooting", "multiple_shooting")


def get_formulation(spec, **kwargs) -> Formulation:
    """A formulation from a name (``"single_shooting"``, ``"multiple_shooting"``) or instance."""
    if isinstance(spec, Formulation):
        if kwargs:
            raise ValueError(f"formulation: options {sorted(kwargs)} apply only when the formulation is given by name")
        return spec
    if spec == "single_shooting":
        return SingleShooting()
    if spec == "multiple_shooting":
        return MultipleShooting(**kwargs)
    raise ValueError(f"formulation: unknown formulation {spec!r}; choose one of {', '.join(FORMULATIONS)}")
