"""The plots every experiment uses: fits, training curves, histograms of final losses,
Dolan–Moré performance profiles, Jacobian sparsity, confusion matrices.

Conventions, so that a plot reads at a glance: legends sit outside the data (right of the
axes); every axis is labelled, with its unit where it has one; iteration axes have integer
ticks; method and column names go through :func:`pretty` (no raw ``snake_case``);
:func:`remove_empty` deletes panels that received no data; on IPOPT's complementarity
homotopy the stages are marked, because the relaxed stages minimise a different objective
and the jump at the branch stage is not training getting worse. Every function draws on a
given (or new) Axes and returns it; :func:`save` writes the figure. The non-interactive Agg
backend is selected when no display is available, so experiments run headless.
"""
from __future__ import annotations

import os

import matplotlib

if not os.environ.get("DISPLAY") and not os.environ.get("MPLBACKEND"):
    matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

__all__ = ["pretty", "legend_outside", "integer_ticks", "remove_empty", "panel_grid", "plot_fit", "plot_history",
           "plot_training_curves", "plot_histogram", "plot_performance_profile", "plot_sparsity",
           "plot_confusion_matrix", "save"]

_NAMES = {
    "gd": "GD", "sgd": "SGD", "momentum": "momentum", "nesterov": "Nesterov", "adagrad": "Adagrad",
    "adadelta": "Adadelta", "rmsprop": "RMSProp", "adam": "Adam", "nadam": "Nadam", "ssa1": "SSA1", "ssa2": "SSA2",
    "lbfgs": "L-BFGS", "adam_lbfgs": "Adam → L-BFGS", "lm_backprop": "Levenberg–Marquardt (trainlm)",
    "ipopt": "IPOPT", "alm": "ALM", "ialam": "iALAM", "train_err": "TrainErr", "test_err": "TestErr",
    "feas_vi": "FeasVi", "col_sparsity": "column sparse ratio", "ms_ipopt": "IPOPT (multiple shooting)",
    "ms_ipopt_it40": "IPOPT, ≤ 40 iterations", "train_mse": "training MSE", "test_mse": "test MSE",
    "val_loss": "validation loss", "loss": "training loss", "objective": "objective", "grad_norm": "‖∇L_β‖∞",
    "h_norm": "‖h‖ (constraint violation)", "train_loss": "training MSE", "time_s": "wall time [s]",
    "iterations": "iterations", "iteration": "iteration", "epoch": "epoch", "time": "time [s]",
    "inf_pr": "primal infeasibility", "inf_du": "dual infeasibility", "lr": "learning rate",
}


def pretty(name) -> str:
    """A display label: known method and column names spelled out, underscores removed."""
    s = str(name)
    return _NAMES.get(s, s.replace("_", " "))


def _ax(ax, figsize=(6.5, 4)):
    return plt.subplots(figsize=figsize)[1] if ax is None else ax


def legend_outside(ax, **kw):
    """Legend to the right of the axes, off the data (nothing when there is nothing to label)."""
    handles, labels = ax.get_legend_handles_labels()
    if handles:
        ax.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0,
                  fontsize=kw.pop("fontsize", 8), frameon=False, **kw)
    return ax


def integer_ticks(ax, axis="x"):
    (ax.xaxis if axis == "x" else ax.yaxis).set_major_locator(MaxNLocator(integer=True))
    return ax


def _has_data(ax) -> bool:
    return bool(ax.lines or ax.patches or ax.collections or ax.images)


def remove_empty(axes) -> list:
    """Delete the panels that received no data; returns the kept ones."""
    kept = []
    for ax in np.ravel(axes):
        if _has_data(ax):
            kept.append(ax)
        else:
            ax.figure.delaxes(ax)
    return kept


def panel_grid(n: int, ncols: int = 3, panel=(4.2, 3.2)):
    """A figure with exactly ``n`` panels (rows of ``ncols``; the unused cells of the last row
    are removed) and constrained layout; returns (fig, list of axes)."""
    ncols = max(1, min(ncols, n))
    nrows = max(1, -(-n // ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(panel[0] * ncols, panel[1] * nrows), squeeze=False,
                             layout="constrained")
    axes = list(axes.ravel())
    for ax in axes[n:]:
        fig.delaxes(ax)
    return fig, axes[:n]


def _decades(ax, lo, hi):
    """Log x-axis limits on whole decades, labels on the decades only (no crowded minor labels)."""
    from matplotlib.ticker import LogLocator, NullFormatter
    ax.set_xlim(10.0 ** np.floor(np.log10(lo)), 10.0 ** np.ceil(np.log10(hi) + 1e-12))
    ax.xaxis.set_major_locator(LogLocator(base=10))
    ax.xaxis.set_minor_formatter(NullFormatter())


def plot_fit(network, X_train, y_train, X_test=None, y_test=None, truth=None, ax=None, label="network",
             grid=None):
    """A 1-input network's output on a fine grid with the data (and the noise-free truth)."""
    ax = _ax(ax)
    lo = min(X_train.min(), X_test.min() if X_test is not None else np.inf)
    hi = max(X_train.max(), X_test.max() if X_test is not None else -np.inf)
    xs = np.linspace(lo, hi, 400).reshape(-1, 1) if grid is None else grid
    if truth is not None:
        ax.plot(xs, truth(xs), "b-", lw=1.5, label="truth (noise-free)")
    ax.plot(xs, network.predict(xs), "r-", lw=1.5, label=pretty(label))
    ax.plot(X_train, y_train, "k+", ms=8, label="training data")
    if X_test is not None:
        ax.plot(X_test, y_test, "rx", ms=7, label="test data")
    ax.set_xlabel("input x")
    ax.set_ylabel("output y")
    return legend_outside(ax)


def _stage_marks(ax, history, xs, stages):
    st = history[stages]
    eps = history["epsilon"] if "epsilon" in history else None
    starts = [0] + [i for i in range(1, len(st)) if st[i] != st[i - 1]]
    for n, i in enumerate(starts):
        ax.axvline(xs[i], color="0.6", ls=":", lw=1)
        e = None if eps is None or eps[i] is None else float(eps[i])
        text = f"stage {n}" if e is None or not np.isfinite(e) else ("branch NLP" if e == 0 else f"ε={e:.0e}")
        ax.annotate(text, (xs[i], 1.0), xycoords=("data", "axes fraction"), xytext=(2, -10),
                    textcoords="offset points", fontsize=7, color="0.3")


def plot_history(history, key="objective", ax=None, x="iteration", label=None, logy=True, stages="stage"):
    """One history column against iterations (or another column, e.g. ``x="time"``). When the
    history has a ``stages`` column (IPOPT's complementarity homotopy), its boundaries are
    marked: the relaxed stages' objective is not the training loss, only the last stage's is."""
    ax = _ax(ax)
    vals = np.asarray(history[key], float)
    xs = np.arange(len(vals)) if x == "iteration" else np.asarray(history[x], float)
    (ax.semilogy if logy else ax.plot)(xs, vals, label=pretty(label or key))
    if stages in history and len(vals):
        _stage_marks(ax, history, xs, stages)
    ax.set_xlabel(pretty(x))
    ax.set_ylabel(pretty(key))
    if x in ("iteration", "epoch"):
        integer_ticks(ax)
    ax.grid(True, which="both", alpha=0.3)
    return ax


def plot_training_curves(curves: dict, ax=None, xlabel="iteration", ylabel="training loss", logy=True, styles=None,
                         legend=True):
    """Several curves on one axes: ``curves`` maps a label to the values per iteration, or to
    ``(x, values)``. Iteration axes get integer ticks; the legend sits off the data."""
    ax = _ax(ax)
    for i, (label, c) in enumerate(curves.items()):
        xs, ys = (c if isinstance(c, tuple) else (np.arange(len(c)), c))
        kw = (styles or {}).get(label, {})
        (ax.semilogy if logy else ax.plot)(np.asarray(xs, float), np.asarray(ys, float), label=pretty(label), **kw)
    ax.set_xlabel(pretty(xlabel))
    ax.set_ylabel(pretty(ylabel))
    if xlabel in ("iteration", "epoch", "outer iteration", "step") or "iteration" in xlabel:
        integer_ticks(ax)
    ax.grid(True, which="both", alpha=0.3)
    return legend_outside(ax) if legend else ax


def plot_histogram(values, ax=None, bins=25, log=True, threshold=None, xlabel="final training MSE",
                   threshold_label=None, legend=True):
    """Histogram of final losses, one layer per method (``values``: an array, or a dict
    label → array). Bins are shared by all methods and log-spaced by default (the
    distributions are bimodal over decades); ``threshold`` draws the convergence line."""
    ax = _ax(ax)
    groups = values if isinstance(values, dict) else {"runs": values}
    clean = {}
    for k, v in groups.items():
        v = np.asarray(v, float)
        clean[k] = v[np.isfinite(v) & (v > 0)] if log else v[np.isfinite(v)]
    allv = np.concatenate([v for v in clean.values() if v.size] or [np.array([])])
    if allv.size:
        lo, hi = allv.min(), allv.max()
        if log:
            edges = np.logspace(np.log10(lo), np.log10(hi) + 1e-9 if hi > lo else np.log10(lo) + 1, bins + 1)
        else:
            edges = np.linspace(lo, hi if hi > lo else lo + 1, bins + 1)
        for k, v in clean.items():
            if v.size:
                ax.hist(v, bins=edges, alpha=0.55, label=pretty(k) if isinstance(values, dict) else None)
        if log:
            ax.set_xscale("log")
            _decades(ax, min(lo, threshold or lo), max(hi, threshold or hi))
    if threshold is not None and allv.size:
        ax.axvline(threshold, color="k", ls="--", lw=1, label=threshold_label or f"threshold {threshold:g}")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("runs")
    integer_ticks(ax, "y")
    return legend_outside(ax) if legend else ax


def plot_performance_profile(costs: dict, ax=None, tau_max=None, metric="cost", title=None, legend=True):
    """Dolan–Moré profile against log₂ τ: for each method the share of problems it solves
    within a factor τ of the best method (``costs``: method → array over problems, inf = not
    solved; see :mod:`nlpnet.analysis`)."""
    from .analysis import performance_profile
    ax = _ax(ax, figsize=(7.5, 4.5))
    taus, rho = performance_profile(costs, tau_max)
    styles = ("-", "--", ":", "-.")
    colors = plt.get_cmap("tab20").colors
    for i, (name, r) in enumerate(rho.items()):
        ax.step(np.log2(taus), r, where="post", label=pretty(name), ls=styles[i % 4],
                color=colors[(2 * i) % 20 if i < 10 else (2 * i + 1) % 20])
    ax.set_xlabel(f"log₂ τ  (τ = {metric} / best {metric} on the problem)")
    ax.set_ylabel("share of problems within τ of the best")
    ax.set_xlim(0, np.log2(taus[-1]))
    ax.set_ylim(0, 1.02)
    if title:
        ax.set_title(title)
    ax.grid(True, alpha=0.3)
    return legend_outside(ax) if legend else ax


def plot_sparsity(sparsity, ax=None, title=None, markersize=3):
    """Spy plot of a ``casadi.Sparsity`` (or a 2-D array's nonzeros)."""
    ax = _ax(ax)
    if hasattr(sparsity, "get_triplet"):
        rows, cols = sparsity.get_triplet()
        shape = sparsity.shape
    else:
        rows, cols = np.nonzero(np.asarray(sparsity))
        shape = np.shape(sparsity)
    ax.plot(cols, rows, "s", ms=markersize, color="k")
    ax.set_xlim(-0.5, shape[1] - 0.5)
    ax.set_ylim(shape[0] - 0.5, -0.5)
    ax.set_aspect("equal")
    ax.set_xlabel("column (variable)")
    ax.set_ylabel("row (residual or constraint)")
    integer_ticks(ax)
    integer_ticks(ax, "y")
    if title:
        ax.set_title(title)
    return ax



def plot_confusion_matrix(cm, ax=None, labels=None, normalize=False):
    """A confusion matrix (rows = true class, columns = predicted class, as
    :func:`nlpnet.metrics.confusion_matrix` returns it) as a heat map with the count in every
    cell and a colour bar. ``normalize=True`` colours and prints each row's shares (a true
    class's samples sum to 1; an empty row stays 0), the recall per class on the diagonal.
    ``labels`` names the classes (default 0..k−1)."""
    C = np.asarray(cm)
    if C.ndim != 2 or C.shape[0] != C.shape[1] or C.shape[0] == 0:
        raise ValueError(f"cm: expected a square (k, k) matrix of counts, got shape {C.shape}")
    if C.dtype.kind not in "biuf" or not np.all(np.isfinite(C)) or np.any(C < 0):
        raise ValueError("cm: counts must be finite numbers ≥ 0")
    if not isinstance(normalize, (bool, np.bool_)):
        raise TypeError(f"normalize: expected True or False, got {normalize!r}")
    k = C.shape[0]
    names = [str(c) for c in range(k)] if labels is None else [str(n) for n in labels]
    if len(names) != k:
        raise ValueError(f"labels: gives {len(names)} name(s) for {k} classes")
    C = C.astype(float)
    if normalize:
        rows = C.sum(axis=1, keepdims=True)
        C = np.divide(C, rows, out=np.zeros_like(C), where=rows > 0)
    ax = ax if ax is not None else plt.subplots(figsize=(1.0 + 0.5 * max(k, 4), 0.5 * max(k, 4)))[1]
    image = ax.imshow(C, cmap="Blues", vmin=0, vmax=1.0 if normalize else max(C.max(), 1.0))
    ax.figure.colorbar(image, ax=ax, label="share of the true class" if normalize else "samples")
    threshold = 0.5 * (1.0 if normalize else max(C.max(), 1.0))  # white text on dark cells
    for t in range(k):
        for p in range(k):
            text = f"{C[t, p]:.2f}" if normalize else f"{C[t, p]:g}"
            ax.text(p, t, text, ha="center", va="center", fontsize=8 if k <= 10 else 6,
                    color="white" if C[t, p] > threshold else "black")
    ax.set_xticks(range(k), names)
    ax.set_yticks(range(k), names)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    return ax

def save(ax_or_fig, path) -> None:
    """Write the figure (legends outside the axes included) and close it."""
    fig = ax_or_fig.figure if hasattr(ax_or_fig, "figure") and not hasattr(ax_or_fig, "savefig") else ax_or_fig
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)
