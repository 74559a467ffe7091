"""The report's analyses at scale: model fits on the engine's pattern path; the Wilcoxon test in the change table."""

from __future__ import annotations

import warnings

import numpy as np

from hipkit.models import engine
from hipkit.report import clinic as C
from hipkit.simulate import simulate
from hipkit.stats import signed_rank_test


def _clinic_data(n_scale=0.1, seed=3) -> C.ClinicData:
    data = simulate("clinic_multisite", seed=seed, n_scale=n_scale).data
    return C.ClinicData(data=data, quarantine=data.iloc[:0], log=None, inputs=["sim"], input_hash="", was_raw=False)


def test_the_report_model_fits_use_the_engine_pattern_path(monkeypatch):
    seen = []
    original = engine.pattern_sums

    def spy(blocks):
        result = original(blocks)
        seen.append(result is not None)
        return result

    monkeypatch.setattr(engine, "pattern_sums", spy)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table, notes, _ = C.within_person_relation(_clinic_data())
    assert len(table) == 2 and not notes
    assert seen and all(seen)  # every deviance evaluation summed over visit patterns, not patients


def test_change_table_wilcoxon_p_is_signed_rank_test_of_the_pairs():
    cd = _clinic_data()
    change = C.change_from_baseline(cd, ["pain_vas"])
    row = change.loc[(change["group"] == "HIP") & (change["week"] == 6)].iloc[0]
    pv = cd.data.groupby(["participant_id", "group", "visit_week"])["pain_vas"].mean().unstack("visit_week")
    hip = pv.loc[pv.index.get_level_values("group") == "HIP", [0.0, 6.0]].dropna()
    expected = signed_rank_test(hip[6.0].to_numpy(), hip[0.0].to_numpy())
    assert row["n"] == len(hip)
    assert np.isclose(row["p_wilcoxon"], expected["p_value"].iloc[0], rtol=1e-12)
