"""Correlations: repeated-measures correlation and the correlation at each visit."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._arguments import checked, choice, column
from ..errors import InputError
from ._common import (
    check_conf_level,
    collapse,
    fisher_z_ci,
    pingouin_unrounded,
    require_columns,
    require_numeric,
    warn_dropped,
)

__all__ = ["rm_corr", "per_visit_correlation", "RM_CORR_COLUMNS", "PER_VISIT_CORRELATION_COLUMNS"]

#: Columns of :func:`rm_corr`, in order.
RM_CORR_COLUMNS = [
    "term",
    "estimate",
    "df",
    "p_value",
    "conf_low",
    "conf_high",
    "power",
    "n_obs",
    "n_subjects",
    "n_dropped",
]

#: Columns of :func:`per_visit_correlation` after the ``by`` column, in order.
PER_VISIT_CORRELATION_COLUMNS = ["n", "estimate", "conf_low", "conf_high", "p_value", "n_dropped"]


@checked()
def rm_corr(data: pd.DataFrame, x: str, y: str, subject: str = "participant_id") -> pd.DataFrame:
    """Repeated-measures correlation of two measures (Bakdash & Marusich 2017), via pingouin.

    The common within-participant association of ``x`` and ``y``: an ANCOVA of ``y`` on ``x``
    with one intercept per participant. Every row of ``data`` is one observation, so visits and
    sides both count as repeated measurements of a participant.

    Parameters
    ----------
    data : pandas.DataFrame
        Long table, one row per observation.
    x, y : str
        Numeric columns to correlate.
    subject : str, default "participant_id"
        Participant identifier.

    Returns
    -------
    pandas.DataFrame
        One row with the columns ``term`` (``"x, y"``), ``estimate`` (r_rm), ``df`` (N - k - 1
        for N observations of k participants), ``p_value``, ``conf_low``, ``conf_high`` (95 %),
        ``power`` (at alpha 0.05), ``n_obs``, ``n_subjects`` and ``n_dropped`` (rows left out
        because ``x``, ``y`` or ``subject`` is missing).

    Raises
    ------
    InputError
        A column is missing or not numeric, or fewer than 3 participants have complete rows.

    Warns
    -----
    DataQualityWarning
        When rows with missing values were left out (their count is ``n_dropped``).

    See Also
    --------
    per_visit_correlation : the between-participant correlation at each visit.

    Notes
    -----
    Numbers are pingouin's :func:`pingouin.rm_corr`. pingouin rounds its CI to 2 decimals; hipkit
    recomputes it at full precision with the same Fisher-z formula on ``n = df + 2``.
    A participant with a single complete row adds one observation and one intercept, so it
    does not change the estimate. Rows with a missing value are left out and counted.

    References
    ----------
    Bakdash JZ, Marusich LR (2017). Repeated measures correlation. Frontiers in Psychology
    8:456. doi:10.3389/fpsyg.2017.00456

    Examples
    --------
    >>> from hipkit.stats import rm_corr, simulate_trial
    >>> res = rm_corr(simulate_trial(seed=3), "hip_abd_strength_n", "lefs")
    >>> res[["estimate", "df", "n_subjects"]].round(3).to_dict("records")
    [{'estimate': 0.346, 'df': 167, 'n_subjects': 24}]
    """
    import pingouin as pg

    func = "rm_corr"
    require_columns(data, [x, y, subject], func)
    require_numeric(data, [x, y], func)
    if x == y:
        raise InputError(f"{func}: x and y must be two different columns, got {x!r} twice")
    complete = data.loc[:, [x, y, subject]].dropna()
    n_dropped = len(data) - len(complete)
    n_subjects = int(complete[subject].nunique())
    if n_subjects < 3:
        raise InputError(f"{func}: needs at least 3 participants with complete {x!r} and {y!r}; found {n_subjects}")
    warn_dropped(func, "row(s)", n_dropped, f"missing {x}, {y} or {subject}")
    with pingouin_unrounded():
        res = pg.rm_corr(data=complete, x=x, y=y, subject=subject)
    r = float(res["r"].iloc[0])
    dof = int(res["dof"].iloc[0])
    low, high = fisher_z_ci(r, dof + 2, 0.95)
    out = pd.DataFrame(
        {
            "term": [f"{x}, {y}"],
            "estimate": [r],
            "df": [dof],
            "p_value": [float(res["pval"].iloc[0])],
            "conf_low": [low],
            "conf_high": [high],
            "power": [float(res["power"].iloc[0])],
            "n_obs": [len(complete)],
            "n_subjects": [n_subjects],
            "n_dropped": [n_dropped],
        }
    )
    return out[RM_CORR_COLUMNS]


@checked(by=column, method=choice("pearson", "spearman"))
def per_visit_correlation(
    data: pd.DataFrame,
    x: str = "hip_abd_strength_n",
    y: str = "lefs",
    by: str = "visit_week",
    method: str = "pearson",
    subject: str = "participant_id",
    average_sides: bool = True,
    conf_level: float = 0.95,
) -> pd.DataFrame:
    """Correlation of two measures at each visit (e.g. strength vs function at weeks 2, 4, 6).

    The analysis of Beers et al. (2008), who correlated hip-abductor strength with function
    at each visit of a strengthening programme.

    Parameters
    ----------
    data : pandas.DataFrame
        Canonical long table.
    x, y : str
        Numeric columns to correlate.
    by : str, default "visit_week"
        One correlation per level of this column.
    method : {"pearson", "spearman"}, default "pearson"
        Correlation coefficient (pingouin :func:`pingouin.corr`).
    subject : str, default "participant_id"
        Participant identifier.
    average_sides : bool, default True
        When a ``side`` column is present, first reduce the data to one row per participant
        and visit: per-side measures are averaged over sides, participant-level measures (which
        repeat on each side row) are taken once. With ``False`` every side row is one
        observation (left and right of one participant are then not independent).
    conf_level : float, default 0.95
        Confidence level of the Fisher-z interval.

    Returns
    -------
    pandas.DataFrame
        One row per level of ``by``, columns ``<by>, n, estimate, conf_low, conf_high,
        p_value, n_dropped``; ``n_dropped`` counts participants (or side rows) of that visit
        left out because ``x`` or ``y`` is missing.

    Raises
    ------
    InputError
        A column is missing or not numeric, or ``method`` is not supported.

    Warns
    -----
    DataQualityWarning
        When observations with a missing value were left out.

    Notes
    -----
    r and its p-value are pingouin's. The CI is the Fisher-z interval
    ``tanh(atanh(r) +/- z / sqrt(n - 3))`` that pingouin uses, computed here at full precision
    (pingouin rounds it); for Spearman's rho this is the usual approximation. Levels with
    fewer than 3 complete observations get missing statistics.

    References
    ----------
    Beers A, Ryan M, Kasubuchi Z, Fraser S, Taunton JE (2008). Effects of multi-modal physiotherapy,
    including hip abductor strengthening, in patients with iliotibial band friction syndrome.
    Physiotherapy Canada 60(2):180-188. doi:10.3138/physio.60.2.180

    Fisher RA (1921). On the "probable error" of a coefficient of correlation deduced from a small
    sample. Metron 1:3-32.

    Examples
    --------
    >>> from hipkit.stats import per_visit_correlation, simulate_trial
    >>> res = per_visit_correlation(simulate_trial(seed=3))
    >>> list(res.columns)
    ['visit_week', 'n', 'estimate', 'conf_low', 'conf_high', 'p_value', 'n_dropped']
    >>> res["n"].tolist()
    [24, 24, 24, 24]
    """
    import pingouin as pg

    func = "per_visit_correlation"
    if method not in ("pearson", "spearman"):
        raise InputError(f"{func}: method must be 'pearson' or 'spearman', got {method!r}")
    conf_level = check_conf_level(conf_level, func)
    require_columns(data, [x, y, by, subject], func)
    require_numeric(data, [x, y], func)
    if "side" in data.columns and average_sides:
        frame = collapse(data, [subject, by], [x, y], average_sides=True, func=func)
    elif "side" in data.columns:
        frame = collapse(data, [subject, by, "side"], [x, y], func=func)
    else:
        frame = collapse(data, [subject, by], [x, y], func=func)
    rows = []
    total_dropped = 0
    for level, part in frame.groupby(by, sort=True, dropna=False):
        ok = part[[x, y]].notna().all(axis=1)
        n = int(ok.sum())
        n_dropped = int((~ok).sum())
        total_dropped += n_dropped
        r = p = np.nan
        if n >= 3:
            with pingouin_unrounded():
                res = pg.corr(part.loc[ok, x], part.loc[ok, y], method=method)
            r, p = float(res["r"].iloc[0]), float(res["p_val"].iloc[0])
        low, high = fisher_z_ci(r, n, conf_level)
        rows.append(
            {by: level, "n": n, "estimate": r, "conf_low": low, "conf_high": high, "p_value": p, "n_dropped": n_dropped}
        )
    warn_dropped(func, "observation(s)", total_dropped, f"missing {x} or {y}")
    return pd.DataFrame(rows, columns=[by, *PER_VISIT_CORRELATION_COLUMNS])
