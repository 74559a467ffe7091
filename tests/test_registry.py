import copy
import re
from importlib import resources

import pytest
import yaml
from hypothesis import assume, given
from hypothesis import strategies as st

from hipkit import load_registry
from hipkit._yaml import parse_yaml
from hipkit.errors import RegistryError
from hipkit.registry import Measure, normalise_label
from hipkit.registry.schema import MeasureEntry, read_measure_file

REG = load_registry()


def test_registry_defines_the_measures_the_issue_requires():
    required = {
        "hip_abd_strength_n",
        "hip_abd_strength_nkg",
        "hip_abd_torque_nmkg",
        "pain_vas",
        "pain_nprs",
        "akps",
        "lefs",
        "single_leg_stance_s",
        "step_down_quality",
        "timed_up_and_go_s",
        "six_minute_walk_m",
    }
    assert required <= set(REG.names())


@pytest.mark.parametrize(
    "name, mcid, source_word",
    [
        # docs/references.md, section 2
        ("pain_vas", 2.0, "Crossley"),
        ("akps", 10.0, "Crossley"),
        ("pain_nprs", 1.16, "Piva"),
        ("lefs", 9.0, "Binkley"),
    ],
)
def test_published_mcids_carry_their_source(name, mcid, source_word):
    m = REG[name]
    assert m.mcid == mcid
    assert source_word in m.mcid_source


def test_strength_mdc_is_derived_from_piva_sem():
    m = REG["hip_abd_strength_n"]
    # MDC95 = 1.96 * sqrt(2) * SEM, SEM 1.8 kg (Piva 2006) in newtons.
    assert m.mdc == pytest.approx(1.96 * 2**0.5 * 1.8 * 9.80665, abs=0.1)
    assert "derived" in m.mdc_source


@pytest.mark.parametrize(
    "unit, factor",
    [("lb", 4.4482216152605), ("lbf", 4.4482216152605), ("kg", 9.80665), ("kgf", 9.80665), ("N", 1.0)],
)
def test_strength_unit_factors(unit, factor):
    assert REG["hip_abd_strength_n"].factor(unit) == pytest.approx(factor)


def test_vas_millimetres_convert_to_centimetres():
    assert REG["pain_vas"].factor("mm") == 0.1


def test_unknown_unit_has_no_factor():
    assert REG["hip_abd_strength_n"].factor("stone") is None


def test_every_outcome_has_a_direction_and_a_valid_range():
    for m in REG:
        assert m.range[0] < m.range[1]
        if m.kind == "outcome":
            assert m.direction in ("higher_better", "lower_better")


def test_users_add_measures_from_yaml_without_editing_the_package(tmp_path):
    p = tmp_path / "mine.yml"
    p.write_text(
        "measures:\n"
        "  - name: hop_distance_cm\n"
        "    unit: cm\n"
        "    units: {cm: 1, m: 100}\n"
        "    range: [0, 300]\n"
        "    direction: higher_better\n"
        "    aliases: [single leg hop, hop]\n"
    )
    reg = load_registry(p)
    assert reg.match_header("Single-leg hop") == "hop_distance_cm"
    assert reg["hop_distance_cm"].factor("m") == 100
    assert "hop_distance_cm" not in load_registry()  # the built-in registry is untouched


def test_malformed_user_measure_is_a_clear_error(tmp_path):
    p = tmp_path / "bad.yml"
    p.write_text("measures:\n  - name: Bad Name\n    unit: cm\n    range: [0, 1]\n")
    with pytest.raises(RegistryError, match="snake_case"):
        load_registry(p)


def test_normalise_label_strips_punctuation_and_case():
    assert normalise_label(" HipAbd_6wk (lb) ") == "hipabd 6wk lb"


# -- the measure-file schema -----------------------------------------------------------------------

BUILTIN_TEXT = resources.files("hipkit.registry").joinpath("measures.yaml").read_text(encoding="utf-8")
ENTRY = {"name": "hop_cm", "unit": "cm", "units": {"cm": 1, "m": 100}, "range": [0, 300], "direction": "higher_better"}
ENTRY |= {"per_side": True, "aliases": ["hop"], "label": "Hop", "kind": "outcome", "mcid": {"value": 15}, "sem": 3}

letters = st.from_regex(r"[a-z][a-z_]{0,9}", fullmatch=True)
not_a_number = letters.filter(lambda s: s not in {"nan", "inf", "infinity"})
not_a_flag = letters.filter(
    lambda s: s not in {"0", "off", "f", "false", "n", "no", "1", "on", "t", "true", "y", "yes"}
)
a_mapping = st.dictionaries(letters, letters, min_size=1, max_size=2)
not_a_pair = letters | a_mapping | st.lists(st.integers(0, 9), max_size=5).filter(lambda v: len(v) != 2)
not_a_kind = letters.filter(lambda s: s not in {"outcome", "covariate", "derived"})
WRONG_TYPES = {  # where in the measure, what wrong values, what the message must say
    ("range", 1): (not_a_number, "range item 2: expected a number"),
    ("units", "m"): (not_a_number, "units.m: expected a number"),
    ("mcid", "value"): (not_a_number, "mcid.value: expected a number"),
    ("sem",): (not_a_number, "sem.value: expected a number"),
    ("mcid",): (st.floats(max_value=0, allow_nan=False, allow_infinity=False), "mcid.value: expected a number > 0"),
    ("per_side",): (not_a_flag, "per_side: expected true or false"),
    ("aliases",): (letters | a_mapping, "aliases: expected a list"),
    ("label",): (st.lists(letters, min_size=1, max_size=3) | a_mapping, "label: expected text"),
    ("units",): (st.lists(letters, min_size=1, max_size=3) | letters, "units: expected a mapping"),
    ("range",): (not_a_pair, "range: expected [low, high]"),
    ("kind",): (not_a_kind, "kind: expected one of outcome, covariate, derived"),
    ("direction",): (letters.filter(lambda s: "_" not in s), "direction: expected one of higher_better, lower_better"),
}  # fmt: skip


def put(entry: dict, path: tuple, value) -> dict:
    out = copy.deepcopy(entry)
    node = out
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return out


def without(entry: dict, key: str) -> dict:
    return {k: v for k, v in entry.items() if k != key}


@given(data=st.data())
def test_a_wrong_type_names_the_measure_the_key_and_the_expected_type(tmp_path, data):
    path = data.draw(st.sampled_from(sorted(WRONG_TYPES, key=str)))
    values, expected = WRONG_TYPES[path]
    p = tmp_path / "my.yml"
    p.write_text(yaml.safe_dump({"measures": [put(ENTRY, path, data.draw(values))]}, sort_keys=False))
    with pytest.raises(RegistryError) as info:
        load_registry(p)
    msg = str(info.value)
    assert "\n" not in msg and msg.startswith(f"{p}, line ") and f": measure 'hop_cm': {expected}" in msg


def test_the_builtin_measures_yaml_passes_the_measure_file_schema():
    spec = read_measure_file(parse_yaml(BUILTIN_TEXT, "measures.yaml", error=RegistryError))
    entries = [*spec.measures, *spec.covariates]
    assert [e.name for e in entries] == REG.names()
    assert {e.name: e.mcid.value for e in entries if e.mcid} == {m.name: m.mcid for m in REG.with_mcid()}
    assert set(spec.keys) == set(REG.keys) and len(spec.categories["sex"]) == 2


@given(data=st.data())
def test_a_typo_in_the_builtin_measures_yaml_would_be_refused_by_the_same_schema(data):
    valid = set(MeasureEntry.model_fields) | {"value", "source"}
    sites = [
        (i, m.group(1)) for i, line in enumerate(BUILTIN_TEXT.splitlines()) if (m := re.match(r"^\s+-?\s*(\w+):", line))
    ]
    sites = [(i, key) for i, key in sites if key in valid]
    i, key = data.draw(st.sampled_from(sites))
    k = data.draw(st.integers(0, len(key) - 1))
    wrong = key[:k] + key[k + 1 :]  # one letter dropped
    assume(wrong not in valid)
    lines = BUILTIN_TEXT.splitlines()
    lines[i] = lines[i].replace(f"{key}:", f"{wrong}:", 1)
    with pytest.raises(RegistryError, match=rf"^measures.yaml, line {i + 1}: .*unknown key '{wrong}' \(did you mean"):
        read_measure_file(parse_yaml("\n".join(lines), "measures.yaml", error=RegistryError))


@given(alias=st.sampled_from(sorted({a for m in REG for a in m.aliases})))
def test_an_alias_another_measure_owns_is_refused_not_shadowed(tmp_path, alias):
    p = tmp_path / "clash.yml"
    p.write_text(yaml.safe_dump({"measures": [put(ENTRY, ("aliases",), ["hop", alias])]}))
    with pytest.raises(RegistryError, match=rf"measure 'hop_cm': alias '{re.escape(alias)}' already names '\w+'"):
        load_registry(p)


@given(key=st.sampled_from(sorted(REG.keys)), data=st.data())
def test_a_key_spelling_that_is_a_measure_alias_is_refused(tmp_path, key, data):
    alias = data.draw(st.sampled_from(sorted({a for m in REG for a in m.aliases})))
    p = tmp_path / "keys.yml"
    p.write_text(yaml.safe_dump({"keys": {key: [alias]}}))
    with pytest.raises(
        RegistryError, match=rf"line 3: keys: {key}: '{re.escape(alias)}' is already an alias of measure"
    ):
        load_registry(p)


@pytest.mark.parametrize(
    "spec, fragment",
    [
        (
            {"keys": {"participant": ["pt no"]}},
            "keys: unknown key column 'participant' (did you mean 'participant_id'?)",
        ),
        ({"categories": {"gender": {"female": ["frau"]}}}, "categories: unknown variable 'gender'"),
        (
            {"categories": {"sex": {"femal": ["frau"]}}},
            "categories: sex: unknown value 'femal' (did you mean 'female'?)",
        ),
        ({"categories": {"sex": {"female": ["m"]}}}, "categories: sex: 'm' already means 'male'"),
        (
            {"measures": [ENTRY, copy.deepcopy(ENTRY)]},
            "measure 'hop_cm' is defined twice in this file (first at line 2)",
        ),
        ({"measures": [without(ENTRY, "direction")]}, "an outcome needs direction: higher_better or lower_better"),
        ({"measures": [put(ENTRY, ("range",), [5, 1])]}, "range [5, 1] has low > high"),
        ({"measures": [put(ENTRY, ("units",), {"cm": 10})]}, "the canonical unit 'cm' must have factor 1"),
        ({"measures": [put(ENTRY, ("aliases",), ["name"])]}, "alias 'name' is a direct identifier"),
        ({"measures": [put(ENTRY, ("aliases",), ["visit"])]}, "alias 'visit' already names the key column 'visit'"),
        ({"measure": [ENTRY]}, "unknown section 'measure' (did you mean 'measures'?)"),
    ],
)
def test_a_measure_file_that_would_be_silently_misread_is_refused_with_its_line(tmp_path, spec, fragment):
    p = tmp_path / "bad.yml"
    p.write_text(yaml.safe_dump(spec, sort_keys=False))
    with pytest.raises(RegistryError) as info:
        load_registry(p)
    assert str(info.value).startswith(f"{p}, line ") and fragment in str(info.value)


def test_a_python_mapping_source_gets_the_same_checks():
    with pytest.raises(
        RegistryError, match=r"^registry mapping: measure 'hop_cm': unknown key 'mcdi' \(did you mean 'mcid'"
    ):
        load_registry({"measures": [put(ENTRY, ("mcdi",), 15)]})
    reg = load_registry({"measures": [ENTRY]})
    assert reg["hop_cm"].mcid == 15 and reg["hop_cm"].sem == 3 and reg["hop_cm"].per_side


def test_a_user_file_adds_vocabulary_that_cleaning_then_reads(tmp_path):
    p = tmp_path / "vocab.yml"
    p.write_text(
        "keys:\n  participant_id: [client ref]\nidentifiers: [nickname]\n"
        "categories:\n  sex:\n    female: [frau]\nmissing_tokens: [not measured, NULL]\nbaseline_labels: [week zero]\n"
    )
    reg = load_registry(p)
    assert reg.match_key("Client Ref") == "participant_id" and reg.is_identifier("Nickname")
    assert reg.category("sex", "Frau") == "female" and reg.category("sex", "f") == "female"
    assert {"not measured", "null"} <= reg.missing_tokens and "week zero" in reg.baseline_labels
    assert reg.match_key("Client Ref") is not None and load_registry().match_key("Client Ref") is None


def test_a_measure_object_still_extends_the_registry():
    m = Measure(name="hop_cm", label="Hop", unit="cm", units={"": 1.0, "cm": 1.0}, range=(0, 300), aliases=("hop",))
    reg = load_registry(m)
    assert reg.match_header("hop") == "hop_cm" and "hop_cm" not in REG
