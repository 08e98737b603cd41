"""The lecture on training and optimisation: its numbers rerun, ours beside theirs.

Four examples (the slides give one run of each and no seeds; choices the slides leave open
are marked *ours*):

* ``adam-vs-nadam`` — y = 5 + Σ_{k=1..4} sin(kx) for x < 0, cos(10x) for x ≥ 0; two hidden
  layers of 100 tanh units, linear output, learning rate 1e-3 (the slide). *Ours*: x =
  linspace(−π, π, 201), full batch, 2000 epochs, PyTorch's default initialisation
  (weights and biases U(±1/√fan_in), as the lecture's PyTorch code); the *error* is the
  training MSE (the slide says "MSE error"); also the MSE on a 1001-point grid (test_mse).
* ``adam-then-lbfgs`` — y = x² + 0.1·U(0, 1), x = linspace(−1, 1, 100), 1-100-1 ReLU, Adam
  lr 1e-3 (the lecture's code); Adam for 30 iterations then L-BFGS for 50 (method
  ``adam_lbfgs``), against Adam alone and L-BFGS alone with the same 80 iterations. The
  lecture's L-BFGS keeps 8 pairs; so does ours. *Ours*: one data draw and one PyTorch-style
  initialisation per seed, shared by the three methods.
* ``schedules`` — noisy gradient descent x ← x − η_t (∇f(x) + ξ), ξ ~ N(0, I), on
  f(x) = x₁² + 2x₂² from (−5, −2.5), η_t = 0.1·s(t): constant s = 1 for 70 steps,
  exponential s = e^{−0.1 t} for 2500 steps, polynomial s = (1 + 0.02 t)^{−1/2} for 25 steps
  (the step counts of the lecture's code). Its counter starts at t = 2 on the first step;
  ours too. Driven through the optimizer and schedule API (``gd`` ``init``/``update``,
  ``schedules.exponential``/``power``). *Ours*: 10 noise seeds per run count.
* ``collapse`` — the 10-layer width-2 ReLU net on |x| with Adam, as in the ``collapse``
  experiment (``--collapse-runs``, default 1000; lecture: ≈ 93 % collapse).

``--quick``: 2 seeds; the first example with 10-unit layers for 100 epochs; 20 collapse runs
of ≤ 300 epochs.
Writes ``runs.csv``, ``table.md`` and ``adam_nadam.png``, ``adam_lbfgs.png``, ``schedules.png``.
"""
from __future__ import annotations

import numpy as np

import nlpnet

from . import collapse
from ..analysis import as_float, group_rows, wilson
from ..plotting import legend_outside, panel_grid, plot_fit, plot_training_curves, pretty, save
from .base import nonnegative_int
from .published import LECTURE, fmt, markdown_table, optimizers, schedules, write_report

TITLE = "The lecture's examples: our numbers beside the published ones"
COLUMNS = ("x1_end", "x2_end", "f_end") + collapse.COLUMNS
SCHEDULES = {"constant": 70, "exponential": 2500, "polynomial": 25}   # steps, as in the lecture's code
X0, ETA, T0 = (-5.0, -2.5), 0.1, 2
SEEDS_PER_RUN = 10


def add_arguments(p):
    p.add_argument("--collapse-runs", type=nonnegative_int, default=1000,
                   help="Adam runs of the collapse example (default 1000; --quick: 20)")
    p.add_argument("--epochs", type=nonnegative_int, default=2000,
                   help="full-batch epochs of the Adam vs Nadam example (default 2000; --quick: 100)")


def check_arguments(parser, args):
    if args.quick:
        args.collapse_runs, args.epochs = 20, 100


# --- the three training examples ------------------------------------------------------------

def torch_default_init(sizes, seed):
    """PyTorch's nn.Linear default: W and b uniform in ±1/√fan_in."""
    rng = np.random.default_rng(seed)
    return [(rng.uniform(-1, 1, (b, a)) / np.sqrt(a), rng.uniform(-1, 1, b) / np.sqrt(a))
            for a, b in zip(sizes[:-1], sizes[1:])]


def piecewise_target(x):
    x = np.asarray(x, float)
    return np.where(x < 0, 5 + sum(np.sin(k * x) for k in range(1, 5)), np.cos(10 * x))


def adam_nadam_problem(seed, width=100):
    X = np.linspace(-np.pi, np.pi, 201).reshape(-1, 1)
    sizes = [1, width, width, 1]
    net = nlpnet.Network(sizes, activation="tanh", init=torch_default_init(sizes, seed))
    return nlpnet.Problem(net, X, piecewise_target(X), formulation="single_shooting")


def hybrid_problem(seed):
    rng = np.random.default_rng(seed)
    X = np.linspace(-1, 1, 100).reshape(-1, 1)
    y = X ** 2 + 0.1 * rng.uniform(0, 1, X.shape)
    sizes = [1, 100, 1]
    net = nlpnet.Network(sizes, activation="relu", init=torch_default_init(sizes, seed + 10_000))
    return nlpnet.Problem(net, X, y, formulation="single_shooting")


HYBRID = {"adam": ("adam", {"learning_rate": 1e-3, "max_iter": 80}),
          "lbfgs": ("lbfgs", {"max_iter": 80, "memory": 8}),
          "adam_lbfgs": ("adam_lbfgs", {"learning_rate": 1e-3, "max_iter": 30, "lbfgs_iter": 50, "memory": 8})}


def solve(task):
    if task["config"] == "adam-vs-nadam":
        prob = adam_nadam_problem(task["seed"], task["width"])
        return prob, prob.solve(task["method"], learning_rate=1e-3, max_iter=task["epochs"])
    prob = hybrid_problem(task["seed"])
    solver, opts = HYBRID[task["method"]]
    return prob, prob.solve(solver, **opts)


def schedule(kind):
    """s(t) of the lecture, through nlpnet's schedules (its counter starts at t = 2)."""
    s = {"constant": schedules.constant(ETA), "exponential": schedules.exponential(ETA, 0.1),
         "polynomial": schedules.power(ETA, beta=0.02, alpha=0.5)}[kind]
    return lambda t: s(t + T0)


def noisy_descent(kind, seed, noise=True) -> np.ndarray:
    """The trajectory (steps + 1 points) of gd on f = x₁² + 2x₂² with N(0, 1) gradient noise."""
    opt = optimizers.gd(learning_rate=schedule(kind))
    rng = np.random.default_rng(seed)
    x = np.array(X0)
    state = opt.init(x)
    path = [x]
    for _ in range(SCHEDULES[kind]):
        g = np.array([2 * x[0], 4 * x[1]]) + (rng.standard_normal(2) if noise else 0.0)
        step, state = opt.update(g, state, x)
        x = x + step
        path.append(x)
    return np.array(path)


def trial(task) -> dict:
    if task["config"] == "collapse":
        return collapse.trial(task)
    if task["config"] == "schedules":
        x = noisy_descent(task["method"], task["seed"])[-1]
        return {"status": "success", "train_mse": "", "test_mse": "", "iterations": SCHEDULES[task["method"]],
                "x1_end": x[0], "x2_end": x[1], "f_end": x[0] ** 2 + 2 * x[1] ** 2}
    prob, res = solve(task)
    row = {"status": res.status.value, "train_mse": res.train_loss, "test_mse": "", "time_s": res.wall_time,
           "iterations": res.iterations, "message": res.message}
    if task["config"] == "adam-vs-nadam":
        grid = np.linspace(-np.pi, np.pi, 1001).reshape(-1, 1)
        row["test_mse"] = float(np.mean((res.network.predict(grid) - piecewise_target(grid)) ** 2))
    return row


def tasks(args) -> list[dict]:
    s0, R = args.seed, args.runs
    out = [{"config": "adam-vs-nadam", "method": m, "seed": s0 + r, "epochs": args.epochs,
            "width": 10 if args.quick else 100}
           for r in range(R) for m in ("adam", "nadam")]
    out += [{"config": "adam-then-lbfgs", "method": m, "seed": s0 + r} for r in range(R) for m in HYBRID]
    out += [{"config": "schedules", "method": k, "seed": s0 + r} for k in SCHEDULES for r in range(SEEDS_PER_RUN * R)]
    out += [{"config": "collapse", "method": "adam", "seed": s0 + r, "epochs": 300 if args.quick else 3000,
             "max_time": 60.0} for r in range(args.collapse_runs)]
    return out


# --- the report -------------------------------------------------------------------------------

def _spread(values, spec=".3g") -> str:
    v = np.array([as_float(x) for x in values], float)
    v = v[np.isfinite(v)]
    return f"{fmt(np.median(v), spec)} [{fmt(v.min(), spec)}, {fmt(v.max(), spec)}]" if v.size else "–"


def _paired_wins(rows, config, winner, others):
    """Seeds on which ``winner`` has the lowest final training MSE among ``others``."""
    by = group_rows([r for r in rows if r["config"] == config], "seed")
    wins = n = 0
    for rs in by.values():
        mse = {r["method"]: as_float(r["train_mse"]) for r in rs}
        if all(m in mse for m in [winner, *others]):
            n += 1
            wins += all(mse[winner] < mse[o] for o in others)
    return wins, n


def _table(rows) -> list[list]:
    by = group_rows(rows, "config", "method")
    out, pub = [], LECTURE["adam_vs_nadam"]
    for m in ("adam", "nadam"):
        rs = by.get(("adam-vs-nadam", m), [])
        if rs:
            out.append(["Adam vs Nadam" if m == "adam" else "", f"{pretty(m)}: training MSE, median [min, max]",
                        _spread(r["train_mse"] for r in rs), fmt(pub[m]["error"]), f"{len(rs)} seeds"])
            out.append(["", f"{pretty(m)}: MSE on a 1001-point grid", _spread(r["test_mse"] for r in rs), "–", ""])
            out.append(["", f"{pretty(m)}: time per run [s], median [min, max]", _spread([r["time_s"] for r in rs], ".2f"),
                        fmt(pub[m]["time"], ".2f"), "our machine is shared; see docs"])
    w, n = _paired_wins(rows, "adam-vs-nadam", "adam", ["nadam"])
    if n:
        out.append(["", "seeds on which Adam's error is below Nadam's", f"{w}/{n}", "\"always\"", "same initial weights"])
    for m in HYBRID:
        rs = by.get(("adam-then-lbfgs", m), [])
        if rs:
            out.append(["Adam then L-BFGS" if m == "adam" else "", f"{pretty(m)}: final training MSE after 80 "
                        "iterations", _spread(r["train_mse"] for r in rs), "– (plot only)", f"{len(rs)} seeds"])
    w, n = _paired_wins(rows, "adam-then-lbfgs", "adam_lbfgs", ["adam", "lbfgs"])
    if n:
        out.append(["", "seeds on which Adam → L-BFGS ends lowest", f"{w}/{n}", "\"usually the winner\"", ""])
    for k, steps in SCHEDULES.items():
        rs = by.get(("schedules", k), [])
        if rs:
            x1 = np.array([as_float(r["x1_end"]) for r in rs])
            x2 = np.array([as_float(r["x2_end"]) for r in rs])
            clean = noisy_descent(k, 0, noise=False)[-1]
            lec = LECTURE["exponential_end"] if k == "exponential" else None
            out.append(["Learning-rate schedules" if k == "constant" else "", f"{k}, {steps} steps: end point, "
                        "mean ± std over seeds", f"({x1.mean():.3f} ± {x1.std():.3f}, {x2.mean():.3f} ± {x2.std():.3f})",
                        f"({lec[0]:.3f}, {lec[1]:.3f})" if lec else "– (plot only)",
                        f"{len(rs)} seeds; without noise ({clean[0]:.3f}, {clean[1]:.3f})"])
            out.append(["", f"{k}: f at the end point, median [min, max]", _spread(r["f_end"] for r in rs), "–", ""])
    rs = [r for r in by.get(("collapse", "adam"), []) if r.get("collapsed", "") != ""]
    if rs:
        k = sum(int(r["collapsed"]) for r in rs)
        lo, hi = wilson(k, len(rs))
        out.append(["Collapse, 10-layer width-2 ReLU on |x|", "Adam: collapsed fraction [95 % CI]",
                    f"{k / len(rs):.3f} [{lo:.3f}, {hi:.3f}]", f"≈ {LECTURE['collapse_fraction']:.2f}",
                    f"{len(rs)} runs; {sum(int(r['collapsed_init']) for r in rs)} constant already at initialisation"])
    return out


def report(rows, args, out, command) -> str:
    notes = ("One table for the lecture's four examples; the lecture's number beside ours where it prints one "
             "(its other results are plots). Our spread is over seeds because the lecture gives one run of each; "
             "the protocol choices the slides leave open are listed in `docs/experiments.md`.")
    text = write_report(out, TITLE, command, [notes, markdown_table(
        ["example", "quantity", "ours", "lecture", "note"], _table(rows))])
    _plots(rows, args, out)
    return text


def _median_seed(rows, config, method):
    rs = sorted((r for r in rows if r["config"] == config and r["method"] == method and
                 isinstance(r.get("train_mse"), float)), key=lambda r: r["train_mse"])
    return int(rs[len(rs) // 2]["seed"]) if rs else None


def _plots(rows, args, out):
    seed = _median_seed(rows, "adam-vs-nadam", "adam")
    if seed is not None:
        width = 10 if args.quick else 100
        fig, (a0, a1) = panel_grid(2, 2, panel=(5.4, 3.8))
        curves = {}
        for m in ("adam", "nadam"):
            prob, res = solve({"config": "adam-vs-nadam", "method": m, "seed": seed, "epochs": args.epochs,
                               "width": width})
            curves[m] = res.history["loss"]
            a0.plot(prob.X, res.network.predict(prob.X), lw=1.5, label=f"{pretty(m)} (MSE {res.train_loss:.3f})")
        a0.plot(prob.X, prob.y, "k.", ms=2, label="data")
        a0.set_xlabel("input x")
        a0.set_ylabel("output y")
        a0.set_title(f"fits of the median-error seed ({seed})")
        legend_outside(a0)
        plot_training_curves(curves, ax=a1, xlabel="epoch", ylabel="training MSE")
        save(fig, out / "adam_nadam.png")
    seed = _median_seed(rows, "adam-then-lbfgs", "adam_lbfgs")
    if seed is not None:
        fig, (a0, a1) = panel_grid(2, 2, panel=(5.4, 3.8))
        curves = {}
        for m in HYBRID:
            prob, res = solve({"config": "adam-then-lbfgs", "method": m, "seed": seed})
            curves[m] = res.history["loss"]
            if m == "adam_lbfgs":
                plot_fit(res.network, prob.X, prob.y, ax=a0, label=m)
        plot_training_curves(curves, ax=a1, xlabel="iteration", ylabel="training MSE")
        a1.axvline(30, color="0.5", ls=":", lw=1)
        a1.annotate("switch to L-BFGS", (30, 1.0), xycoords=("data", "axes fraction"), xytext=(3, -10),
                    textcoords="offset points", fontsize=7, color="0.3")
        a0.set_title(f"Adam → L-BFGS fit, seed {seed}")
        save(fig, out / "adam_lbfgs.png")
    kinds = [k for k in SCHEDULES if any(r["config"] == "schedules" and r["method"] == k for r in rows)]
    if kinds:
        fig, axes = panel_grid(len(kinds), 3, panel=(4.0, 3.4))
        g1, g2 = np.meshgrid(np.linspace(-5.5, 1.5, 200), np.linspace(-3, 1.5, 200))
        for ax, k in zip(axes, kinds):
            ax.contour(g1, g2, g1 ** 2 + 2 * g2 ** 2, levels=12, colors="0.75", linewidths=0.6)
            p = noisy_descent(k, args_seed(rows))
            ax.plot(p[:, 0], p[:, 1], "-o", ms=1.5, lw=0.7, color="tab:orange", label="noisy gradient")
            c = noisy_descent(k, 0, noise=False)
            ax.plot(c[:, 0], c[:, 1], "-", lw=1, color="tab:blue", label="without noise")
            ax.set_title(f"{k}, {SCHEDULES[k]} steps")
            ax.set_aspect("equal")
            ax.set_xlabel("x₁")
            ax.set_ylabel("x₂")
        legend_outside(axes[-1])
        save(fig, out / "schedules.png")


def args_seed(rows) -> int:
    """The first schedule seed of the sweep (the one drawn)."""
    return min(int(r["seed"]) for r in rows if r["config"] == "schedules")
