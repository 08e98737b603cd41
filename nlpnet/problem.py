"""``Problem``: network + data + formulation + loss + extra constraints, solved by name.

The problem builds its formulation's NLP on construction — per-sample Functions (cached
per architecture), index maps and the feasible start, nothing whose symbolic size grows with
N — so that its symbols — the parameters θ (:attr:`Problem.theta`, :meth:`Problem.weights`),
the lifted states (:attr:`Problem.states`, created on first use) and the network output at
any inputs (:meth:`Problem.output`) — can state extra constraints and objective terms::

    prob = nlpnet.Problem(net, X, y)
    prob.subject_to(prob.output(X_grid) <= 1.0)          # bound the output on a grid
    prob.subject_to(ca.diff(prob.output(X_grid)) >= 0)   # monotone on a grid
    prob.add_objective(1e-3 * ca.sumsqr(prob.theta))
    res = prob.solve("ipopt", max_iter=200)

Every solver reads the same kind of :class:`~nlpnet.nlp.NLP` and returns its raw output;
a solver that needs another formulation (back-propagation needs single shooting) gets it
built from the same θ symbol, so constraints on weights and outputs carry over. The raw
output becomes a :class:`~nlpnet.result.TrainResult` here, through the back-end's status and
message tables, after a check that the status does not claim more than the point delivers.
"""
from __future__ import annotations

import time

import casadi as ca
import numpy as np

from .data import as_inputs, as_targets
from .formulations import Formulation, MultipleShooting, get_formulation
from .losses import as_regularizers, get_loss
from .network import Network
from .nlp import NLP, GlobalTerms
from .result import History, Status, TrainResult

__all__ = ["Problem"]


class Problem:
    """A training problem. ``X`` is (n_samples, n_inputs) and ``y`` (n_samples, n_outputs);
    ``X_val``/``y_val`` optional validation data (reported, and used by early stopping);
    ``formulation`` a name or :class:`~nlpnet.formulations.Formulation`; ``relu``/``leaky_relu``
    /``epsilon`` are passed to ``multiple_shooting``; ``regularizer`` one or a list of
    :class:`~nlpnet.losses.Regularizer`; ``loss`` a name or :class:`~nlpnet.losses.Loss`."""

    def __init__(self, network: Network, X, y, *, formulation="multiple_shooting", relu=None,
                 leaky_relu=None, epsilon=None, regularizer=None, X_val=None, y_val=None, loss="mse"):
        if not isinstance(network, Network):
            raise TypeError(f"network: expected nlpnet.Network, got {type(network).__name__}")
        self.network = network.copy()
        self.loss = get_loss(loss)
        # the network's own input coordinates: its input transform (if any) applied once here
        self.X = network.transform_inputs(as_inputs(X, network.n_inputs, "X"))
        self.y = self._targets(y, self.X.shape[0], "y", "X")
        if (X_val is None) != (y_val is None):
            raise ValueError("X_val, y_val: give both or neither")
        self.X_val = None if X_val is None else network.transform_inputs(as_inputs(X_val, network.n_inputs, "X_val"))
        self.y_val = None if y_val is None else self._targets(y_val, self.X_val.shape[0], "y_val", "X_val")
        kw = {k: v for k, v in (("relu", relu), ("leaky_relu", leaky_relu), ("epsilon", epsilon)) if v is not None}
        if kw and formulation != "multiple_shooting":
            raise ValueError(f"{', '.join(kw)}: apply only to formulation='multiple_shooting'")
        self.formulation = get_formulation(formulation, **kw)
        self.regularizers = as_regularizers(regularizer)
        self.theta = ca.SX.sym("theta", network.n_params)
        self._nlps = {self.formulation.name: self._build(self.formulation)}
        self._g, self._lbg, self._ubg, self._f_extra = [], [], [], None
        self._extras_use_states = False
        self._assembled: dict[str, NLP] = {}  # NLPs with extras, reset when extras change

    def _targets(self, y, n, name, x_name):
        """Targets as (n × n_outputs); class labels (a vector of integers) become one-hot rows
        when the network has several outputs and the loss is cross-entropy."""
        k = self.network.n_outputs
        arr = np.asarray(y) if not isinstance(y, (list, tuple)) else np.asarray(y, dtype=object)
        if self.loss.name == "cross_entropy" and arr.ndim == 1 and k > 1:
            from .data import one_hot
            y = one_hot(y, k)
        Y = as_targets(y, k, n, name, x_name)
        self.loss.check_targets(Y, name)
        return Y

    def _build(self, form: Formulation) -> NLP:
        val = None if self.X_val is None else (self.X_val, self.y_val)
        return form.build(self.network, self.X, self.y, self.regularizers, self.theta, self.loss, val)

    # ---------------------------------------------------------------- symbols
    @property
    def nlp(self) -> NLP:
        """The problem's own NLP, with extra constraints and objective terms included."""
        return self.nlp_for(self.formulation.name)

    def nlp_for(self, formulation) -> NLP:
        """The NLP in ``formulation`` (a name or a Formulation), built from the same θ on first
        use, with the problem's extra constraints and objective terms."""
        form = formulation if isinstance(formulation, Formulation) else None
        key = formulation.describe() if form is not None else formulation
        if key == self.formulation.describe():
            key = self.formulation.name
        if key not in self._nlps:
            self._nlps[key] = self._build(form or get_formulation(key))
        if key in self._assembled:
            return self._assembled[key]
        base = self._nlps[key]
        if key != self.formulation.name and self._extras_use_states:
            raise ValueError(f"subject_to: the extra constraints or objective use lifted states, which do not exist "
                             f"in the {key} formulation this solver needs; state them on weights or outputs")
        if self._g or self._f_extra is not None:
            g = ca.vertcat(*self._g) if self._g else ca.SX(0, 1)
            f_rest = self._f_extra if self._f_extra is not None else ca.SX(0)
            glob = GlobalTerms(residual=base.glob.residual, rows=g, lbg=np.concatenate(self._lbg or [np.zeros(0)]),
                               ubg=np.concatenate(self._ubg or [np.zeros(0)]), f_rest=f_rest,
                               on_states=self._extras_use_states)
            base = base.with_globals(glob)
        self._assembled[key] = base
        return base

    def weights(self) -> list:
        """Per layer ``(W, b)`` as CasADi SX expressions (b is None without bias)."""
        return self.network.symbolic_weights(self.theta)

    @property
    def states(self) -> dict[str, ca.SX]:
        """Lifted states by name (``"z1"``, ``"z2"``, …; ``"u1"``/``"v1"`` for leaky ReLU
        complementarity), each an (n_samples × width) SX matrix. Multiple shooting only."""
        if not isinstance(self.formulation, MultipleShooting):
            raise AttributeError("states: only the multiple_shooting formulation has state variables")
        return MultipleShooting.state_symbols(self._nlps[self.formulation.name])

    def output(self, X) -> ca.SX:
        """The network output at inputs ``X`` (n × n_inputs) as an (n × n_outputs) SX in θ."""
        Xv = self.network.transform_inputs(X)
        return self.network.symbolic_forward(self.theta, ca.DM(Xv.T)).T

    # ---------------------------------------------------------------- extras
    def subject_to(self, constraint=None, *, lower=None, upper=None) -> "Problem":
        """Add constraints: a comparison (``expr <= c``, ``expr >= c``, ``expr == c``) of SX
        expressions built from this problem's symbols, or ``expr`` with ``lower``/``upper``."""
        if constraint is None:
            raise TypeError("subject_to: give a comparison such as prob.output(X) <= 1, or expr with lower=/upper=")
        expr = self._as_sx(constraint, "constraint")
        if lower is None and upper is None:
            g, lb, ub = _split_comparison(expr)
        else:
            g = ca.vec(expr)
            n = g.numel()
            lb = _bound("lower", -np.inf if lower is None else lower, n)
            ub = _bound("upper", np.inf if upper is None else upper, n)
            if np.any(lb > ub):
                raise ValueError("lower/upper: some lower bounds exceed their upper bounds")
        uses_states = self._check_symbols(g, "constraint")
        self._g.append(g)
        self._lbg.append(lb)
        self._ubg.append(ub)
        self._extras_use_states |= uses_states
        self._assembled.clear()
        return self

    def add_objective(self, term) -> "Problem":
        """Add a scalar SX term (in this problem's symbols) to the objective."""
        term = self._as_sx(term, "term")
        if term.numel() != 1:
            raise ValueError(f"term: objective terms must be scalar, got shape {term.shape}")
        self._extras_use_states |= self._check_symbols(term, "term")
        self._f_extra = term if self._f_extra is None else self._f_extra + term
        self._assembled.clear()
        return self

    @staticmethod
    def _as_sx(e, name):
        if isinstance(e, ca.SX):
            return e
        if isinstance(e, ca.MX):
            raise TypeError(f"{name}: MX expressions are not supported; build it from prob.theta, prob.states or "
                            "prob.output(X), which are SX")
        if isinstance(e, (bool, np.bool_)):
            raise TypeError(f"{name}: got a plain bool; the comparison did not involve any problem symbol")
        raise TypeError(f"{name}: expected a CasADi SX expression, got {type(e).__name__}")

    def _check_symbols(self, e, name) -> bool:
        """Whether ``e`` uses lifted states; raises if it uses symbols of no this problem's."""
        try:
            ca.Function("check", [self.theta], [e])
            return False
        except RuntimeError:
            pass
        own = self._nlps[self.formulation.name]
        if own.samples.n_s:
            try:
                ca.Function("check", [own.symbols.x], [e])
                return True
            except RuntimeError:
                pass
        raise ValueError(f"{name}: uses symbols that are not this problem's; build it from prob.theta, "
                         "prob.weights(), prob.states or prob.output(X)")

    # ---------------------------------------------------------------- solving
    def solve(self, solver: str = "ipopt", options=None, **kwargs) -> TrainResult:
        """Train with ``solver`` (see :func:`nlpnet.solvers.available_solvers`). Options come as a
        dataclass, a dict, or keyword arguments; they are checked before anything runs. Never
        raises because the solver failed: the returned result carries the status."""
        from .options import resolve_options
        from .solvers import get_solver
        spec = get_solver(solver)
        opts = resolve_options(spec.options, options, kwargs, spec.name)
        formulation = spec.formulation or self.formulation.name
        if spec.requires and self.formulation.name not in spec.requires:
            raise ValueError(f"solver: {spec.name!r} solves the {' or '.join(spec.requires)} formulation; "
                             f"build the Problem with formulation={spec.requires[0]!r}")
        nlp = self.nlp_for(formulation)
        if nlp.evaluator is not None and nlp.formulation not in spec.requires:
            own = getattr(nlp.evaluator, "solver", None)
            raise ValueError(f"solver: {spec.name!r} reads per-sample CasADi rows, which the {nlp.formulation} NLP "
                             f"does not have; use solve({own!r}) or a back-propagation solver, or build the Problem "
                             "with formulation='multiple_shooting'")
        spec.check(nlp, opts)
        from .solvers.common import check_memory
        check_memory(spec.name, nlp, spec.estimate(nlp, opts), opts.memory_limit, spec.alternative)
        from .solvers.threads import blas_threads
        t0 = time.perf_counter()
        try:
            with blas_threads(opts.blas_threads):
                out = spec.run(nlp, opts)
        except KeyboardInterrupt:
            return self._result(nlp, nlp.x0, Status.USER_STOP, "interrupted by the user", spec.name, 0,
                                time.perf_counter() - t0)
        except Exception as exc:  # a back-end failure must not end the caller's run
            return self._result(nlp, nlp.x0, Status.FAILED, f"{type(exc).__name__}: {exc}", spec.name, 0,
                                time.perf_counter() - t0)
        wall = time.perf_counter() - t0
        status = spec.statuses.get(out.raw_status, Status.FAILED)
        template = spec.messages.get(out.raw_status, f"{spec.name} stopped: {out.raw_status}")
        message = template.format(iterations=out.iterations, **out.stats) + out.detail
        return self._result(nlp, out.x, status, message, spec.name, out.iterations, wall, out)

    def mse(self, network: Network, X=None, y=None) -> float:
        """Mean training loss of ``network`` on (X, y) in the network's input coordinates
        (default: the training data)."""
        return self._metrics(network, self.X if X is None else X, self.y if y is None else y)[0]

    def _metrics(self, network, X, Y):
        """(mean loss, accuracy or None) of a network with its weights on prepared data."""
        from .nlp import is_one_hot
        with np.errstate(over="ignore", invalid="ignore"):  # a diverged network reports inf, not a warning
            O = network.with_input_transform(None).predict(X) if network.input_transform else network.predict(X)
            loss = float(np.mean(self.loss.values(O, Y)))
        acc = float(np.mean(O.argmax(axis=1) == Y.argmax(axis=1))) if is_one_hot(Y) else None
        return loss, acc

    def _result(self, nlp: NLP, x, status: Status, message: str, solver: str, iterations: int, wall_time: float,
                out=None) -> TrainResult:
        """The :class:`TrainResult` of a point ``x`` of ``nlp`` (the caller's inversion step)."""
        x = np.asarray(x, dtype=float).ravel()
        p = nlp.p0 if out is None or out.p is None else out.p
        form = self.formulation if nlp.formulation == self.formulation.name else get_formulation(nlp.formulation)
        un = form.unpack(nlp, x)
        if not np.all(np.isfinite(un.params)):
            un.params, status = self.network.params.copy(), Status.NUMERICAL_ERROR
            message += " (non-finite parameters; the initial network is returned)"
        net = self.network.with_params(un.params)
        train, train_acc = self._metrics(net, self.X, self.y)
        val, val_acc = (None, None) if self.X_val is None else self._metrics(net, self.X_val, self.y_val)
        with np.errstate(over="ignore", invalid="ignore"):
            obj = nlp.objective(x, p)
            viol = nlp.constraint_violation(x, p)
        if not np.isfinite(train) and status not in (Status.NUMERICAL_ERROR, Status.FAILED, Status.USER_STOP):
            status, message = Status.NUMERICAL_ERROR, message + " (but the training loss is not finite)"
        tol = None if out is None else out.feasibility_tol
        if status.success and tol is not None and viol > tol * (1 + 1e-9):
            status = Status.STALLED
            message += f" (but the returned point violates the constraints by {viol:.2g} > {tol:g})"
        return TrainResult(
            status=status, message=message, network=net, solver=solver, formulation=nlp.formulation,
            train_loss=train, val_loss=val, train_accuracy=train_acc, val_accuracy=val_acc,
            iterations=int(iterations), wall_time=float(wall_time),
            history=out.history if out is not None else History(),
            objective=obj if np.isfinite(obj) else None, constraint_violation=viol,
            raw_status=out.raw_status if out is not None else status.value, x=x, states=un.states,
            stats=dict(out.stats) if out is not None else {})


def _bound(name, value, n) -> np.ndarray:
    """A bound broadcast to n rows; NaN refused (±inf means no bound)."""
    try:
        arr = np.broadcast_to(np.asarray(value, dtype=float), (n,)).copy()
    except (ValueError, TypeError):
        raise ValueError(f"{name}: expected a number or {n} values (one per constraint row), got "
                         f"{np.shape(value) if not isinstance(value, str) else repr(value)}") from None
    if np.isnan(arr).any():
        raise ValueError(f"{name}: contains NaN; use ±inf for a missing bound")
    return arr


def _split_comparison(expr):
    """Turn an elementwise comparison SX into rows g with bounds (lb ≤ g ≤ ub)."""
    rows, lb, ub = [], [], []
    for i in range(expr.numel()):
        e = expr[i]
        if e.is_constant():   # CasADi folded a row without symbols (e.g. a bias-free output at x = 0)
            if float(e) == 0:
                raise ValueError(f"constraint: row {i} does not depend on the problem's symbols and is false")
            continue           # true for every θ: nothing to impose
        op = e.op()
        if op in (ca.OP_LE, ca.OP_LT):
            a, b = e.dep(0), e.dep(1)
            if b.is_constant() and not np.isfinite(float(b)):
                raise ValueError("constraint: a bound is NaN or infinite; compare with a finite number")
            if a.is_constant() and not np.isfinite(float(a)):
                raise ValueError("constraint: a bound is NaN or infinite; compare with a finite number")
            rows.append(a - b)
            lb.append(-np.inf)
            ub.append(0.0)
        elif op == ca.OP_EQ:
            a, b = e.dep(0), e.dep(1)
            for side in (a, b):
                if side.is_constant() and not np.isfinite(float(side)):
                    raise ValueError("constraint: a bound is NaN or infinite; compare with a finite number")
            rows.append(a - b)
            lb.append(0.0)
            ub.append(0.0)
        else:
            raise TypeError("constraint: expected a comparison such as prob.output(X) <= 1 (use <=, >= or ==), "
                            "or pass an expression with lower=/upper=")
    return (ca.vertcat(*rows) if rows else ca.SX(0, 1)), np.array(lb), np.array(ub)
