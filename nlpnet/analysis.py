"""Statistics shared by every experiment: summaries of final losses, success rates with
confidence intervals, and Dolan–Moré performance profiles.

**Performance profile** (Dolan & Moré 2002). For methods s and problems p with a cost
c_{p,s} > 0 (time, final loss, iterations, …; ``inf`` for a failure), the performance ratio
is r_{p,s} = c_{p,s} / min_s' c_{p,s'} and the profile of method s is

    ρ_s(τ) = |{p : r_{p,s} ≤ τ}| / |P|,   τ ≥ 1,

the share of problems that s solves within a factor τ of the best method on each. ρ_s(1)
is the share on which s is (one of) the best; ρ_s(τ → ∞) the share it solves at all. A
problem no method solves counts as unsolved for every method. When the best cost on a
problem is exactly 0, methods with cost 0 get r = 1 and all others r = ∞. Profiles are
drawn against log₂ τ (:func:`nlpnet.plotting.plot_performance_profile`).

**Wilson score interval** for k successes in n runs, z the normal quantile:
centre (p + z²/2n)/(1 + z²/n), half-width z √(p(1−p)/n + z²/4n²)/(1 + z²/n), p = k/n.
"""
from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass

import numpy as np

__all__ = ["as_float", "group_rows", "Summary", "summarize", "wilson", "performance_ratios",
           "performance_profile", "diff_runs"]


def as_float(v) -> float:
    """A CSV cell as a float: numbers as they are, "" / None / text → NaN."""
    if isinstance(v, bool):
        return float(v)
    if isinstance(v, (int, float, np.floating, np.integer)):
        return float(v)
    try:
        return float(v)
    except (TypeError, ValueError):
        return math.nan


def group_rows(rows, *keys) -> dict:
    """Rows grouped by the values of ``keys``, groups in first-seen order."""
    out = defaultdict(list)
    for r in rows:
        out[tuple(r.get(k) for k in keys) if len(keys) > 1 else r.get(keys[0])].append(r)
    return dict(out)


@dataclass(frozen=True)
class Summary:
    """One group of runs. ``converged`` counts runs whose value is below the threshold (all
    finite values when there is none); averages over converged runs, best over all."""

    runs: int
    converged: int
    mean_converged: float
    best: float
    median: float
    mean: float
    median_time: float
    mean_time: float
    mean_iterations_converged: float
    failed: int


def _mean(a) -> float:
    a = np.asarray(a, float)
    return float(a.mean()) if a.size else math.nan


def summarize(rows, value: str = "train_mse", threshold: float | None = None) -> Summary:
    """Summary of ``value`` over ``rows``; ``threshold``: converged = value < threshold."""
    v = np.array([as_float(r.get(value)) for r in rows], float)
    t = np.array([as_float(r.get("time_s")) for r in rows], float)
    it = np.array([as_float(r.get("iterations")) for r in rows], float)
    finite = np.isfinite(v)
    ok = finite & (v < threshold) if threshold is not None else finite
    return Summary(
        runs=len(rows), converged=int(ok.sum()), mean_converged=_mean(v[ok]),
        best=float(v[finite].min()) if finite.any() else math.nan,
        median=float(np.median(v[finite])) if finite.any() else math.nan, mean=_mean(v[finite]),
        median_time=float(np.nanmedian(t)) if np.isfinite(t).any() else math.nan,
        mean_time=_mean(t[np.isfinite(t)]), mean_iterations_converged=_mean(it[ok & np.isfinite(it)]),
        failed=sum(1 for r in rows if r.get("status") == "failed"))


def wilson(k: int, n: int, z: float = 1.959964) -> tuple[float, float]:
    """95 % (by default) Wilson score interval of the proportion k/n; (nan, nan) for n = 0."""
    if n == 0:
        return (math.nan, math.nan)
    p = k / n
    d = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / d
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return max(0.0, centre - half), min(1.0, centre + half)


def performance_ratios(costs: dict) -> tuple[list[str], np.ndarray]:
    """Method names and the (methods × problems) matrix of performance ratios r_{p,s}."""
    if not costs:
        raise ValueError("costs: need at least one method")
    names = list(costs)
    arrays = [np.asarray(costs[n], float).ravel() for n in names]
    if len({a.size for a in arrays}) != 1:
        raise ValueError("costs: every method needs one cost per problem (arrays of equal length), got lengths "
                         f"{ {n: a.size for n, a in zip(names, arrays)} }")
    C = np.array(arrays, float)
    if np.any(C < 0) or np.isnan(C).any():
        raise ValueError("costs: costs must be ≥ 0 (use inf for a failure, not NaN)")
    best = C.min(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        R = C / best
    R = np.where(best > 0, R, np.where(C == 0, 1.0, np.inf))
    R[:, ~np.isfinite(best)] = np.inf
    return names, R


def performance_profile(costs: dict, tau_max: float | None = None):
    """(τ, {method: ρ_s(τ)}): the exact step functions, evaluated at τ = 1, at every finite
    performance ratio up to ``tau_max`` and at ``tau_max`` (default: the largest finite ratio
    × 1.05, at least 2); draw them as steps that hold each value until the next τ."""
    names, R = performance_ratios(costs)
    finite = R[np.isfinite(R)]
    top = tau_max or max(2.0, float(finite.max()) * 1.05 if finite.size else 2.0)
    taus = np.unique(np.concatenate([[1.0, top], finite[finite <= top]]))
    n = max(R.shape[1], 1)
    return taus, {name: (r[None, :] <= taus[:, None]).sum(axis=1) / n for name, r in zip(names, R)}


def diff_runs(a, b, ignore=("time_s",)) -> list[str]:
    """Differences between two results files (paths or row lists) up to row order and the
    ``ignore`` columns: runs present in only one, and every cell that differs. An empty list
    means the same runs with the same numbers (e.g. one sweep on two backends)."""
    from .runner import read_rows, run_key
    ra = {run_key(r): r for r in (read_rows(a) if not isinstance(a, list) else a)}
    rb = {run_key(r): r for r in (read_rows(b) if not isinstance(b, list) else b)}
    out = [f"{k}: only in the first" for k in ra.keys() - rb.keys()]
    out += [f"{k}: only in the second" for k in rb.keys() - ra.keys()]
    for k in sorted(ra.keys() & rb.keys()):
        for c in sorted((set(ra[k]) | set(rb[k])) - set(ignore)):
            x, y = ra[k].get(c, ""), rb[k].get(c, "")
            same = x == y or (isinstance(x, float) and isinstance(y, float) and math.isnan(x) and math.isnan(y))
            if not same:
                out.append(f"{k} {c}: {x!r} != {y!r}")
    return out
