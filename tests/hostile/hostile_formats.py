"""File writers for the hostile corpus: CSV text with known line numbers, hand-made xlsx, parquet.

Everything here is written from code so that the corpus holds no binary blobs and the generator
knows, for every record it writes, the physical line (or sheet row) where the record starts.

- CSV is rendered by hand rather than with :mod:`csv`, because the corpus needs to write what a
  correct writer never would (an unbalanced quote, a NUL byte, a lone ``\\r``) and to know each
  record's first physical line, counting the line breaks inside quoted fields.
- xlsx is written with :mod:`zipfile` from a few XML templates rather than with openpyxl, because
  openpyxl cannot store a formula's cached value, a hidden sheet's rows or a sheet member larger
  than memory; the templates hold only what Excel and openpyxl need to open the file.
- parquet goes through pyarrow (timezone-aware timestamps, nullable integers, dictionaries).
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field
from typing import Iterable, Sequence
from xml.sax.saxutils import escape, quoteattr

__all__ = [
    "Raw",
    "CsvDoc",
    "count_breaks",
    "Formula",
    "ExcelDate",
    "Sheet",
    "xlsx_bytes",
    "write_xlsx",
    "column_letter",
    "parquet_bytes",
]

_BREAK = re.compile(r"\r\n|\r|\n")


def count_breaks(text: str) -> int:
    """Physical line breaks in ``text`` (``\\r\\n``, a lone ``\\r`` and ``\\n`` each count once)."""
    return len(_BREAK.findall(text))


@dataclass(frozen=True)
class Raw:
    """A line written exactly as given (no quoting, no delimiter handling), without its line break."""

    text: str


@dataclass
class CsvDoc:
    """A delimited text file assembled record by record, remembering where each record starts.

    ``add`` returns the physical line on which the record starts (the header is line 1).
    """

    delimiter: str = ","
    eol: str = "\n"
    quote_all: bool = False
    trailing_delimiter: bool = False
    parts: list = field(default_factory=list)
    _lines: int = 1

    def quote(self, value: object) -> str:
        text = "" if value is None else str(value)
        if self.quote_all or any(ch in text for ch in (self.delimiter, '"', "\r", "\n")):
            return '"' + text.replace('"', '""') + '"'
        return text

    def render(self, fields: Sequence[object] | Raw) -> str:
        if isinstance(fields, Raw):
            return fields.text
        text = self.delimiter.join(self.quote(v) for v in fields)
        return text + (self.delimiter if self.trailing_delimiter else "")

    def add(self, fields: Sequence[object] | Raw, eol: str | None = None) -> int:
        """Append one record (or a :class:`Raw` line); return its first physical line."""
        start = self._lines
        text = self.render(fields) + (self.eol if eol is None else eol)
        self.parts.append(text)
        self._lines += count_breaks(text)
        return start

    def blank(self, text: str = "") -> None:
        """Append a line that holds no record (empty, or only spaces)."""
        self.add(Raw(text))

    @property
    def text(self) -> str:
        return "".join(self.parts)

    def encode(self, encoding: str = "utf-8", bom: bytes = b"") -> bytes:
        return bom + self.text.encode(encoding)


# -- xlsx -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Formula:
    """A formula cell; ``cached`` is the value Excel saved with it (None: never calculated)."""

    expr: str
    cached: float | str | None = None


@dataclass(frozen=True)
class ExcelDate:
    """A date stored as Excel stores it: a serial day number with a date format (1 = 1900-01-01)."""

    serial: float


@dataclass
class Sheet:
    """One worksheet: rows of cells (str, int, float, :class:`Formula`, or None for no cell)."""

    name: str
    rows: list = field(default_factory=list)
    state: str = "visible"  # visible | hidden | veryHidden
    dimension: str | None = None  # a <dimension ref=...> to declare (default: none)
    extra_cells: list = field(default_factory=list)  # (ref, value) written after the rows


def column_letter(i: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA."""
    out = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        out = chr(65 + r) + out
    return out


def _cell(ref: str, value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, Formula):
        f = f"<f>{escape(value.expr)}</f>"
        if value.cached is None:
            return f'<c r="{ref}">{f}</c>'
        if isinstance(value.cached, str):
            return f'<c r="{ref}" t="str">{f}<v>{escape(value.cached)}</v></c>'
        return f'<c r="{ref}">{f}<v>{value.cached!r}</v></c>'
    if isinstance(value, ExcelDate):
        return f'<c r="{ref}" s="1"><v>{value.serial!r}</v></c>'
    if isinstance(value, bool):
        return f'<c r="{ref}" t="b"><v>{int(value)}</v></c>'
    if isinstance(value, (int, float)):
        return f'<c r="{ref}"><v>{value!r}</v></c>'
    text = str(value)
    space = ' xml:space="preserve"' if text != text.strip() else ""
    return f'<c r="{ref}" t="inlineStr"><is><t{space}>{escape(text)}</t></is></c>'


_NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
_RNS = 'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'


def _sheet_xml_head(sheet: Sheet) -> str:
    dim = f'<dimension ref="{sheet.dimension}"/>' if sheet.dimension else ""
    return f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet {_NS} {_RNS}>{dim}<sheetData>'


def _sheet_rows_xml(sheet: Sheet) -> str:
    out = []
    for r, row in enumerate(sheet.rows, start=1):
        cells = "".join(_cell(f"{column_letter(c)}{r}", v) for c, v in enumerate(row))
        if cells:
            out.append(f'<row r="{r}">{cells}</row>')
    for ref, value in sheet.extra_cells:
        row_no = re.sub(r"^[A-Z]+", "", ref)
        out.append(f'<row r="{row_no}">{_cell(ref, value)}</row>')
    return "".join(out)


_SHEET_TAIL = "</sheetData></worksheet>"


def _package_parts(sheets: Sequence[Sheet]) -> dict[str, str]:
    overrides = "".join(
        f'<Override PartName="/xl/worksheets/sheet{i}.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        for i in range(1, len(sheets) + 1)
    )
    content_types = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/styles.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
        f"{overrides}</Types>"
    )
    root_rels = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" '
        'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
        'Target="xl/workbook.xml"/></Relationships>'
    )
    sheet_entries = "".join(
        f'<sheet name={quoteattr(s.name)} sheetId="{i}"'
        + (f' state="{s.state}"' if s.state != "visible" else "")
        + f' r:id="rId{i}"/>'
        for i, s in enumerate(sheets, start=1)
    )
    workbook = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f"<workbook {_NS} {_RNS}><sheets>{sheet_entries}</sheets></workbook>"
    )
    wb_rels = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        + "".join(
            f'<Relationship Id="rId{i}" '
            'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
            f'Target="worksheets/sheet{i}.xml"/>'
            for i in range(1, len(sheets) + 1)
        )
        + f'<Relationship Id="rId{len(sheets) + 1}" '
        'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" '
        'Target="styles.xml"/></Relationships>'
    )
    # Style 1 is a date format (numFmtId 14), for cells holding Excel serial dates.
    styles = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f"<styleSheet {_NS}>"
        '<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
        '<fills count="1"><fill><patternFill patternType="none"/></fill></fills>'
        '<borders count="1"><border/></borders>'
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
        '<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
        '<xf numFmtId="14" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>'
        '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
        "</styleSheet>"
    )
    return {
        "[Content_Types].xml": content_types,
        "_rels/.rels": root_rels,
        "xl/workbook.xml": workbook,
        "xl/_rels/workbook.xml.rels": wb_rels,
        "xl/styles.xml": styles,
    }


def _member(name: str) -> zipfile.ZipInfo:
    """A zip member with a fixed timestamp, so that the same workbook gives the same bytes."""
    info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    # The level's attribute is private before Python 3.13 (``_compresslevel``), public after.
    for attr in ("compress_level", "_compresslevel"):
        if attr in zipfile.ZipInfo.__slots__:
            setattr(info, attr, 1)
            break
    return info


def write_xlsx(
    target,
    sheets: Sequence[Sheet],
    bomb: tuple[int, bytes] | None = None,
    extra_members: Iterable[tuple[str, bytes]] = (),
) -> None:
    """Write a workbook to ``target`` (a path or a binary file object).

    ``bomb=(sheet_index, row_bytes)`` appends ``row_bytes`` repeated until that sheet's member
    inflates past 600 MiB (it is streamed, so the generator never holds it in memory).
    """
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        for name, text in _package_parts(sheets).items():
            z.writestr(_member(name), text)
        for i, sheet in enumerate(sheets, start=1):
            head, body = _sheet_xml_head(sheet), _sheet_rows_xml(sheet)
            if bomb is not None and bomb[0] == i - 1:
                with z.open(_member(f"xl/worksheets/sheet{i}.xml"), "w", force_zip64=True) as fh:
                    fh.write((head + body).encode())
                    chunk = bomb[1] * max(1, (1 << 20) // len(bomb[1]))
                    written = 0
                    while written < 600 << 20:
                        fh.write(chunk)
                        written += len(chunk)
                    fh.write(_SHEET_TAIL.encode())
            else:
                z.writestr(_member(f"xl/worksheets/sheet{i}.xml"), head + body + _SHEET_TAIL)
        for name, data in extra_members:
            z.writestr(_member(name), data)


def xlsx_bytes(sheets: Sequence[Sheet], **kwargs) -> bytes:
    """The bytes of :func:`write_xlsx`."""
    buf = io.BytesIO()
    write_xlsx(buf, sheets, **kwargs)
    return buf.getvalue()


# -- parquet ----------------------------------------------------------------------------------


def parquet_bytes(columns: dict, schema=None) -> bytes:
    """A parquet file of ``columns`` (name -> list or pyarrow array), written by pyarrow."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table(columns, schema=schema) if schema is not None else pa.table(columns)
    buf = io.BytesIO()
    pq.write_table(table, buf)
    return buf.getvalue()
