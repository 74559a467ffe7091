"""Duplicate records: exact copies removed and counted; conflicting ones quarantined, all of them.

Records that share a key (participant, visit, side) are

- *exact duplicates* when every canonical value is the same: the first is kept, the others are
  removed and counted (``duplicates_removed``);
- *complementary* when no column holds two different values (say, strength from one file and pain
  from another): they are combined into one row; every record still counts as clean;
- *conflicting* when any column holds two different values: every record of the key is
  quarantined with the conflicting column(s), since hipkit cannot know which is right.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._glossary import QuarantineReason as R
from .issues import Issues

__all__ = ["resolve_duplicates"]

_KEY = ["participant_id", "visit_week", "side"]
_NOT_CONTENT = {"source_file", "source_line", "days_from_baseline", "out_of_window", "__side_key"}


def resolve_duplicates(data: pd.DataFrame, issues: Issues) -> tuple[pd.DataFrame, Issues]:
    """Remove exact duplicates, quarantine conflicts, combine complementary records (a step).

    Returns
    -------
    data : DataFrame
        A new frame, one row per key.
    issues : Issues
        Its ``tally`` holds ``duplicates_removed``, ``conflicting_records``, ``combined_records``
        (records merged into another), ``duplicate_lines`` and ``combined_lines`` (the origins,
        ``file:line``, of every removed copy and every record merged into another: each input record
        stays traceable). The per-record state ends here (``issues.records`` is None): the rows of
        the result are no longer the records read.
    """
    data, counts = _resolve(data, issues)
    for key, value in counts.items():
        issues.tally[key] = value
    return data, issues.with_records(None)


def _resolve(data: pd.DataFrame, issues: Issues) -> tuple[pd.DataFrame, dict]:
    log = issues.log
    raw_text = issues.state_of(data).raw
    content = [c for c in data.columns if c not in _NOT_CONTENT]
    exact = data.duplicated(subset=content, keep="first").to_numpy()
    counts = {"duplicates_removed": int(exact.sum())}
    if exact.any():
        removed = data.loc[exact, ["source_file", "source_line"]]
        counts["duplicate_lines"] = list(
            dict.fromkeys(f"{f}:{int(line)}" for f, line in removed.itertuples(index=False))
        )
    data = data.loc[~exact]
    log.count("duplicates", "exact duplicates removed", counts["duplicates_removed"])
    key = data[_KEY].astype("object").where(data[_KEY].notna(), "\x00")
    shared = key.duplicated(keep=False).to_numpy()
    counts["conflicting_records"] = 0
    counts["combined_records"] = 0
    if not shared.any():
        return data, counts
    multi = data.loc[shared]
    mkey = key.loc[shared]
    gid = mkey.groupby(_KEY, sort=False, dropna=False).ngroup().to_numpy()
    value_cols = [c for c in content if c not in _KEY]
    conflict_cols: dict[int, list[str]] = {}
    for col in value_cols:
        nun = multi[col].groupby(gid).nunique(dropna=True)
        for g in nun.index[nun.to_numpy() > 1]:
            conflict_cols.setdefault(int(g), []).append(col)
    bad = np.isin(gid, list(conflict_cols))
    if bad.any():
        sub = multi.loc[bad]
        cols = pd.Series([", ".join(conflict_cols[int(g)]) for g in gid[bad]], index=sub.index)
        first_col = [conflict_cols[int(g)][0] for g in gid[bad]]

        def shown(i, c):
            if c in raw_text.columns and pd.notna(raw_text.at[i, c]):
                return str(raw_text.at[i, c])
            return _show(sub.at[i, c])

        raw = pd.Series(
            ["; ".join(shown(i, c) for c in conflict_cols[int(g)]) for i, g in zip(sub.index, gid[bad])],
            index=sub.index,
        )
        issues.add(
            sub,
            np.ones(len(sub), dtype=bool),
            cols,
            raw,
            R.CONFLICTING_DUPLICATE,
            "row_removed",
            "another record of the same participant, visit and side holds a different value",
            check=f"unique key ({first_col[0]} ...)",
        )
        counts["conflicting_records"] = int(bad.sum())
        log.count("duplicates", "conflicting records quarantined", int(bad.sum()))
    good = multi.loc[~bad]
    if len(good):
        ggid = gid[~bad]
        combined = good.groupby(ggid, sort=False).first()
        counts["combined_records"] = int(len(good) - len(combined))
        merged = good.loc[pd.Series(ggid, index=good.index).duplicated().to_numpy()]
        counts["combined_lines"] = list(
            dict.fromkeys(
                f"{f}:{int(line)}"
                for f, line in merged[["source_file", "source_line"]].itertuples(index=False)
            )
        )
        log.count("duplicates", "complementary records combined", counts["combined_records"])
        data = pd.concat([data.loc[~shared], combined], ignore_index=True)
    else:
        data = data.loc[~shared]
    return data, counts


def _show(v) -> str:
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)
