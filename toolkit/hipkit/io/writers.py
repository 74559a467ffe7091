"""Writers for tables: CSV (safe against spreadsheet formula injection) and Parquet, always atomic.

:func:`write_csv` is the one CSV writer of hipkit: the clean table, the quarantine, ``hipkit describe``
tables, out-of-core parts and log exports all go through it, so every text cell that a spreadsheet
would run as a formula is neutralised wherever it is written.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd

from ..errors import InputError
from .outputs import atomic_path

__all__ = ["write_table", "write_csv", "neutralise_formulas", "FORMULA_PREFIXES"]

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


def write_csv(df: pd.DataFrame, path: str | Path) -> int:
    """Write ``df`` to the CSV file ``path``, atomically, with formula-like text neutralised.

    Returns
    -------
    int
        The number of cells neutralised (see :func:`neutralise_formulas`).

    Raises
    ------
    OutputError
        The file cannot be written (one line naming it); nothing half-written is left behind.
    """
    with atomic_path(path) as tmp:
        return _write(df, tmp, ".csv")


def _write(df: pd.DataFrame, path: Path, suffix: str) -> int:
    if suffix == ".csv":
        safe, n = neutralise_formulas(df)
        # Python's csv writer (under pandas) leaves a field holding a lone carriage return
        # unquoted when lines end in "\n", and the file no longer reads back: quote such files'
        # text fields.
        quoting = csv.QUOTE_NONNUMERIC if _has_carriage_return(safe) else csv.QUOTE_MINIMAL
        safe.to_csv(path, index=False, lineterminator="\n", float_format="%.10g", quoting=quoting)
        return n
    df.to_parquet(path, index=False)
    return 0


def _has_carriage_return(df: pd.DataFrame) -> bool:
    if any("\r" in str(c) for c in df.columns):
        return True
    for col in df.columns:
        s = df[col]
        if pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s):
            continue
        if s.astype("str").str.contains("\r", regex=False).any():
            return True
    return False


def write_table(df: pd.DataFrame, path: str | Path, suffix: str | None = None) -> int:
    """Write ``df`` to ``path`` (.csv or .parquet), atomically; return the number of neutralised cells.

    ``suffix`` gives the format when ``path`` is a temporary file of an :func:`atomic_path` block
    (then it is written in place: the block renames it).
    """
    path = Path(path)
    kind = (suffix or path.suffix).lower()
    kind = ".parquet" if kind == ".pq" else kind
    if kind not in (".csv", ".parquet"):
        raise InputError(f"{path}: output must end in .csv or .parquet")
    if suffix is not None:
        return _write(df, path, kind)
    with atomic_path(path) as tmp:
        return _write(df, tmp, kind)
