"""describe and table1 against plain pandas computations (SIMULATED data)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import hipkit.stats as hs
from hipkit.errors import InputError


def test_describe_per_side_measure_matches_pandas(trial):
    out = hs.describe(trial, outcomes="hip_abd_strength_n")
    g = trial.groupby(["group", "visit_week"])["hip_abd_strength_n"]
    exp = pd.DataFrame(
        {
            "n": g.count(),
            "mean": g.mean(),
            "sd": g.std(),
            "median": g.median(),
            "q1": g.quantile(0.25),
            "q3": g.quantile(0.75),
        }
    ).reset_index()
    assert len(out) == len(exp) == 8
    for col in ["n", "mean", "sd", "median", "q1", "q3"]:
        np.testing.assert_allclose(out[col].to_numpy(dtype=float), exp[col].to_numpy(dtype=float), rtol=1e-12)
    assert out["n"].eq(24).all()  # 12 participants x 2 sides
    assert out["n_missing"].eq(0).all()


def test_describe_participant_level_measure_counted_once(trial):
    out = hs.describe(trial, outcomes="pain_vas")
    once = trial.drop_duplicates(["participant_id", "visit_week"])
    g = once.groupby(["group", "visit_week"])["pain_vas"]
    assert out["n"].eq(12).all()
    np.testing.assert_allclose(out["mean"], g.mean().to_numpy(), rtol=1e-12)
    np.testing.assert_allclose(out["sd"], g.std().to_numpy(), rtol=1e-12)


def test_describe_counts_missing_and_keeps_missing_group(trial):
    d = trial.copy()
    d.loc[(d["participant_id"] == "S101") & (d["visit_week"] == 2), "lefs"] = np.nan
    d.loc[d["participant_id"] == "S202", "group"] = np.nan
    out = hs.describe(d, outcomes="lefs")
    hip2 = out[(out["group"] == "HIP") & (out["visit_week"] == 2)].iloc[0]
    assert (hip2["n"], hip2["n_missing"]) == (11, 1)
    missing_group = out[out["group"].isna()]
    assert len(missing_group) == 4 and missing_group["n"].eq(1).all()
    assert out["n"].sum() + out["n_missing"].sum() == d["participant_id"].nunique() * 4


def test_describe_default_measures_and_by(trial):
    out = hs.describe(trial)
    assert out["measure"].unique().tolist() == ["hip_abd_strength_n", "pain_vas", "akps", "lefs"]
    overall = hs.describe(trial, outcomes="lefs", by=())
    assert list(overall.columns) == hs.DESCRIBE_COLUMNS
    assert overall["n"].iloc[0] == 24 * 4  # participant x visit, not side rows
    by_side = hs.describe(trial, outcomes="hip_abd_strength_n", by=["group", "visit_week", "side"])
    assert len(by_side) == 16 and by_side["n"].eq(12).all()


def test_describe_errors(trial):
    with pytest.raises(InputError, match="not in the data"):
        hs.describe(trial, outcomes="nope")
    with pytest.raises(InputError, match="numeric"):
        hs.describe(trial, outcomes="side")


def test_table1_formats_mean_sd(trial):
    t = hs.table1(trial, outcomes=["pain_vas", "lefs"], digits=2, show_n=True)
    assert list(t.columns) == ["measure", "visit_week", "HIP", "KNEE"]
    assert t["measure"].tolist() == ["pain_vas"] * 4 + ["lefs"] * 4  # the order asked for
    long = hs.describe(trial, outcomes=["pain_vas", "lefs"])
    row = long[(long["measure"] == "lefs") & (long["group"] == "KNEE") & (long["visit_week"] == 4)].iloc[0]
    cell = t[(t["measure"] == "lefs") & (t["visit_week"] == 4)]["KNEE"].iloc[0]
    assert cell == f"{row['mean']:.2f} ({row['sd']:.2f}) [12]"


def test_table1_missing_group_column_and_empty_cells(trial):
    d = trial.copy()
    d.loc[d["participant_id"] == "S202", "group"] = np.nan
    extra = d[(d["participant_id"] == "S201") & (d["visit_week"] == 6)].assign(visit_week=12)
    t = hs.table1(pd.concat([d, extra], ignore_index=True), outcomes="pain_vas")
    assert list(t.columns) == ["measure", "visit_week", "HIP", "KNEE", "(missing)"]
    wk12 = t[t["visit_week"] == 12].iloc[0]
    assert wk12["HIP"] == "-" and wk12["KNEE"].endswith("(-)")  # one value: no SD
