"""Plots used by the experiments: fits, training curves, Jacobian sparsity, histograms,
performance profiles, confusion matrices. Every function draws on a given (or new) matplotlib Axes and returns
it; saving is the caller's business. The non-interactive Agg backend is selected when no
display is available, so experiments run headless."""
from __future__ import annotations

import os

import matplotlib

if not os.environ.get("DISPLAY") and not os.environ.get("MPLBACKEND"):
    matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

__all__ = ["plot_fit", "plot_history", "plot_sparsity", "plot_histogram", "plot_performance_profile",
           "plot_confusion_matrix", "save"]


def _ax(ax):
    return plt.subplots(figsize=(6, 4))[1] if ax is None else ax


def plot_fit(network, X_train, y_train, X_test=None, y_test=None, truth=None, ax=None, label="network",
             grid=None):
    """A 1-input network's output on a fine grid with the data (and the noise-free truth)."""
    ax = _ax(ax)
    lo = min(X_train.min(), X_test.min() if X_test is not None else np.inf)
    hi = max(X_train.max(), X_test.max() if X_test is not None else -np.inf)
    xs = np.linspace(lo, hi, 400).reshape(-1, 1) if grid is None else grid
    if truth is not None:
        ax.plot(xs, truth(xs), "b-", lw=1.5, label="truth")
    ax.plot(xs, network.predict(xs), "r-", lw=1.5, label=label)
    ax.plot(X_train, y_train, "k+", ms=8, label="training data")
    if X_test is not None:
        ax.plot(X_test, y_test, "rx", ms=7, label="test data")
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.legend(fontsize=8)
    return ax


def plot_history(history, key="objective", ax=None, x="iteration", label=None, logy=True, stages="stage"):
    """One history column against iterations (or ``x="time"``). When the history has a
    ``stages`` column (IPOPT's complementarity homotopy), its boundaries are marked: the
    relaxed stages' objective is not the training loss, only the last stage's is."""
    ax = _ax(ax)
    vals = history[key]
    xs = np.arange(len(vals)) if x == "iteration" else history[x]
    (ax.semilogy if logy else ax.plot)(xs, vals, label=label or key)
    if stages in history and len(vals):
        st = history[stages]
        eps = history["epsilon"] if "epsilon" in history else None
        starts = [0] + [i for i in range(1, len(st)) if st[i] != st[i - 1]]
        for n, i in enumerate(starts):
            ax.axvline(xs[i], color="0.6", ls=":", lw=1)
            e = None if eps is None or eps[i] is None else float(eps[i])
            text = f"stage {n}" if e is None or not np.isfinite(e) else ("branch NLP" if e == 0 else f"ε={e:.0e}")
            ax.annotate(text, (xs[i], 1.0), xycoords=("data", "axes fraction"), xytext=(2, -10),
                        textcoords="offset points", fontsize=7, color="0.3")
    ax.set_xlabel(x)
    ax.set_ylabel(key)
    ax.grid(True, which="both", alpha=0.3)
    return ax


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
    if title:
        ax.set_title(title)
    return ax


def plot_histogram(values, ax=None, bins=30, label=None, log=True):
    """Histogram of final losses (log-spaced bins by default: the distributions are bimodal)."""
    ax = _ax(ax)
    v = np.asarray(values, float)
    v = v[np.isfinite(v) & (v > 0)] if log else v[np.isfinite(v)]
    if v.size:
        edges = np.logspace(np.log10(v.min()), np.log10(v.max()) + 1e-9, bins) if log else bins
        ax.hist(v, bins=edges, alpha=0.6, label=label)
        if log:
            ax.set_xscale("log")
    ax.set_xlabel("final training MSE")
    ax.set_ylabel("runs")
    return ax


def plot_performance_profile(costs: dict, ax=None, tau_max=None):
    """Dolan–Moré profile: for each method the share of problems solved within a factor τ of
    the best method. ``costs`` maps method → array over problems (inf = not solved)."""
    ax = _ax(ax)
    names = list(costs)
    C = np.array([np.asarray(costs[n], float) for n in names])
    best = np.min(C, axis=0)
    ok = np.isfinite(best) & (best > 0)
    R = C[:, ok] / best[ok]
    finite = R[np.isfinite(R)]
    top = tau_max or (max(2.0, float(finite.max()) * 1.1) if finite.size else 2.0)
    taus = np.logspace(0, np.log10(top), 200)
    for name, r in zip(names, R):
        ax.step(taus, [(r <= t).mean() for t in taus], where="post", label=name)
    ax.set_xscale("log")
    ax.set_xlabel("τ (cost relative to the best)")
    ax.set_ylabel("share of problems")
    ax.set_ylim(0, 1.02)
    ax.legend(fontsize=8)
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
    fig = ax_or_fig.figure if hasattr(ax_or_fig, "figure") and not hasattr(ax_or_fig, "savefig") else ax_or_fig
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
