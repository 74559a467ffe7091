"""Descriptive statistics: a long "Table 1" and its formatted wide version for reports."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from .._arguments import checked, column_list, optional_column, renamed
from ..errors import InputError
from ..registry import load_registry
from ._common import collapse, require_columns, require_numeric

__all__ = ["describe", "table1", "DESCRIBE_COLUMNS"]

#: Columns of :func:`describe` after the ``by`` columns, in order.
DESCRIBE_COLUMNS = ["measure", "n", "mean", "sd", "median", "q1", "q3", "n_missing"]


def _default_measures(data: pd.DataFrame) -> list[str]:
    reg = load_registry()
    return [m.name for m in reg if m.kind in ("outcome", "derived") and m.name in data.columns]


def _measure_frame(data, measure, by, subject, time):
    """Rows of one measure: a participant-level measure once per participant x visit x ``by`` cell."""
    reg = load_registry()
    per_side = measure not in reg or reg[measure].per_side
    if per_side or subject is None or subject not in data.columns:
        return data.loc[:, [*by, measure]]
    keys = list(dict.fromkeys([subject, *([time] if time in data.columns else []), *by]))
    has_id = data[subject].notna()
    once = collapse(data.loc[has_id], keys, [measure], func="describe")
    # Rows without a participant id cannot be de-duplicated; they are kept as they are.
    return pd.concat([once[[*by, measure]], data.loc[~has_id, [*by, measure]]], ignore_index=True)


@renamed(measures="outcomes")
@checked(by=column_list, subject=optional_column)
def describe(
    data: pd.DataFrame,
    outcomes: str | Sequence[str] | None = None,
    by: str | Sequence[str] = ("group", "visit_week"),
    subject: str | None = "participant_id",
    time: str = "visit_week",
) -> pd.DataFrame:
    """Descriptive statistics per group and visit, one row per group x visit x measure.

    Parameters
    ----------
    data : pandas.DataFrame
        Canonical long table.
    outcomes : str, sequence of str or None, default None
        Numeric columns. None: every registry outcome or derived measure in ``data``.
    by : str or sequence of str, default ("group", "visit_week")
        Grouping columns (an empty tuple for the whole table).
    subject : str or None, default "participant_id"
        Participant identifier, used to take participant-level measures (per the registry's
        ``per_side`` flag) once per participant and visit even though they repeat on each side row.
    time : str, default "visit_week"
        Visit column, used with ``subject`` for that de-duplication.

    Returns
    -------
    pandas.DataFrame
        Columns ``<by...>, measure, n, mean, sd, median, q1, q3, n_missing``: ``n`` non-missing
        values, ``sd`` with ddof 1, ``q1``/``q3`` the 25th/75th percentiles (linear
        interpolation), ``n_missing`` rows of the cell without a value. Rows with a missing
        ``by`` value form their own cell (a missing label), never dropped.

    Raises
    ------
    InputError
        A column is missing or not numeric.

    See Also
    --------
    table1 : the same, formatted "mean (SD)" and wide for reports.

    Notes
    -----
    Per-side measures (strength) are summarised over side rows, so ``n`` counts limbs; add
    ``"side"`` to ``by`` to summarise each side. ``n_missing`` counts rows present in the table
    with no value; a visit that has no row at all is not counted.

    Examples
    --------
    >>> from hipkit.stats import describe, simulate_trial
    >>> d = describe(simulate_trial(n_per_group=4, seed=1), outcomes=["pain_vas", "hip_abd_strength_n"])
    >>> d.columns.tolist()
    ['group', 'visit_week', 'measure', 'n', 'mean', 'sd', 'median', 'q1', 'q3', 'n_missing']
    >>> d.loc[(d.group == "HIP") & (d.visit_week == 0), ["measure", "n"]].to_dict("list")
    {'measure': ['pain_vas', 'hip_abd_strength_n'], 'n': [4, 8]}
    """
    by = [by] if isinstance(by, str) else list(by)
    names = (
        _default_measures(data) if outcomes is None else ([outcomes] if isinstance(outcomes, str) else list(outcomes))
    )
    require_columns(data, [*by, *names], "describe")
    require_numeric(data, names, "describe")
    if not names:
        raise InputError("describe: no measures to describe; pass outcomes=[...]")
    parts = []
    for name in names:
        frame = _measure_frame(data, name, by, subject, time)
        values = frame[name]
        if by:
            grouped = values.groupby([frame[b] for b in by], dropna=False, sort=True)
        else:
            grouped = values.groupby(np.zeros(len(values), dtype=int))
        stats = pd.DataFrame(
            {
                "n": grouped.count(),
                "mean": grouped.mean(),
                "sd": grouped.std(ddof=1),
                "median": grouped.median(),
                "q1": grouped.quantile(0.25),
                "q3": grouped.quantile(0.75),
                "n_missing": grouped.size() - grouped.count(),
            }
        )
        stats.insert(0, "measure", name)
        stats = stats.reset_index() if by else stats.reset_index(drop=True)
        parts.append(stats)
    out = pd.concat(parts, ignore_index=True)
    out = out.sort_values(by, kind="stable", na_position="last") if by else out
    out = out.reset_index(drop=True)
    out["n"] = out["n"].astype(int)
    out["n_missing"] = out["n_missing"].astype(int)
    return out[[*by, *DESCRIBE_COLUMNS]]


@renamed(measures="outcomes")
@checked(by=column_list, subject=optional_column)
def table1(
    data: pd.DataFrame,
    outcomes: str | Sequence[str] | None = None,
    by: str | Sequence[str] = ("group", "visit_week"),
    subject: str | None = "participant_id",
    time: str = "visit_week",
    digits: int = 1,
    show_n: bool = False,
) -> pd.DataFrame:
    """A report-ready Table 1: "mean (SD)" strings, one column per level of the first ``by``.

    Parameters
    ----------
    data : pandas.DataFrame
        Canonical long table.
    outcomes, by, subject, time
        As in :func:`describe`; the first ``by`` column becomes the table's columns.
    digits : int, default 1
        Decimals of the mean and SD.
    show_n : bool, default False
        Append the number of values, ``"mean (SD) [n]"``.

    Returns
    -------
    pandas.DataFrame
        Columns ``measure, <other by...>`` and one text column per level of the first ``by``
        (``"-"`` where a cell has no value; a missing ``by`` value is shown as ``"(missing)"``).
        For display only: compute with :func:`describe`.

    Examples
    --------
    >>> from hipkit.stats import simulate_trial, table1
    >>> t = table1(simulate_trial(n_per_group=4, seed=1), outcomes="pain_vas")
    >>> t.columns.tolist()
    ['measure', 'visit_week', 'HIP', 'KNEE']
    >>> t.loc[0, ["HIP", "KNEE"]].tolist()
    ['5.8 (1.1)', '5.7 (1.5)']
    """
    by = [by] if isinstance(by, str) else list(by)
    if not by:
        raise InputError("table1: give at least one 'by' column (its levels become the table's columns)")
    long = describe(data, outcomes=outcomes, by=by, subject=subject, time=time)
    spread, rest = by[0], by[1:]

    def fmt(row) -> str:
        if row["n"] == 0:
            return "-"
        sd = "-" if pd.isna(row["sd"]) else f"{row['sd']:.{digits}f}"
        text = f"{row['mean']:.{digits}f} ({sd})"
        return f"{text} [{int(row['n'])}]" if show_n else text

    long["cell"] = long.apply(fmt, axis=1)
    # Display only: a missing group gets a visible column, shown last, never a dropped cell.
    levels = [lv for lv in long[spread].drop_duplicates() if pd.notna(lv)]
    if long[spread].isna().any():
        long[spread] = long[spread].astype(object).where(long[spread].notna(), "(missing)")
        levels.append("(missing)")
    long["measure"] = pd.Categorical(long["measure"], categories=list(dict.fromkeys(long["measure"])))
    wide = long.pivot(index=["measure", *rest], columns=spread, values="cell")
    wide = wide.reindex(columns=levels).reset_index()
    wide["measure"] = wide["measure"].astype(str)
    for col in rest:
        if wide[col].isna().any():
            wide[col] = wide[col].astype(object).where(wide[col].notna(), "(missing)")
    wide.columns.name = None
    return wide.fillna("-")
