"""rm_corr and per_visit_correlation against pingouin, scipy and hand computations (SIMULATED data)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pingouin as pg
import pytest
from scipy import stats

import hipkit.stats as hs
from hipkit.errors import DataQualityWarning, InputError
from hipkit.stats._common import fisher_z_ci

X, Y = "hip_abd_strength_n", "lefs"


# -- rm_corr -----------------------------------------------------------------------------------
def test_rm_corr_equals_pingouin(trial):
    out = hs.rm_corr(trial, X, Y).iloc[0]
    ref = pg.rm_corr(trial, x=X, y=Y, subject="participant_id").iloc[0]
    assert out["estimate"] == ref["r"]
    assert out["df"] == ref["dof"]
    assert out["p_value"] == ref["pval"]
    assert out["power"] == ref["power"]
    # pingouin rounds its CI to 2 decimals; hipkit's full-precision CI rounds to the same numbers.
    assert [round(out["conf_low"], 2), round(out["conf_high"], 2)] == list(ref["CI95"])
    n = int(ref["dof"]) + 2
    expected = pg.compute_esci(stat=ref["r"], nx=n, eftype="pearson", decimals=12)
    np.testing.assert_allclose([out["conf_low"], out["conf_high"]], expected, rtol=0, atol=1e-11)


def test_rm_corr_equals_within_participant_centring(trial):
    # Independent computation: r_rm is the Pearson r of participant-mean-centred x and y,
    # with N - k - 1 df (Bakdash & Marusich 2017, eq. 1-2).
    d = trial[["participant_id", X, Y]].dropna()
    xc = d[X] - d.groupby("participant_id")[X].transform("mean")
    yc = d[Y] - d.groupby("participant_id")[Y].transform("mean")
    r = float((xc * yc).sum() / np.sqrt((xc**2).sum() * (yc**2).sum()))
    dof = len(d) - d["participant_id"].nunique() - 1
    t = r * np.sqrt(dof / (1 - r**2))
    p = 2 * stats.t.sf(abs(t), dof)
    out = hs.rm_corr(trial, X, Y).iloc[0]
    np.testing.assert_allclose(out["estimate"], r, rtol=1e-10)
    assert out["df"] == dof
    np.testing.assert_allclose(out["p_value"], p, rtol=1e-8)
    assert out["n_obs"] == len(d)
    assert out["n_subjects"] == d["participant_id"].nunique()
    assert out["df"] == out["n_obs"] - out["n_subjects"] - 1


def test_rm_corr_published_bland_altman_example():
    # Bakdash & Marusich (2017), Bland & Altman (1995) data: r_rm = -0.507, df = 38, 95% CI -0.71 to -0.23.
    d = pg.read_dataset("rm_corr")
    out = hs.rm_corr(d, "pH", "PacO2", subject="Subject").iloc[0]
    assert round(out["estimate"], 3) == -0.507
    assert out["df"] == 38
    assert (round(out["conf_low"], 2), round(out["conf_high"], 2)) == (-0.71, -0.23)


def test_rm_corr_counts_dropped_rows(trial):
    d = trial.copy()
    d.loc[[0, 5, 9], Y] = np.nan
    d.loc[12, X] = np.nan
    with pytest.warns(DataQualityWarning, match="4 row"):
        out = hs.rm_corr(d, X, Y)
    assert out["n_dropped"].iloc[0] == 4
    assert out["n_obs"].iloc[0] == len(d) - 4
    ref = pg.rm_corr(d.dropna(subset=[X, Y]), x=X, y=Y, subject="participant_id")
    assert out["estimate"].iloc[0] == ref["r"].iloc[0]


def test_rm_corr_input_errors(trial):
    with pytest.raises(InputError, match="not in the data"):
        hs.rm_corr(trial, X, "nope")
    with pytest.raises(InputError, match="numeric"):
        hs.rm_corr(trial, X, "group")
    with pytest.raises(InputError, match="at least 3"):
        hs.rm_corr(trial[trial["participant_id"].isin(["S101", "S102"])], X, Y)


# -- per_visit_correlation ---------------------------------------------------------------------
def _averaged(trial):
    return trial.groupby(["participant_id", "visit_week"], as_index=False)[[X, Y]].mean()


def test_per_visit_correlation_equals_pingouin_and_scipy(trial):
    out = hs.per_visit_correlation(trial)
    avg = _averaged(trial)
    assert out["visit_week"].tolist() == [0, 2, 4, 6]
    for _, row in out.iterrows():
        part = avg[avg["visit_week"] == row["visit_week"]]
        ref = pg.corr(part[X], part[Y]).iloc[0]
        assert row["estimate"] == ref["r"]
        assert row["p_value"] == ref["p_val"]
        assert row["n"] == ref["n"] == len(part)
        r, p = stats.pearsonr(part[X], part[Y])
        np.testing.assert_allclose([row["estimate"], row["p_value"]], [r, p], rtol=1e-9)
        ci = pg.compute_esci(stat=ref["r"], nx=len(part), eftype="r", decimals=12)
        np.testing.assert_allclose([row["conf_low"], row["conf_high"]], ci, atol=1e-11)


def test_per_visit_correlation_spearman(trial):
    out = hs.per_visit_correlation(trial, method="spearman")
    avg = _averaged(trial)
    part = avg[avg["visit_week"] == 4]
    rho, p = stats.spearmanr(part[X], part[Y])
    row = out[out["visit_week"] == 4].iloc[0]
    np.testing.assert_allclose([row["estimate"], row["p_value"]], [rho, p], rtol=1e-9)


def test_per_visit_correlation_side_rows_when_not_averaging(trial):
    out = hs.per_visit_correlation(trial, average_sides=False)
    part = trial[trial["visit_week"] == 2]
    assert out.loc[out["visit_week"] == 2, "n"].iloc[0] == len(part) == 48
    r, _ = stats.pearsonr(part[X], part[Y])
    np.testing.assert_allclose(out.loc[out["visit_week"] == 2, "estimate"].iloc[0], r, rtol=1e-10)


def test_per_visit_correlation_counts_dropped(trial):
    d = trial.copy()
    d.loc[(d["participant_id"] == "S105") & (d["visit_week"] == 6), Y] = np.nan
    with pytest.warns(DataQualityWarning):
        out = hs.per_visit_correlation(d)
    row = out[out["visit_week"] == 6].iloc[0]
    assert (row["n"], row["n_dropped"]) == (23, 1)
    assert out.loc[out["visit_week"] != 6, "n_dropped"].eq(0).all()


def test_per_visit_correlation_small_level_is_missing_not_dropped(trial):
    extra = trial[(trial["participant_id"] == "S101") & (trial["visit_week"] == 6)].assign(visit_week=12)
    out = hs.per_visit_correlation(pd.concat([trial, extra], ignore_index=True))
    row = out[out["visit_week"] == 12].iloc[0]
    assert row["n"] == 1 and np.isnan(row["estimate"]) and np.isnan(row["conf_low"])


def test_per_visit_correlation_bad_method(trial):
    with pytest.raises(InputError, match="pearson"):
        hs.per_visit_correlation(trial, method="kendall")


def test_fisher_z_ci_by_hand():
    r, n = 0.5, 28
    z = np.arctanh(r)
    half = 1.959963984540054 / np.sqrt(n - 3)
    np.testing.assert_allclose(fisher_z_ci(r, n), (np.tanh(z - half), np.tanh(z + half)), rtol=1e-12)
    assert fisher_z_ci(1.0, 10) == (1.0, 1.0)
    assert all(np.isnan(fisher_z_ci(0.3, 3)))
