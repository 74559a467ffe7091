"""Participant-level measures on a table with a row per side: find the repeats, keep one row per visit.

In the canonical long table a participant-level measure (pain, AKPS, LEFS: ``per_side: false`` in the
registry) repeats its value on the left and right rows of a visit. A model fitted on those rows
counts each score twice and overstates its precision; these two functions find that and undo it.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from ..registry import load_registry
from ._common import collapse

__all__ = ["repeated_across_sides", "one_row_per_visit"]


def repeated_across_sides(
    data: pd.DataFrame,
    columns: Sequence[str],
    subject: str = "participant_id",
    time: str = "visit_week",
) -> dict[str, int]:
    """For each participant-level measure among ``columns``: rows repeating a value of the same visit.

    Parameters
    ----------
    data : pandas.DataFrame
        Long table (one row per participant x visit x side, say).
    columns : sequence of str
        Columns to look at; those that the registry does not list as participant-level are skipped.
    subject, time : str
        Participant and visit columns.

    Returns
    -------
    dict
        measure -> number of rows whose (participant, visit, value) already occurs on another row
        (0 measures are left out: an empty dict means nothing repeats).

    Examples
    --------
    >>> d = pd.DataFrame({"participant_id": ["a", "a"], "visit_week": [0, 0], "side": ["left", "right"],
    ...                   "pain_vas": [4.0, 4.0]})
    >>> repeated_across_sides(d, ["pain_vas"])
    {'pain_vas': 1}
    """
    reg = load_registry()
    if subject not in data.columns or time not in data.columns:
        return {}
    out = {}
    for c in dict.fromkeys(columns):
        if c not in data.columns or c not in reg or reg[c].per_side:
            continue
        rows = data.loc[data[c].notna(), [subject, time, c]]
        n = int(rows.duplicated().sum())
        if n:
            out[c] = n
    return out


def one_row_per_visit(
    data: pd.DataFrame,
    columns: Sequence[str],
    subject: str = "participant_id",
    time: str = "visit_week",
) -> pd.DataFrame:
    """``data[columns]`` reduced to one row per participant and visit.

    A value repeated on the rows of a visit is kept once; a column whose rows of one visit differ
    (a per-side measure such as strength) raises :class:`hipkit.errors.InputError`, which says so.
    """
    keys = [subject, time]
    values = [c for c in dict.fromkeys(columns) if c not in keys]
    return collapse(
        data,
        keys,
        values,
        func="one row per participant and visit",
        hint="that column differs between the rows (sides) of one visit, so one row per visit cannot hold it; "
        "fit on one side, or on the table as it is",
    )
