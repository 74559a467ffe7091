"""The CSV record parser: physical lines, broken lines named, nothing swallowed."""

import csv
import io

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hipkit.errors import UnreadableFileError
from hipkit.io.delimited import Malformed, iter_records, read_text_records

field = st.text(alphabet=st.sampled_from(list('abcXY 019.,;"\n\r\té')), max_size=8)


def rows_strategy(width):
    return st.lists(
        st.lists(field, min_size=width, max_size=width).filter(lambda r: any(f.strip() for f in r)),
        min_size=1,
        max_size=15,
    )


def write(header, rows, delimiter, terminator):
    # Python's csv writer quotes a field holding a line break only when the break is in its line
    # terminator: quote everything, so that every generated file is valid CSV.
    quoting = csv.QUOTE_ALL
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=delimiter, lineterminator=terminator, quoting=quoting)
    w.writerow(header)
    starts = []
    line = 2
    for r in rows:
        starts.append(line)
        text = io.StringIO()
        csv.writer(text, delimiter=delimiter, lineterminator=terminator, quoting=quoting).writerow(r)
        chunk = text.getvalue()
        line += chunk.count("\n") + chunk.count("\r") - chunk.count("\r\n")
        buf.write(chunk)
    return buf.getvalue(), starts


@given(
    width=st.integers(1, 5),
    data=st.data(),
    delimiter=st.sampled_from([",", ";", "\t", "|"]),
    terminator=st.sampled_from(["\n", "\r\n"]),
)
def test_valid_csv_is_read_record_for_record_or_reported_never_changed(width, data, delimiter, terminator):
    header = [f"h{i}" for i in range(width)]
    rows = data.draw(rows_strategy(width))
    text, starts = write(header, rows, delimiter, terminator)
    got_header, records, bad = read_text_records(text, "x.csv", delimiter)
    assert got_header == header
    read = dict(records)
    reported = {b.line for b in bad}
    for start, row in zip(starts, rows):
        # Each written record is read exactly, at its physical line, or its line is reported: a
        # valid note over several lines can look like an unbalanced quote, never silently so.
        assert read.get(start) == row or start in reported, (start, row, read.get(start))
    spans = [(s, e) for s, e in zip(starts, starts[1:] + [10**9])]
    for line in read:
        if line not in starts:  # read from inside a reported record's lines only
            assert any(s < line < e and s in reported for s, e in spans), line


def test_valid_csv_of_typical_width_without_line_breaks_in_fields_is_read_exactly():
    rows = [[f"P{i}", "HIP", "5,5", 'said "ok"', ""] for i in range(50)]
    text, starts = write(["id", "group", "pain", "note", "x"], rows, ",", "\n")
    _, records, bad = read_text_records(text, "x.csv", ",")
    assert bad == [] and [f for _, f in records] == rows and [ln for ln, _ in records] == starts


@given(
    width=st.integers(2, 5),
    data=st.data(),
    how=st.sampled_from(["open_quote", "extra_field", "missing_field", "nul", "quote_mid_field"]),
)
def test_one_broken_line_costs_that_line_only_and_is_named(width, data, how):
    header = [f"h{i}" for i in range(width)]
    rows = data.draw(
        st.lists(
            st.lists(st.text(alphabet="abc019 ", min_size=1, max_size=5), min_size=width, max_size=width),
            min_size=2,
            max_size=12,
        ).filter(lambda rs: all(r[0].strip() for r in rs))  # an id first, as in every export
    )
    k = data.draw(st.integers(0, len(rows) - 1))
    lines = [",".join(header)] + [",".join(r) for r in rows]
    broken = lines[k + 1]
    if how == "open_quote":
        cut = broken.index(",")
        broken = broken[: cut + 1] + '"' + broken[cut + 1 :]
    elif how == "extra_field":
        broken += ",extra"
    elif how == "missing_field":
        broken = broken[: broken.rindex(",")]
    elif how == "nul":
        broken = broken[:1] + "\x00" + broken[1:]
    else:
        cut = broken.index(",")
        broken = broken[: cut + 1] + '"a"b' + broken[cut + 1 :]
    lines[k + 1] = broken
    text = "\n".join(lines) + "\n"
    _, records, bad = read_text_records(text, "x.csv", ",")
    assert [b.line for b in bad] == [k + 2]
    assert [ln for ln, _ in records] == [i + 2 for i in range(len(rows)) if i != k]
    assert [f for _, f in records] == [r for i, r in enumerate(rows) if i != k]
    assert all(isinstance(b, Malformed) and b.reason for b in bad)


def test_an_unbalanced_quote_does_not_swallow_the_rest_of_the_file():
    text = "id,group,pain\nP1,\"HIP,5\n" + "".join(f"P{i},KNEE,{i % 10}\n" for i in range(2, 97))
    _, records, bad = read_text_records(text, "x.csv", ",")
    assert [b.line for b in bad] == [2]
    assert len(records) == 95


def test_a_quoted_note_over_two_lines_is_one_record_and_moves_the_next_line_on():
    text = 'id,note,pain\nP1,"pain, swelling\nand stiffness",5\nP2,ok,6\n'
    _, records, bad = read_text_records(text, "x.csv", ",")
    assert bad == [] and [ln for ln, _ in records] == [2, 4]


def test_blank_lines_are_counted_not_records():
    stats = {}
    _, records, _ = read_text_records("\nid,v\n,\n\nP1,1\n", "x.csv", ",", stats)
    assert [ln for ln, _ in records] == [5] and stats["blank_lines"] == 3


def test_a_field_past_the_limit_refuses_the_file_naming_the_line():
    text = "id,v\nP1,1\nP2," + "x" * (2 << 20) + "\n"
    with pytest.raises(UnreadableFileError, match="line 3: a field longer than"):
        list(iter_records(io.StringIO(text, newline=""), "x.csv", ","))


def test_a_200_kb_field_is_read():
    _, records, bad = read_text_records("id,v\nP1," + "x" * 200_000 + "\n", "x.csv", ",")
    assert bad == [] and len(records[0][1][1]) == 200_000


text_cell = st.text(alphabet=st.sampled_from(list('ab Z9,;"\n\r\t=+-@\'é')), max_size=10)


@given(
    cells=st.lists(st.tuples(text_cell, st.one_of(st.none(), st.floats(-1e6, 1e6, allow_nan=False))), max_size=12),
    header=text_cell.filter(lambda h: h.strip() != ""),
)
def test_every_csv_hipkit_writes_reads_back_cell_for_cell_and_is_spreadsheet_safe(tmp_path_factory, cells, header):
    import pandas as pd

    from hipkit.io import write_csv
    from hipkit.io.writers import FORMULA_PREFIXES

    df = pd.DataFrame({"text": [c for c, _ in cells], "x": [v for _, v in cells]}, dtype=object)
    df["x"] = df["x"].astype(float)
    df = df.rename(columns={"text": header + "_t"})
    path = tmp_path_factory.mktemp("w") / "out.csv"
    write_csv(df, path)
    with open(path, encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == [header + "_t", "x"]
    assert len(rows) == len(df) + 1
    for (text, value), row in zip(cells, rows[1:]):
        shown = row[0]
        if text.startswith(FORMULA_PREFIXES):
            assert shown == "'" + text  # shown, not run, by a spreadsheet
        else:
            assert shown == text
        assert (row[1] == "" and value is None) or float(row[1]) == pytest.approx(value, rel=1e-9, abs=1e-9)
