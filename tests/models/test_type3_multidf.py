"""lmerTest's Type I and Type III F tests, hypothesis matrices row for row (tests/reference/type3_multidf).

The Satterthwaite (and Kenward-Roger) den df of a multi-df F test depends on the basis of its
hypothesis matrix, not only on its row space: two matrices spanning the same hypotheses give the
same F and different den df. The test therefore compares the matrices themselves with lmerTest's
(``lmerTest:::get_contrasts_type1`` / ``get_contrasts_type3``), then the anova tables, for treatment
and sum-to-zero coding, one-term and numeric-only models, REML and ML. R wrote
``type3_multidf.json`` (``fit.R``); R is not needed here.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import hipkit
from hipkit.models.contrasts import type1_contrasts, type3_contrasts

from .test_reference import close, close_p

CASE = Path(__file__).resolve().parents[1] / "reference" / "type3_multidf"
REF = json.loads((CASE / "type3_multidf.json").read_text())
DATA = pd.read_csv(CASE / "data.csv").assign(group_knee=lambda d: d["group"])  # fit.R's relevelled copy
MODELS = list(REF["models"])
# The matrices depend on the data only (no optimisation): lmerTest rounds them to 7 significant
# digits (zapsmall), so they agree to far better than the estimates' tolerance.
L_ATOL = 1e-9

_FITS: dict = {}


def _fit(name):
    if name not in _FITS:
        m = REF["models"][name]
        _FITS[name] = hipkit.lmm(m["hipkit_formula"], DATA, reml=m["REML"], check_singular="ignore")
    return _FITS[name]


def _r_term(label: str) -> frozenset:
    """A term label as a set of variables (R writes group:week where patsy may write week:group)."""
    return frozenset(p.replace("C(", "").split(",")[0].strip(" )") for p in label.split(":"))


@pytest.mark.parametrize("name", MODELS)
def test_fit_reaches_lme4s_optimum(name):
    m, res = REF["models"][name], _fit(name)
    close(res.deviance, m["criterion"], "criterion", f"{name} criterion")
    close(res.beta, m["fixef"], "estimate", f"{name} fixef")  # same order: R's (see test_term_order.py)


@pytest.mark.parametrize("kind", ["type1", "type3"])
@pytest.mark.parametrize("name", MODELS)
def test_hypothesis_matrices_are_lmertests_row_for_row(name, kind):
    m, res = REF["models"][name], _fit(name)
    if kind == "type1":
        got = type1_contrasts(res.design)
    else:
        got = type3_contrasts(res.design, res.data.loc[res.design.rows_used])
    got = {_r_term(t): L for t, L in got.items()}
    want = m[f"contrasts_{kind}"]
    assert set(got) == {_r_term(w["term"]) for w in want}
    for w in want:
        assert w["columns"] == m["fixef_names"]  # columns in R's order, which is hipkit's
        L = got[_r_term(w["term"])]
        np.testing.assert_allclose(L, np.array(w["L"], dtype=float), rtol=0, atol=L_ATOL, err_msg=f"{name} {w['term']}")


@pytest.mark.parametrize(
    "kind, ddf",
    [("type1", "satterthwaite"), ("type3", "satterthwaite"), ("type1", "kenward-roger"), ("type3", "kenward-roger")],
)
@pytest.mark.parametrize("name", MODELS)
def test_anova_matches_lmertest(name, kind, ddf):
    m, res = REF["models"][name], _fit(name)
    key = f"anova_{kind}" + ("_kenward_roger" if ddf == "kenward-roger" else "")
    if key not in m:
        pytest.skip("ML fit: lmerTest refuses Kenward-Roger")
    want = pd.DataFrame(m[key])
    got = res.anova(type=int(kind[-1]), ddf=ddf)
    assert [_r_term(t) for t in got["term"]] == [_r_term(t) for t in want["term"]]  # R's row order
    what = f"{name} {kind} {ddf}"
    assert got["num_df"].tolist() == want["num_df"].tolist(), what
    close(got["statistic"], want["F"], "estimate", f"{what} F")
    close(got["sum_sq"], want["sum_sq"], "estimate", f"{what} Sum Sq")
    close(got["mean_sq"], want["mean_sq"], "estimate", f"{what} Mean Sq")
    close(got["den_df"], want["den_df"], "df_p", f"{what} den df")
    close_p(got["p_value"], want["p_value"], f"{what} p")


def test_the_same_hypothesis_in_another_basis_has_the_same_f_and_another_den_df():
    # Why the matrices must be lmerTest's rows and not only span its hypotheses: the highest-order
    # term's Type I and Type III matrices span the same space (F equal) in different bases, and the
    # Satterthwaite den df differ (51.0 against 79.1 in lmerTest too). Main effects differ outright.
    res = _fit("visit_group_slope")
    t1, t3 = res.anova(type=1).set_index("term"), res.anova(type=3).set_index("term")
    assert t1.loc["visit:group", "statistic"] == pytest.approx(t3.loc["visit:group", "statistic"], rel=1e-8)
    assert t3.loc["visit:group", "den_df"] > 1.3 * t1.loc["visit:group", "den_df"]
    assert t1.loc["visit", "statistic"] > 1.3 * t3.loc["visit", "statistic"]


def test_anova_type_2_says_what_is_available():
    with pytest.raises(hipkit.errors.NotSupportedError, match="1 .sequential. or 3"):
        _fit("one_term").anova(type=2)


def test_matrices_from_the_distinct_predictor_rows_equal_those_from_every_row():
    # type3_contrasts builds the cell design on the distinct predictor rows (patsy is slow per row);
    # for these models the cells lie in the span of X, so every row gives the same matrices.
    from hipkit.models.contrasts import _type3

    for name in ("sum_coded", "group_side_week"):
        res = _fit(name)
        frame = res.data.loc[res.design.rows_used]
        fast = type3_contrasts(res.design, frame)
        slow = _type3(res.design, frame, res.design.X, exact=False)
        assert list(fast) == list(slow)
        for term in fast:
            np.testing.assert_allclose(fast[term], slow[term], rtol=0, atol=1e-12, err_msg=f"{name} {term}")
