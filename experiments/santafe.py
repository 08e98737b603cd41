"""Thesis Tables 4.2/4.3: Santa Fe laser series, 80-48-1 tanh, ALM vs Adam.

    python experiments/santafe.py [--runs R] [--workers W] [--out DIR] [--seed S] [--quick]
                                  [--backend processes|dask] [--scheduler ADDRESS]

is `nlpnet experiment santafe ...`; the protocol is in nlpnet/experiments/santafe.py.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # a source checkout without installing
from nlpnet.experiments import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(["santafe", *sys.argv[1:]], prog="python experiments/santafe.py"))
