"""The penalized_lifting formulation: the NLP of (PP) — layout, rows, objective, violation,
unpack — its arguments, and what other solvers do with it."""
import numpy as np
import pytest

import nlpnet
from nlpnet import GroupLasso, Network, PenalizedLifting, Problem

ALPHA = 0.1


def data(n=9, d_in=3, d_out=2, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, d_in)), rng.standard_normal((n, d_out))


def leaky_problem(output="identity", lam=0.05, **form):
    X, Y = data()
    net = Network([3, 4, 5, 2], activation=("leaky_relu", ALPHA), output_activation=output, seed=1)
    return Problem(net, X, Y, formulation=PenalizedLifting(**form), regularizer=GroupLasso(lam))


def random_point(nlp, seed=0):
    return nlp.x0 + 0.3 * np.random.default_rng(seed).standard_normal(nlp.n_x)


def per_sample_reference(prob, x):
    """Rows and objective of (PP) written out sample by sample, layer by layer (no batching)."""
    nlp, form = prob.nlp, prob.formulation
    th, S = nlp.split(x)
    weights = Network.copy(prob.network).with_params(th).get_weights()
    alphas = nlp.evaluator.alphas
    beta = nlp.evaluator.beta
    rows, obj = [], 0.0
    for j in range(nlp.N):
        s, c, v_prev = S[j], 0, prob.X[j]
        eq, lower, leaky = [], [], []
        for (W, b), a, bl in zip(weights, alphas, beta):
            d = W.shape[0]
            u, v = s[c:c + d], s[c + d:c + 2 * d]
            c += 2 * d
            eq.append(u - W @ v_prev - b)
            lower.append(v - u)
            if a is not None:
                leaky.append(v - a * u)
            sig = u if a is None else np.maximum(u, a * u)
            obj += (bl * np.sum(v - sig) + form.lambda_v * v @ v) / nlp.N
            v_prev = v
        obj += np.sum((v_prev - prob.y[j]) ** 2) / nlp.N
        rows.append(np.concatenate(eq + lower + leaky))
    obj += 0.05 * sum(np.linalg.norm(W, axis=0).sum() for W, _ in weights)
    return np.array(rows), obj


@pytest.mark.parametrize("output", ["identity", ("leaky_relu", ALPHA)])
def test_rows_and_objective_match_a_per_sample_reference(output):
    prob = leaky_problem(output, lambda_v=0.01, beta=(1.0, 2.0, 3.0))
    nlp = prob.nlp
    n_s = 2 * (4 + 5 + 2)
    m = 2 * 11 + (4 + 5 + (2 if output != "identity" else 0))
    assert (nlp.samples.n_s, nlp.samples.m, nlp.n_x, nlp.n_g) == (n_s, m, prob.network.n_params + 9 * n_s, 9 * m)
    x = random_point(nlp)
    G_ref, f_ref = per_sample_reference(prob, x)
    np.testing.assert_allclose(nlp.g(x), G_ref.ravel(), rtol=1e-13, atol=1e-13)
    assert nlp.objective(x) == pytest.approx(f_ref, rel=1e-12)
    # the violation: the worst equality row or negative inequality row
    worst = max(np.abs(G_ref[:, :11]).max(), np.maximum(-G_ref[:, 11:], 0).max())
    assert nlp.constraint_violation(x) == pytest.approx(worst, rel=1e-12)


def test_the_start_is_a_forward_pass_and_feasible():
    prob = leaky_problem()
    nlp = prob.nlp
    Z = prob.network.forward_states(prob.X)
    th, S = nlp.split(nlp.x0)
    np.testing.assert_array_equal(th, prob.network.params)
    np.testing.assert_allclose(S[:, 4:8], Z[0], rtol=0, atol=1e-15)          # v1
    np.testing.assert_allclose(S[:, 20:22], Z[2], rtol=0, atol=1e-15)        # v3: the network output
    assert nlp.constraint_violation(nlp.x0) < 1e-14
    # at a forward pass v = σ(u): the penalty vanishes and the objective is TrainErr + R₁
    r1 = 0.05 * sum(np.linalg.norm(W, axis=0).sum() for W, _ in prob.network.get_weights())
    assert nlp.objective(nlp.x0) == pytest.approx(prob.mse(prob.network) + r1, rel=1e-12)


def test_unpack_gives_the_weights_and_named_states():
    prob = leaky_problem()
    x = random_point(prob.nlp, 3)
    un = prob.formulation.unpack(prob.nlp, x)
    np.testing.assert_array_equal(un.params, x[:prob.network.n_params])
    assert {k: v.shape for k, v in un.states.items()} == {"u1": (9, 4), "v1": (9, 4), "u2": (9, 5), "v2": (9, 5),
                                                         "u3": (9, 2), "v3": (9, 2)}
    np.testing.assert_array_equal(un.states["v2"][2], prob.nlp.split(x)[1][2, 13:18])


def test_relu_networks_get_the_bias_bound_on_every_bias():
    X, Y = data()
    net = Network([3, 4, 2], activation="relu", output_activation="relu", seed=0)
    nlp = Problem(net, X, Y, formulation=PenalizedLifting(bias_bound=2.0)).nlp
    b_idx = np.concatenate([np.arange(bs.start, bs.stop) for _, bs in net.param_slices()])
    assert np.all(nlp.lbx[b_idx] == -2.0) and np.all(np.isneginf(np.delete(nlp.lbx, b_idx)))
    assert nlp.evaluator.lambda_w == 0.0 and nlp.evaluator.alphas == (0.0, 0.0)   # no regularizer: λ_w = 0
    x = nlp.x0.copy()
    x[b_idx[0]] = -2.5
    assert nlp.constraint_violation(x) >= 0.5
    leaky = leaky_problem().nlp
    assert np.all(np.isneginf(leaky.lbx))                    # leaky ReLU: no bound


def test_the_formulation_by_name_and_its_parameters():
    X, Y = data()
    net = Network([3, 4, 2], activation="relu", seed=0)
    prob = Problem(net, X, Y, formulation="penalized_lifting")
    assert prob.nlp.formulation == "penalized_lifting" and prob.nlp.evaluator.beta == (2.0, 2.0)
    assert prob.nlp.evaluator.alphas == (0.0, None)
    with pytest.raises(ValueError, match=r"^relu: apply only to formulation='multiple_shooting'"):
        Problem(net, X, Y, formulation="penalized_lifting", relu="equality")


@pytest.mark.parametrize("make, message", [
    (lambda: Network([3, 4, 2], activation="tanh"), r"^network: the hidden layers .* got tanh"),
    (lambda: Network([nlpnet.Dense(4, "relu"), nlpnet.Dense(4, ("leaky_relu", 0.1)), nlpnet.Dense(2)], n_inputs=3),
     r"^network: the hidden layers .* all the same 'leaky_relu', got relu, leaky_relu\(0.1\)"),
    (lambda: Network([3, 4, 2], activation="relu", output_activation="tanh"),
     r"^network: the output activation .* 'identity' or the hidden layers' relu, got tanh"),
    (lambda: Network([3, 4, 2], activation=("leaky_relu", 0.1), output_activation=("leaky_relu", 0.2)),
     r"^network: the output activation"),
    (lambda: Network([3, 2], output_activation="sigmoid"), r"^network: the output activation .* 'relu' or"),
    (lambda: Network([3, 4, 2], activation="relu", use_bias=False), r"^network: .* use_bias=True"),
])
def test_networks_outside_the_model_are_refused(make, message):
    X, Y = data()
    with pytest.raises(ValueError, match=message):
        Problem(make(), X, Y, formulation=PenalizedLifting())


@pytest.mark.parametrize("kwargs, exc, message", [
    ({"regularizer": nlpnet.L2(1e-3)}, ValueError, r"^regularizer: .* one nlpnet.GroupLasso .* got L2"),
    ({"regularizer": [GroupLasso(1e-3), GroupLasso(1e-2)]}, ValueError, r"^regularizer: .*GroupLasso, GroupLasso"),
    ({"loss": "cross_entropy"}, ValueError, r"^loss: the penalized_lifting model fits the squared error"),
    ({"formulation": PenalizedLifting(beta=(1.0, 2.0, 3.0))}, ValueError, r"^beta: has 3 entries but the network"),
])
def test_arguments_outside_the_model_are_refused(kwargs, exc, message):
    X, Y = data()
    Y = np.eye(2)[np.arange(9) % 2]
    kwargs = {"formulation": PenalizedLifting(), **kwargs}
    with pytest.raises(exc, match=message):
        Problem(Network([3, 4, 2], activation="relu", seed=0), X, Y, **kwargs)


@pytest.mark.parametrize("kwargs, message", [
    ({"beta": -1.0}, r"^beta: must be a number > 0"), ({"beta": (1.0, "a")}, r"^beta\[1\]: expected a number"),
    ({"lambda_v": -0.1}, r"^lambda_v: must be a number ≥ 0"), ({"bias_bound": 0.0}, r"^bias_bound: must be a number > 0"),
])
def test_bad_formulation_parameters_are_refused(kwargs, message):
    with pytest.raises((ValueError, TypeError), match=message):
        PenalizedLifting(**kwargs)


def test_casadi_views_and_other_lifted_solvers_are_refused_with_what_to_use():
    prob = leaky_problem()
    for call in (prob.nlp.expanded, prob.nlp.functions, prob.nlp.jacobian_sparsity):
        with pytest.raises(ValueError, match=r"penalized_lifting NLP has no per-sample CasADi rows.*'ialam'"):
            call()
    with pytest.raises(ValueError, match=r"^solver: 'ipopt' reads per-sample CasADi rows.*solve\('ialam'\)"):
        prob.solve("ipopt")
    with pytest.raises(ValueError, match=r"^solver: 'alm' solves the multiple_shooting formulation"):
        prob.solve("alm")
    prob.subject_to(prob.theta[0] <= 1.0)
    with pytest.raises(ValueError, match=r"^ialam: the problem has extra constraints"):
        prob.solve("ialam")


def test_back_propagation_trains_the_same_network_in_single_shooting():
    prob = leaky_problem()
    res = prob.solve("adam", max_iter=5, learning_rate=1e-2)
    assert res.formulation == "single_shooting" and res.iterations == 5
    assert res.train_loss == pytest.approx(prob.mse(res.network))
    with pytest.raises(ValueError, match=r"^solver: 'ialam' solves the penalized_lifting formulation"):
        Problem(prob.network, prob.X, prob.y).solve("ialam")
