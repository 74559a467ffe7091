"""The result of :func:`hipkit.lmm`: summary, tidy, glance, variance components, anova, augment, plots."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

from .._display import SummaryText, records
from .._glossary import T_TEST_COLUMNS
from .._version import __version__
from ..errors import ArgumentError, ConvergenceWarning, InputError, NotSupportedError
from .contrasts import type1_contrasts, type3_contrasts
from .design import Design, DesignRows
from .engine import Blocks, Evaluation
from .formula import r_term_name
from .inference import Satterthwaite, normalise_ddf, t_table
from .kenward_roger import KenwardRoger
from .marginal_means import emmeans
from .plots import diagnostics
from .profile import profile_intervals, wald_intervals

__all__ = ["LmmResult", "TIDY_COLUMNS", "GLANCE_COLUMNS"]

#: Columns of ``tidy()``, in order (the package glossary's names).
TIDY_COLUMNS = [
    "effect",
    "group",
    "term",
    *T_TEST_COLUMNS,
]
#: Columns of ``glance()``, in order; always exactly one row.
GLANCE_COLUMNS = [
    "nobs",
    "ngroups",
    "n_dropped",
    "sigma",
    "reml_criterion",
    "logLik",
    "AIC",
    "BIC",
    "deviance",
    "r2_marginal",
    "r2_conditional",
    "icc",
    "converged",
    "singular",
    "n_evaluations",
    "n_restarts",
    "max_scaled_gradient",
]


def _stars(p: float) -> str:
    if not np.isfinite(p):
        return ""
    return "***" if p < 0.001 else "**" if p < 0.01 else "*" if p < 0.05 else "." if p < 0.1 else ""


@dataclass(frozen=True, eq=False)
class LmmResult:
    """A fitted linear mixed model (immutable). Build it with :func:`hipkit.lmm`."""

    design: Design
    blocks: Blocks
    evaluation: Evaluation
    reml: bool
    deviance: float
    converged: bool
    singular: bool
    notes: list = field(default_factory=list)
    data: pd.DataFrame | None = None
    optimizer: object = None  # OptimizerRecord (hipkit.models.optimise): start, end, checks, restarts

    # -- core quantities ---------------------------------------------------------------------
    @property
    def formula(self) -> str:
        """The model formula as given."""
        return self.design.parsed.formula

    @property
    def theta(self) -> np.ndarray:
        """Relative covariance parameters at the optimum."""
        return self.evaluation.theta

    @property
    def beta(self) -> np.ndarray:
        """Fixed-effect estimates."""
        return self.evaluation.beta

    @property
    def sigma(self) -> float:
        """Residual standard deviation."""
        return self.evaluation.sigma(self.reml)

    @cached_property
    def cov_beta(self) -> np.ndarray:
        """Covariance matrix of the fixed effects."""
        return self.sigma**2 * self.evaluation.cov_beta_unscaled()

    @cached_property
    def satterthwaite(self) -> Satterthwaite:
        """Satterthwaite."""
        try:
            return Satterthwaite.compute(
                self.theta, self.sigma, self.blocks, self.design.pattern, self.reml, self.cov_beta
            )
        except (np.linalg.LinAlgError, FloatingPointError, ZeroDivisionError) as exc:
            # The deviance could not be evaluated on the derivative stencil around the optimum (found by
            # review: time on a 1e8 scale). Say so and give NaN df (so NaN p values), never a crash.
            import warnings

            reason = (str(exc).splitlines() or [""])[0]
            warnings.warn(
                f"Satterthwaite df could not be computed ({type(exc).__name__}: {reason}); "
                "df and p values are NaN; rescale the predictors (e.g. time in weeks, not seconds) and refit",
                ConvergenceWarning,
                stacklevel=3,
            )
            return Satterthwaite.unavailable(self.theta, self.sigma, self.cov_beta)

    @cached_property
    def kenward_roger(self):
        """Kenward-Roger adjusted covariance and df machinery (:mod:`hipkit.models.kenward_roger`).

        Raises
        ------
        NotSupportedError
            For an ML fit: Kenward-Roger is defined for REML (lmerTest refuses it too).
        """
        if not self.reml:
            raise NotSupportedError(
                "Kenward-Roger degrees of freedom are defined for REML fits and this model was fitted by ML; "
                "refit with reml=True, or use ddf='satterthwaite'"
            )
        return KenwardRoger.compute(self.theta, self.sigma, self.blocks, self.design.pattern)

    def _df_method(self, ddf: str):
        """The Satterthwaite or Kenward-Roger machinery named by ``ddf`` (see ``normalise_ddf``)."""
        return self.kenward_roger if normalise_ddf(ddf) == "kenward-roger" else self.satterthwaite

    def vcov(self, ddf: str = "satterthwaite") -> pd.DataFrame:
        """Covariance of the fixed effects, indexed and columned by R's term names.

        Parameters
        ----------
        ddf : {"satterthwaite", "kenward-roger"}
            ``"kenward-roger"`` gives the Kenward-Roger adjusted covariance (pbkrtest's
            ``vcovAdj``); otherwise the usual ``sigma^2 (X'V^-1X)^-1`` (lme4's ``vcov``).

        Returns
        -------
        DataFrame
            p x p, rows and columns named by term.
        """
        names = self.design.x_names
        cov = self.kenward_roger.vcov_adjusted if normalise_ddf(ddf) == "kenward-roger" else self.cov_beta
        return pd.DataFrame(cov, index=pd.Index(names, name="term"), columns=names)

    @property
    def n_params(self) -> int:
        """Number of parameters: fixed effects, theta and sigma."""
        return self.design.p + len(self.theta) + 1

    @property
    def loglik(self) -> float:
        """Log-likelihood (restricted log-likelihood for REML fits), as lme4's logLik."""
        return -0.5 * self.deviance

    @cached_property
    def random_cov(self) -> np.ndarray:
        """Covariance matrix of the random effects, sigma^2 Lambda Lambda'."""
        lam = self.evaluation.Lambda
        return self.sigma**2 * lam @ lam.T

    @cached_property
    def ranef(self) -> pd.DataFrame:
        """Conditional modes of the random effects (BLUPs), one row per participant."""
        b = self.evaluation.conditional_modes()
        return pd.DataFrame(
            b, index=pd.Index(self.design.group_labels, name=self.design.parsed.group), columns=self.design.z_names
        )

    # -- tables --------------------------------------------------------------------------------
    def tidy(self, effects: str = "fixed", conf_level: float = 0.95, ddf: str = "satterthwaite") -> pd.DataFrame:
        """One row per term, with the glossary's columns.

        Parameters
        ----------
        effects : {"fixed", "ran_pars", "all"}
            Fixed effects (t tests, t-based CIs), random-effect parameters (standard deviations
            ``sd__<term>``, correlations ``cor__<a>.<b>`` and ``sd__Observation``, with
            profile-likelihood CIs), or both.
        conf_level : float, default 0.95
        ddf : {"satterthwaite", "kenward-roger"}
            df of the t tests; Kenward-Roger also takes the standard errors from the adjusted
            covariance (as lmerTest's ``summary(m, ddf = "Kenward-Roger")``).
        """
        parts = []
        if effects in ("fixed", "all"):
            L = np.eye(self.design.p)
            est, se, df, t, p = self._df_method(ddf).t_test(L, self.beta)
            fixed = t_table(est, se, df, conf_level, t=t, p=p)
            fixed.insert(0, "term", self.design.x_names)
            fixed.insert(0, "group", None)
            fixed.insert(0, "effect", "fixed")
            parts.append(fixed)
        if effects in ("ran_pars", "all"):
            vc = self.variance_components(conf_level=conf_level, method="profile")
            parts.append(
                pd.DataFrame(
                    {
                        "effect": "ran_pars",
                        "group": vc["group"],
                        "term": vc["term"],
                        "estimate": vc["estimate"],
                        "std_error": np.nan,
                        "df": np.nan,
                        "statistic": np.nan,
                        "p_value": np.nan,
                        "conf_low": vc["conf_low"],
                        "conf_high": vc["conf_high"],
                    }
                )
            )
        if not parts:
            raise ArgumentError(f"effects must be 'fixed', 'ran_pars' or 'all', got {effects!r}")
        out = pd.concat(parts, ignore_index=True)
        out["group"] = out["group"].astype("object")
        return out[TIDY_COLUMNS]

    def r2(self) -> tuple[float, float]:
        """Marginal and conditional R^2 (Nakagawa & Schielzeth 2013; random slopes as Johnson 2014).

        ``var_fixed`` is the variance (n - 1 denominator) of the fixed-effect predictions,
        ``var_random`` the mean over observations of z' Sigma z, ``var_resid`` sigma^2.
        """
        rows = self.design.rows
        if rows is None:  # the rows stayed on Dask: the same two numbers from the blocks
            b, beta = self.blocks, self.beta
            vf = float((beta @ b.XtX @ beta - (b.Xsum @ beta) ** 2 / b.n) / (b.n - 1))
            vr = float(np.sum(self.random_cov * b.ZtZ.sum(axis=0)) / b.n)
        else:
            vf = float(np.var(rows.X @ self.beta, ddof=1))
            vr = float(np.mean(np.einsum("ij,jk,ik->i", rows.Z, self.random_cov, rows.Z)))
        ve = self.sigma**2
        tot = vf + vr + ve
        return vf / tot, (vf + vr) / tot

    def icc(self) -> float:
        """Intra-class correlation of the random intercept: var(intercept) / (var(intercept) + sigma^2)."""
        if "(Intercept)" not in self.design.z_names:
            return np.nan
        j = self.design.z_names.index("(Intercept)")
        v = self.random_cov[j, j]
        return float(v / (v + self.sigma**2))

    def glance(self) -> pd.DataFrame:
        """Exactly one row describing the fit (same columns whatever happens)."""
        d = self.design
        n = d.n
        r2m, r2c = self.r2()
        k = self.n_params
        ll = self.loglik
        row = {
            "nobs": n,
            "ngroups": d.n_groups,
            "n_dropped": d.n_dropped,
            "sigma": self.sigma,
            "reml_criterion": self.deviance if self.reml else np.nan,
            "logLik": ll,
            "AIC": -2 * ll + 2 * k,
            "BIC": -2 * ll + np.log(n) * k,
            "deviance": np.nan if self.reml else self.deviance,
            "r2_marginal": r2m,
            "r2_conditional": r2c,
            "icc": self.icc(),
            "converged": self.converged,
            "singular": self.singular,
            "n_evaluations": self.optimizer.n_evaluations if self.optimizer is not None else np.nan,
            "n_restarts": self.optimizer.n_restarts if self.optimizer is not None else np.nan,
            "max_scaled_gradient": self.optimizer.max_scaled_gradient if self.optimizer is not None else np.nan,
        }
        return pd.DataFrame([row], columns=GLANCE_COLUMNS)

    def variance_components(self, conf_level: float = 0.95, method: str = "profile") -> pd.DataFrame:
        """Random-effect standard deviations and correlations, and the residual SD, with CIs.

        Parameters
        ----------
        method : {"profile", "wald", "none"}
            Profile-likelihood intervals (as lme4's ``confint(method = "profile")``), Wald
            intervals on the SD scale from the Hessian of the deviance (delta method), or none.

        Returns
        -------
        DataFrame
            group, term (``sd__x``, ``cor__x.y``, ``sd__Observation``), estimate, variance,
            conf_low, conf_high, method.
        """
        rows = _vc_rows(self)
        out = pd.DataFrame(rows, columns=["group", "term", "estimate", "variance"])
        if method == "profile":
            lo, hi = profile_intervals(self, conf_level)
        elif method == "wald":
            lo, hi = wald_intervals(self, conf_level)
        elif method == "none":
            lo = hi = np.full(len(out), np.nan)
        else:
            raise ArgumentError(f"method must be 'profile', 'wald' or 'none', got {method!r}")
        out["conf_low"], out["conf_high"], out["method"] = lo, hi, method
        return out

    def anova(self, type: int = 3, ddf: str = "satterthwaite") -> pd.DataFrame:  # noqa: A002 - the statistical name
        """F tests of each fixed term, as lmerTest's ``anova(m, type = ..., ddf = ...)``.

        Parameters
        ----------
        type : {3, 1}, default 3
            Type III (each term adjusted for all others, lmerTest's containment-based hypotheses)
            or Type I (sequential, in the formula's order). The hypothesis matrices are lmerTest's,
            row for row (:mod:`hipkit.models.contrasts`), so multi-df den df agree too.
        ddf : {"satterthwaite", "kenward-roger"}
            Kenward-Roger gives KR's scaled F on its denominator df; ``sum_sq`` and ``mean_sq``
            are then those of the unscaled Wald statistic (as lmerTest reports them).

        Returns
        -------
        DataFrame
            term, sum_sq, mean_sq, num_df, den_df, statistic (F), p_value; terms in R's order.
        """
        if type not in (1, 3):
            raise NotSupportedError(f"anova type must be 1 (sequential) or 3, got {type!r}; type 2 is not implemented")
        if type == 1:
            contrasts = type1_contrasts(self.design, self.blocks.XtX)
        else:
            contrasts = type3_contrasts(self.design, self.data.loc[self.design.rows_used], self.blocks.XtX)
        rows = []
        s2 = self.sigma**2
        kr = normalise_ddf(ddf) == "kenward-roger"
        for term, L in contrasts.items():
            if kr:
                d = self.kenward_roger.f_test_details(L, self.beta)
                F, q, den, p, F_ms = d["statistic"], d["num_df"], d["den_df"], d["p_value"], d["statistic_unscaled"]
            else:
                F, q, den, p = self.satterthwaite.f_test(L, self.beta)
                F_ms = F
            rows.append(
                {
                    "term": _r_label(term),
                    "sum_sq": F_ms * q * s2,
                    "mean_sq": F_ms * s2,
                    "num_df": q,
                    "den_df": den,
                    "statistic": F,
                    "p_value": p,
                }
            )
        return pd.DataFrame(rows, columns=["term", "sum_sq", "mean_sq", "num_df", "den_df", "statistic", "p_value"])

    def contrast(self, L, conf_level: float = 0.95, ddf: str = "satterthwaite") -> pd.DataFrame:
        """T tests of linear combinations ``L @ beta`` (rows of L), with Satterthwaite or Kenward-Roger df."""
        L = np.atleast_2d(np.asarray(L, dtype=float))
        est, se, df, t, p = self._df_method(ddf).t_test(L, self.beta)
        return t_table(est, se, df, conf_level, t=t, p=p)

    def emmeans(
        self,
        specs,
        by=None,
        at=None,
        conf_level: float = 0.95,
        ddf: str = "satterthwaite",
        cov_keep=2,
        nesting: str | None = "auto",
    ):
        """Estimated marginal means, as R's emmeans (see :func:`hipkit.models.marginal_means.emmeans`).

        A numeric predictor with at most ``cov_keep`` distinct values (default 2) is averaged over
        its values rather than set at its mean, as emmeans' ``cov.keep``; ``nesting`` as emmeans'
        (detected from the data, or ``None``).
        """
        self._needs_rows("emmeans()")
        return emmeans(self, specs, by=by, at=at, conf_level=conf_level, ddf=ddf, cov_keep=cov_keep, nesting=nesting)

    def _needs_rows(self, what: str) -> DesignRows:
        return self.design.require_rows(
            f"{what} needs the data rows, and this model was fitted from a Dask DataFrame whose rows stayed "
            "on the cluster; fit the same formula on a pandas DataFrame (a sample, or .compute()) for it",
            NotSupportedError,
        )

    def augment(self) -> pd.DataFrame:
        """The data rows used, with ``fitted``, ``fitted_fixed`` and ``resid`` added."""
        rows = self._needs_rows("augment()")
        fixed = rows.X @ self.beta
        b = self.evaluation.conditional_modes()
        fitted = fixed + np.einsum("ij,ij->i", rows.Z, b[rows.group])
        out = self.data.loc[rows.rows_used].copy()
        for col in ("fitted", "fitted_fixed", "resid"):
            if col in out.columns:
                raise InputError(f"the data already has a column {col!r}; rename it before augment()")
        out["fitted"] = fitted
        out["fitted_fixed"] = fixed
        out["resid"] = rows.y - fitted
        return out

    def plot(self, kind: str = "diagnostics"):
        """Diagnostic figure: residuals vs fitted, residual QQ, random-effect QQ (returned, not shown)."""
        if kind != "diagnostics":
            raise ArgumentError("kind must be 'diagnostics'")
        self._needs_rows("plot()")
        return diagnostics(self)

    # -- text ----------------------------------------------------------------------------------
    def summary(self, ddf: str = "satterthwaite") -> SummaryText:
        """A readable summary in lme4/lmerTest's order; states dropped rows and repeats every warning.

        ``ddf`` (``"satterthwaite"`` or ``"kenward-roger"``) chooses the t tests' method, named in the title.
        """
        d = self.design
        method = {"satterthwaite": "Satterthwaite's", "kenward-roger": "Kenward-Roger's"}[normalise_ddf(ddf)]
        lines = [
            f"Linear mixed model fit by {'REML' if self.reml else 'maximum likelihood'}. "
            f"t-tests use {method} method [hipkit]",
            f"Formula: {self.formula}",
            f"Data: {d.n} observations used"
            + (f" ({d.n_dropped} rows dropped for missing values)" if d.n_dropped else ""),
            "",
        ]
        g = self.glance().iloc[0]
        if self.reml:
            lines.append(f"REML criterion at convergence: {self.deviance:.1f}")
        else:
            lines.append(
                f"     AIC      BIC   logLik deviance\n{g['AIC']:8.1f} {g['BIC']:8.1f} {g['logLik']:8.1f} "
                f"{self.deviance:8.1f}"
            )
        if self.design.rows is None:
            lines += ["", "Scaled residuals: not computed (the rows stayed on Dask)", "", "Random effects:"]
        else:
            resid = self.augment()["resid"].to_numpy() / self.sigma
            qs = np.quantile(resid, [0, 0.25, 0.5, 0.75, 1])
            lines += [
                "",
                "Scaled residuals:",
                "     Min       1Q   Median       3Q      Max",
                " ".join(f"{v:8.4f}" for v in qs),
                "",
                "Random effects:",
            ]
        sd = np.sqrt(np.diag(self.random_cov))
        corr = self.random_cov / np.outer(sd, sd) if np.all(sd > 0) else np.full_like(self.random_cov, np.nan)
        lines.append(f" {'Groups':<16}{'Name':<16}{'Variance':>12}{'Std.Dev.':>10}  Corr")
        for i, name in enumerate(d.z_names):
            grp = d.parsed.group if i == 0 else ""
            cors = " ".join(f"{corr[i, j]:5.2f}" for j in range(i) if _correlated(d, i, j))
            lines.append(f" {grp:<16}{name:<16}{sd[i] ** 2:12.4g}{sd[i]:10.4g}  {cors}")
        lines.append(f" {'Residual':<16}{'':<16}{self.sigma**2:12.4g}{self.sigma:10.4g}")
        lines.append(f"Number of obs: {d.n}, groups: {d.parsed.group}, {d.n_groups}")
        lines += ["", "Fixed effects:"]
        tb = self.tidy(ddf=ddf)
        w = max(len(t) for t in tb["term"]) + 1
        lines.append(f"{'':<{w}}{'Estimate':>11}{'Std. Error':>12}{'df':>9}{'t value':>9}{'Pr(>|t|)':>11}")
        for r in tb.itertuples():
            p = f"{r.p_value:.3g}" if r.p_value >= 2e-16 else "<2e-16"
            lines.append(
                f"{r.term:<{w}}{r.estimate:11.4g}{r.std_error:12.4g}{r.df:9.2f}{r.statistic:9.3f}"
                f"{p:>11} {_stars(r.p_value)}"
            )
        lines.append("---\nSignif. codes:  0 '***' 0.001 '**' 0.01 '*' 0.05 '.' 0.1 ' ' 1")
        r2m, r2c = self.r2()
        lines.append(f"\nR2 marginal {r2m:.3f}, conditional {r2c:.3f}; ICC (random intercept) {self.icc():.3f}")
        if self.optimizer is not None:
            lines += [""] + self.optimizer.summary_lines()
        if not self.converged or self.singular or self.notes:
            lines.append("")
            for n in self.notes:
                lines.append(f"warning: {n}")
            if not self.notes and self.singular:
                lines.append("warning: boundary (singular) fit")
            if not self.notes and not self.converged:
                lines.append("warning: the optimiser did not converge")
        return SummaryText("\n".join(lines))

    def __repr__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        import html

        return f"<pre>{html.escape(self.summary())}</pre>"

    def to_dict(self) -> dict:
        """JSON-serialisable description of the fit (formula, estimates, tables, flags)."""
        g = self.glance().iloc[0].to_dict()
        return {
            "hipkit_version": __version__,
            "formula": self.formula,
            "method": "REML" if self.reml else "ML",
            "df_method": "Satterthwaite",
            "fixed": records(self.tidy()),
            "variance_components": records(self.variance_components(method="none").drop(columns=["method"])),
            "anova": records(self.anova()),
            "glance": records(pd.DataFrame([g]))[0],
            "theta": self.theta.tolist(),
            "vcov": self.cov_beta.tolist(),
            "warnings": list(self.notes),
            "optimizer": self.optimizer.to_dict() if self.optimizer is not None else None,
        }


def _correlated(d: Design, i: int, j: int) -> bool:
    return any(r == i and c == j for r, c in d.pattern)


def _r_label(term: str) -> str:
    return ":".join(r_term_name(p) if "C(" in p else p for p in term.split(":"))


def _vc_rows(res: LmmResult) -> list[tuple]:
    d = res.design
    cov = res.random_cov
    sd = np.sqrt(np.diag(cov))
    g = d.parsed.group
    rows = [(g, f"sd__{name}", sd[i], sd[i] ** 2) for i, name in enumerate(d.z_names)]
    for c in range(d.q):
        for r in range(c + 1, d.q):
            if _correlated(d, r, c):
                cor = cov[r, c] / (sd[r] * sd[c]) if sd[r] > 0 and sd[c] > 0 else np.nan
                rows.append((g, f"cor__{d.z_names[c]}.{d.z_names[r]}", cor, np.nan))
    rows.append(("Residual", "sd__Observation", res.sigma, res.sigma**2))
    return rows
