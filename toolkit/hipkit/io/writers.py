"""Writers for clean tables: CSV (safe against spreadsheet formula injection) and Parquet."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..errors import InputError

__all__ = ["write_table", "neutralise_formulas", "FORMULA_PREFIXES"]

#: A text cell starting with one of these is executed by spreadsheet programs (CSV injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise_formulas(df: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Prefix formula-like text cells with an apostrophe so that spreadsheets show, not run, them.

    Only text columns are touched; numbers (including negative numbers) are left as they are.

    Returns
    -------
    (DataFrame, int)
        The safe copy and the number of cells changed.

    Examples
    --------
    >>> df = pd.DataFrame({"group": ["=HYPERLINK(1)", "hip"], "x": [-1.0, 2.0]})
    >>> safe, n = neutralise_formulas(df)
    >>> safe["group"].tolist(), n
    (["'=HYPERLINK(1)", 'hip'], 1)
    """
    out = df.copy()
    changed = 0
    for col in out.columns:
        s = out[col]
        if pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s):
            continue
        if pd.api.types.is_datetime64_any_dtype(s):
            continue
        text = s.astype("str")
        mask = s.notna() & text.str.startswith(FORMULA_PREFIXES)
        n = int(mask.sum())
        if n:
            out[col] = s.astype("object").where(~mask, "'" + text)
            changed += n
    return out, changed


def write_table(df: pd.DataFrame, path: str | Path) -> int:
    """Write ``df`` to ``path`` (.csv or .parquet); return the number of neutralised formula cells."""
    path = Path(path)
    suffix = path.suffix.lower()
    if path.parent and not path.parent.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".csv":
        safe, n = neutralise_formulas(df)
        safe.to_csv(path, index=False, lineterminator="\n", float_format="%.10g")
        return n
    if suffix in (".parquet", ".pq"):
        df.to_parquet(path, index=False)
        return 0
    raise InputError(f"{path}: output must end in .csv or .parquet")
