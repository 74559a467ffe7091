"""change_scores and paired_change against pingouin, scipy and hand computations (SIMULATED data)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pingouin as pg
import pytest
from scipy import stats

import hipkit.stats as hs
from hipkit.errors import DataQualityWarning, InputError


def _pre_post(df, dv, follow_up=6):
    one = df.drop_duplicates(["participant_id", "visit_week"])
    wide = one.pivot(index="participant_id", columns="visit_week", values=dv)
    return wide[0], wide[follow_up]


# -- change_scores -----------------------------------------------------------------------------
def test_change_scores_participant_level(trial):
    cs = hs.change_scores(trial, "pain_vas")
    pre, post = _pre_post(trial, "pain_vas")
    assert len(cs) == 24 and cs["excluded"].isna().all()
    np.testing.assert_allclose(cs.set_index("participant_id")["change"], (post - pre).loc[cs["participant_id"]])
    assert cs["follow_up_time"].eq(6).all()


def test_change_scores_per_side_by_registry(trial):
    cs = hs.change_scores(trial, "hip_abd_strength_n")
    assert list(cs.columns[:2]) == ["participant_id", "side"]
    assert len(cs) == 48
    left = trial[trial["side"] == "left"].pivot(
        index="participant_id", columns="visit_week", values="hip_abd_strength_n"
    )
    got = cs[cs["side"] == "left"].set_index("participant_id")["change"]
    np.testing.assert_allclose(got, (left[6] - left[0]).loc[got.index])


def test_change_scores_keeps_every_unit_and_says_why(trial_incomplete):
    d = trial_incomplete.copy()
    d.loc[(d["participant_id"] == "S104") & (d["visit_week"] == 0), "lefs"] = np.nan
    d.loc[(d["participant_id"] == "S105") & (d["visit_week"] > 0), "lefs"] = np.nan
    cs = hs.change_scores(d, "lefs").set_index("participant_id")
    assert len(cs) == d["participant_id"].nunique()
    assert cs.loc["S104", "excluded"] == "no_baseline"
    assert cs.loc["S105", "excluded"] == "no_follow_up"
    # Last observation: a participant who missed week 6 is followed up at week 4.
    missed = set(d["participant_id"]) - set(d.loc[d["visit_week"] == 6, "participant_id"])
    assert missed and cs.loc[sorted(missed), "follow_up_time"].eq(4).all()
    fixed = hs.change_scores(d, "lefs", follow_up=6).set_index("participant_id")
    assert fixed.loc[sorted(missed), "excluded"].eq("no_follow_up").all()


# -- paired_change -----------------------------------------------------------------------------
def test_paired_change_equals_pingouin_and_scipy(trial):
    hip = trial[trial["group"] == "HIP"]
    out = hs.paired_change(hip, "lefs").set_index("test")
    pre, post = _pre_post(hip, "lefs")
    tt = pg.ttest(post.to_numpy(), pre.to_numpy(), paired=True)
    t_row = out.loc["paired_t"]
    assert t_row["statistic"] == tt["T"].iloc[0]
    assert t_row["p_value"] == tt["p_val"].iloc[0]
    assert t_row["df"] == tt["dof"].iloc[0]
    np.testing.assert_allclose([round(t_row["conf_low"], 2), round(t_row["conf_high"], 2)], tt["CI95"].iloc[0])
    t, p = stats.ttest_rel(post, pre)
    np.testing.assert_allclose([t_row["statistic"], t_row["p_value"]], [t, p], rtol=1e-10)
    change = post - pre
    n = len(change)
    se = change.std(ddof=1) / np.sqrt(n)
    crit = stats.t.ppf(0.975, n - 1)
    np.testing.assert_allclose(t_row["estimate"], change.mean(), rtol=1e-12)
    np.testing.assert_allclose(t_row["std_error"], se, rtol=1e-12)
    np.testing.assert_allclose(
        [t_row["conf_low"], t_row["conf_high"]], [change.mean() - crit * se, change.mean() + crit * se], rtol=1e-10
    )
    g = pg.compute_effsize(post.to_numpy(), pre.to_numpy(), paired=True, eftype="hedges")
    assert t_row["hedges_g"] == g
    # g_av by hand: mean change / sqrt(mean of the two variances), times Hedges' J (pingouin's J).
    d_av = change.mean() / np.sqrt((pre.var(ddof=1) + post.var(ddof=1)) / 2)
    j = 1 - 3 / (4 * (2 * n) - 9)
    np.testing.assert_allclose(t_row["hedges_g"], d_av * j, rtol=1e-10)
    w_row = out.loc["wilcoxon"]
    # R's V: the sum of the ranks of the positive changes, zeros dropped first (2 zeros and ties
    # here, so R uses the normal approximation with continuity and tie correction, as scipy's).
    nonzero = change.to_numpy()[change.to_numpy() != 0]
    assert len(nonzero) == 10
    ranks = stats.rankdata(np.abs(nonzero))
    assert w_row["statistic"] == ranks[nonzero > 0].sum()
    _, pw = stats.wilcoxon(post, pre, zero_method="wilcox", correction=True, method="approx")
    np.testing.assert_allclose(w_row["p_value"], pw, rtol=1e-10)
    assert w_row["estimate"] == np.median(change)
    assert np.isnan(w_row[["std_error", "df", "conf_low", "conf_high", "hedges_g"]].astype(float)).all()
    assert out["n"].eq(12).all() and out["n_dropped"].eq(0).all()


def test_paired_change_counts_dropped(trial_incomplete):
    with pytest.warns(DataQualityWarning, match="3 participant"):
        out = hs.paired_change(trial_incomplete, "lefs", follow_up=6)
    assert out["n"].eq(21).all() and out["n_dropped"].eq(3).all()
    last = hs.paired_change(trial_incomplete, "lefs")  # last observation: nobody is lost
    assert last["n"].eq(24).all() and last["n_dropped"].eq(0).all()


def test_paired_change_conf_level(trial):
    out90 = hs.paired_change(trial, "lefs", conf_level=0.90).iloc[0]
    out95 = hs.paired_change(trial, "lefs").iloc[0]
    assert out95["conf_low"] < out90["conf_low"] < out90["estimate"] < out90["conf_high"] < out95["conf_high"]


def test_paired_change_per_side(trial):
    with pytest.raises(InputError, match="average_sides"):
        hs.paired_change(trial, "hip_abd_strength_n")
    out = hs.paired_change(trial, "hip_abd_strength_n", average_sides=True)
    avg = trial.groupby(["participant_id", "visit_week"])["hip_abd_strength_n"].mean().unstack()
    t, _ = stats.ttest_rel(avg[6], avg[0])
    np.testing.assert_allclose(out["statistic"].iloc[0], t, rtol=1e-10)


def test_paired_change_needs_two(trial):
    one = trial[trial["participant_id"] == "S101"]
    with pytest.raises(InputError, match="need 2"):
        hs.paired_change(one, "lefs")


def test_participant_level_conflict_is_an_error():
    df = pd.DataFrame(
        {
            "participant_id": ["A", "A", "A", "A"],
            "group": "HIP",
            "visit_week": [0, 0, 6, 6],
            "side": ["left", "right", "left", "right"],
            "pain_vas": [5.0, 5.0, 3.0, 2.0],
        }
    )
    with pytest.raises(InputError, match="more than one different value"):
        hs.change_scores(df, "pain_vas")
