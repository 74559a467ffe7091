import pytest

from hipkit import load_registry
from hipkit.cleaning import load_mapping, map_columns, parse_visit_label
from hipkit.cleaning.columns import Mapping
from hipkit.errors import InputError, UnmappableFileError

REG = load_registry()


def role(header):
    roles = map_columns(["Participant ID", header, "Step down score"], REG, Mapping(), "t.csv")
    return roles[1]


@pytest.mark.parametrize(
    "header, target, visit, side, unit",
    [
        ("Pain wk2", "pain_vas", 2, None, None),
        ("HipAbd_6wk (lb)", "hip_abd_strength_n", 6, None, "lb"),
        ("HipAbd_L_0wk (lb)", "hip_abd_strength_n", 0, "left", "lb"),
        ("Strength R week 4 (kg)", "hip_abd_strength_n", 4, "right", "kg"),
        ("VAS (mm)", "pain_vas", None, None, "mm"),
        ("AKPS baseline", "akps", 0, None, None),
        ("LEFS_w4", "lefs", 4, None, None),
        ("6MWT (ft)", "six_minute_walk_m", None, None, "ft"),
        ("6 minute walk wk2 (m)", "six_minute_walk_m", 2, None, "m"),
        ("Timed up and go (s)", "timed_up_and_go_s", None, None, "s"),
        ("Kujala", "akps", None, None, None),
        ("NPRS 2 weeks", "pain_nprs", 2, None, None),
        ("Body mass (lb)", "body_mass_kg", None, None, "lb"),
    ],
)
def test_headers_are_read_as_measure_visit_side_and_unit(header, target, visit, side, unit):
    r = role(header)
    assert (r.role, r.target, r.visit, r.side, r.unit) == ("measure", target, visit, side, unit)


def test_injured_side_tokens_become_limb_tags():
    r = role("HipAbd injured wk2")
    assert (r.target, r.limb, r.side) == ("hip_abd_strength_n", "involved", None)


@pytest.mark.parametrize("header", ["Name", "Date of birth", "DOB", "Phone", "E-mail", "Address"])
def test_direct_identifiers_are_recognised(header):
    assert role(header).role == "identifier"


def test_unknown_columns_are_reported_not_guessed():
    assert role("Therapist notes").role == "unmapped"


def test_unknown_header_unit_is_an_error_naming_the_column():
    with pytest.raises(UnmappableFileError, match="'HipAbd \\(stone\\)'.*stone"):
        role("HipAbd (stone)")


def test_file_without_id_column_is_unmappable():
    with pytest.raises(UnmappableFileError, match="no participant id column"):
        map_columns(["foo", "VAS"], REG, Mapping(), "t.csv")


def test_file_without_any_measure_is_unmappable():
    with pytest.raises(UnmappableFileError, match="no outcome or covariate column"):
        map_columns(["ID", "notes"], REG, Mapping(), "t.csv")


def test_two_columns_for_the_same_slot_are_refused():
    with pytest.raises(UnmappableFileError, match="both hold"):
        map_columns(["ID", "VAS wk2", "Pain wk2"], REG, Mapping(), "t.csv")


def test_mapping_file_settles_what_heuristics_cannot(tmp_path):
    p = tmp_path / "m.yml"
    p.write_text(
        'columns:\n  "Pt Code": participant_id\n'
        '  "Abd force L wk 2": {measure: hip_abd_strength_n, unit: kgf, visit: 2, side: left}\n'
        '  "Therapist": ignore\n'
        'visits:\n  "Visit 2": 2\n'
    )
    mp = load_mapping(p)
    roles = map_columns(["Pt Code", "Abd force L wk 2", "Therapist"], REG, mp, "t.csv")
    assert [r.role for r in roles] == ["key", "measure", "ignore"]
    assert (roles[1].visit, roles[1].side, roles[1].unit) == (2, "left", "kgf")
    assert parse_visit_label("Visit 2", REG, mp) == 2


def test_mapping_file_with_unknown_section_is_an_error(tmp_path):
    p = tmp_path / "m.yml"
    p.write_text("colums:\n  a: b\n")
    with pytest.raises(InputError, match="unknown section"):
        load_mapping(p)


@pytest.mark.parametrize(
    "label, week",
    [
        ("Baseline", 0),
        ("BL", 0),
        ("pre", 0),
        ("Week 2", 2),
        ("wk4", 4),
        ("6 weeks", 6),
        ("W6", 6),
        ("week_2_arm_1", 2),
        ("baseline_arm_1", 0),
        ("Visit 2", None),
        ("follow-up", None),
        ("", None),
    ],
)
def test_visit_labels(label, week):
    assert parse_visit_label(label, REG) == week
