"""Gains beyond the minimal detectable change (MDC), per group."""

from __future__ import annotations

import pandas as pd

from .._arguments import checked, renamed
from ..errors import InputError
from ..registry import load_registry
from ._common import check_conf_level, require_columns, warn_dropped
from ._proportions import TOL, group_rows
from .change import change_scores

__all__ = ["strength_vs_mdc", "STRENGTH_VS_MDC_COLUMNS"]

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


@renamed(measure="outcome")
@checked()
def strength_vs_mdc(
    data: pd.DataFrame,
    outcome: str = "hip_abd_strength_n",
    group: str | None = "group",
    subject: str = "participant_id",
    time: str = "visit_week",
    follow_up: float | None = None,
    conf_level: float = 0.95,
    baseline: float = 0,
    mdc: float | None = None,
    by_side: bool | None = None,
    average_sides: bool = False,
) -> pd.DataFrame:
    """Proportion of participants (or limbs) whose gain exceeds the minimal detectable change.

    Parameters
    ----------
    data : pandas.DataFrame
        Canonical long table.
    outcome : str, default "hip_abd_strength_n"
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
    average_sides : bool, default False
        With one unit per participant, average the sides of a per-side measure (else different
        left and right values raise an error).

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
    A unit's gain exceeds the MDC when ``sign * change > mdc`` (strictly, beyond a 1e-9
    tolerance for floating-point rounding), the sign making improvement positive. The
    registry's strength MDC95 (48.9 N) is derived from the inter-tester SEM of Piva et al.
    (2006) as ``1.96 * sqrt(2) * SEM`` (Weir 2005). The two sides of one participant are not
    independent; the Wilson interval treats them as if they were.

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
    require_columns(data, [outcome, subject, time, group], func)
    reg = load_registry()
    m = reg[outcome] if outcome in reg else None
    if mdc is not None:
        threshold, source = float(mdc), "user"
    elif m is not None and m.mdc is not None:
        threshold, source = float(m.mdc), m.mdc_source
    else:
        raise InputError(f"{func}: {outcome!r} has no MDC in the registry; pass mdc=value")
    sign = m.improvement_sign if m is not None else 1
    cs = change_scores(
        data,
        outcome,
        subject=subject,
        time=time,
        baseline=baseline,
        follow_up=follow_up,
        group=group,
        by_side=by_side,
        average_sides=average_sides,
    )
    unit = "participant x side" if "side" in cs.columns else "participant"
    flag = (sign * cs["change"]) > threshold + TOL
    rows = []
    for r in group_rows(cs, flag, conf_level):
        rows.append(
            {
                "measure": outcome,
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
