"""Change from baseline: per-participant change scores and the paired test of change."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._arguments import checked, renamed
from .._glossary import T_TEST_COLUMNS
from ..errors import InputError
from ._common import (
    check_conf_level,
    collapse,
    pingouin_unrounded,
    registry_measure,
    require_columns,
    require_numeric,
    warn_dropped,
)
from .wilcoxon import signed_rank_test

__all__ = ["change_scores", "paired_change", "PAIRED_CHANGE_COLUMNS", "CHANGE_SCORE_COLUMNS"]

#: Columns of :func:`paired_change`, in order.
PAIRED_CHANGE_COLUMNS = [
    "test",
    *T_TEST_COLUMNS,
    "hedges_g",
    "n",
    "n_dropped",
]

#: Columns of :func:`change_scores` after the unit columns (``subject`` [, ``side``]), in order.
CHANGE_SCORE_COLUMNS = [
    "group",
    "baseline_value",
    "follow_up_time",
    "follow_up_value",
    "change",
    "excluded",
]


@renamed(measure="outcome")
@checked()
def change_scores(
    data: pd.DataFrame,
    outcome: str,
    subject: str = "participant_id",
    time: str = "visit_week",
    baseline: float = 0,
    follow_up: float | None = None,
    group: str | None = "group",
    by_side: bool | None = None,
    average_sides: bool = False,
) -> pd.DataFrame:
    """Change of one measure from baseline to follow-up, one row per participant (or participant x side).

    Parameters
    ----------
    data : pandas.DataFrame
        Canonical long table.
    outcome : str
        Numeric outcome column.
    subject : str, default "participant_id"
        Participant identifier.
    time : str, default "visit_week"
        Visit column.
    baseline : number, default 0
        The baseline visit.
    follow_up : number or None, default None
        The follow-up visit. None: each unit's last visit after baseline at which ``measure``
        was observed (last observation).
    group : str or None, default "group"
        Group column carried to the output (``"all"`` when None).
    by_side : bool or None, default None
        One row per participant x side. None: when the registry marks ``measure`` as per-side
        and a ``side`` column exists. Otherwise one row per participant, participant-level
        values that repeat on each side row being taken once.
    average_sides : bool, default False
        With one row per participant, average a per-side measure over sides instead of raising.

    Returns
    -------
    pandas.DataFrame
        Every unit found in the data, columns ``<subject>`` [, ``side``], ``group,
        baseline_value, follow_up_time, follow_up_value, change`` (follow-up minus baseline)
        and ``excluded``: missing when the change exists, else ``"no_baseline"``,
        ``"no_follow_up"`` or ``"no_baseline_or_follow_up"``. Nothing is dropped silently.

    Raises
    ------
    InputError
        A column is missing or not numeric.

    Examples
    --------
    >>> from hipkit.stats import change_scores, simulate_trial
    >>> cs = change_scores(simulate_trial(n_per_group=3, seed=1), "pain_vas")
    >>> cs.columns.tolist()
    ['participant_id', 'group', 'baseline_value', 'follow_up_time', 'follow_up_value', 'change', 'excluded']
    >>> cs["follow_up_time"].unique().tolist()
    [6]
    """
    func = "change_scores"
    require_columns(data, [outcome, subject, time, group], func)
    require_numeric(data, [outcome], func)
    if by_side is None:
        m = registry_measure(outcome)
        by_side = bool(m is not None and m.per_side and "side" in data.columns)
    if by_side and "side" not in data.columns:
        raise InputError(f"{func}: by_side=True needs a 'side' column")
    units = [subject, "side"] if by_side else [subject]
    carry = [group] if group is not None else []
    usable = data.loc[data[subject].notna() & data[time].notna()]
    frame = collapse(usable, [*units, time], [outcome], carry=carry, average_sides=average_sides, func=func)
    if group is None:
        frame["group"] = "all"
    elif group != "group":
        frame = frame.rename(columns={group: "group"})
    unit_groups = frame.groupby(units, sort=True, dropna=False)["group"].first()
    observed = frame.loc[frame[outcome].notna()]
    base = observed.loc[observed[time] == baseline].set_index(units)[outcome]
    later = observed.loc[observed[time] != baseline]
    if follow_up is None:
        later = later.loc[later[time] > baseline].sort_values(time)
        last = later.groupby(units, sort=True, dropna=False).tail(1).set_index(units)
    else:
        last = later.loc[later[time] == follow_up].set_index(units)
    out = pd.DataFrame(index=unit_groups.index)
    out["group"] = unit_groups
    out["baseline_value"] = base.reindex(out.index)
    out["follow_up_time"] = last[time].reindex(out.index)
    out["follow_up_value"] = last[outcome].reindex(out.index)
    out["change"] = out["follow_up_value"] - out["baseline_value"]
    no_base = out["baseline_value"].isna()
    no_fu = out["follow_up_value"].isna()
    excluded = np.select(
        [no_base & no_fu, no_base, no_fu], ["no_baseline_or_follow_up", "no_baseline", "no_follow_up"], default=""
    )
    out["excluded"] = pd.Series(excluded, index=out.index).replace("", np.nan)
    return out.reset_index()[[*units, *CHANGE_SCORE_COLUMNS]]


@renamed(dv="outcome")
@checked()
def paired_change(
    data: pd.DataFrame,
    outcome: str,
    subject: str = "participant_id",
    time: str = "visit_week",
    baseline: float = 0,
    follow_up: float | None = None,
    average_sides: bool = False,
    conf_level: float = 0.95,
) -> pd.DataFrame:
    """Paired t test (via pingouin) and Wilcoxon signed-rank test (as R) of the change from baseline.

    Parameters
    ----------
    data : pandas.DataFrame
        Canonical long table (filter it to one group first to test one group).
    outcome : str
        Numeric outcome column.
    subject : str, default "participant_id"
        Participant identifier.
    time : str, default "visit_week"
        Visit column.
    baseline : number, default 0
        The baseline visit.
    follow_up : number or None, default None
        The follow-up visit; None uses each participant's last visit with ``dv`` observed.
    average_sides : bool, default False
        Average a per-side measure over sides (one change per participant); without it,
        different left and right values raise an error.
    conf_level : float, default 0.95
        Confidence level of the interval of the mean change.

    Returns
    -------
    pandas.DataFrame
        Two rows, ``test`` = ``"paired_t"`` and ``"wilcoxon"``, with the columns ``test,
        estimate`` (mean change; median change for Wilcoxon), ``std_error`` (of the mean change),
        ``df, statistic`` (t; R's V for Wilcoxon), ``p_value, conf_low, conf_high`` (of the mean
        change), ``hedges_g`` (g_av), ``n`` (participants analysed) and ``n_dropped``
        (participants without a baseline or follow-up value). Missing where a column does not
        apply to the Wilcoxon test.

    Raises
    ------
    InputError
        A column is missing or not numeric, or fewer than 2 participants have a change.

    Warns
    -----
    DataQualityWarning
        When participants were left out.

    See Also
    --------
    change_scores : the per-participant changes behind this test.

    Notes
    -----
    t, df, p and the CI are :func:`pingouin.ttest` (``paired=True``, follow-up vs baseline);
    V and its p are :func:`hipkit.stats.wilcoxon.signed_rank_test` (R's ``wilcox.test(paired =
    TRUE)``: exact below 50 nonzero changes without ties or zeros, otherwise the normal
    approximation with continuity and tie correction; n log n, where pingouin's is quadratic), g is
    :func:`pingouin.compute_effsize`
    (``eftype="hedges"``, paired: d_av = mean change / sqrt((SD_base^2 + SD_follow^2) / 2),
    times Hedges' small-sample correction; Lakens 2013). Participants without both values are
    counted in ``n_dropped``, never silently removed.

    References
    ----------
    Lakens D (2013). Calculating and reporting effect sizes to facilitate cumulative science: a
    practical primer for t-tests and ANOVAs. Frontiers in Psychology 4:863.
    doi:10.3389/fpsyg.2013.00863

    Wilcoxon F (1945). Individual comparisons by ranking methods. Biometrics Bulletin 1(6):80-83.
    doi:10.2307/3001968

    Examples
    --------
    >>> from hipkit.stats import paired_change, simulate_trial
    >>> df = simulate_trial(seed=3)
    >>> res = paired_change(df[df.group == "HIP"], "pain_vas")
    >>> res[["test", "n", "n_dropped"]]
           test   n  n_dropped
    0  paired_t  12          0
    1  wilcoxon  12          0
    """
    import pingouin as pg

    func = "paired_change"
    conf_level = check_conf_level(conf_level, func)
    cs = change_scores(
        data,
        outcome,
        subject=subject,
        time=time,
        baseline=baseline,
        follow_up=follow_up,
        group=None,
        by_side=False,
        average_sides=average_sides,
    )
    ok = cs["excluded"].isna()
    n_dropped = int((~ok).sum())
    n = int(ok.sum())
    if n < 2:
        raise InputError(f"{func}: {n} participant(s) have both a baseline and a follow-up {outcome!r}; need 2 or more")
    warn_dropped(func, "participant(s)", n_dropped, "no baseline or no follow-up value")
    post = cs.loc[ok, "follow_up_value"].to_numpy(dtype=float)
    pre = cs.loc[ok, "baseline_value"].to_numpy(dtype=float)
    change = post - pre
    with pingouin_unrounded():
        tt = pg.ttest(post, pre, paired=True, confidence=conf_level)
        g = float(pg.compute_effsize(post, pre, paired=True, eftype="hedges"))
    wx = signed_rank_test(post, pre) if np.any(change != 0) else None
    ci_column = next(c for c in tt.columns if str(c).startswith("CI"))  # "CI95" at conf_level 0.95
    ci = np.asarray(tt[ci_column].iloc[0], dtype=float)
    rows = [
        {
            "test": "paired_t",
            "estimate": float(change.mean()),
            "std_error": float(change.std(ddof=1) / np.sqrt(n)),
            "df": float(tt["dof"].iloc[0]),
            "statistic": float(tt["T"].iloc[0]),
            "p_value": float(tt["p_val"].iloc[0]),
            "conf_low": float(ci[0]),
            "conf_high": float(ci[1]),
            "hedges_g": g,
            "n": n,
            "n_dropped": n_dropped,
        },
        {
            "test": "wilcoxon",
            "estimate": float(np.median(change)),
            "std_error": np.nan,
            "df": np.nan,
            "statistic": float(wx["statistic"].iloc[0]) if wx is not None else np.nan,
            "p_value": float(wx["p_value"].iloc[0]) if wx is not None else np.nan,
            "conf_low": np.nan,
            "conf_high": np.nan,
            "hedges_g": np.nan,
            "n": n,
            "n_dropped": n_dropped,
        },
    ]
    return pd.DataFrame(rows, columns=PAIRED_CHANGE_COLUMNS)
