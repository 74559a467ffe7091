"""Class 1 of the corpus: inputs where records could be lost without a word."""

from __future__ import annotations

from datetime import date
from typing import Callable

from corpus_base import (
    SIDES,
    STD_HEADER,
    Case,
    CsvDoc,
    FileContent,
    Visit,
    cohort,
    long_csv,
    num,
    rng_for,
    sheet_of,
    where_line,
)
from hostile_formats import ExcelDate, Formula, Raw, Sheet, xlsx_bytes

# -- class 1: silent record loss ----------------------------------------------------------------


def _quote_damage(position: str, quoted: bool) -> Callable[[CsvDoc, Visit], int]:
    """A record with one unbalanced quote in its first, a middle, or its last field."""
    field_index = {"start": 0, "middle": 1, "end": 7}[position]

    def write(doc: CsvDoc, v: Visit) -> int:
        fields = [doc.quote(x) for x in v.row()]
        text = fields[field_index]
        fields[field_index] = '"' + text if quoted else text[: len(text) // 2 or 1] + '"' + text[len(text) // 2 or 1 :]
        return doc.add(Raw(doc.delimiter.join(fields)))

    return write


def cases_record_loss() -> list[Case]:
    cases = []
    for position in ("start", "middle", "end"):
        for quoted in (True, False):
            name = f"quote_unbalanced_{position}_{'quoted' if quoted else 'unquoted'}"
            rng = rng_for(name)
            visits = cohort(rng, 6, weeks=(0, 2))
            k = 9
            doc, lines, values = long_csv(visits, "export.csv", damage={k: _quote_damage(position, quoted)})
            cases.append(
                Case(
                    name,
                    1,
                    f"one unbalanced quote at the {position} of a {'quoted' if quoted else 'unquoted'} field; "
                    "the following lines must be read normally",
                    {"export.csv": doc.encode()},
                    ["export.csv"],
                    expect="either",
                    mentions=[rf"\b{lines[k]}\b"],
                    records={"export.csv": lines},
                    values=values,
                    quarantine=(
                        [{"source_file": "export.csv", "source_line": lines[k], "reason": "malformed_line"}]
                        if quoted
                        else []
                    ),
                )
            )
    # An unbalanced quote followed, lines later, by a legitimately quoted field: a parser that
    # resynchronises on the next quote swallows the lines in between and misreads the rest.
    name = "quote_unbalanced_then_quoted_field"
    visits = cohort(rng_for(name), 6, weeks=(0, 2))
    for v in visits[15:]:
        v.group = "HIP, group A"
    doc, lines, values = long_csv(visits, "export.csv", damage={5: _quote_damage("middle", True)})
    cases.append(
        Case(
            name,
            1,
            "an unbalanced quote, then a quoted field with a comma ten lines later",
            {"export.csv": doc.encode()},
            ["export.csv"],
            expect="either",
            mentions=[rf"\b{lines[5]}\b"],
            records={"export.csv": lines},
            values=values,
            quarantine=[{"source_file": "export.csv", "source_line": lines[5], "reason": "malformed_line"}],
        )
    )

    name = "ragged_too_many_fields"
    visits = cohort(rng_for(name), 6, weeks=(0, 2))
    bad = (3, 11, 20)

    def extra_fields(doc: CsvDoc, v: Visit) -> int:
        return doc.add([*v.row(), "surplus", "99"])

    doc, lines, values = long_csv(visits, "export.csv", damage={i: extra_fields for i in bad})
    cases.append(
        Case(
            name,
            1,
            "three lines with more fields than the header",
            {"export.csv": doc.encode()},
            ["export.csv"],
            expect="either",
            mentions=[rf"\b{lines[bad[0]]}\b"],
            records={"export.csv": lines},
            values=values,
            quarantine=[
                {
                    "source_file": "export.csv",
                    "source_line": lines[i],
                    "reason": "malformed_line",
                    "action": "row_removed",
                }
                for i in bad
            ],
        )
    )

    name = "ragged_extra_empty_fields"
    visits = cohort(rng_for(name), 6, weeks=(0, 2))

    def empty_fields(doc: CsvDoc, v: Visit) -> int:
        return doc.add([*v.row(), "", ""])

    doc, lines, values = long_csv(visits, "export.csv", damage={i: empty_fields for i in (2, 7, 19)})
    for i in (2, 7, 19):
        values.append({"where": where_line("export.csv", lines[i]), "values": visits[i].expected()})
    cases.append(
        Case(
            name,
            1,
            "three lines ending in extra empty fields (nothing lost: they are read as the header's fields)",
            {"export.csv": doc.encode()},
            ["export.csv"],
            records={"export.csv": lines},
            values=values,
        )
    )

    name = "ragged_too_few_fields"
    visits = cohort(rng_for(name), 6, weeks=(0, 2))
    short = (4, 13, 22)

    def fewer(doc: CsvDoc, v: Visit) -> int:
        return doc.add(v.row()[:-1])

    doc, lines, values = long_csv(visits, "export.csv", damage={i: fewer for i in short})
    cases.append(
        Case(
            name,
            1,
            "three lines missing their last field",
            {"export.csv": doc.encode()},
            ["export.csv"],
            expect="either",
            mentions=[rf"\b{lines[short[0]]}\b"],
            records={"export.csv": lines},
            values=values,
        )
    )

    name = "duplicates_3840_lines"
    rng = rng_for(name)
    unique = cohort(rng, 137)  # 137 x 4 visits x 2 sides = 1,096 records
    copies = [rng.choice(unique) for _ in range(2744)]
    allrows = unique + copies
    rng.shuffle(allrows)
    doc = CsvDoc()
    doc.add(STD_HEADER)
    lines = [doc.add(v.row()) for v in allrows]
    sample = rng.sample(unique, 120)
    values = [
        {
            "where": {"participant_id": v.pid, "visit_week": v.week, "side": SIDES[v.side]},
            "values": v.expected(),
        }
        for v in sample
    ]
    cases.append(
        Case(
            name,
            1,
            "3,840 lines of which 2,744 are exact copies of another line",
            {"export.csv": doc.encode()},
            ["export.csv"],
            records={"export.csv": lines},
            values=values,
            rows={"duplicates_removed": 2744, "out": 1096},
        )
    )

    name = "complementary_two_files"
    rng = rng_for(name)
    visits = cohort(rng, 10, weeks=(0, 2))
    a, b = CsvDoc(), CsvDoc()
    a.add(["Participant ID", "Group", "Visit", "Visit date", "Side", "Strength (N)"])
    b.add(["Participant ID", "Visit", "Visit date", "Side", "VAS (mm)"])
    la = [a.add([v.pid, v.group, v.label, v.date, v.side, num(v.strength)]) for v in visits]
    lb = [b.add([v.pid, v.label, v.date, v.side, str(v.vas_mm)]) for v in visits]
    values = [
        {
            "where": {"participant_id": v.pid, "visit_week": v.week, "side": SIDES[v.side]},
            "values": {"hip_abd_strength_n": v.strength, "pain_vas": v.vas_mm / 10, "group": v.group},
        }
        for v in visits
    ]
    cases.append(
        Case(
            name,
            1,
            "strength in one file, pain in another, for the same participants, visits and sides",
            {"strength.csv": a.encode(), "pain.csv": b.encode()},
            ["strength.csv", "pain.csv"],
            records={"strength.csv": la, "pain.csv": lb},
            values=values,
            rows={"out": len(visits)},
        )
    )

    cases += cases_excel_sheets()
    cases += cases_outputs_are_inputs()
    cases += cases_line_structure()
    return cases


def _sheet_records(book: str, sheet: str, visits: list[Visit]) -> tuple[str, list[int], list[dict]]:
    origin = f"{book}!{sheet}"
    lines = list(range(2, len(visits) + 2))
    values = [{"where": where_line(origin, ln), "values": v.expected()} for ln, v in zip(lines, visits)]
    return origin, lines, values


def cases_excel_sheets() -> list[Case]:
    cases = []
    name = "xlsx_two_sheets"
    rng = rng_for(name)
    base = cohort(rng, 6, weeks=(0,))
    follow = cohort(rng, 6, weeks=(2, 4))
    o1, l1, v1 = _sheet_records("visits.xlsx", "Baseline", base)
    o2, l2, v2 = _sheet_records("visits.xlsx", "Follow-up", follow)
    cases.append(
        Case(
            name,
            1,
            "a workbook with two sheets of data (every sheet that holds data is read)",
            {"visits.xlsx": xlsx_bytes([Sheet("Baseline", sheet_of(base)), Sheet("Follow-up", sheet_of(follow))])},
            ["visits.xlsx"],
            records={o1: l1, o2: l2},
            values=v1 + v2,
        )
    )

    name = "xlsx_three_sheets_hidden_empty"
    rng = rng_for(name)
    a = cohort(rng, 5, weeks=(0, 2))
    h = cohort(rng, 5, weeks=(0, 2), first=6)
    oa, la, va = _sheet_records("clinic.xlsx", "Clinic A", a)
    oh, lh, vh = _sheet_records("clinic.xlsx", "Archive", h)
    cases.append(
        Case(
            name,
            1,
            "a workbook with three sheets: one of data, one hidden with data, one empty",
            {
                "clinic.xlsx": xlsx_bytes(
                    [Sheet("Clinic A", sheet_of(a)), Sheet("Archive", sheet_of(h), state="hidden"), Sheet("Empty")]
                )
            },
            ["clinic.xlsx"],
            records={oa: la, oh: lh},
            values=va + vh,
        )
    )

    name = "xlsx_sheet_option"
    rng = rng_for(name)
    base = cohort(rng, 5, weeks=(0,))
    follow = cohort(rng, 5, weeks=(2,))
    o2, l2, v2 = _sheet_records("visits.xlsx", "Follow-up", follow)
    cases.append(
        Case(
            name,
            1,
            "--sheet NAME reads that sheet only",
            {"visits.xlsx": xlsx_bytes([Sheet("Baseline", sheet_of(base)), Sheet("Follow-up", sheet_of(follow))])},
            ["visits.xlsx"],
            args=["--sheet", "Follow-up"],
            records={o2: l2},
            values=v2,
        )
    )

    name = "xlsx_sheet_missing"
    base = cohort(rng_for(name), 4, weeks=(0,))
    cases.append(
        Case(
            name,
            6,
            "--sheet naming a sheet the workbook does not have",
            {"visits.xlsx": xlsx_bytes([Sheet("Baseline", sheet_of(base))])},
            ["visits.xlsx"],
            args=["--sheet", "Week 9"],
            expect="refuse",
            mentions=["Week 9"],
        )
    )

    name = "xlsx_formula_cached"
    rng = rng_for(name)
    visits = cohort(rng, 5, weeks=(0, 2))
    rows = sheet_of(visits)
    for i in (1, 4, 7):
        s = visits[i - 1].strength
        rows[i][6] = Formula(f"100+{s - 100:.1f}", s)
    o, lines, values = _sheet_records("formulas.xlsx", "Sheet1", visits)
    cases.append(
        Case(
            name,
            1,
            "strength cells that are formulas with cached values (the cached value is the value)",
            {"formulas.xlsx": xlsx_bytes([Sheet("Sheet1", rows)])},
            ["formulas.xlsx"],
            records={o: lines},
            values=values,
        )
    )

    name = "xlsx_formula_uncached"
    rng = rng_for(name)
    visits = cohort(rng, 5, weeks=(0, 2))
    rows = sheet_of(visits)
    uncached = (2, 6, 9)
    for i in uncached:
        rows[i][6] = Formula(f"B{i + 1}*2")
    o, lines, values = _sheet_records("formulas.xlsx", "Sheet1", visits)
    values = [v for v in values if v["where"]["source_line"] - 1 not in uncached]
    cases.append(
        Case(
            name,
            1,
            "strength cells that are formulas never calculated (no cached value): quarantined, not blank",
            {"formulas.xlsx": xlsx_bytes([Sheet("Sheet1", rows)])},
            ["formulas.xlsx"],
            records={o: lines},
            values=values,
            quarantine=[{"source_file": o, "source_line": i + 1, "reason": "formula_without_value"} for i in uncached],
        )
    )

    name = "xlsx_serial_dates_numeric_cells"
    rng = rng_for(name)
    visits = cohort(rng, 5, weeks=(0, 2))
    rows = [STD_HEADER]
    for v in visits:
        serial = (date.fromisoformat(v.date) - date(1899, 12, 30)).days
        rows.append([v.pid, v.group, v.site, v.label, ExcelDate(serial), v.side, v.strength, v.vas_mm])
    o, lines, values = _sheet_records("dates.xlsx", "Sheet1", visits)
    for val, v in zip(values, visits):
        val["values"]["visit_date"] = v.date
    cases.append(
        Case(
            name,
            2,
            "Excel serial dates and numeric cells",
            {"dates.xlsx": xlsx_bytes([Sheet("Sheet1", rows)])},
            ["dates.xlsx"],
            records={o: lines},
            values=values,
        )
    )
    return cases


def cases_outputs_are_inputs() -> list[Case]:
    cases = []
    visits = cohort(rng_for("outputs"), 4, weeks=(0, 2))
    doc = CsvDoc()
    doc.add(STD_HEADER)
    for v in visits:
        doc.add(v.row())
    raw = doc.encode()
    variants = [
        ("out_is_input_same_path", {"out": "export.csv"}, []),
        ("out_is_input_dot_slash", {"out": "./export.csv"}, []),
        ("out_is_input_dotdot", {"out": "sub/../export.csv"}, []),
        ("out_is_input_symlink", {"out": "link.csv"}, [("link.csv", "export.csv", "symlink")]),
        ("out_is_input_hardlink", {"out": "hard.csv"}, [("hard.csv", "export.csv", "hardlink")]),
        ("quarantine_is_input", {"quarantine": "export.csv"}, []),
        ("quarantine_is_input_symlink", {"quarantine": "q_link.csv"}, [("q_link.csv", "export.csv", "symlink")]),
        ("log_is_input", {"log": "export.csv"}, []),
        ("log_is_input_hardlink", {"log": "log.json"}, [("log.json", "export.csv", "hardlink")]),
    ]
    for name, outputs, links in variants:
        files: dict[str, FileContent] = {"export.csv": raw}
        if "sub/" in str(outputs.values()):
            files["sub/.keep"] = b""
        cases.append(
            Case(
                name,
                1,
                f"{'/'.join('--' + k for k in outputs)} names the input ({', '.join(outputs.values())})",
                files,
                ["export.csv"],
                outputs=outputs,
                modes=("mem",),
                expect="refuse",
                mentions=["export.csv|input"],
                links=links,
            )
        )
    cases.append(
        Case(
            "out_is_second_input",
            1,
            "--out names the second of two inputs",
            {"export.csv": raw, "more.csv": raw.replace(b"P00", b"Q00")},
            ["export.csv", "more.csv"],
            outputs={"out": "more.csv"},
            modes=("mem",),
            expect="refuse",
            mentions=["more.csv|input"],
        )
    )
    cases.append(
        Case(
            "out_equals_quarantine",
            6,
            "--out and --quarantine name the same file",
            {"export.csv": raw},
            ["export.csv"],
            outputs={"out": "same.csv", "quarantine": "same.csv"},
            modes=("mem",),
            expect="refuse",
            mentions=["same.csv"],
        )
    )
    cases.append(
        Case(
            "ooc_out_is_input_symlink",
            1,
            "--out-of-core with --out a link (no suffix) to the input",
            {"export.csv": raw},
            ["export.csv"],
            outputs={"out": "folderlink"},
            modes=("ooc",),
            expect="refuse",
            mentions=["folderlink|export.csv|input"],
            links=[("folderlink", "export.csv", "symlink")],
        )
    )
    # A refusal leaves outputs from an earlier run as they were (they are listed as files of the
    # case, so the raw-file test compares their SHA-256 too).
    previous = {"out_clean.csv": b"participant_id,visit_week\nP1,0\n", "out_log.json": b"{}\n"}
    cases.append(
        Case(
            "refusal_keeps_earlier_outputs",
            6,
            "an unreadable input where --out and --log already hold an earlier run's files",
            {"export.csv": b"\x00\x01binary", **previous},
            ["export.csv"],
            modes=("mem",),
            expect="refuse",
            mentions=["export.csv"],
        )
    )
    cases.append(
        Case(
            "ooc_refusal_keeps_earlier_outputs",
            6,
            "--out-of-core on an unreadable input, into a folder holding an earlier run's log",
            {"export.csv": b"\x00\x01binary", "out_folder/log.json": b"{}\n"},
            ["export.csv"],
            modes=("ooc",),
            expect="refuse",
        )
    )
    cases.append(
        Case(
            "out_is_a_folder",
            6,
            "--out names an existing folder (ending in .csv)",
            {"export.csv": raw, "taken.csv/.keep": b""},
            ["export.csv"],
            outputs={"out": "taken.csv"},
            modes=("mem",),
            expect="refuse",
            mentions=["taken.csv"],
        )
    )
    cases.append(
        Case(
            "out_parent_is_a_file",
            6,
            "--out inside a 'folder' that is a file",
            {"export.csv": raw, "notes.txt": b"not a folder\n"},
            ["export.csv"],
            outputs={"out": "notes.txt/clean.csv", "quarantine": "notes.txt/q.csv", "log": "notes.txt/log.json"},
            modes=("mem",),
            expect="refuse",
            mentions=["notes.txt"],
        )
    )
    cases.append(
        Case(
            "ooc_out_parent_is_a_file",
            6,
            "--out-of-core with --out inside a 'folder' that is a file",
            {"export.csv": raw, "notes.txt": b"not a folder\n"},
            ["export.csv"],
            outputs={"out": "notes.txt/clean"},
            modes=("ooc",),
            expect="refuse",
            mentions=["notes.txt"],
        )
    )
    cases.append(
        Case(
            "read_only_output_folder",
            6,
            "--out, --quarantine and --log in a read-only folder",
            {"export.csv": raw, "ro/.keep": b""},
            ["export.csv"],
            outputs={"out": "ro/clean.csv", "quarantine": "ro/q.csv", "log": "ro/log.json"},
            modes=("mem",),
            expect="refuse",
            mentions=["ro"],
            readonly=["ro"],
        )
    )
    cases.append(
        Case(
            "ooc_read_only_output_folder",
            6,
            "--out-of-core into a folder inside a read-only folder",
            {"export.csv": raw, "ro/.keep": b""},
            ["export.csv"],
            outputs={"out": "ro/clean"},
            modes=("ooc",),
            expect="refuse",
            mentions=["ro"],
            readonly=["ro"],
        )
    )
    return cases


def cases_line_structure() -> list[Case]:
    cases = []
    name = "embedded_newlines_in_quoted_fields"
    rng = rng_for(name)
    visits = cohort(rng, 6, weeks=(0, 2))
    notes = {1: "line one\nline two", 5: "a\nb\nc", 9: "crlf\r\ninside", 14: "\n", 18: "ends with newline\n"}
    idx = iter(range(10_000))
    doc, lines, values = long_csv(
        visits, "export.csv", header=[*STD_HEADER, "Notes"], row=lambda v: [*v.row(), notes.get(next(idx), "plain")]
    )
    cases.append(
        Case(
            name,
            1,
            "quoted Notes fields with embedded newlines (\\n, \\r\\n): later records start on later lines",
            {"export.csv": doc.encode()},
            ["export.csv"],
            records={"export.csv": lines},
            values=values,
        )
    )

    name = "embedded_newline_in_carried_reason"
    rng = rng_for(name)
    visits = cohort(rng, 5, weeks=(0, 2))
    reasons = {3: "moved away\n(new city)", 8: "completed"}
    idx = iter(range(10_000))
    doc, lines, values = long_csv(
        visits, "export.csv", header=[*STD_HEADER, "Reason"], row=lambda v: [*v.row(), reasons.get(next(idx), "")]
    )
    values[8]["values"]["discharge_reason"] = "completed"
    cases.append(
        Case(
            name,
            1,
            "a carried free-text Reason with an embedded newline",
            {"export.csv": doc.encode()},
            ["export.csv"],
            records={"export.csv": lines},
            values=values,
        )
    )

    name = "embedded_newline_in_header"
    rng = rng_for(name)
    visits = cohort(rng, 5, weeks=(0, 2))
    header = [*STD_HEADER[:6], "Strength\n(N)", "VAS\r\n(mm)"]
    doc, lines, values = long_csv(visits, "export.csv", header=header)
    cases.append(
        Case(
            name,
            1,
            "header fields with embedded newlines: the first record starts on line 4",
            {"export.csv": doc.encode()},
            ["export.csv"],
            records={"export.csv": lines},
            values=values,
        )
    )

    for name, eol in (("cr_only_line_endings", "\r"), ("crlf_line_endings", "\r\n")):
        visits = cohort(rng_for(name), 6, weeks=(0, 2))
        doc, lines, values = long_csv(visits, "export.csv", doc=CsvDoc(eol=eol))
        cases.append(
            Case(
                name,
                1,
                f"every line ends in {eol!r}",
                {"export.csv": doc.encode()},
                ["export.csv"],
                records={"export.csv": lines},
                values=values,
            )
        )

    name = "mixed_line_endings"
    rng = rng_for(name)
    visits = cohort(rng, 6, weeks=(0, 2))
    doc = CsvDoc()
    doc.add(STD_HEADER, eol="\r\n")
    lines, values = [], []
    for i, v in enumerate(visits):
        line = doc.add(v.row(), eol=("\n", "\r\n", "\r")[i % 3])
        lines.append(line)
        values.append({"where": where_line("export.csv", line), "values": v.expected()})
    cases.append(
        Case(
            name,
            1,
            "line endings \\n, \\r\\n and \\r mixed in one file",
            {"export.csv": doc.encode()},
            ["export.csv"],
            records={"export.csv": lines},
            values=values,
        )
    )

    for name, k, n in (("nul_byte_early", 2, 6), ("nul_byte_late", 300, 60)):
        rng = rng_for(name)
        visits = cohort(rng, n, weeks=(0, 2, 4))
        header = [*STD_HEADER, "Notes"]
        idx = iter(range(100_000))
        doc, lines, values = long_csv(
            visits,
            "export.csv",
            header=header,
            row=lambda v, idx=idx, k=k: [*v.row(), "note\x00hidden" if next(idx) == k else "ok"],
        )
        values = [v for v in values if v["where"]["source_line"] != lines[k]]
        cases.append(
            Case(
                name,
                1,
                f"a NUL byte inside a text field of record {k + 1} ({'within' if k < 10 else 'after'} the first 8 KiB)",
                {"export.csv": doc.encode()},
                ["export.csv"],
                expect="either",
                mentions=[rf"\b{lines[k]}\b|NUL|binary"],
                records={"export.csv": lines},
                values=values,
            )
        )

    name = "trailing_delimiter_every_line"
    visits = cohort(rng_for(name), 6, weeks=(0, 2))
    doc, lines, values = long_csv(visits, "export.csv", doc=CsvDoc(trailing_delimiter=True))
    cases.append(
        Case(
            name,
            1,
            "every line, the header included, ends with a delimiter",
            {"export.csv": doc.encode()},
            ["export.csv"],
            records={"export.csv": lines},
            values=values,
        )
    )

    name = "trailing_delimiter_data_lines_only"
    visits = cohort(rng_for(name), 6, weeks=(0, 2))
    doc = CsvDoc()
    doc.add(STD_HEADER)
    doc.trailing_delimiter = True
    lines, values = [], []
    for v in visits:
        line = doc.add(v.row())
        lines.append(line)
        values.append({"where": where_line("export.csv", line), "values": v.expected()})
    cases.append(
        Case(
            name,
            1,
            "every data line (not the header) ends with a delimiter: one empty surplus field per line",
            {"export.csv": doc.encode()},
            ["export.csv"],
            records={"export.csv": lines},
            values=values,
        )
    )

    name = "header_only"
    doc = CsvDoc()
    doc.add(STD_HEADER)
    cases.append(
        Case(
            name,
            1,
            "a header and no records",
            {"export.csv": doc.encode()},
            ["export.csv"],
            expect="either",
            records={"export.csv": []},
        )
    )

    name = "blank_lines_between_records"
    rng = rng_for(name)
    visits = cohort(rng, 6, weeks=(0, 2))
    doc = CsvDoc()
    doc.add(STD_HEADER)
    lines, values = [], []
    for i, v in enumerate(visits):
        if i % 4 == 1:
            doc.blank()
        if i % 7 == 3:
            doc.blank("   ")
        line = doc.add(v.row())
        lines.append(line)
        values.append({"where": where_line("export.csv", line), "values": v.expected()})
    for _ in range(3):
        doc.blank()
    cases.append(
        Case(
            name,
            1,
            "blank and space-only lines between records and at the end (not records)",
            {"export.csv": doc.encode()},
            ["export.csv"],
            records={"export.csv": lines},
            values=values,
        )
    )

    name = "tsv_with_quoted_tab"
    rng = rng_for(name)
    visits = cohort(rng, 5, weeks=(0, 2))
    for v in visits[3:6]:
        v.site = "North\tAnnex"
    doc, lines, values = long_csv(visits, "export.tsv", doc=CsvDoc(delimiter="\t"))
    for val, v in zip(values, visits):
        val["values"]["site"] = v.site.replace("\t", " ") if "\t" in v.site else v.site
        if "\t" in v.site:
            val["values"].pop("site")
    cases.append(
        Case(
            name,
            1,
            "a TSV export with a quoted field holding a tab",
            {"export.tsv": doc.encode()},
            ["export.tsv"],
            records={"export.tsv": lines},
            values=values,
        )
    )

    name = "duplicate_header_names"
    visits = cohort(rng_for(name), 4, weeks=(0,))
    doc = CsvDoc()
    doc.add([*STD_HEADER, "Strength (N)"])
    for v in visits:
        doc.add([*v.row(), num(v.strength + 7)])
    cases.append(
        Case(
            name,
            1,
            "two columns named 'Strength (N)' holding different values",
            {"export.csv": doc.encode()},
            ["export.csv"],
            expect="refuse",
            mentions=[r"Strength \(N\)"],
        )
    )

    for name, content, title in (
        ("empty_file", b"", "a file of zero bytes"),
        ("blank_lines_only", b"\n\n  \n\r\n", "a file of blank lines"),
    ):
        cases.append(Case(name, 1, title, {"export.csv": content}, ["export.csv"], expect="refuse"))

    name = "field_200kb"
    rng = rng_for(name)
    visits = cohort(rng, 5, weeks=(0, 2))
    header = [*STD_HEADER, "Notes"]
    idx = iter(range(10_000))
    doc, lines, values = long_csv(
        visits, "export.csv", header=header, row=lambda v: [*v.row(), "x" * 200_000 if next(idx) == 3 else "ok"]
    )
    cases.append(
        Case(
            name,
            5,
            "a 200 kB Notes field (fine: more than csv's default field limit of 128 KiB)",
            {"export.csv": doc.encode()},
            ["export.csv"],
            records={"export.csv": lines},
            values=values,
        )
    )
    return cases
