"""Execute notebooks 03 (learning mixed models) and 04 (power for a replication) and check their key results."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LEARNING = ROOT / "notebooks" / "03_learning_mixed_models.py"
POWER = ROOT / "notebooks" / "04_power_for_a_replication.py"


@pytest.fixture(scope="module")
def learning(notebook_results):
    return notebook_results(LEARNING.stem)


@pytest.fixture(scope="module")
def power(notebook_results):
    return notebook_results(POWER.stem)


# -- 03: learning mixed models --------------------------------------------------------------------


def test_simpson_within_negative_while_pooled_positive(learning):
    assert learning["simpson_rm_corr"] < 0
    assert learning["simpson_rm_corr_p"] < 0.05
    assert learning["simpson_pooled_r"] > 0
    assert learning["simpson_between_r"] > 0


def test_complete_case_biased_more_than_mixed_model_under_mar_dropout(learning):
    cc, mm = learning["dropout_complete_case_bias"], learning["dropout_mixed_bias"]
    assert abs(cc) > abs(mm)
    assert cc < 0  # those still in pain leave, so completers look better than everyone
    assert abs(mm) < 0.3  # cm; the mixed model's SE of the week-6 mean is about 0.14 cm here
    assert learning["dropout_n_completers"] < learning["dropout_n_participants"]
    # Averaged over 10 dropout draws (exercise 4): unbiased under MAR, not under MNAR.
    assert abs(learning["mar_mixed_bias_mean"]) < abs(learning["mnar_mixed_bias_mean"])


def test_mixed_model_slopes_are_shrunk(learning):
    assert learning["shrinkage_sd_slope_mixed"] < learning["shrinkage_sd_slope_ols"]
    ratio = learning["shrinkage_sd_slope_mixed"] / learning["shrinkage_sd_slope_ols"]
    assert learning["shrinkage_ratio_noisy"] < ratio  # noisier data, stronger pull (exercise 2)


# -- 04: power for a replication ------------------------------------------------------------------


@pytest.mark.slow
def test_power_increases_with_n_within_monte_carlo_error(power):
    reps = power["reps"]
    # Two independent estimates each with SE <= 0.5 / sqrt(reps): allow a drop of 3 SE of their difference.
    tolerance = 3 * math.sqrt(2) * 0.5 / math.sqrt(reps)
    lines: dict = {}
    for row in power["curve"]:
        lines.setdefault((row["design"], row["effect"], row["n_visits"]), []).append(row)
    assert len(lines) == 8
    for key, rows in lines.items():
        rows.sort(key=lambda r: r["n_per_group"])
        p = [r["power"] for r in rows]
        assert all(0 <= r["conf_low"] <= r["power"] <= r["conf_high"] <= 1 for r in rows), key
        assert all(b >= a - tolerance for a, b in zip(p, p[1:])), (key, p)
        if key[1] == "interaction":
            assert p[-1] > p[0], (key, p)  # a real effect: clearly more power with more participants


@pytest.mark.slow
def test_n_for_80_percent_power_is_finite_for_the_interaction(power):
    for design in ("ferber2011", "beers2008"):
        n = power[f"n80_{design}_interaction"]
        assert n is not None and math.isfinite(n), design
        assert 10 <= n <= 40


@pytest.mark.slow
def test_monte_carlo_error_is_stated_and_estimates_recover_the_interaction(power):
    assert power["mc_se_max"] == pytest.approx(0.5 / math.sqrt(power["reps"]))
    for design in ("ferber2011", "beers2008"):
        assert power[f"recovered_ratio_{design}_interaction"] == pytest.approx(1.0, abs=0.15)
        # Regression dilution: dynamometer noise shrinks the within-person estimate toward zero.
        assert 0 <= power[f"recovered_ratio_{design}_within"] < 0.5
