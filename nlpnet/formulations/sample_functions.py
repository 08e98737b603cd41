"""What one sample contributes to the NLP, as CasADi Functions built once per architecture.

The lifted training problem is N copies of one small problem coupled only through the
weights θ. For sample j with data (x_j, y_j), lifted states s_j (empty in single shooting)
and formulation parameters p (the complementarity relaxation ε, or nothing):

    g_j(θ, s_j; x_j, p)      its layer rows (lifting rules of :mod:`.lifting`),
    o_j(θ, s_j; x_j)         the network output,
    ℓ_j = ℓ(o_j, y_j)        its loss term (the objective is (1/N) Σ_j ℓ_j + global terms),
    r_j = r(o_j, y_j)        the loss residual, ℓ_j = ‖r_j‖², for least-squares losses.

These expressions involve one sample's symbols only, so their size — and the symbolic cost
of their derivatives — does not depend on N. :class:`SampleFunctions` builds, on first use,
Functions of (θ, s, x, y, p) for the values, the gradient of ℓ, the Jacobian of the rows,
and the Hessian of w·ℓ + λᵀg in three blocks (θθ, θs, ss; upper triangles), and maps them
over the samples with ``Function.map`` (θ, p and the weights shared; θθ blocks summed by the
map itself). Whole-NLP derivatives are scattered from these blocks (:mod:`.assembly`).

The Functions depend on the architecture, the lifting rules and the loss only, not on the
weights or the data (inputs), so they are cached per (architecture, rules, loss): every
training of the same shape in a process pays the symbolic set-up once.
"""
from __future__ import annotations

from collections import OrderedDict

import casadi as ca
import numpy as np

from .lifting import lift_layer

__all__ = ["SampleFunctions", "sample_functions"]

_CACHE: OrderedDict = OrderedDict()
_CACHE_SIZE = 16


class SampleFunctions:
    """Per-sample CasADi Functions of one architecture (see the module docstring)."""

    def __init__(self, network, rules, loss):
        self.rules = tuple(rules)
        self.loss = loss
        th = ca.SX.sym("theta", network.n_params)
        xj = ca.SX.sym("x", network.n_inputs)
        yj = ca.SX.sym("y", network.n_outputs)
        eps = ca.SX.sym("eps")
        weights = network.symbolic_weights(th)
        widths = []
        for rule, layer in zip(self.rules, network.layers[:-1]):
            widths.append((2 if rule == "leaky_relu" else 1) * layer.units)
        sj = ca.SX.sym("s", sum(widths))
        Z, rows, lbr, ubr, lbs, ubs, comp, pairs, c, m = xj, [], [], [], [], [], [], [], 0, 0
        names = []
        for k, ((W, b), layer) in enumerate(zip(weights[:-1], network.layers[:-1])):
            a = network.affine(W, b, Z)
            if k >= len(self.rules):           # single shooting: no states
                Z = layer.activation.casadi(a)
                continue
            rule = self.rules[k]
            s0 = c

            def take(name, d, layer_index=k):
                nonlocal c
                names.append((name, layer_index, d))
                out = sj[c:c + d]
                c += d
                return out
            lift = lift_layer(rule, layer.activation, a, take, eps)
            rows.append(lift.rows)
            lbs += [st[2] for st in lift.states]
            ubs += [st[3] for st in lift.states]
            lbr.append(lift.lbg)
            ubr.append(lift.ubg)
            comp.append(m + lift.comp_rows)
            if lift.pairs is not None:  # (kind, local index) → offsets inside the sample's states / rows
                pr = lift.pairs.copy()
                pr[:, 1] += np.where(pr[:, 0] == 0, s0, m)
                pr[:, 3] += np.where(pr[:, 2] == 0, s0, m)
                pairs.append(pr)
            m += lift.lbg.size
            Z = lift.output
        W, b = weights[-1]
        o = network.layers[-1].activation.casadi(network.affine(W, b, Z))
        self.g = ca.vertcat(*rows) if rows else ca.SX(0, 1)
        self.o, self.loss_expr = o, loss.casadi(o, yj)
        self.residual = loss.residual(o, yj) if loss.least_squares else None
        self.sym = (th, sj, xj, yj, eps)
        self.uses_eps = ca.depends_on(self.g, eps) if self.g.numel() else False
        self.n_theta, self.n_s, self.m = network.n_params, sj.numel(), self.g.numel()
        self.lbs = np.concatenate(lbs) if lbs else np.zeros(0)
        self.ubs = np.concatenate(ubs) if ubs else np.zeros(0)
        self.lbr = np.concatenate(lbr) if lbr else np.zeros(0)
        self.ubr = np.concatenate(ubr) if ubr else np.zeros(0)
        self.comp_rows = np.concatenate(comp).astype(np.int64) if comp else np.zeros(0, dtype=np.int64)
        self.comp_pairs = np.concatenate(pairs).astype(np.int64) if pairs else np.zeros((0, 4), dtype=np.int64)
        self.state_names = tuple(names)
        self._functions: dict = {}
        self._maps: dict = {}

    # ------------------------------------------------------------------ symbolic blocks
    @property
    def inputs(self):
        th, sj, xj, yj, eps = self.sym
        return [th, sj, xj, yj, eps]

    def _function(self, name):
        if name in self._functions:
            return self._functions[name]
        th, sj, xj, yj, eps = self.sym
        ins, names = self.inputs, ["theta", "s", "x", "y", "p"]
        g, loss = self.g, self.loss_expr
        if name == "values":
            f = ca.Function("sample_values", ins, [g, loss], names, ["g", "loss"])
        elif name == "output":
            f = ca.Function("sample_output", ins, [self.o], names, ["o"])
        elif name == "grad":
            f = ca.Function("sample_grad", ins, [loss, ca.gradient(loss, th), ca.gradient(loss, sj)],
                            names, ["loss", "grad_theta", "grad_s"])
        elif name == "jac":
            Jt, Js = ca.jacobian(g, th), ca.jacobian(g, sj)
            self.jac_sparsity = (Jt.sparsity(), Js.sparsity())
            f = ca.Function("sample_jac", ins, [g, Jt.nz[:], Js.nz[:]], names, ["g", "jac_theta", "jac_s"])
        elif name == "hess":
            w, lam = ca.SX.sym("w"), ca.SX.sym("lam", self.m)
            lag = w * loss + (ca.dot(lam, g) if self.m else 0)
            v = ca.vertcat(th, sj)
            H = ca.hessian(lag, v)[0]
            n = self.n_theta
            Htt, Hts, Hss = ca.triu(H[:n, :n]), H[:n, n:], ca.triu(H[n:, n:])
            self.hess_sparsity = (Htt.sparsity(), Hts.sparsity(), Hss.sparsity())
            f = ca.Function("sample_hess", ins + [w, lam], [Htt.nz[:], Hts.nz[:], Hss.nz[:]],
                            names + ["w", "lam"], ["h_tt", "h_ts", "h_ss"])
        elif name == "residual":
            f = ca.Function("sample_residual", ins, [self.residual], names, ["r"])
        elif name == "residual_jac":
            r = self.residual
            Jt, Js = ca.jacobian(r, th), ca.jacobian(r, sj)
            f = ca.Function("sample_residual_jac", ins, [r, ca.densify(Jt), ca.densify(Js)], names,
                            ["r", "jac_theta", "jac_s"])
        else:
            raise KeyError(name)
        self._functions[name] = f
        return f

    def function(self, name) -> ca.Function:
        """One sample's Function: ``"values"`` (g, ℓ), ``"output"``, ``"grad"`` (ℓ, ∇θℓ, ∇sℓ),
        ``"jac"`` (g, ∂g/∂θ nz, ∂g/∂s nz), ``"hess"`` (upper-triangle nonzeros of the
        θθ, θs, ss blocks of ∇²(w ℓ + λᵀg); extra inputs w, λ), ``"residual_jac"``."""
        return self._function(name)

    def sparsity(self, name):
        """The sparsity patterns of a derivative Function's outputs (after it is built)."""
        self._function(name)
        return {"jac": lambda: self.jac_sparsity, "hess": lambda: self.hess_sparsity}[name]()

    def mapped(self, name, N: int) -> ca.Function:
        """``function(name)`` over N samples: θ, p (and w) shared; the θθ Hessian block summed."""
        key = (name, int(N))
        if key not in self._maps:
            f = self._function(name)
            reduce_in = [0, 4] + ([5] if name == "hess" else [])
            reduce_out = [0] if name == "hess" else ([0, 1] if name == "grad" else [])
            self._maps[key] = f.map(f.name() + "_map", "serial", int(N), reduce_in, reduce_out)
        return self._maps[key]


def _architecture(network) -> tuple:
    return (network.n_inputs, tuple((l.units, l.activation.name, float(l.activation.alpha), bool(l.use_bias))
                                    for l in network.layers))


def sample_functions(network, rules, loss) -> SampleFunctions:
    """The cached :class:`SampleFunctions` of ``network``'s architecture."""
    key = (_architecture(network), tuple(rules), repr(loss))
    if key in _CACHE:
        _CACHE.move_to_end(key)
        return _CACHE[key]
    fns = SampleFunctions(network, rules, loss)
    _CACHE[key] = fns
    if len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)
    return fns
