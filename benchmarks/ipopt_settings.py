"""IPOPT settings against convergence: what a per-iteration saving costs in iterations.

A setting that makes an iteration cheaper is only worth having if the solves still
converge in about as many iterations. For each variant (the library defaults plus the
given IPOPT options) this trains the multiple-shooting 1-8-8-1 tanh net on ``sin_x2_data``
(N = 40) from ``--seeds`` Glorot initialisations to convergence and reports how many
converged, the median iterations, the mean time per iteration over all solves (set-up
included) and the median wall time per solve.

    python benchmarks/ipopt_settings.py [--seeds 12] [--max-iter 1000] [--quick]   # the variants in docs/solvers.md
    python benchmarks/ipopt_settings.py '{"mumps_pivtol": 0}' --activation relu
"""
from __future__ import annotations

import argparse
import json
import statistics

import nlpnet


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """--help shows the module docstring as written and every flag's default."""


DEFAULT_VARIANTS = [
    {},
    {"mumps_scaling": 77, "mumps_permuting_scaling": 7},   # IPOPT's own MUMPS scaling
    {"perturb_dec_fact": 0.9},
    {"mumps_pivtol": 0.0},
    {"linear_solver": "spral", "spral_scaling": "none", "spral_small_subtree_threshold": 1e9},
]


def run(variant: dict, seeds: int, activation: str, max_iter: int) -> dict:
    init = "glorot_uniform" if activation == "tanh" else "he_uniform"
    rows = []
    for seed in range(seeds):
        X, y = nlpnet.sin_x2_data(40, seed=seed)
        net = nlpnet.Network([1, 8, 8, 1], activation=activation, init=init, seed=seed)
        prob = nlpnet.Problem(net, X, y, formulation="multiple_shooting")
        opts = dict(variant)
        own = {k: opts.pop(k) for k in ("linear_solver",) if k in opts}       # set through nlpnet's own option
        res = prob.solve("ipopt", max_iter=max_iter, ipopt=opts, **own)
        rows.append(res)
    iters = sum(r.iterations for r in rows)
    return {
        "converged": sum(r.success for r in rows),
        "median_iterations": statistics.median(r.iterations for r in rows),
        "ms_per_iteration": 1e3 * sum(r.wall_time for r in rows) / max(iters, 1),
        "median_time": statistics.median(r.wall_time for r in rows),
        "median_train_mse": statistics.median(r.train_loss for r in rows),
    }


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=HelpFormatter)
    p.add_argument("variants", nargs="*", help="IPOPT options as JSON objects (default: the documented set)")
    p.add_argument("--seeds", type=int, default=12, help="initialisations (and data draws) 0..seeds-1")
    p.add_argument("--activation", default="tanh", choices=["tanh", "relu"], help="hidden activation")
    p.add_argument("--max-iter", type=int, default=1000, help="IPOPT iteration cap per solve")
    p.add_argument("--quick", action="store_true", help="smoke run: 1 seed, at most 30 iterations")
    a = p.parse_args(argv)
    if a.quick:
        a.seeds, a.max_iter = 1, 30
    try:
        variants = [json.loads(v) for v in a.variants] or DEFAULT_VARIANTS
    except json.JSONDecodeError as exc:
        p.error(f"variants: each must be a JSON object such as '{{\"mumps_pivtol\": 0}}' ({exc})")
    print(f"IPOPT on multiple shooting 1-8-8-1 {a.activation}, sin_x2 N = 40, {a.seeds} seeds, max_iter {a.max_iter}")
    print(f"{'converged':>9} {'med. it':>8} {'ms/it':>7} {'med. s':>7} {'med. MSE':>9}  extra IPOPT options")
    for v in variants:
        r = run(v, a.seeds, a.activation, a.max_iter)
        print(f"{r['converged']:>6}/{a.seeds:<2} {r['median_iterations']:>8.0f} {r['ms_per_iteration']:>7.2f} "
              f"{r['median_time']:>7.2f} {r['median_train_mse']:>9.2e}  {json.dumps(v) if v else '(defaults)'}")


if __name__ == "__main__":
    main()
