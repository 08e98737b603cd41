"""MNIST (seed 002): ReLU classifiers by back-propagation, L-BFGS and the ALM, cross-entropy and MSE.

    python experiments/mnist.py [--runs R] [--workers W] [--out DIR] [--seed S] [--quick]
                                [--backend processes|dask] [--scheduler ADDRESS]
                                [--archs A,B] [--sizes 1000,4000] [--methods M,...] [--losses ce,mse] [--idx DIR]

is `nlpnet experiment mnist ...`; the protocol is in nlpnet/experiments/mnist.py.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # a source checkout without installing
from nlpnet.experiments import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(["mnist", *sys.argv[1:]], prog="python experiments/mnist.py"))
