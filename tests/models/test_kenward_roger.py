"""Kenward-Roger against pbkrtest 0.5.2 / lmerTest 3.1-3 / emmeans 1.8.4.1, and its algebra on generated designs.

References: tests/reference/kenward_roger/{make_data.py, data.csv, fit.R, kenward_roger.json} (nine REML
models on 16, 25, 20 and 200 participants: random intercept, correlated and uncorrelated slopes, missing
visits and dropout, a factor-by-group design with multi-df terms, covariates on the N and years scales, a
singular fit, irregular times) and the ``fixed_kenward_roger`` rows that every REML case of
tests/reference/<case>/expected.json carries. R is needed only to regenerate them.
"""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import hipkit
from hipkit.errors import ArgumentError, NotSupportedError
from hipkit.models.contrasts import type3_contrasts
from hipkit.models.kenward_roger import KenwardRoger

REF = Path(__file__).resolve().parents[1] / "reference"
KR_JSON = json.loads((REF / "kenward_roger" / "kenward_roger.json").read_text())
KR_MODELS = sorted(KR_JSON["models"])

# The reference suite's tolerances (tests/models/test_reference.py): estimates, SEs and covariances at
# rtol 1e-4; df and p at rtol 1e-3; the REML criterion at 1e-6.
RTOL_EST, RTOL_DF, RTOL_CRIT = 1e-4, 1e-3, 1e-6


def _data(cohort: str) -> pd.DataFrame:
    d = pd.read_csv(REF / "kenward_roger" / "data.csv", dtype={"visit": str})
    d = d[d["cohort"] == cohort].copy()
    levels = sorted(d["visit"].unique(), key=float)  # R's factor(visit, levels = numeric order)
    d["visit"] = pd.Categorical(d["visit"], categories=levels)
    return d


_FITS: dict = {}


def _fit(name: str):
    if name not in _FITS:
        m = KR_JSON["models"][name]
        _FITS[name] = hipkit.lmm(m["formula"], _data(m["cohort"]), check_singular="ignore")
    return _FITS[name]


def _scaled(V: np.ndarray, ref: np.ndarray) -> np.ndarray:
    # Covariances of coefficients on the N, years and weeks scales differ by orders of magnitude, so
    # both matrices are standardised by the reference's diagonal before an absolute comparison.
    s = np.sqrt(np.diag(ref))
    return V / np.outer(s, s)


def _order(res, terms) -> list[int]:
    return [res.design.x_names.index(t) for t in terms]


@pytest.mark.parametrize("name", KR_MODELS)
def test_fit_reaches_the_reference_optimum(name):
    # Every Kenward-Roger quantity is evaluated at the estimates: check we are at lme4's first.
    m = KR_JSON["models"][name]
    res = _fit(name)
    assert res.deviance <= m["reml_criterion"] + RTOL_CRIT * abs(m["reml_criterion"])
    np.testing.assert_allclose(res.deviance, m["reml_criterion"], rtol=RTOL_CRIT)
    assert res.singular == m["is_singular"]


@pytest.mark.parametrize("name", KR_MODELS)
def test_adjusted_covariance_matches_pbkrtest_vcovadj(name):
    m = KR_JSON["models"][name]
    res = _fit(name)
    idx = _order(res, m["vcov_terms"])
    ref_adj, ref = np.array(m["vcov_adjusted"]), np.array(m["vcov"])
    got_adj = res.vcov(ddf="kenward-roger").loc[m["vcov_terms"], m["vcov_terms"]].to_numpy()
    np.testing.assert_allclose(np.diag(got_adj), np.diag(ref_adj), rtol=RTOL_EST, err_msg=f"{name} diag")
    np.testing.assert_allclose(_scaled(got_adj, ref_adj), _scaled(ref_adj, ref_adj), rtol=RTOL_EST, atol=1e-6)
    np.testing.assert_allclose(_scaled(res.kenward_roger.vcov[np.ix_(idx, idx)], ref), _scaled(ref, ref), atol=1e-6)
    np.testing.assert_allclose(
        res.vcov().loc[m["vcov_terms"], m["vcov_terms"]].to_numpy(), res.cov_beta[np.ix_(idx, idx)]
    )


@pytest.mark.parametrize("name", KR_MODELS)
def test_coefficient_tests_match_lmertest_summary_kenward_roger(name):
    m = KR_JSON["models"][name]
    want = pd.DataFrame(m["fixed_kenward_roger"])
    got = _fit(name).tidy(ddf="Kenward-Roger").set_index("term").loc[want["term"]]
    np.testing.assert_allclose(got["estimate"], want["estimate"], rtol=RTOL_EST, atol=1e-8)
    np.testing.assert_allclose(got["std_error"], want["std_error"], rtol=RTOL_EST, err_msg=f"{name} SE")
    np.testing.assert_allclose(got["statistic"], want["statistic"], rtol=RTOL_EST, atol=1e-6, err_msg=name)
    np.testing.assert_allclose(got["df"], want["df"], rtol=RTOL_DF, err_msg=f"{name} KR df")
    np.testing.assert_allclose(got["p_value"], want["p_value"], rtol=RTOL_DF, err_msg=f"{name} KR p")


@pytest.mark.parametrize("name", KR_MODELS)
def test_f_tests_on_lmertest_hypothesis_matrices_match_krmodcomp(name):
    m = KR_JSON["models"][name]
    res = _fit(name)
    for t in m["type3_tests"]:
        L = np.zeros((len(t["L"]), res.design.p))
        L[:, _order(res, t["L_columns"])] = np.array(t["L"])
        got = res.kenward_roger.f_test_details(L, res.beta)
        what = f"{name} {t['term']}"
        assert got["num_df"] == t["num_df"], what
        np.testing.assert_allclose(got["statistic_unscaled"], t["F_unscaled"], rtol=RTOL_EST, err_msg=what)
        np.testing.assert_allclose(got["scale"], t["F_scaling"], rtol=RTOL_EST, err_msg=what)
        np.testing.assert_allclose(got["statistic"], t["F"], rtol=RTOL_EST, err_msg=what)
        np.testing.assert_allclose(got["den_df"], t["den_df"], rtol=RTOL_DF, err_msg=what)
        np.testing.assert_allclose(got["p_value"], t["p_value"], rtol=RTOL_DF, err_msg=what)


@pytest.mark.parametrize("name", KR_MODELS)
def test_anova_kenward_roger_matches_lmertest(name):
    # KR's F and df depend on L only through its row space (Theta = L'(L Phi L')^-1 L), so hipkit's own
    # Type III matrices give lmerTest's values whatever their basis, unlike Satterthwaite's contestMD.
    want = pd.DataFrame(KR_JSON["models"][name]["anova_type3_kenward_roger"])
    got = _fit(name).anova(ddf="kr").set_index("term").loc[want["term"]]
    assert got["num_df"].tolist() == want["num_df"].tolist()
    for col, ref, rtol in [
        ("statistic", "F", RTOL_EST),
        ("sum_sq", "sum_sq", RTOL_EST),
        ("mean_sq", "mean_sq", RTOL_EST),
        ("den_df", "den_df", RTOL_DF),
        ("p_value", "p_value", RTOL_DF),
    ]:
        np.testing.assert_allclose(got[col], want[ref], rtol=rtol, err_msg=f"{name} {col}")


@pytest.mark.parametrize("name", [n for n in KR_MODELS if "emmeans" in KR_JSON["models"][n]])
def test_emmeans_and_contrasts_match_emmeans_kenward_roger(name):
    m = KR_JSON["models"][name]
    res = _fit(name)
    want = pd.DataFrame(m["emmeans"])
    spec_by = [c for c in want.columns if c not in ("emmean", "SE", "df", "lower_CL", "upper_CL")]
    if "visit" in spec_by:
        emm = res.emmeans("visit", by="group", ddf="kenward-roger")
        want["visit"] = want["visit"].astype(str)
    else:
        at = sorted(want["visit_week"].unique().tolist())
        emm = res.emmeans("group", by="visit_week", at={"visit_week": at}, ddf="kenward-roger")
    got = emm.tidy()
    if "visit" in got:
        got["visit"] = got["visit"].astype(str)
    merged = want.merge(got, on=spec_by, suffixes=("_r", ""))
    assert len(merged) == len(want)
    np.testing.assert_allclose(merged["estimate"], merged["emmean"], rtol=RTOL_EST)
    np.testing.assert_allclose(merged["std_error"], merged["SE"], rtol=RTOL_EST)
    np.testing.assert_allclose(merged["df"], merged["df_r"], rtol=RTOL_DF)
    np.testing.assert_allclose(merged["conf_low"], merged["lower_CL"], rtol=RTOL_EST)
    pw = pd.DataFrame(m["pairwise_tukey"])
    ct = emm.contrast("pairwise", p_adjust="tukey")
    np.testing.assert_allclose(ct["estimate"], pw["estimate"], rtol=RTOL_EST, atol=1e-8)
    np.testing.assert_allclose(ct["std_error"], pw["SE"], rtol=RTOL_EST)
    np.testing.assert_allclose(ct["df"], pw["df"], rtol=RTOL_DF)
    np.testing.assert_allclose(ct["p_value"], pw["p_value"], rtol=RTOL_DF, atol=1e-12)


EXISTING = [
    (case, name)
    for case in sorted(p.name for p in REF.iterdir() if (p / "expected.json").exists())
    for name, m in json.loads((REF / case / "expected.json").read_text())["models"].items()
    if m.get("fixed_kenward_roger")
]


@pytest.mark.parametrize("case, name", EXISTING)
def test_coefficient_tests_match_lmertest_on_every_reference_case(case, name):
    exp = json.loads((REF / case / "expected.json").read_text())
    m = exp["models"][name]
    data = pd.read_csv(REF / case / "data.csv", dtype={"visit": str})
    res = hipkit.lmm(m["formula"], data, check_singular="ignore")
    want = pd.DataFrame(m["fixed_kenward_roger"])
    got = res.tidy(ddf="kenward-roger").set_index("term").loc[want["term"]]
    np.testing.assert_allclose(got["std_error"], want["std_error"], rtol=RTOL_EST, err_msg=f"{case} SE")
    np.testing.assert_allclose(got["df"], want["df"], rtol=RTOL_DF, err_msg=f"{case} df")
    np.testing.assert_allclose(got["p_value"], want["p_value"], rtol=RTOL_DF, err_msg=f"{case} p")


def test_ml_fits_are_refused_as_lmertest_refuses_them():
    ml = KR_JSON["ml"]
    assert "only available for REML" in ml["lmerTest_kenward_roger_error"]
    res = hipkit.lmm(ml["formula"], _data(ml["cohort"]), reml=False)
    for call in (
        lambda: res.tidy(ddf="kenward-roger"),
        lambda: res.anova(ddf="kenward-roger"),
        lambda: res.vcov(ddf="kenward-roger"),
    ):
        with pytest.raises(NotSupportedError, match="REML"):
            call()
    assert np.all(np.isfinite(res.tidy()["df"]))  # Satterthwaite still works on the ML fit


def test_ddf_names_are_case_insensitive_and_others_refused():
    res = _fit("seed16_intercept")
    kr = res.tidy(ddf="kenward-roger")
    for alias in ("Kenward-Roger", "KR", "kenward_roger"):
        pd.testing.assert_frame_equal(res.tidy(ddf=alias), kr)
    pd.testing.assert_frame_equal(res.tidy(ddf="Satterthwaite"), res.tidy())
    for bad in ("kenward", "between-within", "", None):
        with pytest.raises(ArgumentError, match="satterthwaite.*kenward-roger"):
            res.tidy(ddf=bad)
    assert "Kenward-Roger's method" in res.summary(ddf="kr").splitlines()[0]
    assert "Satterthwaite's method" in res.summary().splitlines()[0]


# -- generated designs -------------------------------------------------------------------------------


def _cohort(seed: int, balanced: bool = False, monotone: bool = False):
    """A seeded two-group cohort and a model for it (random intercept, correlated or uncorrelated slope).

    Visits are missing at random (15%), or with ``monotone`` only by dropout (at most T visit patterns,
    so that the engine keeps pattern sums), or with ``balanced`` never.
    """
    rng = np.random.default_rng(seed)
    G, T = int(rng.integers(6, 41)), int(rng.integers(3, 7))
    weeks = np.arange(T) * 2.0
    random = "(1 | pid)" if balanced else str(rng.choice(["(1 | pid)", "(1 + week | pid)", "(week || pid)"]))
    fixed = "visit * group" if balanced else str(rng.choice(["week * group", "visit * group", "week + group + x"]))
    rows = []
    for i in range(G):
        g = "A" if i < G // 2 else "B"
        u0, u1 = rng.normal(0, rng.uniform(0.5, 2.0)), rng.normal(0, 0.2)
        x = rng.normal(60, 10)  # a covariate on another scale (years)
        last = int(rng.integers(2, T + 1)) if monotone and rng.random() < 0.3 else T
        for t in weeks[:last]:
            if not (balanced or monotone) and t > 0 and rng.random() < 0.15:
                continue
            mu = 5 + u0 + (u1 - 0.3 * (g == "A")) * t + 0.02 * x
            rows.append(dict(pid=f"p{i:02d}", group=g, week=t, visit=f"v{int(t):02d}", x=x, y=mu + rng.normal(0, 1)))
    return f"y ~ {fixed} + {random}", pd.DataFrame(rows)


def _generated_fit(seed, **kw):
    formula, data = _cohort(seed, **kw)
    return hipkit.lmm(formula, data, check_singular="ignore", check_convergence="ignore")


@settings(max_examples=25)
@given(seed=st.integers(0, 2**31 - 1))
def test_adjusted_covariance_is_symmetric_positive_definite_and_not_below_the_unadjusted(seed):
    # Phi_A - Phi = 2 Phi U Phi with U = sum_rs W_rs B_r' Pi B_s, Pi = V^-1 - V^-1 X Phi X' V^-1 >= 0 and
    # W >= 0 (inverse information), so the adjustment is positive semi-definite for every REML fit.
    res = _generated_fit(seed)
    kr = res.kenward_roger
    A, V = kr.vcov_adjusted, kr.vcov
    np.testing.assert_array_equal(A, A.T)
    assert np.linalg.eigvalsh(A).min() > 0
    scale = np.sqrt(np.outer(np.diag(V), np.diag(V)))
    assert np.linalg.eigvalsh((A - V) / scale).min() > -1e-10
    assert np.all(np.diag(A) >= np.diag(V) * (1 - 1e-12))


@settings(max_examples=25)
@given(seed=st.integers(0, 2**31 - 1))
def test_pattern_path_and_participant_path_agree(seed):
    res = _generated_fit(seed, monotone=True)
    args = (res.theta, res.sigma, res.blocks, res.design.pattern)
    a = KenwardRoger.compute(*args, path="pattern")  # dropout only: at most T patterns, always summed
    b = KenwardRoger.compute(*args, path="participant")
    assert (a.path, b.path) == ("pattern", "participant")
    for x, y in [(a.vcov_adjusted, b.vcov_adjusted), (a.vcov, b.vcov), (a.W, b.W), (a.P, b.P)]:
        np.testing.assert_allclose(x, y, rtol=1e-10, atol=1e-10 * np.abs(y).max())
    L = np.eye(res.design.p)
    np.testing.assert_allclose(a.df(L), b.df(L), rtol=1e-10)


def test_irregular_times_take_the_participant_path_and_match_pbkrtest():
    # Covered against R by irregular200_slope; here: that model really runs on the per-participant path.
    assert _fit("irregular200_slope").kenward_roger.path == "participant"
    assert _fit("seed25_slope").kenward_roger.path == "pattern"


@settings(max_examples=20)
@given(seed=st.integers(0, 2**31 - 1))
def test_balanced_split_plot_gets_the_exact_df_and_no_adjustment(seed):
    # Kenward & Roger (1997, section 5): in a balanced split-plot (every participant seen at every
    # visit, random intercept, visit * group) the approximation reproduces the exact F tests: between
    # participants G - 2 df, within (G - 2)(T - 1), scale lambda = 1; the adjustment itself vanishes.
    formula, data = _cohort(seed, balanced=True)
    res = hipkit.lmm(formula, data, check_singular="ignore")
    assume(not res.singular)  # REML at the boundary is not the ANOVA estimator: no exact test to reproduce
    G, T = data["pid"].nunique(), data["visit"].nunique()
    kr = res.kenward_roger
    frame = res.data.loc[res.design.rows_used]
    expect = {"group": G - 2, "visit": (G - 2) * (T - 1), "visit:group": (G - 2) * (T - 1)}
    for term, L in type3_contrasts(res.design, frame).items():
        d = kr.f_test_details(L, res.beta)
        assert d["den_df"] == pytest.approx(expect[term], rel=1e-8), term
        assert d["scale"] == pytest.approx(1.0, rel=1e-8), term
    np.testing.assert_allclose(kr.vcov_adjusted, kr.vcov, rtol=1e-8, atol=1e-10 * np.abs(kr.vcov).max())
