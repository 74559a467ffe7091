"""One identifiability check for the in-memory and the Dask path (hipkit.models.identifiability)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import hipkit
from hipkit.errors import IdentifiabilityError
from hipkit.models.identifiability import group_ranges

dd = pytest.importorskip("dask.dataframe")


def _cohort(n=40, seed=3):
    """A SIMULATED cohort: 4 visits per participant, a covariate x measured at each visit."""
    rng = np.random.default_rng(seed)
    pid = np.repeat([f"P{i:03d}" for i in range(n)], 4)
    week = np.tile([0.0, 2.0, 4.0, 6.0], n)
    baseline = np.repeat(rng.integers(20, 80, n).astype(float), 4)  # one value per participant
    x = rng.normal(0.0, 1.0, 4 * n)
    y = 6 + np.repeat(rng.normal(0, 1.0, n), 4) - 0.3 * week + rng.normal(0, 0.7, 4 * n)
    return pd.DataFrame({"pid": pid, "week": week, "age": baseline, "x": x, "y": y})


def _both_messages(formula, data):
    messages = []
    for source in (data, dd.from_pandas(data, npartitions=3, sort=False)):
        with pytest.raises(IdentifiabilityError) as err:
            hipkit.lmm(formula, source)
        messages.append(str(err.value))
    return messages


@pytest.mark.parametrize("formula", ["y ~ week + age + (1 + age | pid)", "y ~ week + age + (0 + x + age | pid)"])
def test_a_slope_no_participant_varies_in_is_refused_the_same_way_on_both_paths(formula):
    # With or without a random intercept: the Dask path checks the per-participant ranges, as in memory.
    memory, dask = _both_messages(formula, _cohort())
    assert "random slope of 'age' cannot be identified" in memory
    assert dask == memory


def test_the_ranges_combine_across_partitions_of_one_participant():
    # A participant split over partitions, one visit in each: no partition varies, the union does.
    data = _cohort(n=6).sort_values(["week", "pid"])
    ddf = dd.from_pandas(data, npartitions=4, sort=False)
    fit = hipkit.lmm("y ~ week + (1 + week | pid)", ddf, check_singular="ignore", check_convergence="ignore")
    assert fit.design.n == len(data)


def test_group_ranges():
    Z = np.array([[1.0, 0.0], [1.0, 2.0], [1.0, 5.0]])
    lo, hi = group_ranges(Z, np.array([0, 0, 1]), 2)
    np.testing.assert_array_equal(lo, [[1.0, 0.0], [1.0, 5.0]])
    np.testing.assert_array_equal(hi, [[1.0, 2.0], [1.0, 5.0]])
