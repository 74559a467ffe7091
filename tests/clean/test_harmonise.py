import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hipkit.cleaning.harmonise import parse_numbers

TOKENS = frozenset({"n/a", "refused", ""})


def test_parse_numbers_tells_apart_every_failure():
    raw = pd.Series(["12.5", "n/a", "refused", "", "45 lb", "abc", "1,500", "=1+2", "-3", "2,25"])
    values, status, unit, _ = parse_numbers(raw, ".", TOKENS)
    assert list(status) == [
        "ok",
        "missing",
        "missing",
        "missing",
        "ok",
        "not_a_number",
        "ambiguous_decimal",
        "formula_like",
        "ok",
        "ok",
    ]
    assert values[0] == 12.5 and values[4] == 45 and values[8] == -3
    assert unit[4] == "lb"
    assert np.isnan(values[5])


def test_decimal_comma_files_parse_commas_as_decimals():
    values, status, _, _ = parse_numbers(pd.Series(["18,5", "20", "1.234,5"]), ",", TOKENS)
    assert values.tolist() == [18.5, 20.0, 1234.5]
    assert list(status) == ["ok", "ok", "ok"]


@pytest.mark.parametrize("file_mark", [".", ","])
def test_a_column_mixing_decimal_marks_reads_each_value_by_its_own_mark(file_mark):
    values, status, _, _ = parse_numbers(pd.Series(["7.2", "7,5", "8", "10,25", "0.75"]), file_mark, TOKENS)
    assert values.tolist() == [7.2, 7.5, 8.0, 10.25, 0.75]
    assert set(status) == {"ok"}


@pytest.mark.parametrize(
    "cells, mark, expected",
    [
        (["1,500", "2.5"], ".", ["ambiguous_decimal", 2.5]),  # a point column: 1500, or a typo for 1.5?
        (["1,500", "2,5"], ",", [1.5, 2.5]),  # a comma column: 1,500 is 1.5
        (["1.500", "2,5"], ",", ["ambiguous_decimal", 2.5]),  # ... and 1.500 is 1500 or a typo for 1.5
        (["1,017.5", "1.017,5", "1,234,567"], ".", [1017.5, 1017.5, 1234567.0]),  # no doubt left
        (["1,500", "1.500"], "", ["ambiguous_decimal", "ambiguous_decimal"]),  # no mark known anywhere
        (["1,500", "2,5", "3.25"], ".", ["ambiguous_decimal", 2.5, 3.25]),  # mixed: three digits never guessed
    ],
)
def test_three_digits_after_one_separator_are_read_only_by_a_known_mark(cells, mark, expected):
    values, status, _, _ = parse_numbers(pd.Series(cells), mark, TOKENS)
    assert [s if s != "ok" else v for v, s in zip(values.tolist(), status)] == expected


def test_numeric_input_passes_through():
    values, status, _, _ = parse_numbers(pd.Series([1.0, np.nan]), ".", TOKENS)
    assert values[0] == 1.0 and list(status) == ["ok", "missing"]


@pytest.mark.parametrize("cell, expected", [("150 N", 150.0), ("33.5kg", 33.5), ("10 lbs", 10.0)])
def test_inline_units_are_split_from_the_number(cell, expected):
    values, _, unit, _ = parse_numbers(pd.Series([cell]), ".", TOKENS)
    assert values[0] == expected and unit[0] is not None


def _written(x: float, decimals: int, mark: str, grouped: bool) -> str:
    """``x`` as an export would write it: ``mark`` as decimal mark, optionally grouped in thousands."""
    text = f"{abs(x):,.{decimals}f}" if grouped else f"{abs(x):.{decimals}f}"
    if mark == ",":
        text = text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")
    return ("-" if x < 0 else "") + text


_CELLS = st.lists(
    st.tuples(st.integers(-(10**7), 10**7), st.integers(0, 4), st.sampled_from([".", ","]), st.booleans()),
    min_size=1,
    max_size=12,
)


def _check_read_as_written(cells, file_mark, mark=None):
    written, truth = [], []
    for units, decimals, m, grouped in cells:
        x = units / 10**decimals
        written.append(_written(x, decimals, mark or m, grouped))
        truth.append(x)
    values, status, _, _ = parse_numbers(pd.Series(written), file_mark, TOKENS)
    for text, x, v, s in zip(written, truth, values, status):
        assert s in ("ok", "ambiguous_decimal"), (text, s)
        if s == "ok":
            assert v == pytest.approx(x, rel=1e-12, abs=1e-12), (text, x, v, written)


@given(cells=_CELLS, mark=st.sampled_from([".", ","]))
def test_numbers_of_a_file_written_in_one_convention_are_read_as_written(cells, mark):
    _check_read_as_written(cells, mark, mark=mark)


@given(cells=_CELLS, file_mark=st.sampled_from([".", ",", ""]))
def test_numbers_of_a_column_showing_both_conventions_are_read_as_written_or_quarantined(cells, file_mark):
    # A column whose cells show both decimal marks (7.25 and 7,25) may hold anything: whatever hipkit
    # reads from it is what was written, and a separator that could be either is never guessed.
    cells = [(725, 2, ".", False), (725, 2, ",", False), *cells]
    _check_read_as_written(cells, file_mark)
