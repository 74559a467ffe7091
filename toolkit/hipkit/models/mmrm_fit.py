"""The mixed model for repeated measures (MMRM): visit-by-group means, unstructured residual covariance.

The model of a randomised trial with repeated post-baseline visits and dropout (Mallinckrodt et al.
2008, Drug Inf J 42:303):

    y_i = X_i beta + e_i,    e_i ~ N(0, Sigma[o_i, o_i]),    patients independent,

where ``o_i`` are the visits patient ``i`` attended and ``Sigma`` is an unstructured K x K covariance
across the K visits (one variance per visit, one correlation per pair of visits). The fixed effects are
visit (a factor) by group with R's treatment contrasts, plus covariates (e.g. the baseline value).
Rows missing the outcome are left out: the likelihood of the observed values is valid when dropout
depends on the observed outcomes (missing at random); nothing is imputed. This is the model of
``nlme::gls(y ~ visit * group, correlation = corSymm(), weights = varIdent(~ 1 | visit))`` (Pinheiro &
Bates 2000, Mixed-Effects Models in S and S-PLUS) and of the R package mmrm's ``us(visit | id)``
(Sabanes Bove et al., mmrm: Mixed Models for Repeated Measures, CRAN).

Estimation. ``Sigma = L L'`` with L lower triangular; the parameters ``theta`` are ``log diag(L)``
followed by the lower triangle of L by column (the log-Cholesky parameterisation, as mmrm's ``us``).
For given theta, beta is profiled out by generalised least squares, and the REML (or ML)
log-likelihood is a function of theta alone, minimised (as -2 logLik) by scipy's BFGS and polished by
Newton steps on a numerical Hessian. Patients are grouped by their pattern of observed visits, and the
sums ``sum_i X_i[a]' X_i[b]``, ``sum_i X_i[a]' y_i[b]`` and ``sum_i y_i[a] y_i[b]`` over the patients
of a pattern are formed once, before the search: an evaluation then costs one Cholesky factor of
``Sigma[o, o]`` per pattern and contractions of these sums with its inverse, so the cost of an
evaluation does not grow with the number of patients beyond the (precomputed) pattern sums.

Inference. ``vcov(beta) = (X' V^-1 X)^-1`` at the estimate. For a contrast ``l``, Satterthwaite's df
(Satterthwaite 1946; as lmerTest and the mmrm package, Christensen 2011) are
``2 (l Phi l')^2 / (g' A g)`` with ``Phi(theta) = (X' V(theta)^-1 X)^-1``, ``g`` the numerical
gradient of ``l Phi(theta) l'`` over theta and ``A`` the inverse of the Hessian of -logLik (REML or ML).
Estimated means at each visit by group have the covariates at their mean over the rows used (as
emmeans); group differences are against the first group at each visit.

Kenward-Roger df and covariance structures other than unstructured are not implemented here.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import linalg, optimize

from ..errors import ConvergenceWarning, IdentifiabilityError, ModelSpecError
from .mmrm_result import MmrmResult, contrast_table
from .numdiff import gradient, hessian, jacobian
from .optimise import CHECK_TOLERANCES

__all__ = ["mmrm", "MmrmModel"]


def _level_label(value) -> str:
    """R's label of a factor level made from ``value`` (2.0 -> "2", 1.5 -> "1.5")."""
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return str(int(value)) if float(value).is_integer() else repr(float(value))
    return str(value)


def _levels(col: pd.Series) -> list:
    """The levels of ``col`` in R's order: the categories of a categorical, else the sorted values."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        return [c for c in col.cat.categories if (col == c).any()]
    values = col.unique()
    try:
        return sorted(values)
    except TypeError:
        return sorted(values, key=str)


@dataclass(frozen=True, eq=False)
class _Pattern:
    """The patients with one pattern of observed visits, and their sums."""

    visits: np.ndarray  # indices of the visits observed
    n: int  # patients
    xx: np.ndarray  # (k, k, p, p): sum_i X_i[a]' X_i[b]
    xy: np.ndarray  # (k, k, p): sum_i X_i[a]' y_i[b]
    yy: np.ndarray  # (k, k): sum_i y_i[a] y_i[b]


class MmrmModel:
    """The design of an MMRM and its likelihood as a function of theta (see the module docstring)."""

    def __init__(self, X: np.ndarray, y: np.ndarray, visit: np.ndarray, subject: np.ndarray, n_visits: int, reml: bool):
        self.X, self.y, self.reml, self._visit = X, y, reml, visit
        self.n_visits = K = n_visits
        self.nobs, self.p = X.shape
        order = np.lexsort((visit, subject))
        X, y, visit, subject = X[order], y[order], visit[order], subject[order]
        starts = np.flatnonzero(np.r_[True, subject[1:] != subject[:-1]])
        bounds = np.r_[starts, len(subject)]
        self.n_subjects = len(starts)
        codes = np.zeros(self.n_subjects, dtype=np.int64)
        for s in range(self.n_subjects):
            codes[s] = int(np.sum(2 ** visit[bounds[s] : bounds[s + 1]].astype(np.int64)))
        patterns = []
        for code in np.unique(codes):
            subj = np.flatnonzero(codes == code)
            vis = np.array([j for j in range(K) if code >> j & 1])
            rows = starts[subj][:, None] + np.arange(len(vis))[None, :]
            Xp, yp = X[rows], y[rows]  # (n, k, p), (n, k)
            patterns.append(
                _Pattern(
                    vis,
                    len(subj),
                    np.einsum("iap,ibq->abpq", Xp, Xp),
                    np.einsum("iap,ib->abp", Xp, yp),
                    np.einsum("ia,ib->ab", yp, yp),
                )
            )
        self.patterns = tuple(patterns)
        # Patterns with the same number of visits are stacked, so that an evaluation is a few batched
        # numpy calls (a Cholesky of each pattern's Sigma[o, o], then contractions with the sums).
        self._stacks = []
        for k in sorted({len(pat.visits) for pat in patterns}):
            group = [pat for pat in patterns if len(pat.visits) == k]
            self._stacks.append(
                (
                    np.array([pat.visits for pat in group]),
                    np.array([pat.n for pat in group], float),
                    np.stack([pat.xx.reshape(k * k, -1) for pat in group]),  # (m, k*k, p*p)
                    np.stack([pat.xy.reshape(k * k, -1) for pat in group]),  # (m, k*k, p)
                    np.stack([pat.yy.ravel() for pat in group]),  # (m, k*k)
                )
            )
        self.n_theta = K * (K + 1) // 2
        self._tril = np.tril_indices(K, -1)
        # tril_indices runs by row; R's lower.tri (and mmrm's theta) run by column.
        by_col = np.lexsort((self._tril[0], self._tril[1]))
        self._tril = (self._tril[0][by_col], self._tril[1][by_col])

    # --- parameterisation -------------------------------------------------------------------------
    def covariance(self, theta: np.ndarray) -> np.ndarray:
        """Sigma = L L' from the log-Cholesky parameters."""
        K = self.n_visits
        L = np.diag(np.exp(theta[:K]))
        L[self._tril] = theta[K:]
        return L @ L.T

    def theta_of(self, sigma: np.ndarray) -> np.ndarray:
        """The log-Cholesky parameters of a covariance matrix (inverse of :meth:`covariance`)."""
        L = np.linalg.cholesky(sigma)
        return np.r_[np.log(np.diag(L)), L[self._tril]]

    # --- likelihood -------------------------------------------------------------------------------
    def _sums(self, theta: np.ndarray):
        sigma = self.covariance(theta)
        p = self.p
        xvx, xvy, yvy, logdet = np.zeros(p * p), np.zeros(p), 0.0, 0.0
        for vis, n, xx, xy, yy in self._stacks:  # one Cholesky per pattern of observed visits, not per patient
            sub = sigma[vis[:, :, None], vis[:, None, :]]  # (m, k, k)
            chol = np.linalg.cholesky(sub)
            inv = np.linalg.inv(sub).reshape(len(vis), -1)  # (m, k*k)
            xvx += np.einsum("ma,map->p", inv, xx)
            xvy += np.einsum("ma,map->p", inv, xy)
            yvy += float(np.sum(inv * yy))
            logdet += 2.0 * float(n @ np.sum(np.log(np.diagonal(chol, axis1=1, axis2=2)), axis=1))
        return xvx.reshape(p, p), xvy, yvy, logdet

    def gls(self, theta: np.ndarray):
        """(beta, (X'V^-1X)^-1, -2 logLik) at theta (REML or ML as the model was built)."""
        xvx, xvy, yvy, logdet = self._sums(theta)
        c = linalg.cho_factor(xvx, lower=True)
        beta = linalg.cho_solve(c, xvy)
        rss = yvy - float(beta @ xvy)
        if self.reml:
            dev = (self.nobs - self.p) * np.log(2 * np.pi) + logdet + 2.0 * float(np.sum(np.log(np.diag(c[0])))) + rss
        else:
            dev = self.nobs * np.log(2 * np.pi) + logdet + rss
        return beta, linalg.cho_solve(c, np.eye(self.p)), float(dev)

    def deviance(self, theta: np.ndarray) -> float:
        """-2 logLik (REML criterion for a REML model); +inf where Sigma is not positive definite."""
        try:
            return self.gls(np.asarray(theta, float))[2]
        except (np.linalg.LinAlgError, linalg.LinAlgError, ValueError):
            return np.inf

    def cov_beta(self, theta: np.ndarray) -> np.ndarray:
        """Phi(theta) = (X' V(theta)^-1 X)^-1."""
        return self.gls(np.asarray(theta, float))[1]

    # --- fitting ----------------------------------------------------------------------------------
    def start(self) -> np.ndarray:
        """Start: OLS residual variance of each visit, no correlation."""
        beta = np.linalg.lstsq(self.X, self.y, rcond=None)[0]
        r = self.y - self.X @ beta
        var = np.array([np.mean(r[self._visit == j] ** 2) for j in range(self.n_visits)])
        var = np.where(var > 0, var, max(float(np.var(self.y)), 1e-8))
        return np.r_[0.5 * np.log(var), np.zeros(self.n_theta - self.n_visits)]

    def optimise(self, theta0: np.ndarray):
        """Minimise -2 logLik: BFGS then Newton steps; returns (theta, deviance, H, checks, converged)."""
        f = self.deviance
        with np.errstate(invalid="ignore", over="ignore"):  # a trial step may overflow exp(theta): +inf, rejected
            res = optimize.minimize(f, theta0, method="BFGS", options={"gtol": 1e-8, "maxiter": 2000})
        theta, fx = res.x, float(res.fun)
        scale = np.ones_like(theta)
        H = hessian(f, theta, scale)
        moved = False
        for _ in range(6):  # Newton steps with the Hessian at the end of BFGS
            g = gradient(f, theta)
            try:
                step = np.linalg.solve(H, g)
            except np.linalg.LinAlgError:
                break
            improved = False
            for lam in (1.0, 0.5, 0.25):
                cand = theta - lam * step
                fc = f(cand)
                if fc < fx:
                    theta, fx, improved, moved = cand, fc, True, True
                    break
            if not improved or np.max(np.abs(step)) < 1e-9:
                break
        if moved:
            H = hessian(f, theta, scale)
        g = gradient(f, theta)
        H = 0.5 * (H + H.T)
        checks = _checks(g, H, theta, fx)
        return theta, fx, H, checks, all(c["passed"] for c in checks)


def _checks(g: np.ndarray, H: np.ndarray, theta: np.ndarray, fx: float) -> list[dict]:
    """The gradient and Hessian checks of :mod:`hipkit.models.optimise`, on -2 logLik over theta."""
    tol = CHECK_TOLERANCES
    try:
        sc = np.linalg.solve(np.linalg.cholesky(H), g)
        scaled = float(np.max(np.minimum(np.abs(sc), np.abs(g))))
    except np.linalg.LinAlgError:
        scaled = float(np.max(np.abs(g)))
    rel = float(np.max(np.abs(g) * np.maximum(np.abs(theta), 1.0))) / max(1.0, abs(fx))
    eig = np.linalg.eigvalsh(H) if np.all(np.isfinite(H)) else np.array([np.nan])
    floor = -tol["hessian_min_eigenvalue"] * max(1.0, float(np.nanmax(np.abs(eig))))
    min_eig = float(eig.min())
    return [
        {"name": "scaled_gradient", "value": scaled, "tolerance": tol["scaled_gradient"],
         "passed": bool(scaled < tol["scaled_gradient"])},
        {"name": "relative_gradient", "value": rel, "tolerance": tol["relative_gradient"],
         "passed": bool(rel < tol["relative_gradient"])},
        {"name": "hessian_min_eigenvalue", "value": min_eig, "tolerance": tol["hessian_min_eigenvalue"],
         "passed": bool(min_eig > 0 and min_eig >= floor)},
    ]  # fmt: skip


def _design(data, outcome, time, group, subject, covariates):
    """(X, term names, y, visit index, subject codes, visit labels, group labels, covariate means, n_dropped)."""
    need = [outcome, time, group, subject, *covariates]
    missing = [c for c in need if c not in data.columns]
    if missing:
        raise ModelSpecError(f"mmrm: column(s) not in the data: {', '.join(map(str, missing))}")
    d = data[need]
    keep = d.notna().all(axis=1).to_numpy()
    n_dropped = int((~keep).sum())
    d = d.loc[keep]
    if not pd.api.types.is_numeric_dtype(d[outcome]):
        raise ModelSpecError(f"mmrm: the outcome {outcome!r} is not numeric")
    if d.duplicated([subject, time]).any():
        raise ModelSpecError(f"mmrm: a patient has two rows at one visit ({subject!r} x {time!r} must be unique)")
    visits, groups = _levels(d[time]), _levels(d[group])
    v_lab, g_lab = [_level_label(v) for v in visits], [_level_label(g) for g in groups]
    vi = pd.Categorical(d[time], categories=visits).codes.astype(np.int64)
    gi = pd.Categorical(d[group], categories=groups).codes.astype(np.int64)
    if len(visits) > 30:
        raise ModelSpecError(f"mmrm: {len(visits)} distinct visits in {time!r}; an unstructured covariance needs few")
    per_visit = d.groupby(vi)[subject].nunique()
    low = [v_lab[j] for j in range(len(visits)) if per_visit.get(j, 0) < 2]
    if low:
        raise IdentifiabilityError(f"mmrm: visit(s) {', '.join(low)} have fewer than 2 patients with the outcome")
    if len(groups) < 2:
        raise ModelSpecError(f"mmrm: {group!r} has one level; the model compares groups")
    subj = pd.factorize(d[subject])[0]
    observed = np.zeros((subj.max() + 1, len(visits)))
    observed[subj, vi] = 1.0
    together = observed.T @ observed
    never = np.argwhere(together == 0)
    if len(never):
        a, b = never[0]
        raise IdentifiabilityError(
            f"mmrm: visits {v_lab[a]} and {v_lab[b]} are never observed in one patient; "
            "their covariance cannot be estimated"
        )
    n = len(d)
    cols, names, cov_means = [np.ones(n)], ["(Intercept)"], {}
    for c in covariates:
        col = d[c]
        if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
            cols.append(col.to_numpy(float))
            names.append(str(c))
            cov_means[str(c)] = float(col.mean())
        else:
            lev = _levels(col)
            for level in lev[1:]:
                x = (col == level).to_numpy(float)
                cols.append(x)
                names.append(f"{c}{_level_label(level)}")
                cov_means[names[-1]] = float(x.mean())
    for j in range(1, len(visits)):
        cols.append((vi == j).astype(float))
        names.append(f"{time}{v_lab[j]}")
    for k in range(1, len(groups)):
        cols.append((gi == k).astype(float))
        names.append(f"{group}{g_lab[k]}")
    for k in range(1, len(groups)):  # R's order: the first factor varies fastest
        for j in range(1, len(visits)):
            cols.append(((vi == j) & (gi == k)).astype(float))
            names.append(f"{time}{v_lab[j]}:{group}{g_lab[k]}")
    X = np.column_stack(cols)
    if np.linalg.matrix_rank(X) < X.shape[1]:
        raise IdentifiabilityError(
            "mmrm: the fixed effects are not identifiable (a group has no patient at some visit?)"
        )
    k = len(visits)
    if n - X.shape[1] <= k * (k + 1) // 2:
        raise IdentifiabilityError(
            f"mmrm: {n} observations for {X.shape[1]} fixed effects and {k * (k + 1) // 2} covariance "
            "parameters; the unstructured covariance cannot be estimated"
        )
    y = d[outcome].to_numpy(float)
    return X, names, y, vi, subj, v_lab, g_lab, cov_means, n_dropped


def mean_rows(names, time, group, v_lab, g_lab, cov_means) -> dict:
    """Contrast rows of the mean at each (visit, group), covariates at their means."""
    idx = {n: i for i, n in enumerate(names)}
    out = {}
    for j, v in enumerate(v_lab):
        for k, g in enumerate(g_lab):
            row = np.zeros(len(names))
            row[0] = 1.0
            for c, m in cov_means.items():
                row[idx[c]] = m
            if j:
                row[idx[f"{time}{v}"]] = 1.0
            if k:
                row[idx[f"{group}{g}"]] = 1.0
            if j and k:
                row[idx[f"{time}{v}:{group}{g}"]] = 1.0
            out[(v, g)] = row
    return out


def mmrm(
    data: pd.DataFrame,
    outcome: str,
    time: str = "visit_week",
    group: str = "group",
    subject: str = "participant_id",
    covariates=(),
    reml: bool = True,
    conf_level: float = 0.95,
):
    """Fit a mixed model for repeated measures with an unstructured covariance across visits.

    Parameters
    ----------
    data : pandas.DataFrame
        Long table: one row per patient and visit.
    outcome : str
        The outcome column; rows where it (or a covariate) is missing are left out.
    time : str
        The visit column, taken as a factor (its distinct values, in sorted or categorical order).
    group : str
        The treatment arm; the first level is the reference.
    subject : str
        The patient identifier.
    covariates : sequence of str
        Further fixed effects (e.g. the baseline value); numeric columns enter as slopes, others as
        factors with treatment contrasts.
    reml : bool
        REML (default) or maximum likelihood.
    conf_level : float
        Level of the confidence intervals.

    Returns
    -------
    MmrmResult
        Fixed effects with Satterthwaite df, the covariance across visits, estimated means at each visit
        by group and the group differences at each visit.

    Raises
    ------
    ModelSpecError
        A column is missing, the outcome is not numeric, or a patient has two rows at one visit.
    IdentifiabilityError
        A visit has fewer than 2 patients, two visits are never observed together, or the fixed
        effects are not identifiable.

    Warns
    -----
    ConvergenceWarning
        The gradient or Hessian checks at the optimum fail (recorded on the result too).

    References
    ----------
    Mallinckrodt CH et al. (2008). Recommendations for the primary analysis of continuous endpoints in
    longitudinal clinical trials. Drug Inf J 42:303-319.
    Sabanes Bove D et al. mmrm: Mixed Models for Repeated Measures (R package).
    Pinheiro JC, Bates DM (2000). Mixed-Effects Models in S and S-PLUS (nlme::gls). Springer.
    Satterthwaite FE (1946). Biometrics Bulletin 2:110-114. Christensen RHB (2011), lmerTest notes.

    Examples
    --------
    >>> import numpy as np, pandas as pd, hipkit
    >>> rng = np.random.default_rng(1)
    >>> d = pd.DataFrame({"participant_id": np.repeat(np.arange(30), 3), "visit_week": np.tile([2, 4, 6], 30),
    ...                   "group": np.repeat(np.arange(30) % 2, 3).astype(str)})
    >>> d["y"] = rng.normal(size=90) + d["visit_week"] * 0.1
    >>> fit = hipkit.mmrm(d, "y")
    >>> fit.glance()["n_patterns"].item()
    1
    """
    if not 0.0 < conf_level < 1.0:
        raise ModelSpecError(f"mmrm: conf_level must lie in (0, 1), not {conf_level!r}")
    covariates = tuple(covariates) if not isinstance(covariates, str) else (covariates,)
    X, names, y, vi, subj, v_lab, g_lab, cov_means, n_dropped = _design(data, outcome, time, group, subject, covariates)
    model = MmrmModel(X, y, vi, subj, len(v_lab), reml)
    theta, dev, H, checks, converged = model.optimise(model.start())
    if not np.isfinite(dev):
        raise IdentifiabilityError("mmrm: the covariance across visits cannot be estimated (likelihood not finite)")
    beta, vcov, _ = model.gls(theta)
    try:
        A = 2.0 * np.linalg.inv(H)  # H: Hessian of -2 logLik, so A = inverse Hessian of -logLik
    except np.linalg.LinAlgError:
        A = np.full_like(H, np.nan)
    jac_phi = jacobian(lambda th: model.cov_beta(th).ravel(), theta)
    notes = []
    if not converged:
        failed = ", ".join(
            f"{c['name']} {c['value']:.3g} (tol {c['tolerance']:.0e})" for c in checks if not c["passed"]
        )
        notes.append(f"mmrm did not converge: {failed}; estimates and df may be unreliable")
        warnings.warn(notes[-1], ConvergenceWarning, stacklevel=2)
    coef = contrast_table(np.eye(len(beta)), beta, vcov, jac_phi, A, conf_level)
    coef.insert(0, "term", names)
    coef.insert(0, "effect", "fixed")
    rows = mean_rows(names, time, group, v_lab, g_lab, cov_means)
    keys = list(rows)
    means = contrast_table(np.array([rows[k] for k in keys]), beta, vcov, jac_phi, A, conf_level)
    means.insert(0, group, [k[1] for k in keys])
    means.insert(0, time, [k[0] for k in keys])
    dkeys = [(v, g) for v in v_lab for g in g_lab[1:]]
    diffs = contrast_table(
        np.array([rows[(v, g)] - rows[(v, g_lab[0])] for v, g in dkeys]), beta, vcov, jac_phi, A, conf_level
    )
    diffs.insert(0, "reference", g_lab[0])
    diffs.insert(0, group, [k[1] for k in dkeys])
    diffs.insert(0, time, [k[0] for k in dkeys])
    return MmrmResult(
        coefficients=coef,
        vcov=vcov,
        covariance=model.covariance(theta),
        theta=theta,
        means=means,
        diffs=diffs,
        visits=tuple(v_lab),
        groups=tuple(g_lab),
        outcome=outcome,
        time=time,
        group=group,
        subject=subject,
        covariates=covariates,
        reml=reml,
        conf_level=conf_level,
        nobs=model.nobs,
        n_subjects=model.n_subjects,
        n_dropped=n_dropped,
        n_patterns=len(model.patterns),
        deviance=dev,
        converged=converged,
        checks=tuple(checks),
        warnings=tuple(notes),
        model=model,
        jac_phi=jac_phi,
        theta_cov=A,
    )
