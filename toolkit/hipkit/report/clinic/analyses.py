"""The clinic report's estimates: visit means, change from week 0, responders, MDC, strength relation.

Thin calls into :mod:`hipkit.stats` and :mod:`hipkit.models` on the clean table (patients as integer
codes, :func:`~hipkit.report.clinic.data.coded`), with every count of people registered in the
report's disclosure ledger. Sentences are written by :mod:`hipkit.report.format`.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy.stats import t as t_dist

from ...errors import HipkitError
from ...models.predictors import within_between
from ...registry import load_registry
from ...stats import change_scores, paired_change, responders, strength_vs_mdc
from ...stats._common import check_conf_level
from ...stats.responder import TOL
from ..disclosure import Count, Disclosure
from ..format import plain_sentence
from .data import (
    FUNCTION_MEASURES,
    GROUP,
    PAIN_MEASURES,
    STRENGTH,
    SUBJECT,
    TIME,
    ClinicData,
    Note,
    _leg_codes,
    _per_visit,
    _registered,
    coded,
    outcome_measures,
    patient_codes,
)
from .ledger import _finish, _ledger

__all__ = [
    "visit_means",
    "change_from_baseline",
    "responder_rates",
    "strength_gains_vs_mdc",
    "within_person_relation",
]


def visit_means(
    cd: ClinicData,
    measures: Sequence[str] | None = None,
    min_cell: int = 5,
    disclosure: Disclosure | None = None,
    conf_level: float = 0.95,
) -> pd.DataFrame:
    """Mean of each measure per group and programme week, with a t-based CI (95% by default).

    Per-side measures (strength) are averaged over the two sides of a patient first, so ``n`` counts
    patients. Cells whose count is hidden are suppressed (mean and CI left empty).

    Parameters
    ----------
    cd : ClinicData
    measures : sequence of str, optional
        Default: every outcome measure with data.
    min_cell : int, default 5
    disclosure : Disclosure, optional
        The report's ledger (the patients per cell are counts in it); default: a private one, resolved here.
    conf_level : float, default 0.95
        Confidence level of the t interval.

    Returns
    -------
    pandas.DataFrame
        ``measure, group, week, n, mean, sd, conf_low, conf_high``.
    """
    conf_level = check_conf_level(conf_level, "visit_means")
    ledger, own = _ledger(disclosure, min_cell)
    measures = list(measures) if measures is not None else outcome_measures(cd.data)
    on_schedule = cd.data[TIME].isin(cd.programme_weeks).to_numpy()
    frame = cd.data.loc[on_schedule, [GROUP, TIME, *measures]].assign(_code=patient_codes(cd)[on_schedule])
    pv = frame.groupby(["_code", GROUP, TIME], as_index=False, observed=True)[measures].mean()
    rows = []
    for m in measures:
        have = pv.loc[pv[m].notna()]
        agg = have.groupby([GROUP, TIME])[m].agg(["count", "mean", "std"])
        members = have.groupby([GROUP, TIME])["_code"].agg(lambda s: s.to_numpy())
        for (g, w), r in agg.iterrows():
            n = int(r["count"])
            half = t_dist.ppf((1 + conf_level) / 2, n - 1) * r["std"] / math.sqrt(n) if n > 1 else np.nan
            rows.append(
                {
                    "measure": m,
                    "group": g,
                    "week": w,
                    "n": ledger.count(("visit", m, g, float(w)), members=members.loc[(g, w)], table="visit means"),
                    "mean": r["mean"],
                    "sd": r["std"],
                    "conf_low": r["mean"] - half,
                    "conf_high": r["mean"] + half,
                }
            )
    out = pd.DataFrame(rows, columns=["measure", "group", "week", "n", "mean", "sd", "conf_low", "conf_high"])
    return _finish(ledger, own, out, "means")


def change_from_baseline(
    cd: ClinicData, measures: Sequence[str] | None = None, min_cell: int = 5, disclosure: Disclosure | None = None
) -> pd.DataFrame:
    """Mean change from week 0 per group and later programme week: paired t CI and Hedges' g.

    Parameters
    ----------
    cd : ClinicData
    measures : sequence of str, optional
    min_cell : int, default 5
        Rows with fewer patients are suppressed.
    disclosure : Disclosure, optional
        The report's ledger (the patients with both visits are counts in it); default: a private one.

    Returns
    -------
    pandas.DataFrame
        ``measure, group, week, n, mean_change, conf_low, conf_high, hedges_g, p_value`` (paired t)
        and ``p_wilcoxon`` (Wilcoxon signed-rank test).

    Notes
    -----
    :func:`hipkit.paired_change` per group and week (patients with both visits; per-side measures
    averaged over sides): the paired t test, and the Wilcoxon signed-rank test as R's
    ``wilcox.test(paired = TRUE)`` (exact p below 50 patients with nonzero, untied changes; the
    normal approximation with continuity and tie correction otherwise; n log n). One table of
    patients x visits is made once; each test sees only its own pairs (linear in patients).
    """
    ledger, own = _ledger(disclosure, min_cell)
    measures = list(measures) if measures is not None else outcome_measures(cd.data)
    rows = []
    base = min(cd.programme_weeks)
    on_schedule = cd.data[TIME].isin(cd.programme_weeks).to_numpy()
    frame = cd.data.loc[on_schedule, [GROUP, TIME, *measures]].assign(_code=patient_codes(cd)[on_schedule])
    pv = frame.groupby(["_code", GROUP, TIME], as_index=False, observed=True)[measures].mean()
    for m in measures:
        wide = pv.pivot_table(index=[GROUP, "_code"], columns=TIME, values=m, aggfunc="first", observed=True)
        present = set(wide.index.get_level_values(GROUP).unique())
        for g in sorted(cd.data[GROUP].unique()):
            part = wide.xs(g, level=GROUP) if g in present else wide.iloc[:0]
            for w in cd.programme_weeks:
                if w == base:
                    continue
                row = {"measure": m, "group": g, "week": w}
                pair = part[[base, w]].dropna() if base in part.columns and w in part.columns else part.iloc[:0, :0]
                n = len(pair)
                row["n"] = ledger.count(
                    ("change", m, g, float(w)), members=pair.index.to_numpy(dtype=np.int64), table="change"
                )
                if n >= max(min_cell, 2):
                    long = pd.DataFrame(
                        {
                            SUBJECT: np.tile(pair.index.to_numpy(), 2),
                            TIME: np.repeat([base, w], n),
                            m: np.concatenate([pair[base].to_numpy(), pair[w].to_numpy()]),
                        }
                    )
                    try:
                        with warnings.catch_warnings():
                            warnings.simplefilter("ignore")
                            res = paired_change(long, m, baseline=base, follow_up=w)
                    except (HipkitError, ValueError):
                        res = None
                    if res is not None:
                        t = res.set_index("test")
                        row.update(
                            mean_change=t.loc["paired_t", "estimate"],
                            conf_low=t.loc["paired_t", "conf_low"],
                            conf_high=t.loc["paired_t", "conf_high"],
                            hedges_g=t.loc["paired_t", "hedges_g"],
                            p_value=t.loc["paired_t", "p_value"],
                            p_wilcoxon=t.loc["wilcoxon", "p_value"],
                        )
                rows.append(row)
    cols = [
        "measure",
        "group",
        "week",
        "n",
        "mean_change",
        "conf_low",
        "conf_high",
        "hedges_g",
        "p_value",
        "p_wilcoxon",
    ]
    out = pd.DataFrame(rows).reindex(columns=cols)
    return _finish(ledger, own, out, "change")


def responder_rates(cd: ClinicData, min_cell: int = 5, disclosure: Disclosure | None = None) -> pd.DataFrame:
    """Share of patients whose change from week 0 to their last visit reached each measure's MCID.

    Only measures with a published MCID in the registry are included; Wilson 95% CIs (Wilson 1927).
    Suppressed where the responders or non-responders number 1 to ``min_cell - 1`` (the
    non-responders are registered as a count that is not shown but follows from the others).

    Parameters
    ----------
    cd : ClinicData
    min_cell : int, default 5
    disclosure : Disclosure, optional
        The report's ledger (responders and non-responders are counts in it); default: a private one.

    Returns
    -------
    pandas.DataFrame
        ``measure, group, n, responders, proportion, conf_low, conf_high, mcid, mcid_source``.
    """
    ledger, own = _ledger(disclosure, min_cell)
    reg = load_registry()
    measures = [m for m in outcome_measures(cd.data) if reg[m].mcid is not None]
    cols = ["measure", "group", "n", "responders", "proportion", "conf_low", "conf_high", "mcid", "mcid_source"]
    if not measures:
        return pd.DataFrame(columns=cols)
    frame = cd.data[[GROUP, TIME, *measures]].assign(**{SUBJECT: patient_codes(cd)})
    per_visit = _per_visit(frame, measures)  # one row per patient and visit, sides averaged; ids are codes
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = responders(per_visit, outcomes=measures, group=GROUP, baseline=min(cd.programme_weeks))
    except HipkitError:
        return pd.DataFrame(columns=cols)
    res = _ordered_interval(res.loc[res["n"] > 0, cols].reset_index(drop=True), "proportion", (0.0, 1.0))
    n_cells, k_cells = [], []
    for _, r in res.iterrows():
        m, g = r["measure"], r["group"]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            cs = change_scores(per_visit.loc[per_visit[GROUP] == g], m, baseline=min(cd.programme_weeks))
        cs = cs.loc[cs["change"].notna()]
        hit = (reg[m].improvement_sign * cs["change"]) >= float(r["mcid"]) - TOL
        ids = cs[SUBJECT].to_numpy(dtype=np.int64)
        total = ledger.count(("responders n", m, g), members=ids, value=int(r["n"]), table="responders")
        hits = ledger.count(
            ("responders", m, g), members=ids[hit.to_numpy()], value=int(r["responders"]), table="responders"
        )
        ledger.count(("non-responders", m, g), members=ids[~hit.to_numpy()], published=False)
        n_cells.append(total)
        k_cells.append(hits)
    res["n"] = pd.Series(n_cells, index=res.index, dtype=object)
    res["responders"] = pd.Series(k_cells, index=res.index, dtype=object)
    return _finish(ledger, own, res, "responders")


def strength_gains_vs_mdc(
    cd: ClinicData, min_cell: int = 5, disclosure: Disclosure | None = None
) -> pd.DataFrame | Note:
    """Share of legs whose strength gain (week 0 to last visit) exceeds the MDC95.

    Each leg is judged on its own, as the MDC is for one reading (so ``n`` counts legs; the two legs
    of a patient are not independent, so the CIs are a little narrow). The MDC is the registry's
    (derived from the between-tester SEM of Piva et al. 2006). The legs, the legs exceeding the MDC
    and the rest are counts in the ledger (universe ``legs``); a group with fewer than ``min_cell``
    patients behind its legs is not shown.

    Parameters
    ----------
    cd : ClinicData
    min_cell : int, default 5
    disclosure : Disclosure, optional
        The report's ledger (legs, universe ``legs``); default: a private one, resolved here.

    Returns
    -------
    pandas.DataFrame or Note
        ``group, unit, n, n_exceeding, proportion, conf_low, conf_high, mdc``; a :class:`Note` if there is no
        strength measure or no follow-up.
    """
    ledger, own = _ledger(disclosure, min_cell)
    if STRENGTH not in outcome_measures(cd.data):
        return Note("strength gains against the MDC", "the data have no hip-abductor strength readings")
    base_week = min(cd.programme_weeks)
    has = cd.data[STRENGTH].notna().to_numpy()
    legs = pd.DataFrame(
        {
            "leg": _leg_codes(cd)[has],
            "patient": patient_codes(cd)[has],
            GROUP: cd.data[GROUP].to_numpy()[has],
            TIME: cd.data[TIME].to_numpy(dtype=float)[has],
            STRENGTH: cd.data[STRENGTH].to_numpy(dtype=float)[has],
        }
    )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = strength_vs_mdc(coded(cd, [STRENGTH, "side"]), STRENGTH, group=GROUP, baseline=base_week)
    except HipkitError as exc:
        return Note("strength gains against the MDC", str(exc).splitlines()[0])
    res = res.loc[res["n"] > 0, ["group", "unit", "n", "n_exceeding", "proportion", "conf_low", "conf_high", "mdc"]]
    if res.empty:
        return Note("strength gains against the MDC", "no patient has strength at week 0 and at a later visit")
    res = _ordered_interval(res.reset_index(drop=True), "proportion", (0.0, 1.0))
    # The legs behind each row: a week-0 reading and a later one (the last), per leg.
    first = legs.loc[legs[TIME] == base_week].groupby("leg")[STRENGTH].mean()
    later = legs.loc[legs[TIME] > base_week].sort_values(TIME).groupby("leg")[STRENGTH].last()
    gain = (later - first).dropna()
    info = legs.drop_duplicates("leg").set_index("leg")
    mdc = float(res["mdc"].iloc[0])
    n_cells, k_cells, keep = [], [], []
    for _, r in res.iterrows():
        g = r["group"]
        ids = gain.index[(info.loc[gain.index, GROUP] == g).to_numpy()].to_numpy(dtype=np.int64)
        over = (gain.loc[ids] > mdc).to_numpy()
        if len(ids) != int(r["n"]) or int(over.sum()) != int(r["n_exceeding"]):
            over = None  # the stats function counts by another rule: counts without members
        patients = (
            info.loc[ids, "patient"].nunique() if over is not None else legs.loc[legs[GROUP] == g, "patient"].nunique()
        )
        shown = bool(patients >= min_cell)  # what identifies people is the patients behind the legs
        if over is None:
            total = ledger.count(("mdc legs", g), value=int(r["n"]), universe="legs", table="MDC", published=shown)
            hits = ledger.count(
                ("mdc exceeding", g), value=int(r["n_exceeding"]), universe="legs", table="MDC", published=shown
            )
            rest = ledger.count(
                ("mdc not exceeding", g), value=int(r["n"]) - int(r["n_exceeding"]), universe="legs", published=False
            )
            ledger.relation(total, [hits, rest])
        else:
            total = ledger.count(("mdc legs", g), members=ids, universe="legs", table="MDC", published=shown)
            hits = ledger.count(("mdc exceeding", g), members=ids[over], universe="legs", table="MDC", published=shown)
            ledger.count(("mdc not exceeding", g), members=ids[~over], universe="legs", published=False)
        keep.append(shown)
        n_cells.append(total)
        k_cells.append(hits)
    res["n"] = pd.Series(n_cells, index=res.index, dtype=object)
    res["n_exceeding"] = pd.Series(k_cells, index=res.index, dtype=object)
    # What identifies people is the number of patients behind the legs: a group with few is left out.
    res = res.loc[keep].reset_index(drop=True)
    if res.empty:
        return Note("strength gains against the MDC", f"fewer than {min_cell} patients with strength at two visits")
    return _finish(ledger, own, res, "mdc")


def _ordered_interval(frame: pd.DataFrame, estimate: str, bounds: tuple[float, float] | None = None) -> pd.DataFrame:
    """Keep ``conf_low <= estimate <= conf_high`` (and within ``bounds``) where the three are known.

    Intervals contain their estimate in exact arithmetic; rounding can put a bound a hair past it
    (statsmodels' Wilson upper bound at 100% is 0.9999999999999999), which a table would show as
    "100% (76% to 100%)" but a figure would draw as a negative error bar.
    """
    out = frame.copy()
    est = out[estimate].astype(float)
    low, high = out["conf_low"].astype(float), out["conf_high"].astype(float)
    if bounds is not None:
        est, low, high = (x.clip(*bounds) for x in (est, low, high))
        out[estimate] = est.where(out[estimate].notna())
    out["conf_low"] = low.where(low.isna() | est.isna(), np.fmin(low, est))
    out["conf_high"] = high.where(high.isna() | est.isna(), np.fmax(high, est))
    return out


#: The strength difference a relation is described per (10 N; 0.1 N/kg), by registry measure.
_STEPS = dict(zip(_registered("hip_abd_strength_n", "hip_abd_strength_nkg"), (10.0, 0.1)))


def _step_for(measure: str) -> float:
    return _STEPS.get(measure, 1.0)


def within_person_relation(
    cd: ClinicData, min_cell: int = 5, disclosure: Disclosure | None = None
) -> tuple[pd.DataFrame, list[Note], list[str]]:
    """Within-patient relation of strength to pain and to function, as mixed-model estimates and sentences.

    For each of pain and function (the first measure of each present), fits
    ``outcome ~ week + strength_within + strength_between + (1 | patient)`` with
    :func:`hipkit.within_between` (person-mean centring, Curran & Bauer 2011; Satterthwaite df), and
    writes the within-patient estimate per 10 N as one plain sentence.

    Parameters
    ----------
    cd : ClinicData
    min_cell : int, default 5
    disclosure : Disclosure, optional
        The report's ledger (``n_patients`` and ``n_visits`` are counts in it); default: a private one.

    Returns
    -------
    table : pandas.DataFrame
        ``outcome, estimate, conf_low, conf_high, p_value, per, n_patients, n_visits, sentence``
        (``estimate`` and CI per ``per`` units of strength).
    notes : list of Note
        Outcomes that could not be modelled, with the reason.
    warnings : list of str
        Model warnings (singular fit, convergence), for the report header.
    """
    ledger, own = _ledger(disclosure, min_cell)
    measures = outcome_measures(cd.data)
    outcomes = [m for m in PAIN_MEASURES if m in measures][:1] + [m for m in FUNCTION_MEASURES if m in measures][:1]
    cols = ["outcome", "estimate", "conf_low", "conf_high", "p_value", "per", "n_patients", "n_visits", "sentence"]
    notes: list[Note] = []
    model_warnings: list[str] = []
    if STRENGTH not in measures:
        return pd.DataFrame(columns=cols), [Note("strength and symptoms", "no hip-abductor strength readings")], []
    if not outcomes:
        return pd.DataFrame(columns=cols), [Note("strength and symptoms", "no pain or function measure")], []
    rows = []
    reg = load_registry()
    step = _step_for(STRENGTH)
    for outcome in outcomes:
        section = f"strength and {reg[outcome].label}"
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                fit = within_between(
                    coded(cd, [outcome, STRENGTH, "side"]), outcome=outcome, predictor=STRENGTH, check_singular="warn"
                )
                g = fit.glance().iloc[0]
                t = fit.tidy().set_index("term").loc[f"{STRENGTH}_within"]
        except HipkitError as exc:
            notes.append(Note(section, str(exc).splitlines()[0]))
            continue
        except Exception as exc:  # noqa: BLE001
            # The model failed on valid data without saying why in a HipkitError (hipkit.lmm raises
            # numpy's LinAlgError for a rank-deficient design, e.g. strength changing in step with the
            # weeks for every patient, and ZeroDivisionError when there are no residual degrees of
            # freedom). One section of the report says so; the rest of the report is still made.
            reason = (str(exc).splitlines() or [""])[0]
            detail = f"{type(exc).__name__}: {reason}" if reason else type(exc).__name__
            notes.append(Note(section, f"the mixed model could not be fitted on these data ({detail})"))
            continue
        for w in caught:
            if "dropped" not in str(w.message):
                model_warnings.append(f"{outcome}: {str(w.message).splitlines()[0]}")
        if int(g["ngroups"]) < min_cell:
            notes.append(Note(section, f"fewer than {min_cell} patients with two visits"))
            continue
        est, low, high = (float(t[k]) * step for k in ("estimate", "conf_low", "conf_high"))
        if not all(math.isfinite(v) for v in (est, low, high)):
            notes.append(Note(section, "the within-patient estimate or its interval is not finite"))
            continue
        rows.append(
            {
                "outcome": outcome,
                "estimate": est,
                "conf_low": low,
                "conf_high": high,
                "p_value": float(t["p_value"]),
                "per": f"{step:g} {reg[STRENGTH].unit}",
                "n_patients": _model_patients(cd, ledger, outcome, int(g["ngroups"])),
                "n_visits": ledger.count(("model visits", outcome), value=int(g["nobs"]), universe="visits"),
                "sentence": plain_sentence(outcome, est, low, high, step),
            }
        )
    return _finish(ledger, own, pd.DataFrame(rows, columns=cols), "relation"), notes, model_warnings


def _model_patients(cd: ClinicData, ledger: Disclosure, outcome: str, n: int) -> Count:
    """The patients behind a model fit (rows with the outcome and strength), as a count in the ledger."""
    rows = (cd.data[outcome].notna() & cd.data[STRENGTH].notna()).to_numpy()
    members = np.unique(patient_codes(cd)[rows])
    if len(members) == n:
        return ledger.count(("model patients", outcome), members=members, table="strength relation")
    return ledger.count(("model patients", outcome), value=n, universe="model patients", table="strength relation")
