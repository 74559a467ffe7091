import numpy as np
import pandas as pd
import pytest

from hipkit.clean.harmonise import parse_numbers

TOKENS = frozenset({"n/a", "refused", ""})


def test_parse_numbers_tells_apart_every_failure():
    raw = pd.Series(["12.5", "n/a", "refused", "", "45 lb", "abc", "1,5", "=1+2", "-3"])
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
    ]
    assert values[0] == 12.5 and values[4] == 45 and values[8] == -3
    assert unit[4] == "lb"
    assert np.isnan(values[5])


def test_decimal_comma_files_parse_commas_as_decimals():
    values, status, _, _ = parse_numbers(pd.Series(["18,5", "20", "1.234,5"]), ",", TOKENS)
    assert values.tolist() == [18.5, 20.0, 1234.5]
    assert list(status) == ["ok", "ok", "ok"]


def test_numeric_input_passes_through():
    values, status, _, _ = parse_numbers(pd.Series([1.0, np.nan]), ".", TOKENS)
    assert values[0] == 1.0 and list(status) == ["ok", "missing"]


@pytest.mark.parametrize("cell, expected", [("150 N", 150.0), ("33.5kg", 33.5), ("10 lbs", 10.0)])
def test_inline_units_are_split_from_the_number(cell, expected):
    values, _, unit, _ = parse_numbers(pd.Series([cell]), ".", TOKENS)
    assert values[0] == expected and unit[0] is not None
