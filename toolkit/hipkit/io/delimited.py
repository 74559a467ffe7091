"""Delimited text (CSV, TSV) to records, each with the physical line it starts on; broken lines named.

Python's ``csv`` module splits records (quotes, embedded line breaks, any delimiter); what it does not
do, and this module adds, is refuse to *guess* when the structure is broken:

- **physical lines**: a record's line is the file line where it starts (the header is line 1), so a
  quoted field with embedded line breaks moves the next record's line on by the breaks it holds;
- **unbalanced quotes**: a quote that opens a field and swallows the lines after it is found when
  the file ends inside the quotes, or (a later stray quote closing it) when the record's first line
  and every swallowed line would each be a complete record on their own. That one line is reported
  as malformed and reading resumes on the next line, so one stray quote costs one record, never the
  rest of the file. A valid record can in rare cases look like that (a note over several lines,
  each with as many commas as the file has columns): it is then reported, never silently changed;
- **ragged lines**: a record with more fields than the header (beyond empty trailing fields) or
  fewer is malformed: which cell is missing or extra cannot be known, so it is not guessed;
- **NUL characters** make a line malformed (a sign of a binary or corrupted file);
- **field size**: a field longer than :data:`FIELD_LIMIT` characters stops reading with an error
  naming the line (a corrupt or hostile file; no clinic export holds a megabyte in one cell).

The same iterator serves the in-memory reader and the out-of-core splitter, so both see the same
records and the same malformed lines.
"""

from __future__ import annotations

import contextlib
import csv
import io
import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from ..errors import UnreadableFileError

__all__ = ["FIELD_LIMIT", "Record", "Malformed", "iter_records", "read_text_records", "sniff_delimiter", "count_lines"]

#: Longest field accepted, in characters (1 MiB). Longer means a corrupt or hostile file.
FIELD_LIMIT = 1 << 20

DELIMITERS = (",", ";", "\t", "|")


@dataclass(frozen=True)
class Record:
    """One record: the line it starts on and its fields."""

    line: int
    fields: list


@dataclass(frozen=True)
class Malformed:
    """A line that cannot be read as a record: its number, the raw text, and why."""

    line: int
    text: str
    reason: str


def sniff_delimiter(text: str) -> str:
    r"""The delimiter of a header line: the most frequent of ``, ; TAB |`` (comma when none).

    Examples
    --------
    >>> sniff_delimiter("id;group;pain\n")
    ';'
    """
    header = next((ln for ln in text.splitlines() if ln.strip()), "")
    counts = {d: header.count(d) for d in DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > 0 else ","


def count_lines(text: str) -> int:
    r"""Physical lines in ``text`` as the csv module counts them (``\r\n``, ``\r`` or ``\n`` end a line).

    Examples
    --------
    >>> count_lines("a\nb\r\nc\rd"), count_lines("a\n")
    (4, 1)
    """
    ends = text.count("\n") + text.count("\r") - text.count("\r\n")
    return ends + (0 if not text or text.endswith(("\n", "\r")) else 1)


@contextlib.contextmanager
def _field_limit(limit: int):
    old = csv.field_size_limit()
    csv.field_size_limit(limit + 1)
    try:
        yield
    finally:
        csv.field_size_limit(old)


def _looks_like_records(first: str, more: list[str], delimiter: str, width: int) -> bool:
    """Whether a record over several lines is rather an unbalanced quote that swallowed whole records.

    A stray quote at the start of a field reads on until the next quote that ends a field. It is
    taken for one (rather than a genuine quoted field with line breaks, such as a note) only when
    every line involved is, on its own, a complete record of the header's width holding that one
    quote and no other: the first line opens it at the start of a field, the lines between hold no
    quote at all, and the last closes it at the end of a field. (A stray quote closed at the start of
    a later field breaks the CSV grammar, and a file that ends inside it too: both are found
    without this.) Files of one or two columns give no such evidence and are not judged.
    """
    if width < 3 or not more:
        return False

    def split(line: str) -> list[str]:
        return next(csv.reader([line.rstrip("\r\n")], delimiter=delimiter, quoting=csv.QUOTE_NONE), [])

    head, tail = split(first), split(more[-1])
    if len(head) != width or len(tail) != width:
        return False
    quoted_head = [f for f in head if '"' in f]
    if len(quoted_head) != 1 or not quoted_head[0].startswith('"') or quoted_head[0].count('"') != 1:
        return False
    quoted_tail = [f for f in tail if '"' in f]
    if len(quoted_tail) != 1 or not quoted_tail[0].endswith('"') or quoted_tail[0].count('"') != 1:
        return False
    return all('"' not in ln and len(split(ln)) == width for ln in more[:-1])


def iter_records(
    stream: Iterable[str],
    name: str,
    delimiter: str,
    width: int | None = None,
    field_limit: int = FIELD_LIMIT,
    stats: dict | None = None,
) -> Iterator[Record | Malformed]:
    r"""Yield the header and then every record (:class:`Record`) or malformed line (:class:`Malformed`).

    Parameters
    ----------
    stream : iterable of str
        Text lines with their line endings (``open(..., newline="")`` or ``io.StringIO(text, newline="")``).
    name : str
        File name, for messages.
    delimiter : str
    width : int, optional
        Number of fields of a record; by default the header's.
    field_limit : int, default :data:`FIELD_LIMIT`
    stats : dict, optional
        Filled with ``blank_lines`` (lines with no value at all: not records) and ``lines`` (physical
        lines read).

    Yields
    ------
    Record, tuple or Malformed
        The header first (a :class:`Record`; blank lines before it are skipped), then each record
        as a plain ``(line, fields)`` tuple (millions of them: no object per record) or a
        :class:`Malformed` line.

    Raises
    ------
    UnreadableFileError
        No header, or a field longer than ``field_limit`` (the message names the line).

    Examples
    --------
    >>> text = 'id,group,pain\nP1,"HIP,5\nP2,KNEE,6\nP3,HIP,4\n'
    >>> [type(r).__name__ for r in iter_records(io.StringIO(text, newline=""), "x.csv", ",")]
    ['Record', 'Malformed', 'tuple', 'tuple']
    """
    stats = {} if stats is None else stats
    stats.setdefault("blank_lines", 0)
    # The csv reader iterates one copy of the stream (at C speed) and ``raw`` the other, a record
    # behind: ``raw`` gives the physical lines of each record (``reader.line_num`` says how many),
    # so the text of a broken record is at hand and reading can restart on the line after it.
    source = iter(stream)
    header_seen = False
    base = 0  # physical lines before the current reader's first line
    with _field_limit(field_limit):
        while True:
            feed, raw = itertools.tee(source)
            reader = csv.reader(feed, delimiter=delimiter, strict=True)
            seen = 0  # reader.line_num after the previous record
            restart: list[str] | None = None
            next_record, next_line = reader.__next__, raw.__next__
            while True:
                start = base + seen + 1
                try:
                    fields = next_record()
                except StopIteration:
                    stats["lines"] = base + reader.line_num
                    if not header_seen:
                        raise UnreadableFileError(f"{name}: the file has no header line") from None
                    return
                except csv.Error as exc:
                    if "field larger than field limit" in str(exc):
                        raise UnreadableFileError(
                            f"{name}: line {start}: a field longer than {field_limit:,} characters; "
                            "the file is corrupt or not an export"
                        ) from None
                    if not header_seen:
                        raise UnreadableFileError(f"{name}: cannot read the header line ({exc})") from None
                    taken = [next_line() for _ in range(reader.line_num - seen)]
                    yield Malformed(start, taken[0].rstrip("\r\n") if taken else "", _why(exc))
                    restart = taken[1:]
                    base, seen = start, 0
                    break
                now = reader.line_num
                line = next_line()
                if now - seen == 1 and header_seen and len(fields) == width and "\x00" not in line:
                    seen = now
                    if (fields[0] and not fields[0].isspace()) or "".join(fields).strip():
                        yield (start, fields)
                    else:
                        stats["blank_lines"] += 1
                    continue
                if now - seen == 1:
                    more = None
                else:
                    more = [next_line() for _ in range(now - seen - 1)]
                seen = now
                if more is None and not "".join(fields).strip():
                    stats["blank_lines"] += 1  # no value at all: not a record
                    continue
                if not header_seen:
                    header_seen = True
                    if width is None:
                        width = len(fields)
                    if "\x00" in line:
                        raise UnreadableFileError(f"{name}: the header line holds NUL characters (a binary file?)")
                    yield Record(start, fields)
                    continue
                if more:
                    if _looks_like_records(line, more, delimiter, width):
                        yield Malformed(start, line.rstrip("\r\n"), "a quote opened on this line is not closed")
                        restart = more
                        base, seen = start, 0
                        break
                    line = line + "".join(more)
                n = len(fields)
                if n == width and "\x00" not in line:
                    yield (start, fields)
                elif "\x00" in line:
                    yield Malformed(start, line.rstrip("\r\n"), "the line holds NUL characters")
                elif n > width and not any(f.strip() for f in fields[width:]):
                    yield (start, fields[:width])
                elif n > width:
                    yield Malformed(start, line.rstrip("\r\n"), f"the line has {n} fields, the header {width}")
                else:
                    yield Malformed(
                        start,
                        line.rstrip("\r\n"),
                        f"the line has {n} fields, the header {width}; which cell is missing cannot be told",
                    )
            # Read again from the line after the broken record's first line.
            source = itertools.chain(restart, raw)


def _why(exc: csv.Error) -> str:
    text = str(exc)
    if "unexpected end of data" in text or "EOF" in text:
        return "a quote opened on this line is not closed before the end of the file"
    if "expected after" in text:
        return "a quote closes a field in the middle of it"
    return f"cannot be split into fields ({text})"


def read_text_records(
    text: str, name: str, delimiter: str, stats: dict | None = None
) -> tuple[list[str], list[tuple], list[Malformed]]:
    """All records of ``text``: (header, records, malformed lines); see :func:`iter_records`."""
    items = iter_records(io.StringIO(text, newline=""), name, delimiter, stats=stats)
    header = next(items).fields
    records: list[tuple] = []
    bad: list[Malformed] = []
    add, flag = records.append, bad.append
    for item in items:
        if type(item) is tuple:
            add(item)
        else:
            flag(item)
    return header, records, bad
