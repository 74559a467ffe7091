"""Fixtures for the hipkit.stats tests. Every data set here is SIMULATED (seeded numpy generators)."""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

from hipkit.stats import simulate_test_retest, simulate_trial


@pytest.fixture
def trial() -> pd.DataFrame:
    """SIMULATED two-group trial, 12 per group, visits 0/2/4/6, left and right rows."""
    return simulate_trial(n_per_group=12, seed=3)


@pytest.fixture
def trial_incomplete() -> pd.DataFrame:
    """SIMULATED trial where 3 participants miss their last visit and one pain value is missing."""
    df = simulate_trial(n_per_group=12, seed=5, missing_visits=3)
    df.loc[(df["participant_id"] == "S103") & (df["visit_week"] == 2), "pain_vas"] = float("nan")
    return df


@pytest.fixture
def retest() -> pd.DataFrame:
    """SIMULATED test-retest data, 20 participants x 2 sessions."""
    return simulate_test_retest(n_subjects=20, seed=7)


@pytest.fixture(autouse=True)
def _quiet_pingouin_deprecations():
    # The tests call pingouin directly as the reference; its own pandas deprecations are noise here.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DeprecationWarning, module="pingouin")
        warnings.filterwarnings("ignore", category=FutureWarning, module="pingouin")
        yield
