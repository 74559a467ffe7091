"""hipkit.lmm against statsmodels MixedLM on models both can fit (REML estimates must agree)."""

import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf

import hipkit

from .test_reference import REF


@pytest.mark.parametrize(
    "case, formula, re_formula, balanced",
    [
        ("random_intercept", "pain_vas ~ visit_week", "~1", True),
        ("random_slope", "pain_vas ~ visit_week * group", "~visit_week", True),
        ("unbalanced_missing", "pain_vas ~ visit_week", "~visit_week", False),
    ],
)
def test_estimates_agree_with_statsmodels_mixedlm(case, formula, re_formula, balanced):
    data = pd.read_csv(REF / case / "data.csv")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sm = smf.mixedlm(formula, data, groups=data["participant_id"], re_formula=re_formula).fit(
            reml=True, method="lbfgs", gtol=1e-10
        )
    re = "(1 + visit_week | participant_id)" if "visit_week" in re_formula else "(1 | participant_id)"
    fit = hipkit.lmm(f"{formula} + {re}", data)
    order = fit.design.x_design_info.column_names  # statsmodels keeps patsy's term order, hipkit R's
    np.testing.assert_allclose(fit.beta, sm.fe_params[order].to_numpy(), rtol=1e-5, atol=1e-7)
    if balanced:
        # statsmodels takes fixed-effect SEs from the joint Hessian of fixed and covariance
        # parameters; lme4 and hipkit use sigma^2 (R_X'R_X)^-1. The two coincide for balanced data
        # only; the unbalanced SEs are checked against lme4 in test_reference.py.
        np.testing.assert_allclose(np.sqrt(np.diag(fit.cov_beta)), sm.bse_fe[order].to_numpy(), rtol=1e-4)
    np.testing.assert_allclose(fit.sigma**2, sm.scale, rtol=1e-4)
    np.testing.assert_allclose(fit.random_cov, sm.cov_re.to_numpy(), rtol=1e-3, atol=1e-6)
