"""Seed 002: iALAM on leaky-ReLU networks with group sparsity (synthetic data, MNIST, pruning, profiles).

    python experiments/ialam.py [--runs R] [--workers W] [--out DIR] [--seed S] [--quick]
                                [--parts synthetic,mnist,prune,profile] [--profile-seeds K]
                                [--backend processes|dask] [--scheduler ADDRESS]

is `nlpnet experiment ialam ...`; the protocol is in nlpnet/experiments/ialam.py.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # a source checkout without installing
from nlpnet.experiments import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(["ialam", *sys.argv[1:]], prog="python experiments/ialam.py"))
