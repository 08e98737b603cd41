"""Set-up that cannot be interrupted from inside: estimate it first, run it where Ctrl-C and
``max_time`` still reach the caller.

Two things an IPOPT solve does before its first iteration cannot be stopped once they run:

* **the symbolic per-sample derivatives** — CasADi's Jacobian and Hessian of one sample's rows
  and loss (:mod:`nlpnet.formulations.sample_functions`), built once per architecture and
  cached. Their cost grows with the dense Hessian blocks: in single shooting the θθ block of
  one sample's loss, n = L·n_θ²/2 entries for L layers; in multiple shooting the blocks
  d_k(2d_{k−1} + 1)²/2 of every smooth lifted layer plus the output layer's loss block
  (ReLU and leaky ReLU rows are piecewise linear: no second derivatives). Fitted on random
  architectures (``python benchmarks/setup_estimate.py`` prints measured / estimated)::

      single shooting      t ≈ 0.002 + 2.9e-8 · n^1.5                    s
      multiple shooting    t ≈ 0.002 + 3.2e-6 · P^1.5 + 3e-8 · n^1.6     s   (P = Σ_k d_k(d_{k−1}+1))

  (a median fit: a longer build than estimated still returns at ``max_time``, see below).

* **the first KKT factorizations** — IPOPT factorizes once to initialise the multipliers and
  about 2.5 times per iteration (inertia correction). With METIS each sample is one front of
  its n_b pivots coupled to the weights (its states and the rows that involve the weights)
  plus the n_θ weights, so one factorization costs about N·n_b·(n_b + n_θ)² + n_θ³/3 flops,
  counted here at a nominal 3 GFlop/s.

:func:`setup_seconds` adds both (a built, cached Hessian counts 0). When the estimate exceeds the
time left of ``max_time``, :func:`check_setup_budget` says so and the solver returns ``max_time``
at once, without starting (a ``max_time`` below one iteration is a valid budget, not bad input;
the message says what to change); a longer estimate than ``WARN_SECONDS`` is announced with a
:class:`SlowSetupWarning` before it starts. The estimates use counts only, so the same
problem gets the same decision on every run.

:func:`run_setup` runs the symbolic part in a worker thread (CasADi releases the GIL while it
builds): the caller's thread waits, so Ctrl-C is honoured at once (``KeyboardInterrupt``) and a
set-up still running at the deadline raises :class:`SetupTimeout` — the solver then returns
``max_time``; the thread finishes in the background and its Functions stay cached.
"""
from __future__ import annotations

import threading
import time
import warnings

__all__ = ["symbolic_seconds", "first_iteration_seconds", "setup_seconds", "check_setup_budget", "run_setup",
           "SetupTimeout", "SlowSetupWarning", "WARN_SECONDS", "FLOP_RATE"]

WARN_SECONDS = 10.0      # estimated set-up beyond this is announced before it starts
FLOP_RATE = 3e9          # nominal dense-factorization speed (MUMPS, one thread) used by the estimate
_SMOOTH = ("tanh", "sigmoid", "softplus")


class SetupTimeout(Exception):
    """The symbolic set-up was still running at the deadline."""


class SlowSetupWarning(UserWarning):
    """A solver's set-up, which cannot be interrupted, is estimated to take long."""


def _built(samples) -> bool:
    fns = samples.functions
    return all(k in getattr(fns, "_functions", {}) for k in ("jac", "hess"))


def hessian_entries(samples) -> float:
    """n of the module docstring: entries of the dense per-sample Hessian blocks."""
    sizes, acts, rules = samples.kernels.sizes, samples.kernels.acts, samples.rules
    L = len(sizes) - 1
    n_th = samples.kernels.n_params
    if not rules:
        return L * n_th * n_th / 2.0
    n = sum(sizes[k] * (2 * sizes[k - 1] + 1) ** 2 / 2.0 for k in range(1, L)
            if rules[k - 1] == "equality" and acts[k - 1].name in _SMOOTH)
    return n + (sizes[L] * (sizes[L - 1] + 1) + sizes[L - 1]) ** 2 / 2.0


def symbolic_seconds(samples) -> float:
    """Estimated seconds to build the per-sample Jacobian and Hessian (0 once built)."""
    if _built(samples):
        return 0.0
    n = hessian_entries(samples)
    if not samples.rules:
        return 0.002 + 2.9e-8 * n ** 1.5
    sizes = samples.kernels.sizes
    P = sum(sizes[k] * (sizes[k - 1] + 1) for k in range(1, len(sizes)))
    return 0.002 + 3.2e-6 * P ** 1.5 + 3e-8 * n ** 1.6


# per unit of a lifted layer: its rows that involve the weights (the others, such as leaky ReLU's
# v − u ≥ 0, are eliminated inside the sample's front without touching the dense weight border)
_WEIGHT_ROWS = {"equality": 1, "relu": 2, "leaky_relu": 1}


def factorization_flops(nlp) -> float:
    """Flops of one sparse LDLᵀ factorization of the KKT matrix (METIS tree: one front per
    sample): each sample eliminates n_b pivots coupled to the n_θ weights (its states and the
    rows that involve the weights), then the weight block is factorized."""
    sb = nlp.samples
    sizes = sb.kernels.sizes
    n_th, n_user = nlp.n_theta, nlp.glob.rows.numel()
    n_b = sb.n_s + sum(_WEIGHT_ROWS[r] * sizes[k + 1] for k, r in enumerate(sb.rules))
    return nlp.N * n_b * (n_b + n_th) ** 2 + (n_th + n_user) ** 3 / 3.0


def first_iteration_seconds(nlp, factorizations: float = 3.5) -> float:
    """Estimated seconds from IPOPT's start to the end of its first iteration: a fixed 10 ms
    (assembly, ``nlpsol``), the initialising factorization plus one iteration's 2.5, and the
    derivative evaluations (about 1.5e-8 s per per-sample Hessian entry and sample)."""
    evaluation = nlp.N * 3.0 * hessian_entries(nlp.samples) * 1.5e-8
    return 0.01 + factorizations * factorization_flops(nlp) / FLOP_RATE + evaluation


def setup_seconds(nlp) -> float:
    return symbolic_seconds(nlp.samples) + first_iteration_seconds(nlp)


def check_setup_budget(solver: str, nlp, seconds: float, time_left: float, instead: str) -> str:
    """Whether an uninterruptible set-up estimated at ``seconds`` may start with ``time_left``
    seconds of the budget left: ``""`` if it may (with a :class:`SlowSetupWarning` beyond
    ``WARN_SECONDS``), else the reason, which the solver appends to its ``max_time`` result
    instead of starting work it could not stop in time."""
    where = f"solver {solver!r} on this {nlp.formulation} problem (N = {nlp.N}, {nlp.n_theta} weights)"
    if seconds > time_left:
        return (f"; not started: its set-up and first iteration (symbolic derivatives and KKT factorizations, "
                f"which cannot be interrupted) are estimated at {seconds:.3g} s, more than the {time_left:.3g} s "
                f"left of max_time; raise max_time, or {instead}")
    if seconds > WARN_SECONDS:
        warnings.warn(f"{where}: its set-up and first iteration are estimated at {seconds:.3g} s and cannot be "
                      f"interrupted by max_time (Ctrl-C still works); {instead} if that is too long",
                      SlowSetupWarning, stacklevel=4)
    return ""


def run_setup(fn, deadline=None, poll: float = 0.05):
    """``fn()`` in a worker thread; the calling thread waits so that Ctrl-C (KeyboardInterrupt)
    and the ``deadline`` (``time.perf_counter()`` value; SetupTimeout) interrupt the wait."""
    box = {}

    def work():
        try:
            box["value"] = fn()
        except BaseException as exc:   # handed to the caller's thread
            box["error"] = exc
    worker = threading.Thread(target=work, name="nlpnet-setup", daemon=True)
    worker.start()
    while worker.is_alive():
        wait = poll if deadline is None else min(poll, max(deadline - time.perf_counter(), 0.0))
        worker.join(wait)
        if worker.is_alive() and deadline is not None and time.perf_counter() >= deadline:
            raise SetupTimeout
    if "error" in box:
        raise box["error"]
    return box.get("value")
