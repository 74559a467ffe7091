"""responders, responder_comparison and strength_vs_mdc.

References: statsmodels proportion_confint (Wilson), Newcombe (1998) Stat Med 17:873 worked examples
(method 10), Altman (1998) BMJ 317:1309 for the NNT interval. Trial data are SIMULATED (seeded).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.proportion import proportion_confint

import hipkit.stats as hs
from hipkit import load_registry
from hipkit.errors import DataQualityWarning, InputError
from hipkit.stats._proportions import newcombe, nnt

# Newcombe (1998), method 10 (hybrid score, no continuity correction): (x_a, n_a, x_b, n_b) -> RD, low, high.
NEWCOMBE_METHOD_10 = [
    ((56, 70, 48, 80), (0.2000, 0.0524, 0.3339)),
    ((9, 10, 3, 10), (0.6000, 0.1705, 0.8090)),
    ((6, 7, 2, 7), (0.5714, 0.0582, 0.8062)),
    ((5, 56, 0, 29), (0.0893, -0.0381, 0.1926)),
    ((0, 10, 0, 20), (0.0000, -0.1611, 0.2775)),
    ((0, 10, 0, 10), (0.0000, -0.2775, 0.2775)),
    ((10, 10, 0, 20), (1.0000, 0.6791, 1.0000)),
    ((10, 10, 0, 10), (1.0000, 0.6075, 1.0000)),
]


def _binary_trial(x_a, n_a, x_b, n_b, change_yes=-3.0, change_no=-0.5):
    """Participants with a pain change at or beyond the MCID (responders) or not, in groups A and B."""
    rows = []
    for group, x, n in (("A", x_a, n_a), ("B", x_b, n_b)):
        for i in range(n):
            change = change_yes if i < x else change_no
            for week, pain in ((0, 6.0), (6, 6.0 + change)):
                rows.append({"participant_id": f"{group}{i:03d}", "group": group, "visit_week": week, "pain_vas": pain})
    return pd.DataFrame(rows)


# -- responders --------------------------------------------------------------------------------
def test_responders_by_hand_and_wilson(trial):
    out = hs.responders(trial)
    assert out["measure"].unique().tolist() == ["pain_vas", "akps", "lefs"]  # registry measures with an MCID
    reg = load_registry()
    for _, row in out.iterrows():
        m = reg[row["measure"]]
        cs = hs.change_scores(trial, row["measure"])
        cs = cs[cs["group"] == row["group"]]
        hits = int((m.improvement_sign * cs["change"] >= m.mcid - 1e-9).sum())
        assert (row["n"], row["responders"]) == (len(cs), hits)
        assert row["mcid"] == m.mcid and row["mcid_source"] == m.mcid_source
        low, high = proportion_confint(hits, len(cs), alpha=0.05, method="wilson")
        assert (row["conf_low"], row["conf_high"]) == (low, high)
        assert row["proportion"] == hits / len(cs)


def test_responders_direction_and_threshold():
    # Pain is lower-better: a fall of exactly 2 cm (2.3 -> 0.3, 1.9999999999999998 in binary) responds.
    df = pd.DataFrame(
        {
            "participant_id": ["P1", "P1", "P2", "P2", "P3", "P3"],
            "group": "G",
            "visit_week": [0, 6] * 3,
            "pain_vas": [2.3, 0.3, 5.0, 7.5, 6.0, 4.1],
        }
    )
    assert 2.3 - 0.3 < 2.0  # the floating-point trap the tolerance is for
    out = hs.responders(df, outcomes="pain_vas").iloc[0]
    assert (out["n"], out["responders"]) == (3, 1)


def test_responders_user_mcid_and_conf_level(trial):
    out = hs.responders(trial, outcomes="akps", mcids={"akps": 8}, conf_level=0.90)
    assert out["mcid"].eq(8).all() and out["mcid_source"].eq("user").all()
    row = out.iloc[0]
    assert (row["conf_low"], row["conf_high"]) == proportion_confint(
        row["responders"], row["n"], alpha=0.10, method="wilson"
    )


def test_responders_counts_dropped_and_keeps_missing_group(trial_incomplete):
    d = trial_incomplete.copy()
    d.loc[d["participant_id"] == "S201", "group"] = np.nan
    with pytest.warns(DataQualityWarning):
        out = hs.responders(d, outcomes="lefs", follow_up=6)
    assert out["group"].isna().sum() == 1  # a participant without a group is a visible row
    assert out["n"].sum() + out["n_dropped"].sum() == d["participant_id"].nunique()
    assert out["n_dropped"].sum() == 3


def test_responders_no_mcid_is_an_error(trial):
    with pytest.raises(InputError, match="no MCID"):
        hs.responders(trial, outcomes="hip_abd_strength_n")


# -- responder_comparison ----------------------------------------------------------------------
@pytest.mark.parametrize(("counts", "expected"), NEWCOMBE_METHOD_10)
def test_newcombe_published_examples(counts, expected):
    rd, low, high = newcombe(*counts, 0.95)
    np.testing.assert_allclose([rd, low, high], expected, atol=5e-5)


def test_responder_comparison_newcombe_example_end_to_end():
    data = _binary_trial(56, 70, 48, 80)
    out = hs.responder_comparison(data, outcomes="pain_vas").iloc[0]
    assert (out["group_a"], out["group_b"]) == ("A", "B")
    assert (out["n_a"], out["responders_a"], out["n_b"], out["responders_b"]) == (70, 56, 80, 48)
    np.testing.assert_allclose(
        [out["risk_difference"], out["conf_low"], out["conf_high"]], [0.2000, 0.0524, 0.3339], atol=5e-5
    )
    # NNT = 1 / 0.2 = 5; CI excludes 0, so it is 1/0.3339 to 1/0.0524 (Altman 1998).
    assert out["nnt_type"] == "NNT (benefit)"
    np.testing.assert_allclose(out["nnt"], 5.0)
    np.testing.assert_allclose(
        [out["nnt_conf_low"], out["nnt_conf_high"]], [1 / out["conf_high"], 1 / out["conf_low"]], rtol=1e-12
    )
    assert out["nnt_conf_text"] == "NNTB 3.0 to 19.1"


def test_responder_comparison_reversed_groups_is_harm():
    data = _binary_trial(56, 70, 48, 80)
    out = hs.responder_comparison(data, outcomes="pain_vas", group_a="B", group_b="A").iloc[0]
    np.testing.assert_allclose(
        [out["risk_difference"], out["conf_low"], out["conf_high"]], [-0.2000, -0.3339, -0.0524], atol=5e-5
    )
    assert out["nnt_type"] == "NNT (harm)"
    assert out["nnt_conf_text"] == "NNTH 3.0 to 19.1"


def test_nnt_when_the_rd_interval_crosses_zero():
    # RD 0.1 (-0.05 to 0.25): NNTB 10; CI "NNTB 4 to infinity to NNTH 20" (Altman 1998).
    value, kind, low, high, text = nnt(0.1, -0.05, 0.25)
    assert (value, kind) == (pytest.approx(10.0), "NNT (benefit)")
    assert low == pytest.approx(4.0) and high == np.inf
    assert text == "NNTB 4.0 to \u221e to NNTH 20.0"
    value, kind, low, high, text = nnt(-0.1, -0.25, 0.05)
    assert (value, kind, low, high) == (pytest.approx(10.0), "NNT (harm)", pytest.approx(4.0), np.inf)
    assert text == "NNTB 20.0 to \u221e to NNTH 4.0"
    assert nnt(0.0, -0.1, 0.1)[0] == np.inf


def test_responder_comparison_matches_responders_table(trial):
    table = hs.responders(trial).set_index(["measure", "group"])
    out = hs.responder_comparison(trial)
    for _, row in out.iterrows():
        a, b = table.loc[(row["measure"], "HIP")], table.loc[(row["measure"], "KNEE")]
        assert row["risk_difference"] == pytest.approx(a["proportion"] - b["proportion"])
        assert row["conf_low"] <= row["risk_difference"] <= row["conf_high"]


def test_responder_comparison_group_errors(trial):
    three = trial.copy()
    three.loc[three["participant_id"] == "S101", "group"] = "THIRD"
    with pytest.raises(InputError, match="name group_a and group_b"):
        hs.responder_comparison(three)
    with pytest.raises(InputError, match="not in column"):
        hs.responder_comparison(trial, group_a="HIP", group_b="NOPE")


# -- strength_vs_mdc ---------------------------------------------------------------------------
def test_strength_vs_mdc_per_side_by_hand(trial):
    out = hs.strength_vs_mdc(trial).set_index("group")
    mdc = load_registry()["hip_abd_strength_n"].mdc
    wide = trial.pivot_table(
        index=["participant_id", "side", "group"], columns="visit_week", values="hip_abd_strength_n"
    )
    gain = (wide[6] - wide[0]).reset_index(name="gain")
    for group, part in gain.groupby("group"):
        hits = int((part["gain"] > mdc).sum())
        row = out.loc[group]
        assert (row["n"], row["n_exceeding"], row["unit"]) == (len(part), hits, "participant x side")
        assert (row["conf_low"], row["conf_high"]) == proportion_confint(hits, len(part), method="wilson")
    assert out["mdc"].eq(48.9).all()


def test_strength_vs_mdc_strictly_exceeds_and_user_mdc():
    df = pd.DataFrame(
        {
            "participant_id": ["P1"] * 2 + ["P2"] * 2,
            "group": "G",
            "visit_week": [0, 6] * 2,
            "hip_abd_strength_n": [100.0, 150.0, 100.0, 148.9],
        }
    )
    assert 148.9 - 100.0 > 48.9  # floating point: an exact MDC gain must not count as exceeding it
    out = hs.strength_vs_mdc(df).iloc[0]  # no side column: one unit per participant
    assert (out["unit"], out["n"], out["n_exceeding"]) == ("participant", 2, 1)
    user = hs.strength_vs_mdc(df, mdc=40).iloc[0]
    assert (user["n_exceeding"], user["mdc_source"]) == (2, "user")


def test_strength_vs_mdc_per_participant_and_dropped(trial_incomplete):
    with pytest.warns(DataQualityWarning):
        out = hs.strength_vs_mdc(trial_incomplete, by_side=False, average_sides=True, follow_up=6)
    assert out["unit"].eq("participant").all()
    assert out["n_dropped"].sum() == 3
    assert out["n"].sum() == 21


def test_strength_vs_mdc_requires_an_mdc(trial):
    with pytest.raises(InputError, match="no MDC"):
        hs.strength_vs_mdc(trial, outcome="pain_vas")
