"""Satterthwaite df do not hinge on the rounding noise of the deviance (corpus model d063_m2_ml).

There the intercept-slope element of the relative Cholesky factor is 3.0e-4 in a row whose diagonal is
0.185. numDeriv's step (10% of the element) made the Hessian's (2, 2) element 1408 from hipkit's deviance
against 1429 from lme4's, and week's df 50.431 against lmerTest's 50.418; steps on the scale of the
Cholesky row (``step_scale``) give the df lmerTest reports.
"""

import numpy as np

import hipkit
from hipkit.models.engine import cov_beta_at, evaluate, varpar_deviance
from hipkit.models.inference import Satterthwaite, step_scale
from hipkit.models.numdiff import hessian

from .test_reference_corpus import REFERENCE, _reference_theta, load_data


def test_step_scale_is_the_norm_of_each_cholesky_row_and_zero_for_sigma():
    pattern = [(0, 0), (1, 0), (1, 1)]
    got = step_scale(np.array([2.4, 3e-4, 0.185]), pattern)
    np.testing.assert_allclose(got, [2.4, np.hypot(3e-4, 0.185), np.hypot(3e-4, 0.185), 0.0], rtol=1e-15)


def _d063():
    m = REFERENCE["models"]["d063_m2_ml"]
    res = hipkit.lmm(m["formula"], load_data(m["dataset"]), reml=False, check_singular="ignore")
    theta = _reference_theta(res, m)
    ev = evaluate(theta, res.blocks, res.design.pattern)
    sigma = float(np.sqrt(ev.pwrss / res.blocks.n))
    return m, res, theta, sigma


def test_week_df_at_lme4s_optimum_matches_lmertest_to_1e5():
    m, res, theta, sigma = _d063()
    cov = cov_beta_at(np.append(theta, sigma), res.blocks, res.design.pattern)
    sat = Satterthwaite.compute(theta, sigma, res.blocks, res.design.pattern, False, cov)
    L = np.zeros(res.design.p)
    L[res.tidy()["term"].tolist().index("week")] = 1.0
    want = next(f["df"] for f in m["fixed"] if f["term"] == "week")
    np.testing.assert_allclose(sat.df(L), want, rtol=1e-5)


def test_hessian_on_the_row_scale_does_not_change_when_the_step_doubles():
    _, res, theta, sigma = _d063()
    vp = np.append(theta, sigma)
    scale = step_scale(theta, res.design.pattern)

    def f(v):
        return varpar_deviance(v, res.blocks, res.design.pattern, False)

    h1 = hessian(f, vp, scale)
    h2 = hessian(f, vp, 2.0 * scale)
    np.testing.assert_allclose(h1, h2, rtol=1e-5)
