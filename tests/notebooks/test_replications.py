"""Execute the replication notebooks (01: Ferber 2011, 02: Beers 2008) headless and check their recorded results.

Each notebook runs once per module (about 10-20 s each) with :func:`hipkit.report.execute_notebook`; the values it
passed to :func:`hipkit.report.record` are read back from ``<name>.results.json``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"


@pytest.fixture(scope="module")
def run_notebook(notebook_results):
    """``run_notebook(name)``: the results notebooks/<name>.py recorded (executed once per session)."""
    return notebook_results


@pytest.fixture(scope="module")
def ferber(run_notebook):
    return run_notebook("01_replicate_2011")


@pytest.fixture(scope="module")
def beers(run_notebook):
    return run_notebook("02_replicate_2008")


# -- 01: Ferber, Kendall & Farr 2011 ------------------------------------------------------------------------------


def test_2011_group_by_time_interaction_for_strength_is_significant(ferber):
    assert ferber["strength_interaction_p"] < 0.05
    # complete, balanced two-visit data: the mixed model's Type III interaction test equals the ANOVA's
    assert ferber["strength_interaction_p_lmm"] == pytest.approx(ferber["strength_interaction_p"], rel=1e-4)


def test_2011_strength_increases_in_pfps(ferber):
    assert ferber["pfps_strength_change_n"] > 0
    assert ferber["pfps_strength_change_conf_low"] > 0
    assert ferber["pfps_strength_change_pct"] > 0


def test_2011_pfps_weaker_at_baseline_and_pain_falls(ferber):
    assert ferber["baseline_strength_diff_n"] < 0
    assert ferber["pfps_pain_change_pct"] < 0
    assert 0 <= ferber["n_pain_decreased"] <= ferber["n_pfps"] == 15


def test_2011_within_person_estimate_is_negative(ferber):
    est = ferber["within_estimate"]
    assert est < 0
    assert ferber["within_conf_low"] <= est <= ferber["within_conf_high"]


def test_2011_at_least_four_published_claims_agree(ferber):
    assert ferber["n_agree"] >= 4
    assert ferber["n_agree"] == sum(row["agrees"] == "yes" for row in ferber["comparison"])


# -- 02: Beers et al. 2008 -----------------------------------------------------------------------------------------


def test_2008_injured_side_weaker_at_baseline(beers):
    assert beers["side_diff_week0"] < 0
    assert beers["side_diff_week0_conf_low"] <= beers["side_diff_week0"] <= beers["side_diff_week0_conf_high"]


def test_2008_side_difference_smaller_at_week_6(beers):
    assert abs(beers["side_diff_week6"]) < abs(beers["side_diff_week0"])


@pytest.mark.parametrize("week", [2, 4, 6])
def test_2008_strength_function_correlation_positive(beers, week):
    assert beers[f"corr_week{week}"] > 0
