"""Contract of every hipkit.stats function: exact documented columns, tidy cells, no hidden state.

All data are SIMULATED (seeded).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pingouin
import pytest

import hipkit.stats as hs

# The documented column orders, written out literally so that a change is a visible test change.
EXPECTED = {
    "rm_corr": [
        "term",
        "estimate",
        "df",
        "p_value",
        "conf_low",
        "conf_high",
        "power",
        "n_obs",
        "n_subjects",
        "n_dropped",
    ],
    "per_visit_correlation": ["visit_week", "n", "estimate", "conf_low", "conf_high", "p_value", "n_dropped"],
    "mixed_anova": [
        "term",
        "statistic",
        "num_df",
        "den_df",
        "p_value",
        "p_gg",
        "eta_squared_partial",
        "epsilon",
        "n_subjects",
        "n_dropped_subjects",
    ],
    "pairwise_tests": [
        "contrast",
        "by",
        "level_a",
        "level_b",
        "paired",
        "estimate",
        "statistic",
        "df",
        "p_value",
        "p_adjusted",
        "hedges_g",
        "g_conf_low",
        "g_conf_high",
        "n_a",
        "n_b",
        "n_dropped_subjects",
    ],
    "paired_change": [
        "test",
        "estimate",
        "std_error",
        "df",
        "statistic",
        "p_value",
        "conf_low",
        "conf_high",
        "hedges_g",
        "n",
        "n_dropped",
    ],
    "change_scores": [
        "participant_id",
        "group",
        "baseline_value",
        "follow_up_time",
        "follow_up_value",
        "change",
        "excluded",
    ],
    "test_retest": [
        "icc_type",
        "estimate",
        "conf_low",
        "conf_high",
        "statistic",
        "num_df",
        "den_df",
        "p_value",
        "sd_pooled",
        "sem",
        "mdc95",
        "n_subjects",
        "n_sessions",
        "n_dropped_subjects",
    ],
    "responders": [
        "measure",
        "group",
        "n",
        "responders",
        "proportion",
        "conf_low",
        "conf_high",
        "mcid",
        "mcid_source",
        "n_dropped",
    ],
    "responder_comparison": [
        "measure",
        "group_a",
        "group_b",
        "n_a",
        "responders_a",
        "n_b",
        "responders_b",
        "risk_difference",
        "conf_low",
        "conf_high",
        "nnt",
        "nnt_type",
        "nnt_conf_low",
        "nnt_conf_high",
        "nnt_conf_text",
    ],
    "strength_vs_mdc": [
        "measure",
        "group",
        "unit",
        "n",
        "n_exceeding",
        "proportion",
        "conf_low",
        "conf_high",
        "mdc",
        "mdc_source",
        "n_dropped",
    ],
    "describe": ["group", "visit_week", "measure", "n", "mean", "sd", "median", "q1", "q3", "n_missing"],
}


def _run(name, trial, retest):
    calls = {
        "rm_corr": lambda: hs.rm_corr(trial, "hip_abd_strength_n", "lefs"),
        "per_visit_correlation": lambda: hs.per_visit_correlation(trial),
        "mixed_anova": lambda: hs.mixed_anova(trial, "pain_vas"),
        "pairwise_tests": lambda: hs.pairwise_tests(trial, "pain_vas", group="group"),
        "paired_change": lambda: hs.paired_change(trial, "lefs"),
        "change_scores": lambda: hs.change_scores(trial, "lefs"),
        "test_retest": lambda: hs.test_retest(retest, "hip_abd_strength_n"),
        "responders": lambda: hs.responders(trial),
        "responder_comparison": lambda: hs.responder_comparison(trial),
        "strength_vs_mdc": lambda: hs.strength_vs_mdc(trial),
        "describe": lambda: hs.describe(trial),
    }
    return calls[name]()


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_exact_documented_columns(name, trial, retest):
    out = _run(name, trial, retest)
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns) == EXPECTED[name]
    assert len(out) > 0


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_tidy_cells_and_no_hidden_attributes(name, trial, retest):
    out = _run(name, trial, retest)
    assert out.attrs == {}
    assert isinstance(out.index, pd.RangeIndex)
    for col in out.columns:
        assert not any(isinstance(v, (list, tuple, np.ndarray)) for v in out[col]), f"list in a cell of {col}"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_documented_column_constants_match(name, trial, retest):
    constant = {
        "rm_corr": hs.RM_CORR_COLUMNS,
        "per_visit_correlation": ["visit_week", *hs.PER_VISIT_CORRELATION_COLUMNS],
        "mixed_anova": hs.MIXED_ANOVA_COLUMNS,
        "pairwise_tests": hs.PAIRWISE_TESTS_COLUMNS,
        "paired_change": hs.PAIRED_CHANGE_COLUMNS,
        "change_scores": ["participant_id", *hs.CHANGE_SCORE_COLUMNS],
        "test_retest": hs.TEST_RETEST_COLUMNS,
        "responders": hs.RESPONDERS_COLUMNS,
        "responder_comparison": hs.RESPONDER_COMPARISON_COLUMNS,
        "strength_vs_mdc": hs.STRENGTH_VS_MDC_COLUMNS,
        "describe": ["group", "visit_week", *hs.DESCRIBE_COLUMNS],
    }[name]
    assert constant == EXPECTED[name]


def test_columns_do_not_depend_on_the_data(trial):
    # Two within levels (no sphericity correction in pingouin) give the same columns as four.
    two = trial[trial["visit_week"].isin([0, 6])]
    assert list(hs.mixed_anova(two, "pain_vas").columns) == EXPECTED["mixed_anova"]
    within_only = hs.pairwise_tests(trial, "pain_vas")
    assert list(within_only.columns) == EXPECTED["pairwise_tests"]


def test_glossary_names_only(trial, retest):
    # pingouin's spellings never leak out.
    banned = {"pval", "p_val", "p_unc", "p_corr", "CI95", "dof", "DF1", "DF2", "np2", "eps", "T", "r", "hedges"}
    for name in EXPECTED:
        assert banned.isdisjoint(_run(name, trial, retest).columns), name


def test_pingouin_options_restored(trial):
    before = dict(pingouin.options)
    hs.rm_corr(trial, "hip_abd_strength_n", "lefs")
    hs.test_retest(hs.simulate_test_retest(), "hip_abd_strength_n")
    assert pingouin.options == before


def test_returned_numbers_are_not_rounded(trial):
    # pingouin rounds CI95 to 2 decimals by default; hipkit must not.
    out = hs.rm_corr(trial, "hip_abd_strength_n", "lefs")
    assert out["conf_low"].iloc[0] != round(out["conf_low"].iloc[0], 2)
    icc = hs.test_retest(hs.simulate_test_retest(), "hip_abd_strength_n")
    assert icc["conf_low"].iloc[0] != round(icc["conf_low"].iloc[0], 2)


def test_public_api():
    expected = {
        "rm_corr",
        "per_visit_correlation",
        "mixed_anova",
        "pairwise_tests",
        "change_scores",
        "paired_change",
        "test_retest",
        "responders",
        "responder_comparison",
        "strength_vs_mdc",
        "describe",
        "table1",
        "simulate_trial",
        "simulate_test_retest",
    }
    assert expected <= set(hs.__all__)
    for name in hs.__all__:
        assert hasattr(hs, name)
    # Function names must not be shadowed by submodules of the same name.
    for name in expected:
        assert callable(getattr(hs, name)), name


def test_test_retest_is_not_collected_by_pytest():
    assert hs.test_retest.__test__ is False
