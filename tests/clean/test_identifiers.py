"""Direct identifiers, by header and by content: never written out, and no false alarms on clinic data.

Fake identifiers come from seeded generators (Faker in several locales for names, phone numbers and
e-mail addresses; national id numbers built here with their check digits), planted under unusual
headers in exports that otherwise hold what clinics really export (ids, groups, sites, reasons,
measures, visit dates), and the files hipkit writes are searched for them.
"""

from __future__ import annotations

import json
import random
import string
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from faker import Faker
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum import luhn

import hipkit
from hipkit.cleaning.identifiers import IdentifierScan, find_identifiers, identifier_columns, is_identifier_header
from hipkit.cli import main
from hipkit.errors import InputError
from hipkit.io import read_raw

# Locales whose fake phone numbers carry a country code, a trunk 0 or a North American shape (8-digit
# Danish or Swedish local numbers cannot be told from ids such as 2024-0013 and are not planted).
PHONE_LOCALES = ["en_US", "en_GB", "de_DE", "fr_FR", "es_ES", "it_IT", "nl_NL", "pt_BR", "en_CA", "pl_PL"]
NAME_LOCALES = PHONE_LOCALES + ["sv_SE", "da_DK", "en_AU", "en_IN", "fi_FI", "pt_PT"]


# ---------------------------------------------------------------------------------------------
# Generators of fake identifiers (seeded)
# ---------------------------------------------------------------------------------------------
def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(string.digits) for _ in range(n))


def nhs_number(rng: random.Random) -> str:
    """A UK NHS number: 9 digits and a mod-11 check digit (weights 10..2), formatted 3-3-4."""
    while True:
        d = [rng.randrange(10) for _ in range(9)]
        check = 11 - sum(x * w for x, w in zip(d, range(10, 1, -1))) % 11
        check = 0 if check == 11 else check
        if check != 10:
            s = "".join(map(str, d + [check]))
            return rng.choice(["{} {} {}", "{}-{}-{}"]).format(s[:3], s[3:6], s[6:])


def ssn(rng: random.Random) -> str:
    area = rng.choice([a for a in range(1, 900) if a != 666])
    return f"{area:03d}-{rng.randrange(1, 100):02d}-{rng.randrange(1, 10000):04d}"


def sin(rng: random.Random) -> str:
    body = str(rng.randrange(1, 8)) + _digits(rng, 7)
    s = body + luhn.calc_check_digit(body)
    return f"{s[:3]} {s[3:6]} {s[6:]}"


def nino(rng: random.Random) -> str:
    first = rng.choice("ABCEGHJKLMNOPRSTWXYZ")
    second = rng.choice(
        [c for c in "ABCEGHJKLMNPRSTWXYZ" if first + c not in {"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"}]
    )
    d = _digits(rng, 6)
    return rng.choice(["{}{} {} {} {} {}", "{}{}{}{}{}{}"]).format(
        first, second, d[:2], d[2:4], d[4:], rng.choice("ABCD")
    )


def tfn(rng: random.Random) -> str:
    weights = (1, 4, 3, 7, 5, 8, 6, 9, 10)
    while True:
        d = [rng.randrange(10) for _ in range(8)]
        for last in range(10):
            if sum(x * w for x, w in zip(d + [last], weights)) % 11 == 0:
                s = "".join(map(str, d + [last]))
                return f"{s[:3]} {s[3:6]} {s[6:]}"


def medicare(rng: random.Random) -> str:
    d = [rng.randrange(2, 7)] + [rng.randrange(10) for _ in range(7)]
    check = sum(x * w for x, w in zip(d, (1, 3, 7, 9, 1, 3, 7, 9))) % 10
    s = "".join(map(str, d + [check, rng.randrange(1, 10)]))
    return f"{s[:4]} {s[4:9]} {s[9]}"


def national_id(rng: random.Random) -> str:
    kind = rng.choice(["nhs", "ssn", "sin", "nino", "tfn", "medicare", "cf", "pnr"])
    if kind == "cf":
        return _faker("it_IT", rng).ssn()  # Italian codice fiscale
    if kind == "pnr":
        return _faker("sv_SE", rng).ssn()  # Swedish personnummer, YYMMDD-NNNN
    return {"nhs": nhs_number, "ssn": ssn, "sin": sin, "nino": nino, "tfn": tfn, "medicare": medicare}[kind](rng)


_FAKERS: dict[str, Faker] = {}


def _faker(locale: str, rng: random.Random) -> Faker:
    """A Faker for ``locale``, reseeded from ``rng`` (so each value depends on the seed only)."""
    if locale not in _FAKERS:
        _FAKERS[locale] = Faker(locale)
    f = _FAKERS[locale]
    f.seed_instance(rng.randrange(1 << 30))
    return f


# Common given names (US SSA and ONS England & Wales top names, and a few from other countries),
# written here independently of the package's list: inside free text, a name is found by a common
# given name or a title before a capitalised word, so that is what is planted in text cells.
COMMON_GIVEN = ["James", "Mary", "John", "Patricia", "Robert", "Jennifer", "Michael", "Linda", "David", "Elizabeth",
                "William", "Susan", "Oliver", "Olivia", "Harry", "Amelia", "George", "Isla", "Mohammed", "Sophie",
                "Lucas", "Emma", "Pierre", "Marie", "Hans", "Anna", "José", "María", "Giuseppe", "Giulia", "Jan",
                "Katarzyna", "Lars", "Ingrid", "Priya", "Fatima", "Ahmed", "Chloe", "Jack", "Grace"]  # fmt: skip


def fake(kind: str, rng: random.Random, date_format: str = "%Y-%m-%d", in_text: bool = False) -> str:
    """One fake identifier of ``kind`` (``in_text``: a name as it would be written inside a note)."""
    if kind == "name" and in_text:
        f = _faker(rng.choice(NAME_LOCALES), rng)
        first = rng.choice(COMMON_GIVEN) if rng.random() < 0.8 else rng.choice(["Mr", "Mrs", "Dr", "Ms"])
        return f"{first} {f.last_name()}"
    if kind == "name":
        return _faker(rng.choice(NAME_LOCALES), rng).name()
    if kind == "phone":
        return _faker(rng.choice(PHONE_LOCALES), rng).phone_number()
    if kind == "email":
        return _faker(rng.choice(NAME_LOCALES), rng).email()
    if kind == "date_of_birth":
        return _faker("en_GB", rng).date_of_birth(minimum_age=14, maximum_age=80).strftime(date_format)
    return national_id(rng)


# ---------------------------------------------------------------------------------------------
# Generators of realistic, non-identifying exports
# ---------------------------------------------------------------------------------------------
GROUPS = ["HIP", "KNEE", "Hip", "Knee", "Hip Strength", "Knee Focused", "Control", "Hip + Knee", "Exercise A",
          "Usual Care", "Standard Care", "Waitlist", "Education", "HIP STRENGTH", "Group 1", "Arm B"]  # fmt: skip
SITES = ["North Clinic", "South", "St Mary's", "Riverside Physio", "Site 3", "Toronto", "Leeds General",
         "Melbourne", "Sherbrooke", "Calgary", "Victoria", "Austin", "Charlotte", "Madison", "Sydney", "Kingston",
         "Royal Free", "Grace Hospital", "Mount Sinai", "Jackson Memorial", "St George's", "Alfred Health",
         "Austin Health", "Oak Ridge", "Mount Pleasant", "Lyon", "Sevilla", "Kraków", "Utrecht", "Hamburg"]  # fmt: skip
REASONS = ["moved away", "injury unrelated", "completed", "Completed", "lost to follow-up", "withdrew consent",
           "pregnancy", "surgery", "Moved Away", "did not attend", "relocated", "illness", "work commitments",
           "no longer interested", "pain resolved", "unrelated injury", "moved to Sydney",
           "transferred to Austin Health",
           "family reasons", "Other", "Injury Unrelated", "Did Not Attend", "Lost To Follow-Up", "time constraints",
           "seen at Grace Hospital instead", "Withdrew - knee surgery", "completed programme"]  # fmt: skip
NOTES = ["felt better", "Knee sore after session", "HEP given", "Reviewed by physio", "Band walks x3",
         "progressed to 3 sets", "Pain 4/10 on stairs", "Missed wk2 (holiday)", "HHD re-calibrated 12/03/2024",
         "Hip Hike added", "Side Plank", "Clam Shell", "Monster Walk", "Wall Squat"]  # fmt: skip


ID_STYLES = ["P{:02d}", "P{:03d}", "HIP-{:03d}", "2024-{:04d}", "{}", "S{:04d}", "PFP_{:03d}", "C{}", "01-{:03d}",
             "KNEE-{:02d}", "{:010d}", "01-2024-{:04d}", "2024-001-{:02d}", "240115-{:04d}",
             "100-200-{:03d}"]  # fmt: skip


def realistic_ids(rng: random.Random, n: int, style: str | None = None) -> list[str]:
    """Participant ids as studies and clinics number them (sequential, from a random start)."""
    style = style or rng.choice(ID_STYLES)
    start = rng.randrange(1, 300)
    return [style.format(start + i) for i in range(n)]


def visit_dates(rng: random.Random, n: int, fmt: str) -> list[list[str]]:
    """Per participant, the dates of weeks 0, 2, 4, 6 (2019-2025)."""
    out = []
    for _ in range(n):
        base = pd.Timestamp("2019-01-01") + pd.Timedelta(days=rng.randrange(0, 6 * 365))
        out.append([(base + pd.Timedelta(days=7 * w + rng.randrange(-2, 3))).strftime(fmt) for w in (0, 2, 4, 6)])
    return out


def realistic_export(rng: random.Random, n: int | None = None) -> tuple[pd.DataFrame, str]:
    """A wide clinic export with nothing identifying in it; returns (table, date format)."""
    n = n or rng.randrange(8, 40)
    fmt = rng.choice(["%Y-%m-%d", "%d/%m/%Y", "%d %b %Y"])
    dates = visit_dates(rng, n, fmt)
    t = pd.DataFrame({"Participant ID": realistic_ids(rng, n)})
    t["Group"] = [rng.choice(GROUPS[:4] if rng.random() < 0.5 else GROUPS) for _ in range(n)]
    t["Site"] = [rng.choice(SITES) for _ in range(n)]
    t["Sex"] = [rng.choice(["F", "M", "female", "Male"]) for _ in range(n)]
    t["Age"] = [str(rng.randrange(12, 80)) for _ in range(n)]
    t["Body mass (kg)"] = [f"{rng.uniform(45, 110):.1f}" for _ in range(n)]
    for i, w in enumerate((0, 2, 4, 6)):
        t[f"Date wk{w}"] = [d[i] for d in dates]
        t[f"Pain wk{w}"] = [
            rng.choice([f"{rng.uniform(0, 10):.1f}", str(rng.randrange(11)), "n/a", ""]) for _ in range(n)
        ]
        t[f"HipAbd_L_{w}wk (lb)"] = [f"{rng.uniform(15, 60):.1f}" for _ in range(n)]
        t[f"AKPS wk{w}"] = [str(rng.randrange(40, 100)) for _ in range(n)]
    t["Reason"] = [rng.choice(REASONS) if rng.random() < 0.5 else "" for _ in range(n)]
    t["Notes"] = [rng.choice(NOTES) if rng.random() < 0.4 else "" for _ in range(n)]
    t["Referral date"] = [(pd.Timestamp("2019-01-01") + pd.Timedelta(days=rng.randrange(0, 6 * 365))).strftime(fmt)
                          for _ in range(n)]  # fmt: skip
    return t, fmt


def to_long(t: pd.DataFrame) -> pd.DataFrame:
    """The same export with one row per participant and visit (participant-level columns repeated)."""
    per_visit = {"Date wk": "Visit date", "Pain wk": "Pain", "HipAbd_L_": "Strength (lb)", "AKPS wk": "AKPS"}
    visit_cols = [c for c in t.columns if any(c.startswith(k) for k in per_visit)]
    static = [c for c in t.columns if c not in visit_cols]
    rows = []
    for label, w in zip(["Baseline", "Week 2", "wk4", "6 weeks"], (0, 2, 4, 6)):
        part = t[static].copy()
        part.insert(1, "Visit", label)
        for prefix, name in per_visit.items():
            col = next(c for c in visit_cols if c.startswith(prefix) and f"{w}" in c[len(prefix) :])
            part[name] = t[col]
        rows.append(part)
    return pd.concat(rows, ignore_index=True)


def _write(t: pd.DataFrame, path: Path) -> Path:
    t.to_csv(path, index=False)
    return path


def _clean_cli(path: Path, out: Path, deidentify: bool, capsys=None) -> tuple[int, str]:
    args = ["clean", str(path), "--out", str(out / "o.csv"), "--quarantine", str(out / "q.csv"),
            "--log", str(out / "l.json"), "--no-progress"]  # fmt: skip
    if deidentify:
        args += ["--deidentify", "--salt-file", str(_salt(out))]
    code = main(args)
    err = capsys.readouterr().err if capsys is not None else ""
    return code, err


def _salt(folder: Path) -> Path:
    p = folder / "salt.txt"
    if not p.exists():
        p.write_text("test-salt-1234")
    return p


def _outputs_text(out: Path) -> str:
    return "\n".join((out / f).read_text(encoding="utf-8") for f in ("o.csv", "q.csv", "l.json"))


def _variants(value: str) -> list[str]:
    """The planted value and, for numbers, its digits alone (a writer could drop the separators)."""
    digits = "".join(c for c in value if c.isdigit())
    return [value] + ([digits] if len(digits) >= 8 else [])


# ---------------------------------------------------------------------------------------------
# The issue's example
# ---------------------------------------------------------------------------------------------
ISSUE_EXPORT = """\
ID,Pt name,contact,Group,Pain wk0,Pain wk2,HipAbd_L_0wk (lb),Reason
P1,Jane Smith,555-123-4567,HIP,5,3,30,call jane@x.org 555-123-4567
P2,John Doe,+44 7700 900123,KNEE,6,4,31,
"""


@pytest.mark.parametrize("deidentify", [False, True])
def test_issue_export_writes_no_name_phone_or_email(tmp_path, capsys, deidentify):
    raw = tmp_path / "b.csv"
    raw.write_text(ISSUE_EXPORT)
    code, _ = _clean_cli(raw, tmp_path, deidentify, capsys)
    assert code == 0
    text = _outputs_text(tmp_path)
    for planted in ["Jane", "Smith", "John Doe", "555-123-4567", "5551234567", "7700 900123", "jane@x.org"]:
        assert planted not in text
    log = json.loads((tmp_path / "l.json").read_text())
    assert log["inputs"][0]["identifier_columns"] == ["Pt name", "contact"]
    assert any("'contact' (by header; phone numbers in 2 of 2 values)" in w for w in log["warnings"])
    q = pd.read_csv(tmp_path / "q.csv", dtype=str)
    reason = q[q["reason"] == "identifier_in_value"]
    assert reason[["column", "raw_value", "action"]].values.tolist() == [
        ["Reason", "[withheld: e-mail address]", "value_set_missing"]
    ]


# ---------------------------------------------------------------------------------------------
# Planted identifiers never reach the outputs
# ---------------------------------------------------------------------------------------------
UNUSUAL_HEADERS = ["", "unnamed", "Notes", "Comments", "Info", "Field 7", "X", "Kontakt", "Détails", "Datos",
                   "Osoba", "Misc", "Extra", "Col12", "Details", "Persona", "Anagrafica", "Who", "Client",
                   "Pt info"]  # fmt: skip
# Headers that name something the cleaner carries: a column of identifiers under them is still dropped.
CARRIED_HEADERS = ["Site", "Group", "Reason"]
KINDS = ["name", "phone", "email", "date_of_birth", "national_id"]


def _perturb(header: str, rng: random.Random) -> str:
    h = rng.choice([header, header.upper(), header.lower(), f" {header} "])
    return h.replace(" ", rng.choice([" ", "_", "."])) if rng.random() < 0.3 else h


def planted_export(seed: int, long: bool = False) -> tuple[pd.DataFrame, list[str], list[str], list[str]]:
    """A realistic export with identifier columns under unusual headers and identifiers in text cells.

    Returns the table, every planted value, the planted columns' headers, and the headers of the
    columns whose carried cells hold planted values.
    """
    rng = random.Random(seed)
    t, fmt = realistic_export(rng, rng.randrange(10, 30))
    n = len(t)
    planted: list[str] = []
    columns: list[str] = []
    used = set(t.columns)
    for k in range(rng.randrange(2, 5)):
        kind = rng.choice(KINDS)
        if k == 0 and rng.random() < 0.4:
            header = rng.choice(CARRIED_HEADERS)
            t = t.drop(columns=[header])
        else:
            header = _perturb(rng.choice(UNUSUAL_HEADERS), rng)
            while header in used or header.strip() in used:
                header = f"{header}{rng.randrange(10)}"
        used.add(header)
        values = [fake(kind, rng, fmt) for _ in range(n)]
        t.insert(rng.randrange(1, len(t.columns)), header, values)
        planted += values
        columns.append(header)
    # Identifiers inside carried free text and category cells, and in a measure cell.
    cells: list[str] = []
    for col in ("Reason", "Site", "Group", "Pain wk2"):
        if col not in t.columns or col in columns:
            continue
        for i in rng.sample(range(n), k=min(n, rng.randrange(1, 3))):
            kind = rng.choice(["name", "phone", "email", "national_id", "date_of_birth"])
            value = fake(kind, rng, fmt, in_text=True)
            text = rng.choice(["{}", "call {}", "spoke to {} re follow-up", "{} (carer)", "contact: {}"])
            if kind == "date_of_birth":
                text = rng.choice(["DOB {}", "born {}", "d.o.b. {}"])
            t.loc[i, col] = text.format(value)
            planted.append(value)
        cells.append(col)
    if long:
        t = to_long(t)
        cells = ["Pain" if c == "Pain wk2" else c for c in cells]
    return t, planted, columns, cells


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("deidentify", [False, True])
def test_planted_identifiers_appear_in_no_output(tmp_path, capsys, seed, deidentify):
    t, planted, columns, cells = planted_export(seed, long=seed % 2 == 1)
    raw = _write(t, tmp_path / "export.csv")
    code, err = _clean_cli(raw, tmp_path, deidentify, capsys)
    assert code == 0, err
    text = _outputs_text(tmp_path)
    leaked = [v for p in planted for v in _variants(p) if v in text]
    assert leaked == []
    # Every planted column is reported as a direct identifier (so `hipkit report` refuses the export).
    log = json.loads((tmp_path / "l.json").read_text())
    reported = set(log["inputs"][0]["identifier_columns"])
    as_read = list(read_raw(raw).data.columns)  # trimmed; a blank header gets a name
    assert {as_read[list(t.columns).index(h)] for h in columns} <= reported
    # Each carried column with a planted cell has an identifier_in_value entry whose raw value is withheld.
    q = pd.read_csv(tmp_path / "q.csv", dtype=str, keep_default_na=False)
    ids = q[q["reason"] == "identifier_in_value"]
    assert set(cells) <= set(ids["column"])
    assert ids["raw_value"].str.startswith("[withheld: ").all()


@pytest.mark.parametrize("with_identifier_column", [True, False])
def test_identifiers_in_an_unparseable_line_are_withheld(tmp_path, capsys, with_identifier_column):
    rng = random.Random(11)
    t, _ = realistic_export(rng, 12)
    if with_identifier_column:
        t.insert(2, "Info", [fake("phone", rng) for _ in range(len(t))])
    secret = fake("email", rng)
    width = len(t.columns)
    bad = ["P998", secret] + ["1"] * (width + 1)  # too many fields: the line is quarantined whole
    plain = ["P999", "HIP"] + ["2"] * (width + 1)
    raw = tmp_path / "export.csv"
    raw.write_text(t.to_csv(index=False) + ",".join(bad) + "\n" + ",".join(plain) + "\n")
    code, err = _clean_cli(raw, tmp_path, False, capsys)
    assert code == 0, err
    q = pd.read_csv(tmp_path / "q.csv", dtype=str, keep_default_na=False)
    lines = q[q["reason"] == "malformed_line"].set_index("source_line")["raw_value"]
    assert secret not in _outputs_text(tmp_path)
    assert lines[str(len(t) + 2)].startswith("[withheld: ")
    # A line without identifiers keeps its text (for diagnosis) unless the file has identifier columns.
    assert lines[str(len(t) + 3)].startswith("[withheld: ") == with_identifier_column


def test_a_name_typed_into_a_measure_cell_is_withheld_whatever_the_given_name(tmp_path, capsys):
    rng = random.Random(12)
    t, _ = realistic_export(rng, 15)
    names = [_faker(loc, rng).name() for loc in ("it_IT", "pl_PL", "en_IN")]
    for i, name in enumerate(names):
        t.loc[i, "Pain wk2"] = name
    code, err = _clean_cli(_write(t, tmp_path / "export.csv"), tmp_path, False, capsys)
    assert code == 0, err
    assert [n for n in names if n in _outputs_text(tmp_path)] == []
    q = pd.read_csv(tmp_path / "q.csv", dtype=str, keep_default_na=False)
    assert (q.loc[q["column"] == "Pain wk2", "reason"] == "identifier_in_value").sum() == len(names)


# ---------------------------------------------------------------------------------------------
# Participant ids that are names, e-mails, phone or id numbers
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", range(3))
def test_names_as_participant_ids_are_refused_without_deidentify(tmp_path, capsys, seed):
    rng = random.Random(100 + seed)
    t, _ = realistic_export(rng, 12)
    kind = ["name", "email", "national_id"][seed]
    people = [fake(kind, rng) for _ in range(len(t))]
    t = t.drop(columns=["Participant ID"])
    t.insert(0, rng.choice(["Patient", "Participant", "ID"]), people)
    raw = _write(t, tmp_path / "export.csv")
    code, err = _clean_cli(raw, tmp_path, False, capsys)
    assert code == 2 and err.count("\n") == 1
    assert "participant id column" in err and "--deidentify" in err and "--map" in err
    assert t.columns[0] in err
    assert not any(p in err for p in people)
    assert not (tmp_path / "o.csv").exists()


@pytest.mark.parametrize("seed", range(3))
def test_names_as_participant_ids_are_hashed_with_deidentify(tmp_path, capsys, seed):
    rng = random.Random(200 + seed)
    t, _ = realistic_export(rng, 15)
    people = [fake("name", rng) for _ in range(len(t))]
    t["Participant ID"] = people
    t.loc[0, "Pain wk2"] = "abc"  # a quarantined value: its entry names the participant
    t = pd.concat([t, t.iloc[[1]].assign(**{"Group": "Other group"})], ignore_index=True)  # a conflict
    raw = _write(t, tmp_path / "export.csv")
    code, err = _clean_cli(raw, tmp_path, True, capsys)
    assert code == 0, err
    text = _outputs_text(tmp_path)
    assert [p for p in people if p in text or p.upper().replace(" ", "") in text] == []
    log = json.loads((tmp_path / "l.json").read_text())
    assert any("replaced by salted hashes" in w and "'Participant ID'" in w for w in log["warnings"])
    clean = pd.read_csv(tmp_path / "o.csv")
    assert clean["participant_id"].nunique() == len(set(people)) - 1  # the conflicting one is quarantined
    q = pd.read_csv(tmp_path / "q.csv", dtype=str, keep_default_na=False)
    assert q["reason"].isin(["not_a_number", "conflicting_duplicate"]).sum() >= 3
    assert q["participant_id"].str.fullmatch(r"P[0-9A-F]{12}").all()
    # The same salt gives the same codes on a second run.
    again = tmp_path / "again"
    again.mkdir()
    _salt(again)
    assert _clean_cli(raw, again, True, capsys)[0] == 0
    assert pd.read_csv(again / "o.csv")["participant_id"].tolist() == clean["participant_id"].tolist()


def test_a_file_whose_only_measures_hold_identifiers_is_refused_with_one_line(tmp_path, capsys):
    rng = random.Random(51)
    raw = _write(pd.DataFrame({"ID": ["P1", "P2", "P3"], "Pain": [fake("phone", rng) for _ in range(3)]}),
                 tmp_path / "export.csv")  # fmt: skip
    code, err = _clean_cli(raw, tmp_path, False, capsys)
    assert code == 2 and err.count("\n") == 1 and "'Pain' (phone numbers in 3 of 3 values)" in err


def test_first_names_alone_as_ids_are_recognised():
    scan = IdentifierScan().update(pd.DataFrame({"Patient": ["Jane", "John", "Maria", "Ahmed", "Jane"], "VAS": 5}))
    f = scan.findings().set_index("column")
    assert f.loc["Patient", "flagged"] and f.loc["Patient", "kind"] == "name"


# ---------------------------------------------------------------------------------------------
# Detection by content, kind by kind
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", KINDS)
def test_a_column_of_fake_identifiers_is_flagged_whatever_its_header(kind):
    rng = random.Random(KINDS.index(kind))
    for trial in range(12):
        n = rng.randrange(5, 40)
        t, fmt = realistic_export(rng, n)
        header = rng.choice([h for h in UNUSUAL_HEADERS if h] + ["Notes"])
        t = t.drop(columns=[c for c in t.columns if c == header])
        t[header] = [fake(kind, rng, fmt) for _ in range(n)]
        f = IdentifierScan().update(t).findings().set_index("column")
        assert f.loc[header, "flagged"], (kind, trial, t[header].tolist()[:5])
        assert f.loc[header, "kind"] == kind
        assert f.loc[header, "matched"] >= 0.5 * n


@pytest.mark.parametrize(
    "value",
    [nhs_number, ssn, sin, nino, tfn, medicare],
    ids=["nhs", "ssn", "sin", "nino", "tfn", "medicare"],
)
def test_checksummed_national_ids_are_found_and_broken_checks_are_not(value):
    rng = random.Random(7)
    for _ in range(60):
        good = value(rng)
        assert find_identifiers(pd.Series([good, f"ref {good} on file"])).tolist() == ["national_id"] * 2, good
        if value in (nhs_number, sin, tfn, medicare):
            digits = [c for c in good]
            places = [i for i, c in enumerate(digits) if c.isdigit()]
            i = places[8] if value is medicare else places[-1]  # the check digit (Medicare: the 9th)
            for d in "0123456789":
                digits[i] = d
                broken = "".join(digits)
                if broken != good and not _valid_elsewhere(broken):
                    assert find_identifiers(pd.Series([broken]), min_level=1).iloc[0] != "national_id", broken


def _valid_elsewhere(text: str) -> bool:
    """Whether a changed number still passes another id's check (then it is an id, correctly)."""
    from stdnum.au import tfn as au_tfn
    from stdnum.ca import sin as ca_sin
    from stdnum.gb import nhs

    return any(m.is_valid(text) for m in (nhs, ca_sin, au_tfn))


RANDOM_ID_STYLES = {
    "10 digits": lambda g: str(g.integers(10**9, 10**10)),
    "9 digits": lambda g: str(g.integers(10**8, 10**9)),
    "3-3-3": lambda g: "-".join(str(x).zfill(3) for x in g.integers(0, 1000, 3)),
    "0## ### ####": lambda g: f"0{g.integers(10, 100)} {g.integers(100, 1000)} {g.integers(1000, 10000)}",
    "yymmdd-nnnn": lambda g: f"{g.integers(20, 26)}{g.integers(1, 13):02d}{g.integers(1, 29):02d}-"
                             f"{g.integers(0, 10**4):04d}",
    "zero-padded": lambda g: f"{g.integers(0, 10**6):010d}",
}  # fmt: skip


@pytest.mark.parametrize("style", RANDOM_ID_STYLES)
def test_numbered_ids_that_pass_a_check_digit_by_chance_do_not_make_an_id_column_an_identifier(style):
    g = np.random.default_rng(list(RANDOM_ID_STYLES).index(style))
    for _ in range(40):
        ids = [RANDOM_ID_STYLES[style](g) for _ in range(int(g.integers(5, 60)))]
        f = IdentifierScan().update(pd.DataFrame({"Participant ID": ids, "VAS": "5"})).findings()
        assert not f.set_index("column").loc["Participant ID", "flagged"], ids


def test_dates_of_birth_are_told_from_visit_and_referral_dates():
    rng = random.Random(5)
    for _ in range(20):
        t, fmt = realistic_export(rng)
        n = len(t)
        t["Field 7"] = [fake("date_of_birth", rng, fmt) for _ in range(n)]
        t["Year"] = [str(rng.randrange(1950, 2008)) for _ in range(n)]
        f = IdentifierScan().update(t).findings().set_index("column")
        assert f.loc["Field 7", "flagged"] and f.loc["Field 7", "kind"] == "date_of_birth"
        assert f.loc["Year", "flagged"] and f.loc["Year", "kind"] == "date_of_birth"
        assert not f.loc["Referral date", "flagged"]
        assert not f.loc[[c for c in t.columns if c.startswith("Date wk")], "flagged"].any()
        # Without visit dates, a date column that spans decades is still read as dates of birth.
        alone = t[["Participant ID", "Field 7", "Pain wk0"]]
        assert IdentifierScan().update(alone).findings().set_index("column").loc["Field 7", "flagged"]


@given(st.data())
@settings(max_examples=40)
def test_findings_are_the_same_whole_or_chunk_by_chunk(data):
    seed = data.draw(st.integers(0, 10_000))
    t, *_ = planted_export(seed)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(t)), max_size=4)))
    whole = IdentifierScan().update(t).findings()
    scan = IdentifierScan()
    for a, b in zip([0] + cuts, cuts + [len(t)]):
        scan.update(t.iloc[a:b])
    pd.testing.assert_frame_equal(scan.findings(), whole)


# ---------------------------------------------------------------------------------------------
# No false alarms on what clinics really export
# ---------------------------------------------------------------------------------------------
def test_realistic_exports_are_not_flagged():
    rng = random.Random(2024)
    for _ in range(150):
        t, _ = realistic_export(rng)
        f = IdentifierScan().update(t).findings()
        assert not f["flagged"].any(), f.loc[f["flagged"], ["column", "description"]].to_dict("records")
        for col in ("Group", "Site", "Reason", "Pain wk0", "Date wk0", "Notes"):  # ids: whole column only
            found = find_identifiers(t[col], min_level=1)
            assert found.isna().all(), (col, t.loc[found.notna(), col].tolist())


@pytest.mark.parametrize("seed", range(3))
def test_realistic_exports_clean_without_identifier_warnings(tmp_path, capsys, seed):
    t, _ = realistic_export(random.Random(seed), 25)
    raw = _write(t, tmp_path / "export.csv")
    code, err = _clean_cli(raw, tmp_path, False, capsys)
    assert code == 0, err
    log = json.loads((tmp_path / "l.json").read_text())
    assert log["inputs"][0]["identifier_columns"] == []
    assert not any("identifier" in w for w in log["warnings"])
    q = pd.read_csv(tmp_path / "q.csv", dtype=str, keep_default_na=False)
    assert not (q["reason"] == "identifier_in_value").any()
    clean = pd.read_csv(tmp_path / "o.csv", dtype=str, keep_default_na=False)
    assert set(clean["site"]) <= set(t["Site"])


@pytest.mark.parametrize("seed", range(3))
def test_sites_named_after_people_are_labels_when_participants_share_them(tmp_path, capsys, seed):
    rng = random.Random(300 + seed)
    t, _ = realistic_export(rng, 24)
    hospitals = ["John Hunter", "Sir Charles Gairdner", "Mary Potter", "Frances Perry"]
    t["Site"] = [hospitals[i % len(hospitals)] for i in range(len(t))]  # six participants each
    person = fake("name", rng, in_text=True)
    t.loc[3, "Reason"] = person  # a person's name: one participant's
    code, err = _clean_cli(_write(t, tmp_path / "export.csv"), tmp_path, False, capsys)
    assert code == 0, err
    clean = pd.read_csv(tmp_path / "o.csv", dtype=str, keep_default_na=False)
    assert set(clean["site"]) == set(hospitals)
    assert person not in _outputs_text(tmp_path)
    # The report's check of a clean table agrees with the cleaner.
    assert identifier_columns(pd.read_csv(tmp_path / "o.csv"), cells=True) == []


# ---------------------------------------------------------------------------------------------
# Headers
# ---------------------------------------------------------------------------------------------
IDENTIFIER_HEADERS = ["Pt. Name", "Contact no", "Tel", "Mobile phone", "Next of kin", "Guardian", "Home address",
                      "Date of birth (dd/mm/yyyy)", "Birth year", "NHS no", "Patient name", "E-mail", "DOB",
                      "National ID", "Passport number", "Insurance number", "Vorname", "Téléphone", "Prénom",
                      "Fecha de nacimiento", "Patient first name", "Emergency contact phone", "SSN", "MRN",
                      "Medicare number", "Tax file number", "Postcode", "Street address"]  # fmt: skip
OTHER_HEADERS = ["Participant ID", "Group", "Site", "Site name", "Group name", "Notes", "Pain wk2", "Visit date",
                 "HipAbd_L_0wk (lb)", "Reason", "Age", "Sex", "Contact lens", "Parent group", "Mother tongue",
                 "Treatment", "Referral date", "Body mass (kg)", "AKPS wk0", "Client", "Status"]  # fmt: skip


@given(st.sampled_from(IDENTIFIER_HEADERS), st.sampled_from([str, str.upper, str.lower, str.title]),
       st.sampled_from([" ", "_", ".", "  "]), st.sampled_from(["", " ", ":"]))  # fmt: skip
def test_identifier_headers_are_recognised_in_any_spelling(header, case, space, tail):
    assert is_identifier_header(case(header).replace(" ", space) + tail)


@pytest.mark.parametrize("header", OTHER_HEADERS)
def test_other_headers_are_not_identifiers(header):
    assert not is_identifier_header(header)


def test_a_header_that_names_something_else_does_not_hide_identifiers():
    rng = random.Random(9)
    t, _ = realistic_export(rng, 20)
    t["Notes"] = [f"call {fake('phone', rng)}" for _ in range(20)]
    t["Client"] = [fake("name", rng) for _ in range(20)]
    assert {"Notes", "Client"} <= set(identifier_columns(t))


# ---------------------------------------------------------------------------------------------
# hipkit report
# ---------------------------------------------------------------------------------------------
def test_report_refuses_a_raw_export_with_identifiers_found_by_content(tmp_path, capsys):
    rng = random.Random(31)
    t, _ = realistic_export(rng, 20)
    t["Kontakt"] = [fake("phone", rng) for _ in range(len(t))]
    raw = _write(t, tmp_path / "export.csv")
    code = main(["report", str(raw), "--out", str(tmp_path / "r.html")])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert "direct identifiers" in err and "Kontakt" in err and "--deidentify" in err
    assert not (tmp_path / "r.html").exists()


def test_report_checks_clean_tables_by_content(tmp_path):
    from hipkit.report.clinic import load_clinic_data

    rng = random.Random(41)
    t, _ = realistic_export(rng, 20)
    res = hipkit.clean(_write(t, tmp_path / "export.csv"))
    data = res.data.copy()
    data["extra"] = [fake("email", rng) for _ in range(len(data))]
    table = tmp_path / "clean.csv"
    data.to_csv(table, index=False)
    with pytest.raises(InputError, match="extra"):
        load_clinic_data(table)
    cd = load_clinic_data(table, deidentify=True, salt="s")
    assert "extra" not in cd.data.columns
    assert not set(cd.data["participant_id"]) & set(res.data["participant_id"])
