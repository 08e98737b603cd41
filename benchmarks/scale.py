"""Cost against the number of samples N: construction, back-propagation, ALM, IPOPT.

    python benchmarks/scale.py [--quick] [--reps R] [--sizes 100,1000,5000] [--ipopt-sizes 40,160,640,2560]
                               [--no-torch] [--only construct,adam,alm,ipopt]

Cases (every one in a fresh subprocess, so its peak resident memory is its own):

* ``construct`` — ``Problem(Network([784, 100, 50, 10], "relu"), X, Y, formulation=…)`` on random
  data of MNIST shape (pixels U(0, 1), one-hot labels), in both formulations;
* ``adam`` — one full-batch Adam epoch of that net (median over epochs), and beside it, when
  ``torch`` is importable (the optional ``bench`` extra), PyTorch's full-batch Adam epoch on
  the same net and data in float64 with ``torch.set_num_threads(1)``, measured in the same run;
* ``alm`` — the first outer iteration of the ALM (default inner solver) on the multiple-
  shooting problem (ReLU as the equality z = max(a, 0)), and its peak memory;
* ``ipopt`` — IPOPT on the multiple-shooting 1-8-8-1 tanh net on the chapter-4 data: set-up
  (everything before the first iteration: the time of the first iteration callback) and
  milliseconds per iteration over 30 iterations.

Every timing is the median of ``--reps`` subprocess runs (default 3); "peak MB" is the largest
resident set of the case's process and "Δ MB" its growth over the process right before the
measured step (imports and data included in the first, excluded from the second). Growth
exponents are log(t₂/t₁)/log(N₂/N₁) between consecutive sizes. ``--quick`` runs the smallest
sizes once (a smoke test).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import time

NET = [784, 100, 50, 10]


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2 ** 20


def _peak_mb() -> float:
    """VmHWM: the peak resident set of this process image (ru_maxrss survives fork + exec)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _data(N, seed=0):
    import numpy as np
    rng = np.random.default_rng(seed)
    X = rng.random((N, NET[0]))
    Y = np.eye(NET[-1])[rng.integers(0, NET[-1], N)]
    return X, Y


# ---------------------------------------------------------------------------- one case (child)
def case(name, N, formulation="single_shooting"):
    import numpy as np

    import nlpnet
    X, Y = _data(N)
    before = _rss_mb()
    out = {}
    if name == "construct":
        net = nlpnet.Network(NET, activation="relu", seed=0)
        kw = {"relu": "equality"} if formulation == "multiple_shooting" else {}
        t = time.perf_counter()
        nlpnet.Problem(net, X, Y, formulation=formulation, **kw)
        out["seconds"] = time.perf_counter() - t
    elif name == "adam":
        net = nlpnet.Network(NET, activation="relu", seed=0)
        prob = nlpnet.Problem(net, X, Y, formulation="single_shooting")
        res = prob.solve("adam", max_iter=12)
        out["seconds"] = float(np.median(np.diff(res.history["time"])))
    elif name == "torch":
        import torch
        torch.set_num_threads(1)
        torch.manual_seed(0)
        layers = []
        for i, (a, b) in enumerate(zip(NET[:-1], NET[1:])):
            layers.append(torch.nn.Linear(a, b, dtype=torch.float64))
            if i < len(NET) - 2:
                layers.append(torch.nn.ReLU())
        model = torch.nn.Sequential(*layers)
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        Xt, Yt = torch.from_numpy(X), torch.from_numpy(Y)
        times = []
        for _ in range(12):
            t = time.perf_counter()
            opt.zero_grad()
            loss = ((model(Xt) - Yt) ** 2).sum(dim=1).mean()
            loss.backward()
            opt.step()
            times.append(time.perf_counter() - t)
        out["seconds"] = float(np.median(times[2:]))
    elif name == "alm":
        net = nlpnet.Network(NET, activation="relu", seed=0)
        prob = nlpnet.Problem(net, X, Y, relu="equality")
        before = _rss_mb()
        res = prob.solve("alm", max_iter=1)
        out["seconds"] = float(res.history["time"][0])
        out["status"] = res.status.value
    elif name == "ipopt":
        Xi, yi = nlpnet.sin_x2_data(N, seed=0)
        prob = nlpnet.Problem(nlpnet.Network([1, 8, 8, 1], activation="tanh", seed=0), Xi, yi)
        before = _rss_mb()
        res = prob.solve("ipopt", max_iter=30, tol=1e-14)
        t = res.history["time"]
        out["setup"] = float(t[0])
        out["ms_per_iteration"] = 1e3 * float(t[-1] - t[0]) / max(len(t) - 1, 1)
        out["iterations"] = int(res.iterations)
    out["peak_mb"] = _peak_mb()
    out["delta_mb"] = out["peak_mb"] - before
    print(json.dumps(out))


# ---------------------------------------------------------------------------- the table (parent)
def run(args_list, reps):
    rows = []
    for _ in range(reps):
        cmd = [sys.executable, __file__, "--case"] + [str(a) for a in args_list]
        p = subprocess.run(cmd, capture_output=True, text=True)
        if p.returncode != 0:
            return {"error": p.stderr.strip().splitlines()[-1] if p.stderr.strip() else f"exit {p.returncode}"}
        rows.append(json.loads(p.stdout.strip().splitlines()[-1]))
    keys = [k for k, v in rows[0].items() if isinstance(v, (int, float))]
    return {k: statistics.median(r[k] for r in rows) for k in keys}


def _growth(values, sizes):
    out = [""]
    for (a, na), (b, nb) in zip(zip(values, sizes), zip(values[1:], sizes[1:])):
        ok = all(isinstance(v, float) and v > 0 for v in (a, b))
        out.append(f"N^{math.log(b / a) / math.log(nb / na):.2f}" if ok else "")
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="\n".join(__doc__.splitlines()[2:]))
    ap.add_argument("--quick", action="store_true", help="smallest sizes, one repetition (a smoke test)")
    ap.add_argument("--reps", type=int, default=3, help="subprocess repetitions per case (median; default 3)")
    ap.add_argument("--sizes", default="100,1000,5000", help="N for the 784-100-50-10 cases")
    ap.add_argument("--ipopt-sizes", default="40,160,640,2560", help="N for the IPOPT 1-8-8-1 case")
    ap.add_argument("--no-torch", action="store_true", help="skip the PyTorch reference")
    ap.add_argument("--only", default="construct,adam,alm,ipopt", help="comma-separated cases to run")
    ap.add_argument("--case", nargs="+", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.case:
        name, N = a.case[0], int(a.case[1])
        case(name, N, *a.case[2:])
        return 0
    sizes = [int(s) for s in a.sizes.split(",")]
    isizes = [int(s) for s in a.ipopt_sizes.split(",")]
    reps = a.reps
    if a.quick:
        sizes, isizes, reps = sizes[:1], isizes[:1], 1
    only = set(a.only.split(","))
    try:
        import torch  # noqa: F401
        have_torch = not a.no_torch
    except ImportError:
        have_torch = False
    print(f"784-100-50-10 ReLU on random data of MNIST shape; medians of {reps} runs; one BLAS thread\n")
    if "construct" in only:
        print("| N | formulation | construction s | peak MB | Δ MB |\n|---|---|---|---|---|")
        for form in ("single_shooting", "multiple_shooting"):
            for N in sizes:
                r = run(["construct", N, form], reps)
                print(f"| {N} | {form} | {r.get('seconds', float('nan')):.3f} | {r.get('peak_mb', float('nan')):.0f} | "
                      f"{r.get('delta_mb', float('nan')):.0f} |" if "error" not in r else f"| {N} | {form} | {r['error']} | | |")
        print()
    if "adam" in only:
        print("| N | Adam epoch ms | PyTorch epoch ms | ratio | growth |\n|---|---|---|---|---|")
        ours, ref = [], []
        for N in sizes:
            r = run(["adam", N], reps)
            t = run(["torch", N], reps) if have_torch else {}
            ours.append(r.get("seconds", float("nan")))
            ref.append(t.get("seconds", float("nan")))
        for N, o, t, g in zip(sizes, ours, ref, _growth(ours, sizes)):
            ratio = f"{o / t:.2f}" if have_torch and t == t else "–"
            tt = f"{1e3 * t:.2f}" if have_torch and t == t else "–"
            print(f"| {N} | {1e3 * o:.2f} | {tt} | {ratio} | {g} |")
        print()
    if "alm" in only:
        print("| N | ALM first outer iteration s | peak MB | Δ MB | growth |\n|---|---|---|---|---|")
        vals, mems = [], []
        for N in sizes:
            r = run(["alm", N], reps)
            vals.append(r.get("seconds", float("nan")))
            mems.append(r)
        for N, v, r, g in zip(sizes, vals, mems, _growth(vals, sizes)):
            print(f"| {N} | {v:.2f} | {r.get('peak_mb', float('nan')):.0f} | {r.get('delta_mb', float('nan')):.0f} | {g} |")
        print()
    if "ipopt" in only:
        print("IPOPT, multiple shooting 1-8-8-1 tanh, 30 iterations\n")
        print("| N | set-up s | ms / iteration | peak MB | growth (set-up) | growth (iteration) |\n"
              "|---|---|---|---|---|---|")
        res = [run(["ipopt", N], reps) for N in isizes]
        su = [r.get("setup", float("nan")) for r in res]
        it = [r.get("ms_per_iteration", float("nan")) for r in res]
        for N, r, g1, g2 in zip(isizes, res, _growth(su, isizes), _growth(it, isizes)):
            print(f"| {N} | {r.get('setup', float('nan')):.3f} | {r.get('ms_per_iteration', float('nan')):.2f} | "
                  f"{r.get('peak_mb', float('nan')):.0f} | {g1} | {g2} |")
        if len(isizes) >= 2 and all(v == v for v in it):
            print(f"\niteration cost growth from N = {isizes[1] if len(isizes) > 2 else isizes[0]} to {isizes[-1]}: "
                  f"N^{math.log(it[-1] / it[1 if len(isizes) > 2 else 0]) / math.log(isizes[-1] / isizes[1 if len(isizes) > 2 else 0]):.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
