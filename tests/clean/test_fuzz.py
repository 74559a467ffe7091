"""Hypothesis fuzzing: whatever the table, the cleaner never crashes and never loses a line."""

import csv
import io
import warnings

import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

import hipkit
from hipkit.errors import HipkitError
from hipkit.io import read_raw

LONG_HEADERS = [
    "Participant ID",
    "Visit",
    "Visit date",
    "Side",
    "Group",
    "Sex",
    "Strength",
    "Strength unit",
    "VAS (mm)",
    "AKPS",
    "LEFS",
    "Body mass (kg)",
    "Notes",
]
WIDE_HEADERS = [
    "ID",
    "Group",
    "Pain baseline",
    "Pain wk2",
    "HipAbd_L_0wk (lb)",
    "HipAbd_R_0wk (lb)",
    "HipAbd_L_2wk (lb)",
    "AKPS wk0",
    "Date wk0",
    "Date wk2",
    "Name",
]

safe_text = st.text(
    alphabet=st.characters(
        blacklist_categories=("Cs", "Cc"), blacklist_characters="\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
    ),
    max_size=8,
)
cell = st.one_of(
    st.sampled_from(
        [
            "",
            "n/a",
            "refused",
            "NA",
            "-",
            "abc",
            "=1+2",
            "@x",
            "+5",
            "1,5",
            "12.5",
            "-3",
            "45 lb",
            "150 N",
            "20 kg",
            "999999",
            "Baseline",
            "Week 2",
            "wk4",
            "6 weeks",
            "visit 9",
            "L",
            "R",
            "left",
            "sideways",
            "F",
            "male",
            "X",
            "HIP",
            "hip ",
            "2024-01-01",
            "2024-13-45",
            "03/04/2024",
            " P1",
            "P1",
            "p2",
            "P3 ",
        ]
    ),
    st.integers(-50, 1500).map(str),
    st.floats(-10, 200, allow_nan=False).map(lambda x: f"{x:.2f}"),
    safe_text,
)


def write_csv(path, headers, rows, delim):
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=delim, lineterminator="\n")
    w.writerow(headers)
    w.writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")


def table(headers):
    return st.lists(st.lists(cell, min_size=len(headers), max_size=len(headers)), min_size=0, max_size=25)


def check_result(res, path, layout):
    r = res.log["rows"]
    assert r["in"] == r["clean"] + r["quarantined"] + r["duplicates_removed"]
    raw = read_raw(path)
    lines = set(raw.lines.tolist()) | {b.line for b in raw.bad_lines}
    clean = set(res.data["source_line"].tolist())
    quar = set(res.quarantine.loc[res.quarantine["action"] == "row_removed", "source_line"].tolist())
    dups = {int(x.rsplit(":", 1)[1]) for x in r.get("duplicate_lines", [])}
    combined = {int(x.rsplit(":", 1)[1]) for x in r.get("combined_lines", [])}
    assert clean | quar | dups | combined == lines, "an input line is in neither the clean table nor the quarantine"
    if layout == "long":
        assert not (clean & quar)
    # Clean values respect the registry's ranges.
    reg = hipkit.load_registry()
    for m in reg:
        if m.name in res.data.columns and m.kind != "derived":
            v = res.data[m.name].dropna()
            assert ((v >= m.range[0]) & (v <= m.range[1])).all()


@given(
    rows=table(LONG_HEADERS),
    delim=st.sampled_from([",", ";", "\t"]),
    keep=st.sets(st.sampled_from(LONG_HEADERS[1:]), min_size=1),
)
def test_fuzzed_long_exports_keep_every_line(tmp_path, rows, delim, keep):
    headers = [h for h in LONG_HEADERS if h == "Participant ID" or h in keep]
    idx = [LONG_HEADERS.index(h) for h in headers]
    path = tmp_path / "fuzz_long.csv"
    write_csv(path, headers, [[r[i] for i in idx] for r in rows], delim)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = hipkit.clean(path)
    except HipkitError as exc:
        assert "\n" not in str(exc)  # a one-line reason
        return
    check_result(res, path, "long")


@given(rows=table(WIDE_HEADERS), delim=st.sampled_from([",", ";"]))
def test_fuzzed_wide_exports_keep_every_line(tmp_path, rows, delim):
    path = tmp_path / "fuzz_wide.csv"
    write_csv(path, WIDE_HEADERS, rows, delim)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = hipkit.clean(path)
    except HipkitError as exc:
        assert "\n" not in str(exc)
        return
    check_result(res, path, "wide")
    assert "Name" not in res.data.columns


@given(blob=st.binary(max_size=400), suffix=st.sampled_from([".csv", ".xlsx", ".parquet", ".tsv"]))
def test_fuzzed_bytes_give_a_clean_error_or_a_result(tmp_path, blob, suffix):
    path = tmp_path / f"blob{suffix}"
    path.write_bytes(blob)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = hipkit.clean(path)
    except HipkitError as exc:
        assert "\n" not in str(exc)
        return
    assert isinstance(res.data, pd.DataFrame)
