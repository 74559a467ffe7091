"""normalise_ids: the review's edge cases, each as a generated class."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from hipkit.io.ids import normalise_ids

numbers = st.one_of(st.integers(-(10**20), 10**20), st.floats(allow_nan=False, allow_infinity=False, width=64))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.booleans(), numbers), min_size=1, max_size=12))
def test_a_boolean_and_a_number_never_get_one_id(values):
    out = normalise_ids(pd.Series(values, dtype="object")).tolist()
    for v, o in zip(values, out):
        if isinstance(v, bool):
            assert o == str(v).upper()
        else:
            assert o not in ("TRUE", "FALSE")


@settings(max_examples=200, deadline=None)
@given(st.floats(min_value=-1e300, max_value=1e300, allow_nan=False).map(lambda v: float(np.trunc(v))))
def test_an_integral_float_gives_integer_text_at_any_magnitude(v):
    (out,) = normalise_ids(pd.Series([v], dtype="object")).tolist()
    assert out == str(int(v)) and "." not in out and "E" not in out


@given(st.text(alphabet=st.sampled_from(list("aßẞsSx ")), max_size=8))
def test_sharp_s_in_either_case_folds_as_ss_and_folding_is_idempotent(text):
    a, b = normalise_ids(pd.Series([text, text.replace("ß", "ẞ")])).tolist()
    assert a == b and "ß" not in a and "ẞ" not in a
    assert normalise_ids(pd.Series([a])).tolist() == [a]
