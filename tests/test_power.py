"""hipkit.power: simulation-based power curves (all cohorts simulated)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from hipkit.errors import InputError
from hipkit.power import (
    N_FOR_POWER_COLUMNS,
    POWER_CURVE_COLUMNS,
    _make_cell,
    _one_replicate,
    _rep_seed,
    n_for_power,
    power_curve,
)
from hipkit.simulate import DESIGNS, P


@pytest.fixture(scope="module")
def small_curve():
    return power_curve(
        "ferber2011", "interaction", n_per_group=(6, 10), n_visits=2, reps=20, progress=False, scheduler="serial"
    )


def test_small_grid_runs(small_curve):
    assert list(small_curve.columns) == POWER_CURVE_COLUMNS
    assert len(small_curve) == 2
    assert small_curve["n_per_group"].tolist() == [6, 10]
    assert (small_curve["reps"] == 20).all()
    assert (small_curve["n_failed"] == 0).all()
    assert small_curve["power"].between(0, 1).all()
    assert (small_curve["conf_low"] <= small_curve["power"]).all()
    assert (small_curve["power"] <= small_curve["conf_high"]).all()
    assert small_curve["conf_low"].between(0, 1).all() and small_curve["conf_high"].between(0, 1).all()
    # The pfps group gains ~32% of ~76 N over 3 weeks and controls nothing: ~8 N/week steeper.
    assert small_curve["mean_estimate"].between(4, 12).all()


def test_wilson_interval_matches_statsmodels(small_curve):
    from statsmodels.stats.proportion import proportion_confint

    row = small_curve.iloc[0]
    low, high = proportion_confint(round(row["power"] * 20), 20, alpha=0.05, method="wilson")
    assert row["conf_low"] == pytest.approx(low, abs=1e-12)
    assert row["conf_high"] == pytest.approx(high, abs=1e-12)


def test_same_seed_same_results_whatever_the_cell_order():
    kw = dict(reps=5, seed=7, progress=False, scheduler="serial")
    a = power_curve("ferber2011", "within", n_per_group=(6, 9), n_visits=(2, 3), **kw)
    b = power_curve("ferber2011", "within", n_per_group=(9, 6), n_visits=(3, 2), **kw)
    c = power_curve("ferber2011", "within", n_per_group=9, n_visits=3, **kw)  # one cell alone
    key = ["effect", "n_visits", "n_per_group"]
    a, b = (x.sort_values(key).reset_index(drop=True) for x in (a, b))
    pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_frame_equal(a[(a.n_per_group == 9) & (a.n_visits == 3)].reset_index(drop=True), c)


def test_replicate_is_pure_and_seed_depends_only_on_cell_and_rep():
    design = DESIGNS["ferber2011"]()
    cell = _make_cell(design, "within", 8, 2, None)
    same = _make_cell(design, "within", 8, 2, None)
    other = _make_cell(design, "within", 8, 3, None)
    assert _rep_seed(0, cell, 3) == _rep_seed(0, same, 3)
    assert len({_rep_seed(0, cell, r) for r in range(50)}) == 50
    assert _rep_seed(0, cell, 0) != _rep_seed(0, other, 0)
    assert _rep_seed(0, cell, 0) != _rep_seed(1, cell, 0)
    seed = _rep_seed(0, cell, 0)
    first = _one_replicate(cell, seed)
    _one_replicate(other, _rep_seed(0, other, 0))  # nothing carries over between calls
    assert _one_replicate(cell, seed) == first
    assert 0.0 <= first[0] <= 1.0 and np.isfinite(first[1])


def test_huge_effect_gives_power_near_one():
    d = DESIGNS["ferber2011"]()
    pfps, control = d.groups
    huge = replace(d, groups=(replace(pfps, strength_gain_total=P(1.0, "assumption: test, doubles")), control))
    curve = power_curve(huge, "interaction", n_per_group=8, n_visits=2, reps=20, progress=False, scheduler="serial")
    assert curve["power"].item() >= 0.95
    assert curve["mean_estimate"].item() == pytest.approx(1.0 * pfps.strength_baseline.value / 3, rel=0.25)


def test_zero_effect_gives_power_near_alpha():
    d = DESIGNS["ferber2011"]()
    null = replace(d, within_share=P(0.0, "assumption: test, pain does not follow the person's own strength"))
    curve = power_curve(
        null, "within", n_per_group=8, n_visits=2, reps=160, seed=11, progress=False, scheduler="serial"
    )
    # Monte Carlo SE at alpha = 0.05 with 160 replicates: sqrt(.05 * .95 / 160) = 0.017; allow 2.5 SE.
    assert abs(curve["power"].item() - 0.05) <= 0.045
    assert curve["conf_low"].item() <= 0.05 <= curve["conf_high"].item()
    assert abs(curve["mean_estimate"].item()) < 0.01  # cm per N: no within-person link on average


def test_limb_by_time_interaction_for_one_group_design_with_sides():
    curve = power_curve(
        "beers2008", "interaction", n_per_group=8, n_visits=2, reps=4, progress=False, scheduler="serial"
    )
    # The involved side's 20% deficit closes over 6 weeks: uninvolved minus involved slope is negative.
    assert curve["mean_estimate"].item() < 0


def test_bad_input_raises():
    with pytest.raises(InputError, match="effect"):
        power_curve(effect="between", reps=1, progress=False, scheduler="serial")
    with pytest.raises(InputError, match="n_visits"):
        power_curve(n_visits=1, reps=1, progress=False, scheduler="serial")
    with pytest.raises(InputError, match="unknown design"):
        power_curve("ferber2099", reps=1, progress=False, scheduler="serial")
    d = DESIGNS["ferber2011"]()
    one_group = replace(d, groups=d.groups[:1])
    with pytest.raises(InputError, match="no group x time"):
        power_curve(one_group, "interaction", reps=1, progress=False, scheduler="serial")
    with pytest.raises(InputError, match="per-side outcome"):
        power_curve("beers2008", "interaction", reps=1, outcome="pain_vas", progress=False, scheduler="serial")


def test_n_for_power_reads_the_grid():
    curve = pd.DataFrame(
        {
            "n_per_group": [10, 20, 40, 10, 20, 40],
            "n_visits": [2, 2, 2, 4, 4, 4],
            "effect": "interaction",
            "power": [0.4, 0.82, 0.95, 0.5, 0.7, 0.79],
        }
    )
    out = n_for_power(curve, target=0.8)
    assert list(out.columns) == N_FOR_POWER_COLUMNS
    assert out["n_per_group"].iloc[0] == 20
    assert out["power"].iloc[0] == 0.82
    assert np.isnan(out["n_per_group"].iloc[1]) and np.isnan(out["power"].iloc[1])
    with pytest.raises(InputError):
        n_for_power(curve.drop(columns="power"))


def test_progress_bar_counts_every_replicate(capsys):
    power_curve("ferber2011", "interaction", n_per_group=(5, 6), n_visits=2, reps=3, progress=True, scheduler="serial")
    assert "6/6" in capsys.readouterr().err


@pytest.mark.parametrize(
    "kwargs, named",
    [
        ({"outcome": "nope"}, "outcome"),
        ({"effect_size": float("nan")}, "effect_size"),
        ({"effect_size": float("inf")}, "effect_size"),
        ({"seed": -1}, "seed"),
        ({"seed": "x"}, "seed"),
        ({"alpha": "0.05"}, "alpha"),
        ({"alpha": None}, "alpha"),
        ({"reps": "a"}, "reps"),
        ({"reps": 2.7}, "reps"),
        ({"effect": 3}, "effect"),
        ({"design": 3}, "design"),
        ({"n_per_group": [4, None]}, "n_per_group"),
        ({"refit": "yes"}, "refit"),
    ],
)
def test_power_curve_refuses_a_wrong_argument_before_simulating(kwargs, named):
    # Review: outcome="nope" or effect_size=nan ran every replicate into a failure and reported power 0.
    from hipkit.errors import HipkitError

    base = dict(design="ferber2011", effect="interaction", n_per_group=6, n_visits=3, reps=2, progress=False,
                scheduler="serial")  # fmt: skip
    with pytest.raises(HipkitError, match=named) as info:
        power_curve(**{**base, **kwargs})
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("kwargs, named", [({"nsim": "a"}, "nsim"), ({"seed": -1}, "seed"), ({"conf_level": None},
                         "conf_level"), ({"statistic": "x"}, "statistic"), ({"fit": "x"}, "fit")])  # fmt: skip
def test_bootstrap_refuses_a_wrong_argument_with_an_error_naming_it(kwargs, named):
    import pandas as pd

    import hipkit
    from hipkit.errors import ArgumentError

    sleep = pd.read_csv("tests/reference/sleepstudy/data.csv")
    fit = hipkit.lmm("Reaction ~ Days + (1 | Subject)", sleep)
    with pytest.raises(ArgumentError, match=named):
        hipkit.bootstrap(**{"fit": fit, "nsim": 2, "progress": False, "scheduler": "serial", **kwargs})
