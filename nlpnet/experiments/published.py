"""What the sources published, in one place: the protocols several experiments share, the
published numbers, and the ``table.md`` writer that sets ours beside theirs.

Sources (``shared/seeds``): the thesis (Tables 2.1, 2.2, 4.1–4.3) and the lecture on training
and optimisation (Adam vs Nadam, Adam then L-BFGS, learning-rate schedules, collapse of deep
narrow ReLU nets). Published numbers are stored as the sources print them, with the
corrections the DESIGN notes document (e.g. the thesis's multiple-shooting training errors
are sums of squares over 16 points, so their MSE is a sixteenth).

This module is also the one place where experiments import solver internals that are not
part of ``nlpnet``'s top-level API (the optimizer and schedule modules), so a move of those
modules changes one line here.
"""
from __future__ import annotations

import math
from pathlib import Path

from ..solvers.backprop import optimizers, schedules  # noqa: F401  - the experiments' one import of these

__all__ = ["optimizers", "schedules", "CONVERGED_MSE", "FIT_MSE", "TABLE_4_1_CONFIGS", "THESIS_TABLE_2_1",
           "THESIS_TABLE_2_2", "THESIS_TABLE_4_1", "PYTORCH_ADAM_TABLE_4_1", "THESIS_SANTA_FE",
           "THESIS_SANTA_FE_JACOBIANS", "LECTURE", "IALAM_REFERENCE", "fmt", "beside", "markdown_table", "write_report"]

# --- protocols shared by several experiments ---------------------------------------------

CONVERGED_MSE = 0.25   # Table 4.1: converged = final training MSE < 0.25 (y = 0 gives ≈ 0.55)
FIT_MSE = 0.03         # chapter 2: a run "fits" when its training MSE is below this

# Table 4.1 rows: config → (activation, sizes, N); x = linspace(0, π, N), y = sin(x²) + N(0, 0.1²)
TABLE_4_1_CONFIGS = {
    "tanh-N10": ("tanh", [1, 8, 8, 1], 10), "tanh-N20": ("tanh", [1, 8, 8, 1], 20),
    "tanh-N40": ("tanh", [1, 8, 8, 1], 40), "relu-N20": ("relu", [1, 16, 16, 1], 20),
    "relu-N40": ("relu", [1, 16, 16, 1], 40), "relu-N80": ("relu", [1, 16, 16, 1], 80),
}

# --- published numbers ---------------------------------------------------------------------

# thesis Tables 2.1 / 2.2; "best"/"avg" training errors of MS are SSE over 16 points
THESIS_TABLE_2_1 = {
    "gd": {"converged": "20/20", "best": 0.0108, "avg": 0.0299, "test": 0.0605, "time": 1.577},
    "ms": {"converged": "6/20", "best_sse": 0.0537, "avg_sse": 0.2350, "test": 0.2724, "time": 23.82},
}
THESIS_TABLE_2_2 = {
    "gd": {"converged": "20/20", "best": 0.0041, "avg": 0.0274, "test": 0.0489, "time": 1.480},
    "ms": {"converged": "16/20", "best_sse": 0.0348, "avg_sse": 0.2111, "test": 0.2696, "time": 115.8},
}

# thesis Table 4.1: method → config → (avg MSE over converged, best MSE, time s, epochs, converged of 20)
THESIS_TABLE_4_1 = {
    "alm": {"tanh-N10": (2.10e-1, 1.59e-1, 1.85, 6.38, 16), "tanh-N20": (5.87e-2, 7.69e-3, 8.06, 7.50, 20),
            "tanh-N40": (1.61e-2, 7.90e-3, 11.6, 6.90, 20), "relu-N20": (1.63e-1, 1.08e-2, 4.41, 5.47, 15),
            "relu-N40": (9.89e-2, 1.37e-2, 8.09, 5.11, 18), "relu-N80": (1.02e-1, 1.03e-2, 25.3, 4.21, 14)},
    "adam": {"tanh-N10": (2.09e-2, 1.20e-11, 18.7, 3790, 17), "tanh-N20": (1.25e-2, 9.84e-4, 19.8, 3960, 17),
             "tanh-N40": (2.56e-2, 7.58e-3, 19.2, 3920, 15), "relu-N20": (1.22e-1, 3.15e-3, 30.3, 3500, 5),
             "relu-N40": (6.28e-2, 8.85e-3, 22.4, 2690, 5), "relu-N80": (7.61e-2, 7.64e-3, 29.9, 3150, 4)},
}
# PyTorch Adam under the Table 4.1 protocol (issue 4): converged of 20
PYTORCH_ADAM_TABLE_4_1 = {"tanh-N10": 17, "tanh-N20": 17, "tanh-N40": 17, "relu-N20": 3, "relu-N40": 5,
                          "relu-N80": 4}

# thesis Tables 4.2/4.3: train MSE avg/best, prediction MSE avg/best, epochs, time (s)
THESIS_SANTA_FE = {"alm": (3.712e-4, 2.779e-4, 1.070, 0.829, 5, 1201.0),
                   "adam": (2.517e-4, 2.329e-4, 0.2016, 0.0910, 2353, 20.9)}
THESIS_SANTA_FE_JACOBIANS = "42.25, 12.75, 17.0, 3.0, 2.0"

# the lecture on training and optimisation (one run each; the slides give no seeds)
LECTURE = {
    "adam_vs_nadam": {"adam": {"error": 0.281, "time": 4.307}, "nadam": {"error": 0.394, "time": 4.224}},
    "exponential_end": (-0.793612, -0.070806),   # after 2500 steps
    "collapse_fraction": 0.93,                   # "~93 %" collapse to the mean, 10-layer width-2 ReLU on |x|
}

# seed 002: the authors' own iALAM code (MATLAB/MEX under GNU Octave on this machine, one run, N = 1000 / 200
# class-balanced binarised MNIST digits, ReLU hidden and output layers, W = 0.01·randn; issue 12)
IALAM_REFERENCE = {
    "784-200-10": "TrainErr 0.0185, train acc 1.000, test acc 0.765, sparsity 0.224 (blank pixels only), 503 s CPU",
    "784-100-50-10": "diverged: violation ~1e8, accuracy 0.11, 112 s CPU",
}

# --- the table.md writer ----------------------------------------------------------------------


def fmt(v, spec: str = ".3g") -> str:
    """A number for a table ("–" for missing or non-finite)."""
    if v is None or v == "":
        return "–"
    if isinstance(v, str):
        return v
    try:
        f = float(v)
    except (TypeError, ValueError):
        return str(v)
    if not math.isfinite(f):
        return "–" if math.isnan(f) else ("∞" if f > 0 else "−∞")
    if spec == "d":
        return str(int(round(f)))
    return format(f, spec)


def beside(ours, published, spec: str = ".3g") -> str:
    """"ours (published)" — the convention of every table.md; "ours" alone without a published value."""
    if published is None:
        return fmt(ours, spec)
    return f"{fmt(ours, spec)} ({fmt(published, spec)})"


def markdown_table(header, rows) -> str:
    """A GitHub-flavoured Markdown table; cells are used as given (see :func:`fmt`)."""
    header = [str(h) for h in header]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for r in rows:
        cells = [str(c).replace("|", "\\|").replace("\n", " ") for c in r]
        if len(cells) != len(header):
            raise ValueError(f"rows: a row has {len(cells)} cells for {len(header)} columns")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def write_report(out, title: str, command: str, blocks) -> str:
    """Write ``out/table.md``: a title, the command that reproduces it, then ``blocks``
    (Markdown strings: tables from :func:`markdown_table`, paragraphs). Returns the text."""
    parts = [f"# {title}", f"Reproduce: `{command}`"] + [b.strip() for b in blocks if b and b.strip()]
    text = "\n\n".join(parts) + "\n"
    Path(out, "table.md").write_text(text)
    return text
