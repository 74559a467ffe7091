"""Likelihood-ratio comparison of nested mixed models (as lme4's ``anova(m0, m1)``)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import ArgumentError, InputError
from .fit import lmm

__all__ = ["lrt"]


def lrt(*models, refit: bool = True) -> pd.DataFrame:
    """Compare nested models fitted by :func:`hipkit.lmm`, smallest first.

    Models fitted by REML are refitted by ML first (``refit=True``, as lme4 does), because REML
    likelihoods of models with different fixed parts are not comparable.

    Returns
    -------
    DataFrame
        One row per model: model (formula), npar, AIC, BIC, logLik, deviance, statistic (chi-square
        against the previous row), df, p_value.

    Examples
    --------
    >>> hipkit.lrt(fit_time, fit_time_by_group)  # doctest: +SKIP
    """
    if len(models) < 2:
        raise ArgumentError("lrt needs at least two models")
    fits = []
    for m in models:
        if m.reml and refit:
            m = lmm(m.formula, m.data, reml=False, check_singular="ignore", check_convergence="ignore")
        fits.append(m)
    n = {m.design.n for m in fits}
    if len(n) > 1:
        raise InputError(
            f"the models use different numbers of observations ({sorted(n)}); compare on the same rows: "
            "drop rows missing any variable of either model first"
        )
    rows = []
    prev = None
    for m in sorted(fits, key=lambda m: m.n_params):
        g = m.glance().iloc[0]
        row = {
            "model": m.formula,
            "npar": m.n_params,
            "AIC": g["AIC"],
            "BIC": g["BIC"],
            "logLik": m.loglik,
            "deviance": m.deviance,
            "statistic": np.nan,
            "df": np.nan,
            "p_value": np.nan,
        }
        if prev is not None:
            chisq = max(prev.deviance - m.deviance, 0.0)
            df = m.n_params - prev.n_params
            row.update(statistic=chisq, df=df, p_value=float(stats.chi2.sf(chisq, df)) if df > 0 else np.nan)
        rows.append(row)
        prev = m
    return pd.DataFrame(rows)
