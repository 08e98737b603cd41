"""iALAM on MNIST against the issue-12 targets, one option changed at a time: a table per call.

Each row trains one setting of ``nlpnet experiment ialam`` (data, initial weights and options
from :mod:`nlpnet.experiments.ialam_problems`) by ``prob.solve("ialam", **options)`` on the
class-balanced 1000/200 split of the 5000-digit MNIST subset (``nlpnet.mnist``), λ_w = 1/N,
and prints the medians over the seeds with the first outer iteration whose iterate meets every
target of the row. ``--set KEY=VALUE`` changes an option of ``nlpnet.IalamOptions`` (a Python
literal, or a plain word for the string options), e.g. ``--set wb_max_iter=5`` or
``--set max_time=50``.

    python benchmarks/ialam_mnist.py                                  # both target settings, seeds 0,1,2
    python benchmarks/ialam_mnist.py --rows 0 --seeds 0 --set eta1=0.7
    python benchmarks/ialam_mnist.py --quick                          # a smoke run of seconds

Times: CPU seconds of the solve (``res.stats["cpu_time"]``, one BLAS thread) and wall seconds.
"""
from __future__ import annotations

import argparse
import ast
import statistics

from nlpnet.experiments.ialam import MNIST_SETTINGS, sizes_of
from nlpnet.experiments.ialam_problems import initial_weights, mnist_data, network, solve, targets_met
from nlpnet.options import resolve_options
from nlpnet.solvers.ialam import IalamOptions

ROWS = ["784-200-10-relu-authors", "784-100-50-10-identity-he", "784-100-50-10-relu-he", "784-100-50-10-relu-authors"]
HIST = {"loss": "train_err", "accuracy": "train_acc", "val_accuracy": "test_acc", "col_sparsity": "col_sparsity"}


def parse_sets(items) -> dict:
    out = {}
    for item in items:
        key, sep, text = item.partition("=")
        if not sep:
            raise SystemExit(f"--set: expected KEY=VALUE, got {item!r}")
        try:
            out[key] = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            out[key] = text
    try:
        resolve_options(IalamOptions, out, {}, "ialam")     # every name and value checked before any run
    except (TypeError, ValueError) as exc:
        raise SystemExit(f"--set: {exc}") from None
    return out


def run_row(setting, n, pixels, seeds, options):
    net, output, init, targets, _ = MNIST_SETTINGS[setting]
    sizes = sizes_of(net)
    data = mnist_data(n, pixels)
    outs = []
    for seed in seeds:
        res = solve("ialam", network(sizes, 0.0, output, initial_weights(sizes, init, seed, n)), data, 1.0 / n,
                    epochs=0, ialam=options)
        it, wall = targets_met(res.history, targets)
        outs.append((res, (it, wall, res.history["cpu_time"][it - 1] if it != "" else "")))
    med = lambda f: statistics.median(f(r) for r, _ in outs)
    hits = [h for _, h in outs if h[0] != ""]
    final = sum(all((r.stats[HIST[k]] <= v) if kind == "max" else (r.stats[HIST[k]] >= v)
                    for k, (v, kind) in targets.items()) for r, _ in outs)
    first = (f"{len(hits)}/{len(outs)}: it {statistics.median(h[0] for h in hits):.0f}, "
             f"{statistics.median(h[2] for h in hits):.1f} s CPU, {statistics.median(h[1] for h in hits):.1f} s wall"
             if hits else f"0/{len(outs)}")
    return (f"| {net} | {'ReLU' if output == 'sigma' else 'identity'} | {init} | {med(lambda r: r.train_loss):.4f} "
            f"| {med(lambda r: r.stats['train_acc']):.3f} | {med(lambda r: r.stats['test_acc']):.3f} "
            f"| {med(lambda r: r.stats['col_sparsity']):.3f} | {med(lambda r: r.stats['hidden_pruned']):.3f} "
            f"| {med(lambda r: r.iterations):.0f} | {med(lambda r: r.stats['cpu_time']):.1f} "
            f"| {med(lambda r: r.wall_time):.1f} | {','.join(sorted({r.raw_status for r, _ in outs}))} "
            f"| {final}/{len(outs)} | {first} |")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", default="0,1", help=f"settings, indices into {ROWS} (default 0,1: the two targets)")
    ap.add_argument("--seeds", default="0,1,2", help="initialisation seeds (default 0,1,2)")
    ap.add_argument("--n-train", type=int, default=1000, help="training digits, a multiple of 10 (default 1000)")
    ap.add_argument("--pixels", choices=("binary", "scaled"), default="binary",
                    help="binarised as the authors' code (default) or p/255")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="an IalamOptions field")
    ap.add_argument("--quick", action="store_true", help="a smoke run: N = 100, row 0, seed 0, 10 outer iterations")
    args = ap.parse_args(argv)
    options = parse_sets(args.set)
    rows, seeds, n = [ROWS[int(i)] for i in args.rows.split(",")], [int(s) for s in args.seeds.split(",")], args.n_train
    if args.quick:
        rows, seeds, n, options = rows[:1], seeds[:1], 100, {**options, "max_iter": 10}
    print(f"MNIST subset: N = {n}, pixels {args.pixels}, λ_w = 1/N, seeds {seeds}, options {options or 'defaults'}\n")
    print("| net | output | init | TrainErr | train acc | test acc | col. sparsity | hidden pruned | outer its | CPU s "
          "| wall s | status | final meets targets | targets first met |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for setting in rows:
        print(run_row(setting, n, args.pixels, seeds, options), flush=True)


if __name__ == "__main__":
    main()
