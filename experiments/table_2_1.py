"""Thesis Table 2.1: tanh 1-3-3-1 on the chapter-2 sine data, multiple shooting (IPOPT)
versus gradient descent, 20 runs. Protocol in chapter2.py.

    python experiments/table_2_1.py [--runs R] [--workers W] [--out DIR] [--seed S] [--quick]
"""
from chapter2 import main

THESIS = {
    "thesis GD": {"converged": "20/20", "best": "0.0108", "avg": "0.0299", "test": "0.0605", "time": "1.577"},
    "thesis MS": {"converged": "6/20", "best": "0.0537 (SSE)", "avg": "0.2350 (SSE)", "test": "0.2724",
                  "time": "23.82", "best_mse": "0.0034", "avg_mse": "0.0147"},
}

if __name__ == "__main__":
    main("table_2_1", "Table 2.1: tanh 1-3-3-1, multiple shooting vs gradient descent", "tanh-1-3-3-1",
         [1, 3, 3, 1], "tanh", THESIS)
