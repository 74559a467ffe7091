"""The optimiser of the profiled deviance (hipkit.models.optimise): scale invariance, lme4's optimum, checks.

References: tests/reference/days_slope/ (fit.R, lme4 1.1-31 at tight settings and the best of allFit's
optimisers, written to days_slope.json), and the corpus (tests/models/test_reference_corpus.py), whose
criterion test covers the 254 corpus models.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import hipkit
from hipkit.errors import ConvergenceError, ConvergenceWarning
from hipkit.models.optimise import CHECK_TOLERANCES, OptimizerRecord, optimise_theta

from .test_reference import TOL, close, close_p

CASE = Path(__file__).resolve().parents[1] / "reference" / "days_slope"
REF = json.loads((CASE / "days_slope.json").read_text())
DATA = pd.read_csv(CASE / "data.csv")
CRITERION_SLACK = 1e-6  # as the corpus test: never worse than lme4's by more than 1e-6 relative


def _cohort(name: str) -> pd.DataFrame:
    return DATA[DATA["cohort"] == name].reset_index(drop=True)


def _fit(name: str, **kw):
    m = REF["models"][name]
    return hipkit.lmm(m["formula"], _cohort(m["cohort"]), reml=m["REML"], check_singular="ignore", **kw)


def _criterion(res) -> float:
    g = res.glance().iloc[0]
    return float(g["reml_criterion"] if res.reml else g["deviance"])


@pytest.mark.parametrize("name", list(REF["models"]))
def test_criterion_is_never_worse_than_the_best_of_lme4s_optimisers(name):
    res = _fit(name)
    best = float(REF["models"][name]["criterion_best"])
    assert _criterion(res) <= best + CRITERION_SLACK * max(1.0, abs(best)), (_criterion(res), best)
    assert res.converged and res.optimizer.converged


@pytest.mark.parametrize("name", list(REF["models"]))
def test_estimates_match_lme4_on_the_days_slope_case(name):
    m = REF["models"][name]
    res = _fit(name)
    close(res.theta, m["theta"], "estimate", f"{name} theta")
    close(res.sigma, m["varcorr"]["sigma"], "estimate", f"{name} sigma")
    want = pd.DataFrame(m["fixed"])
    got = res.tidy().set_index("term").loc[want["term"]]
    close(got["estimate"], want["estimate"], "estimate", f"{name} estimates")
    close(got["std_error"], want["std_error"], "estimate", f"{name} standard errors")
    close(got["df"], want["df"], "df_p", f"{name} df")
    close_p(got["p_value"], want["p_value"], f"{name} p")
    assert bool(res.singular) == bool(m["is_singular"])


def test_the_old_false_boundary_is_gone_on_days():
    # The first optimiser stopped at slope SD 0 (corr +1) here: REML criterion 1305.886 against 1305.781.
    res = _fit("slope_days")
    assert not res.singular
    sd_slope = np.sqrt(res.random_cov[1, 1])
    want = REF["models"]["slope_days"]["varcorr"]["groups"][0]["sd"][1]
    close(sd_slope, want, "estimate", "slope SD")


def test_days_and_weeks_give_the_same_fit():
    d = _cohort("slope")
    f = "hip_abd_strength_n ~ {t} * group + (1 + {t} | participant_id)"
    for reml in (False, True):
        a = hipkit.lmm(f.format(t="days_from_baseline"), d, reml=reml)
        b = hipkit.lmm(f.format(t="weeks_from_baseline"), d, reml=reml)
        # ML deviance is invariant; the REML criterion changes by log|T|^2 with X_weeks = X_days T:
        # two columns (time, time:group) divided by 7.
        shift = 2 * 2 * np.log(7.0) if reml else 0.0
        np.testing.assert_allclose(_criterion(b), _criterion(a) - shift, rtol=1e-10)
        # theta is defined only to the optimiser's precision: Newton's polish stops at a scaled gradient of
        # ~1e-6, where the criterion is flat to its rounding noise over ~3e-6 of theta (measured 2.8e-6 on
        # the slope's theta when the engine's summation order changed, criteria still equal to 1e-10).
        np.testing.assert_allclose(b.theta, a.theta * np.array([1.0, 7.0, 7.0]), rtol=1e-5, atol=1e-9)
        np.testing.assert_allclose(b.sigma, a.sigma, rtol=1e-7)
        ta = a.tidy().set_index("term")["estimate"]
        tb = b.tidy().set_index("term")["estimate"]
        tb.index = tb.index.str.replace("weeks_from_baseline", "days_from_baseline")
        factor = np.where(ta.index.str.contains("days_from_baseline"), 7.0, 1.0)
        np.testing.assert_allclose(tb.loc[ta.index], ta * factor, rtol=1e-6)


def _design(rng, n_participants: int, scale: float) -> pd.DataFrame:
    """A seeded cohort with irregular visit times in units of ``scale`` days and dropout."""
    rows = []
    sd_slope = rng.choice([0.0, 0.05, 0.3])  # per day: none (singular), small, large
    corr = rng.uniform(-0.8, 0.8)
    n_visits = int(rng.integers(3, 7))
    for i in range(n_participants):
        group = "HIP" if i % 2 else "KNEE"
        u0 = rng.normal(0, 15)
        u1 = sd_slope * (corr * u0 / 15 + np.sqrt(1 - corr**2) * rng.normal())
        last = n_visits if rng.random() > 0.25 else int(rng.integers(2, n_visits + 1))  # monotone dropout
        for v in range(last):
            day = 0.0 if v == 0 else 14.0 * v + rng.integers(-4, 5)
            y = 150 + u0 + (1.0 + 0.3 * (group == "HIP") + u1) * day + rng.normal(0, 8)
            rows.append((f"P{i:03d}", group, day / scale, y))
    return pd.DataFrame(rows, columns=["participant_id", "group", "t", "y"])


@pytest.mark.parametrize("seed", range(6))
def test_generated_designs_give_one_deviance_whatever_the_time_unit(seed):
    """Time in units from 1e-2 to 1e3 of a day: the same ML deviance, and as low as a tight search finds."""
    rng = np.random.default_rng(1000 + seed)
    n = int(rng.integers(12, 60))
    base = _design(rng, n, 1.0)
    devs, thetas = [], []
    for scale in (1e-2, 1.0, 7.0, 1e3):
        d = base.assign(t=base["t"] / scale)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = hipkit.lmm("y ~ t * group + (1 + t | participant_id)", d, reml=False)
        assert res.converged, res.optimizer.failures()
        devs.append(_criterion(res))
        thetas.append(res.theta / np.array([1.0, scale, scale]))  # theta of a slope per day
    np.testing.assert_allclose(devs, devs[1], rtol=1e-9, atol=0)
    # theta in day units agrees across the units (a singular fit: to the precision of its flat direction)
    for th in thetas:
        np.testing.assert_allclose(th, thetas[1], rtol=1e-3, atol=1e-4 * max(1.0, np.max(np.abs(thetas[1]))))


def test_an_optimiser_stopped_early_is_caught_by_the_checks():
    d = _cohort("slope")
    f = REF["models"]["slope_days"]["formula"]
    with pytest.warns(ConvergenceWarning, match="failed to converge"):
        res = hipkit.lmm(f, d, control={"max_evaluations": 8})
    assert not res.converged and not res.optimizer.converged
    assert "limit of 8" in res.optimizer.message
    assert not all(c.passed for c in res.optimizer.checks)  # the checks see it too, not only the limit
    assert "NOT converged" in res.summary()
    assert bool(res.glance()["converged"].iloc[0]) is False
    with pytest.raises(ConvergenceError):
        hipkit.lmm(f, d, control={"max_evaluations": 8}, check_convergence="error")


def test_checks_flag_a_point_that_is_not_the_minimum():
    # An off-optimum start with no search at all: every gradient-based check must fail there.
    d = _cohort("slope")
    res = _fit("slope_days")
    f = res.optimizer
    from hipkit.models.engine import deviance_at
    from hipkit.models.optimise import _checks, _Counted

    F = _Counted(lambda t: deviance_at(t, res.blocks, res.design.pattern, True), f.scale, None)
    x = f.end * f.scale * np.array([1.3, 0.5, 1.5])
    checks = {c.name: c for c in _checks(F, x, F(x), np.array([True, False, True]))}
    assert not checks["scaled_gradient"].passed and not checks["relative_gradient"].passed
    assert len(d) == res.design.n


def test_boundary_check_sees_a_lower_deviance_in_the_interior():
    # Slope SD forced to 0 on data with a clear slope variance: the one-sided check must fail.
    res = _fit("slope_days")
    from hipkit.models.engine import deviance_at
    from hipkit.models.optimise import _checks, _Counted

    F = _Counted(lambda t: deviance_at(t, res.blocks, res.design.pattern, True), res.optimizer.scale, None)
    x = res.optimizer.end * res.optimizer.scale
    x[2] = 0.0
    checks = {c.name: c for c in _checks(F, x, F(x), np.array([True, False, True]))}
    assert not checks["boundary"].passed and checks["boundary"].value < -CHECK_TOLERANCES["boundary"]


def test_a_true_singular_fit_passes_its_boundary_check():
    res = _fit("singular_days")
    assert res.singular and res.converged
    assert res.optimizer.check("boundary").passed
    assert res.optimizer.n_restarts >= 1  # a boundary optimum is always confirmed from the interior


def test_optimizer_record_is_shown_in_summary_glance_and_to_dict():
    res = _fit("slope_days")
    rec = res.optimizer
    assert isinstance(rec, OptimizerRecord)
    assert rec.n_evaluations > 0 and rec.criterion == pytest.approx(_criterion(res), rel=1e-14)
    np.testing.assert_array_equal(rec.end, res.theta)
    g = res.glance().iloc[0]
    assert g["n_evaluations"] == rec.n_evaluations and g["n_restarts"] == rec.n_restarts
    assert g["max_scaled_gradient"] == rec.max_scaled_gradient < CHECK_TOLERANCES["scaled_gradient"]
    assert "Optimizer:" in res.summary() and "scaled_gradient" in res.summary()
    d = json.loads(json.dumps(res.to_dict()))
    assert d["optimizer"]["n_evaluations"] == rec.n_evaluations
    assert {c["name"] for c in d["optimizer"]["checks"]} >= {"scaled_gradient", "hessian_min_eigenvalue"}


def test_optimise_theta_on_a_known_quadratic():
    # A deviance-like function with a boundary minimum in the first coordinate and an interior one in
    # the second: the optimiser lands on both to high precision and reports the boundary.
    def f(t):
        return (t[0] + 1.0) ** 2 + 3.0 * (t[1] - 0.2) ** 2 + 100.0

    rec = optimise_theta(f, np.array([1.0, 0.0]), np.array([0.0, -np.inf]))
    assert rec.end[0] == 0.0 and rec.end[1] == pytest.approx(0.2, abs=1e-8)
    assert rec.at_boundary == (0,)
    assert rec.converged, rec.failures()


#: hipkit's profile limits against the roots of lme4's own profile (fit.R: uniroot, tol 1e-11, inner bobyqa
#: from several starts): both sides solve the same equation to ~1e-9, so 1e-6 relative is a real test.
PROFILE_RTOL = 1e-6
_PROFILE_NAMES = {
    "sd_(Intercept)|participant_id": "sd__(Intercept)",
    "sd_days_from_baseline|participant_id": "sd__days_from_baseline",
    "cor_days_from_baseline.(Intercept)|participant_id": "cor__(Intercept).days_from_baseline",
    "sigma": "sd__Observation",
}


@pytest.mark.parametrize("name", ["singular_days", "slope_days"])
def test_profile_limits_are_the_roots_of_the_profile(name):
    res = _fit(name)
    vc = res.variance_components(method="profile").set_index("term")
    for row in REF["models"][name]["profile_roots"]["rows"]:
        term = _PROFILE_NAMES[row["parameter"]]
        for side, col in (("lower", "conf_low"), ("upper", "conf_high")):
            np.testing.assert_allclose(
                vc.loc[term, col], row[side], rtol=PROFILE_RTOL, atol=1e-9, err_msg=f"{name} {term} {side}"
            )


def test_unknown_control_settings_are_refused():
    with pytest.raises(hipkit.errors.ArgumentError, match="max_evaluations"):
        hipkit.lmm(REF["models"]["slope_days"]["formula"], _cohort("slope"), control={"maxfun": 3})


_ = TOL  # the tolerance table these tests use through close()


def _small_slope_design(seed: int) -> tuple[pd.DataFrame, bool]:
    """Tiny random-slope cohorts on a random time scale (the review's generator that found false optima)."""
    rng = np.random.default_rng(seed)
    n, v = int(rng.integers(3, 15)), int(rng.integers(2, 6))
    sc = 10.0 ** rng.uniform(-3, 3)
    d = pd.DataFrame({"pid": np.repeat(np.arange(n), v), "t": np.tile(np.arange(v), n) * sc})
    d = d.sample(frac=rng.uniform(0.7, 1), random_state=seed)
    b0 = rng.normal(size=n) * rng.uniform(0, 2)
    b1 = rng.normal(size=n) * rng.uniform(0, 2) / sc
    d["y"] = 1 + b0[d.pid] + (0.3 / sc + b1[d.pid]) * d.t + rng.normal(size=len(d)) * rng.uniform(0.1, 2)
    return d, bool(seed % 2)


@pytest.mark.parametrize("seed", [28, 40, 84] + list(range(100, 124)))
def test_a_fit_reported_converged_is_at_the_best_optimum_a_brute_force_search_finds(seed):
    # ML and REML fits of (1 + t | pid) on 3-14 participants: with a variance at 0 the deviance has valleys of
    # equal value (a face of the boundary), and the search used to stop there and report convergence while a
    # lower optimum lay across the sign of the off-diagonal (seeds 28, 40 and 84: 1.85, 0.12 and 9e-4 worse).
    from scipy import optimize

    from hipkit.models.engine import deviance_at

    d, reml = _small_slope_design(seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = hipkit.lmm("y ~ t + (1 + t | pid)", d, reml=reml)
    if not fit.converged:
        return  # said so: a non-converged fit is allowed to be anywhere
    sc = float(d["t"].abs().max()) or 1.0

    def f(theta):
        return deviance_at(np.asarray(theta), fit.blocks, fit.design.pattern, reml)

    bounds = [(0, None), (None, None), (0, None)]
    best = np.inf
    for start in ([1, 0, 1.0], [0.1, 0, 0.1], [3, 0.5, 3.0], [1, 0, 1 / sc], [1, 0, 10 / sc], [1, -1 / sc, 1 / sc],
                  [1, 1 / sc, 1 / sc], fit.optimizer.theta):  # fmt: skip
        r = optimize.minimize(f, np.asarray(start, float), method="L-BFGS-B", bounds=bounds)
        r2 = optimize.minimize(f, r.x, method="Nelder-Mead", bounds=bounds,
                               options=dict(xatol=1e-10, fatol=1e-12, maxfev=20000))  # fmt: skip
        best = min(best, r.fun, r2.fun)
    assert fit.optimizer.criterion <= best + 1e-6 * max(1.0, abs(best)), (fit.optimizer.criterion, best)


def _intercept_design(seed: int) -> tuple[pd.DataFrame, bool]:
    """Random-intercept cohorts of 2-40 participants, 1-8 rows each, some with no between-participant variance."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 41))
    sizes = rng.integers(1, 9, size=n)
    pid = np.repeat(np.arange(n), sizes)
    sd_b = 0.0 if seed % 3 == 0 else 10.0 ** rng.uniform(-2, 2)
    x = rng.normal(size=len(pid)) * 10.0 ** rng.uniform(-3, 3)
    y = 2.0 + 0.5 * x + rng.normal(size=n)[pid] * sd_b + rng.normal(size=len(pid)) * 10.0 ** rng.uniform(-1, 1)
    return pd.DataFrame({"pid": pid, "x": x, "y": y}), bool(seed % 2)


@pytest.mark.parametrize("seed", range(40))
def test_one_variance_parameter_reaches_the_optimum_of_a_dense_grid(seed):
    # With a random intercept alone the search is Brent's method (optimise._brent), not the simplex: on
    # random designs (a third with no between-participant variance, so optima on the boundary) the fit is
    # at or below the best of a dense log grid refined by a bounded scalar search from every local minimum.
    from scipy import optimize

    from hipkit.models.engine import deviance_at

    d, reml = _intercept_design(seed)
    if d["pid"].nunique() < 2 or len(d) <= d["pid"].nunique() + 2:
        pytest.skip("too few rows for a random intercept")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = hipkit.lmm("y ~ x + (1 | pid)", d, reml=reml)
    assert fit.optimizer.method.startswith("Brent")

    def f(t):
        return deviance_at(np.array([t]), fit.blocks, fit.design.pattern, reml)

    grid = np.concatenate([[0.0], np.logspace(-4, 3, 400)])
    vals = np.array([f(t) for t in grid])
    best = float(vals.min())
    for i in range(1, len(grid) - 1):
        if vals[i] <= vals[i - 1] and vals[i] <= vals[i + 1]:
            r = optimize.minimize_scalar(f, bounds=(grid[i - 1], grid[i + 1]), method="bounded",
                                         options=dict(xatol=1e-12))  # fmt: skip
            best = min(best, float(r.fun))
    assert fit.optimizer.criterion <= best + 1e-10 * max(1.0, abs(best)), (fit.optimizer.criterion, best)
    if fit.converged and vals[0] <= best + 1e-9 * max(1.0, abs(best)):
        assert fit.theta[0] < 1e-3  # a boundary optimum is reported on (or within rounding of) the boundary
