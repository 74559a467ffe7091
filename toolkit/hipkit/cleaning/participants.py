"""Steps over each participant's records: sides and limbs, the visit schedule, participant-level values.

Each step is ``(frame, issues, **settings) -> (frame, issues)`` (:mod:`hipkit.cleaning.issues`) and
returns a new frame.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..io.ids import numeric_collisions
from .audit import participant_ids
from .issues import Issues

__all__ = ["resolve_limbs", "warn_id_collisions", "assign_schedule", "fill_participant_level", "PARTICIPANT_LEVEL"]


def resolve_limbs(data: pd.DataFrame, issues: Issues) -> tuple[pd.DataFrame, Issues]:
    """Fill side from limb (and limb from side) where the participant's affected side is known (a step)."""
    if "affected_side" not in data.columns:
        return data, issues
    data = data.copy(deep=False)
    aff = data.groupby("participant_id")["affected_side"].transform("first")
    if "limb" in data.columns:
        lb = data["limb"]
        from_limb = pd.Series(
            np.where(
                lb == "involved", aff, np.where(lb == "uninvolved", aff.map({"left": "right", "right": "left"}), None)
            ),
            index=data.index,
            dtype="object",
        )
        side = data["side"] if "side" in data.columns else pd.Series(None, index=data.index, dtype="object")
        fill = side.isna() & from_limb.notna()
        data["side"] = side.where(~fill, from_limb)
        issues.count("categories", "side derived from injured/uninjured and the affected side", int(fill.sum()))
    if "side" in data.columns:
        lb = data["limb"] if "limb" in data.columns else pd.Series(None, index=data.index, dtype="object")
        derived = pd.Series(
            np.where(data["side"].isna() | aff.isna(), None, np.where(data["side"] == aff, "involved", "uninvolved")),
            index=data.index,
            dtype="object",
        )
        data["limb"] = lb.where(lb.notna(), derived)
    return data, issues


def warn_id_collisions(data: pd.DataFrame, issues: Issues) -> tuple[pd.DataFrame, Issues]:
    """Warn when distinct ids differ only in leading zeros: kept apart, as written, but said (a step)."""
    if "participant_id" not in data.columns:
        return data, issues
    groups = numeric_collisions(data["participant_id"])
    if groups:
        shown = "; ".join(participant_ids(g) for g in groups[:3]) + (" ..." if len(groups) > 3 else "")
        issues.warn(
            f"{len(groups)} group(s) of participant ids differ only in leading zeros ({shown}); they are kept "
            "as different participants, as written; if they are one person, correct the export"
        )
    return data, issues


def assign_schedule(
    data: pd.DataFrame, issues: Issues, *, schedule: list[float], window_days: float
) -> tuple[pd.DataFrame, Issues]:
    """Compute ``days_from_baseline`` and flag visits off the schedule or outside the window (a step).

    Baseline is the participant's week-0 visit date; for a participant with no week-0 visit, the
    earliest date (unknown when the week-0 visit has no date). Visits known only by date get the
    nearest scheduled week. Visits outside ``window_days`` of their scheduled day, or
    at a week not in the schedule, are flagged ``out_of_window`` and kept.
    """
    data = data.copy(deep=False)
    log = issues.log
    n = len(data)
    sched = np.asarray(sorted(schedule), dtype=float)
    week = data["visit_week"].to_numpy(dtype=float).copy()
    days = np.full(n, np.nan)
    if "visit_date" in data.columns and data["visit_date"].notna().any():
        d = data["visit_date"]
        pid = data["participant_id"]
        base0 = d.where(data["visit_week"] == 0).groupby(pid).transform("min")
        first = d.groupby(pid).transform("min")
        # A participant seen at week 0 whose week-0 date is unknown has no known baseline date:
        # their days from baseline are unknown, not counted from a later visit.
        has_week0 = (data["visit_week"] == 0).groupby(pid).transform("any").to_numpy(dtype=bool)
        base = base0.where(has_week0, first)
        days = (d - base).dt.days.to_numpy(dtype=float, na_value=np.nan)
        by_date = np.isnan(week) & ~np.isnan(days)
        if by_date.any():
            nearest = sched[np.abs(days[by_date, None] / 7.0 - sched[None, :]).argmin(axis=1)]
            week[by_date] = nearest
            log.count("visits", "week assigned from visit date", int(by_date.sum()))
    off_schedule = ~np.isnan(week) & ~np.isin(week, sched)
    outside = ~np.isnan(days) & (np.abs(days - 7.0 * week) > window_days)
    log.count("visits", "off schedule (week not in schedule)", int(off_schedule.sum()))
    log.count("visits", f"outside the +/-{window_days:g}-day window", int((outside & ~off_schedule).sum()))
    data["visit_week"] = week
    data["days_from_baseline"] = days
    data["out_of_window"] = off_schedule | outside
    return data, issues


#: Participant-level columns: one value per participant, carried to visits where it is missing.
PARTICIPANT_LEVEL = ("group", "site", "sex", "age_years", "height_cm", "affected_side")


def fill_participant_level(data: pd.DataFrame, issues: Issues) -> tuple[pd.DataFrame, Issues]:
    """Carry each participant-level value (group, sex, age, ...) to the participant's other rows (a step).

    Only a participant's single consistent value is carried; a participant recorded with two
    different values keeps them as they are and is named in a warning.
    """
    data = data.copy(deep=False)
    log = issues.log
    codes, ids = pd.factorize(data["participant_id"])  # integer groups: fast group-bys
    for col in PARTICIPANT_LEVEL:
        if col not in data.columns or data[col].isna().all():
            continue
        vcodes, _ = pd.factorize(data[col])  # -1 where missing
        frame = pd.DataFrame({"g": codes, "v": vcodes})
        present = frame[frame["v"] >= 0]
        nun = present.groupby("g")["v"].nunique()
        inconsistent = ids[nun.index[nun.to_numpy() > 1]]
        if len(inconsistent):
            log.warn(
                f"{len(inconsistent)} participants have more than one {col} ({participant_ids(inconsistent)}); "
                "not carried"
            )
        need = (vcodes < 0) & (codes >= 0)
        if not need.any():
            continue
        first_row = present.drop_duplicates("g")
        single = pd.Series(first_row.index.to_numpy(), index=first_row["g"].to_numpy())
        single = single[nun.reindex(single.index).to_numpy() == 1]
        src = pd.Series(codes[need]).map(single).to_numpy()  # row holding the participant's value
        ok = ~pd.isna(src)
        if ok.any():
            rows = data.index[np.flatnonzero(need)[ok]]
            data.loc[rows, col] = data[col].to_numpy()[src[ok].astype(np.int64)]
            log.count("participant_level", f"{col} carried to other visits of the participant", int(ok.sum()))
    return data, issues
