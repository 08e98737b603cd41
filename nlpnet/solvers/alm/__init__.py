"""The augmented Lagrangian family: outer loop (:mod:`.outer`), outer rules (:mod:`.rules`),
inner solvers as objects (:mod:`.inner`), the lifted least-squares structure
(:mod:`.structure`) and its block linear algebra (:mod:`.elimination`, :mod:`.block_solve`)."""
from __future__ import annotations

from .. import SolverSpec, register_solver
from .inner import GaussNewton, IpoptInner, LevenbergMarquardt
from .outer import MESSAGES, STATUSES, AlmOptions, _check, estimate_memory, solve_alm
from .rules import ClassicRule, LiuRule, ThesisRule

__all__ = ["AlmOptions", "LevenbergMarquardt", "GaussNewton", "IpoptInner", "ThesisRule", "ClassicRule", "LiuRule"]

register_solver(SolverSpec(name="alm", run=solve_alm, options=AlmOptions, statuses=STATUSES, messages=MESSAGES,
                           check=_check, estimate=estimate_memory, requires=("multiple_shooting",), family="alm",
                           alternative="use inner='lm' with linear_solver='cg' and state_damping='layer', "
                                       "or solve('adam')",
                           summary="inexact augmented Lagrangian with structured Levenberg–Marquardt "
                                   "(multiple shooting, equality lifting)"))
