"""Configuration files (measure files, mapping files) on hostile input: safe YAML reading.

Every failure is one line naming the file (and the line), fast and in bounded memory, and goes
through the CLI as exit 2; scalars stay exactly as written (no YAML 1.1 implicit typing).
"""

from __future__ import annotations

import copy
import io
import re
import time
import tracemalloc
from contextlib import redirect_stderr, redirect_stdout

import pytest
import yaml
from hypothesis import assume, given
from hypothesis import strategies as st

from hipkit._yaml import MAX_BYTES, MAX_DEPTH, parse_yaml, read_yaml
from hipkit.cleaning import load_mapping, parse_visit_label
from hipkit.cleaning.mapping_file import CodedValues, ColumnSpec, MappingFile
from hipkit.cli import main
from hipkit.errors import InputError, RegistryError
from hipkit.registry import load_registry, normalise_label
from hipkit.registry.schema import Figure, MeasureEntry, MeasureFile

REG = load_registry()

# Scalars YAML 1.1 would turn into null, booleans, octal/hex/float numbers, sexagesimal ints or dates.
PITFALLS = [
    "NULL", "null", "Null", "~", "no", "No", "NO", "yes", "Yes", "on", "On", "off", "OFF", "y", "n", "true",
    "False", "007", "0o7", "0x1F", "0b101", "1e3", "1E3", "1_000", "+1", "-0", ".5", ".inf", "-.inf", ".nan",
    "12:30", "190:20:30", "2024-01-02", "2001-12-14t21:59:43.10-05:00", "=", "<<",
]  # fmt: skip

# Plain scalars a user may write unquoted: letters, digits and a few marks, not starting with a mark.
plain_scalar = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,12}", fullmatch=True)


def run_cli(argv):
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(argv)
    return code, err.getvalue()


@pytest.fixture
def raw_csv(tmp_path):
    p = tmp_path / "raw.csv"
    p.write_text("ID,VAS\nP1,3\n")
    return p


# -- scalars stay text ----------------------------------------------------------------------------


@given(token=st.sampled_from(PITFALLS) | plain_scalar)
def test_plain_scalars_are_read_exactly_as_written(token):
    doc = parse_yaml(f"key: {token}\nlist: [{token}, {token}]\nmap:\n  {token}: v\n", "t.yml")
    assert doc.data == {"key": token, "list": [token, token], "map": {token: "v"}}


def test_only_an_empty_plain_value_is_null_and_quoted_empty_stays_text():
    assert parse_yaml('a:\nb: ""\nc: ~\n', "t.yml").data == {"a": None, "b": "", "c": "~"}


@given(tokens=st.lists(st.sampled_from(PITFALLS) | plain_scalar, min_size=1, max_size=6))
def test_missing_tokens_of_a_measure_file_keep_their_spelling(tmp_path, tokens):
    p = tmp_path / "tokens.yml"
    p.write_text("missing_tokens: [" + ", ".join(tokens) + "]\n")
    reg = load_registry(p)
    assert {t.strip().lower() for t in tokens} <= reg.missing_tokens
    assert "null" in REG.missing_tokens  # the built-in file's own NULL is a token, not "none"


@given(token=st.sampled_from(PITFALLS) | plain_scalar)
def test_mapping_headers_codes_and_visit_labels_keep_their_spelling(tmp_path, token):
    assume(normalise_label(token))  # a visit label needs a letter or digit
    p = tmp_path / "map.yml"
    p.write_text(f"columns:\n  {token}: participant_id\nvisits:\n  {token}: 3\nvalues:\n  sex:\n    {token}: female\n")
    mp = load_mapping(p)
    assert mp.columns == {token: "participant_id"}
    assert mp.values == {"sex": {token.lower(): "female"}}
    assert parse_visit_label(token, REG, mp) == 3.0


def test_coded_values_and_a_numeric_header_work_end_to_end(tmp_path):
    import hipkit

    raw = tmp_path / "coded.csv"
    raw.write_text("007,visit,sex,VAS\nP1,baseline,1,3\nP2,baseline,2,4\nP3,no,1,5\n")
    mp = tmp_path / "map.yml"
    mp.write_text("columns:\n  007: participant_id\nvisits:\n  no: 2\nvalues:\n  sex: {1: female, 2: male}\n")
    res = hipkit.clean(raw, mapping=mp)
    got = res.data.set_index("participant_id")
    assert got.loc["P1", "sex"] == "female" and got.loc["P2", "sex"] == "male"
    assert got.loc["P3", "visit_week"] == 2


# -- hostile files --------------------------------------------------------------------------------


def billion_laughs(levels: int, width: int) -> str:
    lines = ['lol0: &a0 ["lol"]']
    for i in range(1, levels):
        lines.append(f"lol{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


def nested(depth: int, style: str) -> str:
    if style == "flow_list":
        return "columns: " + "[" * depth + "]" * depth + "\n"
    if style == "flow_map":
        return "columns: " + "{a: " * depth + "b" + "}" * depth + "\n"
    return "columns:\n" + "".join(" " * (i + 1) + f"k{i}:\n" for i in range(depth)) + " " * (depth + 1) + "v\n"


def hostile_files():
    for levels, width in [(3, 3), (6, 9), (9, 9), (12, 12), (30, 40)]:
        yield f"laughs-{levels}x{width}", billion_laughs(levels, width), "aliases"
    for depth in [MAX_DEPTH + 1, 100, 1_000, 10_000, 150_000]:
        for style in ("flow_list", "flow_map", "block"):
            if style == "block" and depth > 1_000:
                continue  # block nesting needs depth**2 spaces: over the size limit (tested below)
            yield f"{style}-{depth}", nested(depth, style), "deep"
    yield "too-big", "columns:\n" + "".join(f'  "h{i}": ignore\n' for i in range(80_000)), "bytes"
    yield "block-deep-and-big", nested(3_000, "block"), "bytes"


HOSTILE = list(hostile_files())


@pytest.mark.parametrize("flag", ["--map", "--measures"])
@pytest.mark.parametrize("name, text, reason", HOSTILE, ids=[h[0] for h in HOSTILE])
def test_hostile_config_files_are_refused_fast_in_one_line_through_the_cli(tmp_path, raw_csv, flag, name, text, reason):
    p = tmp_path / "hostile.yml"
    p.write_text(text)
    run_cli(["clean", str(raw_csv), flag, str(p), "--out", str(tmp_path / "o.csv")])  # warm the imports
    tracemalloc.start()
    start = time.perf_counter()
    code, err = run_cli(["clean", str(raw_csv), flag, str(p), "--out", str(tmp_path / "o.csv")])
    elapsed = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("hipkit: error: ") and str(p) in lines[0]
    assert {"aliases": "aliases", "deep": "nest", "bytes": "bytes"}[reason] in lines[0]
    # The report of issue 10 measured 46 s and 3.5 GB for a billion-laughs map file.
    assert elapsed < 1.0, f"{name}: {elapsed:.2f} s"
    assert peak < 64e6, f"{name}: {peak / 1e6:.0f} MB"
    assert not (tmp_path / "o.csv").exists()


@given(depth=st.integers(MAX_DEPTH + 1, 400), style=st.sampled_from(["flow_list", "flow_map", "block"]))
def test_nesting_past_the_limit_is_refused_never_a_recursion_error(depth, style):
    with pytest.raises(InputError, match="nest"):
        parse_yaml(nested(depth, style), "deep.yml")


def test_nesting_within_the_limit_is_read():
    assert parse_yaml(nested(MAX_DEPTH - 1, "flow_list"), "ok.yml").data["columns"] is not None


def test_a_file_over_the_size_limit_is_refused_before_parsing(tmp_path):
    p = tmp_path / "big.yml"
    p.write_bytes(b"#" * (MAX_BYTES + 1))
    with pytest.raises(RegistryError, match="bytes"):
        read_yaml(p, error=RegistryError, what="measure file")


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("a: 1\n---\nb: 2\n", "several YAML documents"),
        ("a: !!int 5\n", "tag '!!int'"),
        ("a: !!python/object/apply:os.system [ls]\n", "tag '!!python/object/apply:os.system'"),
        ("a: !custom x\n", "tag '!custom'"),
        ("? [a, b]\n: c\n", "a key must be plain text"),
        ("a: 1\nb: 2\na: 3\n", "key 'a' appears twice in the same mapping (first at line 1)"),
        ("base: &b {x: 1}\nother:\n  <<: *b\n", "aliases"),
    ],
)
def test_yaml_features_a_config_file_does_not_need_are_refused_with_the_line(text, fragment):
    with pytest.raises(InputError, match="line") as info:
        parse_yaml(text, "c.yml")
    assert fragment in str(info.value) and "\n" not in str(info.value)


def test_text_that_is_not_utf8_is_refused_with_its_line(tmp_path):
    p = tmp_path / "latin1.yml"
    p.write_bytes("columns:\n  ok: ignore\n  Gr\u00f6\u00dfe: ignore\n".encode("latin-1"))
    with pytest.raises(InputError, match=r"line 3: the mapping file is not UTF-8"):
        read_yaml(p, what="mapping file")


@given(
    n=st.integers(3, 30),
    data=st.data(),
    broken=st.sampled_from(['  "h": }', "  @x: y", "  x: y: z", "  %x: 1", '\t"x": y']),
)
def test_invalid_yaml_is_one_line_with_the_line_number(n, data, broken):
    k = data.draw(st.integers(2, n))
    lines = ["columns:"] + [f'  "h{i}": ignore' for i in range(1, n)]
    lines[k - 1] = broken
    with pytest.raises(InputError) as info:
        parse_yaml("\n".join(lines) + "\n", "bad.yml", what="mapping file")
    msg = str(info.value)
    assert msg.startswith(f"bad.yml, line {k}, column ") and "not valid YAML" in msg and "\n" not in msg


def test_an_unreadable_config_file_is_one_line_through_the_cli(tmp_path, raw_csv):
    for flag in ("--map", "--measures"):
        code, err = run_cli(
            ["clean", str(raw_csv), flag, str(tmp_path / "absent.yml"), "--out", str(tmp_path / "o.csv")]
        )
        assert code == 2 and len(err.strip().splitlines()) == 1 and "cannot read" in err


# -- every key is checked: generated typos ---------------------------------------------------------


@st.composite
def typo(draw, word: str) -> str:
    """One slip of the keyboard: a deleted letter, two neighbours swapped, or a doubled letter."""
    kind = draw(st.sampled_from(["delete", "swap", "double"]))
    if kind == "swap":
        i = draw(st.integers(0, len(word) - 2))
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    i = draw(st.integers(0, len(word) - 1))
    return word[:i] + word[i + 1 :] if kind == "delete" else word[:i] + word[i] + word[i:]


MEASURE_FILE = {  # a valid measure file that uses every key
    "measures": [
        {
            "name": "hop_cm",
            "label": "Single-leg hop",
            "kind": "outcome",
            "unit": "cm",
            "units": {"cm": 1, "m": 100},
            "range": [0, 300],
            "direction": "higher_better",
            "per_side": True,
            "aliases": ["hop"],
            "mcid": {"value": 15, "source": "made up"},
            "mdc": 10,
            "sem": 3.5,
        }
    ],
    "covariates": [{"name": "leg_length_cm", "unit": "cm", "range": [50, 130], "aliases": ["leg length"]}],
    "keys": {"visit": ["visit no"]},
    "identifiers": ["nickname"],
    "categories": {"sex": {"female": ["frau"]}},
    "missing_tokens": ["not measured"],
    "baseline_labels": ["week zero"],
}
MEASURE_KEYS = ["name", "label", "kind", "unit", "units", "range", "direction", "per_side", "aliases", "mcid", "mdc"]
MEASURE_KEYS += ["sem"]
MEASURE_CONTEXTS = [  # (where the key sits, its valid keys, how the message names the place)
    ((), list(MEASURE_FILE), None),
    (("measures", 0), MEASURE_KEYS, "measure 'hop_cm'"),
    (("covariates", 0), MEASURE_KEYS, "measure 'leg_length_cm'"),
    (("measures", 0, "mcid"), ["value", "source"], "measure 'hop_cm': mcid"),
]

MAPPING_FILE = {  # a valid mapping file that uses every key
    "columns": {
        "Pt Code": "participant_id",
        "Abd force L wk 2": {"measure": "hip_abd_strength_n", "unit": "kgf", "visit": 2, "side": "left"},
    },
    "visits": {"Visit 2": 2},
    "values": {"sex": {"1": "female"}, "side": {"1": "left"}, "affected_side": {"1": "left"}, "group": {"1": "HIP"}},
    "date_format": "%d/%m/%Y",
}
MAPPING_CONTEXTS = [
    ((), ["columns", "visits", "values", "date_format"], None),
    (
        ("columns", "Abd force L wk 2"),
        ["measure", "target", "key", "unit", "visit", "side"],
        "column 'Abd force L wk 2'",
    ),
    (("values",), ["sex", "side", "affected_side", "group", "site", "discharge_reason"], "values"),
]


def with_typo(spec: dict, where: tuple, key: str, wrong: str) -> dict:
    out = copy.deepcopy(spec)
    node = out
    for part in where:
        node = node[part]
    items = list(node.items())
    if key in node:
        items = [(wrong if k == key else k, v) for k, v in items]
    else:
        items.append((wrong, "x" if where else ["x"]))
    node.clear()
    node.update(items)
    return out


def check_typo_message(msg: str, path, place, key: str, wrong: str, text: str) -> None:
    assert "\n" not in msg and msg.startswith(f"{path}, line ")
    assert f"unknown {'section' if place is None else 'key'} {wrong!r}" in msg
    if place is not None:
        assert f": {place}: unknown key" in msg
    suggestion = re.search(r"\(did you mean ([^?]*)\?\)", msg)
    assert suggestion is not None and repr(key) in suggestion.group(1)
    line = int(re.match(rf"{re.escape(str(path))}, line (\d+):", msg).group(1))
    assert re.match(rf"^[\s-]*{re.escape(wrong)}:", text.splitlines()[line - 1])


@given(data=st.data())
def test_a_typo_of_any_measure_file_key_is_refused_naming_it_and_the_right_key(tmp_path, data):
    where, keys, place = data.draw(st.sampled_from(MEASURE_CONTEXTS))
    key = data.draw(st.sampled_from(keys))
    wrong = data.draw(typo(key))
    assume(wrong not in keys)
    if key == "name" and len(where) == 2:
        place = f"{where[0]} item 1"  # without its name, a measure is named by its position
    text = yaml.safe_dump(with_typo(MEASURE_FILE, where, key, wrong), sort_keys=False)
    p = tmp_path / "my.yml"
    p.write_text(text)
    with pytest.raises(RegistryError) as info:
        load_registry(p)
    check_typo_message(str(info.value), p, place, key, wrong, text)


@given(data=st.data())
def test_a_typo_of_any_mapping_file_key_is_refused_naming_it_and_the_right_key(tmp_path, data):
    where, keys, place = data.draw(st.sampled_from(MAPPING_CONTEXTS))
    key = data.draw(st.sampled_from(keys))
    wrong = data.draw(typo(key))
    assume(wrong not in keys)
    text = yaml.safe_dump(with_typo(MAPPING_FILE, where, key, wrong), sort_keys=False)
    p = tmp_path / "map.yml"
    p.write_text(text)
    with pytest.raises(InputError) as info:
        load_mapping(p)
    check_typo_message(str(info.value), p, place, key, wrong, text)


def test_the_files_the_typo_tests_start_from_are_valid_and_use_every_key(tmp_path):
    p = tmp_path / "ok.yml"
    p.write_text(yaml.safe_dump(MEASURE_FILE, sort_keys=False))
    reg = load_registry(p)
    assert reg["hop_cm"].mcid == 15 and reg["hop_cm"].mdc == 10 and reg.match_header("leg length") == "leg_length_cm"
    p.write_text(yaml.safe_dump(MAPPING_FILE, sort_keys=False))
    assert load_mapping(p).values["sex"] == {"1": "female"}
    assert set(MEASURE_FILE) == set(MeasureFile.model_fields)
    assert set(MEASURE_KEYS) == set(MeasureEntry.model_fields) and set(Figure.model_fields) == {"value", "source"}
    assert set(MAPPING_CONTEXTS[0][1]) == set(MappingFile.model_fields)
    assert set(MAPPING_CONTEXTS[1][1]) == set(ColumnSpec.model_fields)
    assert set(MAPPING_CONTEXTS[2][1]) == set(CodedValues.model_fields)


@pytest.mark.parametrize(
    "flag, text, fragment",
    [
        (
            "--measures",
            "measures:\n  - name: hop_cm\n    unit: cm\n    range: [0, 300]\n    direction: higher_better\n"
            "    mcdi: 15\n",
            "line 6: measure 'hop_cm': unknown key 'mcdi' (did you mean 'mcid'?)",
        ),
        (
            "--map",
            "columns:\n  ID: {mesure: pain_vas}\n",
            "line 2: column 'ID': unknown key 'mesure' (did you mean 'measure'?)",
        ),
        ("--map", "colums:\n  ID: participant_id\n", "line 1: unknown section 'colums' (did you mean 'columns'?)"),
    ],
)
def test_a_typo_in_a_config_file_is_exit_2_with_one_line_through_the_cli(tmp_path, raw_csv, flag, text, fragment):
    p = tmp_path / "typo.yml"
    p.write_text(text)
    code, err = run_cli(["clean", str(raw_csv), flag, str(p), "--out", str(tmp_path / "o.csv")])
    assert code == 2 and err.strip() == f"hipkit: error: {p}, {fragment}"
    if flag == "--measures":
        code, err = run_cli(["measures", "--measures", str(p)])
        assert code == 2 and err.strip() == f"hipkit: error: {p}, {fragment}"
