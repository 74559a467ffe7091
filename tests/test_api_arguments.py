"""Typed errors from the Python API (issue 16): every user error at a public entry point is a
one-line :class:`HipkitError` (also the matching built-in) naming the argument; never a bare
``TypeError``, ``AttributeError`` or ``KeyError``; infinite outcomes are reported with their count
and rows.

The generator takes every public function with a valid call on a small cohort and replaces one
argument at a time with a value of the wrong kind.
"""

from __future__ import annotations

import inspect
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import hipkit
from hipkit.errors import ArgumentError, HipkitError, InputError
from hipkit.io import read_clean_table

_FULL = read_clean_table("datasets/clinic_multisite/data.csv")  # simulated (datasets/README.md)
_COMPLETE = _FULL.dropna(subset=["pain_vas"]).groupby("participant_id")["visit_week"].nunique().eq(4)
_FULL = _FULL[_FULL["participant_id"].isin(_COMPLETE.index[_COMPLETE])]
_KEEP = _FULL.groupby("group")["participant_id"].unique().map(lambda ids: sorted(ids)[:6]).explode()
DATA = _FULL[_FULL["participant_id"].isin(_KEEP)].reset_index(drop=True)

#: A valid call of each public data function (argument -> value); ``data`` is DATA.
VALID = {
    "split_within_between": dict(column="hip_abd_strength_n"),
    "within_between": dict(),
    "change_model": dict(),
    "lagged_model": dict(),
    "rm_corr": dict(x="hip_abd_strength_n", y="pain_vas"),
    "per_visit_correlation": dict(y="pain_vas"),
    "mixed_anova": dict(outcome="pain_vas"),
    "pairwise_tests": dict(outcome="pain_vas"),
    "change_scores": dict(outcome="pain_vas"),
    "paired_change": dict(outcome="pain_vas"),
    "responders": dict(outcomes="pain_vas"),
    "responder_comparison": dict(outcomes="pain_vas"),
    "strength_vs_mdc": dict(),
    "describe": dict(),
    "table1": dict(),
}
#: The outcome argument of each, for the infinite-value test.
OUTCOME = {
    "within_between": ("outcome", "pain_vas"),
    "change_model": ("outcome", "pain_vas"),
    "lagged_model": ("outcome", "pain_vas"),
    "rm_corr": ("y", "pain_vas"),
    "per_visit_correlation": ("y", "pain_vas"),
    "mixed_anova": ("outcome", "pain_vas"),
    "pairwise_tests": ("outcome", "pain_vas"),
    "change_scores": ("outcome", "pain_vas"),
    "paired_change": ("outcome", "pain_vas"),
    "responders": ("outcomes", "pain_vas"),
    "strength_vs_mdc": ("outcome", "hip_abd_strength_n"),
    "describe": ("outcomes", "pain_vas"),
}

WRONG_KIND = [object(), [1, 2], 3.5, -1, None, np.inf, float("nan"), {"a": 1}, b"bytes", pd.DataFrame(), ("x",)]
WRONG_TEXT = ["nonsense", "", "pain_vas\n", "=1+1"]


def _params(name: str) -> list[str]:
    sig = inspect.signature(getattr(hipkit, name))
    return [p.name for p in sig.parameters.values() if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]


CALLS = [(f, p) for f in VALID for p in _params(f)]


def _call(name: str, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return getattr(hipkit, name)(**{"data": DATA, **VALID[name], **kwargs})


@pytest.mark.parametrize("name", list(VALID))
def test_the_valid_call_of_each_function_runs(name):
    _call(name)


@settings(max_examples=250, deadline=None)
@given(call=st.sampled_from(CALLS), value=st.sampled_from(WRONG_KIND + WRONG_TEXT))
def test_a_wrong_argument_is_a_one_line_hipkit_error_or_is_accepted(call, value):
    name, param = call
    try:
        _call(name, **{param: value})
    except HipkitError as exc:
        message = str(exc)
        assert "\n" not in message and message.strip(), message
        assert isinstance(exc, (TypeError, ValueError, NotImplementedError, OSError))
        if isinstance(exc, ArgumentError):
            assert param in message, f"{name}({param}=...): {message}"
    # Anything else (a bare TypeError, KeyError, AttributeError ...) fails the test.


@pytest.mark.parametrize("name", list(VALID))
def test_an_unknown_keyword_is_an_argument_error_naming_the_function(name):
    with pytest.raises(ArgumentError, match=name):
        _call(name, no_such_argument=1)


@pytest.mark.parametrize("name", list(OUTCOME))
@pytest.mark.parametrize("how_many", [1, 7])
def test_infinite_outcomes_are_reported_with_their_count_and_rows(name, how_many):
    param, column = OUTCOME[name]
    data = DATA.copy()
    rows = data.index[data[column].notna()][:how_many]
    data.loc[rows, column] = np.inf
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(HipkitError) as info:
            getattr(hipkit, name)(**{"data": data, **VALID[name], param: column})
    message = str(info.value)
    assert isinstance(info.value, InputError)
    assert f"{how_many} infinite" in message and repr(rows[0]) in message, message


RENAMED = {  # old spelling -> the family's one spelling (issue 12): accepted for one release, with a FutureWarning
    "mixed_anova": {"dv": "outcome", "within": "time", "between": "group"},
    "pairwise_tests": {"dv": "outcome", "within": "time", "between": "group"},
    "change_scores": {"measure": "outcome"},
    "paired_change": {"dv": "outcome"},
    "strength_vs_mdc": {"measure": "outcome"},
    "test_retest": {"measure": "outcome"},
    "responders": {"measures": "outcomes"},
    "responder_comparison": {"measures": "outcomes"},
    "describe": {"measures": "outcomes"},
    "table1": {"measures": "outcomes"},
}


@pytest.mark.parametrize("name", sorted(RENAMED))
def test_old_argument_names_still_work_with_a_warning_naming_the_new_one(name):
    func = getattr(hipkit, name)
    assert func.renamed_arguments == RENAMED[name]
    params = inspect.signature(func).parameters
    for old, new in RENAMED[name].items():
        assert new in params and old not in params
    old, new = next(iter(RENAMED[name].items()))
    data = pd.DataFrame({"participant_id": ["a", "b"], "session": [1, 1]})
    with pytest.warns(FutureWarning, match=f"'{old}' is now called '{new}'"):
        try:
            func(data, **{old: "no_such_column"})
        except hipkit.errors.HipkitError:
            pass  # the column does not exist: the warning came first
    with pytest.raises(hipkit.errors.ArgumentError, match=f"give {new}= only"):
        func(data, **{old: "x", new: "x"})


def test_stats_functions_share_one_outcome_vocabulary():
    # data, outcome (or outcomes), subject, time, group, conf_level, p_adjust: no dv, measure, within, between.
    for name in RENAMED:
        params = set(inspect.signature(getattr(hipkit, name)).parameters)
        assert not params & {"dv", "measure", "measures", "within", "between"}, (name, params)
