"""Responder analyses: MCID responders per group, risk difference with NNT, gains beyond the MDC."""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from ..errors import InputError
from ..registry import load_registry
from ._common import check_conf_level, require_columns, warn_dropped
from .change import change_scores

__all__ = [
    "responders",
    "responder_comparison",
    "strength_vs_mdc",
    "RESPONDERS_COLUMNS",
    "RESPONDER_COMPARISON_COLUMNS",
    "STRENGTH_VS_MDC_COLUMNS",
]

#: Columns of :func:`responders`, in order.
RESPONDERS_COLUMNS = [
    "measure",
    "group",
    "n",
    "responders",
    "proportion",
    "conf_low",
    "conf_high",
    "mcid",
    "mcid_source",
    "n_dropped",
]

#: Columns of :func:`responder_comparison`, in order.
RESPONDER_COMPARISON_COLUMNS = [
    "measure",
    "group_a",
    "group_b",
    "n_a",
    "responders_a",
    "n_b",
    "responders_b",
    "risk_difference",
    "conf_low",
    "conf_high",
    "nnt",
    "nnt_type",
    "nnt_conf_low",
    "nnt_conf_high",
    "nnt_conf_text",
]

#: Columns of :func:`strength_vs_mdc`, in order.
STRENGTH_VS_MDC_COLUMNS = [
    "measure",
    "group",
    "unit",
    "n",
    "n_exceeding",
    "proportion",
    "conf_low",
    "conf_high",
    "mdc",
    "mdc_source",
    "n_dropped",
]

# Same tolerance as the cleaner's ``<measure>_responder`` flags (floating-point rounding of changes).
_TOL = 1e-9


def _wilson(count: int, n: int, conf_level: float) -> tuple[float, float]:
    """Wilson score interval (statsmodels ``proportion_confint(method="wilson")``); NaN when n = 0."""
    from statsmodels.stats.proportion import proportion_confint

    if n == 0:
        return (np.nan, np.nan)
    low, high = proportion_confint(count, n, alpha=1 - conf_level, method="wilson")
    return (float(low), float(high))


def _newcombe(x_a: int, n_a: int, x_b: int, n_b: int, conf_level: float) -> tuple[float, float, float]:
    """Risk difference p_a - p_b with Newcombe's hybrid score interval (1998, method 10)."""
    if n_a == 0 or n_b == 0:
        return (np.nan, np.nan, np.nan)
    p_a, p_b = x_a / n_a, x_b / n_b
    l_a, u_a = _wilson(x_a, n_a, conf_level)
    l_b, u_b = _wilson(x_b, n_b, conf_level)
    rd = p_a - p_b
    low = rd - np.sqrt((p_a - l_a) ** 2 + (u_b - p_b) ** 2)
    high = rd + np.sqrt((u_a - p_a) ** 2 + (p_b - l_b) ** 2)
    return (float(rd), float(low), float(high))


def _inv(value: float) -> float:
    return np.inf if value == 0 else 1.0 / abs(value)


def _nnt(rd: float, low: float, high: float) -> tuple[float, str | float, float, float, str | float]:
    """NNT, its type and its CI from a risk difference and its CI (Altman 1998)."""
    if not np.isfinite(rd):
        return (np.nan, np.nan, np.nan, np.nan, np.nan)
    kind = "NNT (benefit)" if rd >= 0 else "NNT (harm)"
    nnt = _inv(rd)
    if low > 0:  # benefit, CI excludes 0
        return (nnt, kind, _inv(high), _inv(low), f"NNTB {_inv(high):.1f} to {_inv(low):.1f}")
    if high < 0:  # harm, CI excludes 0
        return (nnt, kind, _inv(high), _inv(low), f"NNTH {_inv(high):.1f} to {_inv(low):.1f}")
    # The CI of the RD includes 0: the CI of the NNT runs through infinity.
    near = _inv(high) if rd >= 0 else _inv(low)
    text = f"NNTB {_inv(high):.1f} to \u221e to NNTH {_inv(low):.1f}"
    return (nnt, kind, near, np.inf, text)


def _measures_with(data: pd.DataFrame, measures, attr: str) -> list[str]:
    reg = load_registry()
    if measures is None:
        return [
            m.name
            for m in reg
            if getattr(m, attr) is not None and m.name in data.columns and data[m.name].notna().any()
        ]
    return [measures] if isinstance(measures, str) else list(measures)


def _group_rows(cs: pd.DataFrame, flag: pd.Series, conf_level: float) -> list[dict]:
    rows = []
    for level, part in cs.groupby("group", sort=True, dropna=False):
        ok = part["excluded"].isna()
        n, hits = int(ok.sum()), int(flag.loc[part.index][ok].sum())
        low, high = _wilson(hits, n, conf_level)
        rows.append(
            {
                "group": level,
                "n": n,
                "hits": hits,
                "proportion": hits / n if n else np.nan,
                "conf_low": low,
                "conf_high": high,
                "n_dropped": int((~ok).sum()),
            }
        )
    return rows


def responders(
    data: pd.DataFrame,
    measures: str | Sequence[str] | None = None,
    group: str | None = "group",
    subject: str = "participant_id",
    time: str = "visit_week",
    follow_up: float | None = None,
    conf_level: float = 0.95,
    baseline: float = 0,
    mcids: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """Proportion of participants whose change from baseline reaches the MCID, per measure and group.

    Parameters
    ----------
    data : pandas.DataFrame
        Canonical long table.
    measures : str, sequence of str or None, default None
        Measures to analyse. None: every registry measure with an MCID that has data.
    group : str or None, default "group"
        Group column (None: one group called ``"all"``).
    subject : str, default "participant_id"
        Participant identifier.
    time : str, default "visit_week"
        Visit column.
    follow_up : number or None, default None
        Follow-up visit; None: each participant's last visit with the measure observed.
    conf_level : float, default 0.95
        Confidence level of the Wilson intervals.
    baseline : number, default 0
        Baseline visit.
    mcids : mapping of str to float, optional
        Thresholds replacing the registry MCIDs (e.g. ``{"akps": 8}``); ``mcid_source`` is
        then ``"user"``.

    Returns
    -------
    pandas.DataFrame
        One row per measure x group (participants without a group form a row with a missing
        group): ``measure, group, n`` (participants with a change), ``responders, proportion,
        conf_low, conf_high, mcid, mcid_source, n_dropped`` (participants without a baseline or
        follow-up value).

    Raises
    ------
    InputError
        A column is missing, or a measure has no MCID in the registry or in ``mcids``.

    Warns
    -----
    DataQualityWarning
        When participants without a change were left out.

    See Also
    --------
    responder_comparison : risk difference and NNT between two groups.
    change_scores : the per-participant changes.

    Notes
    -----
    A responder's change, signed so that improvement is positive (the registry ``direction``),
    reaches the MCID: ``sign * change >= mcid`` (with a 1e-9 tolerance for floating-point
    rounding, as the cleaner's ``<measure>_responder`` flags). Participant-level measures are
    taken once per participant and visit; per-side measures count each side (see
    :func:`change_scores`), and the two sides of one participant are not independent.
    Intervals are Wilson score intervals (statsmodels ``proportion_confint``).

    References
    ----------
    Wilson EB (1927). Probable inference, the law of succession, and statistical inference.
    Journal of the American Statistical Association 22(158):209-212. doi:10.1080/01621459.1927.10502953

    Crossley KM, Bennell KL, Cowan SM, Green S (2004). Analysis of outcome measures for persons with
    patellofemoral pain: which are reliable and valid? Archives of Physical Medicine and
    Rehabilitation 85(5):815-822. doi:10.1016/S0003-9993(03)00613-0

    Examples
    --------
    >>> from hipkit.stats import responders, simulate_trial
    >>> res = responders(simulate_trial(seed=3), measures="pain_vas")
    >>> res[["measure", "group", "n", "responders", "mcid"]]
        measure group   n  responders  mcid
    0  pain_vas   HIP  12           9   2.0
    1  pain_vas  KNEE  12           4   2.0
    """
    func = "responders"
    conf_level = check_conf_level(conf_level, func)
    reg = load_registry()
    mcids = dict(mcids or {})
    names = _measures_with(data, measures, "mcid")
    require_columns(data, [*names, subject, time, group], func)
    rows = []
    total_dropped = 0
    for name in names:
        m = reg[name] if name in reg else None
        if name in mcids:
            mcid, source = float(mcids[name]), "user"
        elif m is not None and m.mcid is not None:
            mcid, source = float(m.mcid), m.mcid_source
        else:
            raise InputError(f"{func}: {name!r} has no MCID in the registry; pass mcids={{{name!r}: value}}")
        sign = m.improvement_sign if m is not None else 1
        cs = change_scores(data, name, subject=subject, time=time, baseline=baseline, follow_up=follow_up, group=group)
        flag = (sign * cs["change"]) >= mcid - _TOL
        for r in _group_rows(cs, flag, conf_level):
            total_dropped += r["n_dropped"]
            rows.append(
                {
                    "measure": name,
                    "group": r["group"],
                    "n": r["n"],
                    "responders": r["hits"],
                    "proportion": r["proportion"],
                    "conf_low": r["conf_low"],
                    "conf_high": r["conf_high"],
                    "mcid": mcid,
                    "mcid_source": source,
                    "n_dropped": r["n_dropped"],
                }
            )
    warn_dropped(func, "participant(s) x measure(s)", total_dropped, "no baseline or no follow-up value")
    return pd.DataFrame(rows, columns=RESPONDERS_COLUMNS)


def responder_comparison(
    data: pd.DataFrame,
    measures: str | Sequence[str] | None = None,
    group: str = "group",
    group_a: str | None = None,
    group_b: str | None = None,
    subject: str = "participant_id",
    time: str = "visit_week",
    follow_up: float | None = None,
    conf_level: float = 0.95,
    baseline: float = 0,
    mcids: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """Risk difference of responding between two groups, with Newcombe's CI and the NNT.

    Parameters
    ----------
    data : pandas.DataFrame
        Canonical long table.
    measures : str, sequence of str or None, default None
        As in :func:`responders`.
    group : str, default "group"
        Group column.
    group_a, group_b : str or None, default None
        The groups compared (risk difference = proportion in A minus proportion in B). None:
        the two groups of the data in sorted order (an error if there are not exactly two).
    subject, time, follow_up, conf_level, baseline, mcids
        As in :func:`responders`.

    Returns
    -------
    pandas.DataFrame
        One row per measure: ``measure, group_a, group_b, n_a, responders_a, n_b, responders_b,
        risk_difference, conf_low, conf_high, nnt`` (1 / abs(RD)), ``nnt_type`` (``"NNT
        (benefit)"`` when A responds more often, else ``"NNT (harm)"``), ``nnt_conf_low,
        nnt_conf_high`` and ``nnt_conf_text`` (Altman's wording).

    Raises
    ------
    InputError
        A column is missing, a group is absent, or the groups cannot be chosen.

    See Also
    --------
    responders : the proportions per group.

    Notes
    -----
    The CI of the RD is Newcombe's hybrid score interval (method 10), from the Wilson intervals
    (l, u) of each proportion: ``RD - sqrt((p_a - l_a)^2 + (u_b - p_b)^2)`` to
    ``RD + sqrt((u_a - p_a)^2 + (p_b - l_b)^2)``. The NNT CI inverts the RD limits (Altman 1998).
    When the RD CI excludes 0 it is ``1/|far limit|`` to ``1/|near limit|`` on the estimate's
    side. When it includes 0 the NNT CI runs through infinity: ``nnt_conf_low`` is the bound on
    the estimate's side, ``nnt_conf_high`` is ``inf``, and ``nnt_conf_text`` reads e.g.
    ``"NNTB 3.1 to ∞ to NNTH 12.4"`` (the harm bound is also ``1 / |conf_low|``).

    References
    ----------
    Newcombe RG (1998). Interval estimation for the difference between independent proportions:
    comparison of eleven methods. Statistics in Medicine 17(8):873-890.
    doi:10.1002/(SICI)1097-0258(19980430)17:8<873::AID-SIM779>3.0.CO;2-I

    Altman DG (1998). Confidence intervals for the number needed to treat. BMJ 317(7168):1309-1312.
    doi:10.1136/bmj.317.7168.1309

    Examples
    --------
    >>> from hipkit.stats import responder_comparison, simulate_trial
    >>> res = responder_comparison(simulate_trial(seed=3), measures="pain_vas")
    >>> res[["group_a", "group_b", "risk_difference", "nnt", "nnt_type"]].round(3)
      group_a group_b  risk_difference  nnt       nnt_type
    0     HIP    KNEE            0.417  2.4  NNT (benefit)
    """
    func = "responder_comparison"
    require_columns(data, [group], func)
    table = responders(
        data,
        measures=measures,
        group=group,
        subject=subject,
        time=time,
        follow_up=follow_up,
        conf_level=conf_level,
        baseline=baseline,
        mcids=mcids,
    )
    present = sorted(data[group].dropna().unique().tolist(), key=str)
    if group_a is None or group_b is None:
        others = [g for g in present if g not in (group_a, group_b)]
        if len(present) != 2 or len(others) != sum(g is None for g in (group_a, group_b)):
            raise InputError(f"{func}: {group!r} has {len(present)} groups {present}; name group_a and group_b")
        group_a = group_a if group_a is not None else others.pop(0)
        group_b = group_b if group_b is not None else others.pop(0)
    for g in (group_a, group_b):
        if g not in present:
            raise InputError(f"{func}: group {g!r} not in column {group!r}; groups: {present}")
    rows = []
    for name, part in table.groupby("measure", sort=False):
        a = part.loc[part["group"] == group_a].iloc[0]
        b = part.loc[part["group"] == group_b].iloc[0]
        rd, low, high = _newcombe(
            int(a["responders"]), int(a["n"]), int(b["responders"]), int(b["n"]), float(conf_level)
        )
        nnt, kind, nlow, nhigh, text = _nnt(rd, low, high)
        rows.append(
            {
                "measure": name,
                "group_a": group_a,
                "group_b": group_b,
                "n_a": int(a["n"]),
                "responders_a": int(a["responders"]),
                "n_b": int(b["n"]),
                "responders_b": int(b["responders"]),
                "risk_difference": rd,
                "conf_low": low,
                "conf_high": high,
                "nnt": nnt,
                "nnt_type": kind,
                "nnt_conf_low": nlow,
                "nnt_conf_high": nhigh,
                "nnt_conf_text": text,
            }
        )
    return pd.DataFrame(rows, columns=RESPONDER_COMPARISON_COLUMNS)


def strength_vs_mdc(
    data: pd.DataFrame,
    measure: str = "hip_abd_strength_n",
    group: str | None = "group",
    subject: str = "participant_id",
    time: str = "visit_week",
    follow_up: float | None = None,
    conf_level: float = 0.95,
    baseline: float = 0,
    mdc: float | None = None,
    by_side: bool | None = None,
) -> pd.DataFrame:
    """Proportion of participants (or limbs) whose gain exceeds the minimal detectable change.

    Parameters
    ----------
    data : pandas.DataFrame
        Canonical long table.
    measure : str, default "hip_abd_strength_n"
        Measure with an MDC in the registry (or pass ``mdc``).
    group : str or None, default "group"
        Group column (None: one group called ``"all"``).
    subject, time, follow_up, conf_level, baseline
        As in :func:`responders`.
    mdc : float, optional
        Threshold replacing the registry MDC; ``mdc_source`` is then ``"user"``.
    by_side : bool or None, default None
        One unit per participant x side (None: when the measure is per-side and a ``side``
        column exists), else one per participant.

    Returns
    -------
    pandas.DataFrame
        One row per group: ``measure, group, unit`` (``"participant x side"`` or
        ``"participant"``), ``n, n_exceeding, proportion, conf_low, conf_high`` (Wilson),
        ``mdc, mdc_source, n_dropped`` (units without a baseline or follow-up value).

    Raises
    ------
    InputError
        A column is missing, or the measure has no MDC.

    Warns
    -----
    DataQualityWarning
        When units without a change were left out.

    Notes
    -----
    A unit's gain exceeds the MDC when ``sign * change > mdc`` (strictly), the sign making
    improvement positive. The registry's strength MDC95 (48.9 N) is derived from the inter-tester
    SEM of Piva et al. (2006) as ``1.96 * sqrt(2) * SEM`` (Weir 2005). The two sides of one
    participant are not independent; the Wilson interval treats them as if they were.

    References
    ----------
    Piva SR, Fitzgerald GK, Irrgang JJ, et al. (2006). Reliability of measures of impairments
    associated with patellofemoral pain syndrome. BMC Musculoskeletal Disorders 7:33.
    doi:10.1186/1471-2474-7-33

    Weir JP (2005). Quantifying test-retest reliability using the intraclass correlation
    coefficient and the SEM. Journal of Strength and Conditioning Research 19(1):231-240.
    doi:10.1519/15184.1

    Examples
    --------
    >>> from hipkit.stats import simulate_trial, strength_vs_mdc
    >>> res = strength_vs_mdc(simulate_trial(seed=3))
    >>> res[["group", "unit", "n", "n_exceeding", "mdc"]]
      group                unit   n  n_exceeding   mdc
    0   HIP  participant x side  24            5  48.9
    1  KNEE  participant x side  24            1  48.9
    """
    func = "strength_vs_mdc"
    conf_level = check_conf_level(conf_level, func)
    require_columns(data, [measure, subject, time, group], func)
    reg = load_registry()
    m = reg[measure] if measure in reg else None
    if mdc is not None:
        threshold, source = float(mdc), "user"
    elif m is not None and m.mdc is not None:
        threshold, source = float(m.mdc), m.mdc_source
    else:
        raise InputError(f"{func}: {measure!r} has no MDC in the registry; pass mdc=value")
    sign = m.improvement_sign if m is not None else 1
    cs = change_scores(
        data, measure, subject=subject, time=time, baseline=baseline, follow_up=follow_up, group=group, by_side=by_side
    )
    unit = "participant x side" if "side" in cs.columns else "participant"
    flag = (sign * cs["change"]) > threshold
    rows = []
    for r in _group_rows(cs, flag, conf_level):
        rows.append(
            {
                "measure": measure,
                "group": r["group"],
                "unit": unit,
                "n": r["n"],
                "n_exceeding": r["hits"],
                "proportion": r["proportion"],
                "conf_low": r["conf_low"],
                "conf_high": r["conf_high"],
                "mdc": threshold,
                "mdc_source": source,
                "n_dropped": r["n_dropped"],
            }
        )
    warn_dropped(func, f"unit(s) ({unit})", sum(r["n_dropped"] for r in rows), "no baseline or no follow-up value")
    return pd.DataFrame(rows, columns=STRENGTH_VS_MDC_COLUMNS)
