"""The mapping-file schema: every key checked, values kept as written, one-line errors with the line."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

import hipkit
from hipkit import load_registry
from hipkit.cleaning import Mapping, load_mapping, map_columns
from hipkit.errors import InputError

ROOT = Path(__file__).resolve().parents[2]
REG = load_registry()
BASE = {
    "columns": {"ID": "participant_id", "Abd": {"measure": "hip_abd_strength_n", "unit": "kgf", "visit": 2}},
    "visits": {"Visit 2": 2},
    "values": {"sex": {"1": "female"}},
    "date_format": "%d/%m/%Y",
}

letters = st.from_regex(r"[a-z][a-z_]{0,9}", fullmatch=True)
not_a_number = letters.filter(lambda s: s not in {"nan", "inf", "infinity"})
some_list = st.lists(letters, min_size=1, max_size=3)
WRONG_TYPES = {  # where in the file, what wrong values, what the message must say
    ("visits", "Visit 2"): (not_a_number, "visit 'Visit 2': expected a number"),
    ("columns", "Abd", "visit"): (not_a_number, "column 'Abd': visit: expected a number"),
    ("columns", "Abd", "unit"): (some_list, "column 'Abd': unit: expected text"),
    ("columns", "Abd"): (some_list, "column 'Abd': expected a name (a measure, a key, ignore) or {measure: ..."),
    ("values", "sex", "1"): (some_list, "values: sex: code '1': expected text"),
    ("values", "sex"): (some_list | letters, "values.sex: expected a mapping"),
    ("columns",): (some_list | letters, "columns: expected a mapping"),
    ("date_format",): (letters, "date_format: '"),
}


def put(spec: dict, path: tuple, value) -> dict:
    out = copy.deepcopy(spec)
    node = out
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return out


@given(data=st.data())
def test_a_wrong_type_names_the_place_the_key_and_the_expected_type(tmp_path, data):
    path = data.draw(st.sampled_from(sorted(WRONG_TYPES, key=str)))
    values, expected = WRONG_TYPES[path]
    p = tmp_path / "map.yml"
    p.write_text(yaml.safe_dump(put(BASE, path, data.draw(values)), sort_keys=False))
    with pytest.raises(InputError) as info:
        load_mapping(p)
    msg = str(info.value)
    assert "\n" not in msg and msg.startswith(f"{p}, line ") and f": {expected}" in msg


@given(fmt=st.sampled_from(["%d/%m/%Y", "%m/%d/%Y", "%Y-%m-%d", "%d.%m.%y", "%d %b %Y", "%Y%m%d", "%B %d, %Y"]))
def test_a_date_format_naming_day_month_and_year_is_kept(fmt):
    assert load_mapping({"date_format": fmt}).date_format == fmt


@given(fmt=st.sampled_from(["%d/%m", "%m/%Y", "%H:%M", "yes", "%Y-%Q-%d", "%d/%m/%Y %"]))
def test_a_date_format_that_cannot_read_a_whole_date_is_refused(fmt):
    with pytest.raises(InputError, match=r"^mapping: date_format: "):
        load_mapping({"date_format": fmt})


@pytest.mark.parametrize(
    "spec, fragment",
    [
        (
            {"columns": {"Abd": {"unit": "kgf"}}},
            "column 'Abd': say what the column holds with measure:, target: or key:",
        ),
        ({"columns": {"Abd": {"measure": "pain_vas", "key": "visit"}}}, "column 'Abd': give one of measure, key"),
        ("columns:\n  Abd:\n", "line 2: column 'Abd': expected a name"),  # empty: YAML's null is the text 'null'
        (
            "visits:\n  Visit 2: 2\n  visit 2: 3\n",
            "line 3: visit 'visit 2' reads the same as 'Visit 2' but says 3, not 2",
        ),
        (
            {"visits": {"Visit 2": 2, "visit_2": 4}},
            "line 3: visit 'visit_2' reads the same as 'Visit 2' but says 4, not 2",
        ),
        ({"visits": {"--": 2}}, "line 2: visit '--' has no letters or digits"),
        (
            {"values": {"sex": {"F": "female", "f": "male"}}},
            "line 4: values: sex: code 'f' reads the same as 'F' but says 'male', not 'female'",
        ),
        ({"values": {"gender": {"1": "female"}}}, "values: unknown key 'gender'"),
        ({"values": {"sexe": {"1": "female"}}}, "values: unknown key 'sexe' (did you mean 'sex'?)"),
    ],
)
def test_a_mapping_that_would_be_silently_misread_is_refused(tmp_path, spec, fragment):
    p = tmp_path / "bad.yml"
    p.write_text(spec if isinstance(spec, str) else yaml.safe_dump(spec, sort_keys=False))
    with pytest.raises(InputError) as info:
        load_mapping(p)
    assert str(info.value).startswith(f"{p}, line ") and fragment in str(info.value)


def test_a_mapping_file_that_is_not_a_mapping_is_one_line(tmp_path):
    p = tmp_path / "list.yml"
    p.write_text("- columns\n- visits\n")
    with pytest.raises(InputError, match="a mapping file is a YAML mapping with a 'columns:' section"):
        load_mapping(p)
    p.write_text("# only a comment\n")
    assert load_mapping(p) == Mapping(source=str(p))


def test_the_bundled_mapping_example_still_loads_and_cleans_the_redcap_export():
    mp = load_mapping(ROOT / "datasets/raw/mapping_example.yml")
    assert mp.values == {"sex": {"1": "female", "2": "male"}} and mp.columns == {} and mp.date_format is None
    res = hipkit.clean(ROOT / "datasets/raw/redcap_export.csv", mapping=mp, progress=False)
    assert set(res.data["sex"].dropna()) <= {"female", "male"} and res.data["sex"].notna().any()


def test_a_python_dict_mapping_gets_the_same_checks_and_numbers_become_text():
    mp = load_mapping({"columns": {"Pt": "participant_id"}, "values": {"sex": {1: "female"}}, "visits": {"V 1": 0}})
    assert mp.values == {"sex": {"1": "female"}} and mp.visits == {"v 1": 0.0}
    roles = map_columns(["Pt", "VAS"], REG, mp, "t.csv")
    assert [r.role for r in roles] == ["key", "measure"]
    with pytest.raises(InputError, match=r"^mapping: column 'Pt': unknown key 'mesure' \(did you mean 'measure'\?\)"):
        load_mapping({"columns": {"Pt": {"mesure": "pain_vas"}}})
