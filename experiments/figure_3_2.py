"""Thesis Figure 3.2: Jacobian sparsity of the lifted problem in two row orders.

    python experiments/figure_3_2.py [--runs R] [--workers W] [--out DIR] [--seed S] [--quick]
                                     [--backend processes|dask] [--scheduler ADDRESS]

is `nlpnet experiment figure_3_2 ...`; the protocol is in nlpnet/experiments/figure_3_2.py.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # a source checkout without installing
from nlpnet.experiments import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(["figure_3_2", *sys.argv[1:]], prog="python experiments/figure_3_2.py"))
