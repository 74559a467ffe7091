"""Readers for study and clinic exports: CSV (any delimiter, decimal comma), Excel, Parquet, REDCap.

Every reader returns a :class:`RawTable`: the cells as text (numeric Parquet columns stay numeric),
with each row's origin (file and line) kept, so that every later problem can be traced to the
cell it came from. Raw files are opened read-only and never modified.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import UnreadableFileError

__all__ = ["RawTable", "read_raw", "SUPPORTED_SUFFIXES"]

SUPPORTED_SUFFIXES = (".csv", ".tsv", ".txt", ".xlsx", ".xlsm", ".parquet", ".pq")
_DELIMITERS = [",", ";", "\t", "|"]
_CHUNK = 200_000
_DEC_COMMA = re.compile(r"^\s*[-+]?\d+,\d+\s*$")
_DEC_DOT = re.compile(r"^\s*[-+]?\d+\.\d+\s*$")


@dataclass
class RawTable:
    """One input file as read, before any cleaning.

    Attributes
    ----------
    data : DataFrame
        One row per data line, columns as in the file (headers de-duplicated), cells as text.
    lines : ndarray of int
        The line of each row in the source (the header is line 1; for Excel, the sheet row).
    source_file : str
        The file's name (no directories: paths can carry identifying folder names).
    info : dict
        Format, encoding, delimiter, decimal mark, SHA-256 of the bytes, blank lines skipped,
        rows with too many fields.
    bad_lines : list of (line, text)
        Lines that could not be split into the header's fields; they are quarantined, not dropped.
    """

    data: pd.DataFrame
    lines: np.ndarray
    source_file: str
    info: dict = field(default_factory=dict)
    bad_lines: list = field(default_factory=list)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _decode(raw: bytes, name: str) -> tuple[str, str]:
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16"), "utf-16"
    if b"\x00" in raw[:8192]:
        raise UnreadableFileError(f"{name}: looks like a binary file, not a text export")
    for enc in ("utf-8-sig", "cp1252"):
        try:
            return raw.decode(enc), ("utf-8" if enc == "utf-8-sig" else enc)
        except UnicodeDecodeError:
            continue
    return raw.decode("latin-1"), "latin-1"


def _sniff_delimiter(text: str) -> str:
    header = next((ln for ln in text.splitlines() if ln.strip()), "")
    counts = {d: header.count(d) for d in _DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > 0 else ","


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


def _detect_decimal(df: pd.DataFrame, delimiter: str) -> str:
    """Decide the file's decimal mark from a sample of its cells (comma only if it dominates)."""
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
    return "."


def records_with_lines(reader):
    """Yield ``(first physical line, record)`` from a ``csv.reader``; a ``csv.Error`` is yielded, not raised."""
    while True:
        start = reader.line_num + 1
        try:
            rec = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield start, exc
            continue
        yield start, rec


def _read_csv_text(text: str, name: str, delimiter: str, progress: bool) -> tuple[pd.DataFrame, list]:
    """Parse CSV text into string columns; fall back to the csv module for ragged lines."""
    from tqdm.auto import tqdm

    opts = dict(
        sep=delimiter,
        dtype=str,
        keep_default_na=False,
        na_filter=False,
        skip_blank_lines=False,
        engine="c",
    )
    try:
        reader = pd.read_csv(io.StringIO(text), chunksize=_CHUNK, **opts)
        chunks = []
        with tqdm(desc=f"reading {name}", unit=" rows", disable=not progress, leave=False) as bar:
            for chunk in reader:
                chunks.append(chunk)
                bar.update(len(chunk))
        df = pd.concat(chunks, ignore_index=True) if chunks else pd.DataFrame()
        df = df.fillna("")
        df.columns = _dedupe_headers(list(df.columns))
        return df, []
    except pd.errors.EmptyDataError:
        raise UnreadableFileError(f"{name}: the file has no header line") from None
    except pd.errors.ParserError:
        pass  # ragged lines: parse record by record so the bad ones can be quarantined
    rows: list[list[str]] = []
    bad: list[tuple[int, str]] = []
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        raise UnreadableFileError(f"{name}: the file has no header line") from None
    except csv.Error as exc:
        raise UnreadableFileError(f"{name}: cannot parse the header line ({exc})") from None
    width = len(header)
    line_of_row: list[int] = []
    for start, rec in records_with_lines(reader):
        if isinstance(rec, csv.Error):
            bad.append((start, f"unparseable record ({rec})"))
            continue
        if len(rec) > width and any(x.strip() for x in rec[width:]):
            bad.append((start, delimiter.join(rec)))
            continue
        rows.append((rec + [""] * width)[:width])
        line_of_row.append(start)
    df = pd.DataFrame(rows, columns=_dedupe_headers(header), dtype="str")
    df.attrs["lines"] = np.asarray(line_of_row, dtype=np.int64)
    return df, bad


def read_raw(path: str | Path, sheet: str | int = 0, progress: bool = False) -> RawTable:
    """Read one export into a :class:`RawTable`.

    Parameters
    ----------
    path : str or Path
        A ``.csv``/``.tsv``/``.txt`` (delimiter and decimal mark detected), ``.xlsx``,
        or ``.parquet`` file. REDCap flat exports are CSV files and are recognised later, by
        their ``record_id`` and ``redcap_event_name`` columns.
    sheet : str or int, default 0
        Excel sheet to read.
    progress : bool, default False
        Show a progress bar while reading.

    Returns
    -------
    RawTable

    Raises
    ------
    UnreadableFileError
        Missing, empty, binary or corrupt file, or an unknown format; the message is one line.

    Examples
    --------
    >>> from hipkit.io import read_raw
    >>> t = read_raw("datasets/raw/clinic_export_messy.csv")  # doctest: +SKIP
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
    info: dict = {"file": name, "sha256": _sha256(path)}
    bad: list = []
    lines: np.ndarray | None = None
    try:
        if suffix in (".xlsx", ".xlsm"):
            info["format"] = "excel"
            df = pd.read_excel(path, sheet_name=sheet, dtype=str, na_filter=False, engine="openpyxl")
            df.columns = _dedupe_headers([str(c) for c in df.columns])
            info["decimal"] = _detect_decimal(df, ";")
        elif suffix in (".parquet", ".pq"):
            info["format"] = "parquet"
            df = pd.read_parquet(path)
            df.columns = _dedupe_headers([str(c) for c in df.columns])
            for col in df.columns:
                if not pd.api.types.is_numeric_dtype(df[col]) or pd.api.types.is_bool_dtype(df[col]):
                    df[col] = df[col].astype("str").where(df[col].notna(), "")
            info["decimal"] = "."
        else:
            info["format"] = "csv"
            raw = path.read_bytes()
            text, encoding = _decode(raw, name)
            if not text.strip():
                raise UnreadableFileError(f"{name}: the file holds only blank space")
            info["encoding"] = encoding
            delimiter = "\t" if suffix == ".tsv" else _sniff_delimiter(text)
            info["delimiter"] = delimiter
            df, bad = _read_csv_text(text, name, delimiter, progress)
            lines = df.attrs.pop("lines", None)
            info["decimal"] = _detect_decimal(df, delimiter)
    except UnreadableFileError:
        raise
    except Exception as exc:  # noqa: BLE001 - any parser failure becomes one line naming the file
        # Any failure of a third-party parser is reported as one line naming the file.
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UnreadableFileError(f"{name}: cannot read as {info.get('format', suffix)} ({first})") from None
    if df.shape[1] == 0:
        raise UnreadableFileError(f"{name}: no columns found")
    if lines is None:
        lines = np.arange(2, len(df) + 2, dtype=np.int64)
    # Fully blank lines are not rows: count them, do not carry them.
    text_cols = [c for c in df.columns if not pd.api.types.is_numeric_dtype(df[c])]
    if len(df) and text_cols and len(text_cols) == df.shape[1]:
        blank = np.ones(len(df), dtype=bool)
        for c in text_cols:
            blank &= (df[c].astype("str").str.strip() == "").to_numpy()
        if blank.any():
            df = df.loc[~blank].reset_index(drop=True)
            lines = lines[~blank]
        info["blank_lines"] = int(blank.sum())
    else:
        info["blank_lines"] = 0
    info["rows_read"] = int(len(df)) + len(bad)
    info["bad_lines"] = len(bad)
    return RawTable(data=df, lines=np.asarray(lines, dtype=np.int64), source_file=name, info=info, bad_lines=bad)
