"""Replicate refits (hipkit.models.refit) agree with full lmm() fits; power and bootstrap use them.

The refit is the lmm() pipeline after the design (same blocks, deviance and optimiser), so:
- started where lmm() starts (identity Lambda), a refit equals lmm() on the same response exactly;
- started at another theta (the warm start of bootstrap replicates), it reaches the same optimum to
  the optimiser's precision: the REML criterion to 1e-9 relative (measured: 4e-13 on the designs
  below), estimates, standard errors and sigma to 1e-5 (measured 5e-6), Satterthwaite df and p
  values to the reference tolerance of 1e-3 (measured 1.5e-4 and 3.5e-4). The criterion is flat
  near its optimum, so two starts stop at thetas up to ~2e-4 apart with criteria equal to 1e-12,
  and df and p, which depend on theta through the derivatives, inherit that difference.
All data SIMULATED.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import hipkit
from hipkit.models.refit import PreparedDesign
from hipkit.power import _make_cell, _one_replicate, _rep_seed, _Replicator, power_curve
from hipkit.simulate import DESIGNS

FORMULAS = [
    "y ~ week * group + (1 | pid)",
    "y ~ week * group + (1 + week | pid)",
    "y ~ week + group + age + (week || pid)",
]


def random_design(seed: int) -> pd.DataFrame:
    """A seeded cohort: unbalanced groups (2 or 3), 3 to 6 visits, dropout and intermittent missed visits."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(10, 40))
    visits = int(rng.integers(3, 7))
    k = int(rng.integers(2, 4))
    share = rng.dirichlet(np.full(k, 2.0))
    group = rng.choice([f"g{j}" for j in range(k)], size=n, p=share)
    group[:k] = [f"g{j}" for j in range(k)]  # every level present
    weeks = np.sort(rng.choice(np.arange(0, 13), size=visits, replace=False)).astype(float)
    weeks -= weeks[0]
    pid = np.repeat(np.arange(n), visits)
    week = np.tile(weeks, n)
    g = np.repeat(group, visits)
    age = np.repeat(rng.normal(45, 12, n).round(0), visits)
    u0 = np.repeat(rng.normal(0, 2.0, n), visits)
    u1 = np.repeat(rng.normal(0, 0.2, n), visits)
    y = 50 + u0 + (0.5 + u1 + 0.3 * (g == "g1")) * week + 0.05 * age + rng.normal(0, 1.0, n * visits)
    d = pd.DataFrame({"pid": [f"P{i:03d}" for i in pid], "week": week, "group": g, "age": age, "y": y})
    visit = np.tile(np.arange(visits), n)
    last = np.repeat(np.where(rng.random(n) < 0.3, rng.integers(1, visits, n), visits - 1), visits)
    missed = (rng.random(len(d)) < 0.08) & (visit > 0)
    return d.loc[(visit <= last) & ~missed].reset_index(drop=True)


def _new_response(fit, seed: int) -> np.ndarray:
    """A response drawn from the fitted model (as the parametric bootstrap draws it)."""
    rng = np.random.default_rng(seed)
    d = fit.design
    w, v = np.linalg.eigh(fit.random_cov)
    root = v * np.sqrt(np.clip(w, 0.0, None))
    b = rng.standard_normal((d.n_groups, d.q)) @ root.T
    return d.X @ fit.beta + np.einsum("ij,ij->i", d.Z, b[d.group]) + rng.normal(0.0, fit.sigma, d.n)


def _quantities(fit) -> dict:
    t = fit.tidy()
    return {
        "criterion": np.array([fit.deviance]),
        "theta": fit.theta,
        "sigma": np.array([fit.sigma]),
        "estimate": t["estimate"].to_numpy(),
        "std_error": t["std_error"].to_numpy(),
        "df": t["df"].to_numpy(),
        "p_value": t["p_value"].to_numpy(),
    }


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("formula", FORMULAS)
def test_refit_from_lmm_start_equals_lmm_on_the_same_response_exactly(formula, seed):
    data = random_design(seed)
    fit = hipkit.lmm(formula, data, check_singular="ignore", check_convergence="ignore")
    y2 = _new_response(fit, seed + 100)
    full = hipkit.lmm(formula, data.assign(y=y2), check_singular="ignore", check_convergence="ignore")
    fast = PreparedDesign(fit.design).refit(y2)
    a, b = _quantities(full), _quantities(fast)
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)
    assert fast.converged == full.converged and fast.singular == full.singular


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("formula", FORMULAS)
def test_warm_started_refit_reaches_lmm_optimum(formula, seed):
    data = random_design(seed)
    fit = hipkit.lmm(formula, data, check_singular="ignore", check_convergence="ignore")
    prepared = PreparedDesign.from_fit(fit)
    np.testing.assert_array_equal(prepared.theta_start, fit.theta)
    for r in range(3):
        y2 = _new_response(fit, 1000 * seed + r)
        full = hipkit.lmm(formula, data.assign(y=y2), check_singular="ignore", check_convergence="ignore")
        fast = prepared.refit(y2)
        a, b = _quantities(full), _quantities(fast)
        # The criterion at the optimum: 1e-9 relative (never worse than lmm's by more).
        assert b["criterion"][0] <= a["criterion"][0] + 1e-9 * abs(a["criterion"][0])
        assert b["criterion"][0] == pytest.approx(a["criterion"][0], rel=1e-9)
        if full.singular:  # a variance at zero: df and p of a boundary fit are not smooth in theta
            continue
        for key in ("estimate", "std_error", "sigma"):
            np.testing.assert_allclose(b[key], a[key], rtol=1e-5, atol=1e-12, err_msg=key)
        for key in ("df", "p_value"):
            np.testing.assert_allclose(b[key], a[key], rtol=1e-3, err_msg=key)


def test_refit_of_a_row_subset_equals_lmm_on_those_rows():
    data = random_design(3)
    formula = FORMULAS[1]
    fit = hipkit.lmm(formula, data, check_singular="ignore")
    rng = np.random.default_rng(5)
    keep = rng.random(len(data)) > 0.2
    keep[data.groupby("pid").head(1).index] = True  # everyone keeps a visit
    y2 = _new_response(fit, 7)
    full = hipkit.lmm(formula, data.assign(y=y2).loc[keep], check_singular="ignore", check_convergence="ignore")
    fast = PreparedDesign(fit.design).refit(y2[keep], rows=keep)
    a, b = _quantities(full), _quantities(fast)
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)
    assert fast.design.n == keep.sum()


def test_refit_of_rows_without_some_participants_equals_lmm_without_them():
    data = random_design(4)
    formula = FORMULAS[1]
    fit = hipkit.lmm(formula, data, check_singular="ignore")
    gone = data["pid"].isin(data["pid"].drop_duplicates().iloc[[0, 3, 4]])
    keep = ~gone.to_numpy()
    y2 = _new_response(fit, 11)
    full = hipkit.lmm(formula, data.assign(y=y2).loc[keep], check_singular="ignore", check_convergence="ignore")
    fast = PreparedDesign(fit.design).refit(y2[keep], rows=keep)
    a, b = _quantities(full), _quantities(fast)
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)
    assert fast.design.n_groups == full.design.n_groups == fit.design.n_groups - 3
    pd.testing.assert_frame_equal(fast.glance(), full.glance())
    pd.testing.assert_frame_equal(fast.ranef, full.ranef)


def test_refit_rejects_a_response_that_does_not_fit_the_rows():
    from hipkit.errors import ModelSpecError

    data = random_design(1)
    fit = hipkit.lmm(FORMULAS[0], data, check_singular="ignore")
    prepared = PreparedDesign.from_fit(fit)
    with pytest.raises(ValueError, match="y has shape"):
        prepared.refit(fit.design.y[:-1])
    with pytest.raises(ValueError, match="rows must be"):
        prepared.refit(fit.design.y, rows=np.ones(3, dtype=bool))
    y = fit.design.y.copy()
    y[0] = np.nan
    with pytest.raises(ModelSpecError, match="missing or infinite"):
        prepared.refit(y)


CELLS = [
    ("ferber2011", 10, 4, None),
    ("ferber2015", 8, 7, None),
    ("clinic_multisite", 8, 4, None),
    ("ferber2011", 10, 3, "pain_vas"),
    ("ferber2015", 8, 4, "akps"),
    ("clinic_multisite", 8, 4, "hip_abd_strength_nkg"),
]


@pytest.mark.parametrize(("design", "n", "visits", "outcome"), CELLS)
def test_array_replicate_fits_the_same_rows_and_response_as_the_table(design, n, visits, outcome):
    # ferber2015 and clinic_multisite drop out; clinic_multisite measures both sides (averaged).
    cell = _make_cell(DESIGNS[design](), "interaction", n, visits, outcome)
    fast = _Replicator(cell, refit=True)
    assert fast.fast
    for rep in range(6):
        seed = _rep_seed(3, cell, rep)
        p_table, est_table, ok_table = _one_replicate(cell, seed)
        p_fast, est_fast, ok_fast = fast(seed)
        # Same rows, response and start as lmm(): equal up to the order of floating-point sums.
        assert p_fast == pytest.approx(p_table, rel=1e-12, abs=1e-15)
        assert est_fast == pytest.approx(est_table, rel=1e-12)
        assert ok_fast == ok_table


def test_power_curve_gives_the_same_decisions_with_and_without_refits():
    kw = dict(n_per_group=(6, 10), n_visits=(2, 4), reps=15, seed=4, progress=False, scheduler="serial")
    a = power_curve("ferber2011", "interaction", refit=True, **kw)
    b = power_curve("ferber2011", "interaction", refit=False, **kw)
    pd.testing.assert_frame_equal(a.drop(columns="mean_estimate"), b.drop(columns="mean_estimate"))
    np.testing.assert_allclose(a["mean_estimate"], b["mean_estimate"], rtol=1e-12)
    assert (a["n_not_converged"] == 0).all() and (a["n_failed"] == 0).all()


def test_within_and_limb_effects_use_the_table_path():
    within = _make_cell(DESIGNS["ferber2011"](), "within", 8, 3, None)
    limb = _make_cell(DESIGNS["beers2008"](), "interaction", 8, 2, None)
    assert not _Replicator(within).fast and not _Replicator(limb).fast
    seed = _rep_seed(0, within, 0)
    assert _Replicator(within)(seed) == _one_replicate(within, seed)


@pytest.mark.parametrize("refit", [True, False])
def test_power_curve_counts_replicates_whose_optimiser_did_not_converge(monkeypatch, refit):
    import hipkit.models.fit as fitmod

    real = fitmod.optimise_theta
    monkeypatch.setattr(
        fitmod, "optimise_theta", lambda *a, **k: replace(real(*a, **k), message="test: reported no convergence")
    )
    curve = power_curve("ferber2011", "interaction", n_per_group=6, n_visits=3, reps=5, refit=refit,
                        progress=False, scheduler="serial")  # fmt: skip
    assert curve["n_not_converged"].item() == 5
    assert curve["n_failed"].item() == 0
    assert np.isfinite(curve["mean_estimate"].item())  # their p values and estimates are kept


@pytest.mark.parametrize("refit", [True, False])
def test_power_curve_counts_failed_fits_as_non_detections(monkeypatch, refit):
    import hipkit.models.fit as fitmod

    def fail(*a, **k):
        raise np.linalg.LinAlgError("test: factorisation failed")

    monkeypatch.setattr(fitmod, "optimise_theta", fail)
    curve = power_curve("ferber2011", "interaction", n_per_group=6, n_visits=3, reps=4, refit=refit,
                        progress=False, scheduler="serial")  # fmt: skip
    assert curve["n_failed"].item() == 4
    assert curve["power"].item() == 0.0
    assert curve["n_not_converged"].item() == 0


def test_bootstrap_replicates_are_lmm_fits_of_the_simulated_responses():
    sleep = pd.read_csv("tests/reference/sleepstudy/data.csv")
    fit = hipkit.lmm("Reaction ~ Days + (Days | Subject)", sleep)
    boot = hipkit.bootstrap(fit, nsim=4, seed=2, scheduler="serial", progress=False)
    from hipkit.models.parametric_bootstrap import _sqrt_psd

    root, d = _sqrt_psd(fit.random_cov), fit.design
    for r in range(4):  # the replicate's response, drawn as bootstrap() draws it
        rng = np.random.default_rng(np.random.SeedSequence(2, spawn_key=(r,)))
        b = rng.standard_normal((d.n_groups, root.shape[0])) @ root.T
        y = d.X @ fit.beta + np.einsum("ij,ij->i", d.Z, b[d.group]) + rng.normal(0.0, fit.sigma, d.n)
        full = hipkit.lmm("Reaction ~ Days + (Days | Subject)", sleep.assign(Reaction=y), check_singular="ignore")
        np.testing.assert_allclose(boot.replicates.iloc[r][["(Intercept)", "Days"]], full.beta, rtol=1e-7)
        np.testing.assert_allclose(boot.replicates.iloc[r]["sd__Observation"], full.sigma, rtol=1e-6)


def test_bootstrap_counts_refits_that_did_not_converge(monkeypatch):
    import hipkit.models.fit as fitmod

    real = fitmod.optimise_theta
    calls = iter(range(1000))
    monkeypatch.setattr(
        fitmod,
        "optimise_theta",
        lambda *a, **k: (lambda rec: rec if next(calls) % 2 == 0 else replace(rec, message="test: every other"))(
            real(*a, **k)
        ),
    )
    sleep = pd.read_csv("tests/reference/sleepstudy/data.csv")
    fit = hipkit.lmm("Reaction ~ Days + (1 | Subject)", sleep)  # call 0: converged
    boot = hipkit.bootstrap(fit, nsim=6, seed=0, scheduler="serial", progress=False)
    assert boot.n_not_converged == 3 and boot.n_failed == 0
    assert boot.replicates.notna().all().all()  # kept, and counted
    assert "3 not converged" in boot.summary()


# -- against lmerTest: tests/reference/power_replicates (fit.R, replicates.json) --------------------

REPLICATES = Path(__file__).resolve().parents[1] / "reference" / "power_replicates"


def _reference_cells():
    ref = json.loads((REPLICATES / "replicates.json").read_text())
    data = pd.read_csv(REPLICATES / "data.csv", dtype={"rep_seed": str})
    cells = {}
    for r in ref["replicates"]:
        cells.setdefault(r["cell"], []).append(r)
    return cells, data


@pytest.mark.parametrize(
    ("design", "n", "visits"), [("ferber2011", 8, 3), ("ferber2015", 8, 7), ("clinic_multisite", 6, 4)]
)
def test_power_replicates_match_lmertest_fits_of_the_same_responses(design, n, visits):
    cells, data = _reference_cells()
    cell = _make_cell(DESIGNS[design](), "interaction", n, visits, None)
    rep = _Replicator(cell)
    prepared, _, L = rep._prepare()
    for r in cells[design]:
        seed = int(r["rep_seed"])
        assert seed == _rep_seed(5, cell, r["replicate"])
        y, present = rep.response(seed)
        rows = data[(data["cell"] == design) & (data["replicate"] == r["replicate"])]
        # the committed responses are the refit path's, value for value
        np.testing.assert_array_equal(rows["hip_abd_strength_n"].to_numpy(), y)
        fit = prepared.refit(y, rows=present)
        assert fit.design.x_names[int(np.flatnonzero(L[0])[0])] == r["term"]
        est, se, df, t, p = (float(v[0]) for v in fit.satterthwaite.t_test(L, fit.beta))
        # hipkit's criterion is never worse than lme4's (tight settings) by more than 1e-6
        assert fit.deviance <= r["reml_criterion"] + 1e-6
        # reference tolerances (tests/reference/README.md): estimates and SEs 1e-4, df and p 1e-3
        assert est == pytest.approx(r["estimate"], rel=1e-4, abs=1e-6)
        assert se == pytest.approx(r["std_error"], rel=1e-4, abs=1e-6)
        assert fit.sigma == pytest.approx(r["sigma"], rel=1e-4)
        assert df == pytest.approx(r["df"], rel=1e-3)
        assert p == pytest.approx(r["p_value"], rel=1e-3)
        assert (p < 0.05) == (r["p_value"] < 0.05)
