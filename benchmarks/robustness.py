"""Random trainings that must never raise, overrun their budget or claim more than they deliver.

A seeded generator draws trainings — architectures of 0 to 3 hidden layers of width 1 to 8
(one in ten: up to 4 layers of width up to 12, always with a ``max_time``) with a random
activation per layer (tanh, sigmoid, ReLU, leaky ReLU with a random slope, softplus,
identity), bias on or off, N from 1 to 120 samples, inputs scaled by 10^−6 … 10^6, every
formulation and lifting, optional validation data, regularizers, output bounds (IPOPT) and
output equalities (ALM); a solver family first, then one of its registered solvers, with a
small iteration budget, often a small ``max_time`` and random family options (IPOPT's
limited-memory Hessian, homotopy, validation patience; the ALM's rule, multipliers, inner
solver; mini-batches and early stopping) — and counts, per solver family:

* **exceptions**: anything ``solve`` raises (it may only raise on bad input, and every input
  here is valid);
* **overruns**: wall time above 1.2·max_time + 0.5 s;
* **contradictions**: a status that is not a ``Status``; ``success`` with a non-finite
  training loss or a violation beyond the solver's tolerance; a non-finite training loss
  reported as anything but ``numerical_error``/``failed``/``user_stop``; a ``train_loss`` that
  differs from the returned network's own MSE;
* **non-deterministic**: every ``--recheck``-th training is run again from scratch and must
  give the same status, iteration count and bit-identical weights (runs that stopped on the
  time limit are not compared: where they stop depends on the clock).

It also counts the IPOPT and ALM-with-IPOPT runs **not started** because their uninterruptible
set-up was estimated beyond ``max_time`` (they return ``max_time`` at once,
:mod:`nlpnet.solvers.setup`).

    python benchmarks/robustness.py --trainings 2000 [--seed S] [--quick] [--recheck K]

``--quick`` draws smaller trainings (N ≤ 40, width ≤ 5, fewer iterations). The same
generator, quick and with a few hundred trainings, runs in the test suite
(``tests/test_robustness.py``).
"""
from __future__ import annotations

import argparse
import math
import time
import warnings
from collections import Counter, defaultdict

import numpy as np

import nlpnet
from nlpnet import Network, Problem, Status
from nlpnet.solvers import get_solver

ACTIVATIONS = ("tanh", "sigmoid", "relu", "leaky_relu", "softplus", "identity")
OK_NONFINITE = (Status.NUMERICAL_ERROR, Status.FAILED, Status.USER_STOP)


def draw(seed: int, index: int, quick: bool = False) -> dict:
    """The index-th training of the generator with this seed (a plain dict, reproducible)."""
    rng = np.random.default_rng([seed, index])
    wide = not quick and rng.random() < 0.1            # one in ten: up to 4 layers of width up to 12
    n_hidden = int(rng.integers(0, 5 if wide else 4))
    max_w = 5 if quick else (12 if wide else 8)
    widths = [int(rng.integers(1, max_w + 1)) for _ in range(n_hidden)]
    acts = []
    for _ in range(n_hidden):
        a = str(rng.choice(ACTIVATIONS))
        acts.append(("leaky_relu", float(rng.uniform(0.01, 0.5))) if a == "leaky_relu" else a)
    n_max = 40 if quick else 120
    spec = {
        "sizes": [int(rng.integers(1, 5))] + widths + [int(rng.integers(1, 4))],
        "activations": acts,
        "output_activation": str(rng.choice(["identity"] * 4 + ["tanh", "sigmoid"])),
        "use_bias": bool(rng.random() < 0.8),
        "init": str(rng.choice(["glorot_uniform", "glorot_normal", "he_uniform", "he_normal", "nguyen_widrow"])),
        "net_seed": int(rng.integers(0, 2 ** 31)),
        "N": int(np.clip(round(math.exp(rng.uniform(0, math.log(n_max)))), 1, n_max)),
        "scale": float(10.0 ** rng.uniform(-6, 6)),
        "data_seed": int(rng.integers(0, 2 ** 31)),
        "formulation": str(rng.choice(["single_shooting", "multiple_shooting"])),
        "relu": str(rng.choice(["complementarity", "equality"])),
        "leaky_relu": str(rng.choice(["complementarity", "equality"])),
        "validation": bool(rng.random() < 0.3),
        "regularizer": str(rng.choice(["none"] * 3 + ["l2", "l1", "group_lasso"])),
    }
    # a family first (IPOPT, the ALM, back-propagation, any other registered one), then one of its solvers
    solvers = [s for s in sorted(nlpnet.available_solvers())
               if not get_solver(s).requires or spec["formulation"] in get_solver(s).requires]
    families = sorted({get_solver(s).family for s in solvers})
    family = str(rng.choice(families))
    solver = str(rng.choice([s for s in solvers if get_solver(s).family == family]))
    spec["solver"] = solver
    family = get_solver(solver).family
    # user rows: output bounds for IPOPT, an output equality for the ALM
    spec["output_bound"] = bool(family == "ipopt" and rng.random() < 0.25)
    spec["output_equality"] = bool(family == "alm" and rng.random() < 0.15)
    it_scale = 0.3 if quick else 1.0
    if family == "ipopt":
        opts = {"max_iter": int(rng.integers(0, int(60 * it_scale) + 2))}
        if rng.random() < 0.15:
            opts["hessian"] = "limited-memory"
        if rng.random() < 0.15:
            opts["homotopy"], opts["polish"] = (1e-3,), bool(rng.random() < 0.5)
        if spec["validation"] and rng.random() < 0.5:
            opts["patience"] = int(rng.integers(1, 10))
    elif family == "alm":
        opts = {"max_iter": int(rng.integers(0, 6)), "rule": str(rng.choice(["thesis", "classic", "liu"])),
                "multipliers": str(rng.choice(["zeros", "normal", "least_squares"]))}
        opts["inner"] = str(rng.choice(["lm"] * 4 + ["gauss_newton", "ipopt"]))
        if spec["validation"] and rng.random() < 0.5:
            opts["patience"] = int(rng.integers(1, 4))
    elif family != "backprop":      # a family registered later: the shared vocabulary only
        opts = {"max_iter": int(rng.integers(0, 6))}
    elif solver in ("lbfgs", "lm_backprop"):
        opts = {"max_iter": int(rng.integers(0, int(50 * it_scale) + 2))}
    else:
        opts = {"max_iter": int(rng.integers(0, int(200 * it_scale) + 2)),
                "learning_rate": float(10.0 ** rng.uniform(-4, 0))}
        if rng.random() < 0.3:
            opts["batch_size"] = int(rng.integers(1, 33))
        if rng.random() < 0.2:
            opts["early_stopping"] = {"patience": int(rng.integers(0, 5)),
                                      "monitor": "val_loss" if spec["validation"] else "loss",
                                      "restore_best_weights": bool(rng.random() < 0.5)}
        if solver == "adam_lbfgs":
            opts["lbfgs_iter"] = int(rng.integers(0, 20))
    if wide or rng.random() < 0.6:
        opts["max_time"] = float(rng.choice([0.05, 0.2, 0.5, 1.0, 2.0]))
    opts["seed"] = int(rng.integers(0, 100))
    spec["options"] = opts
    return spec


def build(spec: dict) -> Problem:
    """The Problem of a drawn training."""
    rng = np.random.default_rng(spec["data_seed"])
    d_in, d_out, N = spec["sizes"][0], spec["sizes"][-1], spec["N"]
    Xn = rng.uniform(-1, 1, (N, d_in))
    w = rng.normal(size=(d_in, d_out))
    y = np.sin(2 * Xn @ w) + 0.1 * rng.normal(size=(N, d_out))
    net = Network(spec["sizes"], activation=spec["activations"], output_activation=spec["output_activation"],
                  use_bias=spec["use_bias"], init=spec["init"], seed=spec["net_seed"],
                  input_range=(-spec["scale"], spec["scale"]))
    kw = {}
    if spec["formulation"] == "multiple_shooting":
        kw = {"relu": spec["relu"], "leaky_relu": spec["leaky_relu"]}
    if spec["validation"]:
        Xv = rng.uniform(-1, 1, (max(N // 3, 1), d_in))
        kw.update(X_val=Xv * spec["scale"], y_val=np.sin(2 * Xv @ w))
    reg = {"none": None, "l2": nlpnet.L2(1e-3), "l1": nlpnet.L1(1e-3), "group_lasso": nlpnet.GroupLasso(1e-3)}
    prob = Problem(net, Xn * spec["scale"], y, formulation=spec["formulation"],
                   regularizer=reg[spec["regularizer"]], **kw)
    grid = np.linspace(-1, 1, 5)[:, None] * np.ones((1, d_in)) * spec["scale"]
    if spec["output_bound"]:
        prob.subject_to(prob.output(grid) <= 2.0)
    if spec.get("output_equality"):
        prob.subject_to(prob.output(grid[3:4]) == 0.1)    # not at x = 0: a bias-free output is 0 there
    return prob


def tolerance(spec: dict, res) -> float:
    """The violation a successful result of this solver may have (its documented test; a
    family registered later is held to the ALM's)."""
    family = get_solver(spec["solver"]).family
    if family == "ipopt":
        return 1e-6
    if family == "backprop":
        return 1e-12
    return 1e-3


def run(spec: dict) -> dict:
    """Solve one drawn training and judge the result (see the module docstring)."""
    out = {"solver": spec["solver"], "family": get_solver(spec["solver"]).family, "error": None,
           "overrun": False, "contradiction": None, "status": None}
    t0 = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")           # slow-set-up warnings are announcements, not results
            prob = build(spec)
            res = prob.solve(spec["solver"], **spec["options"])
    except Exception as exc:  # noqa: BLE001 — counting every exception is the point
        out["error"] = f"{type(exc).__name__}: {exc}"[:300]
        out["wall"] = time.perf_counter() - t0
        return out
    wall = time.perf_counter() - t0
    out.update(wall=wall, status=res.status, iterations=res.iterations, x=res.x, params=res.network.params,
               message=res.message)
    max_time = spec["options"].get("max_time")
    out["overrun"] = max_time is not None and wall > 1.2 * max_time + 0.5
    out["contradiction"] = contradiction(spec, prob, res)
    return out


def contradiction(spec, prob, res) -> str | None:
    if not isinstance(res.status, Status):
        return f"status {res.status!r} is not a Status"
    mse = prob.mse(res.network)
    if res.success and not np.isfinite(res.train_loss):
        return "success with a non-finite training loss"
    if res.success and not res.constraint_violation <= tolerance(spec, res) * (1 + 1e-9):
        return f"success with violation {res.constraint_violation:.3g} > {tolerance(spec, res):g}"
    if not np.isfinite(res.train_loss) and res.status not in OK_NONFINITE:
        return f"{res.status.value} with a non-finite training loss"
    if not (res.train_loss == mse or (np.isnan(mse) and np.isnan(res.train_loss))):
        return f"train_loss {res.train_loss!r} differs from the network's MSE {mse!r}"
    return None


def same(a: dict, b: dict) -> bool:
    if a["error"] or b["error"]:
        return a["error"] == b["error"]
    return (a["status"] is b["status"] and a["iterations"] == b["iterations"]
            and a["params"].tobytes() == b["params"].tobytes())


def sweep(trainings: int, seed: int = 0, quick: bool = False, recheck: int = 4, progress=None) -> dict:
    """Run the trainings; returns per-family counts and the offending cases."""
    rows = defaultdict(Counter)
    cases = []
    for i in range(trainings):
        spec = draw(seed, i, quick)
        r = run(spec)
        fam = r["family"]
        c = rows[fam]
        c["trainings"] += 1
        c["time"] += r["wall"]
        if r["error"]:
            c["exceptions"] += 1
            cases.append(("exception", i, spec, r["error"]))
            continue
        c[f"status:{r['status'].value}"] += 1
        c["not started"] += "not started" in r["message"]
        if r["overrun"]:
            c["overruns"] += 1
            cases.append(("overrun", i, spec, f"{r['wall']:.2f} s for max_time={spec['options']['max_time']}"))
        if r["contradiction"]:
            c["contradictions"] += 1
            cases.append(("contradiction", i, spec, r["contradiction"]))
        if recheck and i % recheck == 0 and r["status"] is not Status.MAX_TIME:
            again = run(spec)
            if again["status"] is not Status.MAX_TIME:
                c["rechecked"] += 1
                if not same(r, again):
                    c["nondeterministic"] += 1
                    cases.append(("nondeterministic", i, spec, f"{r['status']} / {again['status']}"))
        if progress and (i + 1) % progress == 0:
            print(f"  … {i + 1}/{trainings}", flush=True)
    return {"rows": rows, "cases": cases}


def table(result: dict) -> str:
    head = ("family", "trainings", "exceptions", "overruns", "contradictions", "non-determ.", "rechecked",
            "not started", "time [s]", "statuses")
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    total = Counter()
    for fam, c in sorted(result["rows"].items()):
        total.update(c)
        lines.append(_line(fam, c))
    lines.append(_line("**all**", total))
    return "\n".join(lines)


def _line(name, c):
    st = ", ".join(f"{k[7:]} {v}" for k, v in sorted(c.items()) if k.startswith("status:"))
    return (f"| {name} | {c['trainings']} | {c['exceptions']} | {c['overruns']} | {c['contradictions']} | "
            f"{c['nondeterministic']} | {c['rechecked']} | {c['not started']} | {c['time']:.1f} | {st} |")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--trainings", type=int, default=2000, help="random trainings to run")
    p.add_argument("--seed", type=int, default=0, help="seed of the random problem draw")
    p.add_argument("--quick", action="store_true", help="smaller trainings (N ≤ 40, width ≤ 5, fewer iterations)")
    p.add_argument("--recheck", type=int, default=4, help="rerun every k-th training to check determinism (0: off)")
    a = p.parse_args(argv)
    t0 = time.perf_counter()
    result = sweep(a.trainings, a.seed, a.quick, a.recheck, progress=max(a.trainings // 10, 1))
    print(f"\n{a.trainings} random trainings, seed {a.seed}{' (quick)' if a.quick else ''}, "
          f"{time.perf_counter() - t0:.0f} s\n")
    print(table(result))
    for kind, i, spec, what in result["cases"][:40]:
        print(f"\n{kind} in training {i}: {what}\n  {spec}")
    bad = sum(len(result["cases"]) for _ in [0])
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
