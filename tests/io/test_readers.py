import pandas as pd
import pytest

from hipkit.errors import UnreadableFileError
from hipkit.io import read_raw


@pytest.mark.parametrize("delim", [",", ";", "\t", "|"])
def test_csv_delimiter_is_detected(write, delim):
    p = write("d.csv", delim.join(["id", "vas"]) + "\n" + delim.join(["P1", "5"]) + "\n")
    t = read_raw(p)
    assert list(t.data.columns) == ["id", "vas"]
    assert t.info["delimiter"] == delim


def test_decimal_comma_is_detected_in_semicolon_files(write):
    t = read_raw(write("d.csv", "id;vas\nP1;5,5\nP2;6,25\n"))
    assert t.info["decimal"] == ","


def test_non_utf8_file_is_read_and_its_encoding_logged(write):
    t = read_raw(write("d.csv", "id,site\nP1,Montréal\n", encoding="cp1252"))
    assert t.data.loc[0, "site"] == "Montréal"
    assert t.info["encoding"] == "cp1252"


def test_line_numbers_count_the_header_as_line_one_and_skip_blank_lines(write):
    t = read_raw(write("d.csv", "id,vas\nP1,5\n\nP2,6\n"))
    assert t.lines.tolist() == [2, 4]
    assert t.info["blank_lines"] == 1


def test_lines_with_too_many_fields_are_kept_as_bad_lines_not_dropped(write):
    t = read_raw(write("d.csv", "id,vas\nP1,5\nP2,6,7\nP3,8\n"))
    assert t.data["id"].tolist() == ["P1", "P3"]
    assert [b.line for b in t.bad_lines] == [3]
    assert t.info["rows_read"] == 3


@pytest.mark.parametrize(
    "content, message",
    [(b"", "empty"), (b"\x00\x01\x02binary\x00", "binary"), (b"   \n\n", "blank")],
)
def test_unreadable_files_give_one_line_errors(write, content, message):
    with pytest.raises(UnreadableFileError, match=message) as err:
        read_raw(write("bad.csv", content))
    assert "\n" not in str(err.value)


def test_missing_file_and_unknown_suffix(tmp_path):
    with pytest.raises(UnreadableFileError, match="no such file"):
        read_raw(tmp_path / "nope.csv")
    p = tmp_path / "x.docx"
    p.write_text("hello")
    with pytest.raises(UnreadableFileError, match="unsupported file type"):
        read_raw(p)


def test_corrupt_excel_is_one_line_error(write):
    with pytest.raises(UnreadableFileError, match=r"x\.xlsx: .*(corrupt|cannot read)"):
        read_raw(write("x.xlsx", b"PK\x03\x04not really a zip"))


def test_excel_rows_keep_their_sheet_row_numbers(tmp_path):
    p = tmp_path / "x.xlsx"
    pd.DataFrame({"id": ["P1", "P2"], "vas": [5.5, 6]}).to_excel(p, index=False)
    t = read_raw(p)
    assert t.lines.tolist() == [2, 3]
    assert t.info["format"] == "excel"


def test_parquet_numeric_columns_stay_numeric(tmp_path):
    p = tmp_path / "x.parquet"
    pd.DataFrame({"id": ["P1", "P2"], "vas": [5.5, None]}).to_parquet(p)
    t = read_raw(p)
    assert pd.api.types.is_numeric_dtype(t.data["vas"])
    assert t.data["id"].tolist() == ["P1", "P2"]


def test_raw_file_is_never_modified(write):
    p = write("d.csv", "id,vas\n P1 ,n/a\n")
    before = p.read_bytes()
    read_raw(p)
    assert p.read_bytes() == before
