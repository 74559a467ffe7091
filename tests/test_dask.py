"""Dask: out-of-core model fits and replicates on a real 2-worker LocalCluster (no mocks)."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest

import hipkit
from hipkit.cli import main
from hipkit.errors import IdentifiabilityError, NotSupportedError
from hipkit.models.contrasts import type1_contrasts, type3_contrasts
from hipkit.models.engine import deviance_at, evaluate
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


# What "the same fit" means, and to what precision (issue 10, item 7: a comparison at rel 1e-7 failed).
# The in-memory and Dask paths add the same per-row cross-products in different orders (bincount and
# BLAS over all rows, against partial sums per partition added pairwise), so a few of the blocks differ
# in their last bit (in the cohort of the factor-level test: 1 of 600 Z'y sums and 3 of 4 X'y sums, by
# 1 ulp). Two in-memory fits of the same rows in another order differ in just the same way.
# - At the same theta, everything computed from the blocks agrees to ~1e-12 (measured <= 2e-12).
# - The optimiser (hipkit.models.optimise.optimise_theta) finds the minimum by comparing deviance values,
#   which carry rounding noise of ~1e-14 x |deviance| (~3e-11 at 3409 there). Within that noise the
#   deviance is flat over a region of theta about sqrt(noise) ~ 6e-6 of theta's own standard errors
#   wide, and the optimiser stops somewhere in it: both fits reach the same minimum (each theta is as
#   good as the other on either deviance, to ~3e-14 relative), but their theta differ by up to ~1e-5
#   in those units, and the numbers computed from theta move with it: over 120 simulated cohorts
#   estimates differed by at most 3e-7 standard errors, SEs, sigma, R2 and ICC by at most 4e-7
#   relative (the failing comparison: r2_marginal 0.23083271 against 0.23083268, 1.1e-7).
# - Satterthwaite df come from numerical derivatives of that deviance, with steps proportional to
#   theta (hipkit.models.numdiff): where an off-diagonal theta is near zero (1e-4), the steps are tiny
#   and the df differ by up to 4e-4 relative at the same theta, 2e-3 between the fits (150 generated
#   cohorts); the p values computed with them follow.
#: deviance criteria, and each fit's theta on the other fit's deviance (measured <= 6e-14)
OPTIMUM_RTOL = 1e-12
#: every number at the same theta, Satterthwaite df aside (measured <= 2e-12)
SAME_THETA_RTOL = 1e-9
#: the reported numbers of the two fits: theta's spread in its own standard errors (measured <= 4e-7)
OPTIMISER_RTOL = 1e-5
#: Satterthwaite df and the p values computed with them (measured <= 2e-3)
DF_RTOL = 1e-2


def _at_theta(fit, theta):
    """The fit's numbers at another theta, on its own blocks (separates the optimiser from the sums)."""
    ev = evaluate(np.asarray(theta, dtype=float), fit.blocks, fit.design.pattern)
    deviance = deviance_at(ev.theta, fit.blocks, fit.design.pattern, fit.reml)
    return dataclasses.replace(fit, evaluation=ev, deviance=deviance)


def _assert_numbers_agree(a, b, rtol, ranef=False):
    ta, tb = a.tidy(), b.tidy()
    assert ta["term"].tolist() == tb["term"].tolist()
    shift = np.max(np.abs(ta["estimate"] - tb["estimate"]) / ta["std_error"])
    assert shift <= rtol, f"estimates differ by {shift:.1e} standard errors"
    np.testing.assert_allclose(tb["std_error"], ta["std_error"], rtol=rtol)
    np.testing.assert_allclose(tb["statistic"], ta["statistic"], rtol=rtol, atol=rtol)  # t = estimate / SE
    np.testing.assert_allclose(tb["df"], ta["df"], rtol=DF_RTOL)
    np.testing.assert_allclose(np.log(tb["p_value"]), np.log(ta["p_value"]), rtol=DF_RTOL)
    ga, gb = a.glance().iloc[0], b.glance().iloc[0]
    for col in ("sigma", "r2_marginal", "r2_conditional", "icc"):
        assert gb[col] == pytest.approx(ga[col], rel=rtol), col
    if ranef:
        ra, rb = a.ranef.to_numpy(), b.ranef.to_numpy()
        assert np.max(np.abs(ra - rb) / ra.std(axis=0)) <= rtol


def _assert_same_fit(a, b):
    """``a`` and ``b`` fit the same rows: same data, same optimum, same arithmetic, same reported numbers."""
    ga, gb = a.glance().iloc[0], b.glance().iloc[0]
    for col in ("nobs", "ngroups", "n_dropped"):
        assert ga[col] == gb[col]
    assert a.design.x_names == b.design.x_names and a.design.z_names == b.design.z_names
    np.testing.assert_array_equal(a.design.group_labels, b.design.group_labels)
    assert gb["reml_criterion"] == pytest.approx(ga["reml_criterion"], rel=OPTIMUM_RTOL)
    for fit, other in ((a, b), (b, a)):  # each theta minimises the other fit's deviance as well as its own
        assert _at_theta(fit, other.theta).deviance == pytest.approx(fit.deviance, rel=OPTIMUM_RTOL)
    _assert_numbers_agree(a, _at_theta(b, a.theta), SAME_THETA_RTOL, ranef=True)
    _assert_numbers_agree(a, b, OPTIMISER_RTOL)


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


@pytest.mark.parametrize("seed", range(6))
def test_dask_and_in_memory_fits_agree_to_the_optimisers_precision_on_generated_cohorts(client, seed):
    # Cohort size, missingness, row order and partitioning drawn from the seed; the in-memory fit of the
    # same rows shuffled must agree with the first to the same precision (it is the optimiser's, not Dask's).
    rng = np.random.default_rng(seed)
    data = _cohort(n=int(rng.integers(60, 400)), seed=100 + seed, missing=float(rng.uniform(0.0, 0.3)))
    data = data.sample(frac=1.0, random_state=seed) if rng.random() < 0.5 else data.sort_values(["group", "pid"])
    ddf = dd.from_pandas(data, npartitions=int(rng.integers(2, 9)), sort=False)
    kw = dict(check_singular="ignore", check_convergence="ignore")
    mem = hipkit.lmm(FORMULA, data, **kw)
    _assert_same_fit(mem, hipkit.lmm(FORMULA, ddf, **kw))
    _assert_same_fit(mem, hipkit.lmm(FORMULA, data.sample(frac=1.0, random_state=seed + 1), **kw))


def test_dask_anova_tests_the_same_hypotheses_as_in_memory(client):
    # A Dask fit keeps only the distinct design rows (and X'X): lmerTest's Type I matrices come from
    # X'X, the Type III ones from the distinct rows; both must be the in-memory fit's, row for row.
    data = _cohort(n=150, seed=8)
    data["group"] = np.where(data["pid"].str[-1].isin(list("0123")), "HOME", data["group"])  # three groups
    data["visit"] = "V" + data["week"].astype(int).astype(str)
    formula = "pain ~ visit * group + (1 | pid)"
    mem, dsk = hipkit.lmm(formula, data), hipkit.lmm(formula, dd.from_pandas(data, npartitions=3))
    assert dsk.design.x_names == mem.design.x_names
    pairs = [
        (type1_contrasts(mem.design), type1_contrasts(dsk.design, dsk.blocks.XtX)),
        (
            type3_contrasts(mem.design, mem.data.loc[mem.design.rows_used]),
            type3_contrasts(dsk.design, dsk.data.loc[dsk.design.rows_used]),
        ),
    ]
    for a, b in pairs:
        assert list(a) == list(b)
        for term in a:
            np.testing.assert_allclose(b[term], a[term], rtol=0, atol=1e-9, err_msg=term)
    for kind in (1, 3):
        ta, tb = mem.anova(type=kind), dsk.anova(type=kind)
        assert ta["term"].tolist() == tb["term"].tolist() == ["visit", "group", "visit:group"]
        np.testing.assert_allclose(tb["statistic"], ta["statistic"], rtol=OPTIMISER_RTOL)
        np.testing.assert_allclose(tb["den_df"], ta["den_df"], rtol=DF_RTOL)


def test_a_rank_deficient_dask_design_names_the_column_as_in_memory(client):
    data = _cohort(n=60).assign(week2=lambda d: 2.0 * d["week"])
    formula = "pain ~ week + group + week2 + (1 | pid)"
    messages = []
    for source in (data, dd.from_pandas(data, npartitions=2)):
        with pytest.raises(IdentifiabilityError, match="'week2' is a linear combination") as err:
            hipkit.lmm(formula, source)
        messages.append(str(err.value))
    assert messages[0] == messages[1]


def test_a_dask_fit_repeats_bit_for_bit_on_the_same_partitions(client):
    # The reduction is a fixed pairwise tree over the partitions, whichever worker runs which task.
    data = _cohort(n=200, seed=21).sample(frac=1.0, random_state=4)
    ddf = dd.from_pandas(data, npartitions=7, sort=False)
    first, again = hipkit.lmm(FORMULA, ddf), hipkit.lmm(FORMULA, ddf.persist())
    np.testing.assert_array_equal(first.theta, again.theta)
    pd.testing.assert_frame_equal(first.tidy(), again.tidy(), check_exact=True)
    pd.testing.assert_frame_equal(first.glance(), again.glance(), check_exact=True)


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
