"""The optimiser of the profiled deviance over theta, its convergence checks and its record.

Scale invariance. Multiplying a random-effect column of Z by ``c`` (days instead of weeks: ``c = 7``)
divides the random effect, hence row ``r`` of the relative covariance factor Lambda, by ``c``; the
model is the same. The optimiser therefore works on ``phi = theta * s_r``, with ``s_r`` the root mean
square of column ``r`` of Z (computed from the blocks, so the Dask path gets it too): phi does not
depend on the units of any random-effect column, and starts at the identity (lme4's start, in those
units). In theta itself, with time in days, the slope's elements are ~1/20 of the intercept's and a
simplex built from the identity straddles the boundary: that is how the old optimiser stopped at a
false boundary (slope SD 0, correlation +1) and said it had converged.

The search is bounded Nelder-Mead (scipy; derivative-free, as lme4's BOBYQA, because the deviance is
even in each diagonal element of Lambda and a gradient method stalls on the boundary), polished by
Newton steps on the free parameters with Richardson-extrapolated derivatives. With one parameter (a
random intercept alone) the search is Brent's method instead (:func:`_brent`): same optimum to ~1e-13
relative in the estimates over 1,000 power replicates, a fifth of the evaluations. Then lme4-like checks
(lme4's ``checkConv``, Bates et al. 2015, J Stat Softw 67(1)) are computed and recorded:

- ``scaled_gradient``: max_j min(|g_j|, |(R'^-1 g)_j|) with H = R'R, the gradient g and Hessian H of the
  deviance over the free parameters in phi (lme4: ``max|grad|``, tol 2e-3);
- ``relative_gradient``: max_j |g_j| max(|phi_j|, 1) / max(|deviance|, 1), the relative change of the
  criterion per relative change of a parameter (tol 1e-6);
- ``hessian_min_eigenvalue``: the smallest eigenvalue of H, which must not be negative beyond rounding
  (1e-6 of the largest; lme4's check.conv.hess);
- ``boundary``: for each variance on its boundary, the deviance one step into the interior (phi + h,
  h = 1e-3, 1e-2, 1e-1, 1) minus the deviance at the optimum, which must not be negative.

When a variance is on its boundary or a check fails, the search restarts from interior points (the
identity, the optimum with its boundary elements moved into the interior, a small and a large
diagonal) and keeps the best; if a check still fails the fit is not converged (a warning, or an error
under ``check_convergence="error"``, from :func:`hipkit.lmm`).

No library optimiser does this as a whole: scipy gives the simplex and the root solvers, lme4's
checks are R code tied to its objects, so the restarts and the checks are written here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import optimize

from .numdiff import gradient, hessian

__all__ = ["ConvergenceCheck", "OptimizerRecord", "optimise_theta", "theta_scale", "CHECK_TOLERANCES"]

#: Tolerances of the convergence checks (see the module docstring).
CHECK_TOLERANCES = {
    "scaled_gradient": 2e-3,
    "relative_gradient": 1e-6,
    "hessian_min_eigenvalue": 1e-6,
    "boundary": 1e-8,
}
#: A diagonal phi below this is put on its boundary (0) when that does not raise the deviance (1e-11 relative).
_ZERO = 1e-4
_BOUNDARY_STEPS = (1e-3, 1e-2, 1e-1, 1.0)


@dataclass(frozen=True)
class ConvergenceCheck:
    """One convergence check: its value, its tolerance and whether it passed."""

    name: str
    value: float
    tolerance: float
    passed: bool
    description: str

    def to_dict(self) -> dict:
        """JSON-safe form."""
        v = float(self.value)
        return {
            "name": self.name,
            "value": v if np.isfinite(v) else None,
            "tolerance": float(self.tolerance),
            "passed": bool(self.passed),
            "description": self.description,
        }


@dataclass(frozen=True, eq=False)
class OptimizerRecord:
    """What the optimiser did: start and end (theta), criterion, evaluations, restarts and the checks."""

    method: str
    start: np.ndarray
    end: np.ndarray
    criterion: float
    n_evaluations: int
    n_restarts: int
    scale: np.ndarray
    checks: tuple = ()
    message: str = "ok"
    at_boundary: tuple = ()  # indices of theta on their boundary at the end

    @property
    def theta(self) -> np.ndarray:
        """The optimum (same as ``end``)."""
        return self.end

    def __iter__(self):
        """``theta, criterion, converged, message``: the 4-tuple the optimiser of fit.py returned."""
        return iter((self.end, self.criterion, self.converged, "ok" if self.converged else "; ".join(self.failures())))

    @property
    def converged(self) -> bool:
        """Whether every check passed and the criterion is finite."""
        return bool(np.isfinite(self.criterion) and all(c.passed for c in self.checks) and self.message == "ok")

    def check(self, name: str) -> ConvergenceCheck | None:
        """The check called ``name`` (None if it was not computed)."""
        return next((c for c in self.checks if c.name == name), None)

    @property
    def max_scaled_gradient(self) -> float:
        """lme4's max|grad| (0 when every parameter is on its boundary)."""
        c = self.check("scaled_gradient")
        return float(c.value) if c is not None else np.nan

    def failures(self) -> list[str]:
        """One sentence per failed check."""
        out = [] if self.message == "ok" else [self.message]
        for c in self.checks:
            if not c.passed:
                out.append(f"{c.description} is {c.value:.3g} (tolerance {c.tolerance:.3g})")
        return out

    def summary_lines(self) -> list[str]:
        """The "Optimizer:" block of the summary."""
        lines = [
            f"Optimizer: {self.method}; {self.n_evaluations} deviance evaluations, {self.n_restarts} restarts; "
            f"{'converged' if self.converged else 'NOT converged'}",
        ]
        for c in self.checks:
            lines.append(f"  {c.name:<24}{c.value:11.3g}  (tol {c.tolerance:.0e}) {'ok' if c.passed else 'FAILED'}")
        if self.message != "ok":
            lines.append(f"  {self.message}")
        return lines

    def to_dict(self) -> dict:
        """JSON-safe form (``LmmResult.to_dict()["optimizer"]``)."""
        return {
            "method": self.method,
            "start": [float(v) for v in self.start],
            "end": [float(v) for v in self.end],
            "criterion": float(self.criterion) if np.isfinite(self.criterion) else None,
            "n_evaluations": int(self.n_evaluations),
            "n_restarts": int(self.n_restarts),
            "converged": self.converged,
            "message": self.message,
            "checks": [c.to_dict() for c in self.checks],
        }


def theta_scale(blocks, pattern) -> np.ndarray:
    """``s`` with ``phi = theta * s``: the RMS of the Z column of each theta's row of Lambda."""
    n = max(int(blocks.n), 1)
    rms = np.sqrt(np.maximum(np.einsum("gii->i", blocks.ZtZ), 0.0) / n)
    rms = np.where(rms > 0, rms, 1.0)
    return np.array([rms[r] for r, _ in pattern], dtype=float)


class _Budget(Exception):
    """The evaluation budget is spent."""


@dataclass
class _Counted:
    """The deviance in phi, counting evaluations and remembering the best point seen."""

    f: object
    scale: np.ndarray
    budget: int | None
    n: int = 0
    n_checks: int = 0
    best_x: np.ndarray | None = None
    best_f: float = np.inf
    checking: bool = False
    derivatives: dict = field(default_factory=dict)  # (x, free) -> (gradient, Hessian), shared with the checks

    def __call__(self, phi) -> float:
        phi = np.asarray(phi, dtype=float)
        if self.checking:
            self.n_checks += 1
            return float(self.f(phi / self.scale))
        if self.budget is not None and self.n >= self.budget:
            raise _Budget
        self.n += 1
        v = float(self.f(phi / self.scale))
        if v < self.best_f:
            self.best_f, self.best_x = v, phi.copy()
        return v


def _nelder_mead(F: _Counted, x0: np.ndarray, bounds, step: float = 0.25) -> None:
    """Bounded Nelder-Mead from ``x0`` (the best point is kept by ``F``)."""
    k = len(x0)
    simplex = np.tile(x0, (k + 1, 1))
    for j in range(k):
        simplex[j + 1, j] += step * max(1.0, abs(x0[j]))  # upwards: into the interior of a bound
    try:
        optimize.minimize(
            F,
            x0,
            method="Nelder-Mead",
            bounds=bounds,
            options=dict(xatol=1e-5, fatol=1e-8, maxfev=1000 * k, initial_simplex=simplex, adaptive=k > 2),
        )
    except _Budget:
        pass


def _brent(F: _Counted, x0: np.ndarray) -> None:
    """Brent's method for one variance parameter, from ``x0`` (the best point is kept by ``F``).

    With one diagonal element of Lambda the deviance is a smooth even function of it (it depends on
    theta^2), so the search runs over the whole line on ``|u|``: no bound to handle, and a minimum on
    the boundary (0) is the symmetric minimum, which parabolic interpolation finds. It reaches
    sqrt(machine epsilon) relative accuracy in ~20 evaluations, where the simplex and Newton polish
    of the general case take ~100 (a scalar search has no simplex to build or derivatives to take).
    """
    a = float(x0[0])
    b = a + 0.25 * max(1.0, abs(a))
    try:
        optimize.minimize_scalar(lambda u: F(np.array([abs(u)])), bracket=(a, b), method="brent")
    except _Budget:
        pass
    except (RuntimeError, ValueError, FloatingPointError):  # no bracket found (a deviance not finite)
        _nelder_mead(F, np.array([abs(a)]), [(0.0, None)])


def _free_function(F, x: np.ndarray, free: np.ndarray):
    def f_free(z):
        t = x.copy()
        t[free] = z
        return F(t)

    return f_free


def _derivatives(F: _Counted, x: np.ndarray, free: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Gradient and Hessian over the free parameters at ``x`` (computed once per point)."""
    key = (x.tobytes(), free.tobytes())
    if key not in F.derivatives:
        # numdiff's steps are relative to |x|; a parameter near 0 (a small correlation term) would get
        # steps so small that rounding noise of the deviance swamps the difference. Differentiate in
        # z = x + shift, |shift| = 0.1, so that every step is at least 1e-5 (gradient) and 1e-2
        # (Hessian) in phi, which is scale-free.
        shift = np.where(x[free] >= 0, 0.1, -0.1)
        ff = _free_function(F, x, free)

        def fz(z):
            return ff(z - shift)

        z = x[free] + shift
        F.derivatives.clear()
        F.derivatives[key] = (gradient(fz, z), hessian(fz, z))
    return F.derivatives[key]


def _snap(F: _Counted, x: np.ndarray, diag: np.ndarray) -> tuple[np.ndarray, float]:
    """Put diagonal elements below ``_ZERO`` on the boundary when that does not raise the deviance."""
    fx = F(x)
    small = diag & (x < _ZERO) & (x != 0.0)
    if small.any():
        cand = x.copy()
        cand[small] = 0.0
        fc = F(cand)
        if fc <= fx + 1e-11 * max(1.0, abs(fx)):
            return cand, fc
    return x, fx


def _newton_polish(F: _Counted, x: np.ndarray, diag: np.ndarray, max_iter: int = 8) -> tuple[np.ndarray, float]:
    """Newton steps with a line search on the free parameters (those not on their boundary)."""
    x, fx = _snap(F, x, diag)
    for _ in range(max_iter):
        free = ~(diag & (x <= 0.0))
        if not free.any():
            break
        g, H = _derivatives(F, x, free)
        try:
            step = np.linalg.solve(H, g)
        except np.linalg.LinAlgError:
            break
        if not np.all(np.isfinite(step)) or float(g @ step) <= 0.0:
            break  # not a descent direction (H not positive definite here): leave it to the checks
        if np.max(np.abs(step)) < 1e-10 * max(1.0, float(np.max(np.abs(x)))):
            break
        lam, improved = 1.0, False
        for _ls in range(30):
            cand = x.copy()
            cand[free] = x[free] - lam * step
            cand = np.where(diag, np.maximum(cand, 0.0), cand)
            fc = F(cand)
            if fc < fx:
                gain = fx - fc
                x, fx, improved = cand, fc, True
                break
            lam /= 2.0
        if not improved:
            # Within ~1e-4 of the optimum the deviance's rounding noise (~1e-13 relative) hides the
            # gain of a Newton step (~H |step|^2), but the gradient still points the way: take the
            # step when the deviance stays within that noise, then stop.
            if np.max(np.abs(step)) < 1e-4:
                cand = x.copy()
                cand[free] = x[free] - step
                cand = np.where(diag, np.maximum(cand, 0.0), cand)
                fc = F(cand)
                if fc <= fx + 1e-12 * max(1.0, abs(fx)):
                    x, fx = cand, fc
            break
        if gain < 1e-14 * max(1.0, abs(fx)):
            break
        x, fx = _snap(F, x, diag)
    return x, fx


def _checks(F: _Counted, x: np.ndarray, fx: float, diag: np.ndarray) -> tuple[ConvergenceCheck, ...]:
    tol = CHECK_TOLERANCES
    F.checking = True
    try:
        free = ~(diag & (x <= 0.0))
        out = []
        scale_f = max(1.0, abs(fx))
        if free.any():
            g, H = _derivatives(F, x, free)
            H = 0.5 * (H + H.T)
            try:
                R = np.linalg.cholesky(H)  # lower: H = R R'
                sc = np.linalg.solve(R, g)
                scaled = float(np.max(np.minimum(np.abs(sc), np.abs(g))))
            except np.linalg.LinAlgError:
                scaled = float(np.max(np.abs(g)))
            rel = float(np.max(np.abs(g) * np.maximum(np.abs(x[free]), 1.0))) / scale_f
            eig = np.linalg.eigvalsh(H) if np.all(np.isfinite(H)) else np.array([np.nan])
            min_eig = float(eig.min())
            eig_floor = -tol["hessian_min_eigenvalue"] * max(1.0, float(np.max(np.abs(eig))))
            out += [
                ConvergenceCheck(
                    "scaled_gradient",
                    scaled,
                    tol["scaled_gradient"],
                    bool(scaled < tol["scaled_gradient"]),
                    "the scaled gradient of the deviance (lme4's max|grad|)",
                ),
                ConvergenceCheck(
                    "relative_gradient",
                    rel,
                    tol["relative_gradient"],
                    bool(rel < tol["relative_gradient"]),
                    "the relative gradient of the deviance",
                ),
                ConvergenceCheck(
                    "hessian_min_eigenvalue",
                    min_eig,
                    tol["hessian_min_eigenvalue"],
                    bool(min_eig >= eig_floor),
                    "the smallest eigenvalue of the Hessian of the deviance (a negative one: not a minimum)",
                ),
            ]
        else:
            out.append(
                ConvergenceCheck(
                    "scaled_gradient", 0.0, tol["scaled_gradient"], True, "the scaled gradient (no free parameter)"
                )
            )
        bound = np.flatnonzero(diag & (x <= 0.0))
        if len(bound):
            worst = np.inf
            for j in bound:
                for h in _BOUNDARY_STEPS:
                    cand = x.copy()
                    cand[j] = h
                    worst = min(worst, (F(cand) - fx) / scale_f)
            out.append(
                ConvergenceCheck(
                    "boundary",
                    float(worst),
                    tol["boundary"],
                    bool(worst >= -tol["boundary"]),
                    "the relative change of the deviance one step from the boundary into the interior",
                )
            )
        return tuple(out)
    finally:
        F.checking = False


def _restart_points(x: np.ndarray, diag: np.ndarray, x0: np.ndarray) -> list[np.ndarray]:
    ident = np.where(diag, 1.0, 0.0)
    moved = x.copy()
    moved[diag & (x <= 0.0)] = max(0.5, 0.5 * float(np.max(np.abs(x[diag])))) if diag.any() else 0.5
    pts = [moved, ident, np.where(diag, 0.2, 0.0), np.where(diag, 3.0, 0.0)]
    if (~diag).any():
        # At a boundary (a variance 0) the deviance is symmetric in the sign of the off-diagonal elements of
        # that column, and the search returns to the side it came from; the optimum may lie in the basin
        # of the other sign (found in ML fits with a random slope: theta (0, +a, b) reported, the optimum
        # near (c, -a', 0)). Restart with the off-diagonals flipped, and from the identity tilted each way.
        flipped = np.where(diag, moved, -moved)
        tilted = [np.where(diag, 1.0, sign * 0.5) for sign in (1.0, -1.0)]
        pts = [moved, flipped, ident, *tilted, np.where(diag, 0.2, 0.0), np.where(diag, 3.0, 0.0)]
        # A face where a variance is 0 can be a valley of equal deviance that captures every start above
        # (found by review: ML, 9 participants, theta (0, 0.05, 0.085) against (0.097, -0.102, 0)), so
        # also a few seeded random points (reproducible: the seed is fixed) spread over the scale-free space.
        rng = np.random.default_rng(20261202)
        for _ in range(6):
            pts.append(np.where(diag, rng.uniform(0.05, 2.0, len(x)), rng.uniform(-3.0, 3.0, len(x))))
    out = []
    for p in pts:
        if not any(np.allclose(p, q) for q in out) and not np.allclose(p, x0):
            out.append(p)
    return out


def optimise_theta(
    f,
    theta0: np.ndarray,
    lower: np.ndarray,
    scale: np.ndarray | None = None,
    max_evaluations: int | None = None,
    restarts: bool = True,
) -> OptimizerRecord:
    """Minimise the profiled deviance ``f`` over theta (see the module docstring).

    Parameters
    ----------
    f : callable
        theta -> deviance (+inf where it cannot be evaluated).
    theta0 : ndarray
        Starting value of theta.
    lower : ndarray
        Lower bounds of theta: 0 for diagonal elements of Lambda, -inf for the others.
    scale : ndarray, optional
        ``phi = theta * scale`` is the space searched (:func:`theta_scale`); ones if omitted.
    max_evaluations : int, optional
        Stop the search after this many deviance evaluations (the checks then tell).
    restarts : bool, default True
        Restart from interior points when the optimum is on a boundary or a check fails.

    Returns
    -------
    OptimizerRecord
    """
    lower = np.asarray(lower, dtype=float)
    diag = np.isfinite(lower)
    scale = np.ones(len(lower)) if scale is None else np.asarray(scale, dtype=float)
    theta0 = np.asarray(theta0, dtype=float)
    x0 = theta0 * scale
    bounds = [(0.0, None) if d else (None, None) for d in diag]
    F = _Counted(f, scale, max_evaluations)
    message = "ok"
    n_restarts = 0

    scalar = len(x0) == 1 and bool(diag[0])

    def search(start):
        if scalar:
            _brent(F, start)
            return
        _nelder_mead(F, start, bounds)
        if F.best_x is not None and np.isfinite(F.best_f):
            x, fx = _newton_polish(F, F.best_x.copy(), diag)
            # The polished point, not a lower value found on a derivative stencil by rounding noise.
            if fx <= F.best_f + 1e-12 * max(1.0, abs(F.best_f)):
                F.best_x, F.best_f = x, fx

    checked = {"x": None, "checks": ()}

    def check(x):
        if checked["x"] is None or not np.array_equal(checked["x"], x):
            checked["x"], checked["checks"] = x.copy(), _checks(F, x, F.best_f, diag)
        return checked["checks"]

    try:
        search(x0)
        x = F.best_x.copy()
        at_bound = bool(np.any(diag & (x <= 0.0)))
        if restarts and (at_bound or not all(c.passed for c in check(x))):
            for start in _restart_points(x, diag, x0):
                n_restarts += 1
                search(start)
                x = F.best_x.copy()
                if not np.any(diag & (x <= 0.0)) and all(c.passed for c in check(x)):
                    break
    except _Budget:
        message = f"the optimiser stopped at its limit of {max_evaluations} deviance evaluations"
    if F.best_x is None or not np.isfinite(F.best_f):
        x = x0 if F.best_x is None else F.best_x.copy()
        fx, checks = np.inf, ()
        message = "the deviance is not finite at the optimiser's solution"
    else:
        x, fx = F.best_x.copy(), F.best_f
        small = diag & (x < _ZERO) & (x != 0.0)
        if small.any():  # a variance within rounding of zero is on its boundary (as lme4 reports it)
            F.checking = True
            cand = x.copy()
            cand[small] = 0.0
            fc = F(cand)
            F.checking = False
            if fc <= fx + 1e-11 * max(1.0, abs(fx)):
                x, fx = cand, fc
                F.best_x, F.best_f = cand, fc
        checks = check(x)
    return OptimizerRecord(
        method="Brent on scale-free theta" if scalar else "Nelder-Mead on scale-free theta + Newton polish",
        start=theta0.copy(),
        end=x / scale,
        criterion=float(fx),
        n_evaluations=F.n + F.n_checks,
        n_restarts=n_restarts,
        scale=scale,
        checks=tuple(checks),
        message=message,
        at_boundary=tuple(int(i) for i in np.flatnonzero(diag & (x <= 0.0))),
    )
