"""The budget cases of issue 10: does ``max_time`` / ``max_iter=0`` hold, set-up included?

Each case runs in a fresh process (so no symbolic set-up is cached from another case) and
prints its wall time, status and iterations:

* single shooting 3-8-8-8-2 tanh, N = 60: ``solve("ipopt", max_iter=0, max_time=0.5)``;
* multiple shooting 5-12-12-12-12-3 tanh, N = 120: ``solve("ipopt", max_iter=50, max_time=2)``, and
  the same with ``max_time=10`` (one KKT factorization of this problem is about 5e9 flops);
* the ALM with ``inner="ipopt"`` on 1-12-8-2 (softplus, sigmoid, tanh), N = 64:
  ``solve("alm", inner="ipopt", max_outer=6, max_inner=7, max_time=1.0)``.

    python benchmarks/budgets.py [--quick]

``--quick`` runs only the first (smallest) case.

Run it with ``PYTHONPATH`` pointing at another checkout to compare versions.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys

CASES = {
    "ipopt, single shooting 3-8-8-8-2, max_iter=0, max_time=0.5": """
rng = np.random.default_rng(0)
prob = Problem(Network([3, 8, 8, 8, 2], activation="tanh", seed=0), rng.normal(size=(60, 3)),
               rng.normal(size=(60, 2)), formulation="single_shooting")
res = prob.solve("ipopt", max_iter=0, max_time=0.5)""",
    "ipopt, multiple shooting 5-12-12-12-12-3, max_iter=50, max_time=2": """
rng = np.random.default_rng(0)
prob = Problem(Network([5, 12, 12, 12, 12, 3], activation="tanh", seed=0), rng.normal(size=(120, 5)),
               rng.normal(size=(120, 3)))
res = prob.solve("ipopt", max_iter=50, max_time=2)""",
    "ipopt, multiple shooting 5-12-12-12-12-3, max_iter=50, max_time=10": """
rng = np.random.default_rng(0)
prob = Problem(Network([5, 12, 12, 12, 12, 3], activation="tanh", seed=0), rng.normal(size=(120, 5)),
               rng.normal(size=(120, 3)))
res = prob.solve("ipopt", max_iter=50, max_time=10)""",
    "alm inner=ipopt, 1-12-8-2, max_outer=6, max_inner=7, max_time=1": """
X = np.linspace(0, 3, 64).reshape(-1, 1)
s = np.sign(np.sin(3 * X))
net = Network([Dense(12, "softplus"), Dense(8, "sigmoid"), Dense(2, "tanh")], n_inputs=1, seed=0)
res = Problem(net, X, np.hstack([s, -s])).solve("alm", inner="ipopt", max_outer=6, max_inner=7, max_time=1.0)""",
}

RUN = """
import time, warnings
import numpy as np
from nlpnet import Dense, Network, Problem
warnings.simplefilter("ignore")
t0 = time.perf_counter()
{case}
print(f"{{time.perf_counter() - t0:.2f}}|{{res.status.value}}|{{res.iterations}}|{{res.message[:90]}}")
"""


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="run only the first (smallest) case")
    a = p.parse_args(argv)
    cases = list(CASES.items())[:1] if a.quick else list(CASES.items())
    print("| case | wall time [s] | status | iterations | message |")
    print("|---|---|---|---|---|")
    for name, code in cases:
        out = subprocess.run([sys.executable, "-c", RUN.format(case=code)], capture_output=True, text=True,
                             env=dict(os.environ), timeout=900)
        line = out.stdout.strip().splitlines()[-1] if out.stdout.strip() else f"error|{out.stderr[-200:]}||"
        wall, status, iters, msg = (line.split("|") + ["", "", ""])[:4]
        print(f"| {name} | {wall} | {status} | {iters} | {msg} |", flush=True)


if __name__ == "__main__":
    main()
