"""Confidence intervals for variance components: profile likelihood (as lme4) and Wald (delta method).

The variance parameters are put on the scale people read: random-effect standard deviations,
their correlations and the residual SD (``phi``). The deviance is a function of phi through
(theta, sigma). A profile interval for one parameter holds the values ``s`` where the deviance,
minimised over the other parameters with that one fixed at ``s``, exceeds its minimum by less
than the chi-square(1) quantile (Bates et al. 2015, J Stat Softw 67(1), section 5.1).

Each limit is the root of the profile minus its cutoff, bracketed by doubling steps from the estimate
and solved by Brent's method (scipy's brentq, to 1e-11 of the parameter's scale), not interpolated
through a grid as lme4's ``confint`` does. The inner minimisation over the other parameters runs on
parameters scaled to their size, warm-started along the profile; where its optimum is near a bound (a
singular fit: an SD at 0 or a correlation at +/-1), the limit is checked with multi-start inner
searches and found again with them if they reach a lower profile. Validated against the roots of
lme4's own profile (tests/reference/days_slope, singular and non-singular fits: within 1e-6).
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy import optimize, stats

from .engine import deviance_at, evaluate, lambda_matrix, varpar_deviance
from .numdiff import hessian, jacobian
from .optimise import optimise_theta, theta_scale

__all__ = ["profile_intervals", "wald_intervals", "phi_from_varpar", "varpar_from_phi"]


def _layout(res):
    d = res.design
    q = d.q
    cors = [(r, c) for (r, c) in d.pattern if r != c]
    return q, cors


def phi_from_varpar(res, varpar: np.ndarray) -> np.ndarray:
    """(theta, sigma) -> (sd_1..sd_q, cor_1.., sigma)."""
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
    blocks, pattern = res.blocks, res.design.pattern
    theta, sigma = res.theta, res.sigma
    if res.reml:
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
    # Interior values for restarts: each SD at its estimate, or where that is 0 at a tenth of the
    # residual SD per unit of its Z column; correlations at 0.
    q, cors = _layout(res)
    zrms = np.sqrt(np.einsum("gii->i", blocks.ZtZ) / max(blocks.n, 1))
    interior = phi_hat.copy()
    for i in range(q):
        if interior[i] <= 0:
            interior[i] = 0.1 * sigma / max(zrms[i], 1e-300)
    interior[q:-1] = 0.0
    zscale = np.where(interior > 0, interior, 1.0)  # SDs and sigma at their size; correlations 1
    zscale[q:-1] = 1.0
    crit = stats.chi2.ppf(conf_level, 1)
    k = len(phi_hat)
    lows, highs = np.full(k, np.nan), np.full(k, np.nan)
    for j in range(k):
        others = [i for i in range(k) if i != j]
        warm = {"z": phi_hat[others].copy()}

        def prof(s, multi=False, j=j, others=others, warm=warm):
            if k == 1:
                return dev(np.array([s]))

            def f(z):
                phi = phi_hat.copy()
                phi[j] = s
                phi[others] = z
                return dev(phi)

            # Start from the better of the previous point of this profile and the optimum; with
            # ``multi``, where the inner optimum is near a bound of the other parameters (a singular
            # fit), also from interior points, keeping the best: a local search started on the
            # boundary can stay there.
            z0 = warm["z"] if f(warm["z"]) <= f(phi_hat[others]) else phi_hat[others]
            inner_bounds = [bounds[i] for i in others]
            r = _inner_minimise(f, [z0], inner_bounds, zscale[others])
            near = _near_bound(r.x, inner_bounds) or _near_bound(phi_hat[others], inner_bounds)
            warm["near"] = warm.get("near", False) or near
            if multi and near:
                starts = _interior_starts(r.x, interior[others], inner_bounds)
                alt = _inner_minimise(f, starts, inner_bounds, zscale[others])
                if alt.fun < r.fun:
                    r = alt
            if np.isfinite(r.fun):
                warm["z"] = r.x
            return float(r.fun)

        est = phi_hat[j]
        scale = max(abs(est), 1e-3 * max(sigma, 1e-8))
        for side, out in ((1, highs), (-1, lows)):
            # First with warm-started local inner searches; where the inner optimum came near a bound,
            # the limit is checked with multi-start inner searches and found again with them if the
            # profile there is lower (the local searches were trapped).
            warm["near"] = False
            limit = _profile_limit(lambda s: prof(s) - d_min - crit, est, bounds[j], side, scale)
            if warm["near"] and k > 1:
                g_multi = lambda s: prof(s, multi=True) - d_min - crit  # noqa: E731
                if g_multi(limit) < prof(limit) - d_min - crit - 1e-9:
                    limit = _profile_limit(g_multi, est, bounds[j], side, scale)
            out[j] = limit
    return lows, highs


def _profile_limit(g, est: float, bound: tuple, side: int, scale: float) -> float:
    """The root of ``g`` (profile minus its cutoff) beyond ``est`` on ``side``, or the bound.

    The root is bracketed by steps doubling away from the estimate and solved by Brent's method
    (scipy's brentq) to 1e-11 of the parameter's scale; where the profile stays below the cutoff up
    to the parameter's bound, the bound is the limit.
    """
    b = bound[1] if side > 0 else bound[0]
    step = scale if side > 0 else 0.5 * scale
    x = est + side * step
    for _ in range(60):
        if b is not None and side * (x - b) >= 0:
            x = b
            if g(x) <= 0:
                return float(x)
            break
        if g(x) > 0:
            break
        x = est + 2.0 * (x - est)
    if x == est:
        return float(x)
    a, c = (est, x) if side > 0 else (x, est)
    return float(optimize.brentq(g, a, c, xtol=1e-11 * scale, rtol=1e-12))


def _inner_minimise(f, starts, bounds, zscale):
    """The best of bounded quasi-Newton searches (L-BFGS-B) from ``starts``.

    The search runs on ``z / zscale`` (each SD and sigma over its size at the optimum): SDs in the
    units of their Z column differ by orders of magnitude (an intercept SD of 20 N, a slope SD of
    0.02 N/day), and unscaled the search stops early in the steep direction.
    """
    best = None
    zscale = np.asarray(zscale, dtype=float)
    sb = [(None if lo is None else lo / c, None if hi is None else hi / c) for (lo, hi), c in zip(bounds, zscale)]

    def fs(u):
        return f(u * zscale)

    with warnings.catch_warnings(), np.errstate(invalid="ignore", over="ignore"):
        # finite differences may step where the deviance is infinite (sigma -> 0): harmless
        warnings.simplefilter("ignore", RuntimeWarning)
        for z0 in starts:
            r = optimize.minimize(
                fs,
                np.asarray(z0) / zscale,
                method="L-BFGS-B",
                bounds=sb,
                options=dict(ftol=1e-14, gtol=1e-9, maxiter=500),
            )
            if best is None or r.fun < best.fun:
                best = r
    best.x = best.x * zscale
    return best


def _near_bound(z, bounds, rel: float = 1e-3) -> bool:
    for v, (lo, hi) in zip(z, bounds):
        width = rel * max(1.0, abs(v))
        if (lo is not None and v - lo < width) or (hi is not None and hi - v < width):
            return True
    return False


def _interior_starts(z, interior, bounds):
    """The point ``z`` with its near-bound elements moved to interior values (and correlations also to +/-0.5)."""
    out = []
    for cor in (0.0, 0.5, -0.5):
        p = np.array(z, dtype=float)
        for i, (lo, hi) in enumerate(bounds):
            if _near_bound([p[i]], [(lo, hi)]):
                p[i] = cor if (lo == -1.0 and hi == 1.0) else interior[i]
        out.append(p)
    return out


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
