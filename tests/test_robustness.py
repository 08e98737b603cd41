"""The standing robustness test: a few hundred small random trainings (``benchmarks/robustness.py
--quick``) — every architecture, activation mix, data scale, formulation and registered solver —
must raise nothing, hold their time budgets, report statuses the returned point supports, and
repeat bit for bit."""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import robustness  # noqa: E402


def test_random_trainings_never_raise_overrun_contradict_or_vary():
    result = robustness.sweep(300, seed=11, quick=True, recheck=3)
    cases = [f"{kind} in training {i}: {what}\n  {spec}" for kind, i, spec, what in result["cases"]]
    assert not cases, "\n".join(cases)
    rows = result["rows"]
    assert sum(c["trainings"] for c in rows.values()) == 300
    # the generator reaches every family, and the determinism check compares a real share of runs
    assert {"ipopt", "alm", "backprop"} <= set(rows)
    assert sum(c["rechecked"] for c in rows.values()) >= 60
