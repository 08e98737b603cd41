"""How good is the estimate of IPOPT's uninterruptible set-up (nlpnet/solvers/setup.py)?

For random architectures (seeded) it measures

* the symbolic part — building one sample's Jacobian and Hessian Functions from scratch
  (``SampleFunctions``, uncached) — against :func:`~nlpnet.solvers.setup.symbolic_seconds`;
* the first iteration — ``solve("ipopt", max_iter=1)`` with the symbolic part already cached,
  i.e. assembly, ``nlpsol`` creation, IPOPT's initialising factorization and one iteration —
  against :func:`~nlpnet.solvers.setup.first_iteration_seconds`;

and prints the ratio measured / estimated (quantiles over the architectures whose part takes
or is estimated at 50 ms or more) per part and formulation. A ratio below 1 means the estimate is pessimistic (IPOPT refuses to start work that
would have fitted); above 1 that a ``max_time`` close to the estimate can be overrun.

    python benchmarks/setup_estimate.py [--architectures 30] [--seed 0] [--quick]
"""
from __future__ import annotations

import argparse
import time
from collections import defaultdict

import numpy as np

import nlpnet
from nlpnet.formulations.sample_functions import SampleFunctions
from nlpnet.solvers.setup import first_iteration_seconds, symbolic_seconds


def architecture(rng, formulation):
    while True:
        depth = int(rng.integers(1, 4))
        wide = 25 if formulation == "multiple_shooting" else 17
        sizes = [int(rng.integers(1, 6))] + [int(rng.integers(2, wide)) for _ in range(depth)] + \
            [int(rng.integers(1, 4))]
        act = str(rng.choice(["tanh", "sigmoid", "softplus", "relu", "leaky_relu"]))
        net = nlpnet.Network(sizes, activation=act, seed=0)
        if formulation == "multiple_shooting" or net.n_params <= 300:
            return net


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--architectures", type=int, default=30, help="random architectures to measure")
    p.add_argument("--seed", type=int, default=0, help="seed of the architecture draw")
    p.add_argument("--quick", action="store_true", help="measure 4 architectures only")
    a = p.parse_args(argv)
    if a.quick:
        a.architectures = min(a.architectures, 4)
    rng = np.random.default_rng(a.seed)
    ratios = defaultdict(list)
    for i in range(a.architectures):
        form = ("single_shooting", "multiple_shooting")[i % 2]
        net = architecture(rng, form)
        N = int(rng.integers(10, 161))
        X, y = rng.normal(size=(N, net.n_inputs)), rng.normal(size=(N, net.n_outputs))
        prob = nlpnet.Problem(net, X, y, formulation=form)
        nlp = prob.nlp
        t0 = time.perf_counter()
        fresh = SampleFunctions(net, nlp.samples.rules, nlpnet.MSE())
        for name in ("values", "grad", "jac", "hess"):
            fresh.function(name)
        t_sym = time.perf_counter() - t0
        for name in ("grad", "jac", "hess"):               # the symbolic part is measured above: cache it
            nlp.samples.functions.function(name)
        t0 = time.perf_counter()
        prob.solve("ipopt", max_iter=1)
        first = time.perf_counter() - t0
        est_first = first_iteration_seconds(nlp)
        est_sym = symbolic_estimate(nlp)
        # ratios of sub-50 ms parts say nothing about a budget: only the others are summarised
        if max(t_sym, est_sym) >= 0.05:
            ratios[(form, "symbolic")].append(t_sym / est_sym)
        if max(first, est_first) >= 0.05:
            ratios[(form, "first iteration")].append(first / est_first)
        print(f"{form:17s} {str(net.sizes):24s} {net.activations[0].name:10s} N={N:4d}  symbolic {t_sym:7.3f} s "
              f"(est {est_sym:7.3f})  first iteration {first:7.3f} s (est {est_first:7.3f})",
              flush=True)
    print("\n| formulation | part | architectures | measured / estimated: min | 10 % | median | 90 % | max |")
    print("|---|---|---|---|---|---|---|---|")
    for (form, part), r in sorted(ratios.items()):
        q = np.quantile(r, [0, 0.1, 0.5, 0.9, 1])
        print(f"| {form} | {part} | {len(r)} | " + " | ".join(f"{v:.2f}" for v in q) + " |")


def symbolic_estimate(nlp):
    """symbolic_seconds as if nothing were cached (the estimate a first solve uses)."""
    class Unbuilt:
        functions = type("F", (), {"_functions": {}})()
        rules = nlp.samples.rules
        kernels = nlp.samples.kernels
    return symbolic_seconds(Unbuilt)


if __name__ == "__main__":
    main()
