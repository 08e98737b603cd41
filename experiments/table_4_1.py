"""Thesis Table 4.1: augmented Lagrangian vs Adam on sin(x²), tanh and ReLU nets.

    python experiments/table_4_1.py [--runs R] [--workers W] [--out DIR] [--seed S] [--quick]
                                    [--backend processes|dask] [--scheduler ADDRESS]

is `nlpnet experiment table_4_1 ...`; the protocol is in nlpnet/experiments/table_4_1.py.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # a source checkout without installing
from nlpnet.experiments import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(["table_4_1", *sys.argv[1:]], prog="python experiments/table_4_1.py"))
