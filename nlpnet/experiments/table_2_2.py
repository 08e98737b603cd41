"""Thesis Table 2.2: ReLU 1-8-8-1 (complementarity constraints) on the chapter-2 sine data,
multiple shooting (IPOPT) versus gradient descent, 20 runs. Protocol in
:mod:`nlpnet.experiments.chapter2`."""
from __future__ import annotations

from .chapter2 import COLUMNS, make_report, make_tasks, trial  # noqa: F401  - trial is looked up here
from .published import THESIS_TABLE_2_2

TITLE = "Table 2.2 — ReLU 1-8-8-1 by complementarity, multiple shooting vs gradient descent"


def tasks(args):
    return make_tasks(args, "relu-1-8-8-1", [1, 8, 8, 1], "relu")


def report(rows, args, out, command):
    return make_report(rows, out, command, TITLE, THESIS_TABLE_2_2)
