"""Every result object keeps one contract (generated from ``hipkit._glossary.RESULT_CONTRACT``).

Frozen; ``summary()`` text shown as text; ``tidy()``/``glance()`` DataFrames (one row for glance);
``to_dict()`` JSON types that survive a round trip; ``plot()`` a Figure, not shown, the backend left as it
was; ``_repr_html_()`` with every data label escaped.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import json
import pkgutil
import warnings
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

import hipkit
from hipkit._display import SummaryText
from hipkit._glossary import RESULT_CONTRACT

ROOT = Path(__file__).resolve().parents[1]
HOSTILE = 'z<script>alert("x")</script>&'


def _data() -> pd.DataFrame:
    sleep = pd.read_csv(ROOT / "tests" / "reference" / "sleepstudy" / "data.csv")
    sleep["arm"] = np.where(sleep["Subject"].rank(method="dense") % 2 == 0, HOSTILE, "control")
    return sleep


def _trial() -> pd.DataFrame:
    trial = pd.read_csv(ROOT / "tests" / "reference" / "mmrm" / "two_arm_monotone.csv")
    return trial.replace({"group": {"exercise": HOSTILE}})


def _lmm():
    return hipkit.lmm("Reaction ~ Days + arm + (1 | Subject)", _data())


def _clean(tmp_path):
    src = tmp_path / "export.csv"
    src.write_bytes((ROOT / "datasets" / "raw" / "clinic_export_messy.csv").read_bytes())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return hipkit.clean(src)


def _out_of_core(tmp_path):
    from hipkit.cleaning.outofcore import clean_out_of_core

    src = tmp_path / "export.csv"
    src.write_bytes((ROOT / "datasets" / "raw" / "clinic_export_messy.csv").read_bytes())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return clean_out_of_core([src], tmp_path / "out", scheduler="serial", progress=False)


BUILDERS = {
    "hipkit.models.results.LmmResult": lambda tmp: _lmm(),
    "hipkit.models.marginal_means.EmmeansResult": lambda tmp: _lmm().emmeans("arm"),
    "hipkit.models.parametric_bootstrap.BootstrapResult": lambda tmp: hipkit.bootstrap(
        _lmm(), nsim=20, seed=1, scheduler="serial", progress=False
    ),
    "hipkit.models.mmrm_result.MmrmResult": lambda tmp: hipkit.mmrm(_trial(), "y", covariates=["baseline"]),
    "hipkit.cleaning.pipeline.CleanResult": _clean,
    "hipkit.cleaning.outofcore.OutOfCoreResult": _out_of_core,
}


def _result_classes() -> set[str]:
    found = set()
    for info in pkgutil.walk_packages(hipkit.__path__, "hipkit."):
        if ".templates" in info.name:
            continue
        mod = importlib.import_module(info.name)
        for name, obj in vars(mod).items():
            if inspect.isclass(obj) and obj.__module__ == info.name and name.endswith("Result"):
                found.add(f"{info.name}.{name}")
    return found


def test_every_result_class_of_the_package_is_in_the_contract():
    assert _result_classes() <= set(RESULT_CONTRACT), sorted(_result_classes() - set(RESULT_CONTRACT))
    assert set(BUILDERS) == set(RESULT_CONTRACT)


@pytest.fixture(scope="module", params=sorted(RESULT_CONTRACT))
def result(request, tmp_path_factory):
    return request.param, BUILDERS[request.param](tmp_path_factory.mktemp("contract"))


def test_result_is_a_frozen_dataclass(result):
    name, res = result
    assert f"{type(res).__module__}.{type(res).__name__}" == name
    assert dataclasses.is_dataclass(res) and type(res).__dataclass_params__.frozen
    first = dataclasses.fields(res)[0].name
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(res, first, None)


def test_result_has_every_method_of_its_contract(result):
    name, res = result
    missing = [m for m in RESULT_CONTRACT[name] if not callable(getattr(res, m, None))]
    assert not missing, missing


def test_summary_is_text_that_shows_as_text(result):
    name, res = result
    s = res.summary()
    assert isinstance(s, SummaryText) and len(s) > 0
    assert repr(s) == str(s)


def test_tidy_and_glance_are_frames_and_glance_has_one_row(result):
    name, res = result
    if "tidy" in RESULT_CONTRACT[name]:
        assert isinstance(res.tidy(), pd.DataFrame) and len(res.tidy()) > 0
    g = res.glance()
    assert isinstance(g, pd.DataFrame) and len(g) == 1


def test_to_dict_holds_json_types_that_survive_a_round_trip(result):
    name, res = result
    d = res.to_dict()
    text = json.dumps(d, allow_nan=False)  # raises on NaN, numpy types and anything not JSON
    assert json.loads(text) == d


def test_plot_returns_a_figure_and_leaves_the_backend_alone(result):
    name, res = result
    before = matplotlib.get_backend()
    fig = res.plot()
    assert isinstance(fig, Figure)
    assert matplotlib.get_backend() == before


def test_html_display_escapes_labels_from_the_data(result):
    name, res = result
    shown = res._repr_html_() + res.summary()._repr_html_()
    assert "<script" not in shown
    if name.startswith("hipkit.models"):  # built from data with the hostile label: it is shown, escaped
        assert "&lt;script&gt;" in shown


def test_random_effect_terms_are_spelled_alike_in_tidy_and_in_the_bootstrap():
    # One vocabulary (issue 12): sd__x, cor__x.y and sd__Observation everywhere, as broom.mixed spells them.
    from hipkit.models.parametric_bootstrap import default_statistic

    sleep = pd.read_csv(ROOT / "tests" / "reference" / "sleepstudy" / "data.csv")
    fit = hipkit.lmm("Reaction ~ Days + (Days | Subject)", sleep)
    ran = fit.tidy(effects="ran_pars")
    stat = default_statistic(fit)
    assert set(ran["term"]) | set(fit.tidy()["term"]) == set(stat)
    for term, estimate in zip(ran["term"], ran["estimate"]):
        assert stat[term] == pytest.approx(estimate, rel=1e-12), term
