"""hipkit.mmrm against nlme::gls (corSymm + varIdent) on SIMULATED trials with dropout.

The references are in tests/reference/mmrm/ (make_data.py -> <case>.csv -> fit.R -> mmrm_expected.json);
the tests read the JSON and need no R. Satterthwaite df in the JSON were derived in R with numDeriv from
the REML (or ML) log-likelihood written out in fit.R (nlme gives none for gls).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import hipkit
from hipkit.errors import ConvergenceWarning, IdentifiabilityError, ModelSpecError
from hipkit.models import mmrm_fit as mmrm_module

from .test_reference import close, close_p

REF = Path(__file__).resolve().parents[1] / "reference" / "mmrm"
EXPECTED = json.loads((REF / "mmrm_expected.json").read_text())
CASES = sorted(EXPECTED["cases"])
METHODS = ("REML", "ML")


def _data(case: str) -> pd.DataFrame:
    return pd.read_csv(REF / f"{case}.csv")


def _covariates(case: str) -> tuple:
    return ("baseline",) if "baseline" in EXPECTED["cases"][case]["formula"] else ()


_FITS: dict = {}


def _fit(case: str, method: str):
    if (case, method) not in _FITS:
        _FITS[case, method] = hipkit.mmrm(_data(case), "y", covariates=_covariates(case), reml=method == "REML")
    return _FITS[case, method]


def test_reference_data_are_labelled_simulated():
    assert "SIMULATED" in EXPECTED["label"]
    assert "SIMULATED" in (REF / "make_data.py").read_text()
    assert len(CASES) >= 6


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("case", CASES)
def test_fixed_effects_covariance_and_criteria_match_nlme(case, method):
    ref, fit = EXPECTED["cases"][case], _fit(case, method)
    r = ref["fits"][method]
    fixed = pd.DataFrame(r["fixed"])
    assert fit.nobs == ref["nobs"] and fit.n_subjects == ref["n_subjects"]
    assert list(fit.visits) == ref["visits"] and list(fit.groups) == ref["groups"]
    assert list(fit.coefficients["term"]) == [t.replace("visit", "visit_week") for t in ref["terms"]]
    assert fit.converged, fit.checks
    close(fit.coefficients["estimate"], fixed["estimate"], "estimate", f"{case} {method} beta")
    close(fit.covariance, np.array(r["covariance"]), "estimate", f"{case} {method} Sigma")
    # nlme scales an ML fit's vcov by N / (N - p) (its sigma has the REML denominator); hipkit
    # reports (X' V^-1 X)^-1 at the estimate, as the mmrm package.
    scale = 1.0 if method == "REML" else fit.nobs / (fit.nobs - len(fixed))
    close(fit.vcov * scale, np.array(r["vcov"]), "estimate", f"{case} {method} vcov")
    close(fit.loglik, r["loglik_nlme"], "criterion", f"{case} {method} logLik")
    close(fit.aic, r["AIC_nlme"], "criterion", f"{case} {method} AIC")
    close(fit.bic, r["BIC_nlme"], "criterion", f"{case} {method} BIC")
    g = fit.glance()
    assert len(g) == 1 and g["converged"].item()
    assert g["n_patterns"].item() == fit.n_patterns >= 1


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("case", CASES)
def test_satterthwaite_df_and_tests_match_r(case, method):
    r, fit = EXPECTED["cases"][case]["fits"][method], _fit(case, method)
    fixed = pd.DataFrame(r["fixed"])
    close(fit.coefficients["df"], fixed["df"], "df_p", f"{case} {method} df")
    if method == "REML":
        close(fit.coefficients["std_error"], fixed["std_error"], "estimate", f"{case} SE")
        close_p(fit.coefficients["p_value"], fixed["p_value"], f"{case} p")
    for mine, theirs, what in ((fit.means, r["means"], "means"), (fit.diffs, r["diffs"], "diffs")):
        theirs = pd.DataFrame(theirs)
        assert list(mine["visit_week"]) == list(theirs["visit"])
        assert list(mine["group"]) == list(theirs["group"])
        close(mine["estimate"], theirs["estimate"], "estimate", f"{case} {method} {what}")
        close(mine["std_error"], theirs["std_error"], "estimate", f"{case} {method} {what} SE")
        close(mine["df"], theirs["df"], "df_p", f"{case} {method} {what} df")
        close_p(mine["p_value"], theirs["p_value"], f"{case} {method} {what} p")
        # A CI limit near 0 is a difference of two numbers: compare the half-width (the estimate is above).
        half = (mine["conf_high"] - mine["conf_low"]) / 2
        close(half, (theirs["conf_high"] - theirs["conf_low"]) / 2, "estimate", f"{case} {method} {what} CI")


@pytest.mark.parametrize("case", CASES)
def test_final_visit_difference_matches_r(case):
    fit = _fit(case, "REML")
    theirs = pd.DataFrame(EXPECTED["cases"][case]["fits"]["REML"]["diffs"])
    theirs = theirs[theirs["visit"] == EXPECTED["cases"][case]["visits"][-1]]
    fv = fit.final_visit()
    assert len(fv) == len(fit.groups) - 1
    close(fv["estimate"], theirs["estimate"], "estimate", case)
    close(fv["df"], theirs["df"], "df_p", case)
    close_p(fv["p_value"], theirs["p_value"], case)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("case", CASES)
def test_criterion_at_the_optimum_is_never_worse_than_at_nlmes_estimates(case, method):
    r, fit = EXPECTED["cases"][case]["fits"][method], _fit(case, method)
    at_r = fit.model.deviance(fit.model.theta_of(np.array(r["covariance"])))
    assert fit.deviance <= at_r + 1e-9 * abs(at_r)
    close(-0.5 * at_r, r["loglik"], "criterion", f"{case} {method}: hipkit's criterion at R's Sigma")


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("case", CASES)
def test_glmmtmb_second_opinion(case, method):
    r, fit = EXPECTED["cases"][case]["fits"][method], _fit(case, method)
    if "glmmTMB" not in r:
        pytest.skip("glmmTMB was not installed when the references were made")
    # glmmTMB's us() with dispformula = ~0 fixes a tiny residual variance and stops at its own
    # tolerance (some fits report false convergence): a second opinion, to 1e-3, not the reference.
    np.testing.assert_allclose(fit.coefficients["estimate"], r["glmmTMB"]["estimate"], rtol=1e-3, atol=1e-4)
    np.testing.assert_allclose(fit.covariance, np.array(r["glmmTMB"]["covariance"]), rtol=1e-3, atol=2e-3)


def _simulated_trial(seed: int, n: int = 40, visits=(2, 4, 6, 8), dropout: float = 0.15) -> tuple:
    rng = np.random.default_rng(seed)
    k = len(visits)
    A = rng.normal(size=(k, k))
    sigma = A @ A.T / k + np.diag(rng.uniform(0.5, 1.5, k))
    rows = []
    for i in range(n):
        y = rng.multivariate_normal(np.full(k, 3.0) + 0.3 * (i % 2) * np.arange(k), sigma)
        gone = False
        for j, w in enumerate(visits):
            gone = gone or (j > 0 and rng.random() < dropout)
            rows.append(
                {"participant_id": f"S{i}", "group": "ab"[i % 2], "visit_week": w, "y": np.nan if gone else y[j]}
            )
    return pd.DataFrame(rows), sigma


@pytest.mark.parametrize("seed", range(6))
def test_seeded_trials_the_optimum_beats_the_truth_and_nearby_covariances(seed):
    data, sigma = _simulated_trial(seed)
    fit = hipkit.mmrm(data, "y")
    m = fit.model
    assert fit.converged
    assert fit.deviance <= m.deviance(m.theta_of(sigma)) + 1e-9
    rng = np.random.default_rng(seed + 100)
    for _ in range(10):
        assert fit.deviance <= m.deviance(fit.theta + rng.normal(scale=1e-3, size=fit.theta.shape)) + 1e-9


def test_pattern_sums_equal_the_likelihood_summed_patient_by_patient():
    data, _ = _simulated_trial(3)
    fit = hipkit.mmrm(data, "y")
    m = fit.model
    theta = fit.theta + np.random.default_rng(0).normal(scale=0.05, size=fit.theta.shape)
    S = m.covariance(theta)
    d = data.dropna(subset=["y"])
    X, names, y, vi, subj, *_ = mmrm_module._design(d, "y", "visit_week", "group", "participant_id", ())
    xvx, xvy, yvy, logdet = np.zeros((X.shape[1],) * 2), np.zeros(X.shape[1]), 0.0, 0.0
    for s in np.unique(subj):
        rows = subj == s
        Si = S[np.ix_(vi[rows], vi[rows])]
        inv = np.linalg.inv(Si)
        xvx += X[rows].T @ inv @ X[rows]
        xvy += X[rows].T @ inv @ y[rows]
        yvy += y[rows] @ inv @ y[rows]
        logdet += np.linalg.slogdet(Si)[1]
    beta = np.linalg.solve(xvx, xvy)
    n, p = X.shape
    dev = (n - p) * np.log(2 * np.pi) + logdet + np.linalg.slogdet(xvx)[1] + yvy - beta @ xvy
    assert m.deviance(theta) == pytest.approx(dev, rel=1e-10)
    np.testing.assert_allclose(m.gls(theta)[0], beta, rtol=1e-9)


def test_duplicating_every_patient_keeps_the_patterns_and_the_ml_estimates():
    data, _ = _simulated_trial(4)
    twice = pd.concat([data, data.assign(participant_id=data["participant_id"] + "_copy")], ignore_index=True)
    a, b = hipkit.mmrm(data, "y", reml=False), hipkit.mmrm(twice, "y", reml=False)
    assert a.n_patterns == b.n_patterns and b.n_subjects == 2 * a.n_subjects
    np.testing.assert_allclose(b.coefficients["estimate"], a.coefficients["estimate"], rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(b.covariance, a.covariance, rtol=1e-4, atol=1e-6)
    assert b.deviance == pytest.approx(2 * a.deviance, rel=1e-8)


def test_contrast_reproduces_the_final_visit_difference():
    fit = _fit("two_arm_monotone", "REML")
    names = list(fit.coefficients["term"])
    L = np.zeros(len(names))
    L[names.index("groupexercise")] = 1.0
    L[names.index("visit_week8:groupexercise")] = 1.0
    got = fit.contrast(L)
    fv = fit.final_visit()
    np.testing.assert_allclose(
        got[["estimate", "std_error", "df"]].to_numpy()[0], fv[["estimate", "std_error", "df"]].to_numpy()[0]
    )
    with pytest.raises(ModelSpecError):
        fit.contrast(np.ones(3))


def test_residual_covariance_and_tidy_ran_pars():
    fit = _fit("three_arm_intermittent", "REML")
    cov = fit.residual_covariance()
    assert list(cov.index) == list(fit.visits) and np.allclose(cov.to_numpy(), cov.to_numpy().T)
    ran = fit.tidy("ran_pars")
    k = len(fit.visits)
    assert len(ran) == k * (k + 1) // 2
    assert "Satterthwaite" in fit.summary() and "final visit" in fit.summary()


def test_visit_with_fewer_than_two_patients_is_an_error():
    data, _ = _simulated_trial(1)
    extra = pd.DataFrame([{"participant_id": "S0", "group": "a", "visit_week": 10, "y": 1.0}])
    with pytest.raises(IdentifiabilityError, match="fewer than 2 patients"):
        hipkit.mmrm(pd.concat([data, extra]), "y")


def test_visits_never_observed_together_is_an_error():
    rows = [
        {"participant_id": f"S{i}", "group": "ab"[i % 2], "visit_week": w, "y": float(i + w)}
        for i in range(12)
        for w in ((2, 4) if i < 6 else (2, 6))
    ]
    with pytest.raises(IdentifiabilityError, match="never observed in one patient"):
        hipkit.mmrm(pd.DataFrame(rows), "y")


def test_bad_specifications_are_typed_errors():
    data, _ = _simulated_trial(2)
    with pytest.raises(ModelSpecError, match="not in the data"):
        hipkit.mmrm(data, "y", covariates=["age"])
    with pytest.raises(ModelSpecError, match="two rows at one visit"):
        hipkit.mmrm(pd.concat([data, data.iloc[:1]]), "y")
    with pytest.raises(ModelSpecError, match="one level"):
        hipkit.mmrm(data.assign(group="a"), "y")


def test_failed_checks_are_a_convergence_warning_on_the_result(monkeypatch):
    real = mmrm_module._checks

    def failing(*args):
        out = real(*args)
        out[0] = {**out[0], "value": 1.0, "passed": False}
        return out

    monkeypatch.setattr(mmrm_module, "_checks", failing)
    data, _ = _simulated_trial(5)
    with pytest.warns(ConvergenceWarning, match="did not converge"):
        fit = hipkit.mmrm(data, "y")
    assert not fit.converged and not fit.glance()["converged"].item()
    assert "did not converge" in fit.summary()


def test_a_converged_fit_warns_nothing():
    data, _ = _simulated_trial(0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        hipkit.mmrm(data, "y")


def test_too_few_observations_for_the_covariance_is_an_error():
    rows = [
        {"participant_id": f"S{i}", "group": "ab"[i % 2], "visit_week": w, "y": float(i * w % 7)}
        for i in range(4)
        for w in (2, 4, 6, 8)
    ]
    with pytest.raises(IdentifiabilityError, match="cannot be estimated"):
        hipkit.mmrm(pd.DataFrame(rows), "y")


def test_visit_labels_as_ordered_categories_give_the_same_fit():
    data = _data("two_arm_monotone")
    labelled = data.assign(
        visit_week=pd.Categorical(
            "w" + data["visit_week"].astype(str), categories=["w2", "w4", "w6", "w8"], ordered=True
        )
    )
    a, b = _fit("two_arm_monotone", "REML"), hipkit.mmrm(labelled, "y", covariates=["baseline"])
    assert b.visits == ("w2", "w4", "w6", "w8")
    np.testing.assert_allclose(b.coefficients["estimate"], a.coefficients["estimate"], rtol=1e-8)
    np.testing.assert_allclose(b.coefficients["df"], a.coefficients["df"], rtol=1e-6)


def _r_with_nlme() -> bool:
    if shutil.which("Rscript") is None:
        return False
    probe = subprocess.run(
        ["Rscript", "-e", "for (p in c('nlme','numDeriv','jsonlite')) library(p, character.only=TRUE)"],
        capture_output=True,
        check=False,
    )
    return probe.returncode == 0


@pytest.mark.needs_r
@pytest.mark.skipif(not _r_with_nlme(), reason="Rscript with nlme, numDeriv and jsonlite not installed (make r-deps)")
def test_committed_r_script_reproduces_the_committed_json(tmp_path):
    shutil.copytree(REF, tmp_path / "mmrm")
    (tmp_path / "mmrm" / "mmrm_expected.json").unlink()
    cases = ["small_three_visits", "complete_two_arm"]
    proc = subprocess.run(
        ["Rscript", str(tmp_path / "mmrm" / "fit.R"), *cases], capture_output=True, text=True, check=False, timeout=600
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    got = json.loads((tmp_path / "mmrm" / "mmrm_expected.json").read_text())
    for case in cases:
        for method in METHODS:
            a, b = got["cases"][case]["fits"][method], EXPECTED["cases"][case]["fits"][method]
            np.testing.assert_allclose(
                [f["estimate"] for f in a["fixed"]], [f["estimate"] for f in b["fixed"]], rtol=1e-8
            )
            np.testing.assert_allclose([f["df"] for f in a["fixed"]], [f["df"] for f in b["fixed"]], rtol=1e-6)
            assert a["loglik_nlme"] == pytest.approx(b["loglik_nlme"], rel=1e-10)
