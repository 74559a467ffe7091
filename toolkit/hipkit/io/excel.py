"""Excel workbooks (.xlsx, .xlsm): every sheet that holds data, formulas by their saved values, bombs refused.

- **Every sheet** holding data is read, each as its own table whose origin is ``book.xlsx!Sheet``
  (hidden sheets too, named as hidden in the log); empty sheets are skipped and named.
- **Formulas**: a cell holding a formula is read by the value the spreadsheet program saved with it.
  A formula saved without a value (files written by scripts, never opened in Excel) is returned as a
  finding, so the cleaner quarantines that cell (``formula_without_value``) instead of reading it
  as blank.
- **Limits**, checked from the zip directory before anything is inflated: at most
  :data:`MAX_MEMBERS` members, :data:`MAX_UNCOMPRESSED` bytes inflated in all and a compression
  ratio of :data:`MAX_RATIO` per member; and at most :data:`MAX_CELLS` cells read. A workbook past a
  limit is refused with a one-line reason (a zip bomb, or a workbook better exported as CSV).

openpyxl parses the workbook (read-only streaming mode, with the sheets' declared dimensions
ignored, since a hostile file can declare a billion empty cells); the limits are hipkit's own.
"""

from __future__ import annotations

import datetime as _dt
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import UnreadableFileError

__all__ = ["Sheet", "read_workbook", "MAX_MEMBERS", "MAX_UNCOMPRESSED", "MAX_RATIO", "MAX_CELLS"]

MAX_MEMBERS = 5_000
MAX_UNCOMPRESSED = 256 * 1024 * 1024
MAX_RATIO = 200.0
MAX_CELLS = 20_000_000


@dataclass
class Sheet:
    """One sheet as read: header, records with their sheet row, and formula cells without a value."""

    name: str
    hidden: bool
    header: list
    records: list  # (row number, list of cell texts)
    formulas_without_value: list = field(default_factory=list)  # (row number, column index, formula)
    malformed: list = field(default_factory=list)  # (row number, text, reason): values past the header


def _check_zip(path: Path, name: str) -> bool:
    """Refuse zip bombs from the zip directory; return whether any sheet holds a formula."""
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            if len(infos) > MAX_MEMBERS:
                raise UnreadableFileError(
                    f"{name}: the workbook has {len(infos):,} parts (limit {MAX_MEMBERS:,}); "
                    "not a workbook hipkit reads"
                )
            total = sum(i.file_size for i in infos)
            if total > MAX_UNCOMPRESSED:
                raise UnreadableFileError(
                    f"{name}: the workbook would inflate to {total / 2**20:,.0f} MB (limit "
                    f"{MAX_UNCOMPRESSED / 2**20:,.0f} MB); export it as CSV instead"
                )
            for i in infos:
                if i.file_size > 1_000_000 and i.file_size > MAX_RATIO * max(i.compress_size, 1):
                    raise UnreadableFileError(
                        f"{name}: part {i.filename} inflates {i.file_size / max(i.compress_size, 1):,.0f} times "
                        "(a zip bomb?); refused"
                    )
            has_formula = False
            for i in infos:
                if i.filename.startswith("xl/worksheets/") and i.filename.endswith(".xml"):
                    with zf.open(i) as fh:
                        tail = b""
                        while chunk := fh.read(1 << 20):
                            block = tail + chunk
                            if b"<f>" in block or b"<f " in block or b"<x:f" in block:
                                has_formula = True
                                break
                            tail = chunk[-8:]
                if has_formula:
                    break
            return has_formula
    except zipfile.BadZipFile:
        raise UnreadableFileError(f"{name}: not a valid .xlsx workbook (the zip container is corrupt)") from None


def _text(value) -> str:
    """A cell's value as the text an export would hold."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if isinstance(value, _dt.datetime):
        if value.time() == _dt.time(0, 0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, (_dt.date, _dt.time)):
        return value.isoformat()
    if isinstance(value, _dt.timedelta):
        return str(value)
    return str(value)


def _rows(ws, budget: list, name: str):
    """``(row number, [cell values])`` of one read-only worksheet, empty rows skipped."""
    ws.reset_dimensions()  # ignore the declared size: a hostile file can declare a billion cells
    number = 0
    for row in ws.iter_rows():
        number += 1
        for c in row:
            r = getattr(c, "row", None)
            if r is not None:
                number = r
                break
        budget[0] -= len(row)
        if budget[0] < 0:
            raise UnreadableFileError(f"{name}: more than {MAX_CELLS:,} cells; export it as CSV instead")
        values = [c.value for c in row]
        if any(v is not None and str(v).strip() != "" for v in values):
            yield number, values


def read_workbook(path: str | Path, name: str, sheets: list[str] | None = None) -> tuple[list[Sheet], dict]:
    """Read the sheets of a workbook that hold data.

    Parameters
    ----------
    path : path
    name : str
        The file's name, for messages and origins.
    sheets : list of str, optional
        Read only these sheets (``--sheet``); by default every sheet that holds data.

    Returns
    -------
    sheets : list of Sheet
    info : dict
        ``sheets`` (every sheet: name, state, read or why not).

    Raises
    ------
    UnreadableFileError
        A corrupt workbook, one past a limit, or a ``sheets`` name it does not have.
    """
    import openpyxl

    path = Path(path)
    has_formula = _check_zip(path, name)
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - any parser failure is one line naming the file
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UnreadableFileError(f"{name}: cannot read as a workbook ({first})") from None
    formulas_wb = None
    try:
        names = [ws.title for ws in wb.worksheets]
        if sheets:
            missing = [s for s in sheets if s not in names]
            if missing:
                raise UnreadableFileError(
                    f"{name}: no sheet named {', '.join(repr(m) for m in missing)} (sheets: {', '.join(names)})"
                )
        if has_formula:
            formulas_wb = openpyxl.load_workbook(path, read_only=True, data_only=False)
        budget = [MAX_CELLS]
        out: list[Sheet] = []
        info = {"sheets": []}
        for ws in wb.worksheets:
            entry = {"sheet": ws.title, "state": ws.sheet_state}
            info["sheets"].append(entry)
            if sheets and ws.title not in sheets:
                entry["read"] = "not chosen (--sheet)"
                continue
            rows = list(_rows(ws, budget, name))
            if not rows:
                entry["read"] = "empty"
                continue
            entry["read"] = "yes"
            entry["rows"] = len(rows) - 1
            header_row, header = rows[0]
            # The header's last named column ends the table: a row with values beyond it does not fit
            # the header (as a CSV line with too many fields), and a stray far cell (XFD1048576)
            # cannot make a table sixteen thousand columns wide.
            width = max((j + 1 for j, v in enumerate(header) if v is not None and str(v).strip()), default=0)
            records, malformed = [], []
            for r, vals in rows[1:]:
                beyond = [(j, v) for j, v in enumerate(vals[width:], start=width) if v is not None and str(v).strip()]
                if beyond:
                    j, v = beyond[0]
                    shown = ", ".join(_text(x) for x in vals[:width]) + f" ... {_text(v)}"
                    malformed.append(
                        (r, shown[:500], f"a value in column {j + 1}, past the header's last column ({width})")
                    )
                    continue
                cells = [_text(v) for v in vals[:width]]
                records.append((r, cells + [""] * (width - len(cells))))
            sheet = Sheet(
                name=ws.title,
                hidden=ws.sheet_state != "visible",
                header=[_text(v) for v in header[:width]],
                records=records,
                malformed=malformed,
            )
            if formulas_wb is not None:
                cached = {r: vals for r, vals in rows}
                for r, vals in _rows(formulas_wb[ws.title], [MAX_CELLS], name):
                    if r == header_row:
                        continue
                    for j, v in enumerate(vals):
                        if isinstance(v, str) and v.startswith("="):
                            saved = cached.get(r, [])
                            if j >= len(saved) or saved[j] is None or saved[j] == "":
                                sheet.formulas_without_value.append((r, j, v))
                # A row whose only content is formulas without values is still a record of the sheet.
                removed = {r for r, _, _ in sheet.malformed}
                sheet.formulas_without_value = [f for f in sheet.formulas_without_value if f[0] not in removed]
                known = {r for r, _ in sheet.records} | removed
                extra = sorted({r for r, _, _ in sheet.formulas_without_value if r not in known and r > header_row})
                if extra:
                    sheet.records = sorted(sheet.records + [(r, [""] * width) for r in extra])
            out.append(sheet)
        return out, info
    finally:
        wb.close()
        if formulas_wb is not None:
            formulas_wb.close()
