"""Behaviour of hipkit.lmm beyond the reference numbers: errors, contracts, warnings, helpers."""

import json
import warnings

import numpy as np
import pandas as pd
import pytest

import hipkit
from hipkit.errors import IdentifiabilityError, ModelSpecError, NotSupportedError, SingularFitWarning
from hipkit.models import GLANCE_COLUMNS, TIDY_COLUMNS
from hipkit.models.formula import parse_formula, r_term_name

from .test_reference import REF

SLEEP = pd.read_csv(REF / "sleepstudy" / "data.csv")
DYES = pd.read_csv(REF / "boundary" / "data.csv")


@pytest.fixture(scope="module")
def sleep_fit():
    return hipkit.lmm("Reaction ~ Days + (Days | Subject)", SLEEP)


def simulated_within_between(seed=7, n=80):
    """SIMULATED: between-person slope +0.02 (stronger people slightly MORE pain), within -0.03."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        mean_strength = rng.normal(110, 20)
        u = rng.normal(0, 0.8)
        for week in (0, 2, 4, 6):
            s = mean_strength + 4 * week + rng.normal(0, 8)
            dev = s - (mean_strength + 12)
            pain = 4 + 0.02 * (mean_strength - 110) - 0.03 * dev + u + rng.normal(0, 0.4)
            rows.append((f"P{i}", week, s, pain))
    return pd.DataFrame(rows, columns=["participant_id", "visit_week", "hip_abd_strength_n", "pain_vas"])


def test_tidy_and_glance_follow_the_glossary(sleep_fit):
    assert list(sleep_fit.tidy().columns) == TIDY_COLUMNS
    g = sleep_fit.glance()
    assert list(g.columns) == GLANCE_COLUMNS and len(g) == 1
    assert list(sleep_fit.tidy("all")["effect"]) == ["fixed", "fixed"] + ["ran_pars"] * 4


def test_to_dict_is_json_round_trippable(sleep_fit):
    d = sleep_fit.to_dict()
    assert json.loads(json.dumps(d, allow_nan=False)) == d
    assert d["df_method"] == "Satterthwaite"


def test_summary_names_the_df_method_and_the_numbers(sleep_fit):
    text = sleep_fit.summary()
    assert "Satterthwaite" in text and "REML criterion at convergence: 1743.6" in text
    assert "Number of obs: 180, groups: Subject, 18" in text


def test_augment_adds_fitted_and_residuals_for_every_row_used(sleep_fit):
    aug = sleep_fit.augment()
    assert len(aug) == 180
    np.testing.assert_allclose(aug["fitted"] + aug["resid"], SLEEP["Reaction"])


def test_plot_returns_a_figure_without_showing_it(sleep_fit):
    import matplotlib.figure

    fig = sleep_fit.plot()
    assert isinstance(fig, matplotlib.figure.Figure)
    assert len(fig.axes) == 4  # residuals vs fitted, residual QQ, two random-effect QQ plots


def test_rows_with_missing_values_are_dropped_and_counted():
    d = SLEEP.copy()
    d.loc[[0, 5, 9], "Reaction"] = np.nan
    fit = hipkit.lmm("Reaction ~ Days + (Days | Subject)", d)
    assert fit.glance()["n_dropped"].iloc[0] == 3 and fit.glance()["nobs"].iloc[0] == 177
    assert "3 rows dropped for missing values" in fit.summary()


def test_singular_fit_warns_names_the_term_and_is_flagged():
    with pytest.warns(SingularFitWarning, match="'\\(Intercept\\)'"):
        fit = hipkit.lmm("Yield ~ 1 + (1 | Batch)", DYES)
    assert fit.glance()["singular"].iloc[0]
    assert "singular" in fit.summary()


def test_check_levels_ignore_and_error():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        hipkit.lmm("Yield ~ 1 + (1 | Batch)", DYES, check_singular="ignore")
    with pytest.raises(hipkit.errors.HipkitError, match="singular"):
        hipkit.lmm("Yield ~ 1 + (1 | Batch)", DYES, check_singular="error")


@pytest.mark.parametrize(
    "formula", ["Reaction ~ Days + (1 | Subject) + (1 | Days)", "Reaction ~ Days + (1 | Subject/Days)"]
)
def test_nested_or_crossed_groups_are_not_supported_yet_with_an_alternative(formula):
    with pytest.raises(NotSupportedError, match="lme4"):
        hipkit.lmm(formula, SLEEP)


def test_random_slope_with_one_visit_each_is_not_identifiable():
    one = SLEEP.groupby("Subject").head(1)
    with pytest.raises(IdentifiabilityError, match="one visit"):
        hipkit.lmm("Reaction ~ 1 + (Days | Subject)", pd.concat([one, one.assign(Reaction=one.Reaction + 1)]))


@pytest.mark.parametrize(
    "formula, message",
    [
        ("Reaction ~ Days", "no random term"),
        ("Reaction ~ Nope + (1 | Subject)", "Nope"),
        ("Missing ~ Days + (1 | Subject)", "response"),
        ("Reaction ~ Days + (1 | Who)", "grouping column"),
    ],
)
def test_bad_formulas_are_clear_errors(formula, message):
    with pytest.raises((ModelSpecError, NotSupportedError), match=message):
        hipkit.lmm(formula, SLEEP)


def test_formula_parsing():
    f = parse_formula("y ~ a * b + (1 + t | id)")
    assert (f.response, f.fixed, f.group) == ("y", "a * b", "id")
    assert parse_formula("y ~ (1 | id)").fixed == "1"
    assert parse_formula("y ~ factor(v) + (1 | id)").fixed == "C(v)"
    assert r_term_name("Intercept") == "(Intercept)"


def test_uncorrelated_terms_have_no_correlation_parameter():
    fit = hipkit.lmm("Reaction ~ Days + (Days || Subject)", SLEEP)
    assert len(fit.theta) == 2
    assert not any(t.startswith("cor__") for t in fit.variance_components(method="none")["term"])


def test_wald_intervals_cover_the_estimates(sleep_fit):
    vc = sleep_fit.variance_components(method="wald")
    assert ((vc["conf_low"] <= vc["estimate"]) & (vc["estimate"] <= vc["conf_high"])).all()


def test_ml_fit_reports_deviance_not_reml_criterion():
    g = hipkit.lmm("Reaction ~ Days + (Days | Subject)", SLEEP, reml=False).glance().iloc[0]
    assert np.isnan(g["reml_criterion"]) and g["deviance"] == pytest.approx(-2 * g["logLik"])


def test_within_between_separates_the_two_effects():
    d = simulated_within_between()
    fit = hipkit.within_between(d, "pain_vas", "hip_abd_strength_n")
    t = fit.tidy().set_index("term")
    within, between = t.loc["hip_abd_strength_n_within"], t.loc["hip_abd_strength_n_between"]
    assert within["conf_low"] < -0.03 < within["conf_high"]  # recovers the simulated within-person effect
    assert between["estimate"] > 0 > within["estimate"]  # opposite signs: a pooled slope would blend them


def test_split_change_and_lag_helpers():
    d = pd.DataFrame(
        {"participant_id": ["a"] * 3 + ["b"] * 3, "visit_week": [0, 2, 4] * 2, "x": [1.0, 2.0, 6.0, 10.0, 10.0, 13.0]}
    )
    w = hipkit.split_within_between(d, "x")
    assert w["x_between"].tolist() == [3, 3, 3, 11, 11, 11] and w["x_within"].tolist() == [-2, -1, 3, -1, -1, 2]
    from hipkit.models import add_change, add_lag

    assert add_change(d, "x")["x_change"].tolist() == [0, 1, 5, 0, 0, 3]
    assert add_lag(d, "x")["x_lag1"].tolist()[1:3] == [1, 2] and np.isnan(add_lag(d, "x")["x_lag1"].iloc[0])


def test_change_and_lagged_models_fit():
    d = simulated_within_between()
    assert "hip_abd_strength_n_change" in hipkit.change_model(d).tidy()["term"].tolist()
    assert "hip_abd_strength_n_lag1" in hipkit.lagged_model(d).tidy()["term"].tolist()


def test_cli_fit_writes_json(tmp_path, capsys):
    from hipkit.cli import main

    out = tmp_path / "fit.json"
    code = main(
        [
            "fit",
            "Reaction ~ Days + (Days | Subject)",
            "--data",
            str(REF / "sleepstudy" / "data.csv"),
            "--json",
            str(out),
            "--quiet",
        ]
    )
    assert code == 0
    d = json.loads(out.read_text())
    assert d["fixed"][1]["term"] == "Days" and d["glance"]["nobs"] == 180


def test_cli_fit_bad_formula_is_one_line(capsys):
    from hipkit.cli import main

    code = main(["fit", "Reaction ~ Days + (1 | Subject/Days)", "--data", str(REF / "sleepstudy" / "data.csv")])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1


def test_within_between_counts_dropped_rows_and_never_averages_one_side():
    d = hipkit.simulate.simulate("beers2008", seed=1).data.copy()
    first = d["participant_id"].isin(d["participant_id"].unique()[:3]) & (d["visit_week"] == 2)
    d.loc[first & (d["side"] == "left"), "hip_abd_strength_n"] = np.nan
    with pytest.warns(hipkit.errors.DataQualityWarning, match="3 participant-visits"):
        fit = hipkit.within_between(d, "lefs", "hip_abd_strength_n")
    assert fit.glance()["n_dropped"].iloc[0] == 3


@pytest.mark.parametrize("seed", range(6))
def test_a_perfect_fit_with_no_residual_variance_is_flagged_not_a_crash(seed):
    # Responses exactly linear in time with a per-participant offset: the residual SD goes to 0 and the
    # likelihood is unbounded. The fit must say it did not converge and every result method must still work
    # (found by the identity round-trip test: Satterthwaite's closed form divided by sigma**4 = 0).
    rng = np.random.default_rng(seed)
    n, weeks = int(rng.integers(4, 12)), [0, 2, 4, 6][: int(rng.integers(2, 5))]
    offsets = rng.integers(0, 40, n)
    rows = [
        {"pid": f"P{i}", "week": w, "y": 150.0 + offsets[i] + 3.5 * w, "arm": "A" if i % 2 else "B"}
        for i in range(n)
        for w in weeks
    ]
    formula = "y ~ week + (1 | pid)" if seed % 2 else "y ~ week * arm + (1 | pid)"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = hipkit.lmm(formula, pd.DataFrame(rows))
        assert not fit.converged
        tidy, out = fit.tidy(), fit.to_dict()
        fit.summary()
        fit.glance()
    assert len(tidy) == len(fit.beta) and out["glance"]["converged"] is False


@pytest.mark.parametrize(
    "kwargs, named",
    [
        ({"control": {"max_evaluations": 0}}, "max_evaluations"),
        ({"control": {"max_evaluations": 1.5}}, "max_evaluations"),
        ({"control": {"max_evaluations": True}}, "max_evaluations"),
        ({"control": {"restarts": "no"}}, "restarts"),
        ({"control": {"maxfun": 10}}, "maxfun"),
        ({"control": "x"}, "control"),
        ({"control": [1, 2]}, "control"),
        ({"check_convergence": "raise"}, "check_convergence"),
        ({"check_singular": "loud"}, "check_singular"),
        ({"reml": "no"}, "reml"),
        ({"formula": 3}, "formula"),
    ],
)
def test_lmm_refuses_a_wrong_argument_before_fitting_with_an_error_naming_it(kwargs, named):
    from hipkit.errors import ArgumentError

    sleep = pd.read_csv("tests/reference/sleepstudy/data.csv")
    args = {"formula": "Reaction ~ Days + (1 | Subject)", "data": sleep, **kwargs}
    with pytest.raises(ArgumentError, match=named) as info:
        hipkit.lmm(**args)
    assert "\n" not in str(info.value) and str(info.value).startswith("lmm:")


@pytest.mark.parametrize("scale", [1e6, 1e8, 1e10])
def test_a_predictor_on_a_huge_scale_gives_nan_df_with_a_warning_not_a_crash(scale):
    # Review: time in units of 1e8 fitted, then tidy()/summary()/anova() raised a bare LinAlgError from the
    # Satterthwaite derivatives. Either the df are computed or they are NaN with a ConvergenceWarning.
    rng = np.random.default_rng(1)
    rows = []
    for i in range(15):
        b0, b1 = rng.normal(0, 2), rng.normal(0, 0.5)
        for w in range(4):
            y = 10 + b0 + (0.5 + b1) * w + rng.normal()
            rows.append({"pid": f"P{i}", "g": "AB"[i % 2], "t": w * scale, "y": y})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = hipkit.lmm("y ~ t * g + (1 + t | pid)", pd.DataFrame(rows))
        tidy = fit.tidy()
        fit.summary()
        fit.anova()
    if tidy["df"].isna().any():
        assert any("Satterthwaite df could not be computed" in str(w.message) for w in caught)


@pytest.mark.parametrize("n_rows", [1, 2, 4, 9])
def test_a_single_participant_is_refused_as_lme4_refuses_it(n_rows):
    # Review: one participant fitted "converged" with a profile CI for the intercept SD; lme4 stops with
    # "grouping factors must have > 1 sampled level".
    d = pd.DataFrame({"pid": ["a"] * n_rows, "t": np.arange(n_rows, dtype=float), "y": np.arange(n_rows) * 1.1 + 0.3})
    with pytest.raises(IdentifiabilityError, match="at least 2"):
        hipkit.lmm("y ~ 1 + (1 | pid)", d)
