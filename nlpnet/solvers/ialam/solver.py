"""iALAM: the inexact augmented Lagrangian method with alternating minimization (seed 002).

Outer loop (the slides' IALM framework, the ``liu`` rule), k = 1, 2, ...:

1. (``restart_states``) start the states from a forward pass of the current weights; solve the
   inner problem min L_ρ(w, b, v, u; ξ) over v ≥ u, v ≥ αu inexactly by sweeps of
   ``inner`` (at least ``min_sweeps``, at most ``max_sweeps``, stopping once a sweep lowers L_ρ
   by less than the current inner tolerance);
2. ξ ← ξ + s·ρ·c with the linear residual c = u − Ψ(v)w − Ab of the new point;
3. keep ρ for k ≤ γ and while ‖c_k‖ ≤ η₁ max_{t=k−γ..k−1} ‖c_t‖, else raise it: "authors"
   ρ ← η₂ρ, or "slides" ρ ← max(η₂ρ, ‖ξ‖^{1+η₃}) (the increasing form, in the slides' units);
   with every raise the inner tolerance is divided by ``inner_tol_factor`` (authors);
4. β ← beta_factor·β when (1/N)Σ‖v − σ(u)‖² > beta_ratio·(1/N)Σ‖c‖² (authors, k > 1);
5. stop: "success" when ‖c‖_F/√N ≤ tol_feas and the KKT residual of (PP) at the forward-pass
   point (``kkt``) is ≤ tol_stat;
   at ρ > rho_stop_factor·ρ⁽⁰⁾ (the slides' rule) "acceptable" when ‖c‖_F/√N ≤
   acceptable_feas, else "stalled"; "max_iter", "max_time" on the budgets; a non-finite value
   ends the run at once with "numerical_error" and the last finite iterate.

Every step is a BLAS product over the batch or elementwise closed form: cost O(N) per sweep.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from .inner import FirstLayer, state_step, weight_step
from .kkt import kkt_residual
from .model import (augmented_lagrangian, forward, layer_alphas, network_metrics, objective_terms,
                    state_violations)
from .options import resolve_ialam_options
from .validation import validate_inputs

__all__ = ["IalamOutput", "run_ialam", "HISTORY_KEYS", "STATUSES"]

STATUSES = ("success", "acceptable", "max_iter", "max_time", "stalled", "numerical_error")
HISTORY_KEYS = ("iteration", "time", "cpu_time", "sweeps", "wb_steps", "complete", "aug_lagrangian", "objective",
                "train_err", "test_err", "feas_activation", "feas_linear", "feas_vi", "violation",
                "stationarity", "kkt_weights", "kkt_biases", "kkt_states", "inner_residual",
                "col_sparsity", "inputs_pruned", "hidden_pruned", "train_acc", "test_acc", "rho", "beta",
                "xi_norm")


@dataclass
class IalamOutput:
    """Raw output of :func:`run_ialam` (the caller wraps it into a result object)."""
    W: list
    b: list
    V: list                     # activations per layer, rows = samples
    U: list                     # pre-activations per layer, rows = samples
    history: list               # one dict per outer iteration, keys HISTORY_KEYS
    status: str                 # one of STATUSES
    message: str
    iterations: int             # outer iterations
    inner_iterations: int       # alternating-minimization sweeps in all
    stats: dict = field(default_factory=dict)

    @property
    def success(self) -> bool:
        return self.status in ("success", "acceptable")


def _finite(arrays) -> bool:
    return all(np.isfinite(np.sum(a)) or np.all(np.isfinite(a)) for a in arrays)


def run_ialam(X, Y, hidden_alpha, output, W0, b0, options=None, *, X_test=None, Y_test=None,
              deadline=None) -> IalamOutput:
    """Train a leaky-ReLU network with group sparsity by iALAM.

    X (N × d0) and Y (N × dL) hold the samples as rows; ``hidden_alpha`` ∈ [0, 1) is the
    leaky slope of the hidden layers (0 = ReLU); ``output`` is "leaky_relu" (same slope) or
    "identity"; W0[ℓ] has shape (d_ℓ, d_{ℓ−1}) and b0[ℓ] shape (d_ℓ,) (see ``init_weights``).
    ``options``: IalamOptions, dict or None. ``deadline``: a ``time.monotonic()`` value after
    which the run stops with "max_time" (as well as ``options.max_time``). Raises only on bad
    input; never because the method did not converge.
    """
    opts = resolve_ialam_options(options)
    X, Y, X_test, Y_test, W, b = validate_inputs(X, Y, hidden_alpha, output, W0, b0, X_test, Y_test, deadline)
    # overflow is detected below and reported as "numerical_error"; no warnings on the way
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        return _solve(X, Y, float(hidden_alpha), output, W, b, opts, X_test, Y_test, deadline)


def _solve(X, Y, hidden_alpha, output, W, b, opts, X_test, Y_test, deadline) -> IalamOutput:
    n_layers = len(W)
    beta = opts.per_layer("beta", n_layers)
    rho0 = opts.per_layer("rho0", n_layers)
    mult_step = opts.per_layer("multiplier_step", n_layers)
    gamma = opts.gamma if opts.gamma is not None else 2 * n_layers
    alphas = layer_alphas(n_layers, hidden_alpha, output)
    bias_lower = -opts.bias_bound if hidden_alpha == 0 else -np.inf

    t0, cpu0 = time.monotonic(), time.process_time()
    end = t0 + opts.max_time if deadline is None else min(t0 + opts.max_time, float(deadline))
    n = X.shape[0]
    rho = list(rho0)
    U, V = forward(X, W, b, alphas)
    fwd = (U, V)                                  # forward pass of the current weights
    Xi = [np.zeros_like(Ul) for Ul in U]
    first = FirstLayer(X)                         # layer 1's data and Gram matrix never change
    steps = [None] * n_layers
    inner_tol = opts.inner_tol
    viol_hist, history = [], []
    sweeps = wb_steps = wb_rejections = rho_raises = beta_raises = 0
    status, message = "max_iter", f"outer iteration budget of {opts.max_iter} reached"
    snapshot = None
    k = 0
    for k in range(1, opts.max_iter + 1):
        if opts.restart_states and k > 1:
            U, V = list(fwd[0]), list(fwd[1])      # (no step modifies arrays in place)
        C = state_violations(X, W, b, V, U, alphas, Z1=fwd[0][0])[2]
        al_prev = augmented_lagrangian(Y, W, V, U, C, Xi, rho, alphas, beta, opts.lambda_w, opts.lambda_v)
        timed_out = broken = False
        move = math.inf
        n_sweeps_k = wb_k = 0
        for j in range(opts.max_sweeps):
            if time.monotonic() > end:
                timed_out = True
                break
            snapshot = ([w.copy() for w in W], [v.copy() for v in b], [v.copy() for v in V],
                        [u.copy() for u in U], [x.copy() for x in Xi])
            W, b, info = weight_step(X, W, b, V, U, Xi, rho, lambda_w=opts.lambda_w, bias_lower=bias_lower,
                                     max_iter=opts.wb_max_iter, tol=opts.wb_tol, steps=steps, first=first,
                                     deadline=end)
            V, U, move_j, Z1 = state_step(X, Y, W, b, V, U, Xi, rho, beta, alphas, lambda_v=opts.lambda_v,
                                          tau1=opts.tau1, first=first)
            C = state_violations(X, W, b, V, U, alphas, Z1=Z1)[2]
            al = augmented_lagrangian(Y, W, V, U, C, Xi, rho, alphas, beta, opts.lambda_w, opts.lambda_v)
            if not (math.isfinite(al) and _finite(W + b + V + U)):
                broken = True
                break
            sweeps += 1
            n_sweeps_k += 1
            wb_k += info["wb_steps"]
            wb_rejections += info["wb_rejections"]
            move = float(max(move_j, info["wb_residual"]))
            if info["timed_out"] or time.monotonic() > end:
                timed_out = True
                break
            if j + 1 >= opts.min_sweeps and al_prev - al < inner_tol:
                break
            al_prev = al
        wb_steps += wb_k
        if broken:
            W, b, V, U, Xi = snapshot
            status, message = "numerical_error", f"non-finite values in outer iteration {k}; last finite iterate kept"
            break
        if n_sweeps_k == 0:                       # out of time before any work this iteration
            status, message = "max_time", f"wall-time budget reached after {k - 1} outer iterations"
            k -= 1
            break

        act, lin, C = state_violations(X, W, b, V, U, alphas, Z1=Z1)
        fwd = forward(X, W, b, alphas, Z1=Z1)
        viol = math.sqrt(sum(float(np.vdot(Cl, Cl)) for Cl in C))
        al = augmented_lagrangian(Y, W, V, U, C, Xi, rho, alphas, beta, opts.lambda_w, opts.lambda_v)
        obj = sum(objective_terms(Y, W, V, U, alphas, beta, opts.lambda_w, opts.lambda_v))
        Xi_new = [Xl + sl * rl * Cl for Xl, sl, rl, Cl in zip(Xi, mult_step, rho, C)]
        if not _finite(Xi_new):
            status = "numerical_error"
            message = f"non-finite multipliers in outer iteration {k}; last finite iterate kept"
            break
        Xi = Xi_new
        xi_norm = math.sqrt(sum(float(np.vdot(Xl, Xl)) for Xl in Xi))
        stat, kkt = kkt_residual(X, Y, W, b, fwd[0], fwd[1], Xi, beta, alphas, opts.lambda_w, opts.lambda_v,
                                 bias_lower)
        row = {"iteration": k, "time": time.monotonic() - t0, "cpu_time": time.process_time() - cpu0,
               "sweeps": n_sweeps_k, "wb_steps": wb_k, "complete": not timed_out, "aug_lagrangian": al,
               "objective": obj, "feas_activation": act, "feas_linear": lin, "feas_vi": act + lin,
               "violation": viol / math.sqrt(n), "stationarity": stat, **kkt, "inner_residual": move,
               "rho": max(rho), "beta": max(beta), "xi_norm": xi_norm}
        row.update(network_metrics(X, Y, W, b, alphas, opts.sparsity_tol, X_test, Y_test, out=fwd[1][-1]))
        history.append({key: row[key] for key in HISTORY_KEYS})
        if opts.verbose:
            print(f"iALAM {k:4d}  sweeps {n_sweeps_k:2d}  TrainErr {row['train_err']:.4e}  acc {row['train_acc']:.3f}"
                  f"  FeasVi {row['feas_vi']:.2e}  ρ {max(rho):.3g}  β {max(beta):.3g}"
                  f"  sparsity {row['col_sparsity']:.3f}  {row['time']:.1f}s")

        if row["violation"] <= opts.tol_feas and stat <= opts.tol_stat:
            status, message = "success", f"KKT tolerances met after {k} outer iterations"
            break
        if timed_out:
            status, message = "max_time", f"wall-time budget reached in outer iteration {k}"
            break
        # the liu rule: keep ρ for the first γ steps and while the violation keeps falling
        past = viol_hist[-gamma:]
        viol_hist.append(viol)
        if k > gamma and viol > opts.eta1 * max(past):
            if opts.rho_update == "authors":
                rho = [opts.eta2 * r for r in rho]
            else:                                 # slides: ρ/N ← max(η₂ρ/N, ‖ξ/N‖^{1+η₃}) per layer
                rho = [max(opts.eta2 * r, n * (math.sqrt(float(np.vdot(Xl, Xl))) / n) ** (1 + opts.eta3))
                       for r, Xl in zip(rho, Xi)]
            rho_raises += 1
            inner_tol /= opts.inner_tol_factor
        if k > 1 and act > opts.beta_ratio * lin:
            beta = [opts.beta_factor * bl for bl in beta]
            beta_raises += 1
        if max(r / r0 for r, r0 in zip(rho, rho0)) > opts.rho_stop_factor:
            if row["violation"] <= opts.acceptable_feas:
                status, message = "acceptable", (f"ρ exceeded {opts.rho_stop_factor:g}·ρ0 after {k} outer iterations"
                                                 f" with violation {row['violation']:.2e}")
            else:
                status, message = "stalled", (f"ρ exceeded {opts.rho_stop_factor:g}·ρ0 after {k} outer iterations"
                                              f" but the violation is still {row['violation']:.2e}")
            break

    final = network_metrics(X, Y, W, b, alphas, opts.sparsity_tol, X_test, Y_test)
    act, lin, _ = state_violations(X, W, b, V, U, alphas)
    stats = {"time": time.monotonic() - t0, "cpu_time": time.process_time() - cpu0, "wb_steps": wb_steps,
             "wb_rejections": wb_rejections, "rho_raises": rho_raises, "beta_raises": beta_raises, "rho": list(rho), "beta": list(beta),
             "gamma": gamma, "feas_activation": act, "feas_linear": lin, "feas_vi": act + lin, **final}
    return IalamOutput(W=W, b=b, V=V, U=U, history=history, status=status, message=message,
                       iterations=len(history), inner_iterations=sweeps, stats=stats)
