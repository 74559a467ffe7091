"""emmeans' treatment of numeric covariates (its ``cov.keep`` rule) against emmeans 1.8.4.1.

emmeans keeps a numeric predictor with at most ``cov.keep`` distinct values (default ``"2"``: a 0/1
indicator, time with two visits) in its reference grid at each of its values and averages the means
over them; other covariates are set at their mean unless ``at`` gives values. The references come from
``tests/reference/emmeans_covariates/fit.R`` (SIMULATED data; R is not needed here): the grid's levels,
what each mean averages over, the means with Satterthwaite and Kenward-Roger df, and contrasts.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import hipkit
from hipkit.errors import ArgumentError

from .test_r_scripts import _rscript_with_packages
from .test_reference import close, close_p

CASE = Path(__file__).resolve().parents[1] / "reference" / "emmeans_covariates"
REF = json.loads((CASE / "emmeans_covariates.json").read_text())
DATA = pd.read_csv(CASE / "data.csv")
DATASETS = {"two_visits": DATA[DATA["visit_week"] != 3].reset_index(drop=True), "three_visits": DATA}
CALLS = [
    (m, k, ddf)
    for m, rec in REF["models"].items()
    for k, e in rec["emmeans"].items()
    for ddf in ("satterthwaite", "kenward_roger")
    if ddf in e
]
_FITS: dict[str, object] = {}


def _fit(model: str):
    if model not in _FITS:
        rec = REF["models"][model]
        _FITS[model] = hipkit.lmm(rec["formula"], DATASETS[model], reml=rec["REML"])
    return _FITS[model]


def _call(model: str, key: str, ddf: str):
    """hipkit's emmeans for the recorded R call (spec ``~ a | b``, cov.keep, at)."""
    e = REF["models"][model]["emmeans"][key]
    lhs, _, rhs = e["spec"].lstrip("~").partition("|")
    specs = [s.strip() for s in lhs.split("+")]
    by = [s.strip() for s in rhs.split("+")] if rhs.strip() else None
    kwargs = {}
    if e.get("cov_keep") is not None:
        keep = e["cov_keep"]
        kwargs["cov_keep"] = keep[0] if len(keep) == 1 else keep
    if e.get("at"):
        kwargs["at"] = e["at"]
    if e["nesting"] == "none":
        kwargs["nesting"] = None
    return _fit(model).emmeans(specs, by=by, ddf=ddf.replace("_", "-"), **kwargs), specs, by or []


def _labels(values: pd.Series) -> pd.Series:
    """Levels as text, a whole number without its ``.0`` (R prints the week 6, pandas 6.0)."""
    return values.astype(str).str.replace(r"\.0$", "", regex=True)


def test_reference_fits_match_lmertest():
    for model in REF["models"]:
        want = pd.DataFrame(REF["models"][model]["fixed"])
        got = _fit(model).tidy().set_index("term").loc[want["term"]]
        close(got["estimate"], want["estimate"], "estimate", f"{model} estimates")
        close(got["std_error"], want["std_error"], "estimate", f"{model} SEs")
        assert int(_fit(model).glance().iloc[0]["nobs"]) == REF["models"][model]["nobs"]


@pytest.mark.parametrize("model, key, ddf", CALLS, ids=[f"{m}-{k}-{d}" for m, k, d in CALLS])
def test_reference_grid_and_averaged_over_match_emmeans(model, key, ddf):
    e = REF["models"][model]["emmeans"][key]
    emm, _, _ = _call(model, key, ddf)
    assert list(emm.averaged_over) == e[ddf]["averaged_over"]
    if e["nesting"] == "auto":
        assert emm.nesting == (e[ddf]["nesting_detected"] or {})
    assert list(emm.grid_levels) == list(e["grid_levels"])
    for var, levels in e["grid_levels"].items():
        got = emm.grid_levels[var]
        if isinstance(levels[0], str):
            assert [str(v) for v in got] == levels, var
        else:
            close(got, levels, "estimate", f"{key} grid levels of {var}")


@pytest.mark.parametrize("model, key, ddf", CALLS, ids=[f"{m}-{k}-{d}" for m, k, d in CALLS])
def test_means_match_emmeans(model, key, ddf):
    emm, specs, by = _call(model, key, ddf)
    want = pd.DataFrame(REF["models"][model]["emmeans"][key][ddf]["emmeans"])
    got = emm.tidy()
    keys = specs + by
    for k in keys:
        want[k], got[k] = _labels(want[k]), _labels(got[k])
    assert got[keys].values.tolist() == want[keys].values.tolist()  # emmeans' row order
    what = f"{model}/{key} ({ddf})"
    close(got["estimate"], want["emmean"], "estimate", f"{what} emmean")
    close(got["std_error"], want["SE"], "estimate", f"{what} SE")
    close(got["df"], want["df"], "df_p", f"{what} df")
    close(got["conf_low"], want["lower_CL"], "estimate", f"{what} lower CL")
    close(got["conf_high"], want["upper_CL"], "estimate", f"{what} upper CL")


CONTRASTS = [
    (m, k, ddf, c)
    for m, k, ddf in CALLS
    for c in REF["models"][m]["emmeans"][k][ddf]
    if c not in ("averaged_over", "emmeans", "nesting_detected")
]
_METHODS = {"pairwise_holm": ("pairwise", "holm"), "trt_vs_ctrl_bonferroni": ("trt.vs.ctrl", "bonferroni")}


@pytest.mark.parametrize("model, key, ddf, name", CONTRASTS, ids=["-".join(c) for c in CONTRASTS])
def test_contrasts_match_emmeans(model, key, ddf, name):
    emm, specs, by = _call(model, key, ddf)
    method, adjust = _METHODS[name]
    got = emm.contrast(method, p_adjust=adjust)
    want = pd.DataFrame(REF["models"][model]["emmeans"][key][ddf][name])
    # emmeans labels a covariate's levels with its name ("visit_week0 - visit_week6"); hipkit with the value.
    labels = want["contrast"]
    for s in specs:
        labels = labels.str.replace(rf"\b{re.escape(s)}(?=[-0-9.])", "", regex=True)
    assert got["contrast"].tolist() == labels.tolist()
    if by:
        assert _labels(got[by[0]]).tolist() == want["by"].tolist()
    what = f"{model}/{key}/{name} ({ddf})"
    close(got["estimate"], want["estimate"], "estimate", f"{what} estimate")
    close(got["std_error"], want["SE"], "estimate", f"{what} SE")
    close(got["df"], want["df"], "df_p", f"{what} df")
    close(got["statistic"], want["t_ratio"], "estimate", f"{what} t")
    close_p(got["p_value"], want["p_value"], f"{what} adjusted p")


def test_two_valued_covariate_is_averaged_over_not_set_at_its_mean():
    res = _fit("three_visits")
    kept = res.emmeans("group")
    at_mean = res.emmeans("group", cov_keep=0)
    assert kept.kept_covariates == ("sex_male",)
    assert at_mean.kept_covariates == () and at_mean.averaged_over == ()
    # sex_male enters linearly, so averaging over 0 and 1 is setting it at 0.5, not at its mean (0.436).
    shift = res.tidy().set_index("term").loc["sex_male", "estimate"] * (0.5 - DATA["sex_male"].mean())
    np.testing.assert_allclose(kept.tidy()["estimate"] - at_mean.tidy()["estimate"], shift, rtol=1e-10)


def test_at_overrides_the_cov_keep_rule():
    res = _fit("three_visits")
    emm = res.emmeans("group", at={"sex_male": [1]})
    assert emm.grid_levels["sex_male"] == [1.0]
    assert "sex_male" not in emm.averaged_over and emm.kept_covariates == ()


@pytest.mark.parametrize("bad", [True, [2, 1.5], [None]])
def test_cov_keep_rejects_values_that_are_neither_thresholds_nor_names(bad):
    with pytest.raises(TypeError, match="cov_keep"):
        _fit("three_visits").emmeans("group", cov_keep=bad)


def test_cov_keep_name_must_be_a_numeric_predictor():
    with pytest.raises(ValueError, match="cov_keep names"):
        _fit("three_visits").emmeans("group", cov_keep=["group"])


def test_means_of_a_nested_variable_are_not_supported():
    # age_years, kept by name, is constant within participants and so nested in group (as emmeans finds).
    with pytest.raises(hipkit.errors.NotSupportedError, match="nested"):
        _fit("three_visits").emmeans("age_years", cov_keep="age_years")


def test_nesting_must_be_auto_or_none():
    with pytest.raises(TypeError, match="nesting"):
        _fit("three_visits").emmeans("group", nesting="yes")


@pytest.mark.needs_r
@pytest.mark.skipif(not _rscript_with_packages(), reason="Rscript with lme4/lmerTest/emmeans/pbkrtest not installed")
def test_committed_r_script_reproduces_emmeans_covariates_json(tmp_path):
    shutil.copy(CASE.parent / "_common.R", tmp_path / "_common.R")
    shutil.copytree(CASE, tmp_path / CASE.name)
    (tmp_path / CASE.name / "emmeans_covariates.json").unlink()
    proc = subprocess.run(
        ["Rscript", str(tmp_path / CASE.name / "fit.R")], capture_output=True, text=True, check=False, timeout=600
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    got = json.loads((tmp_path / CASE.name / "emmeans_covariates.json").read_text())["models"]
    for model, rec in REF["models"].items():
        for key, e in rec["emmeans"].items():
            g = got[model]["emmeans"][key]
            assert g["grid_levels"] == e["grid_levels"]
            for ddf in ("satterthwaite", "kenward_roger"):
                if ddf in e:
                    a = [r["emmean"] for r in g[ddf]["emmeans"]] + [r["df"] for r in g[ddf]["emmeans"]]
                    b = [r["emmean"] for r in e[ddf]["emmeans"]] + [r["df"] for r in e[ddf]["emmeans"]]
                    np.testing.assert_allclose(a, b, rtol=1e-8)


def _ctg_fit(formula):
    import warnings as _w

    d = pd.read_csv(Path(__file__).resolve().parents[1] / "reference" / "categorical_time_group" / "data.csv")
    with _w.catch_warnings():
        _w.simplefilter("ignore")
        return hipkit.lmm(formula, d)


@pytest.mark.parametrize(
    "formula, specs, kwargs, named",
    [
        ("pain_vas ~ visit * group + (1 | participant_id)", "nope", {}, "nope"),
        ("pain_vas ~ visit * group + (1 | participant_id)", "group", {"cov_keep": 3.0}, "cov_keep"),
        ("pain_vas ~ visit * group + (1 | participant_id)", "group", {"cov_keep": {"visit": 1}}, "cov_keep"),
        ("pain_vas ~ visit * group + (1 | participant_id)", "visit", {"at": {"group": ["zzz"]}}, "group"),
        ("pain_vas ~ visit * group + (1 | participant_id)", "group", {"at": {"visit": "x"}}, "visit"),
        ("pain_vas ~ visit * group + (1 | participant_id)", "group", {"at": {"visit": []}}, "visit"),
        ("pain_vas ~ visit * group + (1 | participant_id)", "group", {"conf_level": 2}, "conf_level"),
        ("pain_vas ~ visit * group + (1 | participant_id)", "group", {"at": [1]}, "at"),
    ],
)
def test_emmeans_refuses_a_wrong_argument_with_an_error_naming_it(formula, specs, kwargs, named):
    # Review: bare TypeError / ValueError / PatsyError / AttributeError, or silent NaN intervals (conf_level=2).
    with pytest.raises(ArgumentError, match=named) as info:
        _ctg_fit(formula).emmeans(specs, **kwargs)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    "method, kwargs, named",
    [("foo", {}, "method"), ("trt.vs.ctrl", {"ref": 5}, "ref"), ("pairwise", {"adjust": "foo"}, "adjust"),
     ("trt.vs.ctrl", {"adjust": "tukey"}, "tukey")],
)  # fmt: skip
def test_contrast_refuses_a_wrong_argument_with_an_error_naming_it(method, kwargs, named):
    e = _ctg_fit("pain_vas ~ C(visit) * group + (1 | participant_id)").emmeans("visit", by="group")
    with pytest.raises(ArgumentError, match=named):
        e.contrast(method, **kwargs)


def test_contrasting_a_numeric_time_says_to_make_it_a_factor():
    # Issue 14 / review: the README's emmeans(...).contrast("trt.vs.ctrl") on a numeric visit_week raised a raw
    # numpy matmul error (one grid value per group, no pairs).
    e = _ctg_fit("pain_vas ~ visit * group + (1 | participant_id)").emmeans("visit", by="group")
    with pytest.raises(ArgumentError, match=r"C\(visit\)"):
        e.contrast("trt.vs.ctrl")
