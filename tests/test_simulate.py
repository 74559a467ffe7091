"""hipkit.simulate: reproducible, labelled, calibrated to the published designs."""

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import hipkit
from hipkit.simulate import DESIGNS, simulate, write_dataset

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("name", list(DESIGNS))
def test_same_seed_same_table_bit_for_bit(name):
    a, b = simulate(name, seed=3), simulate(name, seed=3)
    pd.testing.assert_frame_equal(a.data, b.data)
    assert not simulate(name, seed=4).data.equals(a.data)


@pytest.mark.parametrize("name", list(DESIGNS))
def test_every_calibration_value_has_a_source_or_says_it_is_an_assumption(name):
    cal = simulate(name, seed=1).calibration()
    assert len(cal) > 10
    assert cal["source"].str.len().gt(5).all()
    assert set(cal["kind"]) <= {"published", "literature", "derived", "assumption"}
    assert (cal.loc[cal["kind"] == "assumption", "source"].str.startswith("assumption")).all()


@pytest.mark.parametrize(
    "name, sizes",
    [
        ("ferber2011", {"pfps": 15, "control": 10}),  # Ferber 2011: 15 PFPS, 10 controls
        ("beers2008", {"itbfs": 16}),  # Beers 2008: 16 patients
        ("ferber2015", {"HIP": 111, "KNEE": 88}),  # Ferber 2015: 111 vs 88
    ],
)
def test_group_sizes_follow_the_published_designs(name, sizes):
    d = simulate(name, seed=1).data
    assert d.groupby("group")["participant_id"].nunique().to_dict() == sizes


def test_published_sex_split_is_kept():
    d = simulate("ferber2011", seed=1).data.drop_duplicates("participant_id")
    assert d.groupby(["group", "sex"]).size().to_dict() == {
        ("control", "female"): 6,
        ("control", "male"): 4,
        ("pfps", "female"): 10,
        ("pfps", "male"): 5,
    }


@pytest.mark.parametrize("name", list(DESIGNS))
def test_values_respect_the_registry_floors_and_ceilings(name):
    d = simulate(name, seed=5).data
    reg = hipkit.load_registry()
    for col in ["pain_vas", "akps", "lefs", "hip_abd_strength_n"]:
        if col in d:
            lo, hi = reg[col].range
            assert d[col].between(lo, hi).all(), col


def test_the_simulated_within_person_link_is_recovered_on_a_large_cohort():
    # 2015-like design scaled up: pain falls with a participant's own strength gain (within_share 0.5).
    d = simulate("ferber2015", seed=11, n_scale=4).data
    t = hipkit.within_between(d[d.group == "HIP"], "pain_vas", "hip_abd_strength_n").tidy().set_index("term")
    assert t.loc["hip_abd_strength_n_within", "conf_high"] < 0


def test_2008_design_has_an_injured_side_deficit_that_closes_by_week_6():
    d = simulate("beers2008", seed=2008, n_scale=5).data
    lsi = d.pivot_table(index=["participant_id", "visit_week"], columns="limb", values="hip_abd_strength_n")
    ratio = (lsi["involved"] / lsi["uninvolved"]).groupby(level=1).mean()
    assert ratio.loc[0.0] == pytest.approx(0.80, abs=0.03)
    assert ratio.loc[6.0] == pytest.approx(1.00, abs=0.03)


@pytest.mark.parametrize("name", list(DESIGNS))
def test_bundled_datasets_are_regenerated_bit_for_bit_and_labelled_simulated(tmp_path, name):
    out = write_dataset(name, tmp_path)
    bundled = ROOT / "datasets" / name
    assert (out / "data.csv").read_bytes() == (bundled / "data.csv").read_bytes()
    pkg = json.loads((bundled / "datapackage.json").read_text())
    assert pkg["provenance"].startswith("simulated; calibrated to")
    assert "SIMULATED" in pkg["description"]
    assert pkg["resources"][0]["hash"] == "sha256:" + hashlib.sha256((bundled / "data.csv").read_bytes()).hexdigest()
    units = {f["name"]: f.get("unit") for f in pkg["resources"][0]["schema"]["fields"]}
    assert units["hip_abd_strength_n"] == "N" and units["pain_vas"] == "cm"
    assert "simulate(" in pkg["generator"]["call"]


def test_messy_clinic_export_cleans_with_every_row_accounted_for():
    res = hipkit.clean(ROOT / "datasets" / "raw" / "clinic_multisite_export.csv", progress=False)
    r = res.log["rows"]
    assert r["invariant_holds"] and r["participants"] == 2000
    assert np.isfinite(res.data["hip_abd_strength_n"]).mean() > 0.98


def test_values_from_other_studies_are_labelled_literature_not_published():
    cal = simulate("beers2008", seed=1).calibration().set_index("parameter")
    assert cal.loc["injured_deficit", "kind"] == "literature"  # Fredericson 2000, not Beers 2008
    assert cal.loc["itbfs.n_female", "kind"] == "published"


def test_stronger_participants_function_better_in_the_2008_design():
    d = simulate("beers2008", seed=2008, n_scale=6).data
    base = d[d.visit_week == 0].groupby("participant_id")[["hip_abd_strength_n", "lefs"]].mean()
    assert base.corr().iloc[0, 1] > 0.2
