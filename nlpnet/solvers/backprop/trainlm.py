"""Levenberg–Marquardt on the reduced problem (``"lm_backprop"``, MATLAB ``trainlm``).

With the residual F(θ) = [(o_j − y_j)/√N ; ρ(θ)] (data misfit and regularizer residuals;
ℓ = ‖F‖²) and J = ∂F/∂θ — the per-sample output Jacobians from the batched kernels, one
back-propagation per output unit — each epoch solves (JᵀJ + μ I) δ = −JᵀF (through the
smaller system δ = −Jᵀ(JJᵀ + μ I)⁻¹F when there are fewer residuals than weights); the step
is accepted when it lowers ℓ, and then μ ← μ·mu_dec, else μ ← μ·mu_inc and the system is
solved again; training stops when μ > mu_max, ‖2JᵀF‖∞ < gtol, or ℓ ≤ goal. Defaults are
MATLAB's. J is dense (N·d_L + n_ρ) × n_θ, as in MATLAB: the size guard refuses it for large
problems. Objective terms that are not least squares cannot be handled and are refused.
"""
from __future__ import annotations

import casadi as ca
import numpy as np

from ...casadi_call import BufferedFunction
from ...result import SolverOutput
from .first_order import check_unconstrained
from .loop import Monitor

__all__ = ["run_lm", "check_lm", "estimate_memory"]


class _Residual:
    def __init__(self, nlp):
        sb = nlp.samples
        self.kern, self.X, self.Y, self.N = sb.kernels, sb.X, sb.Y, sb.N
        rho = nlp.glob.residual
        th = nlp.symbols.theta
        self.reg = BufferedFunction(ca.Function("reg", [th], [rho, ca.densify(ca.jacobian(rho, th))])) \
            if rho.numel() else None
        self.n_rho = rho.numel()

    def __call__(self, theta):
        O = self.kern.predict(theta, self.X)
        s = 1.0 / np.sqrt(self.N)
        F = [((O - self.Y) * s).ravel()]
        J = [(self.kern.output_jacobian(theta, self.X) * s).reshape(-1, theta.size)]
        if self.reg is not None:
            r, Jr = self.reg(theta)
            F.append(r.copy())
            J.append(Jr.reshape(theta.size, self.n_rho).T)
        return np.concatenate(F), np.vstack(J)


def run_lm(nlp, opts) -> SolverOutput:
    resid = _Residual(nlp)
    mon = Monitor(opts, "lm_backprop", columns=("mu",))
    theta = np.array(nlp.x0, dtype=float, copy=True)
    mu = float(opts.mu)
    raw, n_jac = "max_iter", 1
    F, J = resid(theta)
    f = float(F @ F)
    mon.remember(f, theta)
    n_data = resid.N * resid.Y.shape[1]
    try:
        for it in range(opts.max_iter):
            g = J.T @ F
            if not np.isfinite(f):
                raw = "non_finite"
                break
            if f <= opts.goal:
                raw = "goal"
                break
            if 2 * np.max(np.abs(g)) < opts.gtol:
                raw = "gtol"
                break
            if mon.out_of_time():
                raw = "max_time"
                break
            wide = J.shape[0] < theta.size  # fewer residuals than weights: solve the smaller system
            H = J @ J.T if wide else J.T @ J
            eye = np.eye(H.shape[0])
            accepted = False
            while mu <= opts.mu_max:
                try:
                    # (JᵀJ + μI)⁻¹Jᵀ = Jᵀ(JJᵀ + μI)⁻¹ (push-through identity)
                    delta = -(J.T @ np.linalg.solve(H + mu * eye, F)) if wide else np.linalg.solve(H + mu * eye, -g)
                except np.linalg.LinAlgError:
                    mu *= opts.mu_inc
                    continue
                F_new, J_new = resid(theta + delta)
                n_jac += 1
                f_new = float(F_new @ F_new)
                if np.isfinite(f_new) and f_new < f:
                    theta, F, J, f, accepted = theta + delta, F_new, J_new, f_new, True
                    mu *= opts.mu_dec
                    break
                mu *= opts.mu_inc
            if not accepted:
                raw = "damping"
                break
            mon.remember(f, theta)
            loss = float(F[:n_data] @ F[:n_data])
            ev = nlp.evaluate(theta) if nlp.samples.classes else {"accuracy": None}
            stop = mon.end_epoch(it, f, loss, theta, None, _val(nlp, theta), ev["accuracy"], mu=mu)
            if stop is not None:
                raw = stop
                break
    except KeyboardInterrupt:
        raw = "user_stop"
    theta, detail = mon.finish(theta, raw)
    return SolverOutput(x=theta, raw_status=raw, iterations=len(mon.history), history=mon.history, detail=detail,
                        stats={"setup_time": 0.0, "jacobian_evaluations": n_jac, "final_mu": mu})


def _val(nlp, theta):
    if nlp.validation is None:
        return None, None
    ev = nlp.evaluate(theta, "val")
    return ev["loss"], ev["accuracy"]


def check_lm(nlp, opts):
    check_unconstrained(nlp, opts)
    if not nlp.glob.f_rest.is_zero():
        raise ValueError("solver: 'lm_backprop' needs a least-squares objective; this problem has extra objective "
                         "terms (prob.add_objective). Use 'lbfgs', 'adam' or 'ipopt'")
    if not nlp.samples.loss.least_squares:
        raise ValueError(f"solver: 'lm_backprop' needs a least-squares loss, got {nlp.samples.loss.name!r}; "
                         "use 'lbfgs' or 'adam'")


def estimate_memory(nlp, opts) -> float:
    """The dense residual Jacobian and the normal-equations matrix."""
    rows = nlp.N * nlp.samples.kernels.sizes[-1] + nlp.glob.residual.numel()
    n = nlp.n_theta
    return 8.0 * (3 * rows * n + min(rows, n) ** 2)
