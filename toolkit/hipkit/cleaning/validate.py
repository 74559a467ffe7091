"""Validation with pandera schemas generated from the measure registry.

The schema is built from the registry (ranges, key columns, categories), so no range is written
twice. It runs lazily, so every failure in the table is collected in one pass; each failure becomes
a quarantine entry carrying the row's origin, the column, the raw value and the check.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pandera.pandas as pa

from .._glossary import QuarantineReason as R
from ..registry import Registry
from .issues import Issues

__all__ = ["clean_schema", "validate"]

_KEY_CHECKS = {"participant_id", "visit_week"}


def clean_schema(registry: Registry, columns: list[str] | None = None) -> pa.DataFrameSchema:
    """Build the pandera schema of the canonical long table from the registry.

    Parameters
    ----------
    registry : Registry
    columns : list of str, optional
        Restrict the measure columns to these (others are not required).

    Returns
    -------
    pandera.DataFrameSchema

    Examples
    --------
    >>> from hipkit import load_registry
    >>> schema = clean_schema(load_registry())
    >>> schema.columns["pain_vas"].checks
    [<Check in_range: in_range(0.0, 10.0)>]
    """
    cols: dict[str, pa.Column] = {
        "participant_id": pa.Column(nullable=False),  # empty ids were made missing by harmonisation
        "visit_week": pa.Column(float, nullable=False, checks=pa.Check.ge(0)),
        "side": pa.Column(object, nullable=True, required=False, checks=pa.Check.isin(["left", "right"])),
        "sex": pa.Column(object, nullable=True, required=False, checks=pa.Check.isin(["female", "male"])),
        "limb": pa.Column(object, nullable=True, required=False, checks=pa.Check.isin(["involved", "uninvolved"])),
    }
    for m in registry:
        if columns is not None and m.name not in columns:
            continue
        low, high = m.range
        cols[m.name] = pa.Column(
            float,
            nullable=True,
            required=False,
            checks=pa.Check.in_range(low, high),
            description=f"{m.label} ({m.unit})",
        )
    return pa.DataFrameSchema(cols, strict=False, coerce=False, name="hipkit canonical long table")


def validate(data: pd.DataFrame, issues: Issues, *, registry: Registry) -> tuple[pd.DataFrame, Issues]:
    """Validate ``data`` (a step): out-of-range values are blanked, bad keys mark rows for removal.

    Returns
    -------
    data : DataFrame
        A new frame with the failing values set to missing.
    issues : Issues
        With the rows whose key failed marked for removal in ``issues.records``.
    """
    schema = clean_schema(registry, [c for c in data.columns if c in registry])
    drop = np.zeros(len(data), dtype=bool)
    frame = data.reset_index(drop=True)
    # Every schema column is checked, except categories that harmonisation already mapped to the
    # allowed set or to missing (sex, side, limb): those checks cannot fail and cost a full pass.
    checked = [c for c in schema.columns if c in frame.columns and c not in ("sex", "side", "limb")]
    try:
        schema.select_columns(checked).validate(frame[checked], lazy=True)
        return data, issues
    except pa.errors.SchemaErrors as err:
        fc = err.failure_cases
    data = data.copy(deep=False)
    state = issues.state_of(data)
    fc = fc[fc["index"].notna()]
    for (column, check), part in fc.groupby(["column", "check"], sort=True):
        rows = np.zeros(len(frame), dtype=bool)
        rows[part["index"].astype(np.int64).to_numpy()] = True
        raw = state.raw_value(column, data[column])
        if column in registry:
            m = registry[column]
            n = issues.add(
                data,
                rows,
                column,
                raw,
                R.OUT_OF_RANGE,
                "value_set_missing",
                f"{column}: outside the valid range {m.range[0]:g}-{m.range[1]:g} {m.unit}",
                check=str(check),
            )
            issues.count("values_quarantined", f"{column}: out_of_range", n)
            data.loc[data.index[rows], column] = np.nan
        else:
            reason = (
                R.MISSING_ID
                if column == "participant_id"
                else (R.UNRECOGNISED_VISIT if column == "visit_week" else R.SCHEMA)
            )
            action = "row_removed" if column in _KEY_CHECKS or column == "side" else "value_set_missing"
            issues.add(data, rows, column, raw, reason, action, f"{column}: failed {check}", check=str(check))
            if action == "row_removed":
                drop |= rows
            else:
                data.loc[data.index[rows], column] = None
    return data, issues.with_records(state.marked(drop))
