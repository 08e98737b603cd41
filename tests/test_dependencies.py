"""Every third-party module nlpnet imports at module level is a declared run-time dependency.

CI installs ``pip install .`` (no extras) and runs ``nlpnet train``: a module imported at the
top of any nlpnet file but missing from ``[project] dependencies`` breaks that first command on
a fresh machine, while every developer's venv (which has the extras) hides it.
"""
from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# import name -> distribution name, where they differ
DISTRIBUTION = {"sklearn": "scikit-learn"}


def _declared_dependencies() -> set[str]:
    text = (ROOT / "pyproject.toml").read_text()
    block = re.search(r"^dependencies\s*=\s*\[(.*?)\]", text, re.S | re.M)
    assert block, "pyproject.toml has no [project] dependencies list"
    return {re.split(r"[<>=!~\[; ]", s.strip().strip('"'))[0].lower()
            for s in block.group(1).split(",") if s.strip()}


def _module_level_imports(path: Path) -> set[str]:
    """Top-level packages imported at module level, outside ``try`` blocks (optional extras
    are imported inside functions or guarded by ``try``)."""
    names = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_every_module_level_import_is_a_declared_dependency():
    declared = _declared_dependencies()
    missing = {}
    for path in sorted((ROOT / "nlpnet").rglob("*.py")):
        for name in _module_level_imports(path):
            if name in sys.stdlib_module_names or name in ("nlpnet", "__future__"):
                continue
            if DISTRIBUTION.get(name, name).lower() not in declared:
                missing.setdefault(name, []).append(str(path.relative_to(ROOT)))
    assert not missing, f"imported at module level but not in [project] dependencies: {missing}"


def test_the_checker_sees_a_missing_dependency(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("import os\nimport scipy.sparse as sps\ntry:\n    import torch\nexcept ImportError:\n"
                      "    torch = None\ndef f():\n    import dask\n")
    assert _module_level_imports(module) == {"os", "scipy"}


@pytest.mark.parametrize("name", ["casadi", "numpy", "scipy", "matplotlib", "threadpoolctl"])
def test_the_core_dependencies_are_declared(name):
    assert name in _declared_dependencies()
