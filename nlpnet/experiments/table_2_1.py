"""Thesis Table 2.1: tanh 1-3-3-1 on the chapter-2 sine data, multiple shooting (IPOPT)
versus gradient descent, 20 runs. Protocol in :mod:`nlpnet.experiments.chapter2`."""
from __future__ import annotations

from .chapter2 import COLUMNS, make_report, make_tasks, trial  # noqa: F401  - trial is looked up here
from .published import THESIS_TABLE_2_1

TITLE = "Table 2.1 — tanh 1-3-3-1, multiple shooting vs gradient descent"


def tasks(args):
    return make_tasks(args, "tanh-1-3-3-1", [1, 3, 3, 1], "tanh")


def report(rows, args, out, command):
    return make_report(rows, out, command, TITLE, THESIS_TABLE_2_1)
