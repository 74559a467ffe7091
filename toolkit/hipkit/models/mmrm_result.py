"""The result of :func:`hipkit.mmrm`: fixed effects, covariance across visits, means and differences by visit."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .._display import SummaryText, html_result, json_safe, records
from ..errors import ModelSpecError
from .inference import t_table

__all__ = ["MmrmResult", "MMRM_GLANCE_COLUMNS", "contrast_table"]

#: Columns of :meth:`MmrmResult.glance`, in order; always one row.
MMRM_GLANCE_COLUMNS = [
    "nobs",
    "n_subjects",
    "n_dropped",
    "n_visits",
    "n_patterns",
    "logLik",
    "AIC",
    "BIC",
    "reml_criterion",
    "deviance",
    "converged",
    "max_scaled_gradient",
]


def contrast_table(L: np.ndarray, beta, vcov, jac_phi, A, conf_level) -> pd.DataFrame:
    """estimate, std_error, Satterthwaite df, t, p and CI of each row of L."""
    L = np.atleast_2d(np.asarray(L, float))
    est = L @ beta
    var = np.einsum("ij,jk,ik->i", L, vcov, L)
    df = np.empty(len(L))
    for r, row in enumerate(L):
        g = np.kron(row, row) @ jac_phi  # d(l Phi l')/d theta
        denom = float(g @ A @ g)
        df[r] = 2.0 * var[r] ** 2 / denom if denom > 0 else np.inf
    se = np.sqrt(var)
    return t_table(est, se, df, conf_level)


@dataclass(frozen=True)
class MmrmResult:
    """A fitted MMRM (unstructured covariance across visits), from :func:`hipkit.mmrm`.

    Attributes
    ----------
    coefficients : pandas.DataFrame
        Fixed effects (R's names and order) with Satterthwaite df, t tests and CIs.
    vcov : numpy.ndarray
        Covariance of the fixed effects.
    covariance : numpy.ndarray
        The fitted covariance across visits (K x K; see :meth:`residual_covariance`).
    means, diffs : pandas.DataFrame
        Estimated means at each visit by group (covariates at their means) and the difference of each
        group from the first at each visit, with Satterthwaite df, p and CI.

    AIC and BIC count the fixed effects and the K(K+1)/2 covariance parameters, with BIC's ``n`` the
    number of observations minus the fixed effects under REML, as ``nlme::gls``.
    """

    coefficients: pd.DataFrame
    vcov: np.ndarray
    covariance: np.ndarray
    theta: np.ndarray
    means: pd.DataFrame
    diffs: pd.DataFrame
    visits: tuple
    groups: tuple
    outcome: str
    time: str
    group: str
    subject: str
    covariates: tuple
    reml: bool
    conf_level: float
    nobs: int
    n_subjects: int
    n_dropped: int
    n_patterns: int
    deviance: float
    converged: bool
    checks: tuple = ()
    warnings: tuple = ()
    model: object = field(default=None, repr=False, compare=False)
    jac_phi: np.ndarray = field(default=None, repr=False, compare=False)
    theta_cov: np.ndarray = field(default=None, repr=False, compare=False)

    # --- numbers ----------------------------------------------------------------------------------
    @property
    def loglik(self) -> float:
        """The REML (or ML) log-likelihood."""
        return -0.5 * self.deviance

    @property
    def n_parameters(self) -> int:
        """Fixed effects plus covariance parameters (nlme's df of logLik)."""
        k = len(self.visits)
        return len(self.coefficients) + k * (k + 1) // 2

    @property
    def aic(self) -> float:
        """Akaike's criterion (as nlme::gls)."""
        return self.deviance + 2.0 * self.n_parameters

    @property
    def bic(self) -> float:
        """Schwarz's criterion (as nlme::gls: n = nobs - p under REML)."""
        n = self.nobs - len(self.coefficients) if self.reml else self.nobs
        return self.deviance + np.log(n) * self.n_parameters

    def residual_covariance(self) -> pd.DataFrame:
        """The fitted covariance matrix across visits, labelled by visit."""
        return pd.DataFrame(self.covariance, index=list(self.visits), columns=list(self.visits))

    def residual_correlation(self) -> pd.DataFrame:
        """The fitted correlation matrix across visits."""
        sd = np.sqrt(np.diag(self.covariance))
        return pd.DataFrame(self.covariance / np.outer(sd, sd), index=list(self.visits), columns=list(self.visits))

    def contrast(self, L) -> pd.DataFrame:
        """Estimate, SE, Satterthwaite df, t, p and CI of each row of ``L`` (rows over the fixed effects)."""
        L = np.atleast_2d(np.asarray(L, float))
        if L.shape[1] != len(self.coefficients):
            raise ModelSpecError(
                f"contrast: L has {L.shape[1]} columns, the model {len(self.coefficients)} fixed effects"
            )
        beta = self.coefficients["estimate"].to_numpy(float)
        return contrast_table(L, beta, self.vcov, self.jac_phi, self.theta_cov, self.conf_level)

    def emmeans(self) -> pd.DataFrame:
        """Estimated means at each visit by group (a copy of :attr:`means`)."""
        return self.means.copy()

    def final_visit(self) -> pd.DataFrame:
        """The group differences at the final visit (the usual primary estimand)."""
        return self.diffs[self.diffs[self.time] == self.visits[-1]].reset_index(drop=True)

    # --- the result contract ----------------------------------------------------------------------
    def tidy(self, effects: str = "fixed") -> pd.DataFrame:
        """Fixed effects (``effects="fixed"``), covariance parameters (``"ran_pars"``) or the means / differences."""
        if effects == "fixed":
            return self.coefficients.copy()
        if effects == "ran_pars":
            k = len(self.visits)
            sd = np.sqrt(np.diag(self.covariance))
            rows = [{"effect": "ran_pars", "term": f"sd__{self.visits[j]}", "estimate": sd[j]} for j in range(k)]
            for j in range(k):
                for i in range(j + 1, k):
                    r = self.covariance[i, j] / (sd[i] * sd[j])
                    rows.append(
                        {"effect": "ran_pars", "term": f"cor__{self.visits[i]}.{self.visits[j]}", "estimate": r}
                    )
            return pd.DataFrame(rows)
        if effects == "means":
            return self.emmeans()
        if effects == "diffs":
            return self.diffs.copy()
        raise ModelSpecError(f"tidy: effects must be 'fixed', 'ran_pars', 'means' or 'diffs', not {effects!r}")

    def glance(self) -> pd.DataFrame:
        """One row: nobs, patients, logLik, AIC, BIC, REML criterion, convergence, patterns of visits."""
        grad = [c["value"] for c in self.checks if c["name"] == "scaled_gradient"]
        row = {
            "nobs": self.nobs,
            "n_subjects": self.n_subjects,
            "n_dropped": self.n_dropped,
            "n_visits": len(self.visits),
            "n_patterns": self.n_patterns,
            "logLik": self.loglik,
            "AIC": self.aic,
            "BIC": self.bic,
            "reml_criterion": self.deviance if self.reml else np.nan,
            "deviance": np.nan if self.reml else self.deviance,
            "converged": bool(self.converged),
            "max_scaled_gradient": grad[0] if grad else np.nan,
        }
        return pd.DataFrame([row], columns=MMRM_GLANCE_COLUMNS)

    def summary(self) -> SummaryText:
        """lme4-ordered text: model, criteria, covariance, fixed effects, final-visit differences, warnings."""
        method = "REML" if self.reml else "ML"
        cov = f" + {' + '.join(self.covariates)}" if self.covariates else ""
        lines = [
            f"MMRM fit by {method}; Satterthwaite's method for df [hipkit.mmrm]",
            f"Model: {self.outcome} ~{cov} {self.time} * {self.group} + us({self.time} | {self.subject})",
            f"Observations: {self.nobs} ({self.n_dropped} rows dropped for missing values); "
            f"patients: {self.n_subjects}; visits: {len(self.visits)}; patterns of observed visits: {self.n_patterns}",
            f"logLik {self.loglik:.4f}  AIC {self.aic:.4f}  BIC {self.bic:.4f}  "
            f"{'REML criterion' if self.reml else 'deviance'} {self.deviance:.4f}",
            "",
            "Residual covariance (unstructured): SD by visit and correlations",
        ]
        sd = np.sqrt(np.diag(self.covariance))
        corr = self.residual_correlation().to_numpy()
        for j, v in enumerate(self.visits):
            cells = " ".join(f"{corr[j, i]:6.3f}" for i in range(j))
            lines.append(f"  {v:>8}  sd {sd[j]:9.4f}  {cells}")
        lines += ["", "Fixed effects:"]
        cols = ["term", "estimate", "std_error", "df", "statistic", "p_value"]
        lines.append(self.coefficients[cols].to_string(index=False, float_format=lambda v: f"{v:.5g}"))
        lines += ["", f"Group differences at the final visit ({self.visits[-1]}), {self.conf_level:.0%} CI:"]
        fv = self.final_visit()
        lines.append(fv.to_string(index=False, float_format=lambda v: f"{v:.5g}"))
        if not self.converged or self.warnings:
            lines += ["", "Warnings:"] + [f"  {w}" for w in self.warnings]
        return SummaryText("\n".join(lines))

    def to_dict(self) -> dict:
        """JSON-safe form (survives ``json.dumps``/``json.loads`` unchanged)."""
        return json_safe(
            {
                "model": "mmrm",
                "outcome": self.outcome,
                "time": self.time,
                "group": self.group,
                "subject": self.subject,
                "covariates": list(self.covariates),
                "reml": self.reml,
                "conf_level": self.conf_level,
                "visits": list(self.visits),
                "groups": list(self.groups),
                "coefficients": records(self.coefficients),
                "vcov": self.vcov,
                "covariance": self.covariance,
                "theta": self.theta,
                "means": records(self.means),
                "diffs": records(self.diffs),
                "glance": records(self.glance())[0],
                "checks": list(self.checks),
                "warnings": list(self.warnings),
            }
        )

    def plot(self):
        """Estimated means by visit and group with their CIs; a Figure, returned, not shown."""
        from matplotlib.figure import Figure

        fig = Figure(figsize=(6.0, 3.6), layout="constrained")
        ax = fig.subplots()
        k, g = len(self.visits), len(self.groups)
        x = np.arange(k, dtype=float)
        width = 0.08
        for i, level in enumerate(self.groups):
            part = self.means[self.means[self.group] == level]
            est = part["estimate"].to_numpy(float)
            err = np.vstack([est - part["conf_low"].to_numpy(float), part["conf_high"].to_numpy(float) - est])
            ax.errorbar(x + (i - (g - 1) / 2) * width, est, yerr=err, fmt="o-", capsize=3, label=str(level))
        ax.set_xticks(x, list(self.visits))
        ax.set_xlabel(self.time)
        ax.set_ylabel(f"estimated mean of {self.outcome} ({self.conf_level:.0%} CI)")
        ax.legend(title=self.group, fontsize=8)
        return fig

    def _repr_html_(self) -> str:
        notes = [f"logLik {self.loglik:.4f}; {self.n_subjects} patients, {self.nobs} observations"]
        notes += list(self.warnings)
        return html_result(
            f"MMRM ({'REML' if self.reml else 'ML'}, Satterthwaite df): {self.outcome}",
            self.coefficients[["term", "estimate", "std_error", "df", "p_value"]],
            notes,
        )
