"""Every back-propagation optimizer on the Table 4.1 problems, with performance profiles.

    python experiments/optimizers.py [--runs R] [--workers W] [--out DIR] [--seed S] [--quick]
                                     [--backend processes|dask] [--scheduler ADDRESS]

is `nlpnet experiment optimizers ...`; the protocol is in nlpnet/experiments/optimizers.py.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # a source checkout without installing
from nlpnet.experiments import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(["optimizers", *sys.argv[1:]], prog="python experiments/optimizers.py"))
