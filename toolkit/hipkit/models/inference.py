"""Small-sample inference for fixed effects: Satterthwaite degrees of freedom, t and F tests.

Follows lmerTest (Kuznetsova, Brockhoff & Christensen 2017, J Stat Softw 82(13)): the variance
parameters are ``varpar = (theta, sigma)``; their asymptotic covariance is ``A = 2 H^-1`` with H the
Hessian of the (REML or ML) deviance at the optimum, not profiled over sigma. For a contrast vector
``l``, ``df = 2 (l'Cl)^2 / (g' A g)`` with ``C`` the covariance of the fixed effects and ``g`` the
gradient of ``l'Cl`` with respect to varpar. Multi-degree-of-freedom F tests diagonalise ``LCL'``
and combine the per-direction df as lmerTest's ``contestMD`` does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special, stats

from .._glossary import T_TEST_COLUMNS
from ..errors import ArgumentError
from .engine import Blocks, core, varpar_deviance
from .numdiff import hessian, jacobian

__all__ = ["Satterthwaite", "fdf_combine", "DDF_METHODS", "normalise_ddf", "step_scale", "t_table"]

#: The degrees-of-freedom methods of t and F tests (the first is the default).
DDF_METHODS = ("satterthwaite", "kenward-roger")
_DDF_ALIASES = {
    "kr": "kenward-roger",
    "kenward_roger": "kenward-roger",
    "kenwardroger": "kenward-roger",
    "kenward roger": "kenward-roger",
}


def normalise_ddf(ddf: str) -> str:
    """The canonical name of a df method: ``"satterthwaite"`` or ``"kenward-roger"`` (any case, aliases).

    Parameters
    ----------
    ddf : str
        ``"satterthwaite"``, ``"kenward-roger"`` or an alias (``"kr"``, ``"Kenward-Roger"``,
        ``"kenward_roger"``), in any case.

    Returns
    -------
    str
        One of :data:`DDF_METHODS`.

    Raises
    ------
    ArgumentError
        Any other value.

    Examples
    --------
    >>> normalise_ddf("KR")
    'kenward-roger'
    """
    key = ddf.strip().lower() if isinstance(ddf, str) else None
    key = _DDF_ALIASES.get(key, key)
    if key not in DDF_METHODS:
        raise ArgumentError(f"ddf must be one of {', '.join(repr(m) for m in DDF_METHODS)} (or 'kr'), got {ddf!r}")
    return key


def step_scale(theta: np.ndarray, pattern) -> np.ndarray:
    """Natural magnitude of each varpar for the numerical derivatives: the norm of its Cholesky row.

    Every element of row ``r`` of the relative Cholesky factor lives on the scale of that row's
    norm (the relative SD of random effect ``r``). numDeriv, which lmerTest uses, steps by 10% of
    the element itself, so an off-diagonal element near 0 in a row whose diagonal is not gets a
    step so small that the second difference of the deviance is mostly its rounding error (corpus
    model d063_m2_ml: theta = (2.418, 3.0e-4, 0.185), step 3e-5 down to 4e-6; hipkit's deviance
    carries about 5e-11 of rounding noise against lme4's 7e-13, and the Hessian's (2, 2) element
    came out 1408 against 1429). Stepping on the row's scale removes that; where an element is
    not small against its row (every diagonal of a one-term row) the step is numDeriv's. sigma
    (the last varpar) keeps numDeriv's step (scale 0).
    """
    theta = np.asarray(theta, dtype=float)
    rows = np.array([r for r, _ in pattern])
    norms = {r: float(np.sqrt(np.sum(theta[rows == r] ** 2))) for r in set(rows.tolist())}
    return np.append([norms[r] for r in rows], 0.0)


@dataclass
class Satterthwaite:
    """Satterthwaite machinery evaluated once at the optimum (its cost does not depend on n)."""

    varpar: np.ndarray
    A: np.ndarray  # asymptotic covariance of varpar
    jac: np.ndarray  # (k, p, p): derivative of cov(beta) w.r.t. each varpar
    cov_beta: np.ndarray
    hessian_ok: bool

    @classmethod
    def unavailable(cls, theta: np.ndarray, sigma: float, cov_beta: np.ndarray) -> Satterthwaite:
        """The machinery when it cannot be computed: every df (and so every p value) NaN."""
        m, p = len(theta), cov_beta.shape[0]
        varpar = np.append(np.asarray(theta, dtype=float), sigma)
        return cls(varpar, np.full((m + 1, m + 1), np.nan), np.full((m + 1, p, p), np.nan), cov_beta, False)

    @classmethod
    def compute(cls, theta: np.ndarray, sigma: float, blocks: Blocks, pattern, reml: bool, cov_beta: np.ndarray):
        """Evaluate the Hessian and Jacobian at the optimum.

        The deviance at (theta, sigma) is ``a(theta) + r(theta) / sigma^2 + c log sigma^2`` (up to a
        constant), with ``a`` the log-determinants, ``r`` the penalised residual sum of squares and
        ``c = n`` (ML) or ``n - p`` (REML), and ``cov(beta) = sigma^2 C(theta)``. So every derivative
        in sigma is exact in closed form, and only those in theta are numerical:

            d2/dsigma2        = 6 r / sigma^4 - 2 c / sigma^2
            d2/dtheta dsigma  = -2 (dr/dtheta) / sigma^3
            d cov / dsigma    = 2 sigma C(theta)

        the theta-theta block is the numerical Hessian (Richardson, as numDeriv) of the deviance at
        fixed sigma, and dr/dtheta and dC/dtheta one numerical Jacobian. This gives lmerTest's
        quantities with about a third of the deviance evaluations of differencing in all of
        (theta, sigma) (the cost of a replicate in a power curve or a bootstrap).
        """
        theta = np.asarray(theta, dtype=float)
        m, p = len(theta), cov_beta.shape[0]
        s2 = sigma * sigma
        c = (blocks.n - blocks.p) if reml else blocks.n
        varpar = np.append(theta, sigma)
        scale = step_scale(theta, pattern)[:m]  # steps on each Cholesky row's scale (see step_scale)
        H = np.empty((m + 1, m + 1))
        H[:m, :m] = hessian(lambda t: varpar_deviance(np.append(t, sigma), blocks, pattern, reml), theta, scale)

        def r_and_c(t):
            k = core(t, blocks, pattern)
            inv = np.linalg.inv(k.LX)  # R_X'^-1, so (R_X'R_X)^-1 = inv' inv
            return np.concatenate([[k.pwrss], (inv.T @ inv).ravel()])

        J = jacobian(r_and_c, theta, scale)  # (1 + p*p, m)
        at = core(theta, blocks, pattern)
        with np.errstate(all="ignore"):  # numpy scalars: a residual SD of (nearly) 0 gives inf, not a crash
            sig = np.float64(sigma)
            H[:m, m] = H[m, :m] = -2.0 * J[0] / (sig**3)
            H[m, m] = 6.0 * at.pwrss / sig**4 - 2.0 * c / sig**2
        if not np.all(np.isfinite(H)):
            # A perfect fit (residual SD 0) leaves the deviance undefined in sigma: no Satterthwaite df
            # (NaN, so p values are NaN too) rather than a crash; the fit already warns that it failed to converge.
            return cls.unavailable(theta, sigma, cov_beta)
        eig = np.linalg.eigvalsh(H)
        ok = bool(np.all(eig > 0))
        A = 2.0 * np.linalg.pinv(H)
        jac = np.empty((m + 1, p, p))
        jac[:m] = s2 * np.moveaxis(J[1:].reshape(p, p, m), -1, 0)
        jac[m] = 2.0 * cov_beta / sigma
        return cls(varpar=varpar, A=A, jac=jac, cov_beta=cov_beta, hessian_ok=ok)

    def df(self, L: np.ndarray) -> np.ndarray:
        """Satterthwaite df for each row of ``L`` (contrast vectors)."""
        L = np.atleast_2d(L)
        v = np.einsum("ij,jk,ik->i", L, self.cov_beta, L)
        g = np.einsum("ij,mjk,ik->im", L, self.jac, L)  # (rows, k)
        denom = np.einsum("im,mn,in->i", g, self.A, g)
        with np.errstate(divide="ignore", invalid="ignore"):
            return 2.0 * v * v / denom

    def t_test(self, L: np.ndarray, beta: np.ndarray):
        """Estimate, SE, df, t, two-sided p for each row of ``L``."""
        L = np.atleast_2d(L)
        est = L @ beta
        se = np.sqrt(np.einsum("ij,jk,ik->i", L, self.cov_beta, L))
        df = self.df(L)
        t = est / se
        p = 2.0 * special.stdtr(df, -np.abs(t))  # = stats.t.sf(|t|, df), without the distribution's overhead
        return est, se, df, t, p

    def f_test(self, L: np.ndarray, beta: np.ndarray, tol: float = 1e-8):
        """F value, numerator df, denominator df and p for H0: L beta = 0 (lmerTest's contestMD)."""
        L = np.atleast_2d(L)
        VL = L @ self.cov_beta @ L.T
        d, P = np.linalg.eigh(VL)
        order = np.argsort(d)[::-1]
        d, P = d[order], P[:, order]
        keep = d > max(tol * d[0], 0)
        q = int(keep.sum())
        PtL = (P.T @ L)[:q]
        if q == 1:
            est, se, df, t, _ = self.t_test(PtL, beta)
            F = float(t[0] ** 2)
            ddf = float(df[0])
        else:
            t2 = (PtL @ beta) ** 2 / d[:q]
            F = float(t2.sum() / q)
            nu = self.df(PtL)
            ddf = fdf_combine(nu)
        p = float(stats.f.sf(F, q, ddf))
        return F, q, ddf, p


def fdf_combine(nu: np.ndarray, tol: float = 1e-8) -> float:
    """Denominator df of an F statistic from the df of its orthogonal t statistics (lmerTest)."""
    nu = np.asarray(nu, dtype=float)
    if len(nu) == 1:
        return float(nu[0])
    if np.all(np.abs(np.diff(nu)) < tol):
        return float(nu.mean())
    if np.any(nu <= 2):
        return 2.0
    E = float(np.sum(nu / (nu - 2.0)))
    return 2.0 * E / (E - len(nu))


def t_table(est, se, df, conf_level: float, t=None, p=None) -> pd.DataFrame:
    """The glossary's t-test columns: estimate, std_error, df, statistic, p_value, conf_low, conf_high.

    ``t`` and ``p`` default to ``est / se`` and the two-sided p value on ``df`` degrees of freedom; the
    interval is ``est -/+ t_(1 + conf_level)/2, df * se``.
    """
    est, se, df = (np.asarray(v, dtype=float) for v in (est, se, df))
    t = est / se if t is None else np.asarray(t, dtype=float)
    p = 2.0 * special.stdtr(df, -np.abs(t)) if p is None else np.asarray(p, dtype=float)
    crit = stats.t.ppf(0.5 + conf_level / 2.0, df)
    values = (est, se, df, t, p, est - crit * se, est + crit * se)
    return pd.DataFrame(dict(zip(T_TEST_COLUMNS, values)))

