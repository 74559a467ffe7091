"""Fixed-effect terms in R's order (tests/reference/term_order).

patsy groups the terms of a formula by the numeric factors they involve; R keeps the formula's order
and sorts the terms by degree (main effects, two-way, three-way interactions). hipkit builds the
design in R's order, so ``tidy()``, ``vcov()``, ``anova()``, the summary and ``beta`` line up with
lme4's ``fixef``, while keeping hipkit's coefficient names (``week:groupKNEE`` where R writes
``groupKNEE:week`` for ``week:group``; ``group[HIP]`` for a full dummy). R wrote ``term_order.json``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

import hipkit
from hipkit.errors import IdentifiabilityError

CASE = Path(__file__).resolve().parents[1] / "reference" / "term_order"
REF = json.loads((CASE / "term_order.json").read_text())
DATA = pd.read_csv(CASE / "data.csv")
FULL_RANK = [m for m in REF["models"] if not m["dropped_columns"]]
RANK_DEFICIENT = [m for m in REF["models"] if m["dropped_columns"]]


def _key(name: str) -> frozenset:
    """A coefficient or term name as the set of its parts, brackets removed: hipkit's and R's agree."""
    return frozenset(re.sub(r"\[(?:T\.)?([^\]]*)\]", r"\1", p) for p in name.split(":"))


def _data(m) -> pd.DataFrame:
    return DATA if m["drop_rows"] is None else DATA[~DATA.eval(m["drop_rows"])]


@pytest.mark.parametrize("m", FULL_RANK, ids=[m["formula"] for m in FULL_RANK])
def test_coefficients_come_in_lme4s_fixef_order(m):
    res = hipkit.lmm(m["formula"], _data(m), check_singular="ignore")
    want = [_key(n) for n in m["fixef_names"]]
    assert [_key(n) for n in res.design.x_names] == want
    assert [_key(n) for n in res.tidy()["term"]] == want
    assert [_key(n) for n in res.vcov().index] == [_key(n) for n in m["vcov_names"]]
    assert list(res.vcov().columns) == list(res.vcov().index)
    assert [_key(n) for n in res.anova()["term"]] == [_key(n) for n in m["anova_terms"]]
    text = res.summary()
    table = text[text.index("Fixed effects") :]
    positions = [table.index(n) for n in res.design.x_names]
    assert positions == sorted(positions)
    # and the estimates in that order are lme4's (the order is not just a relabelling)
    pd.testing.assert_series_equal(
        pd.Series(res.beta), pd.Series(m["fixef"], dtype=float), check_exact=False, rtol=1e-4, atol=1e-6
    )


@pytest.mark.parametrize("m", RANK_DEFICIENT, ids=[m["formula"] for m in RANK_DEFICIENT])
def test_a_rank_deficient_design_names_the_columns_lme4_drops(m):
    assert "rank deficient so dropping" in m["messages"][0]
    with pytest.raises(IdentifiabilityError, match="rank deficient") as err:
        hipkit.lmm(m["formula"], _data(m), check_singular="ignore")
    named = re.findall(r"'([^']+)'", str(err.value).split(" of the columns")[0])
    assert [_key(n) for n in named] == [_key(n) for n in m["dropped_columns"]]


def test_emmeans_builds_its_grid_in_the_same_order():
    # The reordered design information builds new rows in R's order too (emmeans' grid).
    m = REF["models"][1]  # week * group: patsy would put group before week
    res = hipkit.lmm(m["formula"], DATA)
    em = res.emmeans("group").tidy()
    at = DATA["week"].mean()
    b = dict(zip(res.design.x_names, res.beta))
    assert em.set_index("group").loc["KNEE", "estimate"] == pytest.approx(
        b["(Intercept)"] + b["groupKNEE"] + at * (b["week"] + b["week:groupKNEE"]), rel=1e-10
    )


def test_an_interaction_written_in_the_other_order_is_the_same_model_column_for_column():
    # R orders an interaction's variables by their first appearance (visit + group + group:visit has
    # the term visit:group, visit varying fastest); hipkit permutes patsy's columns and design
    # information to match, so estimates line up position by position and emmeans builds its grid right.
    a = hipkit.lmm("pain_vas ~ visit * group + (1 | participant_id)", DATA)
    b = hipkit.lmm("pain_vas ~ visit + group + group:visit + (1 | participant_id)", DATA)
    assert [_key(n) for n in a.design.x_names] == [_key(n) for n in b.design.x_names]
    pd.testing.assert_series_equal(pd.Series(b.beta), pd.Series(a.beta), rtol=1e-6)
    ea, eb = a.emmeans("group", by="visit").tidy(), b.emmeans("group", by="visit").tidy()
    pd.testing.assert_series_equal(eb["estimate"], ea["estimate"], rtol=1e-6)
