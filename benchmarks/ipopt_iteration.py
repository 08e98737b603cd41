"""Milliseconds per IPOPT iteration on the multiple-shooting 1-8-8-1 tanh network.

Compares MUMPS orderings (the library default "metis" against MUMPS's own choice "auto",
and the others) at N = 40 and N = 160 samples of the chapter-4 data. The time per
iteration is taken between the first and the last iteration callbacks, so solver set-up is
excluded; each configuration is repeated and the median reported, and ratios are formed
within the same run.

    python benchmarks/ipopt_iteration.py [--repeats 5] [--iters 30] [--orderings metis,auto]
"""
from __future__ import annotations

import argparse
import statistics


import nlpnet


def ms_per_iteration(N: int, ordering: str, iters: int, seed: int = 0) -> tuple[float, int, int]:
    X, y = nlpnet.sin_x2_data(N, seed=seed)
    net = nlpnet.Network([1, 8, 8, 1], activation="tanh", init="glorot_uniform", seed=seed)
    prob = nlpnet.Problem(net, X, y, formulation="multiple_shooting")
    prob.nlp.hessian_of_lagrangian()  # build once outside the timing, as every solve after the first does
    res = prob.solve("ipopt", max_iter=iters, ordering=ordering, tol=1e-14)
    t = res.history["time"]
    return 1e3 * (t[-1] - t[0]) / max(len(t) - 1, 1), prob.nlp.n_x, prob.nlp.n_g


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--iters", type=int, default=30)
    p.add_argument("--sizes", default="40,160")
    p.add_argument("--orderings", default="metis,auto,amd,qamd,pord,scotch")
    a = p.parse_args(argv)
    orderings = a.orderings.split(",")
    print(f"IPOPT ms/iteration, multiple shooting 1-8-8-1 tanh, median of {a.repeats} runs of {a.iters} iterations")
    print(f"{'N':>5} {'n_x':>6} {'n_g':>6} " + " ".join(f"{o:>9}" for o in orderings) + "   auto/metis")
    for N in (int(s) for s in a.sizes.split(",")):
        med = {}
        for o in orderings:
            samples = [ms_per_iteration(N, o, a.iters) for _ in range(a.repeats)]
            med[o] = statistics.median(s[0] for s in samples)
            nx, ng = samples[0][1], samples[0][2]
        ratio = med["auto"] / med["metis"] if "auto" in med and "metis" in med else float("nan")
        print(f"{N:>5} {nx:>6} {ng:>6} " + " ".join(f"{med[o]:>9.2f}" for o in orderings) + f"   {ratio:>9.1f}x")


if __name__ == "__main__":
    main()
