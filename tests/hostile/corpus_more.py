"""Classes 3-8 of the corpus: identifiers, injection, resources, exits, configuration, encodings."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Callable

from corpus_base import FORMULA_PAYLOADS, STD_HEADER, Case, CsvDoc, cohort, num, rng_for, sheet_of, where_line
from hostile_formats import Sheet, parquet_bytes, write_xlsx, xlsx_bytes

# -- class 3: identifiers -----------------------------------------------------------------------

GIVEN = [
    "Margaret",
    "Harold",
    "Eleanor",
    "Walter",
    "Dorothy",
    "Arthur",
    "Beatrice",
    "Clarence",
    "Josephine",
    "Reginald",
]
FAMILY = ["Quillfeather", "Wobblesworth", "Thistlewood", "Ashcombe", "Fairweather", "Pennyfeather", "Holloway"]


def nhs_number(rng: random.Random) -> str:
    """A fake NHS number with a valid mod-11 check digit, spaced 3-3-4."""
    while True:
        digits = [rng.randint(0, 9) for _ in range(9)]
        check = 11 - sum(d * w for d, w in zip(digits, range(10, 1, -1))) % 11
        check = 0 if check == 11 else check
        if check != 10:
            s = "".join(map(str, digits + [check]))
            return f"{s[:3]} {s[3:6]} {s[6:]}"


def ssn(rng: random.Random) -> str:
    area = rng.choice([n for n in range(100, 666)])
    return f"{area:03d}-{rng.randint(10, 99):02d}-{rng.randint(1000, 9999):04d}"


def fake_person(rng: random.Random) -> dict:
    first, last = rng.choice(GIVEN), rng.choice(FAMILY)
    return {
        "name": f"{first} {last}",
        "kin": f"{last}, {rng.choice(GIVEN)}",
        "email": f"{first.lower()}.{last.lower()}{rng.randint(10, 99)}@example.org",
        "phone": f"+44 7700 900{rng.randint(100, 999)}",
        "tel": f"(555) 01{rng.randint(0, 9)}-{rng.randint(1000, 9999)}",
        "dob": f"19{rng.randint(40, 79)}-0{rng.randint(1, 9)}-{rng.randint(10, 28)}",
        "dob_dmy": f"{rng.randint(13, 28)}/0{rng.randint(1, 9)}/19{rng.randint(40, 79)}",
        "ssn": ssn(rng),
        "nhs": nhs_number(rng),
    }


def cases_identifiers() -> list[Case]:
    cases = []
    rng = rng_for("identifiers")
    visits = cohort(rng, 6, weeks=(0, 2), id_fmt="HK-{:04d}-Q", first=4471)
    people = {v.pid: fake_person(rng) for v in visits}
    header = [
        "ID", "Pt name", "contact", "Tel", "Next of kin", "Notes", "", "Group", "Visit", "Side",
        "Strength (N)", "VAS (mm)", "Reason", "D.O.B.", "Tax ref",
    ]  # fmt: skip
    doc = CsvDoc()
    doc.add(header)
    lines, values, planted = [], [], []
    for v in visits:
        p = people[v.pid]
        reason = ""
        if v.week == 2 and v.side == "R":
            reason = rng.choice(
                [f"moved away; call {p['phone']}", f"contact {p['email']}", f"ask {p['kin']} ({p['tel']})", "completed"]
            )
        note = f"seen by {rng.choice(GIVEN)} {rng.choice(FAMILY)}; SSN {p['ssn']}; NHS {p['nhs']}"
        line = doc.add(
            [v.pid, p["name"], p["email"], p["tel"], p["kin"], note, p["nhs"], v.group, v.label, v.side,
             num(v.strength), str(v.vas_mm), reason, p["dob_dmy"], p["ssn"]]
        )  # fmt: skip
        lines.append(line)
        planted += [p["name"], p["email"], p["tel"], p["kin"], p["phone"], p["nhs"], p["ssn"], p["dob_dmy"], note]
        values.append({"where": where_line("export.csv", line), "values": {"hip_abd_strength_n": v.strength}})
    planted = sorted(set(planted))
    raw_ids = sorted({v.pid for v in visits})
    # One participant recorded in two groups: the log names such participants (by raw id, today).
    doc.add(["HK-9999-Q", "", "", "", "", "", "", "HIP", "Baseline", "L", "101", "20", "", "", ""])
    doc.add(["HK-9999-Q", "", "", "", "", "", "", "KNEE", "Week 2", "L", "111", "10", "", "", ""])
    lines += [doc._lines - 2, doc._lines - 1]
    raw_ids.append("HK-9999-Q")
    files = {"export.csv": doc.encode(), "salt.txt": b"corpus-salt-0123456789\n"}
    for deid in (False, True):
        cases.append(
            Case(
                "identifiers_unusual_headers" + ("_deidentify" if deid else ""),
                3,
                "names, e-mails, phones, next of kin, NHS numbers, SSNs and dates of birth under headers such as "
                "'Pt name', 'contact', 'Tel', 'Notes', '' and inside the carried Reason"
                + (", with --deidentify" if deid else ""),
                files,
                ["export.csv"],
                args=["--deidentify", "--salt-file", "salt.txt"] if deid else [],
                records={"export.csv": lines},
                values=values,
                planted=planted,
                raw_ids=raw_ids if deid else [],
            )
        )

    # The issue's own example, as a wide export.
    doc = CsvDoc()
    doc.add(["ID", "Pt name", "contact", "Group", "Pain wk0", "Pain wk2", "HipAbd_L_0wk (lb)", "Reason"])
    l1 = doc.add(["PQX-7731", "Jane Smith", "555-123-4567", "HIP", "5", "3", "30", "call jane@x.org 555-123-4567"])
    l2 = doc.add(["PQX-7732", "John Doe", "+44 7700 900123", "KNEE", "6", "4", "31", ""])
    for deid in (False, True):
        cases.append(
            Case(
                "identifiers_issue_example" + ("_deidentify" if deid else ""),
                3,
                "issue 10's example: names and phones under 'Pt name'/'contact', an e-mail and phone in Reason"
                + (", with --deidentify" if deid else ""),
                {"b.csv": doc.encode(), "salt.txt": b"corpus-salt-0123456789\n"},
                ["b.csv"],
                args=["--deidentify", "--salt-file", "salt.txt"] if deid else [],
                records={"b.csv": [l1, l2]},
                wide=["b.csv"],
                planted=["Jane Smith", "John Doe", "555-123-4567", "jane@x.org", "+44 7700 900123"],
                raw_ids=["PQX-7731", "PQX-7732"] if deid else [],
            )
        )

    rng = rng_for("identifiers_xlsx")
    visits = cohort(rng, 5, weeks=(0, 2))
    rows = [
        [
            "Participant ID",
            "Patient name",
            "Mobile phone",
            "Home address",
            "Group",
            "Visit",
            "Side",
            "Strength (N)",
            "Reason",
        ]
    ]
    planted = []
    for v in visits:
        p = fake_person(rng)
        addr = f"{rng.randint(2, 90)} {rng.choice(FAMILY)} Road, Leeds LS{rng.randint(1, 9)} {rng.randint(1, 9)}QT"
        rows.append([v.pid, p["name"], p["phone"], addr, v.group, v.label, v.side, v.strength, f"email {p['email']}"])
        planted += [p["name"], p["phone"], addr, p["email"]]
    cases.append(
        Case(
            "identifiers_xlsx",
            3,
            "identifiers in a workbook: 'Patient name', 'Mobile phone', 'Home address', an e-mail in Reason",
            {"people.xlsx": xlsx_bytes([Sheet("Sheet1", rows)])},
            ["people.xlsx"],
            records={"people.xlsx!Sheet1": list(range(2, len(rows) + 1))},
            planted=sorted(set(planted)),
        )
    )

    rng = rng_for("identifiers_parquet")
    visits = cohort(rng, 5, weeks=(0, 2))
    ps = [fake_person(rng) for _ in visits]
    cols = {
        "Participant ID": [v.pid for v in visits],
        "Client": [p["name"] for p in ps],
        "Guardian": [p["kin"] for p in ps],
        "NHS no": [p["nhs"] for p in ps],
        "Visit": [v.label for v in visits],
        "Side": [v.side for v in visits],
        "Strength (N)": [v.strength for v in visits],
        "Reason": [f"ring {p['tel']}" for p in ps],
    }
    cases.append(
        Case(
            "identifiers_parquet",
            3,
            "identifiers in a parquet export: 'Client', 'Guardian', 'NHS no', a phone in Reason",
            {"people.parquet": parquet_bytes(cols)},
            ["people.parquet"],
            records={"people.parquet": [i + 2 for i in range(len(visits))]},
            planted=sorted({p[k] for p in ps for k in ("name", "kin", "nhs", "tel")}),
        )
    )

    rng = rng_for("ids_are_names")
    visits = cohort(rng, 6, weeks=(0, 2))
    names = {}
    for v in visits:
        names.setdefault(v.pid, f"{rng.choice(GIVEN)} {rng.choice(FAMILY)}")
    doc = CsvDoc()
    doc.add(["Patient", "Group", "Visit", "Side", "Strength (N)"])
    lines = [doc.add([names[v.pid], v.group, v.label, v.side, num(v.strength)]) for v in visits]
    files = {"names.csv": doc.encode(), "salt.txt": b"corpus-salt-0123456789\n"}
    cases.append(
        Case(
            "ids_are_names",
            3,
            "the id column ('Patient') holds names: refused without --deidentify",
            files,
            ["names.csv"],
            expect="refuse",
            mentions=["Patient"],
            planted=sorted(set(names.values())),
        )
    )
    cases.append(
        Case(
            "ids_are_names_deidentify",
            3,
            "the id column holds names, with --deidentify: hashed ids, no name anywhere",
            files,
            ["names.csv"],
            args=["--deidentify", "--salt-file", "salt.txt"],
            records={"names.csv": lines},
            id_pattern=r"^P[0-9A-F]{12}$",
            planted=sorted(set(names.values())),
            raw_ids=sorted(set(names.values())),
        )
    )
    return cases


# -- class 4: injection -------------------------------------------------------------------------


def cases_injection() -> list[Case]:
    cases = []
    rng = rng_for("formula_payloads")
    visits = cohort(rng, 8, weeks=(0, 2))
    header = [*STD_HEADER, "Reason", "=cmd|' /C calc'!A0"]
    doc = CsvDoc()
    doc.add(header)
    lines = []
    for i, v in enumerate(visits):
        p = FORMULA_PAYLOADS[i % len(FORMULA_PAYLOADS)]
        row = v.row()
        if v.side == "L" and v.week == 0:
            row[0] = p + f"{i}"  # an id (a participant of its own)
        if i % 4 == 1:
            row[1] = p  # group
        if i % 4 == 2:
            row[2] = p  # site
        if i % 8 == 3:
            row[6] = p  # a measure cell
        if i == 5:
            row[3] = p  # a visit label (unreadable: quarantined with its raw value)
        lines.append(doc.add([*row, p, p]))
    files = {"export.csv": doc.encode()}
    cases.append(
        Case(
            "formula_payloads_csv",
            4,
            "=HYPERLINK, @SUM, +1+1, -1+1, \\t=1, =cmd|... in ids, groups, sites, reasons, visit labels, measures",
            files,
            ["export.csv"],
            records={"export.csv": lines},
            formulas=True,
        )
    )
    rows = [header]
    for i, v in enumerate(visits):
        p = FORMULA_PAYLOADS[i % len(FORMULA_PAYLOADS)]
        rows.append([p + str(i), p, p, v.label, v.date, v.side, v.strength if i % 3 else p, v.vas_mm, p, p])
    cases.append(
        Case(
            "formula_payloads_xlsx",
            4,
            "formula-like text cells in a workbook (ids, groups, sites, reasons, measures)",
            {"export.xlsx": xlsx_bytes([Sheet("Sheet1", rows)])},
            ["export.xlsx"],
            records={"export.xlsx!Sheet1": list(range(2, len(rows) + 1))},
            formulas=True,
        )
    )
    return cases


# -- class 5: resource exhaustion ---------------------------------------------------------------


def _bomb_book(path: Path) -> None:
    visits = cohort(rng_for("xlsx_zip_bomb"), 2, weeks=(0,))
    row = b"<row>" + b'<c t="inlineStr"><is><t>P1</t></is></c>' * 8 + b"</row>"
    write_xlsx(path, [Sheet("Sheet1", sheet_of(visits))], bomb=(0, row))


def _many_members(path: Path) -> None:
    visits = cohort(rng_for("xlsx_many_members"), 1, weeks=(0,))
    sheets = [Sheet(f"S{i}", sheet_of(visits)) for i in range(5000)]
    write_xlsx(path, sheets, extra_members=[(f"xl/media/image{i}.bin", b"\0") for i in range(5000)])


def _far_cell(path: Path) -> None:
    visits = cohort(rng_for("xlsx_far_cell"), 2, weeks=(0,))
    write_xlsx(path, [Sheet("Sheet1", sheet_of(visits), dimension="A1:XFD1048576", extra_cells=[("XFD1048576", "x")])])


def _big_field(size: int) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        visits = cohort(rng_for(f"field_{size}"), 3, weeks=(0,))
        with open(path, "w", encoding="utf-8", newline="") as fh:
            fh.write(",".join([*STD_HEADER, "Notes"]) + "\n")
            for i, v in enumerate(visits):
                fh.write(",".join(v.row()) + ",")
                if i == 1:
                    chunk = "y" * (1 << 20)
                    for _ in range(size >> 20):
                        fh.write(chunk)
                else:
                    fh.write("ok")
                fh.write("\n")

    return write


def _laughs(levels: int = 9, width: int = 10) -> str:
    """A flow sequence of nested aliases: ``&a0 [lol x10], &a1 [*a0 x10], ...``: 10**levels strings."""
    items = ["&a0 [" + ",".join(["lol"] * width) + "]"]
    for k in range(1, levels + 1):
        items.append(f"&a{k} [" + ",".join([f"*a{k - 1}"] * width) + "]")
    return "[" + ", ".join(items) + "]"


def cases_resources() -> list[Case]:
    cases = []
    base = cohort(rng_for("resources"), 3, weeks=(0,))
    doc = CsvDoc()
    doc.add(STD_HEADER)
    for v in base:
        doc.add(v.row())
    export = doc.encode()
    common = dict(expect="refuse", resource=True)
    cases.append(
        Case(
            "xlsx_zip_bomb",
            5,
            "an xlsx whose sheet inflates to 600 MiB (4 MB on disk)",
            {"bomb.xlsx": _bomb_book},
            ["bomb.xlsx"],
            mentions=["bomb.xlsx"],
            **common,
        )
    )
    cases.append(
        Case(
            "xlsx_many_members",
            5,
            "an xlsx of 10,000 members (5,000 sheets)",
            {"many.xlsx": _many_members},
            ["many.xlsx"],
            mentions=["many.xlsx"],
            **common,
        )
    )
    cases.append(
        Case(
            "xlsx_far_cell",
            5,
            "an xlsx declaring A1:XFD1048576 with one cell at XFD1048576 (a sparse sheet 17 billion cells wide)",
            {"far.xlsx": _far_cell},
            ["far.xlsx"],
            expect="either",
            resource=True,
            # Four records in rows 2-5, and the far cell's row: a record holding one value, no id.
            records={"far.xlsx!Sheet1": [2, 3, 4, 5, 1048576]},
            values=[
                {"where": where_line("far.xlsx!Sheet1", i + 2), "values": v.expected()}
                for i, v in enumerate(cohort(rng_for("xlsx_far_cell"), 2, weeks=(0,)))
            ],
        )
    )
    cases.append(
        Case(
            "csv_field_50mb",
            5,
            "a CSV with a 50 MB field",
            {"export.csv": _big_field(50 << 20)},
            ["export.csv"],
            mentions=["export.csv"],
            **common,
        )
    )
    laughs = _laughs()
    deep = "[" * 5000 + "]" * 5000
    for kind, flag, text in (
        ("map_billion_laughs", "--map", f"values:\n  sex: {{f: {laughs}}}\n"),
        (
            "measures_billion_laughs",
            "--measures",
            f"measures:\n  - {{name: hop_cm, unit: cm, range: [0, 300], aliases: {laughs}}}\n",
        ),
        ("map_deep_nesting", "--map", "columns:\n  a: " + "{b: " * 5000 + "1" + "}" * 5000 + "\n"),
        ("measures_deep_nesting", "--measures", f"measures: {deep}\n"),
    ):
        cases.append(
            Case(
                kind,
                5,
                f"a {flag} YAML with "
                + ("nested aliases (10^9 strings)" if "laughs" in kind else "5,000 levels of nesting"),
                {"export.csv": export, "config.yml": text.encode()},
                ["export.csv"],
                args=[flag, "config.yml"],
                mentions=["config.yml"],
                **common,
            )
        )
    return cases


# -- class 6: wrong exits -----------------------------------------------------------------------


def cases_exits() -> list[Case]:
    base = cohort(rng_for("exits"), 3, weeks=(0, 2))
    doc = CsvDoc()
    doc.add(STD_HEADER)
    for v in base:
        doc.add(v.row())
    export = doc.encode()
    return [
        Case(
            "window_negative",
            6,
            "--window -3",
            {"export.csv": export},
            ["export.csv"],
            args=["--window", "-3"],
            expect="refuse",
            mentions=["window"],
        ),
        Case(
            "partitions_negative",
            6,
            "--out-of-core --partitions -1",
            {"export.csv": export},
            ["export.csv"],
            args=["--partitions", "-1"],
            modes=("ooc",),
            expect="refuse",
            mentions=["partitions"],
        ),
        Case(
            "schedule_without_baseline",
            6,
            "--schedule 2,4",
            {"export.csv": export},
            ["export.csv"],
            args=["--schedule", "2,4"],
            expect="refuse",
            mentions=["schedule|baseline|week 0"],
        ),
        Case(
            "input_missing",
            6,
            "an input that does not exist",
            {"export.csv": export},
            ["export.csv", "absent.csv"],
            expect="refuse",
            mentions=["absent.csv"],
        ),
        Case(
            "input_is_folder",
            6,
            "an input that is a folder",
            {"export.csv": export, "folder.csv/.keep": b""},
            ["export.csv", "folder.csv"],
            expect="refuse",
            mentions=["folder.csv"],
        ),
    ]


# -- class 7: configuration typos ---------------------------------------------------------------

MEASURE_KEYS = [
    "name",
    "label",
    "kind",
    "unit",
    "units",
    "range",
    "direction",
    "per_side",
    "aliases",
    "mcid",
    "mdc",
    "sem",
]
TOP_KEYS = ["measures", "covariates", "keys", "identifiers"]
MAP_SECTIONS = ["columns", "visits", "values", "date_format"]
MAP_COLUMN_KEYS = ["measure", "unit", "visit", "side"]

GOOD_MEASURE = {
    "name": "hop_distance_cm",
    "label": "Single-leg hop distance",
    "kind": "outcome",
    "unit": "cm",
    "units": "{cm: 1, m: 100}",
    "range": "[0, 300]",
    "direction": "higher_better",
    "per_side": "true",
    "aliases": "[hop, single leg hop]",
    "mcid": "{value: 10, source: made up}",
    "mdc": "{value: 12, source: made up}",
    "sem": "{value: 4, source: made up}",
}


def typo(word: str, rng: random.Random, valid: set[str]) -> str:
    """A deletion, an adjacent swap or a doubled letter of ``word`` that is not a valid key."""
    for _ in range(100):
        kind = rng.choice(["delete", "swap", "double"])
        i = rng.randrange(len(word) - 1)
        if kind == "delete":
            out = word[:i] + word[i + 1 :]
        elif kind == "swap":
            out = word[:i] + word[i + 1] + word[i] + word[i + 2 :]
        else:
            out = word[:i] + word[i] + word[i:]
        if out != word and out not in valid and out.strip("_"):
            return out
    raise AssertionError(word)


def _measure_yaml(entries: dict[str, str], top: str = "measures") -> bytes:
    body = "\n".join(f"    {k}: {v}" for k, v in entries.items())
    return f"{top}:\n  - {body.strip()}\n".encode()


def cases_config() -> list[Case]:
    cases = []
    rng = rng_for("config")
    doc = CsvDoc()
    doc.add(["Participant ID", "Visit", "Side", "Hop (cm)", "Strength (N)"])
    for v in cohort(rng, 3, weeks=(0, 2)):
        doc.add([v.pid, v.label, v.side, str(rng.randint(50, 200)), num(v.strength)])
    export = doc.encode()
    cases.append(
        Case(
            "measures_valid_control",
            7,
            "control: the valid measure file the typo cases below start from (cleans)",
            {"export.csv": export, "my.yml": _measure_yaml(GOOD_MEASURE)},
            ["export.csv"],
            args=["--measures", "my.yml"],
            records={"export.csv": list(range(2, 14))},
        )
    )
    typos = [("mcid", "mcdi")] + [(k, typo(k, rng, set(MEASURE_KEYS))) for k in MEASURE_KEYS]
    for key, bad in typos:
        entries = {(bad if k == key else k): v for k, v in GOOD_MEASURE.items()}
        cases.append(
            Case(
                f"measures_typo_{key}_{bad}",
                7,
                f"a measure file with '{bad}:' for '{key}:'",
                {"export.csv": export, "my.yml": _measure_yaml(entries)},
                ["export.csv"],
                args=["--measures", "my.yml"],
                expect="refuse",
                mentions=[rf"\b{bad}\b"],
            )
        )
    nested = dict(GOOD_MEASURE, mcid="{valeu: 10, source: made up}")
    cases.append(
        Case(
            "measures_typo_mcid_valeu",
            7,
            "a measure file with mcid: {valeu: ...}",
            {"export.csv": export, "my.yml": _measure_yaml(nested)},
            ["export.csv"],
            args=["--measures", "my.yml"],
            expect="refuse",
            mentions=[r"\bvaleu\b"],
        )
    )
    for top in TOP_KEYS:
        bad = typo(top, rng, set(TOP_KEYS) | {"categories", "missing_tokens", "baseline_labels"})
        cases.append(
            Case(
                f"measures_top_typo_{bad}",
                7,
                f"a measure file whose top-level '{top}:' is spelled '{bad}:'",
                {
                    "export.csv": export,
                    "my.yml": _measure_yaml(GOOD_MEASURE, top=bad)
                    if top in ("measures", "covariates")
                    else _measure_yaml(GOOD_MEASURE) + f"{bad}: {{}}\n".encode(),
                },
                ["export.csv"],
                args=["--measures", "my.yml"],
                expect="refuse",
                mentions=[rf"\b{bad}\b"],
            )
        )
    good_map = {
        "columns": '\n  "Hop (cm)": {measure: hop_distance_cm, unit: cm}\n  "Strength (N)": hip_abd_strength_n',
        "visits": '\n  "Baseline": 0',
        "values": "\n  sex: {f: female}",
        "date_format": '"%Y-%m-%d"',
    }
    hop = _measure_yaml(GOOD_MEASURE)
    cases.append(
        Case(
            "map_valid_control",
            7,
            "control: the valid mapping file the section typo cases below start from (cleans)",
            {
                "export.csv": export,
                "map.yml": ("\n".join(f"{k}: {v}" for k, v in good_map.items()) + "\n").encode(),
                "my.yml": hop,
            },
            ["export.csv"],
            args=["--map", "map.yml", "--measures", "my.yml"],
            records={"export.csv": list(range(2, 14))},
        )
    )
    for sec in MAP_SECTIONS:
        bad = typo(sec, rng, set(MAP_SECTIONS))
        text = "\n".join(f"{bad if k == sec else k}: {v}" for k, v in good_map.items()) + "\n"
        cases.append(
            Case(
                f"map_typo_{bad}",
                7,
                f"a mapping file with '{bad}:' for '{sec}:'",
                {"export.csv": export, "map.yml": text.encode(), "my.yml": hop},
                ["export.csv"],
                args=["--map", "map.yml", "--measures", "my.yml"],
                expect="refuse",
                mentions=[rf"\b{bad}\b"],
            )
        )
    wide = CsvDoc()
    wide.add(["Participant ID", "Force A", "Force B"])
    for i in range(4):
        wide.add([f"F{i}", num(rng.uniform(80, 300)), num(rng.uniform(8, 30))])
    spec_a = {"measure": "hip_abd_strength_n", "unit": "N", "visit": "0", "side": "left"}
    spec_b = '"Force B": {measure: hip_abd_strength_n, unit: kgf, visit: 2, side: right}'

    def column_map(spec: dict) -> bytes:
        return (
            'columns:\n  "Force A": {' + ", ".join(f"{k}: {v}" for k, v in spec.items()) + "}\n  " + spec_b + "\n"
        ).encode()

    cases.append(
        Case(
            "map_column_valid_control",
            7,
            "control: a valid column spec for the typo cases below (cleans)",
            {"export.csv": wide.encode(), "map.yml": column_map(spec_a)},
            ["export.csv"],
            args=["--map", "map.yml"],
            records={"export.csv": [2, 3, 4, 5]},
            wide=["export.csv"],
        )
    )
    for key in MAP_COLUMN_KEYS:
        bad = typo(key, rng, set(MAP_COLUMN_KEYS) | {"target", "key"})
        spec = {(bad if k == key else k): v for k, v in spec_a.items()}
        cases.append(
            Case(
                f"map_column_typo_{bad}",
                7,
                f"a mapping file whose column spec says '{bad}:' for '{key}:'",
                {"export.csv": wide.encode(), "map.yml": column_map(spec)},
                ["export.csv"],
                args=["--map", "map.yml"],
                expect="refuse",
                mentions=[rf"\b{bad}\b"],
            )
        )
    return cases


# -- class 8: encodings -------------------------------------------------------------------------


def _text_export(name: str, group: str, site: str, reason: str) -> tuple[CsvDoc, list[int], list[dict], str]:
    visits = cohort(rng_for(name), 8, weeks=(0, 2), groups=(group,), sites=(site,))
    doc = CsvDoc()
    doc.add([*STD_HEADER, "Reason"])
    lines, values = [], []
    for v in visits:
        line = doc.add([*v.row(), reason])
        lines.append(line)
        values.append({"where": where_line(f"{name}.csv", line), "values": v.expected(discharge_reason=reason)})
    return doc, lines, values, f"{name}.csv"


ENCODINGS = [
    ("enc_utf8", "utf-8", b"", "Hüfte-Kräftigung", "Genève", "déménagé", ["utf-8", "utf-8-sig", "ascii"]),
    ("enc_utf8_bom", "utf-8", b"\xef\xbb\xbf", "Hüfte-Kräftigung", "Genève", "déménagé", ["utf-8", "utf-8-sig"]),
    ("enc_utf16le_bom", "utf-16-le", b"\xff\xfe", "Hüfte-Kräftigung", "Genève", "déménagé", ["utf-16", "utf-16-le"]),
    ("enc_utf16be_bom", "utf-16-be", b"\xfe\xff", "Hüfte-Kräftigung", "Genève", "déménagé", ["utf-16", "utf-16-be"]),
    ("enc_cp1252", "cp1252", b"", "Hanche – Récupération", "Genève “Ouest”", "déménagé €", ["cp1252"]),
    (
        "enc_latin1",
        "latin-1",
        b"",
        "Cadera Año",
        "Córdoba",
        "mudó de ciudad; reubicación",
        ["latin-1", "cp1252", "iso8859-15"],
    ),
    (
        "enc_shift_jis",
        "shift_jis",
        b"",
        "股関節強化グループ",
        "東京クリニック",
        "転居のため通院終了",
        ["shift_jis", "cp932", "shift_jis_2004", "shift_jisx0213"],
    ),
    ("enc_gb18030", "gb18030", b"", "髋关节强化组", "北京诊所", "因搬家而停止就诊", ["gb18030", "gbk", "gb2312"]),
]


def cases_encodings() -> list[Case]:
    cases = []
    for name, enc, bom, group, site, reason, accept in ENCODINGS:
        doc, lines, values, origin = _text_export(name, group, site, reason)
        cases.append(
            Case(
                name,
                8,
                f"{enc}{' with BOM' if bom else ''}: group {group!r} comes out right",
                {origin: doc.encode(enc, bom)},
                [origin],
                records={origin: lines},
                values=values,
                encoding={"file": origin, "accept": accept, "low_confidence": False},
            )
        )
    name = "enc_mixed_utf8_cp1252"
    doc, lines, values, origin = _text_export(name, "Hüfte-Kräftigung", "Genève", "déménagé")
    text = doc.text.split("\n")
    # Lines 2-4 re-encoded in cp1252: a file pasted together from two exports.
    body = b"\n".join(t.encode("cp1252") if 2 <= i + 1 <= 4 else t.encode("utf-8") for i, t in enumerate(text))
    values = [v for v in values if v["where"]["source_line"] > 4]
    cases.append(
        Case(
            name,
            8,
            "a UTF-8 file with three lines in cp1252: a low-confidence warning, the UTF-8 text right",
            {origin: body},
            [origin],
            records={origin: lines},
            values=values,
            encoding={"file": origin, "accept": None, "low_confidence": True},
        )
    )
    return cases
