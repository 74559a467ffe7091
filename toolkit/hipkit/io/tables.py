"""Reading the tables analyses start from: clean tables written by ``hipkit clean``, and Dask inputs.

:func:`read_clean_table` reads one clean table (.csv or .parquet) with ids and labels as text;
:func:`read_dask_table` opens the files matching a glob as one Dask DataFrame without loading the
rows (``hipkit fit --data 'registry/*.parquet'``). Raw exports are read by :mod:`hipkit.io.readers`.
"""

from __future__ import annotations

import glob
import warnings
from pathlib import Path

import pandas as pd

from ..errors import DataQualityWarning, UnreadableFileError
from .ids import folded_spellings, normalise_ids
from .readers import PARQUET_SUFFIXES

__all__ = ["read_clean_table", "read_dask_table", "TEXT_COLUMNS"]

#: Text columns of the canonical long table: read back as text, never as numbers ("007" stays "007").
TEXT_COLUMNS = (
    "participant_id",
    "site",
    "group",
    "sex",
    "side",
    "limb",
    "affected_side",
    "discharge_reason",
    "source_file",
)


def read_clean_table(path: str | Path) -> pd.DataFrame:
    """Read a clean table written by ``hipkit clean`` (.csv or .parquet), ids and labels as text.

    ``pandas.read_csv`` would read an id column of ``007`` and ``7`` as the number 7 twice, merging
    two participants; here the canonical text columns stay text, and only empty cells are missing.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    DataFrame

    Raises
    ------
    UnreadableFileError
        Missing file, another format, or a parser failure (one line).

    Examples
    --------
    >>> read_clean_table("datasets/clean/clinic_clean.csv")["participant_id"].dtype.kind in "OT"
    True
    """
    p = Path(path)
    if not p.exists():
        raise UnreadableFileError(f"{p}: no such file")
    if p.is_dir():
        raise UnreadableFileError(f"{p}: is a folder, not a file")
    df = _read_clean_frame(p)
    if "participant_id" in df.columns:
        ids = df["participant_id"]
        norm = normalise_ids(ids)
        folded = folded_spellings(ids, norm)
        if folded:
            # Hand-edited tables: say so (count only; ids are not printed).
            warnings.warn(
                f"{p.name}: {len(folded)} participant id(s) are written in more than one way that differ only in "
                "case, spaces or invisible characters; each is read as one participant",
                DataQualityWarning,
                stacklevel=2,
            )
        df["participant_id"] = norm.where(ids.notna() & (norm != ""), None)
    return df


def _read_clean_frame(p: Path) -> pd.DataFrame:
    suffix = p.suffix.lower()
    try:
        if suffix in PARQUET_SUFFIXES:
            df = pd.read_parquet(p)
            for c in TEXT_COLUMNS:
                if c in df.columns and pd.api.types.is_numeric_dtype(df[c]) and not pd.api.types.is_bool_dtype(df[c]):
                    v = df[c]
                    whole = v.dropna().eq(v.dropna().round()).all()
                    text = v.astype("Int64").astype("str") if whole else v.astype("str")
                    df[c] = text.where(v.notna(), None).astype("object")  # ids 1, 2: text "1", not "1.0"
            return df
        if suffix == ".csv":
            header = pd.read_csv(p, nrows=0).columns
            text = {c: "str" for c in TEXT_COLUMNS if c in header}
            df = pd.read_csv(p, dtype=text, keep_default_na=False, na_values=[""])
            # The CSV writer put an apostrophe before formula-like text (hipkit.io.write_csv): take it
            # off again, so that a group "-1+1" reads back as written (and is neutralised on output).
            for c in df.columns:
                s = df[c]
                if pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s):
                    continue
                text_s = s.astype("str")
                marked = s.notna() & text_s.str.match(r"^'[=+\-@\t\r]")
                if marked.any():
                    df[c] = s.astype("object").where(~marked, text_s.str[1:])
            return df
    except UnreadableFileError:
        raise
    except Exception as exc:  # noqa: BLE001 - one line, whatever the parser says
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UnreadableFileError(f"{p}: cannot read ({first})") from None
    raise UnreadableFileError(f"{p}: must be a .csv or .parquet file")


def read_dask_table(pattern: str):
    """A Dask DataFrame over the files matching ``pattern`` (all parquet or all csv), rows not loaded.

    Parameters
    ----------
    pattern : str
        A glob such as ``"registry/*.parquet"``.

    Returns
    -------
    dask.dataframe.DataFrame

    Raises
    ------
    UnreadableFileError
        No file matches, the files mix formats, or Dask cannot read them (one line).
    """
    files = sorted(glob.glob(pattern))
    if not files:
        raise UnreadableFileError(f"{pattern}: no file matches")
    import dask.dataframe as dd

    suffixes = {Path(f).suffix.lower() for f in files}
    try:
        if suffixes <= set(PARQUET_SUFFIXES):
            return dd.read_parquet(files)
        if suffixes == {".csv"}:
            return dd.read_csv(files)
    except Exception as exc:  # noqa: BLE001 - one line, whatever the reader says
        raise UnreadableFileError(f"{pattern}: cannot read ({str(exc).splitlines()[0]})") from None
    raise UnreadableFileError(f"{pattern}: the files must all be .parquet or all .csv")
