"""Identity end to end (issue 16): a clean table read back by ``fit``, ``describe`` and ``report``
has the participants the cleaner wrote, whatever the raw spellings of their ids.

The generator writes each participant's id in a different way on each row (case, spaces, NBSP,
zero-width and direction characters, full-width forms) and adds ids that differ only in leading
zeros (two people), in CSV and in Parquet, with and without ``--deidentify``.
"""

from __future__ import annotations

import csv
import io
import json
import unicodedata
import warnings
from contextlib import redirect_stdout
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hipkit.cli import main
from hipkit.io import read_clean_table
from hipkit.io.ids import folded_spellings, normalise_ids
from hipkit.report.clinic import load_clinic_data

HEADER = ["Participant ID", "Group", "Site", "Visit", "Visit date", "Side", "Strength (N)", "VAS (mm)"]
VISITS = [("Baseline", "2024-01-01"), ("Week 2", "2024-01-15"), ("Week 4", "2024-01-29")]
INVISIBLE = ["\u200b", "\u200d", "\u2060", "\ufeff", "\u200e", "\u00ad"]
FULL_WIDTH = {c: chr(ord(c) + 0xFEE0) for c in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"}


@st.composite
def spelling(draw, canonical: str) -> str:
    """One way of writing ``canonical`` that the normaliser folds back to it."""
    chars = []
    for c in canonical:
        kind = draw(st.sampled_from(["same", "same", "lower", "wide", "invisible"]))
        if kind == "lower":
            chars.append(c.lower())
        elif kind == "wide":
            chars.append(FULL_WIDTH.get(c, c))
        elif kind == "invisible":
            chars.append(draw(st.sampled_from(INVISIBLE)) + c)
        else:
            chars.append(c)
    pad = draw(st.sampled_from(["", " ", "  ", "\u00a0", "\t"]))
    return draw(st.sampled_from([pad, ""])) + "".join(chars) + draw(st.sampled_from(["", pad]))


@st.composite
def cohorts(draw):
    """Canonical ids (some differing only in leading zeros) and the raw rows that spell them."""
    n = draw(st.integers(3, 9))
    numbers = draw(st.lists(st.integers(1, 120), min_size=n, max_size=n, unique=True))
    canon = []
    for k in numbers:
        prefix = draw(st.sampled_from(["", "P", "HIP-", "C"]))
        zeros = draw(st.integers(0, 3))
        canon.append(f"{prefix}{'0' * zeros}{k}")
    # A twin that differs only in leading zeros: a different person.
    twin_of = draw(st.sampled_from(canon))
    canon.append(twin_of[: len(twin_of) - len(twin_of.lstrip("HIPC-"))] + "0" + twin_of.lstrip("HIPC-"))
    canon = list(dict.fromkeys(canon))
    rows = []
    for i, pid in enumerate(canon):
        group = "HIP" if i % 2 else "KNEE"
        for v, (label, day) in enumerate(VISITS):
            rows.append([draw(spelling(pid)), group, "S1", label, day, "L", str(150 + 7 * v + i), str(60 - 5 * v)])
    return canon, rows


def _write_raw(folder: Path, rows: list[list[str]], fmt: str) -> Path:
    if fmt == "csv":
        path = folder / "raw.csv"
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerows([HEADER, *rows])
        path.write_text(buf.getvalue(), encoding="utf-8")
    else:
        path = folder / "raw.parquet"
        pd.DataFrame(rows, columns=HEADER).to_parquet(path)
    return path


def _run(*argv: str) -> str:
    out = io.StringIO()
    with redirect_stdout(out), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        code = main(list(argv))
    assert code == 0, out.getvalue()
    return out.getvalue()


def _written_ids(path: Path) -> set[str]:
    """The participant ids exactly as the cleaner wrote them (text, no parsing)."""
    if path.suffix == ".parquet":
        return set(pd.read_parquet(path)["participant_id"].astype(str))
    with path.open(encoding="utf-8", newline="") as fh:
        return {r["participant_id"] for r in csv.DictReader(fh)}


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cohort=cohorts(), fmt=st.sampled_from(["csv", "parquet"]), deidentify=st.booleans())
def test_clean_table_reads_back_with_the_participants_the_cleaner_wrote(tmp_path_factory, cohort, fmt, deidentify):
    canon, rows = cohort
    folder = tmp_path_factory.mktemp("ids")
    raw = _write_raw(folder, rows, fmt)
    clean = folder / "clean.csv"
    extra = ["--deidentify", "--salt-file", str(folder / "salt")] if deidentify else []
    if deidentify:
        (folder / "salt").write_text("a-test-salt-of-some-length\n")
    _run("clean", str(raw), "--out", str(clean), "--quarantine", str(folder / "q.csv"), "--log",
         str(folder / "log.json"), "--quiet", *extra)
    written = _written_ids(clean)
    assert len(written) == len(canon)  # one participant per canonical id: folded, twins kept apart
    if not deidentify:
        assert written == set(canon)

    # The library reader, and each command that reads a clean table back.
    assert set(read_clean_table(clean)["participant_id"]) == written
    cd = load_clinic_data([clean])
    assert set(cd.data["participant_id"]) == written
    fit_json = folder / "fit.json"
    _run("fit", "hip_abd_strength_n ~ visit_week + (1 | participant_id)", "--data", str(clean), "--json",
         str(fit_json), "--quiet")
    assert json.loads(fit_json.read_text())["glance"]["ngroups"] == len(written)
    described = folder / "describe.csv"
    _run("describe", "--data", str(clean), "--out", str(described))
    table = pd.read_csv(described)
    at_baseline = table[(table["visit_week"] == 0) & (table["measure"] == "hip_abd_strength_n")]
    assert int(at_baseline["n"].sum()) == len(written)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(st.characters(codec="utf-8"), max_size=12), min_size=1, max_size=8))
def test_normalising_a_normalised_id_changes_nothing(values):
    once = normalise_ids(pd.Series(values, dtype="object"))
    assert normalise_ids(once).tolist() == once.tolist()
    assert not folded_spellings(once)


@settings(max_examples=50, deadline=None)
@given(cohort=cohorts())
def test_every_spelling_folds_to_its_id_and_twins_stay_apart(cohort):
    canon, rows = cohort
    raw = pd.Series([r[0] for r in rows], dtype="object")
    got = normalise_ids(raw)
    expected = [pid for pid in canon for _ in VISITS]
    assert got.tolist() == expected
    assert all(unicodedata.is_normalized("NFKC", g) for g in got)


def test_a_hand_edited_clean_table_that_spells_one_id_two_ways_warns(tmp_path):
    path = tmp_path / "clean.csv"
    path.write_text("participant_id,visit_week,hip_abd_strength_n\nP01,0,150\np01\u200b,2,160\nP02,0,140\n")
    with pytest.warns(UserWarning, match="1 participant id"):
        frame = read_clean_table(path)
    assert frame["participant_id"].tolist() == ["P01", "P01", "P02"]
