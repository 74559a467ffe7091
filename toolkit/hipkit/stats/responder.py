"""Responder analyses: MCID responders per group, and the risk difference with the NNT."""

from __future__ import annotations

from typing import Mapping, Sequence

import pandas as pd

from .._arguments import checked, column, optional_text, renamed
from ..errors import InputError
from ..registry import load_registry
from ._common import check_conf_level, require_columns, warn_dropped
from ._proportions import TOL, group_rows, newcombe, nnt
from .change import change_scores

__all__ = [
    "responders",
    "responder_comparison",
    "RESPONDERS_COLUMNS",
    "RESPONDER_COMPARISON_COLUMNS",
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


def _measures_with(data: pd.DataFrame, measures, attr: str) -> list[str]:
    reg = load_registry()
    if measures is None:
        return [
            m.name
            for m in reg
            if getattr(m, attr) is not None and m.name in data.columns and data[m.name].notna().any()
        ]
    return [measures] if isinstance(measures, str) else list(measures)


@renamed(measures="outcomes")
@checked()
def responders(
    data: pd.DataFrame,
    outcomes: str | Sequence[str] | None = None,
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
    outcomes : str, sequence of str or None, default None
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
    >>> res = responders(simulate_trial(seed=3), outcomes="pain_vas")
    >>> res[["measure", "group", "n", "responders", "mcid"]]
        measure group   n  responders  mcid
    0  pain_vas   HIP  12           9   2.0
    1  pain_vas  KNEE  12           4   2.0
    """
    func = "responders"
    conf_level = check_conf_level(conf_level, func)
    reg = load_registry()
    mcids = dict(mcids or {})
    names = _measures_with(data, outcomes, "mcid")
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
        flag = (sign * cs["change"]) >= mcid - TOL
        for r in group_rows(cs, flag, conf_level):
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


@renamed(measures="outcomes")
@checked(group=column, group_a=optional_text, group_b=optional_text)
def responder_comparison(
    data: pd.DataFrame,
    outcomes: str | Sequence[str] | None = None,
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
    outcomes : str, sequence of str or None, default None
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
    >>> res = responder_comparison(simulate_trial(seed=3), outcomes="pain_vas")
    >>> res[["group_a", "group_b", "risk_difference", "nnt", "nnt_type"]].round(3)
      group_a group_b  risk_difference  nnt       nnt_type
    0     HIP    KNEE            0.417  2.4  NNT (benefit)
    """
    func = "responder_comparison"
    require_columns(data, [group], func)
    table = responders(
        data,
        outcomes=outcomes,
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
        rd, low, high = newcombe(
            int(a["responders"]), int(a["n"]), int(b["responders"]), int(b["n"]), float(conf_level)
        )
        nnt_value, kind, nlow, nhigh, text = nnt(rd, low, high)
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
                "nnt": nnt_value,
                "nnt_type": kind,
                "nnt_conf_low": nlow,
                "nnt_conf_high": nhigh,
                "nnt_conf_text": text,
            }
        )
    return pd.DataFrame(rows, columns=RESPONDER_COMPARISON_COLUMNS)
