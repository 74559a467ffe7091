"""Derived columns: normalised strength, change from baseline, limb symmetry, responders.

All derivations read the registry: which measures exist, their direction and their MCID.

Columns added (for each outcome measure ``m`` present in the data)

- ``hip_abd_strength_nkg``: strength / body mass (N/kg); ``hip_abd_torque_nmkg``: strength x lever
  arm / body mass (N*m/kg) where a lever arm is recorded. Body mass missing at a visit is taken
  from the participant's baseline (or first) measurement.
- ``m_change``: value minus the same participant's (and side's) week-0 value.
- ``m_pct_change``: 100 x change / baseline (missing when the baseline is 0).
- ``m_lsi``: limb symmetry index for per-side measures, where both sides were measured at the
  visit: 100 x involved / uninvolved when the involved limb is known, else 100 x weaker / stronger.
- ``m_responder``: the change reaches the registry's MCID in the direction of improvement
  (only measures with a published MCID; missing at baseline and where the change is missing).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..registry import Registry
from .issues import Issues

__all__ = ["derive"]


def derive(data: pd.DataFrame, issues: Issues, *, registry: Registry) -> tuple[pd.DataFrame, Issues]:
    """Add the derived columns described in the module docstring (a step); return a new table."""
    data = data.copy()
    log = issues.log
    if "hip_abd_strength_n" in data.columns and "body_mass_kg" in data.columns:
        mass = _first_per_participant(data, "body_mass_kg")
        carried = data["body_mass_kg"].isna() & mass.notna() & data["hip_abd_strength_n"].notna()
        log.count("derivations", "body mass carried from the participant's baseline", int(carried.sum()))
        data["hip_abd_strength_nkg"] = data["hip_abd_strength_n"] / mass
        log.count("derivations", "hip_abd_strength_nkg computed", int(data["hip_abd_strength_nkg"].notna().sum()))
        if "lever_arm_m" in data.columns:
            lever = _first_per_participant(data, "lever_arm_m")
            data["hip_abd_torque_nmkg"] = data["hip_abd_strength_n"] * lever / mass
            log.count("derivations", "hip_abd_torque_nmkg computed", int(data["hip_abd_torque_nmkg"].notna().sum()))
    outcomes = [m for m in registry if m.kind in ("outcome", "derived") and m.name in data.columns]
    side_key = pd.Series("", index=data.index, dtype="object")
    for col in ("side", "limb"):
        if col in data.columns:
            side_key = side_key + "|" + data[col].astype("object").fillna("")
    base_mask = (data["visit_week"] == 0).to_numpy()
    # One integer code per (participant, side/limb): the baseline row of each code, found once.
    codes, n_codes = _combined_codes(data["participant_id"], side_key)
    base_row = np.full(n_codes, -1, dtype=np.int64)
    base_row[codes[base_mask]] = np.flatnonzero(base_mask)
    row_of_base = base_row[codes]
    has_base = row_of_base >= 0
    new_cols: dict[str, object] = {}
    for m in outcomes:
        v = data[m.name].to_numpy(dtype=float)
        b = np.where(has_base, v[np.maximum(row_of_base, 0)], np.nan)
        change = v - b
        new_cols[f"{m.name}_change"] = change
        with np.errstate(divide="ignore", invalid="ignore"):
            new_cols[f"{m.name}_pct_change"] = np.where(b != 0, 100.0 * change / b, np.nan)
        if m.mcid is not None:
            improve = m.improvement_sign * change
            resp = pd.array(improve >= m.mcid - 1e-9, dtype="boolean")
            resp[np.isnan(change) | base_mask] = pd.NA
            new_cols[f"{m.name}_responder"] = resp
            log.count("derivations", f"{m.name}_responder computed", int((~np.isnan(change) & ~base_mask).sum()))
    for k, v in new_cols.items():
        data[k] = v
    if "side" in data.columns or "limb" in data.columns:
        for m in outcomes:
            if not m.per_side:
                continue
            data[f"{m.name}_lsi"] = _lsi(data, m.name)
            log.count("derivations", f"{m.name}_lsi computed", int(data[f"{m.name}_lsi"].notna().sum()))
    return data, issues


def _first_per_participant(data: pd.DataFrame, col: str) -> pd.Series:
    """``col`` filled from the participant's earliest non-missing value (baseline first)."""
    order = data[["participant_id", "visit_week", col]].dropna(subset=[col])
    order = order.sort_values(["participant_id", "visit_week"], kind="stable")
    first = order.drop_duplicates("participant_id").set_index("participant_id")[col]
    return data[col].fillna(data["participant_id"].map(first))


def _combined_codes(a: pd.Series, b: pd.Series) -> tuple[np.ndarray, int]:
    """One integer code per (a, b) pair, from the integer codes of each (fast on millions of rows).

    Missing values get a code of their own.
    """
    ca, ua = pd.factorize(a, use_na_sentinel=False)
    cb, ub = pd.factorize(b, use_na_sentinel=False)
    return ca.astype(np.int64) * max(len(ub), 1) + cb, max(len(ua), 1) * max(len(ub), 1)


def _lsi(data: pd.DataFrame, col: str) -> np.ndarray:
    """LSI per (participant, visit): involved/uninvolved when the limb is known, else weaker/stronger."""
    group, n_groups = _combined_codes(data["participant_id"], data["visit_week"])
    values = data[col].to_numpy(dtype=float)
    out = np.full(len(data), np.nan)

    def per_group(mask: np.ndarray) -> np.ndarray:
        arr = np.full(n_groups, np.nan)
        arr[group[mask]] = values[mask]
        return arr

    for by, num, den in (("side", "left", "right"), ("limb", "involved", "uninvolved")):
        if by not in data.columns:
            continue
        lab = data[by].to_numpy(dtype=object)
        a, b = per_group(lab == num), per_group(lab == den)
        with np.errstate(divide="ignore", invalid="ignore"):
            if by == "side":
                lsi = 100.0 * np.fmin(a, b) / np.fmax(a, b)
                lsi[np.isnan(a) | np.isnan(b)] = np.nan
            else:
                lsi = 100.0 * a / b
        vals = lsi[group]
        out = np.where(np.isnan(vals), out, vals)  # the limb-based index, computed last, wins
    sided = np.zeros(len(data), dtype=bool)
    for by in ("side", "limb"):
        if by in data.columns:
            sided |= data[by].notna().to_numpy()
    out[~sided] = np.nan
    return out
