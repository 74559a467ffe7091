"""Readers for study and clinic exports: CSV (any delimiter, decimal comma), Excel, Parquet, REDCap.

Every reader returns :class:`RawTable` objects: the cells as text (numeric Parquet columns stay
numeric), with each row's origin (file, sheet and line) kept, so that every later problem can be
traced to the cell it came from. Raw files are opened read-only and never modified. Nothing is
skipped without a trace: blank lines are counted, broken lines are returned as malformed lines
(:mod:`hipkit.io.delimited`), spreadsheet cells that cannot be read are returned as cell issues.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import UnreadableFileError
from .delimited import Malformed, read_text_records, sniff_delimiter
from .encoding import decode_bytes
from .excel import read_workbook

__all__ = ["RawTable", "read_raw", "read_tables", "SUPPORTED_SUFFIXES", "EXCEL_SUFFIXES", "PARQUET_SUFFIXES"]

SUPPORTED_SUFFIXES = (".csv", ".tsv", ".txt", ".xlsx", ".xlsm", ".parquet", ".pq")
EXCEL_SUFFIXES = (".xlsx", ".xlsm")
PARQUET_SUFFIXES = (".parquet", ".pq")
_CHUNK = 200_000
# Only separators that cannot be thousands separators (not followed by exactly three digits) are
# evidence of a decimal mark.
_DEC_COMMA = re.compile(r"^\s*[-+]?\d*,(?:\d{1,2}|\d{4,})\s*$")
_DEC_DOT = re.compile(r"^\s*[-+]?\d*\.(?:\d{1,2}|\d{4,})\s*$")


@dataclass
class RawTable:
    """One input table as read (a file, or one sheet of a workbook), before any cleaning.

    Attributes
    ----------
    data : DataFrame
        One row per record, columns as in the file (headers de-duplicated), cells as text.
    lines : ndarray of int
        The line where each record starts in the source (the header is line 1; lines are counted
        physically, so embedded line breaks count; for Excel, the sheet row).
    source_file : str
        The file's name (no directories: paths can carry identifying folder names), with
        ``!<sheet>`` for a workbook's sheet.
    info : dict
        Format, encoding and its confidence, delimiter, decimal mark, SHA-256 of the bytes, blank
        lines skipped, malformed lines, sheets.
    bad_lines : list of Malformed
        Lines that could not be split into the header's fields; they are quarantined, not dropped.
    cell_issues : list of dict
        Cells whose value cannot be used (``line``, ``column``, ``raw_value``, ``reason``,
        ``message``), e.g. a spreadsheet formula saved without its value.
    warnings : list of str
        What the log should say about this table (an uncertain encoding, a hidden sheet).
    """

    data: pd.DataFrame
    lines: np.ndarray
    source_file: str
    info: dict = field(default_factory=dict)
    bad_lines: list = field(default_factory=list)
    cell_issues: list = field(default_factory=list)
    warnings: list = field(default_factory=list)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _dedupe_headers(headers: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for i, h in enumerate(headers):
        h = str(h).strip() if h is not None and str(h).strip() else f"unnamed_{i + 1}"
        if h in seen:
            seen[h] += 1
            h = f"{h}.{seen[h]}"
        else:
            seen[h] = 0
        out.append(h)
    return out


def duplicate_headers(headers: list) -> dict:
    """Header texts given to more than one column, with their column numbers (1-based); blanks ignored.

    Examples
    --------
    >>> duplicate_headers(["ID", "Pain", "pain ", "", ""])
    {}
    >>> duplicate_headers(["ID", "Pain", "Pain"])
    {'Pain': [2, 3]}
    """
    where: dict[str, list[int]] = {}
    for i, h in enumerate(headers, start=1):
        text = "" if h is None else str(h).strip()
        if text:
            where.setdefault(text, []).append(i)
    return {h: cols for h, cols in where.items() if len(cols) > 1}


def _detect_decimal(df: pd.DataFrame, delimiter: str) -> str:
    """Decide the file's decimal mark from a sample of its cells: ``"."``, ``","`` or ``""`` (no evidence).

    Only cells whose separator cannot be a thousands separator count. This is the file's default;
    each measure column is read by its own cells' marks where they show one
    (:func:`hipkit.cleaning.harmonise.parse_numbers`), so a column that mixes both is not misread.
    """
    sample = df.head(5000)
    commas = dots = 0
    for col in sample.columns:
        s = sample[col]
        if not pd.api.types.is_string_dtype(s) and s.dtype != object:
            continue
        s = s.astype("str")
        commas += int(s.str.match(_DEC_COMMA).sum())
        dots += int(s.str.match(_DEC_DOT).sum())
    if commas > dots and (delimiter != "," or dots == 0):
        return ","
    return "." if dots else ""


def _frame(header: list[str], records: list, progress: bool, name: str) -> tuple[pd.DataFrame, np.ndarray]:
    """Records ``(line, fields)`` to a frame of text columns, built in chunks (compact string columns)."""
    from tqdm.auto import tqdm

    columns = _dedupe_headers(header)
    width = len(columns)
    parts = []
    with tqdm(total=len(records), desc=f"reading {name}", unit=" rows", disable=not progress, leave=False) as bar:
        for k in range(0, len(records), _CHUNK):
            chunk = records[k : k + _CHUNK]
            cols = list(zip(*(f for _, f in chunk))) if chunk else [()] * width
            parts.append(pd.DataFrame({c: pd.array(v, dtype="str") for c, v in zip(columns, cols)}))
            bar.update(len(chunk))
    df = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame({c: pd.array([], dtype="str") for c in columns})
    if not parts:
        df = pd.DataFrame({c: pd.array([], dtype="str") for c in columns})
    lines = np.fromiter((ln for ln, _ in records), dtype=np.int64, count=len(records))
    return df, lines


def _read_csv(path: Path, name: str, suffix: str, info: dict, progress: bool) -> RawTable:
    decoded = decode_bytes(path.read_bytes(), name)
    text = decoded.text
    if not text.strip():
        raise UnreadableFileError(f"{name}: the file holds only blank space")
    info["encoding"] = decoded.encoding
    info["encoding_confidence"] = decoded.confidence
    delimiter = "\t" if suffix == ".tsv" else sniff_delimiter(text)
    info["delimiter"] = delimiter
    stats: dict = {}
    header, records, bad = read_text_records(text, name, delimiter, stats)
    del text
    info["duplicate_headers"] = duplicate_headers(header)
    df, lines = _frame(header, records, progress, name)
    del records
    info["decimal"] = _detect_decimal(df, delimiter)
    info["physical_lines"] = int(stats.get("lines", 0))
    info["blank_lines"] = int(stats.get("blank_lines", 0))
    return RawTable(df, lines, name, info, bad_lines=bad, warnings=list(decoded.warnings))


def _parquet_text_columns(df: pd.DataFrame) -> pd.DataFrame:
    """Parquet columns as the readers hand them on: numbers stay numbers, the rest becomes text.

    Timestamps become ISO text of their wall-clock time (a time-zone-aware visit happened on its
    local date), without the time when it is midnight.
    """
    for col in df.columns:
        s = df[col]
        if isinstance(s.dtype, pd.DatetimeTZDtype):
            s = s.dt.tz_localize(None)
        if pd.api.types.is_datetime64_any_dtype(s):
            text = s.dt.strftime("%Y-%m-%d %H:%M:%S").str.replace(" 00:00:00", "", regex=False)
            df[col] = text.where(s.notna(), "").astype("str")
        elif pd.api.types.is_bool_dtype(s) or not pd.api.types.is_numeric_dtype(s):
            df[col] = s.astype("object").where(s.notna(), "").astype("str")
    return df


def _read_parquet(path: Path, name: str, info: dict) -> RawTable:
    df = pd.read_parquet(path)
    info["duplicate_headers"] = duplicate_headers([str(c) for c in df.columns])
    df.columns = _dedupe_headers([str(c) for c in df.columns])
    df = _parquet_text_columns(df)
    info["decimal"] = "."
    info["blank_lines"] = 0
    return RawTable(df, np.arange(2, len(df) + 2, dtype=np.int64), name, info)


def _read_excel(path: Path, name: str, info: dict, sheets: list[str] | None) -> list[RawTable]:
    found, winfo = read_workbook(path, name, sheets)
    info["sheets"] = winfo["sheets"]
    tables = []
    for sh in found:
        origin = f"{name}!{sh.name}"
        df, lines = _frame(sh.header, sh.records, False, origin)
        sinfo = {**info, "file": origin, "sheet": sh.name, "hidden_sheet": sh.hidden, "blank_lines": 0}
        sinfo["duplicate_headers"] = duplicate_headers(sh.header)
        sinfo["decimal"] = _detect_decimal(df, ";")
        issues = [
            {
                "line": r,
                "column": df.columns[j] if j < df.shape[1] else f"unnamed_{j + 1}",
                "raw_value": formula,
                "reason": "formula_without_value",
                "message": "a formula saved without its value (the file was never recalculated in a "
                "spreadsheet program); open and save it in the spreadsheet program, or export the values",
            }
            for r, j, formula in sh.formulas_without_value
        ]
        warnings = [f"{origin}: a hidden sheet; it was read"] if sh.hidden else []
        bad = [Malformed(r, text, reason) for r, text, reason in sh.malformed]
        tables.append(RawTable(df, lines, origin, sinfo, bad_lines=bad, cell_issues=issues, warnings=warnings))
    if not tables:
        raise UnreadableFileError(f"{name}: no sheet holds data")
    return tables


def read_tables(path: str | Path, sheets: list[str] | None = None, progress: bool = False) -> list[RawTable]:
    """Read one export into one :class:`RawTable` per table it holds (one, or one per sheet).

    Parameters
    ----------
    path : str or Path
        A ``.csv``/``.tsv``/``.txt`` (delimiter, decimal mark and encoding detected), ``.xlsx``
        (every sheet that holds data) or ``.parquet`` file.
    sheets : list of str, optional
        For workbooks: read only these sheets.
    progress : bool, default False

    Returns
    -------
    list of RawTable

    Raises
    ------
    UnreadableFileError
        Missing, empty, binary or corrupt file, an unknown format, a resource limit passed (see
        :mod:`hipkit.io.delimited` and :mod:`hipkit.io.excel`); the message is one line.

    Examples
    --------
    >>> [t.source_file for t in read_tables("datasets/raw/clinic_export_messy.csv")]
    ['clinic_export_messy.csv']
    """
    path = Path(path)
    name = path.name
    if not path.exists():
        raise UnreadableFileError(f"{path}: no such file")
    if path.is_dir():
        raise UnreadableFileError(f"{path}: is a folder, not a file")
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise UnreadableFileError(
            f"{name}: unsupported file type {suffix or '(none)'}; use one of {', '.join(SUPPORTED_SUFFIXES)}"
        )
    if path.stat().st_size == 0:
        raise UnreadableFileError(f"{name}: the file is empty")
    if sheets and suffix not in EXCEL_SUFFIXES:
        raise UnreadableFileError(f"{name}: --sheet applies to Excel workbooks only")
    info: dict = {"file": name, "sha256": _sha256(path)}
    try:
        if suffix in EXCEL_SUFFIXES:
            info["format"] = "excel"
            tables = _read_excel(path, name, info, sheets)
        elif suffix in PARQUET_SUFFIXES:
            info["format"] = "parquet"
            tables = [_read_parquet(path, name, info)]
        else:
            info["format"] = "csv"
            tables = [_read_csv(path, name, suffix, info, progress)]
    except UnreadableFileError:
        raise
    except MemoryError:
        raise UnreadableFileError(f"{name}: too large to read in memory; use hipkit clean --out-of-core") from None
    except Exception as exc:  # noqa: BLE001 - any third-party parser failure becomes one line naming the file
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UnreadableFileError(f"{name}: cannot read as {info.get('format', suffix)} ({first})") from None
    for t in tables:
        if t.data.shape[1] == 0:
            raise UnreadableFileError(f"{t.source_file}: no columns found")
        _drop_blank_rows(t)
        t.info["rows_read"] = int(len(t.data)) + len(t.bad_lines)
        t.info["bad_lines"] = len(t.bad_lines)
    return tables


def _drop_blank_rows(t: RawTable) -> None:
    """Rows with no value in any cell are not records: count them, do not carry them."""
    df = t.data
    text_cols = [c for c in df.columns if not pd.api.types.is_numeric_dtype(df[c])]
    if not len(df) or len(text_cols) != df.shape[1]:
        return
    blank = np.ones(len(df), dtype=bool)
    for c in text_cols:
        blank &= (df[c].astype("str").str.strip() == "").to_numpy()
    if blank.any():
        t.data = df.loc[~blank].reset_index(drop=True)
        t.lines = t.lines[~blank]
        t.info["blank_lines"] = int(t.info.get("blank_lines", 0)) + int(blank.sum())


def read_raw(path: str | Path, sheet: str | None = None, progress: bool = False) -> RawTable:
    """Read one export that holds one table into a :class:`RawTable` (see :func:`read_tables`).

    Parameters
    ----------
    path : str or Path
    sheet : str, optional
        For a workbook: the sheet to read; needed when more than one sheet holds data.
    progress : bool, default False

    Returns
    -------
    RawTable

    Raises
    ------
    UnreadableFileError
        As :func:`read_tables`, and for a workbook with several data sheets and no ``sheet``.

    Examples
    --------
    >>> t = read_raw("datasets/raw/clinic_export_messy.csv")
    >>> int(t.lines[0])
    2
    """
    tables = read_tables(path, sheets=[sheet] if sheet is not None else None, progress=progress)
    if len(tables) > 1:
        names = ", ".join(t.info.get("sheet", t.source_file) for t in tables)
        raise UnreadableFileError(f"{Path(path).name}: several sheets hold data ({names}); choose one with sheet=")
    return tables[0]
