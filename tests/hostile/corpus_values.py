"""Class 2 of the corpus: inputs whose values could come out wrong (numbers, ids, visits, dates, units)."""

from __future__ import annotations

from datetime import date, timedelta

from corpus_base import LABELS, Case, CsvDoc, Visit, cohort, long_csv, num, rng_for, where_line
from hostile_formats import Sheet, parquet_bytes, xlsx_bytes

# -- class 2: wrong values ----------------------------------------------------------------------


def cases_values() -> list[Case]:
    cases = []
    name = "decimal_comma_and_point_mixed"
    rng = rng_for(name)
    visits = cohort(rng, 6, weeks=(0, 2))
    doc = CsvDoc(delimiter=";")
    doc.add(["Participant ID", "Group", "Visit", "Side", "Strength (N)", "VAS (cm)"])
    lines, values = [], []
    for i, v in enumerate(visits):
        vas = round(v.vas_mm / 10, 1)
        s_txt, v_txt = num(v.strength), num(vas)
        if i % 2:
            s_txt, v_txt = s_txt.replace(".", ","), v_txt.replace(".", ",")
        line = doc.add([v.pid, v.group, v.label, v.side, s_txt, v_txt])
        lines.append(line)
        values.append(
            {"where": where_line("export.csv", line), "values": {"hip_abd_strength_n": v.strength, "pain_vas": vas}}
        )
    for side, text, value in (("L", "7.2", 7.2), ("R", "7,5", 7.5)):
        line = doc.add(["P900", "HIP", "Baseline", side, text, text])
        lines.append(line)
        values.append(
            {"where": where_line("export.csv", line), "values": {"hip_abd_strength_n": value, "pain_vas": value}}
        )
    cases.append(
        Case(
            name,
            2,
            "7.2 and 7,5 in one column of a ';' file: 7.2 and 7.5",
            {"export.csv": doc.encode()},
            ["export.csv"],
            records={"export.csv": lines},
            values=values,
        )
    )

    name = "thousands_ambiguous"
    rng = rng_for(name)
    visits = cohort(rng, 5, weeks=(0, 2))
    doc = CsvDoc()
    doc.add(["Participant ID", "Visit", "Side", "Strength (N)", "6MWT (m)"])
    lines, values, quar = [], [], []
    for i, v in enumerate(visits):
        walk = "1,500" if i in (3, 8) else f"{400 + i}.5"
        line = doc.add([v.pid, v.label, v.side, num(v.strength), walk])
        lines.append(line)
        if i in (3, 8):
            quar.append({"source_file": "export.csv", "source_line": line, "reason": "ambiguous_decimal"})
            values.append({"where": where_line("export.csv", line), "values": {"six_minute_walk_m": None}})
        else:
            values.append({"where": where_line("export.csv", line), "values": {"six_minute_walk_m": 400 + i + 0.5}})
    cases.append(
        Case(
            name,
            2,
            "'1,500' in a file whose decimal mark is '.': ambiguous_decimal, never 1.5 or 1500",
            {"export.csv": doc.encode()},
            ["export.csv"],
            records={"export.csv": lines},
            values=values,
            quarantine=quar,
        )
    )

    name = "thousands_unambiguous"
    rng = rng_for(name)
    dot, comma = CsvDoc(), CsvDoc(delimiter=";")
    dot.add(["Participant ID", "Visit", "Side", "Strength (N)", "6MWT (ft)"])
    comma.add(["Participant ID", "Visit", "Side", "Strength (N)", "6MWT (ft)"])
    ld, lc, values = [], [], []
    for i, v in enumerate(cohort(rng, 3, weeks=(0, 2))):
        feet = 1000 + 17 * i + 0.5
        line = dot.add([v.pid, v.label, v.side, num(v.strength), f"{feet:,.1f}"])
        ld.append(line)
        values.append({"where": where_line("us.csv", line), "values": {"six_minute_walk_m": feet * 0.3048}})
    for i, v in enumerate(cohort(rng, 3, weeks=(0, 2), first=10)):
        feet = 1100 + 13 * i + 0.5
        text = f"{feet:,.1f}".replace(",", "_").replace(".", ",").replace("_", ".")
        line = comma.add([v.pid, v.label, v.side, num(v.strength).replace(".", ","), text])
        lc.append(line)
        values.append({"where": where_line("eu.csv", line), "values": {"six_minute_walk_m": feet * 0.3048}})
    cases.append(
        Case(
            name,
            2,
            "'1,017.5' in a '.' file and '1.113,5' in a ',' file: thousands separators with a decimal part",
            {"us.csv": dot.encode(), "eu.csv": comma.encode()},
            ["us.csv", "eu.csv"],
            records={"us.csv": ld, "eu.csv": lc},
            values=values,
        )
    )

    name = "number_spellings"
    rng = rng_for(name)
    visits = cohort(rng, 3, weeks=(0, 2))
    spellings = ["123.4", " 123.4 ", "+123.4", "123.40", "123.4 N", "123.4N", "0123.4", "123.4\u00a0"]
    doc = CsvDoc()
    doc.add(["Participant ID", "Visit", "Side", "Strength (N)"])
    lines, values = [], []
    for i, v in enumerate(visits[: len(spellings)]):
        line = doc.add([v.pid, v.label, v.side, spellings[i]])
        lines.append(line)
        values.append({"where": where_line("export.csv", line), "values": {"hip_abd_strength_n": 123.4}})
    cases.append(
        Case(
            name,
            2,
            "one number spelled eight unambiguous ways (spaces, a plus sign, a trailing zero, a unit, NBSP)",
            {"export.csv": doc.encode()},
            ["export.csv"],
            records={"export.csv": lines},
            values=values,
        )
    )

    name = "ids_leading_zeros"
    rng = rng_for(name)
    doc = CsvDoc()
    doc.add(["Participant ID", "Visit", "Side", "Strength (N)"])
    lines, values = [], []
    for pid in ("007", "7", "0007", "070"):
        for w in (0, 2):
            s = round(rng.uniform(80, 300), 1)
            line = doc.add([pid, LABELS[w], "L", num(s)])
            lines.append(line)
            values.append(
                {"where": where_line("export.csv", line), "values": {"participant_id": pid, "hip_abd_strength_n": s}}
            )
    cases.append(
        Case(
            name,
            2,
            "ids 007, 7, 0007 and 070 are four participants",
            {"export.csv": doc.encode()},
            ["export.csv"],
            records={"export.csv": lines},
            values=values,
            participants=["007", "7", "0007", "070"],
        )
    )

    name = "ids_leading_zeros_xlsx"
    rng = rng_for(name)
    rows = [["Participant ID", "Visit", "Side", "Strength (N)"]]
    values = []
    for pid in ("007", 7, "0042", 42):
        s = round(rng.uniform(80, 300), 1)
        rows.append([pid, "Baseline", "L", s])
        values.append(
            {
                "where": where_line("ids.xlsx!Sheet1", len(rows)),
                "values": {"participant_id": str(pid), "hip_abd_strength_n": s},
            }
        )
    cases.append(
        Case(
            name,
            2,
            "an xlsx id column with text '007' and the number 7: two participants",
            {"ids.xlsx": xlsx_bytes([Sheet("Sheet1", rows)])},
            ["ids.xlsx"],
            records={"ids.xlsx!Sheet1": list(range(2, len(rows) + 1))},
            values=values,
            participants=["007", "7", "0042", "42"],
        )
    )

    name = "ids_case_whitespace_zero_width"
    rng = rng_for(name)
    doc = CsvDoc()
    doc.add(["Participant ID", "Visit", "Side", "Strength (N)"])
    lines, values = [], []
    spellings = [("p1", 0), (" P1 ", 2), ("P\u200b1", 4), ("P1\u00a0", 6), ("\u200bp1\u200b", 8), ("P2", 0), ("P2", 2)]
    for pid, w in spellings:
        s = round(rng.uniform(80, 300), 1)
        line = doc.add([pid, f"Week {w}" if w else "Baseline", "L", num(s)])
        lines.append(line)
        values.append(
            {
                "where": where_line("export.csv", line),
                "values": {"participant_id": "P1" if "1" in pid else "P2", "visit_week": w, "hip_abd_strength_n": s},
            }
        )
    cases.append(
        Case(
            name,
            2,
            "one participant spelled p1, ' P1 ', 'P<ZWSP>1', 'P1<NBSP>': one participant P1",
            {"export.csv": doc.encode()},
            ["export.csv"],
            args=["--schedule", "0,2,4,6,8"],
            records={"export.csv": lines},
            values=values,
            participants=["P1", "P2"],
        )
    )

    name = "visit_labels"
    rng = rng_for(name)
    doc = CsvDoc()
    doc.add(["Participant ID", "Visit", "Visit date", "Side", "Strength (N)"])
    lines, values, quar = [], [], []
    labels = [
        ("W2", 2),
        ("wk 2", 2),
        ("Week 2", 2),
        ("WEEK 2", 2),
        ("2 weeks", 2),
        ("week 2.5", 2.5),
        ("Visit 2", None),
    ]
    for i, (lab, w) in enumerate(labels):
        pid = f"V{i + 1:02d}"
        start = date(2024, 5, 6) + timedelta(days=i)
        s0, s1 = round(rng.uniform(80, 300), 1), round(rng.uniform(80, 300), 1)
        line0 = doc.add([pid, "Baseline", start.isoformat(), "L", num(s0)])
        days = 17 if w == 2.5 else 14
        line1 = doc.add([pid, lab, (start + timedelta(days=days)).isoformat(), "L", num(s1)])
        lines += [line0, line1]
        values.append(
            {
                "where": where_line("export.csv", line0),
                "values": {"visit_week": 0, "hip_abd_strength_n": s0, "out_of_window": False},
            }
        )
        if w is None:
            quar.append(
                {
                    "source_file": "export.csv",
                    "source_line": line1,
                    "reason": "unrecognised_visit",
                    "action": "row_removed",
                }
            )
        else:
            values.append(
                {
                    "where": where_line("export.csv", line1),
                    "values": {"visit_week": w, "hip_abd_strength_n": s1, "out_of_window": w == 2.5},
                }
            )
    cases.append(
        Case(
            name,
            2,
            "W2, wk 2, Week 2, WEEK 2, 2 weeks -> 2; week 2.5 -> 2.5 out of window; Visit 2 (no map) quarantined",
            {"export.csv": doc.encode()},
            ["export.csv"],
            records={"export.csv": lines},
            values=values,
            quarantine=quar,
        )
    )

    name = "visit_labels_mapped"
    rng = rng_for(name)
    doc = CsvDoc()
    doc.add(["Participant ID", "Visit", "Side", "Strength (N)"])
    lines, values = [], []
    for i in range(4):
        for lab, w in (("Visit 1", 0), ("Visit 2", 2), ("Visit 3", 4)):
            s = round(rng.uniform(80, 300), 1)
            line = doc.add([f"M{i}", lab, "R", num(s)])
            lines.append(line)
            values.append(
                {"where": where_line("export.csv", line), "values": {"visit_week": w, "hip_abd_strength_n": s}}
            )
    cases.append(
        Case(
            name,
            2,
            "Visit 1/2/3 named in the map's visits: section",
            {"export.csv": doc.encode(), "map.yml": b'visits:\n  "Visit 1": 0\n  "Visit 2": 2\n  "Visit 3": 4\n'},
            ["export.csv"],
            args=["--map", "map.yml"],
            records={"export.csv": lines},
            values=values,
        )
    )

    name = "dates_impossible"
    rng = rng_for(name)
    visits = cohort(rng, 5, weeks=(0, 2))
    bad = {1: "0001-01-01", 3: "2999-01-01", 5: "9999-12-31", 7: "2024-02-30", 8: "2023-13-01"}
    for i, d in bad.items():
        visits[i].date = d
    doc, lines, values = long_csv(visits, "export.csv")
    quar = [{"source_file": "export.csv", "source_line": lines[i], "reason": "bad_date"} for i in bad]
    values = [v for v in values if v["where"]["source_line"] not in {lines[i] for i in bad}]
    cases.append(
        Case(
            name,
            2,
            "visit dates 0001-01-01, 2999-01-01, 9999-12-31, 2024-02-30, 2023-13-01: bad_date",
            {"export.csv": doc.encode()},
            ["export.csv"],
            records={"export.csv": lines},
            values=values,
            quarantine=quar,
        )
    )

    name = "dates_day_month_ambiguous"
    rng = rng_for(name)
    visits = cohort(rng, 4, weeks=(0, 2))
    for v in visits:  # day and month both 12 or less: the order is unknown
        n = int(v.pid[1:])
        v.date = f"{n:02d}/{3 + int(v.week):02d}/2024"
    doc, lines, values = long_csv(visits, "export.csv")
    quar = [{"source_file": "export.csv", "source_line": ln, "column": "date", "reason": None} for ln in lines]
    for val in values:
        val["values"]["visit_date"] = None
    cases.append(
        Case(
            name,
            2,
            "dates like 03/04/2024 where no day exceeds 12: day/month order unknown, never guessed",
            {"export.csv": doc.encode()},
            ["export.csv"],
            records={"export.csv": lines},
            values=values,
            quarantine=quar,
        )
    )

    name = "dates_day_first_inferable"
    rng = rng_for(name)
    visits = cohort(rng, 8, weeks=(0, 2), start=date(2024, 3, 1))
    iso = [v.date for v in visits]
    for v in visits:
        d = date.fromisoformat(v.date)
        v.date = f"{d.day:02d}/{d.month:02d}/{d.year}"
    doc, lines, values = long_csv(visits, "export.csv")
    for val, day in zip(values, iso):
        val["values"]["visit_date"] = day
    cases.append(
        Case(
            name,
            2,
            "d/m/Y dates where some days exceed 12: read day-first",
            {"export.csv": doc.encode()},
            ["export.csv"],
            records={"export.csv": lines},
            values=values,
        )
    )

    name = "units_lb_kgf_in_header_and_cells"
    rng = rng_for(name)
    doc = CsvDoc()
    doc.add(["Participant ID", "Visit", "Side", "Strength (lb)"])
    lines, values = [], []
    for i, (cell, newtons) in enumerate(
        [
            ("10", 44.482216152605),
            ("22 kgf", 22 * 9.80665),
            ("150 N", 150.0),
            ("33.5", 33.5 * 4.4482216152605),
            ("12kg", 12 * 9.80665),
        ]
    ):
        line = doc.add([f"U{i}", "Baseline", "L", cell])
        lines.append(line)
        values.append({"where": where_line("export.csv", line), "values": {"hip_abd_strength_n": newtons}})
    cases.append(
        Case(
            name,
            2,
            "lb in the header, kgf and N written in cells: converted to N",
            {"export.csv": doc.encode()},
            ["export.csv"],
            records={"export.csv": lines},
            values=values,
        )
    )

    name = "wide_export"
    rng = rng_for(name)
    header = [
        "ID",
        "Group",
        "Pain wk0",
        "Pain wk2",
        "HipAbd_L_0wk (lb)",
        "HipAbd_R_0wk (lb)",
        "HipAbd_L_2wk (lb)",
        "HipAbd_R_2wk (lb)",
    ]
    doc = CsvDoc()
    doc.add(header)
    lines, values = [], []
    for i in range(6):
        pid, group = f"W{i + 1:02d}", ("HIP", "KNEE")[i % 2]
        pain = [rng.randint(0, 10) for _ in range(2)]
        lbs = [round(rng.uniform(20, 70), 1) for _ in range(4)]
        line = doc.add([pid, group, *map(str, pain), *map(num, lbs)])
        lines.append(line)
        for k, (w, side) in enumerate(((0, "left"), (0, "right"), (2, "left"), (2, "right"))):
            values.append(
                {
                    "where": where_line("wide.csv", line, visit_week=w, side=side),
                    "values": {
                        "participant_id": pid,
                        "group": group,
                        "pain_vas": pain[k // 2],
                        "hip_abd_strength_n": lbs[k] * 4.4482216152605,
                    },
                }
            )
    cases.append(
        Case(
            name,
            2,
            "a wide export (a column per visit and side): one record per line, several clean rows",
            {"wide.csv": doc.encode()},
            ["wide.csv"],
            records={"wide.csv": lines},
            wide=["wide.csv"],
            values=values,
        )
    )

    cases += cases_parquet()
    return cases


def cases_parquet() -> list[Case]:
    import pyarrow as pa

    cases = []

    def table(visits: list[Visit], **override) -> dict:
        cols = {
            "Participant ID": [v.pid for v in visits],
            "Group": pa.array([v.group for v in visits]).dictionary_encode(),
            "Site": [v.site for v in visits],
            "Visit": [v.label for v in visits],
            "Visit date": [date.fromisoformat(v.date) for v in visits],
            "Side": [v.side for v in visits],
            "Strength (N)": [v.strength for v in visits],
            "VAS (mm)": pa.array([v.vas_mm for v in visits], type=pa.int32()),
        }
        cols.update(override)
        return cols

    def records(origin: str, visits: list[Visit], **extra) -> tuple[list[int], list[dict]]:
        lines = [i + 2 for i in range(len(visits))]
        return lines, [{"where": where_line(origin, ln), "values": v.expected(**extra)} for ln, v in zip(lines, visits)]

    name = "parquet_basic"
    visits = cohort(rng_for(name), 6, weeks=(0, 2))
    lines, values = records("export.parquet", visits)
    for val, v in zip(values, visits):
        val["values"]["visit_date"] = v.date
    cases.append(
        Case(
            name,
            2,
            "a parquet export: dictionary-encoded group, date32 visit dates, int32 VAS",
            {"export.parquet": parquet_bytes(table(visits))},
            ["export.parquet"],
            records={"export.parquet": lines},
            values=values,
        )
    )

    name = "parquet_tz_aware_timestamps"
    rng = rng_for(name)
    files, recs, values = {}, {}, []
    for origin, tz, hour, first in (
        ("berlin.parquet", "Europe/Berlin", 0, 1),
        ("newyork.parquet", "America/New_York", 23, 20),
    ):
        visits = cohort(rng, 4, weeks=(0, 2), first=first)
        import pandas as pd

        stamps = pd.to_datetime([f"{v.date} {hour:02d}:30" for v in visits]).tz_localize(tz)
        arr = pa.array(stamps, type=pa.timestamp("us", tz=tz))
        files[origin] = parquet_bytes(table(visits, **{"Visit date": arr}))
        lines, vals = records(origin, visits)
        for val, v in zip(vals, visits):
            val["values"]["visit_date"] = v.date  # the local calendar date, not the UTC one
        recs[origin] = lines
        values += vals
    cases.append(
        Case(
            name,
            2,
            "timezone-aware visit timestamps (00:30 in Berlin, 23:30 in New York): the local visit date",
            files,
            sorted(files),
            records=recs,
            values=values,
        )
    )

    name = "parquet_naive_timestamps"
    visits = cohort(rng_for(name), 4, weeks=(0, 2))
    import pandas as pd

    arr = pa.array(pd.to_datetime([f"{v.date} 23:59:59" for v in visits]), type=pa.timestamp("ns"))
    lines, values = records("export.parquet", visits)
    for val, v in zip(values, visits):
        val["values"]["visit_date"] = v.date
    cases.append(
        Case(
            name,
            2,
            "naive visit timestamps late in the day",
            {"export.parquet": parquet_bytes(table(visits, **{"Visit date": arr}))},
            ["export.parquet"],
            records={"export.parquet": lines},
            values=values,
        )
    )

    name = "parquet_numeric_ids"
    visits = cohort(rng_for(name), 4, weeks=(0, 2), id_fmt="{:d}")
    ids = pa.array([int(v.pid) for v in visits], type=pa.int64())
    lines, values = records("export.parquet", visits)
    cases.append(
        Case(
            name,
            2,
            "int64 participant ids: '1', not '1.0'",
            {"export.parquet": parquet_bytes(table(visits, **{"Participant ID": ids}))},
            ["export.parquet"],
            records={"export.parquet": lines},
            values=values,
            participants=["1", "2", "3", "4"],
        )
    )

    name = "parquet_numeric_ids_with_null"
    visits = cohort(rng_for(name), 4, weeks=(0, 2), id_fmt="{:d}")
    raw_ids = [int(v.pid) for v in visits]
    raw_ids[3] = None
    lines, values = records("export.parquet", visits)
    del values[3]
    cases.append(
        Case(
            name,
            2,
            "int64 participant ids with one null: '1' (not '1.0'), the null row quarantined",
            {"export.parquet": parquet_bytes(table(visits, **{"Participant ID": pa.array(raw_ids, type=pa.int64())}))},
            ["export.parquet"],
            records={"export.parquet": lines},
            values=values,
            participants=["1", "2", "3", "4"],
            quarantine=[
                {"source_file": "export.parquet", "source_line": 5, "reason": "missing_id", "action": "row_removed"}
            ],
        )
    )

    name = "parquet_nested_column"
    visits = cohort(rng_for(name), 3, weeks=(0, 2))
    tags = pa.array([["a", "b"] if i % 2 else [] for i in range(len(visits))], type=pa.list_(pa.string()))
    lines, values = records("export.parquet", visits)
    cases.append(
        Case(
            name,
            1,
            "a parquet export with a list-typed column beside the usual ones",
            {"export.parquet": parquet_bytes(table(visits, Tags=tags))},
            ["export.parquet"],
            expect="either",
            records={"export.parquet": lines},
            values=values,
        )
    )

    name = "parquet_no_rows"
    visits = cohort(rng_for(name), 1, weeks=(0,))
    cases.append(
        Case(
            name,
            1,
            "a parquet export with a schema and no rows",
            {"export.parquet": parquet_bytes({k: v[:0] for k, v in table(visits).items()})},
            ["export.parquet"],
            expect="either",
            records={"export.parquet": []},
        )
    )

    name = "parquet_truncated"
    visits = cohort(rng_for(name), 3, weeks=(0,))
    whole = parquet_bytes(table(visits))
    cases.append(
        Case(
            name,
            1,
            "a parquet file cut off half-way",
            {"export.parquet": whole[: len(whole) // 2]},
            ["export.parquet"],
            expect="refuse",
            mentions=["export.parquet"],
        )
    )
    return cases
