"""The rows of one sample of an equality-lifted network and their Jacobians, as CasADi Functions
mapped over the samples.

For sample j with input x_j, target y_j, states s_j = (z_1, …, z_{L−1}) and weights θ,

    r_j(θ, s_j) = [ z_k − σ_k(W_k z_{k−1} + b_k) ]_{k=1..L−1}   (z_0 = x_j)
                  [ (σ_L(W_L z_{L−1} + b_L) − y_j) / √N ]

with ∂r_j/∂θ (n_r × n_θ, one entry per weight in a dense net) and ∂r_j/∂s_j (n_r × n_s).
ReLU rows come in two phases: the exact ReLU (derivative 1[a > 0], as in the NLP) and the
smoothed z − softplus_κ(a), softplus_κ(a) = max(a, 0) + log(1 + e^{−κ|a|})/κ, that the ALM
uses early on. Each phase is its own Function (an ``if_else`` of both would evaluate both
branches, which doubled the cost of every ReLU Jacobian), built on first use.

The symbolic work does not depend on the weights or the data (they are inputs), only on
the architecture and N, so it is cached per (architecture, N): repeated trainings of the
same network shape on data of the same size, as in every experiment here, pay the CasADi
set-up once per process (1-16-16-1 at N = 80: ~35 ms for the first solve's structured set-up,
~5 ms for later ones; ``python benchmarks/lm_step.py``).
"""
from __future__ import annotations

from collections import OrderedDict

import casadi as ca
import numpy as np

__all__ = ["EXACT", "SampleRows", "sample_rows", "MapEvaluator"]

EXACT = 1e300   # κ that selects the exact ReLU
_CACHE: OrderedDict = OrderedDict()
_CACHE_SIZE = 16


class SampleRows:
    """Symbolic per-sample rows of one architecture at one N and their mapped Functions."""

    def __init__(self, net, N: int):
        th = ca.SX.sym("th", net.n_params)
        sj = ca.SX.sym("s", sum(l.units for l in net.layers[:-1]))
        xj = ca.SX.sym("xd", net.n_inputs)
        yj = ca.SX.sym("yd", net.n_outputs)
        kappa = ca.SX.sym("kappa")
        self.sym, self.N = (th, sj, xj, yj, kappa), N
        Z, c, exact, smooth = xj, 0, [], []
        weights = net.symbolic_weights(th)
        self.smoothable = False
        for (W, b), layer in zip(weights[:-1], net.layers[:-1]):
            z = sj[c:c + layer.units]
            c += layer.units
            a = net.affine(W, b, Z)
            exact.append(z - layer.activation.casadi(a))
            if layer.activation.name == "relu":
                smooth.append(z - (ca.fmax(a, 0) + ca.log1p(ca.exp(-kappa * ca.fabs(a))) / kappa))
                self.smoothable = True
            else:
                smooth.append(exact[-1])
            Z = z
        W, b = weights[-1]
        out = (net.layers[-1].activation.casadi(net.affine(W, b, Z)) - yj) / np.sqrt(N)
        r = ca.vertcat(*exact, out)
        self.n_r, self.n_s = r.numel(), sj.numel()
        Ja, Jb = ca.jacobian(r, th), ca.jacobian(r, sj)
        self.a_sparsity, self.b_sparsity = Ja.sparsity(), Jb.sparsity()
        self._phases = {EXACT: ("alm_exact", r, (Ja, Jb))}
        if self.smoothable:
            self._phases["smooth"] = ("alm_smooth", ca.vertcat(*smooth, out), None)
        self._maps: dict = {}

    def mapped(self, phase, with_jacobian: bool) -> ca.Function:
        """(θ, S, X, Y, κ) ↦ rows (and the Jacobians' nonzeros on the exact rows' pattern) of
        all N samples; θ and κ shared. ``phase``: ``EXACT`` or ``"smooth"``."""
        key = (phase, with_jacobian)
        if key not in self._maps:
            name, r, jacs = self._phases[phase]
            th, sj, xj, yj, kappa = self.sym
            outs = [r]
            if with_jacobian:
                Ja, Jb = jacs or (ca.jacobian(r, th), ca.jacobian(r, sj))
                # a smoothed row can only lose structural nonzeros (then stored as zeros)
                if not (Ja.sparsity().is_subset(self.a_sparsity) and Jb.sparsity().is_subset(self.b_sparsity)):
                    raise RuntimeError(f"{name}: Jacobian pattern differs from the exact rows' pattern")
                outs += [ca.project(Ja, self.a_sparsity).nz[:], ca.project(Jb, self.b_sparsity).nz[:]]
            f = ca.Function(name if with_jacobian else name + "_rows", [th, sj, xj, yj, kappa], outs)
            self._maps[key] = f.map(f.name() + "_map", "serial", self.N, [0, 4], [])
        return self._maps[key]


def _architecture(net) -> tuple:
    return (net.n_inputs, tuple((l.units, l.activation.name, float(l.activation.alpha), bool(l.use_bias))
                                for l in net.layers))


def sample_rows(net, N: int) -> SampleRows:
    """The (cached) :class:`SampleRows` of ``net``'s architecture at N samples."""
    key = (_architecture(net), int(N))
    if key in _CACHE:
        _CACHE.move_to_end(key)
        return _CACHE[key]
    rows = SampleRows(net, N)
    _CACHE[key] = rows
    if len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)
    return rows


class MapEvaluator:
    """Buffers for a mapped per-sample Function (θ, S, X, Y, κ) → outputs, each an
    (entries × N) column-major block; the first output is read back as (N × entries)."""

    def __init__(self, f: ca.Function, n_th, n_s, N, Xt, Yt):
        self.th, self.S, self.kappa = np.zeros(n_th), np.zeros((N, n_s)), np.zeros(1)
        self.Xt, self.Yt = Xt.T.copy(), Yt.T.copy()          # (N × d): column-major (d × N)
        self.outs = [np.zeros(f.nnz_out(i)) for i in range(f.n_out())]
        self.buf, self.trigger = f.buffer()
        for i, a in enumerate((self.th, self.S, self.Xt, self.Yt, self.kappa)):
            self.buf.set_arg(i, memoryview(a))
        for i, o in enumerate(self.outs):
            self.buf.set_res(i, memoryview(o))
        self.N = N

    def __call__(self, th, S, kappa):
        self.th[:] = th
        self.S[:] = S
        self.kappa[0] = kappa
        self.trigger()
        return [self.outs[0].reshape(self.N, -1)] + self.outs[1:]
