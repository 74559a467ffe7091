"""mixed_anova and pairwise_tests against pingouin, R (aov, car) and scipy (SIMULATED data)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pingouin as pg
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests

import hipkit.stats as hs
from hipkit.errors import DataQualityWarning, InputError

REF = Path(__file__).resolve().parent / "reference" / "mixed_anova"


def _one_per_visit(df):
    return df.drop_duplicates(["participant_id", "visit_week"]).reset_index(drop=True)


# -- mixed_anova -------------------------------------------------------------------------------
def test_mixed_anova_equals_pingouin(trial):
    out = hs.mixed_anova(trial, "pain_vas")
    ref = pg.mixed_anova(
        _one_per_visit(trial),
        dv="pain_vas",
        within="visit_week",
        between="group",
        subject="participant_id",
        correction=True,
    )
    assert out["term"].tolist() == ["group", "visit_week", "group:visit_week"]
    np.testing.assert_array_equal(out["statistic"], ref["F"])
    np.testing.assert_array_equal(out["num_df"], ref["DF1"])
    np.testing.assert_array_equal(out["den_df"], ref["DF2"])
    np.testing.assert_array_equal(out["p_value"], ref["p_unc"])
    np.testing.assert_array_equal(out["p_gg"], ref["p_GG_corr"])
    np.testing.assert_array_equal(out["eta_squared_partial"], ref["np2"])
    np.testing.assert_array_equal(out["epsilon"], ref["eps"])
    assert out["n_subjects"].eq(24).all() and out["n_dropped_subjects"].eq(0).all()


def test_mixed_anova_against_r_aov_and_car():
    # tests/stats/reference/mixed_anova: make_data.py (SIMULATED, unbalanced 10 vs 8) and fit.R
    # (R 4.2.2 aov with Error(participant_id / visit_week); car 3.1.1 for the GG epsilon).
    exp = json.loads((REF / "expected.json").read_text())
    data = pd.read_csv(REF / "data.csv")
    out = hs.mixed_anova(data, "pain_vas").set_index("term")
    for term, key in [("group", "group"), ("visit_week", "visit_week"), ("group:visit_week", "interaction")]:
        r = exp["aov_sequential"][key]
        np.testing.assert_allclose(out.loc[term, "statistic"], r["F"], rtol=1e-8)
        np.testing.assert_allclose(out.loc[term, "p_value"], r["p"], rtol=1e-6)
        assert (out.loc[term, "num_df"], out.loc[term, "den_df"]) == (r["num_df"], r["den_df"])
    np.testing.assert_allclose(out.loc["visit_week", "epsilon"], exp["gg_epsilon"], rtol=1e-8)
    # The interaction is the same under sequential and type III sums of squares, so its GG p matches car.
    np.testing.assert_allclose(out.loc["group:visit_week", "p_gg"], exp["p_gg"]["interaction"], rtol=1e-6)
    # The within term's GG p: the GG-corrected F distribution (by hand) at the sequential F.
    eps = exp["gg_epsilon"]
    r = exp["aov_sequential"]["visit_week"]
    by_hand = stats.f.sf(r["F"], r["num_df"] * eps, r["den_df"] * eps)
    np.testing.assert_allclose(out.loc["visit_week", "p_gg"], by_hand, rtol=1e-6)


def test_mixed_anova_counts_excluded_participants(trial_incomplete):
    d = trial_incomplete.copy()
    d.loc[d["participant_id"] == "S202", "group"] = np.nan  # no group: cannot be analysed either
    with pytest.warns(DataQualityWarning, match="5 participant"):
        out = hs.mixed_anova(d, "pain_vas")
    # 3 miss week 6, 1 has no pain at week 2, 1 has no group: 5 of 24 excluded.
    assert out["n_dropped_subjects"].eq(5).all()
    assert out["n_subjects"].eq(19).all()
    assert (out["n_subjects"] + out["n_dropped_subjects"]).eq(d["participant_id"].nunique()).all()
    # pingouin silently does the same exclusion: the numbers agree.
    ref = pg.mixed_anova(
        _one_per_visit(d),
        dv="pain_vas",
        within="visit_week",
        between="group",
        subject="participant_id",
        correction=True,
    )
    np.testing.assert_array_equal(out["statistic"], ref["F"])
    np.testing.assert_array_equal(out["den_df"], ref["DF2"])


def test_mixed_anova_two_levels_p_gg_is_p(trial):
    two = trial[trial["visit_week"].isin([0, 6])]
    out = hs.mixed_anova(two, "lefs")
    assert np.isnan(out.loc[0, "p_gg"])
    np.testing.assert_array_equal(out.loc[1:, "p_gg"], out.loc[1:, "p_value"])
    assert out.loc[1:, "epsilon"].eq(1.0).all()


def test_mixed_anova_per_side_measure_needs_a_choice(trial):
    with pytest.raises(InputError, match="average_sides=True"):
        hs.mixed_anova(trial, "hip_abd_strength_n")
    out = hs.mixed_anova(trial, "hip_abd_strength_n", average_sides=True)
    avg = trial.groupby(["participant_id", "group", "visit_week"], as_index=False)["hip_abd_strength_n"].mean()
    ref = pg.mixed_anova(
        avg, dv="hip_abd_strength_n", within="visit_week", between="group", subject="participant_id", correction=True
    )
    np.testing.assert_allclose(out["statistic"], ref["F"], rtol=1e-12)
    left = hs.mixed_anova(trial[trial["side"] == "left"], "hip_abd_strength_n")
    assert left["n_subjects"].eq(24).all()


def test_mixed_anova_optional_visit_excludes_everybody_with_a_clear_error(trial):
    extra = trial[(trial["participant_id"] == "S101") & (trial["visit_week"] == 6)].assign(visit_week=12)
    with pytest.raises(InputError, match="keep only the visits"):
        hs.mixed_anova(pd.concat([trial, extra]), "pain_vas")


# -- pairwise_tests ----------------------------------------------------------------------------
def test_pairwise_within_equals_pingouin_and_scipy(trial):
    out = hs.pairwise_tests(trial, "lefs")
    one = _one_per_visit(trial)
    ref = pg.pairwise_tests(
        one,
        dv="lefs",
        within="visit_week",
        subject="participant_id",
        padjust="holm",
        effsize="hedges",
        return_desc=True,
    )
    assert len(out) == 6
    np.testing.assert_array_equal(out["statistic"], ref["T"])
    np.testing.assert_array_equal(out["df"], ref["dof"])
    np.testing.assert_array_equal(out["p_value"], ref["p_unc"])
    np.testing.assert_array_equal(out["p_adjusted"], ref["p_corr"])
    np.testing.assert_array_equal(out["hedges_g"], ref["hedges"])
    np.testing.assert_allclose(out["estimate"], ref["mean_A"] - ref["mean_B"], rtol=1e-12)
    wide = one.pivot(index="participant_id", columns="visit_week", values="lefs")
    for _, row in out.iterrows():
        a, b = wide[row["level_a"]], wide[row["level_b"]]
        t, p = stats.ttest_rel(a, b)
        np.testing.assert_allclose([row["statistic"], row["p_value"]], [t, p], rtol=1e-9)
        np.testing.assert_allclose(row["estimate"], (a - b).mean(), rtol=1e-10)
        assert row["paired"] and row["n_a"] == row["n_b"] == 24
        ci = pg.compute_esci(stat=row["hedges_g"], nx=24, ny=24, paired=True, eftype="hedges", decimals=12)
        np.testing.assert_allclose([row["g_conf_low"], row["g_conf_high"]], ci, atol=1e-11)
    holm = multipletests(out["p_value"], method="holm")[1]
    np.testing.assert_allclose(out["p_adjusted"], holm, rtol=1e-12)


def test_pairwise_mixed_design(trial):
    out = hs.pairwise_tests(trial, "pain_vas", group="group")
    ref = pg.pairwise_tests(
        _one_per_visit(trial),
        dv="pain_vas",
        within="visit_week",
        between="group",
        subject="participant_id",
        padjust="holm",
        effsize="hedges",
    )
    np.testing.assert_array_equal(out["statistic"], ref["T"])
    np.testing.assert_array_equal(out["hedges_g"], ref["hedges"])
    inter = out[out["contrast"] == "visit_week:group"]
    assert inter["by"].tolist() == [0, 2, 4, 6]
    assert not inter["by"].map(lambda v: isinstance(v, float)).any()  # the data's labels, not pingouin's floats
    assert out.loc[out["contrast"] == "visit_week", "by"].isna().all()
    # Group comparison at week 4: Welch t test by scipy, g CI by the independent-samples formula.
    one = _one_per_visit(trial)
    wk4 = one[one["visit_week"] == 4]
    a, b = wk4.loc[wk4["group"] == "HIP", "pain_vas"], wk4.loc[wk4["group"] == "KNEE", "pain_vas"]
    row = inter[inter["by"] == 4].iloc[0]
    t, p = stats.ttest_ind(a, b, equal_var=True)  # equal group sizes: pingouin uses Student
    np.testing.assert_allclose([row["statistic"], row["p_value"]], [t, p], rtol=1e-9)
    assert (row["n_a"], row["n_b"]) == (12, 12)
    g = row["hedges_g"]
    se = np.sqrt(24 / 144 + g**2 / 48)
    crit = stats.t.ppf(0.975, 22)
    np.testing.assert_allclose([row["g_conf_low"], row["g_conf_high"]], [g - crit * se, g + crit * se], rtol=1e-12)
    # The single between-group test needs no adjustment.
    main = out[out["contrast"] == "group"].iloc[0]
    assert main["p_adjusted"] == main["p_value"]


def test_pairwise_between_only_and_dropped(trial):
    wk6 = trial[trial["visit_week"] == 6].copy()
    wk6.loc[wk6["participant_id"] == "S103", "pain_vas"] = np.nan
    with pytest.warns(DataQualityWarning, match="1 participant"):
        out = hs.pairwise_tests(wk6, "pain_vas", time=None, group="group")
    row = out.iloc[0]
    assert (row["n_a"], row["n_b"], row["n_dropped_subjects"]) == (11, 12, 1)
    one = wk6.drop_duplicates("participant_id").dropna(subset=["pain_vas"])
    a, b = one.loc[one["group"] == "HIP", "pain_vas"], one.loc[one["group"] == "KNEE", "pain_vas"]
    t, p = stats.ttest_ind(a, b, equal_var=False)  # unequal sizes: pingouin switches to Welch
    np.testing.assert_allclose([row["statistic"], row["p_value"]], [t, p], rtol=1e-9)
    np.testing.assert_allclose(row["estimate"], a.mean() - b.mean(), rtol=1e-12)


def test_pairwise_between_only_refuses_repeated_visits(trial):
    with pytest.raises(InputError, match="keep one visit"):
        hs.pairwise_tests(trial, "pain_vas", time=None, group="group")


def test_pairwise_within_counts_excluded(trial_incomplete):
    with pytest.warns(DataQualityWarning):
        out = hs.pairwise_tests(trial_incomplete, "pain_vas")
    assert out["n_dropped_subjects"].eq(4).all()
    assert out["n_a"].eq(20).all()


def test_pairwise_p_adjust_none(trial):
    out = hs.pairwise_tests(trial, "lefs", p_adjust="none")
    np.testing.assert_array_equal(out["p_adjusted"], out["p_value"])
