"""Thesis Table 2.2: ReLU 1-8-8-1 by complementarity, multiple shooting vs gradient descent.

    python experiments/table_2_2.py [--runs R] [--workers W] [--out DIR] [--seed S] [--quick]
                                    [--backend processes|dask] [--scheduler ADDRESS]

is `nlpnet experiment table_2_2 ...`; the protocol is in nlpnet/experiments/chapter2.py.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # a source checkout without installing
from nlpnet.experiments import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(["table_2_2", *sys.argv[1:]], prog="python experiments/table_2_2.py"))
