"""Lecture: Adam vs Nadam, Adam then L-BFGS, learning-rate schedules, collapse fraction.

    python experiments/lecture.py [--runs R] [--workers W] [--out DIR] [--seed S] [--quick]
                                  [--backend processes|dask] [--scheduler ADDRESS]

is `nlpnet experiment lecture ...`; the protocol is in nlpnet/experiments/lecture.py.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # a source checkout without installing
from nlpnet.experiments import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(["lecture", *sys.argv[1:]], prog="python experiments/lecture.py"))
