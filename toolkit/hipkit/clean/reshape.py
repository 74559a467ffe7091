"""Wide-to-long reshaping driven by the column roles.

A wide export (one row per participant, a column per visit and side) becomes one *record* per
participant x visit (x side). Each record keeps the line it came from. A visit slice with no value
at all is not a record (the visit did not happen or was not exported); a line that yields no record
at all is kept as one record without a visit, which validation quarantines as ``no_measurements``,
so that no participant disappears silently.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..io.readers import RawTable
from ..registry import Registry
from .columns import ColumnRole

__all__ = ["to_records"]


def _is_blank(s: pd.Series, missing_tokens: frozenset[str]) -> np.ndarray:
    if pd.api.types.is_numeric_dtype(s):
        return s.isna().to_numpy()
    text = s.astype("str").str.strip().str.lower()
    return (s.isna() | text.isin(missing_tokens)).to_numpy()


def to_records(table: RawTable, roles: list[ColumnRole], registry: Registry) -> tuple[pd.DataFrame, dict]:
    """Turn one raw table into long records with canonical column names (values still raw).

    Returns
    -------
    records : DataFrame
        Columns: ``source_file``, ``source_line``, key columns (``participant_id``, ``visit``
        or ``visit_week_header``, ``side``/``limb`` tags, ...), one column per measure holding
        raw cell values, and ``<measure>__unit`` columns holding each value's stated unit.
    info : dict
        ``layout`` ("wide" or "long"), ``records``, ``empty_slices``, ``lines_without_values``.
    """
    df = table.data
    n = len(df)
    static: dict[str, pd.Series] = {}
    unit_cols: dict[str, pd.Series] = {}
    for r in roles:
        if r.role == "key" and r.visit is None:
            static[r.target] = df[r.raw]
        elif r.role == "unit":
            unit_cols[r.target] = df[r.raw]
        elif r.role == "measure" and r.visit is None and r.side is None and r.limb is None:
            static[r.target] = df[r.raw]
            static[f"{r.target}__unit"] = _unit_series(r, unit_cols, df, n)
    # Slices: (visit, side, limb) -> {canonical name: column}
    slices: dict[tuple, dict[str, pd.Series]] = {}
    slice_raw: dict[tuple, dict[str, str]] = {}
    for r in roles:
        if r.role == "measure" and (r.visit is not None or r.side is not None or r.limb is not None):
            sl = slices.setdefault((r.visit, r.side, r.limb), {})
            slice_raw.setdefault((r.visit, r.side, r.limb), {})[r.target] = r.raw
            sl[r.target] = df[r.raw]
            sl[f"{r.target}__unit"] = _unit_series(r, unit_cols, df, n)
    # Unit columns given per row apply to static measures without a header unit.
    for r in roles:
        if r.role == "measure" and r.visit is None and r.side is None and r.limb is None:
            if r.unit is None and r.target in unit_cols:
                static[f"{r.target}__unit"] = unit_cols[r.target]
    date_by_visit = {r.visit: df[r.raw] for r in roles if r.role == "key" and r.visit is not None}
    date_raw = {r.visit: r.raw for r in roles if r.role == "key" and r.visit is not None}

    static_raw = {
        r.target: r.raw
        for r in roles
        if r.role in ("key", "measure") and r.visit is None and r.side is None and r.limb is None
    }
    headers: dict[int, dict[str, str]] = {0: static_raw}
    base = pd.DataFrame(static, index=df.index)
    base.insert(0, "source_line", table.lines)
    base.insert(0, "source_file", table.source_file)
    base["__slice"] = 0
    info = {"records": n, "empty_slices": 0, "lines_without_values": 0, "headers": headers}
    if not slices:
        info["layout"] = "long"
        return base.reset_index(drop=True), info

    info["layout"] = "wide"
    measure_names = {k for sl in slices.values() for k in sl if not k.endswith("__unit")} | {
        k for k in static if k in registry and not k.endswith("__unit")
    }
    static_measures = [k for k in static if k in registry]
    has_values_static = np.zeros(n, dtype=bool)
    for k in static_measures:
        if registry[k].kind == "outcome":
            has_values_static |= ~_is_blank(static[k], registry.missing_tokens)
    # Side-less slices at a visit are merged into each side slice of that visit.
    visits = sorted({v for (v, _, _) in slices}, key=lambda v: (v is None, v if v is not None else 0))
    parts = []
    any_record = np.zeros(n, dtype=bool)
    for v in visits:
        sided = [(s, lb) for (vv, s, lb) in slices if vv == v and (s is not None or lb is not None)]
        common = slices.get((v, None, None), {})
        combos = sided or [(None, None)]
        for s, lb in combos:
            cols = dict(common)
            cols.update(slices.get((v, s, lb), {}))
            frame = pd.DataFrame(cols, index=df.index)
            has = np.zeros(n, dtype=bool)
            for k in cols:
                if not k.endswith("__unit"):
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
            part["__slice"] = sid
            if v is not None:
                part["visit_week_header"] = v
                if v in date_by_visit:
                    part["visit_date"] = date_by_visit[v].loc[has]
            if s is not None:
                part["side"] = s
            if lb is not None:
                part["limb"] = lb
            parts.append(part)
            any_record |= has
    # Lines with no value in any slice are kept as one record (quarantined later, never lost).
    lonely = ~any_record
    if lonely.any():
        part = base.loc[lonely].copy()
        part["__no_values"] = True
        parts.append(part)
    info["lines_without_values"] = int(lonely.sum())
    out = pd.concat(parts, ignore_index=True, sort=False) if parts else base.iloc[0:0].copy()
    for name in measure_names:
        if name not in out.columns:
            out[name] = pd.NA
    out = out.sort_values(["source_line"], kind="stable").reset_index(drop=True)
    info["records"] = int(len(out))
    return out, info


def _unit_series(r: ColumnRole, unit_cols: dict, df: pd.DataFrame, n: int):
    if r.unit is not None:
        return pd.Series([r.unit] * n, index=df.index, dtype="object") if n else pd.Series([], dtype="object")
    if r.target in unit_cols:
        return unit_cols[r.target]
    return pd.Series([""] * n, index=df.index, dtype="object") if n else pd.Series([], dtype="object")
