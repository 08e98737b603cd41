"""IPOPT's iteration callback: history, the best network seen, validation stopping, the
time budget and Ctrl-C.

IPOPT calls it once per iteration with the iterate x, f(x) and g(x) (CasADi skips copying
the multipliers, whose slots are declared empty). Per call it

* appends a history row (iteration, time, objective, training loss of the iterate's network,
  violation, validation loss, stage, ε). The violation is the one :meth:`NLP.constraint_violation`
  reports — a complementarity pair by its natural residual |min(A, B)|, not by its relaxed
  product row — so it means the same in every stage and in every solver;
* remembers the **best network**: the iterate's weights θ define a network whatever its
  lifted states are, and θ with its states simulated by a forward pass (:meth:`NLP.lift`) is a
  point of the NLP whose layer rows hold exactly, feasible when θ satisfies the user rows
  (outputs, weights). Among such points it keeps the lowest objective f(lift(θ)) = training
  loss + regularizers + objective terms. When user rows involve lifted states this does not
  hold and the iterate itself is kept instead, if its violation is within tolerance. A solve
  that ends at a limit returns this point (:mod:`nlpnet.solvers.ipopt`);
* with validation data and ``patience``, stops after ``patience`` iterations without a lower
  validation loss, remembering the best-validation iterate;
* stops before an iteration that would not fit in the time budget: if the time left is less
  than the longest of the last three iterations, it asks IPOPT to stop now (raw status
  ``Maximum_WallTime_Exceeded``) instead of overrunning ``max_time`` by one iteration;
* turns Ctrl-C into IPOPT's user stop. While IPOPT runs, :func:`sigint_as_flag` replaces
  Python's SIGINT handler by one that only sets a flag: CasADi checks for signals inside IPOPT
  and a KeyboardInterrupt raised there ends the solve as "NonIpopt_Exception_Thrown", with the
  iterate lost; the flag is read by this callback at the end of the iteration instead.
"""
from __future__ import annotations

import signal
import threading
import time
from contextlib import contextmanager

import casadi as ca
import numpy as np

__all__ = ["IterationCallback", "Recorder", "natural_violation", "sigint_as_flag"]


@contextmanager
def sigint_as_flag(callback):
    """While the block runs (in the main thread), SIGINT sets ``callback.sigint`` instead of
    raising KeyboardInterrupt; the previous handler is restored afterwards."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        callback.sigint = True
    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def natural_violation(nlp, x, g) -> float:
    """max violation of bounds and rows at (x, g), complementarity pairs by |min(A, B)|."""
    lbg, ubg = nlp.lbg, nlp.ubg
    comp = nlp.has_complementarity
    if comp:
        lbg, ubg = lbg.copy(), ubg.copy()
        lbg[nlp.complementarity_idx], ubg[nlp.complementarity_idx] = -np.inf, np.inf
    with np.errstate(invalid="ignore"):
        parts = [np.maximum(nlp.lbx - x, 0), np.maximum(x - nlp.ubx, 0)]
        if g.size:
            parts += [np.maximum(lbg - g, 0), np.maximum(g - ubg, 0)]
        if comp:
            v = np.concatenate([x, g])
            pr = nlp.complementarity_pairs
            parts.append(np.abs(np.minimum(v[pr[:, 0]], v[pr[:, 1]])))
        worst = max((float(np.max(q)) if q.size else 0.0) for q in parts)
    return worst if np.isfinite(worst) else float("inf")


class IterationCallback(ca.Callback):
    """CasADi's ``iteration_callback`` protocol: called with nlpsol's outputs, of which it
    receives f and those named in ``dense`` ({"x": n_x, "g": n_g}); the others are declared
    empty so CasADi does not copy them. ``eval`` returns [1] to ask IPOPT to stop."""

    def __init__(self, name: str, dense: dict):
        ca.Callback.__init__(self)
        self._dense = dense
        self.construct(name, {})

    def get_n_in(self):
        return ca.nlpsol_n_out()

    def get_n_out(self):
        return 1

    def get_name_in(self, i):
        return ca.nlpsol_out(i)

    def get_name_out(self, i):
        return "ret"

    def get_sparsity_in(self, i):
        n = ca.nlpsol_out(i)
        if n == "f":
            return ca.Sparsity.scalar()
        return ca.Sparsity.dense(self._dense[n]) if n in self._dense else ca.Sparsity(0, 0)


class Recorder(IterationCallback):
    """The iteration callback (see the module docstring). ``deadline`` is a
    ``time.perf_counter()`` value or None; ``tol`` the violation a feasible point may have."""

    def __init__(self, nlp, history, log, t0: float, *, tol: float, deadline=None, patience=None):
        self.nlp, self.nx, self.ng = nlp, nlp.n_x, nlp.n_g
        self.history, self.log, self.t0 = history, log, t0
        self.tol, self.deadline, self.patience = tol, deadline, patience
        self.stage, self.eps = 0, None
        self.base, self.calls = 0, 0            # IPOPT iterations before this stage; callbacks in it
        self.stop = None                        # why the callback asked IPOPT to stop: user, time, validation
        self.sigint = False                     # set by sigint_as_flag's handler
        self.network_points = not nlp.glob.on_states
        self.n_user = nlp.glob.rows.numel()
        self.best = None                        # (objective, x of the best feasible point, iteration)
        self.best_val = None                    # (validation loss, x, iteration)
        self.durations, self._last = [], None
        self.exploit_ratio, self.exploit_limit, self.exploited = 10.0, None, 0
        self.stall_window, self._feasible_f = None, []
        IterationCallback.__init__(self, "nlpnet_ipopt_recorder", {"x": self.nx, "g": self.ng})

    def start_stage(self, k: int, eps, iterations_before: int, exploit_limit=None, stall_window=None) -> None:
        """A new homotopy stage. With ``exploit_limit`` (relaxed stages that only choose the
        branches) it stops once the iterate's network has been ``exploit_ratio`` times worse than
        the best network seen for that many iterations in a row (the relaxation is being
        exploited). With ``stall_window`` (the branch NLP) it stops once the iterates have been
        feasible and the objective has not fallen by a relative 1e-9 for that many iterations: a
        degenerate branch NLP (pre-activations held at 0 by their branch) can keep IPOPT cycling
        just above its tolerance for thousands of iterations at the same point."""
        self.stage, self.eps, self.base, self.calls = k, eps, iterations_before, 0
        self.exploit_limit, self.exploited = exploit_limit, 0
        self.stall_window, self._feasible_f = stall_window, []

    def _stalled(self, f, viol) -> bool:
        """No feasible iterate of this stage has lowered the objective by a relative 1e-9 for
        ``stall_window`` iterations (infeasible iterates in between do not reset the count)."""
        if viol <= self.tol and np.isfinite(f):
            if not self._feasible_f or f < self._feasible_f[0] - 1e-9 * abs(self._feasible_f[0]):
                self._feasible_f = [f, self.calls]
        return bool(self._feasible_f) and self.calls - self._feasible_f[1] >= self.stall_window

    def eval(self, arg):
        try:
            ret = self._record(np.asarray(arg[0]).ravel(), float(arg[1]), np.asarray(arg[2]).ravel())
        except KeyboardInterrupt:
            self.sigint = True
        if self.sigint:
            self.stop = "user"
            return [1]
        return [ret]

    # ------------------------------------------------------------------ one iteration
    def _record(self, x, f, g) -> int:
        nlp = self.nlp
        now = time.perf_counter()
        if self._last is not None:
            self.durations = (self.durations + [now - self._last])[-3:]
        self._last = now
        th = x[:nlp.n_theta]
        it = self.base + self.calls
        viol = natural_violation(nlp, x, g)
        ev = nlp.evaluate(th)
        row = {"iteration": it, "time": now - self.t0, "objective": f, "loss": ev["loss"], "violation": viol}
        ev_val = nlp.evaluate(th, "val") if nlp.validation is not None else None
        val = None if ev_val is None else ev_val["loss"]
        if val is not None:
            row["val_loss"] = val
        if ev["accuracy"] is not None:
            row["accuracy"] = ev["accuracy"]
            if ev_val is not None:
                row["val_accuracy"] = ev_val["accuracy"]
        row.update(stage=self.stage, epsilon=self.eps)
        self.history.append(**row)
        self.calls += 1
        self.log(row)
        value = self._remember(x, f, g, th, row["loss"], viol, it)
        if self.stall_window is not None and self._stalled(f, viol):
            self.stop = "stalled"
            return 1
        if self.exploit_limit is not None and self.best is not None:
            self.exploited = self.exploited + 1 if value > self.exploit_ratio * self.best[0] + 1e-12 else 0
            if self.exploited >= self.exploit_limit:
                self.stop = "exploited"
                return 1
        if val is not None and np.isfinite(val) and (self.best_val is None or val < self.best_val[0]):
            self.best_val = (val, x.copy(), it)
        if self.patience is not None and self.best_val is not None and it - self.best_val[2] >= self.patience:
            self.stop = "validation"
            return 1
        if self.deadline is not None and now + max(self.durations, default=0.0) > self.deadline:
            self.stop = "time"
            return 1
        return 0

    def _remember(self, x, f, g, th, loss, viol, it) -> float:
        if self.network_points:
            value = self._network_value(th, loss, g[g.size - self.n_user:] if self.n_user else g[:0], x)
        else:
            value = f if viol <= self.tol else np.inf
        if np.isfinite(value) and (self.best is None or value < self.best[0]):
            self.best = (value, (th.copy() if self.network_points else x.copy()), it)
        return value

    def _network_value(self, th, loss, user_rows, x) -> float:
        """f(lift(θ)) if θ satisfies the user rows (within tol), else inf."""
        nlp = self.nlp
        lb, ub = nlp.lbg[nlp.n_g - self.n_user:], nlp.ubg[nlp.n_g - self.n_user:]
        with np.errstate(invalid="ignore"):
            user_viol = float(np.max(np.maximum(lb - user_rows, 0) + np.maximum(user_rows - ub, 0), initial=0.0))
        if not user_viol <= self.tol:
            return np.inf
        rho, _, f_rest = nlp.global_values(x)
        return loss + float(rho @ rho) + f_rest

    def network_value(self, x) -> float:
        """The objective of the network of x, its states simulated (inf if θ violates the user rows)."""
        th = x[:self.nlp.n_theta]
        with np.errstate(over="ignore", invalid="ignore"):
            user = self.nlp.global_values(x)[1]
            return self._network_value(th, self.nlp.data_loss(th), user, x)

    def best_point(self):
        """(x, objective, iteration) of the best feasible point seen, or None."""
        if self.best is None:
            return None
        value, z, it = self.best
        return (self.nlp.lift(z) if self.network_points else z), value, it
