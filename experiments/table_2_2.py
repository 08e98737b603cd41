"""Thesis Table 2.2: ReLU 1-8-8-1 (complementarity constraints) on the chapter-2 sine data,
multiple shooting (IPOPT) versus gradient descent, 20 runs. Protocol in chapter2.py.

    python experiments/table_2_2.py [--runs R] [--workers W] [--out DIR] [--seed S] [--quick]
"""
from chapter2 import main

THESIS = {
    "thesis GD": {"converged": "20/20", "best": "0.0041", "avg": "0.0274", "test": "0.0489", "time": "1.480"},
    "thesis MS": {"converged": "16/20", "best": "0.0348 (SSE)", "avg": "0.2111 (SSE)", "test": "0.2696",
                  "time": "115.8", "best_mse": "0.0022", "avg_mse": "0.0132"},
}

if __name__ == "__main__":
    main("table_2_2", "Table 2.2: ReLU 1-8-8-1 by complementarity, multiple shooting vs gradient descent",
         "relu-1-8-8-1", [1, 8, 8, 1], "relu", THESIS)
