"""Activations, networks, parameter packing, initialisers, export and persistence."""
from __future__ import annotations

import casadi as ca
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nlpnet import Dense, Network, get_activation
from conftest import ACTIVATION_IDS, ACTIVATIONS, dm, make_data

# Reference activations written independently of nlpnet.
REF = {
    "tanh": np.tanh,
    "sigmoid": lambda a: 1.0 / (1.0 + np.exp(-a)),
    "relu": lambda a: np.where(a > 0, a, 0.0),
    "leaky_relu": lambda a: np.where(a > 0, a, 0.1 * a),
    "softplus": lambda a: np.log1p(np.exp(-np.abs(a))) + np.maximum(a, 0),
    "identity": lambda a: a,
}


# ------------------------------------------------------------------ activations
@pytest.mark.parametrize("spec", ACTIVATIONS, ids=ACTIVATION_IDS)
def test_activation_numpy_casadi_and_reference_agree(spec):
    act = get_activation(spec)
    a = np.concatenate([np.linspace(-6, 6, 121), [-40.0, 40.0]])
    ref = REF[act.name](a)
    np.testing.assert_allclose(act.numpy(a), ref, rtol=1e-13, atol=1e-15)
    x = ca.SX.sym("x")
    f = ca.Function("f", [x], [act.casadi(x)])
    np.testing.assert_allclose(dm(f(a)).ravel(), ref, rtol=1e-13, atol=1e-15)


def test_activations_do_not_overflow_for_large_inputs():
    a = np.array([-800.0, 800.0])
    np.testing.assert_array_equal(get_activation("softplus").numpy(a), [0.0, 800.0])
    np.testing.assert_array_equal(get_activation("sigmoid").numpy(a), [0.0, 1.0])
    x = ca.SX.sym("x")
    f = ca.Function("f", [x], [get_activation("softplus").casadi(x)])
    np.testing.assert_array_equal(dm(f(a)).ravel(), [0.0, 800.0])


@pytest.mark.parametrize("spec", ACTIVATIONS, ids=ACTIVATION_IDS)
def test_activation_derivative_matches_finite_differences(spec):
    act = get_activation(spec)
    a = np.concatenate([np.linspace(-5, -0.05, 40), np.linspace(0.05, 5, 40)])  # away from the kink at 0
    h = 1e-6
    fd = (act.numpy(a + h) - act.numpy(a - h)) / (2 * h)
    np.testing.assert_allclose(act.derivative(a), fd, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("spec", ACTIVATIONS, ids=ACTIVATION_IDS)
def test_activation_derivative_matches_casadi_ad(spec):
    act = get_activation(spec)
    x = ca.SX.sym("x")
    df = ca.Function("df", [x], [ca.jacobian(act.casadi(x), x)])
    a = np.array([-3.0, -0.7, -1e-3, 1e-3, 0.4, 2.5])
    np.testing.assert_allclose([float(df(v)) for v in a], act.derivative(a), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("spec,name,alpha", [
    ("linear", "identity", 0.0), ("tansig", "tanh", 0.0), ("poslin", "relu", 0.0),
    ("leaky_relu", "leaky_relu", 0.01), ("leaky_relu(0.2)", "leaky_relu", 0.2),
    (("leaky_relu", 0.3), "leaky_relu", 0.3), ("  TANH ", "tanh", 0.0)])
def test_get_activation_accepts_names_and_aliases(spec, name, alpha):
    act = get_activation(spec)
    assert act.name == name and act.alpha == pytest.approx(alpha)


@pytest.mark.parametrize("spec,exc,match", [
    ("swish", ValueError, r"activation: unknown activation 'swish'.*tanh"),
    (("leaky_relu", 1.5), ValueError, r"^activation alpha: the leaky_relu slope must lie in \(0, 1\)"),
    (None, TypeError, r"^activation: got None; write 'identity' for a linear layer"),
    (("tanh", 0.5), ValueError, r"^activation: a slope alpha applies to 'leaky_relu' only"),
    (["relu", "tanh"], TypeError, r"^activation: expected one activation, got the list"),
    ("leaky_relu(abc)", ValueError, r"cannot read alpha"),
    (3, TypeError, r"activation: expected an activation name"),
])
def test_get_activation_rejects_bad_specs(spec, exc, match):
    with pytest.raises(exc, match=match):
        get_activation(spec)


def test_unknown_activation_in_network_names_argument():
    with pytest.raises(ValueError, match=r"activation: unknown activation 'relu6'"):
        Network([1, 4, 1], activation="relu6")
    with pytest.raises(ValueError, match=r"output_activation: unknown activation"):
        Network([1, 4, 1], output_activation="bogus")


# ------------------------------------------------------------------ structure
def test_shorthand_architecture_and_parameter_count():
    net = Network([1, 8, 8, 1], activation="tanh")
    assert net.sizes == [1, 8, 8, 1]
    assert [a.name for a in net.activations] == ["tanh", "tanh", "identity"]
    assert net.n_params == (8 + 8) + (64 + 8) + (8 + 1) == 97
    assert net.params.shape == (97,) and net.params.dtype == np.float64


def test_explicit_layers_with_mixed_bias_and_activations():
    net = Network([Dense(5, "relu"), Dense(3, ("leaky_relu", 0.2), use_bias=False), Dense(2, "sigmoid")],
                  n_inputs=4, seed=1)
    assert net.sizes == [4, 5, 3, 2]
    assert net.n_params == (20 + 5) + 15 + (6 + 2)
    W, b = net.get_weights()[1]
    assert W.shape == (3, 5) and b is None
    assert net.activations[1].alpha == 0.2
    assert net.predict(np.zeros((6, 4))).shape == (6, 2)


@pytest.mark.parametrize("kwargs,exc,match", [
    (dict(layers=[1]), ValueError, r"layers: need at least input and output"),
    (dict(layers=[1, 0, 1]), ValueError, r"layers: sizes must be positive"),
    (dict(layers=[]), TypeError, r"layers:"),
    (dict(layers=[Dense(3)]), ValueError, r"n_inputs: required"),
    (dict(layers=[1, Dense(3)]), TypeError, r"layers: mix"),
    (dict(layers=[2, 3, 1], n_inputs=3), ValueError, r"n_inputs=3 contradicts layers\[0\]=2"),
    (dict(layers=[1, 3, 1], init="xavier"), ValueError, r"init: unknown initialiser 'xavier'.*glorot_uniform"),
    (dict(layers=[1, 3, 1], init=42), TypeError, r"init:"),
])
def test_network_rejects_bad_arguments(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        Network(**kwargs)


def test_dense_rejects_bad_units():
    with pytest.raises(ValueError, match=r"Dense.units"):
        Dense(0)
    with pytest.raises(TypeError, match=r"^Dense.units: expected an integer"):
        Dense(2.5)


def test_packing_is_column_major_layer_by_layer():
    net = Network([2, 3, 1], seed=3, init="glorot_normal")
    (W1, b1), (W2, b2) = net.get_weights()
    expected = np.concatenate([W1.ravel(order="F"), b1, W2.ravel(order="F"), b2])
    np.testing.assert_array_equal(net.params, expected)
    # same layout on the CasADi side
    theta = ca.SX.sym("t", net.n_params)
    Ws = ca.Function("W", [theta], [w for w, _ in net.symbolic_weights(theta)])
    for got, want in zip(Ws(net.params), (W1, W2)):
        np.testing.assert_array_equal(dm(got), want)


def test_set_weights_and_params_validate():
    net = Network([2, 3, 1])
    with pytest.raises(ValueError, match=r"init: expected 2 \(W, b\) pairs"):
        net.set_weights([(np.zeros((3, 2)), np.zeros(3))])
    with pytest.raises(ValueError, match=r"init: layer 0 weight has shape \(2, 3\), expected \(3, 2\)"):
        net.set_weights([(np.zeros((2, 3)), np.zeros(3)), (np.zeros((1, 3)), np.zeros(1))])
    with pytest.raises(ValueError, match=r"init: layer 1 bias has shape"):
        net.set_weights([(np.zeros((3, 2)), np.zeros(3)), (np.zeros((1, 3)), np.zeros(2))])
    with pytest.raises(ValueError, match=r"params: expected 13 values, got 12"):
        net.set_params(np.zeros(12))
    with pytest.raises(ValueError, match=r"params: contains NaN"):
        net.set_params(np.full(13, np.nan))


def test_with_params_and_copy_do_not_alias():
    net = Network([1, 3, 1], seed=0)
    other = net.with_params(np.ones(net.n_params))
    assert np.all(other.params == 1) and not np.all(net.params == 1)
    c = net.copy()
    c.params[0] += 1.0
    assert c.params[0] != net.params[0]


# ------------------------------------------------------------------ initialisers
INITS = ["glorot_uniform", "glorot_normal", "he_uniform", "he_normal", "nguyen_widrow"]


@pytest.mark.parametrize("init", INITS)
def test_initialisers_are_seeded(init):
    a = Network([2, 6, 5, 1], init=init, seed=7)
    b = Network([2, 6, 5, 1], init=init, seed=7)
    c = Network([2, 6, 5, 1], init=init, seed=8)
    np.testing.assert_array_equal(a.params, b.params)
    assert not np.allclose(a.params, c.params)
    g = Network([2, 6, 5, 1], init=init, seed=np.random.default_rng(7))
    np.testing.assert_array_equal(g.params, a.params)
    assert [W.shape for W, _ in a.get_weights()] == [(6, 2), (5, 6), (1, 5)]
    assert np.all(np.isfinite(a.params))


@pytest.mark.parametrize("init", ["glorot_uniform", "glorot_normal", "he_uniform", "he_normal"])
def test_initialiser_variance_and_zero_bias(init):
    fan_in, fan_out = 400, 300
    net = Network([fan_in, fan_out, 1], init=init, seed=0)
    W, b = net.get_weights()[0]
    target = 2.0 / (fan_in + fan_out) if init.startswith("glorot") else 2.0 / fan_in
    assert W.var() == pytest.approx(target, rel=0.03)  # 120 000 draws: sampling error ~0.5 %
    assert abs(W.mean()) < 0.01 * np.sqrt(target)
    np.testing.assert_array_equal(b, 0.0)
    if init.endswith("uniform"):
        assert np.abs(W).max() <= np.sqrt(3 * target) + 1e-15
        assert np.abs(W).max() > 0.99 * np.sqrt(3 * target)


def test_nguyen_widrow_tanh_layer_matches_initnw():
    S, R = 8, 1
    net = Network([R, S, S, 1], activation="tanh", init="nguyen_widrow", seed=3, input_range=(0.0, 1.0))
    (W1, b1), (W2, b2), (W3, b3) = net.get_weights()
    # row norms 0.7 S^(1/R), scaled by 2 (the active interval [-2, 2]) and by 2/(hi-lo) = 2 (input range [0, 1])
    np.testing.assert_allclose(np.linalg.norm(W1, axis=1), 0.7 * S ** (1 / R) * 2 * 2, rtol=1e-12)
    # the units' active regions are spread over the input range: centres -b/w lie evenly in [0, 1]
    centres = np.sort(-b1 / W1[:, 0])
    np.testing.assert_allclose(centres, np.linspace(0, 1, S), atol=1e-12)
    # second layer (input range (-1, 1) from tanh): row norms 0.7 S^(1/S) · 2
    np.testing.assert_allclose(np.linalg.norm(W2, axis=1), 0.7 * S ** (1 / S) * 2, rtol=1e-12)
    # biases: mag · linspace(-1, 1, S) · sign(w_1), scaled to the active interval (initnw)
    mag2 = 0.7 * S ** (1 / S) * 2
    np.testing.assert_allclose(np.abs(b2), mag2 * np.abs(np.linspace(-1, 1, S)), rtol=1e-12)
    assert np.ptp(b2) > mag2  # spread, not all equal
    # the linear output layer falls back to U(-1, 1) (initnw's rands)
    assert np.all(np.abs(W3) <= 1) and np.all(np.abs(b3) <= 1)
    assert np.all(np.isfinite(net.params))


def test_nguyen_widrow_relu_falls_back_to_uniform():
    net = Network([3, 50, 1], activation="relu", init="nguyen_widrow", seed=0)
    W, b = net.get_weights()[0]
    assert np.all(np.abs(W) <= 1) and np.all(np.abs(b) <= 1)
    assert W.std() > 0.4 and b.std() > 0.4  # U(-1, 1) has std 0.577


def test_user_arrays_are_accepted_and_copied():
    W1, b1, W2 = np.arange(6.0).reshape(3, 2), np.array([1.0, 2.0, 3.0]), np.ones((1, 3))
    net = Network([2, 3, 1], init=[(W1, b1), (W2, None)])
    got = net.get_weights()
    np.testing.assert_array_equal(got[0][0], W1)
    np.testing.assert_array_equal(got[0][1], b1)
    np.testing.assert_array_equal(got[1][1], [0.0])  # None bias means zero
    W1[0, 0] = 99.0
    assert net.get_weights()[0][0][0, 0] == 0.0
    with pytest.raises(ValueError, match=r"init: layer 0 weight has shape"):
        Network([2, 3, 1], init=[(W1.T, b1), (W2, None)])


# ------------------------------------------------------------------ evaluation and export
def _manual_forward(net, X):
    Z = np.asarray(X, float)
    for (W, b), act in zip(net.get_weights(), net.activations):
        A = Z @ W.T + (0 if b is None else b)
        Z = REF[act.name](A) if act.name != "leaky_relu" else np.where(A > 0, A, act.alpha * A)
    return Z


@pytest.mark.parametrize("spec", ACTIVATIONS, ids=ACTIVATION_IDS)
def test_to_casadi_equals_predict(spec):
    net = Network([2, 5, 4, 3], activation=spec, seed=2)
    X, _ = make_data(9, 2, seed=1)
    f = net.to_casadi()
    assert f.name_in() == ["x"] and f.name_out() == ["y"]
    np.testing.assert_allclose(dm(f(X[0])).ravel(), net.predict(X[:1])[0], rtol=1e-13, atol=1e-14)
    batch = dm(f.map(X.shape[0])(X.T)).T
    np.testing.assert_allclose(batch, net.predict(X), rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(net.predict(X), _manual_forward(net, X), rtol=1e-13, atol=1e-14)


def test_to_casadi_embeds_in_another_problem_and_differentiates():
    net = Network([1, 4, 1], activation="tanh", seed=0)
    f = net.to_casadi()
    x = ca.MX.sym("x")
    J = ca.Function("J", [x], [ca.jacobian(f(x), x)])
    h = 1e-6
    fd = (net.predict([[0.3 + h]]) - net.predict([[0.3 - h]]))[0, 0] / (2 * h)
    assert float(J(0.3)) == pytest.approx(fd, rel=1e-7)
    opti = ca.Opti()
    u = opti.variable()
    opti.minimize((f(u) - 0.1) ** 2 + 1e-3 * u ** 2)
    opti.subject_to(opti.bounded(-2, u, 2))
    opti.solver("ipopt", {"print_time": False}, {"print_level": 0, "sb": "yes"})
    assert np.isfinite(float(opti.solve().value(u)))


def test_predict_input_validation():
    net = Network([2, 3, 1])
    with pytest.raises(ValueError, match=r"X: has 3 column\(s\) but the network takes 2"):
        net.predict(np.zeros((4, 3)))
    with pytest.raises(ValueError, match=r"X: contains 1 NaN"):
        net.predict([[0.0, np.nan]])
    # 1-D input with n_inputs > 1 is one sample
    assert net.predict([0.1, 0.2]).shape == (1, 1)


def test_save_load_round_trip_is_exact(tmp_path):
    net = Network([Dense(6, ("leaky_relu", 0.13)), Dense(4, "sigmoid", use_bias=False), Dense(2, "softplus")],
                  n_inputs=3, init="he_normal", seed=5)
    net.set_params(net.params + 1e-3 * np.random.default_rng(0).standard_normal(net.n_params) / 3)
    path = net.save(tmp_path / "model")
    assert path.suffix == ".npz" and path.exists()
    back = Network.load(path)
    assert back.params.tobytes() == net.params.tobytes()
    assert back.sizes == net.sizes
    assert [l.activation for l in back.layers] == [l.activation for l in net.layers]
    assert back.layers[0].activation.alpha == 0.13
    assert [l.use_bias for l in back.layers] == [True, False, True]
    X, _ = make_data(11, 3, seed=4)
    np.testing.assert_array_equal(back.predict(X), net.predict(X))


def test_load_missing_file_names_path(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"path: no saved network"):
        Network.load(tmp_path / "nope.npz")


# ------------------------------------------------------------------ property tests
arch = st.tuples(
    st.integers(1, 3),
    st.lists(st.tuples(st.integers(1, 5), st.sampled_from(["tanh", "sigmoid", "relu", "leaky_relu(0.2)",
                                                            "softplus", "identity"]), st.booleans()),
             min_size=1, max_size=3),
    st.integers(0, 2 ** 31 - 1))


def _build(a):
    n_in, layers, seed = a
    return Network([Dense(u, act, bias) for u, act, bias in layers], n_inputs=n_in, seed=seed,
                   init="glorot_normal")


@settings(max_examples=40, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(arch)
def test_property_packing_round_trip(a):
    net = _build(a)
    expected = sum(u * d + (u if bias else 0) for (u, _, bias), d in zip(a[1], [a[0]] + [u for u, _, _ in a[1]]))
    assert net.n_params == expected
    pairs = net.get_weights()
    other = _build((a[0], a[1], a[2] + 1))
    other.set_weights(pairs)
    assert other.params.tobytes() == net.params.tobytes()
    for (W, b), (W2, b2) in zip(pairs, other.get_weights()):
        np.testing.assert_array_equal(W, W2)
        assert (b is None) == (b2 is None)
    # params -> weights -> params through the documented slices
    rebuilt = np.zeros(net.n_params)
    for (ws, bs), (W, b) in zip(net.param_slices(), pairs):
        rebuilt[ws] = W.ravel(order="F")
        if b is not None:
            rebuilt[bs] = b
    assert rebuilt.tobytes() == net.params.tobytes()


@settings(max_examples=30, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(arch, st.integers(1, 6))
def test_property_predict_equals_manual_forward_and_symbolic(a, n):
    net = _build(a)
    X = np.random.default_rng(a[2]).uniform(-2, 2, (n, net.n_inputs))
    out = net.predict(X)
    assert out.shape == (n, net.n_outputs)
    np.testing.assert_allclose(out, _manual_forward(net, X), rtol=1e-12, atol=1e-13)
    theta = ca.SX.sym("t", net.n_params)
    f = ca.Function("f", [theta], [net.symbolic_forward(theta, ca.DM(X.T))])
    np.testing.assert_allclose(dm(f(net.params)).T, out, rtol=1e-12, atol=1e-13)
