"""The clinic report's descriptive tables: participant flow, Table 1 and data quality, and the whole set.

:func:`register_report` computes every table of the report with its counts registered in one
disclosure ledger; :func:`~hipkit.report.clinic.ledger.publish` shows them once it is resolved.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd

from ...registry import load_registry
from ...stats import table1
from .. import format as fmt
from ..disclosure import Disclosure
from .analyses import (
    change_from_baseline,
    responder_rates,
    strength_gains_vs_mdc,
    visit_means,
    within_person_relation,
)
from .data import GROUP, SUBJECT, TIME, ClinicData, Note, _leg_codes, _registered, outcome_measures, patient_codes
from .ledger import _finish, _ledger, _publish_table1

__all__ = ["register_report", "participant_flow", "table_one", "data_quality"]

#: Covariates Table 1 shows first, when the data have them.
COVARIATES = _registered("age_years", "body_mass_kg")


def register_report(cd: ClinicData, ledger: Disclosure, measures: Sequence[str]) -> dict:
    """Every table of the report, computed with its counts registered in ``ledger`` (not yet resolved).

    Parameters
    ----------
    cd : ClinicData
    ledger : Disclosure
    measures : sequence of str

    Returns
    -------
    dict
        ``flow, means, change, responders, mdc, relation, table1, data_quality`` (frames of
        :class:`~hipkit.report.disclosure.Count`; show them with :func:`publish` after
        ``ledger.resolve()``), plus ``relation_notes`` and ``model_warnings``.
    """
    min_cell = ledger.min_cell
    out = {
        "flow": participant_flow(cd, min_cell, disclosure=ledger),
        "means": visit_means(cd, measures, min_cell, disclosure=ledger),
        "change": change_from_baseline(cd, measures, min_cell, disclosure=ledger),
        "responders": responder_rates(cd, min_cell, disclosure=ledger),
        "mdc": strength_gains_vs_mdc(cd, min_cell, disclosure=ledger),
        "data_quality": data_quality(cd, min_cell, disclosure=ledger),
    }
    out["relation"], out["relation_notes"], out["model_warnings"] = within_person_relation(
        cd, min_cell, disclosure=ledger
    )
    out["table1"], out["sex"] = table_one(cd, measures, min_cell, disclosure=ledger)
    return out


def table_one(cd: ClinicData, measures: Sequence[str], min_cell: int = 5, disclosure: Disclosure | None = None):
    """Table 1: mean (SD) [n] at week 0 by group, and patients by sex; small cells suppressed.

    Groups with fewer than ``min_cell`` patients at week 0 are left out; a cell whose number of
    values is hidden reads ``"<5 values"`` (primary) or ``"suppressed"`` (complementary).

    Parameters
    ----------
    cd : ClinicData
    measures : sequence of str
        Outcome measures (age and body mass are added first when present).
    min_cell : int, default 5
    disclosure : Disclosure, optional
        The report's ledger (counts registered, shown after it is resolved); default: a private one.

    Returns
    -------
    table : pandas.DataFrame or Note
        From :func:`hipkit.table1` (``show_n=True``), measures labelled; a :class:`Note` when no group
        can be shown.
    sex : pandas.DataFrame or None
        Patients by sex and group (suppressed), or None without a sex column.
    """
    ledger, own = _ledger(disclosure, min_cell)
    at_base = (cd.data[TIME] == min(cd.programme_weeks)).to_numpy()
    baseline = cd.data.loc[at_base]
    if baseline.empty:
        return Note("Table 1", "no patient has a week-0 visit"), None
    codes = patient_codes(cd)[at_base]
    legs = _leg_codes(cd)[at_base]
    n = baseline.groupby(GROUP)[SUBJECT].nunique()
    keep = n[n >= min_cell].index
    if keep.empty:
        return Note("Table 1", f"every group has fewer than {min_cell} patients at week 0"), None
    kept = baseline[GROUP].isin(keep).to_numpy()
    baseline, codes, legs = baseline.loc[kept], codes[kept], legs[kept]
    covariates = [c for c in COVARIATES if c in baseline and baseline[c].notna().any()]
    rows = [*covariates, *measures]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table = table1(baseline, outcomes=rows, by=GROUP, show_n=True)
    reg = load_registry()
    groups = baseline[GROUP].to_numpy()
    cells = {}
    for m in rows:
        per_side = m in reg and reg[m].per_side and "side" in baseline
        units = legs if per_side else codes
        has = baseline[m].notna().to_numpy()
        for g in table.columns.drop("measure"):
            members = units[has & (groups == g)]
            cells[(m, g)] = ledger.count(
                ("table1", m, g), members=members, universe="legs" if per_side else "patients", table="Table 1"
            )
    table = table.copy()
    for g in table.columns.drop("measure"):
        table[g] = [(text, cells[(m, g)]) for m, text in zip(rows, table[g])]
    table["measure"] = table["measure"].map(fmt.short_label)
    sex = None
    if "sex" in baseline:
        first = ~pd.Series(codes).duplicated().to_numpy()
        people = baseline.loc[first]
        pc = codes[first]
        sexes = people["sex"].astype(object).fillna("not recorded").astype(str).to_numpy()
        pg_ = people[GROUP].to_numpy()
        levels = sorted(set(sexes))
        frame = {"sex": levels}
        for g in sorted(set(pg_)):
            frame[g] = [
                ledger.count(("sex", s, g), members=pc[(sexes == s) & (pg_ == g)], table="Patients by sex")
                for s in levels
            ]
        # The group's size at week 0 is a margin of this table (the patients behind Table 1's rows).
        for g in sorted(set(pg_)):
            ledger.count(("baseline patients", g), members=pc[pg_ == g], published=False)
        sex = pd.DataFrame(frame)
    if own:
        ledger.resolve()
        table = _publish_table1(ledger, table)
        sex = ledger.publish(sex) if sex is not None else None
    return table, sex


def participant_flow(cd: ClinicData, min_cell: int = 5, disclosure: Disclosure | None = None) -> pd.DataFrame:
    """Participant flow: enrolled, seen at each visit, completed, and lost after each visit.

    A patient is *seen* at a visit when any outcome was recorded that week, *completed* when seen at
    the last programme week, and *lost after week w* when week ``w`` was their last visit before the
    end. Reasons come from the export's discharge/withdrawal-reason column where there is one.

    Parameters
    ----------
    cd : ClinicData
    min_cell : int, default 5
    disclosure : Disclosure, optional
        The report's ledger (each stage's patients are a count in it); default: a private one.

    Returns
    -------
    pandas.DataFrame
        Columns ``stage`` (``enrolled``, ``seen``, ``completed``, ``lost``), ``week``, ``group``, ``n``
        (suppressed below ``min_cell``, and wherever a hidden count could be recovered from others),
        ``reason`` (for ``lost``; ``"not recorded"`` if absent).
    """
    ledger, own = _ledger(disclosure, min_cell)
    data = cd.data
    codes = patient_codes(cd)
    measures = outcome_measures(data)
    recorded = data[measures].notna().any(axis=1).to_numpy()
    final = max(cd.programme_weeks)
    groups_col = data[GROUP].to_numpy()
    weeks_col = data[TIME].to_numpy(dtype=float)
    rec = pd.DataFrame({"code": codes[recorded], "group": groups_col[recorded], "week": weeks_col[recorded]})
    rec = rec.drop_duplicates()
    last = rec.groupby("code")["week"].max()
    reason_col = "discharge_reason" if "discharge_reason" in data.columns else None
    pairs = pd.DataFrame({"code": codes, "group": groups_col}).drop_duplicates()
    reasons = pd.Series("not recorded", index=pd.Index(np.unique(codes)), dtype=object)
    if reason_col:
        given = data[reason_col].notna().to_numpy()
        stated = pd.Series(data[reason_col].to_numpy()[given], index=codes[given]).astype(str)
        stated = stated.groupby(level=0).last()
        reasons.loc[stated.index] = stated.to_numpy()
    rows = []  # (stage, week, group, reason, member codes)
    for g in [*sorted(set(groups_col)), "all"]:
        ids = pairs["code"].to_numpy() if g == "all" else pairs.loc[pairs["group"] == g, "code"].to_numpy()
        ids = np.unique(ids)
        r = rec if g == "all" else rec.loc[rec["group"] == g]
        rows.append(("enrolled", np.nan, g, "", ids))
        for w in cd.programme_weeks:
            rows.append(("seen", w, g, "", r.loc[r["week"] == w, "code"].to_numpy()))
        lastg = last.reindex(ids).to_numpy()
        done = lastg >= final
        rows.append(("completed", final, g, "", ids[done]))
        lost, lost_weeks = ids[~done], np.nan_to_num(lastg[~done], nan=-1.0)
        why = reasons.reindex(lost).to_numpy()
        for w in np.unique(lost_weeks):
            for reason in sorted(set(why[lost_weeks == w])):
                rows.append(("lost", w if w >= 0 else np.nan, g, reason, lost[(lost_weeks == w) & (why == reason)]))
    # Free-text reasons are shown only when at least min_cell patients share them (a category, not a
    # note about one person); the rest are pooled.
    shared = {}
    for stage, _, g, reason, members in rows:
        if stage == "lost" and g == "all":
            shared[reason] = shared.get(reason, 0) + len(members)
    keep = {reason for reason, n in shared.items() if n >= min_cell} | {"not recorded"}
    pooled: dict = {}
    for stage, week, g, reason, members in rows:
        if stage == "lost" and reason not in keep:
            reason = "other reason (free text not shown)"
        key = (stage, None if week != week else float(week), g, reason)
        pooled.setdefault(key, []).append(members)
    table = []
    for (stage, week, g, reason), parts in pooled.items():
        members = np.unique(np.concatenate(parts)) if parts else np.array([], dtype=np.int64)
        count = ledger.count(
            ("flow", stage, week, g, reason),
            members=members.astype(np.int64),
            table="flow",
            cost=1 if g == "all" else None,
        )
        table.append(
            {"stage": stage, "week": np.nan if week is None else week, "group": g, "reason": reason, "n": count}
        )
    flow = pd.DataFrame(table, columns=["stage", "week", "group", "reason", "n"])
    return _finish(ledger, own, flow, "flow")


def data_quality(cd: ClinicData, min_cell: int = 5, disclosure: Disclosure | None = None) -> pd.DataFrame:
    """Data-quality notes: rows set aside, values blanked, duplicates, out-of-window visits.

    Parameters
    ----------
    cd : ClinicData
    min_cell : int, default 5
    disclosure : Disclosure, optional
        The report's ledger (records, rows and patients are counts in it); default: a private one.

    Returns
    -------
    pandas.DataFrame
        ``item, count, detail``; counts suppressed below ``min_cell`` (and where the record
        accounting would give a hidden one away).
    """
    ledger, own = _ledger(disclosure, min_cell)
    rows = []
    if cd.log is not None:
        r = cd.log["rows"]
        cells = {
            k: ledger.count(("records", k), value=int(r.get(k, 0) or 0), universe="records", table="data quality")
            for k in ("in", "clean", "quarantined", "duplicates_removed", "values_quarantined")
        }
        # Every record is clean, quarantined or a duplicate: the first four are one linked table.
        ledger.relation(cells["in"], [cells["clean"], cells["quarantined"], cells["duplicates_removed"]])
        rows += [
            ("records in the export(s)", cells["in"], ""),
            (
                "records in the clean table",
                cells["clean"],
                "every record is clean, quarantined or a duplicate: "
                + ("balances" if r.get("invariant_holds") else "DOES NOT BALANCE"),
            ),
            ("records quarantined (set aside whole)", cells["quarantined"], ""),
            ("exact duplicate records removed", cells["duplicates_removed"], ""),
            ("single values set to missing (rest of record kept)", cells["values_quarantined"], ""),
        ]
        q = cd.quarantine
        if len(q):
            by_action: dict = {}
            for (reason, action), n in q.groupby(["reason", "action"], dropna=False).size().items():
                count = ledger.count(("quarantine", str(reason), str(action)), value=int(n), universe="records")
                rows.append((f"  quarantined: {reason}", count, str(action)))
                by_action.setdefault(str(action), []).append(count)
            # Where the reasons of one action add up to a total shown above, that is a linked table too.
            for action, total in (("row_removed", "quarantined"), ("value_set_missing", "values_quarantined")):
                parts = by_action.get(action, [])
                if parts and sum(c.value for c in parts) == cells[total].value:
                    ledger.relation(cells[total], parts)
    else:
        count = ledger.count(("rows", "clean table"), value=len(cd.data), universe="rows", table="data quality")
        rows.append(("input was an already-clean table", count, "no cleaning log available"))
    codes = patient_codes(cd)
    if "out_of_window" in cd.data:
        flagged = cd.data["out_of_window"].fillna(False).astype(bool).to_numpy()
        visits = codes[flagged] * 1000 + np.round(cd.data[TIME].to_numpy(dtype=float)[flagged]).astype(np.int64) % 1000
        rows.append(
            (
                "visits outside their visit window (kept)",
                ledger.count(("out of window visits",), members=visits.astype(np.int64), universe="visits"),
                "weeks from baseline differ from the protocol week by more than the window",
            )
        )
    recorded = cd.data[outcome_measures(cd.data)].notna().any(axis=1).to_numpy()
    seen = pd.Series(cd.data[TIME].to_numpy(dtype=float)[recorded]).groupby(codes[recorded])
    first, last = seen.min(), seen.max()
    base = min(cd.programme_weeks)
    only_base = first.index[((first == base) & (last == base)).to_numpy()] if len(cd.programme_weeks) > 1 else []
    everyone = np.unique(codes)
    rows += [
        (
            "patients seen only at week 0",
            ledger.count(("dq", "only week 0"), members=np.asarray(only_base, dtype=np.int64), table="data quality"),
            "counted in the participant flow (lost after week 0); no change, responder or MDC result",
        ),
        (
            "patients with no week-0 visit",
            ledger.count(("dq", "no week 0"), members=first.index[(first > base).to_numpy()].to_numpy(dtype=np.int64)),
            "counted in the participant flow; no change, responder or MDC result",
        ),
        (
            "patients with no outcome recorded",
            ledger.count(("dq", "no outcome"), members=np.setdiff1d(everyone, first.index.to_numpy(dtype=np.int64))),
            "counted as enrolled only",
        ),
    ]
    off = ~cd.data[TIME].isin(cd.programme_weeks)
    rows.append(
        (
            "rows at weeks outside the programme schedule (not analysed)",
            ledger.count(("rows", "off schedule"), value=int(off.sum()), universe="rows"),
            f"schedule: weeks {fmt.weeks(cd.programme_weeks)}",
        )
    )
    out = pd.DataFrame(rows, columns=["item", "count", "detail"])
    return _finish(ledger, own, out, "data_quality")
