"""test_retest against pingouin, Shrout & Fleiss (1979) and hand-computed SEM / MDC95.

Simulated data are labelled SIMULATED; the Shrout & Fleiss table is the published example.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pingouin as pg
import pytest

import hipkit.stats as hs
from hipkit.errors import DataQualityWarning, InputError

# Shrout PE, Fleiss JL (1979), Psychol Bull 86:420 (doi:10.1037/0033-2909.86.2.420): 6 targets x 4 judges.
SHROUT_FLEISS = [[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]]
# Their published ICCs, to 2 decimals.
SHROUT_FLEISS_ICC = {
    "ICC(1,1)": 0.17,
    "ICC(A,1)": 0.29,
    "ICC(C,1)": 0.71,
    "ICC(1,k)": 0.44,
    "ICC(A,k)": 0.62,
    "ICC(C,k)": 0.91,
}


@pytest.fixture
def shrout_fleiss() -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"participant_id": f"T{i + 1}", "session": j + 1, "score": float(v)}
            for i, row in enumerate(SHROUT_FLEISS)
            for j, v in enumerate(row)
        ]
    )


def test_shrout_fleiss_published_values(shrout_fleiss):
    out = hs.test_retest(shrout_fleiss, "score", icc_type="all").set_index("icc_type")
    for name, value in SHROUT_FLEISS_ICC.items():
        assert round(out.loc[name, "estimate"], 2) == value, name


def test_equals_pingouin(retest):
    out = hs.test_retest(retest, "hip_abd_strength_n", icc_type="all")
    ref = pg.intraclass_corr(retest, targets="participant_id", raters="session", ratings="hip_abd_strength_n")
    assert out["icc_type"].tolist() == ref["Type"].tolist()
    np.testing.assert_array_equal(out["estimate"], ref["ICC"])
    np.testing.assert_array_equal(out["statistic"], ref["F"])
    np.testing.assert_array_equal(out["num_df"], ref["df1"])
    np.testing.assert_array_equal(out["den_df"], ref["df2"])
    np.testing.assert_array_equal(out["p_value"], ref["pval"])
    # pingouin's CI95 is rounded to 2 decimals by default; hipkit's is not, and rounds to it.
    ci = np.vstack(ref["CI95"].to_numpy())
    np.testing.assert_array_equal(out[["conf_low", "conf_high"]].round(2).to_numpy(), ci)


def test_icc_a1_by_hand_mcgraw_wong(retest):
    # ICC(A,1) from the two-way ANOVA mean squares (McGraw & Wong 1996, case 2A), by hand in numpy.
    y = retest.pivot(index="participant_id", columns="session", values="hip_abd_strength_n").to_numpy()
    n, k = y.shape
    grand = y.mean()
    ms_rows = k * ((y.mean(axis=1) - grand) ** 2).sum() / (n - 1)
    ms_cols = n * ((y.mean(axis=0) - grand) ** 2).sum() / (k - 1)
    resid = y - y.mean(axis=1, keepdims=True) - y.mean(axis=0, keepdims=True) + grand
    ms_err = (resid**2).sum() / ((n - 1) * (k - 1))
    icc = (ms_rows - ms_err) / (ms_rows + (k - 1) * ms_err + k * (ms_cols - ms_err) / n)
    out = hs.test_retest(retest, "hip_abd_strength_n").iloc[0]
    assert out["icc_type"] == "ICC(A,1)"
    np.testing.assert_allclose(out["estimate"], icc, rtol=1e-10)


def test_sem_and_mdc95_by_hand(retest):
    out = hs.test_retest(retest, "hip_abd_strength_n").iloc[0]
    scores = retest["hip_abd_strength_n"].to_numpy()
    sd = np.sqrt(((scores - scores.mean()) ** 2).sum() / (len(scores) - 1))
    sem = sd * np.sqrt(1 - out["estimate"])
    np.testing.assert_allclose(out["sd_pooled"], sd, rtol=1e-12)
    np.testing.assert_allclose(out["sem"], sem, rtol=1e-12)
    np.testing.assert_allclose(out["mdc95"], 1.96 * np.sqrt(2) * sem, rtol=1e-12)
    assert (out["n_subjects"], out["n_sessions"], out["n_dropped_subjects"]) == (20, 2, 0)


def test_mdc_formula_reproduces_registry_strength_mdc():
    # The registry's strength MDC95 (48.9 N) is 1.96 * sqrt(2) * SEM with Piva 2006's SEM of 1.8 kg.
    from hipkit import load_registry

    sem_n = 1.8 * 9.80665
    assert round(1.96 * np.sqrt(2) * sem_n, 1) == load_registry()["hip_abd_strength_n"].mdc


def test_icc_type_aliases(retest):
    a = hs.test_retest(retest, "hip_abd_strength_n", icc_type="ICC2,1")
    b = hs.test_retest(retest, "hip_abd_strength_n", icc_type="ICC(A,1)")
    pd.testing.assert_frame_equal(a, b)
    c = hs.test_retest(retest, "hip_abd_strength_n", icc_type="ICC3")
    assert c["icc_type"].iloc[0] == "ICC(C,1)"
    with pytest.raises(InputError, match="unknown icc_type"):
        hs.test_retest(retest, "hip_abd_strength_n", icc_type="ICC9")


def test_counts_dropped_subjects(retest):
    d = retest.copy()
    d.loc[(d["participant_id"] == "T03") & (d["session"] == 2), "hip_abd_strength_n"] = np.nan
    d = d[~((d["participant_id"] == "T04") & (d["session"] == 1))]
    with pytest.warns(DataQualityWarning, match="2 participant"):
        out = hs.test_retest(d, "hip_abd_strength_n").iloc[0]
    assert (out["n_subjects"], out["n_dropped_subjects"]) == (18, 2)
    ref = pg.intraclass_corr(
        d, targets="participant_id", raters="session", ratings="hip_abd_strength_n", nan_policy="omit"
    ).set_index("Type")
    assert out["estimate"] == ref.loc["ICC(A,1)", "ICC"]


def test_rejects_two_rows_per_session(retest):
    d = pd.concat([retest.assign(side="left"), retest.assign(side="right")])
    with pytest.raises(InputError, match="more than one row"):
        hs.test_retest(d, "hip_abd_strength_n")
