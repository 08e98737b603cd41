"""Lecture: collapse of a 10-layer width-2 ReLU net on |x| (Adam vs lifted solvers).

    python experiments/collapse.py [--runs R] [--workers W] [--out DIR] [--seed S] [--quick]
                                   [--backend processes|dask] [--scheduler ADDRESS]

is `nlpnet experiment collapse ...`; the protocol is in nlpnet/experiments/collapse.py.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # a source checkout without installing
from nlpnet.experiments import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(["collapse", *sys.argv[1:]], prog="python experiments/collapse.py"))
