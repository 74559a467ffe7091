"""Dask: out-of-core model fits and replicates on a real 2-worker LocalCluster (no mocks)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import hipkit
from hipkit.cli import main
from hipkit.errors import NotSupportedError
from hipkit.power import power_curve

dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")

FORMULA = "pain ~ week * group + (1 + week | pid)"


@pytest.fixture(scope="module")
def client(dask_client):
    return dask_client


def _cohort(n=400, seed=5, missing=0.05):
    """A SIMULATED cohort: 4 visits, two groups, about 5% of visits missing, a few missing values."""
    rng = np.random.default_rng(seed)
    pid = np.repeat([f"P{i:05d}" for i in range(n)], 4)
    week = np.tile([0.0, 2.0, 4.0, 6.0], n)
    group = np.repeat(np.where(rng.random(n) < 0.5, "HIP", "KNEE"), 4)
    pain = 6 + np.repeat(rng.normal(0, 1.4, n), 4) + (np.repeat(rng.normal(0, 0.15, n), 4) - 0.4) * week
    d = pd.DataFrame({"pid": pid, "week": week, "group": group, "pain": pain + rng.normal(0, 0.7, 4 * n)})
    d = d.loc[rng.random(len(d)) > missing].copy()
    d.loc[d.sample(7, random_state=1).index, "pain"] = np.nan
    return d


def _assert_same_fit(a, b):
    ta, tb = a.tidy(), b.tidy()
    for col in ("estimate", "std_error", "statistic"):
        np.testing.assert_allclose(ta[col], tb[col], rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(ta["df"], tb["df"], rtol=1e-4)
    np.testing.assert_allclose(ta["p_value"], tb["p_value"], rtol=1e-3, atol=1e-300)
    ga, gb = a.glance().iloc[0], b.glance().iloc[0]
    for col in ("nobs", "ngroups", "n_dropped"):
        assert ga[col] == gb[col]
    for col in ("reml_criterion", "sigma", "r2_marginal", "r2_conditional", "icc"):
        assert ga[col] == pytest.approx(gb[col], rel=1e-7)
    np.testing.assert_allclose(a.ranef.to_numpy(), b.ranef.to_numpy(), rtol=1e-5, atol=1e-6)


def test_dask_fit_equals_in_memory_when_participants_span_partitions(client):
    data = _cohort().sample(frac=1.0, random_state=3)  # shuffled: each participant's rows scattered
    ddf = dd.from_pandas(data, npartitions=6, sort=False)
    spans = data.assign(part=np.repeat(np.arange(6), -(-len(data) // 6))[: len(data)]).groupby("pid")["part"]
    assert (spans.nunique() > 1).mean() > 0.5  # most participants really are split
    _assert_same_fit(hipkit.lmm(FORMULA, data), hipkit.lmm(FORMULA, ddf))


def test_partitions_missing_a_factor_level_still_give_the_same_design(client):
    data = _cohort(n=300).sort_values(["group", "pid"])  # early partitions hold only HIP
    ddf = dd.from_pandas(data, npartitions=5, sort=False)
    _assert_same_fit(hipkit.lmm(FORMULA, data), hipkit.lmm(FORMULA, ddf))


def test_parquet_registry_fit_through_the_cli_with_a_scheduler(client, tmp_path, capsys):
    data = _cohort(n=300, seed=9)
    folder = tmp_path / "registry"
    folder.mkdir()
    shuffled = data.sample(frac=1.0, random_state=2).reset_index(drop=True)
    for k in range(4):
        shuffled.iloc[k::4].to_parquet(folder / f"part{k}.parquet", index=False)
    out = tmp_path / "fit.json"
    code = main(
        [
            "fit",
            FORMULA,
            "--data",
            str(folder / "*.parquet"),
            "--scheduler",
            client.scheduler.address,
            "--json",
            str(out),
            "--quiet",
        ]
    )
    assert code == 0, capsys.readouterr().err
    fitted = json.loads(out.read_text())
    mem = hipkit.lmm(FORMULA, data).to_dict()
    got = {r["term"]: r["estimate"] for r in fitted["fixed"]}
    want = {r["term"]: r["estimate"] for r in mem["fixed"]}
    assert got.keys() == want.keys()
    for term in want:
        assert got[term] == pytest.approx(want[term], rel=1e-6, abs=1e-7)


def test_row_level_methods_say_why_they_are_not_available_for_a_dask_fit(client):
    fit = hipkit.lmm(FORMULA, dd.from_pandas(_cohort(n=100), npartitions=2))
    with pytest.raises(NotSupportedError, match="rows stayed on the cluster"):
        fit.augment()
    with pytest.raises(NotSupportedError):
        fit.emmeans("group")
    assert "not computed (the rows stayed on Dask)" in fit.summary()
    assert len(fit.anova()) == 3


def test_power_curve_on_two_workers_equals_the_serial_run(client):
    kw = dict(n_per_group=(8, 12), n_visits=2, reps=12, seed=4, progress=False)
    serial = power_curve("ferber2011", "interaction", scheduler="serial", **kw)
    on_dask = power_curve("ferber2011", "interaction", scheduler=client, **kw)
    pd.testing.assert_frame_equal(serial, on_dask)


def test_power_curve_over_effect_sizes_has_type_one_error_at_zero(client):
    curve = power_curve(
        "ferber2011",
        "interaction",
        n_per_group=15,
        n_visits=2,
        reps=40,
        seed=2,
        progress=False,
        effect_size=(0.0, 1.0, 2.0),
        scheduler=client,
    )
    power = curve.set_index("effect_size")["power"]
    assert power[0.0] <= 0.2  # about alpha (0.05) with 40 replicates
    assert power[0.0] < power[1.0] < power[2.0] or power[2.0] == 1.0


def test_parametric_bootstrap_is_the_same_on_any_number_of_workers(client):
    sleep = pd.read_csv("tests/reference/sleepstudy/data.csv")
    fit = hipkit.lmm("Reaction ~ Days + (Days | Subject)", sleep)
    a = hipkit.bootstrap(fit, nsim=30, seed=1, scheduler="serial", progress=False)
    b = hipkit.bootstrap(fit, nsim=30, seed=1, scheduler=client, progress=False)
    pd.testing.assert_frame_equal(a.replicates, b.replicates)
    tidy = b.tidy().set_index("term")
    assert tidy.loc["Days", "conf_low"] < 10.467 < tidy.loc["Days", "conf_high"]
    se_model = fit.tidy().set_index("term").loc["Days", "std_error"]
    assert 0.5 < tidy.loc["Days", "std_error"] / se_model < 1.6  # 30 replicates: a loose but real check


def test_dask_keeps_the_category_order_of_a_categorical_predictor(client):
    data = _cohort(n=200, seed=11)
    data["group"] = pd.Categorical(data["group"], categories=["KNEE", "HIP"])
    ddf = dd.from_pandas(data.sample(frac=1.0, random_state=1), npartitions=3, sort=False)
    mem, dist = hipkit.lmm(FORMULA, data), hipkit.lmm(FORMULA, ddf)
    assert mem.design.x_names == dist.design.x_names and "groupHIP" in dist.design.x_names
    _assert_same_fit(mem, dist)


def test_dask_refuses_terms_that_look_at_the_whole_column(client):
    from hipkit.errors import ModelSpecError

    ddf = dd.from_pandas(_cohort(n=50), npartitions=2)
    with pytest.raises(ModelSpecError, match="whole column"):
        hipkit.lmm("pain ~ I(week - week.mean()) + (1 | pid)", ddf)
