import json

import numpy as np
import pandas as pd
import pytest

import hipkit
from hipkit.errors import DataQualityWarning, UnmappableFileError


def accounting_balances(res):
    r = res.log["rows"]
    return r["in"] == r["clean"] + r["quarantined"] + r["duplicates_removed"]


def test_long_export_becomes_canonical_table(long_csv):
    res = hipkit.clean(long_csv)
    d = res.data
    assert len(d) == 6 and accounting_balances(res)
    for col in [
        "participant_id",
        "group",
        "visit_week",
        "days_from_baseline",
        "side",
        "age_years",
        "sex",
        "body_mass_kg",
        "hip_abd_strength_n",
        "pain_vas",
        "akps",
    ]:
        assert col in d.columns
    p01 = d[d.participant_id == "P01"]
    assert p01["pain_vas"].tolist() == [6.0, 6.0, 4.0, 4.0]  # mm -> cm
    assert p01["side"].tolist() == ["left", "right", "left", "right"]
    assert p01["days_from_baseline"].tolist() == [0, 0, 14, 14]


def test_unit_conversions_are_applied_and_logged(write):
    p = write(
        "u.csv", "ID,Visit,Strength,Strength unit,VAS (mm)\nP1,Baseline,10,lb,50\nP1,Week 2,10,kg,40\nP1,wk4,100,N,30\n"
    )
    res = hipkit.clean(p)
    assert res.data["hip_abd_strength_n"].tolist() == pytest.approx([44.482216, 98.0665, 100.0])
    counts = res.log["counts"]["unit_conversions"]
    assert counts["hip_abd_strength_n: lb -> N (x4.44822)"] == 1
    assert counts["hip_abd_strength_n: kg -> N (x9.80665)"] == 1
    assert counts["pain_vas: mm -> cm (x0.1)"] == 3


def test_unknown_unit_in_a_cell_is_quarantined_not_guessed(write):
    p = write("u.csv", "ID,Visit,Strength,Strength unit\nP1,Baseline,10,stone\nP1,Week 2,10,N\n")
    res = hipkit.clean(p)
    q = res.quarantine
    assert q.loc[0, "reason"] == "unknown_unit" and q.loc[0, "source_line"] == 2
    assert np.isnan(res.data["hip_abd_strength_n"].iloc[0])


def test_wide_export_is_reshaped_by_header_patterns(write):
    p = write(
        "w.csv",
        "ID,Pain baseline,Pain wk2,HipAbd_L_0wk (lb),HipAbd_R_0wk (lb),HipAbd_L_2wk (lb),HipAbd_R_2wk (lb)\n"
        "P1,6,4,20,25,22,26\n",
    )
    res = hipkit.clean(p)
    d = res.data
    assert d[["visit_week", "side"]].values.tolist() == [[0, "left"], [0, "right"], [2, "left"], [2, "right"]]
    assert d["pain_vas"].tolist() == [6, 6, 4, 4]  # participant-level value on each side's row
    assert d["hip_abd_strength_n"].iloc[0] == pytest.approx(20 * 4.4482216152605)
    assert (d["source_line"] == 2).all()
    assert res.log["inputs"][0]["layout"] == "wide"


def test_quarantine_names_the_raw_header_of_a_wide_cell(write):
    p = write("w.csv", "ID,Pain wk0,Pain wk2\nP1,6,15\n")
    q = hipkit.clean(p).quarantine
    assert q[["column", "raw_value", "reason", "source_line"]].values.tolist() == [
        ["Pain wk2", "15", "out_of_range", 2]
    ]


def test_participant_without_any_value_is_quarantined_not_lost(write):
    p = write("w.csv", "ID,Pain wk0,Pain wk2\nP1,6,4\nP2,,\n")
    res = hipkit.clean(p)
    assert "P2" not in set(res.data["participant_id"])
    q = res.quarantine
    assert q.loc[q.participant_id == "P2", "reason"].tolist() == ["no_measurements"]
    assert accounting_balances(res)


def test_exact_duplicates_are_removed_and_counted(long_csv, write):
    text = long_csv.read_text()
    p = write("dup.csv", text + text.splitlines()[1] + "\n")
    res = hipkit.clean(p)
    assert len(res.data) == 6
    assert res.log["rows"]["duplicates_removed"] == 1
    assert res.log["rows"]["duplicate_lines"] == ["dup.csv:8"]
    assert accounting_balances(res)


def test_conflicting_duplicates_quarantine_both_rows(write):
    p = write("c.csv", "ID,Visit,VAS\nP1,Baseline,5\nP1,Baseline,6\nP1,Week 2,4\n")
    res = hipkit.clean(p)
    q = res.quarantine
    assert sorted(q.loc[q.reason == "conflicting_duplicate", "source_line"]) == [2, 3]
    assert res.data["visit_week"].tolist() == [2.0]
    assert res.log["rows"]["quarantined"] == 2 and accounting_balances(res)


def test_complementary_records_from_two_files_are_combined(write):
    a = write("a.csv", "ID,Visit,VAS\nP1,Baseline,5\n")
    b = write("b.csv", "ID,Visit,AKPS\nP1,Baseline,70\n")
    res = hipkit.clean([a, b])
    assert res.data[["pain_vas", "akps"]].values.tolist() == [[5, 70]]
    r = res.log["rows"]
    assert (r["in"], r["clean"], r["out"], r["combined_into_other_rows"]) == (2, 2, 1, 1)
    assert r["combined_lines"] == ["b.csv:2"]


def test_missing_value_tokens_are_not_ids(write):
    p = write("x.csv", "ID,Visit,VAS\nn/a,Baseline,5\nP1,Baseline,4\n")
    res = hipkit.clean(p)
    assert res.data["participant_id"].tolist() == ["P1"]
    assert res.quarantine["reason"].tolist() == ["missing_id"]


@pytest.mark.parametrize("cell", ["-1", "2024", "2024-01", "12"])
def test_partial_or_numeric_dates_are_not_read_as_dates(write, cell):
    p = write("x.csv", f"ID,Visit,Visit date,VAS\nP1,Baseline,{cell},5\n")
    res = hipkit.clean(p)
    assert res.data["visit_date"].isna().all()
    assert res.quarantine["reason"].tolist() == ["bad_date"]


def test_out_of_window_visits_are_flagged_and_kept(write):
    p = write(
        "w.csv", "ID,Visit,Visit date,VAS\nP1,Baseline,2024-01-01,5\nP1,Week 2,2024-01-25,4\nP1,Week 3,2024-01-22,4\n"
    )
    res = hipkit.clean(p, window_days=4)
    d = res.data
    assert d["out_of_window"].tolist() == [False, True, True]  # 10 days late; week 3 off schedule
    assert len(d) == 3


def test_schedule_is_configurable(write):
    p = write("w.csv", "ID,Visit,VAS\nP1,Baseline,5\nP1,Week 3,4\n")
    res = hipkit.clean(p, schedule=[0, 3])
    assert res.data["out_of_window"].tolist() == [False, False]


def test_dated_visits_without_labels_get_the_nearest_scheduled_week(write):
    p = write("w.csv", "ID,Date,VAS\nP1,2024-01-01,5\nP1,2024-01-16,4\nP1,2024-01-29,3\n")
    res = hipkit.clean(p)
    assert res.data["visit_week"].tolist() == [0, 2, 4]


def test_ambiguous_visit_numbers_are_refused_with_a_hint(write):
    p = write("w.csv", "ID,Visit,VAS\nP1,Visit 1,5\nP1,Visit 2,4\n")
    with pytest.raises(UnmappableFileError, match="--map"):
        hipkit.clean(p)
    res = hipkit.clean(p, mapping={"visits": {"Visit 1": 0, "Visit 2": 2}})
    assert res.data["visit_week"].tolist() == [0, 2]


def test_ids_and_categories_are_normalised(write):
    p = write(
        "w.csv", "ID,Group,Sex,Visit,VAS\n p01 ,Hip,F,Baseline,5\nP01,HIP,female,Week 2,4\nP 02,HIP,Male,Baseline,3\n"
    )
    d = hipkit.clean(p).data
    assert d["participant_id"].tolist() == ["P01", "P01", "P02"]
    assert d["group"].tolist() == ["HIP", "HIP", "HIP"]
    assert d["sex"].tolist() == ["female", "female", "male"]


def test_missing_tokens_become_missing_and_are_counted(write):
    p = write("w.csv", "ID,Visit,VAS,AKPS\nP1,Baseline,n/a,refused\nP1,Week 2,4,\n")
    res = hipkit.clean(p)
    assert res.data["pain_vas"].isna().tolist() == [True, False]
    assert res.log["counts"]["missing_tokens"] == {"akps: 'refused'": 1, "pain_vas: 'n/a'": 1}
    assert res.quarantine.empty


def test_derivations(write):
    p = write(
        "d.csv",
        "ID,Visit,Side,Strength (N),Body mass (kg),VAS,AKPS,Injured side\n"
        "P1,Baseline,L,100,50,6,60,left\nP1,Baseline,R,125,50,6,60,left\n"
        "P1,Week 2,L,120,,3,65,left\nP1,Week 2,R,125,,3,65,left\n",
    )
    d = hipkit.clean(p).data
    assert d["hip_abd_strength_nkg"].tolist() == [2.0, 2.5, 2.4, 2.5]  # baseline mass carried
    assert d["hip_abd_strength_n_change"].tolist() == [0, 0, 20, 0]
    assert d["hip_abd_strength_n_pct_change"].tolist() == [0, 0, 20, 0]
    assert d["hip_abd_strength_n_lsi"].tolist() == [80, 80, 96, 96]  # involved (left) / uninvolved
    assert d["pain_vas_responder"].tolist()[2:] == [True, True]  # -3 cm >= MCID 2 cm
    assert d["akps_responder"].tolist()[2:] == [False, False]  # +5 < MCID 10
    assert d["pain_vas_responder"].isna().tolist()[:2] == [True, True]  # undefined at baseline
    assert d["limb"].tolist() == ["involved", "uninvolved", "involved", "uninvolved"]


def test_torque_with_lever_arm(write):
    p = write("d.csv", "ID,Visit,Strength (N),Body mass (kg),Lever arm (cm)\nP1,Baseline,100,50,80\n")
    d = hipkit.clean(p).data
    assert d["hip_abd_torque_nmkg"].iloc[0] == pytest.approx(100 * 0.8 / 50)


def test_deidentify_drops_identifiers_hashes_ids_and_shifts_dates(write, tmp_path):
    p = write(
        "w.csv",
        "ID,Name,Phone,Visit,Visit date,VAS\n"
        "P1,Ann Example,555-0101,Baseline,2024-01-01,5\nP1,Ann Example,555-0101,Week 2,2024-01-15,4\n"
        "P2,Bob Example,555-0102,Baseline,2024-03-01,6\n",
    )
    a = hipkit.clean(p, deidentify=True, salt="s3cret")
    b = hipkit.clean(p, deidentify=True, salt="s3cret")
    d = a.data
    assert "Name" not in d.columns and "Phone" not in d.columns
    assert not set(d["participant_id"]) & {"P1", "P2"}
    assert d["participant_id"].tolist() == b.data["participant_id"].tolist()  # consistent
    assert d["days_from_baseline"].tolist() == [0, 14, 0]  # intervals kept
    shift = d["visit_date"] - pd.to_datetime(["2024-01-01", "2024-01-15", "2024-03-01"])
    assert shift.iloc[0] == shift.iloc[1]  # one offset per participant
    a.write(tmp_path / "o.csv", tmp_path / "q.csv", tmp_path / "l.json")
    for f in ["o.csv", "q.csv", "l.json"]:
        text = (tmp_path / f).read_text()
        assert "s3cret" not in text and "Ann" not in text and "555-0101" not in text


def test_identifiers_are_never_carried_even_without_deidentify(write):
    p = write("w.csv", "ID,Name,Visit,VAS\nP1,Ann Example,Baseline,5\n")
    res = hipkit.clean(p)
    assert "Ann Example" not in res.data.to_csv()
    assert any("identifiers" in w for w in res.log["warnings"])


def test_formula_like_text_is_quarantined_and_never_written_executable(write, tmp_path):
    p = write("w.csv", 'ID,Group,Visit,VAS\nP1,=HYPERLINK("x"),Baseline,5\n-P2,@SUM(1),Baseline,-1\n')
    res = hipkit.clean(p)
    assert res.data["group"].isna().all()
    q = res.quarantine
    assert q.loc[q.reason == "formula_like", "raw_value"].tolist() == ['=HYPERLINK("x")', "@SUM(1)"]
    res.write(tmp_path / "o.csv", tmp_path / "q.csv")
    out = pd.read_csv(tmp_path / "o.csv", dtype=str, keep_default_na=False)
    qq = pd.read_csv(tmp_path / "q.csv", dtype=str, keep_default_na=False)
    for frame in (out, qq):
        for col in frame.columns:
            assert not frame[col].str.match(r"^[=+\-@]").any(), col
    assert "'-P2" in set(out["participant_id"])
    assert '\'=HYPERLINK("x")' in set(qq["raw_value"])


def test_redcap_export_with_mapping_for_coded_sex(write):
    p = write(
        "r.csv",
        "record_id,redcap_event_name,redcap_repeat_instrument,sex,nprs,assessment_complete\n"
        "R1,baseline_arm_1,,1,6,2\nR1,week_2_arm_1,,1,4,2\nR2,baseline_arm_1,,2,5,2\n",
    )
    res = hipkit.clean(p, mapping={"values": {"sex": {"1": "female", "2": "male"}}})
    d = res.data
    assert d["visit_week"].tolist() == [0, 2, 0]
    assert d["sex"].tolist() == ["female", "female", "male"]
    assert "assessment_complete" not in res.log["inputs"][0]["unmapped_columns"]


def test_excel_and_parquet_inputs(tmp_path):
    df = pd.DataFrame({"ID": ["P1", "P1"], "Visit": ["Baseline", "Week 2"], "VAS": [5, 4]})
    df.to_excel(tmp_path / "x.xlsx", index=False)
    df.to_parquet(tmp_path / "x.parquet")
    for f in ["x.xlsx", "x.parquet"]:
        assert hipkit.clean(tmp_path / f).data["pain_vas"].tolist() == [5, 4]


def test_cleaning_warns_when_something_was_quarantined(write):
    p = write("w.csv", "ID,Visit,VAS\nP1,Baseline,50\n")
    with pytest.warns(DataQualityWarning, match="quarantined"):
        hipkit.clean(p)


def test_log_is_json_and_reproducible(long_csv, tmp_path):
    a, b = hipkit.clean(long_csv), hipkit.clean(long_csv)
    a.write(tmp_path / "a.csv", tmp_path / "aq.csv", tmp_path / "a.json")
    b.write(tmp_path / "b.csv", tmp_path / "bq.csv", tmp_path / "b.json")
    assert (tmp_path / "a.json").read_text() == (tmp_path / "b.json").read_text()
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
    log = json.loads((tmp_path / "a.json").read_text())
    assert log["rows"]["invariant_holds"] is True


def test_every_input_line_ends_clean_quarantined_or_duplicate(long_csv, write):
    text = long_csv.read_text().splitlines()
    messy = text + [
        text[1],
        "P03,HIP,Week 9x,2024-01-01,L,1,2,3,4",
        ",HIP,Baseline,2024-01-01,L,1,2,3,4",
        "P01,HIP,Baseline,2024-01-01,L,999,60,60,70",
    ]
    p = write("m.csv", "\n".join(messy) + "\n")
    res = hipkit.clean(p)
    lines = set(range(2, len(messy) + 1))
    clean = set(res.data["source_line"])
    quar = set(res.quarantine.loc[res.quarantine.action == "row_removed", "source_line"])
    dups = {int(x.split(":")[1]) for x in res.log["rows"].get("duplicate_lines", [])}
    assert clean | quar | dups == lines
    assert not (clean & quar) and not (clean & dups) and not (quar & dups)
    assert accounting_balances(res)


def test_redcap_repeating_instrument_rows_are_quarantined_without_hiding_the_event_row(write):
    p = write(
        "r.csv",
        "record_id,redcap_event_name,redcap_repeat_instrument,redcap_repeat_instance,nprs,akps\n"
        "R1,week_2_arm_1,,,4,75\nR1,week_2_arm_1,pain_diary,1,5,\nR1,week_2_arm_1,pain_diary,2,3,\n",
    )
    res = hipkit.clean(p)
    assert res.data[["pain_nprs", "akps"]].values.tolist() == [[4, 75]]
    assert res.quarantine["reason"].tolist() == ["repeated_instrument", "repeated_instrument"]


def test_participant_level_values_are_carried_to_every_visit(write):
    p = write("r.csv", "ID,Visit,Sex,Group,VAS\nP1,Baseline,F,HIP,5\nP1,Week 2,,,4\n")
    d = hipkit.clean(p).data
    assert d["sex"].tolist() == ["female", "female"] and d["group"].tolist() == ["HIP", "HIP"]


def test_wide_counts_are_per_cell_not_per_side_record(write):
    p = write("w.csv", "ID,Pain wk0,HipAbd_L_0wk (lb),HipAbd_R_0wk (lb)\n p1,n/a,100,110\n")
    log = hipkit.clean(p).log["counts"]
    assert log["missing_tokens"] == {"pain_vas: 'n/a'": 1}
    assert log["ids"] == {"normalised (spaces or case changed)": 1}
    assert log["unit_conversions"] == {"hip_abd_strength_n: lb -> N (x4.44822)": 2}


def test_a_unit_written_in_the_cell_is_logged(write):
    p = write("w.csv", "ID,Visit,Strength (lb)\nP1,Baseline,150 N\n")
    res = hipkit.clean(p)
    assert res.data["hip_abd_strength_n"].tolist() == [150.0]
    assert list(res.log["counts"]["units_in_cells"].values()) == [1]


def test_conflicts_show_the_raw_cells(write):
    p = write("c.csv", "ID;Visit;HHD abduction (kg)\nP1;Baseline;9,2\nP1;Baseline;9,5\n")
    q = hipkit.clean(p).quarantine
    assert q["raw_value"].tolist() == ["9,2", "9,5"]
    assert q["column"].tolist() == ["HHD abduction (kg)", "HHD abduction (kg)"]


def test_a_unit_column_named_by_a_header_prefix_is_linked(write):
    p = write("u.csv", "ID,Visit,HHD abduction,HHD unit\nP1,Baseline,10,kg\nP1,Week 2,20,lb\n")
    d = hipkit.clean(p).data
    assert d["hip_abd_strength_n"].tolist() == pytest.approx([98.0665, 88.96443])


def test_an_unplaceable_unit_column_is_refused_not_ignored(write):
    p = write("u.csv", "ID,Visit,HHD abduction,Dynamometer units\nP1,Baseline,10,kg\n")
    with pytest.raises(UnmappableFileError, match="unit column"):
        hipkit.clean(p)
