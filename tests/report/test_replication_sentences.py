"""The within/between sentences say what the numbers say, whatever the numbers (opposite-truth tests)."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hipkit.report.replication import within_between_sentences


def _row(est, half, p):
    return pd.Series({"estimate": est, "conf_low": est - half, "conf_high": est + half, "p_value": p})


effect = st.tuples(
    st.floats(-2, 2, allow_nan=False).filter(lambda v: abs(v) > 1e-3),
    st.floats(1e-3, 3, allow_nan=False),
    st.floats(1e-6, 1, allow_nan=False),
)


@settings(max_examples=300, deadline=None)
@given(effect, effect, st.sampled_from(["lefs", "pain_vas", "akps"]))
def test_each_sentence_follows_the_sign_interval_and_p_of_its_estimate(w, b, outcome):
    within, between = _row(*w), _row(*b)
    s_between, s_within, s_both = within_between_sentences(within, between, outcome)
    for row, text in ((between, s_between), (within, s_within)):
        word = "higher" if row.estimate > 0 else "lower"
        assert f" {word} " in text.split(",")[0] + " " or f"was {word}" in text
        clear = row.p_value < 0.05 and (row.conf_low > 0 or row.conf_high < 0)
        assert ("; a clear relation." in text) == clear
    w_clear = within.p_value < 0.05 and (within.conf_low > 0 or within.conf_high < 0)
    b_clear = between.p_value < 0.05 and (between.conf_low > 0 or between.conf_high < 0)
    expected = {
        (False, True): "a difference between people",
        (True, False): "a participant's own strength gain goes with",
        (True, True): "both hold",
        (False, False): "no clear link",
    }[(w_clear, b_clear)]
    assert expected in s_both


@pytest.mark.parametrize("outcome, est, word", [("lefs", 0.4, "better"), ("lefs", -0.4, "worse"),
                                                ("pain_vas", -0.4, "better"), ("pain_vas", 0.4, "worse")])  # fmt: skip
def test_better_or_worse_comes_from_the_registry_direction(outcome, est, word):
    within = _row(est, 0.1, 0.001)
    between = _row(0.05, 1.0, 0.9)
    assert f"goes with {word} " in within_between_sentences(within, between, outcome)[2]
