"""The README's "In Python" example runs as written (a doc test of the quick start)."""
from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import numpy as np

README = Path(__file__).resolve().parents[1] / "README.md"


def python_block(section: str) -> str:
    """The first ```python block after the heading ``section``."""
    text = README.read_text(encoding="utf-8")
    start = text.index(f"## {section}")
    match = re.search(r"```python\n(.*?)```", text[start:], flags=re.S)
    assert match, f"no python block under '## {section}'"
    return match.group(1)


def test_readme_in_python_example_runs_as_written(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)                      # it saves net.npz in the working directory
    code = python_block("In Python")
    ns: dict = {}
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, str(README), "exec"), ns)
    res = ns["res"]
    # what a newcomer reads off the printed line: a converged, accurate fit that honours the bound
    assert res.success, res.message
    assert res.train_loss < 0.01 and res.val_loss < 0.05
    assert res.network.predict(ns["grid"]).max() <= 0.05 + 1e-6
    assert str(res.status) in out.getvalue() and (tmp_path / "net.npz").exists()
    np.testing.assert_array_equal(ns["nlpnet"].Network.load("net.npz").params, res.network.params)
