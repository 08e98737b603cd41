"""Every bad input is refused before work starts, with a message that names the argument.

One table: (case, call, expected exception, message regex). Its first part lists the public
constructors and entry points argument by argument (the cases of issue 10 among them); its
second part is generated: every field of every registered solver's options, given a value of
the wrong type and NaN, must be refused naming the field. A hypothesis test then draws random
*valid* inputs (NumPy scalars, lists of activations, bias on/off, NaN-free data of any scale)
and checks that nothing raises.
"""
from __future__ import annotations

import dataclasses
import math

import casadi as ca
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import nlpnet
from nlpnet import (Activation, ClassicRule, Dense, EarlyStopping, GaussNewton, GroupLasso, IpoptInner, L1, L2,
                    LevenbergMarquardt, LiuRule, MultipleShooting, Network, Problem, Status, ThesisRule)
from nlpnet.solvers import get_solver
from nlpnet.solvers.backprop import schedules

X1, Y1 = nlpnet.sine_data(8, seed=0)


def net(**kw):
    return Network([1, 3, 1], **kw)


def prob(**kw):
    return Problem(net(seed=0), X1, Y1, **kw)


def subject_to(*args, **kw):
    p = prob()
    return p.subject_to(*(a(p) if callable(a) else a for a in args), **kw)


def set_params(value):
    n = net(seed=0)
    n.params = value


def load(tmp_content: bytes | None, name="x.npz"):
    import tempfile
    from pathlib import Path
    d = Path(tempfile.mkdtemp())
    path = d / name
    if tmp_content == b"foreign":
        np.savez(path, weights=np.zeros(3))
    elif tmp_content == b"nolayers":
        np.savez(path, architecture=np.array('{"format": 1}'), params=np.zeros(3))
    elif tmp_content is not None:
        path.write_bytes(tmp_content)
    return Network.load(path)


# (case, call, exception, message regex)
CONSTRUCTORS = [
    # ---- Network
    ("Network layers float", lambda: Network([1, 4.0, 1]), TypeError, r"^layers\[1\]: expected an integer, got 4.0"),
    ("Network layers zero", lambda: Network([1, 0, 1]), ValueError, r"^layers: sizes must be positive"),
    ("Network layers str", lambda: Network("1,4,1"), TypeError, r"^layers: give a list of sizes"),
    ("Network layers mixed", lambda: Network([1, Dense(3)]), TypeError, r"^layers: mix of sizes and Dense"),
    ("Network activation None", lambda: net(activation=None), TypeError, r"^activation: got None; write 'identity'"),
    ("Network activation slope", lambda: net(activation=("tanh", 0.5)), ValueError,
     r"^activation: a slope alpha applies to 'leaky_relu' only"),
    ("Network activation list length", lambda: Network([1, 3, 3, 1], activation=["relu"]), ValueError,
     r"^activation: a list gives one activation per hidden layer; this network has 2 hidden layer\(s\), got 1"),
    ("Network activation list entry", lambda: Network([1, 3, 3, 1], activation=["relu", "swish"]), ValueError,
     r"^activation\[1\]: unknown activation 'swish'"),
    ("Network activation number", lambda: net(activation=3), TypeError, r"^activation: expected an activation name"),
    ("Network leaky slope str", lambda: net(activation=("leaky_relu", "a")), TypeError,
     r"^activation alpha: expected a number"),
    ("Network leaky slope 1.5", lambda: net(activation=("leaky_relu", 1.5)), ValueError,
     r"^activation alpha: the leaky_relu slope must lie in \(0, 1\)"),
    ("Network output_activation None", lambda: net(output_activation=None), TypeError, r"^output_activation: got None"),
    ("Network use_bias 'no'", lambda: net(use_bias="no"), TypeError, r"^use_bias: expected True or False, got 'no'"),
    ("Network n_inputs float", lambda: Network([Dense(3)], n_inputs=2.0), TypeError, r"^n_inputs: expected an integer"),
    ("Network n_inputs contradiction", lambda: Network([2, 3, 1], n_inputs=3), ValueError, r"^n_inputs=3 contradicts"),
    ("Network init name", lambda: net(init="xavier"), ValueError, r"^init: unknown initialiser 'xavier'"),
    ("Network init number", lambda: net(init=42), TypeError, r"^init: give an initialiser name"),
    ("Network seed -1", lambda: net(seed=-1), ValueError, r"^seed: must be an integer ≥ 0, got -1"),
    ("Network seed float", lambda: net(seed=1.5), TypeError, r"^seed: expected an integer ≥ 0"),
    ("Network input_range reversed", lambda: net(input_range=(1, 0)), ValueError,
     r"^input_range: the lower end exceeds the upper end"),
    ("Network input_range str", lambda: net(input_range="ab"), TypeError, r"^input_range: expected a pair"),
    ("Network input_range triple", lambda: net(input_range=(0, 1, 2)), TypeError, r"^input_range: expected a pair"),
    ("Network input_range NaN", lambda: net(input_range=(np.nan, 1)), ValueError, r"^input_range\[0\]: contains NaN"),
    ("Network input_range size", lambda: net(input_range=(0, [1, 2])), ValueError,
     r"^input_range\[1\]: expected a number or 1 values"),
    ("Network.params length", lambda: set_params(np.zeros(3)), ValueError, r"^params: expected 10 values, got 3"),
    ("Network.params NaN", lambda: set_params(np.full(10, np.nan)), ValueError, r"^params: contains NaN or inf"),
    ("Network.params str", lambda: set_params("abc"), TypeError, r"^params: expected real numbers"),
    ("Network.load missing", lambda: load(None), FileNotFoundError, r"^path: no saved network"),
    ("Network.load foreign", lambda: load(b"foreign"), ValueError, r"^path: .* is not a network saved by Network.save"),
    ("Network.load corrupt", lambda: load(b"garbage, not a zip"), ValueError, r"^path: .* is not a network saved"),
    ("Network.load no layers", lambda: load(b"nolayers"), ValueError, r"^path: .*corrupt architecture"),
    # ---- Dense, Activation
    ("Dense units 0", lambda: Dense(0), ValueError, r"^Dense.units: must be an integer ≥ 1"),
    ("Dense units float", lambda: Dense(2.5), TypeError, r"^Dense.units: expected an integer"),
    ("Dense activation None", lambda: Dense(3, None), TypeError, r"^Dense.activation: got None"),
    ("Dense use_bias 'no'", lambda: Dense(3, use_bias="no"), TypeError, r"^Dense.use_bias: expected True or False"),
    ("Activation name", lambda: Activation("swish"), ValueError, r"^Activation.name: must be one of"),
    ("Activation slope on tanh", lambda: Activation("tanh", 0.5), ValueError, r"^Activation.alpha: applies to"),
    ("Activation slope 2", lambda: Activation("leaky_relu", 2.0), ValueError, r"^Activation.alpha: the leaky_relu"),
    ("get_activation unknown", lambda: nlpnet.get_activation("relu6"), ValueError, r"^activation: unknown activation"),
    # ---- Problem
    ("Problem network", lambda: Problem("net", X1, Y1), TypeError, r"^network: expected nlpnet.Network"),
    ("Problem X NaN", lambda: Problem(net(), [[0.0], [np.nan]], [[0.0], [1.0]]), ValueError, r"^X: contains 1 NaN"),
    ("Problem X complex", lambda: Problem(net(), X1 + 1j, Y1), TypeError, r"^X: complex values are not supported"),
    ("Problem X strings", lambda: Problem(net(), X1.astype(str), Y1), TypeError, r"^X: expected a numeric array"),
    ("Problem X ragged", lambda: Problem(net(), [[1.0], [2.0, 3.0]], [[1.0], [2.0]]), ValueError, r"^X: is ragged"),
    ("Problem y rows", lambda: Problem(net(), X1, Y1[:3]), ValueError, r"^y: has 3 sample\(s\) but X has 8"),
    ("Problem y complex", lambda: Problem(net(), X1, Y1 * 1j), TypeError, r"^y: complex values"),
    ("Problem X_val alone", lambda: prob(X_val=X1), ValueError, r"^X_val, y_val: give both or neither"),
    ("Problem formulation", lambda: prob(formulation="direct"), ValueError, r"^formulation: unknown formulation"),
    ("Problem relu", lambda: prob(relu="smooth"), ValueError, r"^relu: must be one of"),
    ("Problem relu bool", lambda: prob(relu=True), TypeError, r"^relu: expected one of"),
    ("Problem epsilon str", lambda: prob(epsilon="a"), TypeError, r"^epsilon: expected a number, got 'a'"),
    ("Problem epsilon NaN", lambda: prob(epsilon=np.nan), ValueError, r"^epsilon: must be a finite number"),
    ("Problem epsilon negative", lambda: prob(epsilon=-1.0), ValueError, r"^epsilon: must be a number ≥ 0"),
    ("Problem regularizer", lambda: prob(regularizer=0.1), TypeError, r"^regularizer: expected nlpnet.L2/L1/GroupLasso"),
    ("Problem loss", lambda: prob(loss="mae"), ValueError, r"^loss: unknown loss 'mae'; .*did you mean 'mse'\?"),
    ("Problem.output columns", lambda: prob().output(np.zeros((3, 2))), ValueError, r"^X: has 2 column"),
    # ---- subject_to
    ("subject_to lower=nan", lambda: subject_to(lambda p: p.output(X1), lower=np.nan), ValueError,
     r"^lower: contains NaN; use ±inf"),
    ("subject_to upper=nan", lambda: subject_to(lambda p: p.theta[0], upper=np.nan), ValueError, r"^upper: contains NaN"),
    ("subject_to output <= nan", lambda: subject_to(lambda p: p.output(X1) <= np.nan), ValueError,
     r"^constraint: a bound is NaN or infinite"),
    ("subject_to output >= nan", lambda: subject_to(lambda p: p.output(X1) >= np.nan), ValueError,
     r"^constraint: a bound is NaN or infinite"),
    ("subject_to == inf", lambda: subject_to(lambda p: p.theta[0] == np.inf), ValueError,
     r"^constraint: a bound is NaN or infinite"),
    ("subject_to lower size", lambda: subject_to(lambda p: p.output(X1), lower=[1, 2]), ValueError,
     r"^lower: expected a number or 8 values"),
    ("subject_to lower > upper", lambda: subject_to(lambda p: p.theta[0], lower=1, upper=0), ValueError,
     r"^lower/upper: some lower bounds exceed"),
    ("subject_to nothing", lambda: prob().subject_to(), TypeError, r"^subject_to: give a comparison"),
    ("subject_to bool", lambda: subject_to(True), TypeError, r"^constraint: got a plain bool"),
    ("subject_to MX", lambda: subject_to(ca.MX.sym("m") <= 1), TypeError, r"^constraint: MX expressions"),
    ("subject_to foreign symbol", lambda: subject_to(ca.SX.sym("w") <= 1), ValueError,
     r"^constraint: uses symbols that are not this problem's"),
    ("add_objective vector", lambda: prob().add_objective(prob().theta), ValueError, r"^term: objective terms must be"),
    # ---- losses and formulations
    ("L2 str", lambda: L2("a"), TypeError, r"^L2.strength: expected a number, got 'a'"),
    ("L2 NaN", lambda: L2(np.nan), ValueError, r"^L2.strength: must be a finite number"),
    ("L2 negative", lambda: L2(-1.0), ValueError, r"^L2.strength: must be a number ≥ 0"),
    ("L1 inf", lambda: L1(np.inf), ValueError, r"^L1.strength: must be a finite number"),
    ("GroupLasso smoothing inf", lambda: GroupLasso(0.1, smoothing=np.inf), ValueError,
     r"^GroupLasso.smoothing: must be a finite number"),
    ("GroupLasso smoothing 0", lambda: GroupLasso(0.1, smoothing=0.0), ValueError,
     r"^GroupLasso.smoothing: must be a number > 0"),
    ("MultipleShooting epsilon", lambda: MultipleShooting(epsilon="a"), TypeError, r"^epsilon: expected a number"),
    ("MultipleShooting leaky", lambda: MultipleShooting(leaky_relu="exact"), ValueError, r"^leaky_relu: must be one of"),
    # ---- option objects
    ("EarlyStopping patience", lambda: EarlyStopping(patience=-1), ValueError, r"^early_stopping.patience: must be"),
    ("EarlyStopping monitor", lambda: EarlyStopping(monitor="acc"), ValueError, r"^early_stopping.monitor: must be"),
    ("EarlyStopping restore 'yes'", lambda: EarlyStopping(restore_best_weights="yes"), TypeError,
     r"^early_stopping.restore_best_weights: expected True or False"),
    ("ThesisRule beta 1", lambda: ThesisRule(beta=1.0), ValueError, r"^rule.beta: must be > 1"),
    ("ThesisRule beta inf", lambda: ThesisRule(beta=np.inf), ValueError, r"^rule.beta: must be a finite number"),
    ("ClassicRule increase", lambda: ClassicRule(increase=0.5), ValueError, r"^rule.increase: must be > 1"),
    ("LiuRule eta1", lambda: LiuRule(eta1=2.0), ValueError, r"^rule.eta1: must be < 1"),
    ("LevenbergMarquardt max_iter", lambda: LevenbergMarquardt(max_iter=0), ValueError, r"^inner.max_iter: must be"),
    ("GaussNewton linear_solver", lambda: GaussNewton(linear_solver="qr"), ValueError,
     r"^inner.linear_solver: must be one of"),
    ("IpoptInner ipopt bogus", lambda: IpoptInner(ipopt={"bogus": 1}), ValueError,
     r"^inner.ipopt: IPOPT rejected the options"),
    ("schedule constant 0", lambda: schedules.constant(0.0), ValueError, r"^initial: must be a number > 0"),
    ("schedule exponential rate", lambda: schedules.exponential(1e-2, -1.0), ValueError, r"^rate: must be a number ≥ 0"),
    ("schedule piecewise", lambda: schedules.piecewise_constant([2, 1], [1.0, 2.0, 3.0]), ValueError,
     r"^boundaries: must be increasing"),
    # ---- solver options with a meaning beyond their type
    ("ipopt tol inf", lambda: prob().solve("ipopt", tol=np.inf), ValueError, r"^tol: must be a finite number"),
    ("ipopt pass-through max_iter", lambda: prob().solve("ipopt", ipopt={"max_iter": 3}), ValueError,
     r"^ipopt: 'max_iter' is set by nlpnet; use the solver option max_iter="),
    ("ipopt pass-through bad type", lambda: prob().solve("ipopt", ipopt={"print_level": "abc"}), TypeError,
     r"^ipopt: print_level: expected an integer"),
    ("ipopt pass-through bad value", lambda: prob().solve("ipopt", ipopt={"mu_strategy": "bogus"}), ValueError,
     r"^ipopt: IPOPT rejected"),
    ("ipopt pass-through bogus", lambda: prob().solve("ipopt", ipopt={"bogus": 1}), ValueError,
     r"^ipopt: IPOPT rejected the options \{'bogus': 1\}"),
    ("ipopt homotopy", lambda: prob().solve("ipopt", homotopy=(1e-2, -1.0)), ValueError, r"^homotopy: must be"),
    ("ipopt typo", lambda: prob().solve("ipopt", max_itr=5), ValueError,
     r"^options: unknown option\(s\) 'max_itr' for solver 'ipopt'; did you mean 'max_iter'\?"),
    ("ipopt patience without validation", lambda: prob().solve("ipopt", patience=3), ValueError,
     r"^patience: stops on the validation loss, but the problem has no validation data"),
    ("alm patience without validation", lambda: prob().solve("alm", patience=3), ValueError,
     r"^patience: stops on the validation loss"),
    ("alm beta inf", lambda: prob().solve("alm", beta=np.inf), ValueError, r"^rule.beta: must be a finite number"),
    ("alm rule_options str", lambda: prob().solve("alm", rule_options="x"), TypeError,
     r"^rule_options: expected a dict, got str 'x'"),
    ("alm rule_options bogus", lambda: prob().solve("alm", rule_options={"bogus": 1}), ValueError,
     r"^rule_options: unknown option\(s\) 'bogus'"),
    ("alm inner ipopt bogus", lambda: prob().solve("alm", inner="ipopt", ipopt={"bogus": 1}), ValueError,
     r"^inner.ipopt: IPOPT rejected"),
    ("alm shortcut mismatch", lambda: prob().solve("alm", inner="ipopt", linear_solver="cg"), ValueError,
     r"^linear_solver: does not apply to inner='ipopt'"),
    ("lm_backprop mu inf", lambda: prob().solve("lm_backprop", mu=np.inf), ValueError, r"^mu: must be a finite number"),
    ("adam lr inf", lambda: prob().solve("adam", learning_rate=np.inf), ValueError,
     r"^learning_rate: must be a finite number"),
    ("adam lr callable signature", lambda: prob().solve("adam", learning_rate=lambda: 0.1), TypeError,
     r"^learning_rate: a callable learning rate must map the epoch index"),
    ("adam lr callable value", lambda: prob().solve("adam", learning_rate=lambda t: -1.0), TypeError,
     r"^learning_rate: a callable learning rate"),
    ("adam alias conflict", lambda: prob().solve("adam", max_iter=3, epochs=3), ValueError,
     r"^epochs: is another name for 'max_iter'"),
    ("adam early_stopping dict", lambda: prob().solve("adam", early_stopping={"patience": -1}), ValueError,
     r"^early_stopping.patience"),
    ("adam val_loss without data", lambda: prob().solve("adam", early_stopping={"monitor": "val_loss"}), ValueError,
     r"^early_stopping.monitor: 'val_loss' needs validation data"),
    ("solver name", lambda: prob().solve("bfgs"), ValueError, r"^solver: unknown solver 'bfgs'; did you mean"),
    # ---- data helpers and their seeds
    ("sine_data seed", lambda: nlpnet.sine_data(10, seed=-1), ValueError, r"^seed: must be an integer ≥ 0"),
    ("sin_x2_data seed", lambda: nlpnet.sin_x2_data(10, seed="a"), TypeError, r"^seed: expected an integer ≥ 0"),
    ("train_test_split seed", lambda: nlpnet.train_test_split(X1, Y1, 0.25, seed=-1), ValueError, r"^seed: must be"),
    ("train_test_split fraction", lambda: nlpnet.train_test_split(X1, Y1, 2.0), ValueError, r"^test_fraction:"),
]


# ---- every field of every solver's options: a string and NaN must be refused naming the field
def _field_cases():
    seen = set()
    for name in sorted(nlpnet.available_solvers()):
        spec = get_solver(name)
        for f in dataclasses.fields(spec.options):
            for bad in ("zz", math.nan):
                key = (spec.options, f.name, repr(bad))
                if key in seen:
                    continue
                seen.add(key)
                yield (f"{name}.{f.name}={bad!r}", (lambda n=name, k=f.name, v=bad: _solve_with(n, k, v)),
                       (TypeError, ValueError), rf"^{f.name}[:.( ]")


def _solve_with(solver, key, value):
    spec = get_solver(solver)
    p = prob() if spec.formulation is None else Problem(net(seed=0), X1, Y1, formulation="single_shooting")
    return p.solve(solver, **{key: value})


TABLE = CONSTRUCTORS + list(_field_cases())


@pytest.mark.parametrize("case, call, exc, match", TABLE, ids=[row[0] for row in TABLE])
def test_bad_input_is_refused_naming_the_argument(case, call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_the_table_covers_every_solver_option():
    names = {row[0].split("=")[0] for row in TABLE}
    for solver in nlpnet.available_solvers():
        for f in dataclasses.fields(get_solver(solver).options):
            assert f"{solver}.{f.name}" in names or any(n.endswith(f".{f.name}") for n in names)


# ------------------------------------------------------------------ valid inputs never raise
_ACT = st.sampled_from(["tanh", "sigmoid", "relu", "softplus", "identity", "leaky_relu", ("leaky_relu", 0.2),
                        "leaky_relu(0.05)", Activation("tanh")])
_INT = st.sampled_from([int, np.int64, np.int32])
_FLOAT = st.sampled_from([float, np.float64, np.float32])


@settings(max_examples=25, deadline=None, database=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_random_valid_inputs_never_raise(data):
    d = data.draw(st.lists(st.integers(1, 4), min_size=3, max_size=4), label="sizes")
    hidden = len(d) - 2
    activation = data.draw(st.one_of(_ACT, st.lists(_ACT, min_size=hidden, max_size=hidden)), label="activation")
    bias = data.draw(st.sampled_from([True, False, np.True_, np.False_]), label="use_bias")
    seed = data.draw(st.one_of(st.none(), st.integers(0, 2 ** 31 - 1)), label="seed")
    seed = None if seed is None else data.draw(_INT, label="seed type")(seed)
    lo = data.draw(st.floats(-5, 5), label="lo")
    width = data.draw(st.floats(0, 5), label="width")
    init = data.draw(st.sampled_from(["glorot_uniform", "glorot_normal", "he_uniform", "he_normal",
                                      "nguyen_widrow"]), label="init")
    network = Network([data.draw(_INT)(v) for v in d], activation=activation, use_bias=bias, seed=seed, init=init,
                      input_range=(lo, lo + width))
    n = data.draw(st.integers(1, 12), label="n")
    scale = 10.0 ** data.draw(st.integers(-6, 6), label="scale")
    rng = np.random.default_rng(data.draw(st.integers(0, 100)))
    X = (rng.uniform(-1, 1, (n, d[0])) * scale).astype(data.draw(st.sampled_from([np.float64, np.float32, int])))
    y = rng.normal(size=(n, d[-1]))
    formulation = data.draw(st.sampled_from(["single_shooting", "multiple_shooting"]), label="formulation")
    problem = Problem(network, X, list(map(list, y)) if data.draw(st.booleans()) else y, formulation=formulation)
    solvers = [s for s in nlpnet.available_solvers()
               if formulation == "multiple_shooting" or not get_solver(s).requires]
    solver = data.draw(st.sampled_from(sorted(solvers)), label="solver")
    kw = {"max_iter": data.draw(_INT)(data.draw(st.integers(0, 3))), "max_time": data.draw(_FLOAT)(20.0),
          "seed": data.draw(_INT)(data.draw(st.integers(0, 9))), "verbose": data.draw(st.sampled_from([0, False]))}
    if get_solver(solver).family == "backprop" and solver not in ("lbfgs", "lm_backprop"):
        kw["learning_rate"] = data.draw(_FLOAT)(1e-3)
    res = problem.solve(solver, **kw)
    assert isinstance(res.status, Status)
    network.predict(X)
    res.network.to_casadi()
