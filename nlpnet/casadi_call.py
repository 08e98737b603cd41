"""Calling CasADi Functions from NumPy without conversions.

``Function.buffer()`` binds NumPy arrays as a Function's inputs and outputs; evaluating it
is then one C call with no DM conversion, which dominated the cost of small Jacobian and
gradient evaluations inside the solvers' loops.
"""
from __future__ import annotations

import numpy as np

__all__ = ["BufferedFunction"]


class BufferedFunction:
    """A CasADi Function evaluated on NumPy arrays: ``f(*args)`` copies the arguments into
    bound input buffers and returns the bound output arrays (reused between calls: copy them
    to keep a value)."""

    def __init__(self, f):
        self.f = f
        self.inputs = [np.zeros(f.nnz_in(i)) for i in range(f.n_in())]
        self.outputs = [np.zeros(f.nnz_out(i)) for i in range(f.n_out())]
        self.buf, self.trigger = f.buffer()
        for i, a in enumerate(self.inputs):
            self.buf.set_arg(i, memoryview(a))
        for i, o in enumerate(self.outputs):
            self.buf.set_res(i, memoryview(o))

    def __call__(self, *args):
        for slot, a in zip(self.inputs, args):
            slot[:] = np.ravel(a)   # an (n × d) C-order array is CasADi's (d × n) column-major input
        self.trigger()
        return self.outputs
