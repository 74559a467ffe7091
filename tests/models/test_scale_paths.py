"""The fast paths of the engine give the same numbers as the direct ones (issue 6)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import patsy
import pytest

import hipkit
from hipkit.models.design import build_design
from hipkit.models.engine import core, deviance_at, make_blocks, pattern_sums


def _cohort(n=300, seed=3, missing=0.1):
    rng = np.random.default_rng(seed)
    weeks = np.array([0.0, 2.0, 4.0, 6.0])
    pid = np.repeat(np.arange(n), 4)
    week = np.tile(weeks, n)
    group = np.where(np.repeat(rng.random(n) < 0.5, 4), "HIP", "KNEE")
    y = 6 + np.repeat(rng.normal(0, 1.5, n), 4) + (np.repeat(rng.normal(0, 0.2, n), 4) - 0.4) * week
    y = y + rng.normal(0, 0.8, 4 * n)
    d = pd.DataFrame({"pid": pid, "week": week, "group": group, "y": y, "x": rng.normal(size=4 * n)})
    return d.loc[rng.random(len(d)) > missing].reset_index(drop=True)


@pytest.mark.parametrize(
    "formula", ["y ~ week * group + (1 + week | pid)", "y ~ week + x + (1 | pid)", "y ~ week + (week || pid)"]
)
def test_visit_pattern_sums_give_the_per_participant_deviance(formula):
    d = build_design(formula, _cohort())
    blocks = make_blocks(d.y, d.X, d.Z, d.group, d.n_groups)
    assert pattern_sums(blocks) is not None  # 4 visits, 10% missing: few patterns
    direct = make_blocks(d.y, d.X, d.Z, d.group, d.n_groups)
    direct.__dict__["_patterns"] = None  # force the per-participant path
    for theta in [d.theta_start(), d.theta_start() * 0.3 + 0.05, d.theta_start() * 2.0]:
        a, b = deviance_at(theta, blocks, d.pattern, True), deviance_at(theta, direct, d.pattern, True)
        assert a == pytest.approx(b, rel=1e-11)
        ca, cb = core(theta, blocks, d.pattern), core(theta, direct, d.pattern)
        np.testing.assert_allclose(ca.LX, cb.LX, rtol=1e-9)
        assert ca.pwrss == pytest.approx(cb.pwrss, rel=1e-9)


def test_continuous_slopes_fall_back_to_the_per_participant_path():
    data = _cohort()
    data["days"] = data["week"] * 7 + np.random.default_rng(1).uniform(-2, 2, len(data))
    d = build_design("y ~ days + (1 + days | pid)", data)
    assert pattern_sums(make_blocks(d.y, d.X, d.Z, d.group, d.n_groups)) is None


def test_design_on_distinct_predictor_rows_equals_patsy_on_all_rows():
    data = _cohort()
    d = build_design("y ~ week * group + (1 + week | pid)", data)
    X = patsy.dmatrix("week * group", data, return_type="dataframe")
    np.testing.assert_array_equal(d.X, X[d.x_design_info.column_names].to_numpy())  # in R's term order
    np.testing.assert_array_equal(d.Z, patsy.dmatrix("1 + week", data).__array__())
    np.testing.assert_array_equal(d.y, data["y"].to_numpy())


def test_whole_column_transforms_still_see_every_row():
    data = _cohort()
    d = build_design("y ~ center(week) + (1 | pid)", data)
    np.testing.assert_allclose(d.X[:, 1], data["week"] - data["week"].mean())


def test_fit_is_the_same_with_and_without_pattern_compression(monkeypatch):
    data = _cohort(n=200)
    fast = hipkit.lmm("y ~ week * group + (1 + week | pid)", data)
    import hipkit.models.engine as engine

    monkeypatch.setattr(engine, "pattern_sums", lambda blocks: None)
    slow = hipkit.lmm("y ~ week * group + (1 + week | pid)", data)
    np.testing.assert_allclose(fast.beta, slow.beta, rtol=1e-7)
    np.testing.assert_allclose(fast.theta, slow.theta, rtol=1e-5, atol=1e-7)
    a, b = fast.tidy(), slow.tidy()
    np.testing.assert_allclose(a["df"], b["df"], rtol=1e-4)


def test_reused_design_information_respects_categorical_level_order():
    data = _cohort(n=60)
    a = data.assign(group=pd.Categorical(data["group"], categories=["HIP", "KNEE"]))
    b = data.assign(group=pd.Categorical(data["group"], categories=["KNEE", "HIP"]))
    assert "groupKNEE" in build_design("y ~ week * group + (1 | pid)", a).x_names
    assert "groupHIP" in build_design("y ~ week * group + (1 | pid)", b).x_names


def test_whole_column_expressions_and_numeric_factors_are_not_shortcut():
    data = _cohort(n=120)
    centred = build_design("y ~ I(week - week.mean()) + (1 | pid)", data)
    np.testing.assert_allclose(centred.X[:, 1], data["week"] - data["week"].mean())
    hipkit.lmm("y ~ C(week) + (1 | pid)", data)
    fewer = data.loc[data["week"] != 2.0]
    d = build_design("y ~ C(week) + (1 | pid)", fewer)  # levels from these rows, not a cached earlier fit
    assert d.x_names == ["(Intercept)", "week4.0", "week6.0"]  # R-style names
