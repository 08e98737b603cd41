"""Formulations: how a training problem becomes an NLP (see each module for the math).

``single_shooting`` and ``multiple_shooting`` build the structured NLP of :mod:`nlpnet.nlp`
from per-sample CasADi Functions (:mod:`.sample_functions`) and batched kernels
(:mod:`.kernels`); :mod:`.assembly` scatters whole-NLP derivatives from the per-sample blocks.
``penalized_lifting`` (:mod:`.penalized`) is seed 002's model (PP), evaluated by NumPy and
solved by ``ialam``.
"""
from __future__ import annotations

from ..validation import did_you_mean
from .base import Formulation, Unpacked
from .multiple_shooting import MultipleShooting
from .penalized import PenalizedLifting
from .single_shooting import SingleShooting

__all__ = ["Formulation", "Unpacked", "SingleShooting", "MultipleShooting", "PenalizedLifting", "get_formulation",
           "FORMULATIONS"]

FORMULATIONS = ("single_shooting", "multiple_shooting", "penalized_lifting")


def get_formulation(spec, **kwargs) -> Formulation:
    """A formulation from a name (``"single_shooting"``, ``"multiple_shooting"``, ``"penalized_lifting"``
    with its defaults) or instance."""
    if isinstance(spec, Formulation):
        if kwargs:
            raise ValueError(f"formulation: options {sorted(kwargs)} apply only when the formulation is given by name")
        return spec
    if spec == "single_shooting":
        if kwargs:
            raise ValueError(f"{', '.join(sorted(kwargs))}: apply only to formulation='multiple_shooting'")
        return SingleShooting()
    if spec == "multiple_shooting":
        return MultipleShooting(**kwargs)
    if spec == "penalized_lifting":
        if kwargs:
            raise ValueError(f"{', '.join(sorted(kwargs))}: apply only to formulation='multiple_shooting'; give "
                             "nlpnet.PenalizedLifting(lambda_v=..., beta=..., bias_bound=...) for this one")
        return PenalizedLifting()
    if not isinstance(spec, str):
        raise TypeError(f"formulation: expected a name or a Formulation, got {type(spec).__name__}")
    raise ValueError(f"formulation: unknown formulation {spec!r}; choose one of {', '.join(FORMULATIONS)}"
                     f"{did_you_mean(spec, FORMULATIONS)}")
