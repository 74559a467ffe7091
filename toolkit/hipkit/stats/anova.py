"""Group x time mixed ANOVA and pairwise t tests, with explicit counts of excluded participants."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._arguments import checked, choice, column, optional_column, renamed
from ..errors import InputError
from ._common import (
    check_conf_level,
    collapse,
    hedges_g_ci,
    pingouin_unrounded,
    require_columns,
    require_numeric,
    warn_dropped,
)

__all__ = ["mixed_anova", "pairwise_tests", "MIXED_ANOVA_COLUMNS", "PAIRWISE_TESTS_COLUMNS"]

#: Columns of :func:`mixed_anova`, in order.
MIXED_ANOVA_COLUMNS = [
    "term",
    "statistic",
    "num_df",
    "den_df",
    "p_value",
    "p_gg",
    "eta_squared_partial",
    "epsilon",
    "n_subjects",
    "n_dropped_subjects",
]

#: Columns of :func:`pairwise_tests`, in order.
PAIRWISE_TESTS_COLUMNS = [
    "contrast",
    "by",
    "level_a",
    "level_b",
    "paired",
    "estimate",
    "statistic",
    "df",
    "p_value",
    "p_adjusted",
    "hedges_g",
    "g_conf_low",
    "g_conf_high",
    "n_a",
    "n_b",
    "n_dropped_subjects",
]


def _complete_cases(frame: pd.DataFrame, dv: str, within: str, subject: str, between: str | None):
    """Subjects x within table with complete rows only (pingouin's listwise rule), and the dropped ids."""
    index = subject if between is None else [subject, between]
    all_ids = set(frame[subject].dropna())
    if between is not None:
        frame = frame.loc[frame[between].notna()]
    wide = frame.pivot_table(index=index, columns=within, values=dv, observed=True)
    complete = wide.dropna()
    kept = set(complete.index.get_level_values(0))
    return complete, sorted(all_ids - kept, key=str)


def _prepare_repeated(data, dv, within, between, subject, average_sides, func):
    require_columns(data, [dv, within, between, subject], func)
    require_numeric(data, [dv], func)
    usable = data.loc[data[subject].notna() & data[within].notna()]
    frame = collapse(
        usable, [subject, within], [dv], carry=[between] if between else [], average_sides=average_sides, func=func
    )
    complete, dropped = _complete_cases(frame, dv, within, subject, between)
    all_ids = data[subject].dropna().nunique()
    return frame, complete, dropped, all_ids


@renamed(dv="outcome", within="time", between="group")
@checked(time=column)
def mixed_anova(
    data: pd.DataFrame,
    outcome: str,
    time: str = "visit_week",
    group: str = "group",
    subject: str = "participant_id",
    average_sides: bool = False,
) -> pd.DataFrame:
    """Group x time mixed (split-plot) ANOVA, via pingouin, counting excluded participants.

    Parameters
    ----------
    data : pandas.DataFrame
        Canonical long table.
    outcome : str
        Numeric outcome column.
    time : str, default "visit_week"
        Repeated (within-participant) factor.
    group : str, default "group"
        Between-participant factor.
    subject : str, default "participant_id"
        Participant identifier.
    average_sides : bool, default False
        Average rows that give different values of ``dv`` for one participant and visit
        (left and right sides of a per-side measure). Without it such data raise an error;
        participant-level measures repeated on each side row are always taken once.

    Returns
    -------
    pandas.DataFrame
        Three rows, ``term`` = ``<group>``, ``<time>`` and ``<group>:<time>``, with the
        columns ``term, statistic`` (F), ``num_df, den_df, p_value, p_gg`` (Greenhouse-Geisser
        corrected p; missing for the between term), ``eta_squared_partial, epsilon``
        (Greenhouse-Geisser), ``n_subjects`` (analysed) and ``n_dropped_subjects``.

    Raises
    ------
    InputError
        A column is missing or not numeric, or too few participants are complete.

    Warns
    -----
    DataQualityWarning
        When participants were excluded.

    See Also
    --------
    pairwise_tests : post hoc comparisons.
    hipkit.lmm : a linear mixed model uses every observed visit instead of complete cases.

    Notes
    -----
    The ANOVA needs every participant at every level of ``time``. Like pingouin (and JASP),
    hipkit analyses complete cases only: a participant missing any visit, or the ``dv`` at any
    visit, or without a ``group`` value, is excluded. Unlike pingouin, the exclusion is
    counted (``n_dropped_subjects``) and warned about. A level of ``time`` that few
    participants attended (e.g. an optional week-12 visit) excludes everybody else: keep
    only the scheduled visits first, or fit :func:`hipkit.lmm`.

    F, df, p, partial eta squared and epsilon are pingouin's :func:`pingouin.mixed_anova`,
    called with ``correction=True``. With two levels of ``time`` the correction does nothing
    (epsilon = 1), and ``p_gg`` equals ``p_value``. Sums of squares are sequential, as in R's
    ``aov`` with an ``Error(subject / within)`` stratum: with unequal group sizes the within term
    differs from a type III analysis (``car::Anova``, SPSS); the between term and the interaction
    do not.

    Validated against R 4.2.2 ``aov`` and ``car`` 3.1.1 (GG epsilon) on simulated data:
    ``tests/stats/reference/mixed_anova/`` and ``tests/stats/test_anova.py``.

    References
    ----------
    Greenhouse SW, Geisser S (1959). On methods in the analysis of profile data.
    Psychometrika 24(2):95-112. doi:10.1007/BF02289823

    Vallat R (2018). Pingouin: statistics in Python. Journal of Open Source Software 3(31):1026.
    doi:10.21105/joss.01026

    Examples
    --------
    Two simulated participants miss their last visit: they are excluded, counted and warned about.

    >>> import warnings
    >>> from hipkit.stats import mixed_anova, simulate_trial
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     res = mixed_anova(simulate_trial(seed=3, missing_visits=2), "pain_vas")
    >>> print(caught[0].message)  # doctest: +ELLIPSIS
    mixed_anova: 2 participant(s) left out (not complete at every visit_week level; ...
    >>> res[["term", "num_df", "den_df", "n_subjects", "n_dropped_subjects"]]
                   term  num_df  den_df  n_subjects  n_dropped_subjects
    0             group       1      20          22                   2
    1        visit_week       3      60          22                   2
    2  group:visit_week       3      60          22                   2
    """
    import pingouin as pg

    func = "mixed_anova"
    if group is None:
        raise InputError(
            f"{func}: a between-participant factor (group=) is needed; for a within-participant design "
            "use pairwise_tests"
        )
    frame, complete, dropped, all_ids = _prepare_repeated(data, outcome, time, group, subject, average_sides, func)
    n_levels = complete.shape[1]
    groups = complete.index.get_level_values(1)
    if n_levels < 2 or pd.Series(groups).nunique() < 2 or len(complete) <= pd.Series(groups).nunique():
        raise InputError(
            f"{func}: after excluding participants without {outcome!r} at every {time!r} level "
            f"({list(complete.columns)}), {len(complete)} participant(s) in {pd.Series(groups).nunique()} "
            f"group(s) remain; keep only the visits most participants attended, or fit hipkit.lmm"
        )
    warn_dropped(func, "participant(s)", len(dropped), f"not complete at every {time} level; first: {dropped[:5]}")
    kept = frame[frame[subject].isin(complete.index.get_level_values(0))]
    with pingouin_unrounded():
        aov = pg.mixed_anova(
            data=kept, dv=outcome, within=time, between=group, subject=subject, correction=True, effsize="np2"
        )
    p_gg = aov["p_GG_corr"].to_numpy(dtype=float) if "p_GG_corr" in aov else np.full(3, np.nan)
    eps = aov["eps"].to_numpy(dtype=float)
    if "p_GG_corr" not in aov and n_levels == 2:
        p_gg = np.where(np.isnan(eps), np.nan, aov["p_unc"].to_numpy(dtype=float))
    out = pd.DataFrame(
        {
            "term": [group, time, f"{group}:{time}"],
            "statistic": aov["F"].to_numpy(dtype=float),
            "num_df": aov["DF1"].to_numpy(),
            "den_df": aov["DF2"].to_numpy(),
            "p_value": aov["p_unc"].to_numpy(dtype=float),
            "p_gg": p_gg,
            "eta_squared_partial": aov["np2"].to_numpy(dtype=float),
            "epsilon": eps,
            "n_subjects": len(complete),
            "n_dropped_subjects": all_ids - len(complete),
        }
    )
    return out[MIXED_ANOVA_COLUMNS]


@renamed(dv="outcome", within="time", between="group")
@checked(time=optional_column, p_adjust=choice("none", "bonf", "sidak", "holm", "fdr_bh", "fdr_by"))
def pairwise_tests(
    data: pd.DataFrame,
    outcome: str,
    time: str | None = "visit_week",
    group: str | None = None,
    subject: str = "participant_id",
    p_adjust: str = "holm",
    conf_level: float = 0.95,
    average_sides: bool = False,
) -> pd.DataFrame:
    """Pairwise t tests with Hedges' g and its confidence interval, via pingouin.

    Parameters
    ----------
    data : pandas.DataFrame
        Canonical long table.
    outcome : str
        Numeric outcome column.
    time : str or None, default "visit_week"
        Repeated factor: its levels are compared with paired t tests.
    group : str or None, default None
        Between-participant factor: its levels are compared with independent t tests (on each
        participant's mean over ``time`` when both are given) and, with ``time``, at each
        level of ``time`` (the interaction rows).
    subject : str, default "participant_id"
        Participant identifier.
    p_adjust : str, default "holm"
        Multiplicity correction within each family of tests (pingouin's ``padjust``: "none",
        "bonf", "sidak", "holm", "fdr_bh", "fdr_by").
    conf_level : float, default 0.95
        Confidence level of the Hedges' g interval.
    average_sides : bool, default False
        Average rows with different values of ``dv`` for one participant and visit (per-side
        measures); without it such data raise an error.

    Returns
    -------
    pandas.DataFrame
        One row per comparison: ``contrast`` (``<time>``, ``<group>`` or
        ``<time>:<group>``), ``by`` (the level of ``time`` for interaction rows, else
        missing), ``level_a, level_b, paired, estimate`` (mean of A minus mean of B),
        ``statistic`` (t), ``df, p_value, p_adjusted, hedges_g, g_conf_low, g_conf_high, n_a,
        n_b`` (participants in each arm of the comparison) and ``n_dropped_subjects``.

    Raises
    ------
    InputError
        A column is missing or not numeric, or neither ``time`` nor ``group`` is given.

    Warns
    -----
    DataQualityWarning
        When participants were excluded.

    Notes
    -----
    t, df, p, adjusted p and g are pingouin's :func:`pingouin.pairwise_tests` (listwise
    deletion: with ``time``, participants missing a level are excluded and counted in
    ``n_dropped_subjects``). Independent tests use Welch's df when the group sizes differ
    (pingouin's ``correction="auto"``). A family with a single test needs no adjustment, so its
    ``p_adjusted`` is its ``p_value``. The paired g is g_av (mean difference over the root mean
    of the two variances; Lakens 2013). pingouin gives no CI for g; hipkit uses the approximation
    of :func:`pingouin.compute_esci`: ``g +/- t_(df) * se`` with
    ``se^2 = (n_a + n_b) / (n_a n_b) + g^2 / (2 (n_a + n_b))`` (independent; Hedges & Olkin 1985)
    or ``1/n + g^2 / (2n)`` (paired).

    References
    ----------
    Hedges LV (1981). Distribution theory for Glass's estimator of effect size and related
    estimators. Journal of Educational Statistics 6(2):107-128. doi:10.3102/10769986006002107

    Hedges LV, Olkin I (1985). Statistical Methods for Meta-Analysis. Academic Press.
    doi:10.1016/C2009-0-03396-0

    Lakens D (2013). Calculating and reporting effect sizes to facilitate cumulative science: a
    practical primer for t-tests and ANOVAs. Frontiers in Psychology 4:863.
    doi:10.3389/fpsyg.2013.00863

    Examples
    --------
    >>> from hipkit.stats import pairwise_tests, simulate_trial
    >>> res = pairwise_tests(simulate_trial(seed=3), "lefs")
    >>> res[["level_a", "level_b", "n_a"]].head(3)
       level_a  level_b  n_a
    0        0        2   24
    1        0        4   24
    2        0        6   24
    """
    import pingouin as pg

    func = "pairwise_tests"
    conf_level = check_conf_level(conf_level, func)
    if time is None and group is None:
        raise InputError(f"{func}: give time, group or both")
    if time is not None:
        frame, complete, dropped, all_ids = _prepare_repeated(data, outcome, time, group, subject, average_sides, func)
        warn_dropped(func, "participant(s)", len(dropped), f"not complete at every {time} level")
        frame = frame[frame[subject].isin(complete.index.get_level_values(0))]
        n_dropped = all_ids - len(complete)
        n_complete = len(complete)
        group_n = pd.Series(complete.index.get_level_values(1)).value_counts().to_dict() if group is not None else {}
    else:
        require_columns(data, [outcome, group, subject], func)
        require_numeric(data, [outcome], func)
        hint = (
            "with time=None, each participant needs one value: keep one visit first "
            "(e.g. data[data['visit_week'] == 6]), or give time='visit_week'"
        )
        frame = collapse(data.loc[data[subject].notna()], [subject], [outcome], carry=[group], func=func, hint=hint)
        ok = frame[outcome].notna() & frame[group].notna()
        n_dropped = int((~ok).sum())
        warn_dropped(func, "participant(s)", n_dropped, f"missing {outcome} or {group}")
        frame = frame[ok]
        group_n = frame[group].value_counts().to_dict()
        n_complete = 0
    with pingouin_unrounded():
        res = pg.pairwise_tests(
            data=frame,
            dv=outcome,
            within=time,
            between=group,
            subject=subject,
            padjust=p_adjust,
            effsize="hedges",
            return_desc=True,
        )
    by_col = time if (time is not None and group is not None and time in res.columns) else None
    # pingouin returns the interaction's within levels as floats: give back the data's own labels.
    within_levels = list(frame[time].dropna().unique()) if by_col is not None else []

    def original_level(value):
        return next((lv for lv in within_levels if lv == value), value)

    rows = []
    for _, r in res.iterrows():
        paired = bool(r["Paired"])
        is_interaction = by_col is not None and r[by_col] != "-"
        if paired:
            n_a = n_b = n_complete
        else:
            n_a, n_b = group_n.get(r["A"], 0), group_n.get(r["B"], 0)
        g = float(r["hedges"])
        low, high = hedges_g_ci(g, n_a, n_b, paired, conf_level)
        p_value = float(r["p_unc"])
        p_adj = float(r["p_corr"]) if "p_corr" in res.columns and pd.notna(r["p_corr"]) else p_value
        contrast = f"{time}:{group}" if is_interaction else str(r["Contrast"])
        rows.append(
            {
                "contrast": contrast,
                "by": original_level(r[by_col]) if is_interaction else np.nan,
                "level_a": r["A"],
                "level_b": r["B"],
                "paired": paired,
                "estimate": float(r["mean_A"]) - float(r["mean_B"]),
                "statistic": float(r["T"]),
                "df": float(r["dof"]),
                "p_value": p_value,
                "p_adjusted": p_adj,
                "hedges_g": g,
                "g_conf_low": low,
                "g_conf_high": high,
                "n_a": int(n_a),
                "n_b": int(n_b),
                "n_dropped_subjects": int(n_dropped),
            }
        )
    out = pd.DataFrame(rows, columns=PAIRWISE_TESTS_COLUMNS)
    out["by"] = pd.Series([row["by"] for row in rows], index=out.index, dtype=object)  # the data's own labels
    return out
