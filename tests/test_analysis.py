"""Shared analysis and plots: Dolan–Moré profiles, Wilson intervals, summaries, and the plot
conventions (log₂ τ axis, legends off the data, integer iteration ticks, no underscores,
empty panels removed, IPOPT's homotopy stages marked)."""
import math

import numpy as np
import pytest

from nlpnet.analysis import performance_profile, performance_ratios, summarize, wilson
from nlpnet.plotting import (panel_grid, plot_histogram, plot_history, plot_performance_profile,
                             plot_training_curves, pretty, remove_empty)
from nlpnet.result import History


def test_performance_ratios_and_profile_by_hand():
    costs = {"A": [1.0, 2.0, np.inf, 4.0], "B": [2.0, 1.0, 3.0, np.inf]}
    names, R = performance_ratios(costs)
    assert names == ["A", "B"]
    np.testing.assert_array_equal(R, [[1, 2, np.inf, 1], [2, 1, 1, np.inf]])
    taus, rho = performance_profile(costs, tau_max=4)
    at = lambda m, t: rho[m][np.searchsorted(taus, t, side="right") - 1]  # noqa: E731
    assert at("A", 1.0) == 0.5 and at("A", 2.0) == 0.75 and at("A", 4.0) == 0.75
    assert at("B", 1.0) == 0.5 and at("B", 2.0) == 0.75
    assert taus[0] == 1.0 and math.isclose(taus[-1], 4.0)


def test_profile_edge_cases_zero_cost_unsolved_problem_and_bad_input():
    _, R = performance_ratios({"A": [0.0, np.inf], "B": [1e-9, np.inf]})
    np.testing.assert_array_equal(R, [[1, np.inf], [np.inf, np.inf]])  # nobody solves problem 2
    with pytest.raises(ValueError, match="costs: costs must be ≥ 0"):
        performance_ratios({"A": [np.nan]})
    with pytest.raises(ValueError, match="one cost per problem"):
        performance_ratios({"A": [1.0, 2.0], "B": [1.0]})


def test_wilson_interval_matches_the_documented_collapse_numbers():
    lo, hi = wilson(925, 1000)
    assert (round(lo, 3), round(hi, 3)) == (0.907, 0.940)
    assert wilson(0, 20)[0] == 0.0 and wilson(20, 20)[1] == 1.0
    assert all(math.isnan(v) for v in wilson(0, 0))


def test_summary_counts_converged_runs_and_averages_over_them():
    rows = [{"train_mse": v, "time_s": t, "iterations": i, "status": s}
            for v, t, i, s in [(0.1, 1.0, 10, "success"), (0.2, 3.0, 20, "max_iter"), (0.5, 2.0, 5, "stalled"),
                               ("", 9.0, 0, "failed")]]
    s = summarize(rows, "train_mse", threshold=0.25)
    assert (s.runs, s.converged, s.failed) == (4, 2, 1)
    assert math.isclose(s.mean_converged, 0.15) and s.best == 0.1 and s.median_time == 2.5
    assert s.mean_iterations_converged == 15


def test_plots_follow_the_conventions():
    ax = plot_performance_profile({"adam_lbfgs": [1.0, 2.0], "lm_backprop": [2.0, 1.0]}, metric="time")
    assert "log₂ τ" in ax.get_xlabel() and ax.get_xlim()[0] == 0
    legend = ax.get_legend()
    assert [t.get_text() for t in legend.get_texts()] == ["Adam → L-BFGS", "Levenberg–Marquardt (trainlm)"]
    assert legend.get_bbox_to_anchor().transformed(ax.transAxes.inverted()).x0 > 1.0  # right of the axes
    assert "_" not in pretty("ms_ipopt_it40") and pretty("train_mse") == "training MSE"
    ax = plot_training_curves({"adam": [3.0, 2.0, 1.5, 1.2]}, xlabel="epoch")
    assert ax.xaxis.get_major_locator()._integer and ax.get_xlabel() == "epoch"
    ax = plot_histogram({"alm": [1e-3, 2e-2], "adam": [0.3, 0.4]}, threshold=0.25)
    assert ax.get_xscale() == "log" and ax.get_ylabel() == "runs" and ax.get_xlabel() == "final training MSE"
    fig, axes = panel_grid(4, 3)
    assert len(axes) == 4 and len(fig.axes) == 4
    axes[0].plot([0, 1], [0, 1])
    assert remove_empty(axes) == [axes[0]] and fig.axes == [axes[0]]


def test_ipopt_homotopy_stages_are_annotated():
    h = History()
    for i, (stage, eps) in enumerate([(0, 1e-2)] * 3 + [(1, 1e-4)] * 2 + [(2, 0.0)] * 2):
        h.append(iteration=i, objective=1.0 / (i + 1), stage=stage, epsilon=eps)
    ax = plot_history(h, "objective")
    texts = [t.get_text() for t in ax.texts]
    assert texts == ["ε=1e-02", "ε=1e-04", "branch NLP"]
    assert ax.get_xlabel() == "iteration" and ax.xaxis.get_major_locator()._integer


def test_diff_runs_ignores_order_and_timing_and_reports_the_rest(tmp_path):
    from nlpnet.analysis import diff_runs
    a = [{"config": "c", "method": "m", "seed": s, "status": "success", "train_mse": s / 3, "time_s": 1.0 + s,
          "violation": float("nan")} for s in range(3)]
    b = [dict(r, time_s=9.0) for r in reversed(a)]
    assert diff_runs(a, b) == []
    b[0]["train_mse"] = 0.5
    assert diff_runs(a, b[:2]) == ["('c', 'm', '0'): only in the first", "('c', 'm', '2') train_mse: 0.6666666666666666 != 0.5"]
