"""hipkit.stats.signed_rank_test against R's wilcox.test(paired = TRUE).

Reference: tests/stats/reference/wilcoxon/fit.R (SIMULATED data generated in R with set.seed; the
data are stored in expected.json beside R's results), R 4.2.2, exact = NULL, correct = TRUE.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hipkit.errors import InputError
from hipkit.stats import paired_change, signed_rank_test, simulate_trial
from hipkit.stats.wilcoxon import EXACT_MAX_N, signed_rank_exact_cdf

REF = json.loads((Path(__file__).resolve().parent / "reference" / "wilcoxon" / "expected.json").read_text())
CASES = sorted(REF["cases"])
ALTERNATIVES = {"two.sided": "two-sided", "less": "less", "greater": "greater"}


@pytest.mark.parametrize("alt", sorted(ALTERNATIVES))
@pytest.mark.parametrize("case", CASES)
def test_signed_rank_matches_r_statistic_p_value_and_method(case, alt):
    ref = REF["cases"][case]
    res = signed_rank_test(ref["x"], ref["y"], alternative=ALTERNATIVES[alt]).iloc[0]
    assert res["statistic"] == ref[alt]["statistic"]
    # Exact p values are ratios of integers, normal ones one erfc: both agree with R to rounding.
    assert res["p_value"] == pytest.approx(ref[alt]["p_value"], rel=1e-10, abs=1e-300)
    assert res["method"] == ref[alt]["method"]
    assert res["n"] == ref["n_nonzero"]
    assert res["n_zero"] == len(ref["x"]) - ref["n_nonzero"]


def test_reference_covers_exact_normal_ties_zeros_and_large_n():
    methods = {REF["cases"][c]["two.sided"]["method"] for c in CASES}
    assert methods == {"Wilcoxon signed rank exact test", "Wilcoxon signed rank test with continuity correction"}
    sizes = [REF["cases"][c]["n_nonzero"] for c in CASES]
    assert min(sizes) < 10 and max(sizes) >= 1000
    assert EXACT_MAX_N - 1 in sizes and EXACT_MAX_N in sizes
    assert any(len(REF["cases"][c]["x"]) > REF["cases"][c]["n_nonzero"] for c in CASES)


def test_exact_distribution_sums_to_one_and_is_symmetric():
    n = 10
    top = n * (n + 1) // 2
    pmf = np.diff([0.0, *(signed_rank_exact_cdf(k, n) for k in range(top + 1))])
    assert pmf.sum() == pytest.approx(1.0, abs=1e-15)
    np.testing.assert_allclose(pmf, pmf[::-1], atol=1e-15)


def test_differences_alone_give_the_paired_result():
    rng = np.random.default_rng(4)
    y = rng.normal(size=30)
    x = y + rng.normal(0.4, 1, size=30)
    assert signed_rank_test(x - y).equals(signed_rank_test(x, y))


def test_signed_rank_refuses_missing_values_all_zero_and_unknown_alternative():
    with pytest.raises(InputError, match="missing or infinite"):
        signed_rank_test([1.0, np.nan], [0.0, 0.0])
    with pytest.raises(InputError, match="every difference is zero"):
        signed_rank_test([1.0, 2.0], [1.0, 2.0])
    with pytest.raises(InputError, match="alternative"):
        signed_rank_test([1.0, 2.0], alternative="two.sided")
    with pytest.raises(InputError, match="different lengths"):
        signed_rank_test([1.0, 2.0], [1.0])


def test_paired_change_wilcoxon_row_is_signed_rank_test():
    df = simulate_trial(seed=3)
    hip = df[df.group == "HIP"]
    res = paired_change(hip, "pain_vas").set_index("test").loc["wilcoxon"]
    wide = hip.groupby(["participant_id", "visit_week"])["pain_vas"].mean().unstack()
    direct = signed_rank_test(wide[6].to_numpy(), wide[0].to_numpy()).iloc[0]
    assert res["statistic"] == direct["statistic"]
    assert res["p_value"] == direct["p_value"]


def _exact_tail_by_integers(v: int, n: int) -> float:
    """P(V <= v) in exact integer arithmetic (Python ints never round), the oracle for large n."""
    counts = [0] * (n * (n + 1) // 2 + 1)
    counts[0] = 1
    for r in range(1, n + 1):
        for s in range(len(counts) - 1, r - 1, -1):
            counts[s] += counts[s - r]
    from fractions import Fraction

    return float(Fraction(sum(counts[: v + 1]), 2**n))


@pytest.mark.parametrize("n", [50, 55, 60, 80, 100])
def test_forced_exact_p_values_keep_their_precision_above_the_exact_limit(n):
    # Review: exact=True with n >= 50 gave p = 0 or -4.4e-16 (1 - cdf, and float counts above 2**53).
    rng = np.random.default_rng(n)
    top = n * (n + 1) // 2
    for signs in (np.ones(n), np.r_[np.ones(n - 1), -1.0], rng.choice([-1.0, 1.0], n)):
        d = signs * np.arange(1, n + 1)
        v = int(np.arange(1, n + 1)[signs > 0].sum())
        out = signed_rank_test(d, exact=True)
        lower, upper = _exact_tail_by_integers(v, n), _exact_tail_by_integers(top - v, n)
        expected = min(1.0, 2 * min(lower, upper))
        assert out["p_value"].item() > 0
        np.testing.assert_allclose(out["p_value"].item(), expected, rtol=1e-12)
        greater = signed_rank_test(d, exact=True, alternative="greater")["p_value"].item()
        np.testing.assert_allclose(greater, upper, rtol=1e-12)


@pytest.mark.parametrize(
    "bad",
    [
        "12345",
        ["1", "2", "3"],
        [True, False, True],
        np.array([[1.0, 2.0], [3.0, 4.0]]),
        pd.DataFrame({"a": [1.0, 2.0], "b": [3.0, 4.0]}),
        [1.0, "2", 3.0],
        None,
        {"a": 1},
    ],
)
def test_signed_rank_test_refuses_input_that_is_not_one_column_of_numbers(bad):
    # review: text, booleans and 2-D input used to be converted silently (a 2-D table ravelled into one sample)
    with pytest.raises(InputError):
        signed_rank_test(bad)
    if bad is not None:  # y=None is the one-sample test
        with pytest.raises(InputError):
            signed_rank_test([1.0, 2.0, 3.0, 4.0], bad)


def test_signed_rank_test_takes_a_pandas_column_and_nullable_numbers():
    s = pd.Series([1.5, -2.0, 3.0, 4.5, 6.0], dtype="Float64")
    assert signed_rank_test(s)["n"].iloc[0] == 5
