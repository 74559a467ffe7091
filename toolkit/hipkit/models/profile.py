"""Confidence intervals for variance components: profile likelihood (as lme4) and Wald (delta method).

The variance parameters are put on the scale people read: random-effect standard deviations,
their correlations and the residual SD (``phi``). The deviance is a function of phi through
(theta, sigma). A profile interval for one parameter holds the values ``s`` where the deviance,
minimised over the other parameters with that one fixed at ``s``, exceeds its minimum by less
than the chi-square(1) quantile (Bates et al. 2015, J Stat Softw 67(1), section 5.1).
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy import optimize, stats

from .engine import varpar_deviance
from .numdiff import hessian, jacobian

__all__ = ["profile_intervals", "wald_intervals", "phi_from_varpar", "varpar_from_phi"]


def _layout(res):
    d = res.design
    q = d.q
    cors = [(r, c) for (r, c) in d.pattern if r != c]
    return q, cors


def phi_from_varpar(res, varpar: np.ndarray) -> np.ndarray:
    """(theta, sigma) -> (sd_1..sd_q, cor_1.., sigma)."""
    from .engine import lambda_matrix

    q, cors = _layout(res)
    theta, sigma = varpar[:-1], varpar[-1]
    lam = lambda_matrix(theta, res.design.pattern, q)
    cov = sigma**2 * lam @ lam.T
    sd = np.sqrt(np.maximum(np.diag(cov), 0.0))
    cor = [cov[r, c] / (sd[r] * sd[c]) if sd[r] > 0 and sd[c] > 0 else 0.0 for r, c in cors]
    return np.concatenate([sd, cor, [abs(sigma)]])


def varpar_from_phi(res, phi: np.ndarray) -> np.ndarray:
    """(sd.., cor.., sigma) -> (theta, sigma), through a Cholesky factor that tolerates zero variances."""
    q, cors = _layout(res)
    sd, cor, sigma = phi[:q], phi[q:-1], phi[-1]
    C = np.eye(q)
    for value, (r, c) in zip(cor, cors):
        C[r, c] = C[c, r] = value
    cov = np.outer(sd, sd) * C
    L = np.zeros((q, q))
    for j in range(q):
        s = cov[j, j] - L[j, :j] @ L[j, :j]
        L[j, j] = np.sqrt(s) if s > 1e-300 else 0.0
        for i in range(j + 1, q):
            L[i, j] = (cov[i, j] - L[i, :j] @ L[j, :j]) / L[j, j] if L[j, j] > 0 else 0.0
    lam = L / sigma
    theta = np.array([lam[r, c] for r, c in res.design.pattern])
    return np.append(theta, sigma)


def _phi_bounds(res):
    q, cors = _layout(res)
    return [(0.0, None)] * q + [(-1.0, 1.0)] * len(cors) + [(1e-12, None)]


def profile_intervals(res, conf_level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Profile-likelihood intervals for (sd.., cor.., sigma), in the order of ``variance_components``.

    As lme4's ``profile``/``confint(method = "profile")``, the profile is that of the ML deviance:
    a REML fit is refitted by ML first, and the intervals are centred on the ML estimates.
    """
    from .optimise import optimise_theta, theta_scale

    blocks, pattern = res.blocks, res.design.pattern
    theta, sigma = res.theta, res.sigma
    if res.reml:
        from .engine import deviance_at, evaluate

        theta = optimise_theta(
            lambda t: deviance_at(t, blocks, pattern, False),
            res.theta,
            res.design.theta_lower_bounds(),
            scale=theta_scale(blocks, pattern),
        ).theta
        sigma = evaluate(theta, blocks, pattern).sigma(False)
    phi_hat = phi_from_varpar(res, np.append(theta, sigma))
    bounds = _phi_bounds(res)

    def dev(phi):
        try:
            return varpar_deviance(varpar_from_phi(res, phi), blocks, pattern, False)
        except (np.linalg.LinAlgError, FloatingPointError, ValueError, ZeroDivisionError):
            return np.inf

    d_min = dev(phi_hat)
    crit = stats.chi2.ppf(conf_level, 1)
    k = len(phi_hat)
    lows, highs = np.full(k, np.nan), np.full(k, np.nan)
    for j in range(k):
        others = [i for i in range(k) if i != j]
        warm = {"z": phi_hat[others].copy()}

        def prof(s, j=j, others=others, warm=warm):
            if k == 1:
                return dev(np.array([s]))

            def f(z):
                phi = phi_hat.copy()
                phi[j] = s
                phi[others] = z
                return dev(phi)

            # Start from the better of the previous point of this profile and the optimum.
            z0 = warm["z"] if f(warm["z"]) <= f(phi_hat[others]) else phi_hat[others]
            with warnings.catch_warnings(), np.errstate(invalid="ignore", over="ignore"):
                # finite differences may step where the deviance is infinite (sigma -> 0): harmless
                warnings.simplefilter("ignore", RuntimeWarning)
                r = optimize.minimize(
                    f,
                    z0,
                    method="L-BFGS-B",
                    bounds=[bounds[i] for i in others],
                    options=dict(ftol=1e-12, gtol=1e-7, maxiter=500),
                )
            if np.isfinite(r.fun):
                warm["z"] = r.x
            return float(r.fun)

        def g(s):
            return prof(s) - d_min - crit

        lo_b, hi_b = bounds[j]
        est = phi_hat[j]
        scale = max(abs(est), 1e-3 * max(sigma, 1e-8))
        # upper limit
        hi = est + scale
        for _ in range(60):
            if hi_b is not None and hi >= hi_b:
                hi = hi_b
                break
            if g(hi) > 0:
                break
            hi = est + 2.0 * (hi - est)
        highs[j] = (
            hi
            if (hi_b is not None and hi == hi_b and g(hi) <= 0)
            else optimize.brentq(g, est, hi, xtol=1e-7 * scale, rtol=1e-8)
        )
        # lower limit
        lo = est - 0.5 * scale if lo_b is None else max(lo_b, est - 0.5 * scale)
        for _ in range(60):
            if g(lo) > 0:
                break
            if lo_b is not None and lo <= lo_b + 1e-14:
                lo = lo_b
                break
            lo = est - 2.0 * (est - lo)
            if lo_b is not None:
                lo = max(lo, lo_b)
        if g(lo) > 0:
            lows[j] = optimize.brentq(g, lo, est, xtol=1e-7 * scale, rtol=1e-8) if est > lo else lo
        else:
            lows[j] = lo
    return lows, highs


def wald_intervals(res, conf_level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Wald intervals on the SD/correlation scale: delta method with the Hessian of the deviance."""
    varpar = np.append(res.theta, res.sigma)
    H = hessian(lambda v: varpar_deviance(v, res.blocks, res.design.pattern, res.reml), varpar)
    A = 2.0 * np.linalg.pinv(H)
    J = jacobian(lambda v: phi_from_varpar(res, v), varpar)
    cov = J @ A @ J.T
    se = np.sqrt(np.maximum(np.diag(cov), 0.0))
    phi = phi_from_varpar(res, varpar)
    z = stats.norm.ppf(0.5 + conf_level / 2.0)
    lo, hi = phi - z * se, phi + z * se
    q, cors = _layout(res)
    lo[:q] = np.maximum(lo[:q], 0.0)
    lo[q:-1], hi[q:-1] = np.maximum(lo[q:-1], -1.0), np.minimum(hi[q:-1], 1.0)
    lo[-1] = max(lo[-1], 0.0)
    return lo, hi
