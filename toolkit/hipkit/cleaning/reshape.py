"""Wide-to-long reshaping driven by the column roles.

A wide export (one row per participant, a column per visit and side) becomes one *record* per
participant x visit (x side). Each record keeps the line it came from. A visit slice with no value
at all is not a record (the visit did not happen or was not exported); a line that yields no record
at all is kept as one record without a visit, which validation quarantines as ``no_measurements``,
so that no participant disappears silently.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from ..registry import Registry
from .columns import ColumnRole, MappedTable
from .issues import Issues, RecordState

__all__ = ["to_records"]


def _is_blank(s: pd.Series, missing_tokens: frozenset[str]) -> np.ndarray:
    if pd.api.types.is_numeric_dtype(s):
        return s.isna().to_numpy()
    text = s.astype("str").str.strip().str.lower()
    return (s.isna() | text.isin(missing_tokens)).to_numpy()


def to_records(mapped: MappedTable, issues: Issues, *, registry: Registry) -> tuple[pd.DataFrame, Issues]:
    """Turn one raw table into long records with canonical column names (values still raw): a step.

    Returns
    -------
    records : DataFrame
        Columns: ``source_file``, ``source_line``, key columns (``participant_id``, ``visit``,
        ``side``/``limb`` tags, ...) and one column per measure holding raw cell values.
    issues : Issues
        With the records' :class:`~hipkit.cleaning.issues.RecordState` (each record's header slice,
        the unit stated for each value, the visit week its headers name), the file's headers by
        slice in the quarantine, and ``layout`` ("wide" or "long"), ``records``, ``empty_slices``
        and ``lines_without_values`` in ``issues.files[source file]``.
    """
    table, roles = mapped.table, mapped.roles
    df = table.data
    n = len(df)
    static: dict[str, pd.Series] = {}
    static_units: dict[str, pd.Series] = {}
    unit_cols: dict[str, pd.Series] = {}
    for r in roles:
        if r.role == "key" and r.visit is None:
            static[r.target] = df[r.raw]
        elif r.role == "unit":
            unit_cols[r.target] = df[r.raw]
        elif r.role == "measure" and r.visit is None and r.side is None and r.limb is None:
            static[r.target] = df[r.raw]
            static_units[r.target] = _unit_series(r, unit_cols, df, n)
    # Slices: (visit, side, limb) -> {canonical name: column}, and the stated unit of each value.
    slices: dict[tuple, dict[str, pd.Series]] = {}
    slice_units: dict[tuple, dict[str, pd.Series]] = {}
    slice_raw: dict[tuple, dict[str, str]] = {}
    for r in roles:
        if r.role == "measure" and (r.visit is not None or r.side is not None or r.limb is not None):
            sl = slices.setdefault((r.visit, r.side, r.limb), {})
            slice_raw.setdefault((r.visit, r.side, r.limb), {})[r.target] = r.raw
            sl[r.target] = df[r.raw]
            slice_units.setdefault((r.visit, r.side, r.limb), {})[r.target] = _unit_series(r, unit_cols, df, n)
    # Unit columns given per row apply to static measures without a header unit.
    for r in roles:
        if r.role == "measure" and r.visit is None and r.side is None and r.limb is None:
            if r.unit is None and r.target in unit_cols:
                static_units[r.target] = unit_cols[r.target]
    date_by_visit = {r.visit: df[r.raw] for r in roles if r.role == "key" and r.visit is not None}
    date_raw = {r.visit: r.raw for r in roles if r.role == "key" and r.visit is not None}

    static_raw = {
        r.target: r.raw
        for r in roles
        if r.role in ("key", "measure") and r.visit is None and r.side is None and r.limb is None
    }
    headers: dict[int, dict[str, str]] = {0: static_raw}
    issues.quarantine.headers[table.source_file] = headers
    base = pd.DataFrame(static, index=df.index)
    base.insert(0, "source_line", table.lines)
    base.insert(0, "source_file", table.source_file)
    base_units = pd.DataFrame(static_units, index=df.index)
    info = {"records": n, "empty_slices": 0, "lines_without_values": 0}
    issues.files[table.source_file] = info
    if not slices:
        info["layout"] = "long"
        records = base.reset_index(drop=True)
        state = replace(RecordState.empty(records.index), units=base_units.reset_index(drop=True))
        return records, issues.with_records(state)

    info["layout"] = "wide"
    measure_names = {k for sl in slices.values() for k in sl} | {k for k in static if k in registry}
    static_measures = [k for k in static if k in registry]
    has_values_static = np.zeros(n, dtype=bool)
    for k in static_measures:
        if registry[k].kind == "outcome":
            has_values_static |= ~_is_blank(static[k], registry.missing_tokens)
    # Side-less slices at a visit are merged into each side slice of that visit.
    visits = sorted({v for (v, _, _) in slices}, key=lambda v: (v is None, v if v is not None else 0))
    parts, states, units = [], [], []
    any_record = np.zeros(n, dtype=bool)
    for v in visits:
        sided = [(s, lb) for (vv, s, lb) in slices if vv == v and (s is not None or lb is not None)]
        common = slices.get((v, None, None), {})
        common_units = slice_units.get((v, None, None), {})
        combos = sided or [(None, None)]
        for s, lb in combos:
            cols = dict(common)
            cols.update(slices.get((v, s, lb), {}))
            cols_units = dict(common_units)
            cols_units.update(slice_units.get((v, s, lb), {}))
            frame = pd.DataFrame(cols, index=df.index)
            has = np.zeros(n, dtype=bool)
            for k in cols:
                has |= ~_is_blank(frame[k], registry.missing_tokens)
            if v is None:
                has |= has_values_static
            info["empty_slices"] += int((~has).sum())
            if not has.any():
                continue
            part = pd.concat([base.loc[has], frame.loc[has]], axis=1)
            sid = len(headers)
            headers[sid] = {**static_raw, **slice_raw.get((v, None, None), {}), **slice_raw.get((v, s, lb), {})}
            if v is not None and v in date_by_visit:
                headers[sid]["visit_date"] = date_raw[v]
            state = pd.DataFrame(
                {"slice": sid, "no_values": False, "header_week": np.nan if v is None else float(v)},
                index=part.index,
            )
            if v is not None and v in date_by_visit:
                part["visit_date"] = date_by_visit[v].loc[has]
            if s is not None:
                part["side"] = s
            if lb is not None:
                part["limb"] = lb
            parts.append(part)
            states.append(state)
            units.append(pd.concat([base_units.loc[has], pd.DataFrame(cols_units, index=df.index).loc[has]], axis=1))
            any_record |= has
    # Lines with no value in any slice are kept as one record (quarantined later, never lost).
    lonely = ~any_record
    if lonely.any():
        part = base.loc[lonely].copy()
        parts.append(part)
        states.append(pd.DataFrame({"slice": 0, "no_values": True, "header_week": np.nan}, index=part.index))
        units.append(base_units.loc[lonely])
    info["lines_without_values"] = int(lonely.sum())
    if parts:
        out = pd.concat(parts, ignore_index=True, sort=False)
        side = pd.concat(states, ignore_index=True, sort=False)
        out_units = pd.concat(units, ignore_index=True, sort=False)
    else:
        out = base.iloc[0:0].copy()
        side = pd.DataFrame({"slice": 0, "no_values": False, "header_week": np.nan}, index=out.index)
        out_units = base_units.iloc[0:0]
    for name in measure_names:
        if name not in out.columns:
            out[name] = pd.NA
    order = np.argsort(out["source_line"].to_numpy(), kind="stable")
    out = out.iloc[order].reset_index(drop=True)
    side = side.iloc[order].reset_index(drop=True)
    out_units = out_units.iloc[order].reset_index(drop=True)
    info["records"] = int(len(out))
    state = RecordState(
        slice=side["slice"].astype("int64"),
        no_values=side["no_values"].astype(bool),
        header_week=side["header_week"].astype(float),
        units=out_units,
        raw=pd.DataFrame(index=out.index),
        remove=pd.Series(False, index=out.index, dtype=bool),
    )
    return out, issues.with_records(state)


def _unit_series(r: ColumnRole, unit_cols: dict, df: pd.DataFrame, n: int):
    if r.unit is not None:
        return pd.Series([r.unit] * n, index=df.index, dtype="object") if n else pd.Series([], dtype="object")
    if r.target in unit_cols:
        return unit_cols[r.target]
    return pd.Series([""] * n, index=df.index, dtype="object") if n else pd.Series([], dtype="object")
