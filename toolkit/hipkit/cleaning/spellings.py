"""One spelling per free-text category (group, site) over a whole export.

The spellings are counted over every record read (:func:`spelling_counts`), chosen once
(:func:`choose_spellings`: the out-of-core cleaner chooses them over every part) and applied by the
step :func:`normalise_free_text`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .issues import Issues

__all__ = ["FREE_TEXT", "choose_spellings", "spelling_counts", "normalise_free_text"]

FREE_TEXT = ("group", "site")


def choose_spellings(counts: dict) -> dict:
    """One spelling per free-text category: the most frequent case variant (ties: the first in order).

    Parameters
    ----------
    counts : dict
        Column (``group``, ``site``) -> {spelling: number of input lines}.

    Returns
    -------
    dict
        Column -> {lower-cased spelling: chosen spelling}.

    Examples
    --------
    >>> choose_spellings({"group": {"HIP": 3, "Hip": 1, "knee": 2}})
    {'group': {'hip': 'HIP', 'knee': 'knee'}}
    """
    out = {}
    for col, table in counts.items():
        best: dict = {}
        for spelling, _n in sorted(table.items(), key=lambda kv: (str(kv[0]).lower(), -kv[1], str(kv[0]))):
            best.setdefault(str(spelling).lower(), spelling)
        out[col] = best
    return out


def spelling_counts(data: pd.DataFrame) -> dict:
    """Column -> {spelling: number of distinct input lines holding it}, for :func:`choose_spellings`."""
    out = {}
    for col in FREE_TEXT:
        if col in data.columns and data[col].notna().any():
            part = data.loc[data[col].notna(), [col, "source_file", "source_line"]].drop_duplicates()
            out[col] = part[col].value_counts().to_dict()
    return out


def normalise_free_text(
    data: pd.DataFrame, issues: Issues, *, spellings: dict | None = None
) -> tuple[pd.DataFrame, Issues]:
    """Give each free-text category (group, site) one spelling: the most frequent case variant (a step).

    Frequency counts input lines (a wide line is one participant, whatever its number of visits).
    ``spellings`` (from :func:`choose_spellings` over a whole export) is given when ``data`` is a part
    of it, so that every part spells a category alike.
    """
    data = data.copy(deep=False)
    spellings = spellings if spellings is not None else choose_spellings(spelling_counts(data))
    for col in FREE_TEXT:
        if col not in data.columns or data[col].isna().all():
            continue
        table = spellings.get(col, {})
        codes, uniques = pd.factorize(data[col].astype("object"))
        chosen = np.asarray([table.get(str(u).lower(), u) for u in uniques], dtype=object)
        changed = chosen != np.asarray(uniques, dtype=object)
        n_changed = int(np.isin(codes, np.flatnonzero(changed)).sum())
        issues.count("categories", f"{col}: spelling unified", n_changed)
        out = np.append(chosen, None)[np.where(codes < 0, len(uniques), codes)]
        data[col] = pd.Series(out, index=data.index, dtype="object")
    return data, issues
