"""``hipkit report``: a clinic export to one self-contained, privacy-safe HTML report."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import hipkit
from hipkit.cli import main
from hipkit.errors import InputError
from hipkit.report import clinic as C
from hipkit.report import clinic_report, external_resources
from hipkit.simulate import simulate

ROOT = Path(__file__).resolve().parents[2]
CLINIC_EXPORT = ROOT / "datasets" / "raw" / "clinic_multisite_export.csv"


def _text(html: str) -> str:
    """The visible text of a page, roughly: tags and embedded images removed."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    html = re.sub(r'src="data:[^"]*"', "", html)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _raw_export(tmp_path: Path, n_scale: float = 1.0, seed: int = 7, identifiers: bool = True, weeks=None) -> Path:
    """A made-up raw export with names, dates of birth and visit dates (simulated ferber2015 cohort, weeks 0-6)."""
    data = simulate("ferber2015", seed=seed, n_scale=n_scale).data
    data = data.loc[data["visit_week"].isin(weeks if weeks is not None else [0, 2, 4, 6])]
    start = pd.Timestamp("2025-03-03")
    ids = sorted(data["participant_id"].unique())
    offset = {p: i for i, p in enumerate(ids)}
    raw = pd.DataFrame(
        {
            "Patient ID": data["participant_id"],
            "Group": data["group"],
            "Sex": data["sex"],
            "Age": data["age_years"],
            "Week": data["visit_week"].map(lambda w: f"{w:g}"),
            "Visit date": [
                (start + pd.Timedelta(days=offset[p] + 7 * w)).strftime("%Y-%m-%d")
                for p, w in zip(data["participant_id"], data["visit_week"])
            ],
            "VAS (mm)": (data["pain_vas"] * 10).round(0),
            "AKPS": data["akps"],
            "Hip abduction (N)": data["hip_abd_strength_n"],
        }
    )
    if identifiers:
        raw.insert(1, "Name", [f"Testname{offset[p]:04d} Person" for p in data["participant_id"]])
        raw.insert(2, "Date of birth", [f"1990-01-{1 + offset[p] % 28:02d}" for p in data["participant_id"]])
    path = tmp_path / "export.csv"
    raw.to_csv(path, index=False)
    return path


def test_report_of_the_bundled_export_is_one_self_contained_file(clinic_run):
    run, html = clinic_run
    assert run.html.is_file() and run.n_patients == 2000
    assert external_resources(html) == []
    assert "<img" in html and 'src="data:image/png;base64,' in html
    for heading in (
        "Key findings",
        "Participant flow",
        "Table 1",
        "Outcomes at each visit",
        "Change from the first",
        "clinically important",
        "measurement error",
        "stronger",
        "Data quality",
        "Methods",
        "References",
        "Appendix: cleaning log",
    ):
        assert heading in html, heading
    assert "Traceback" not in html and "Error" not in _text(html)


def test_report_shows_no_participant_ids_rows_or_code(clinic_run):
    _, html = clinic_run
    ids = pd.read_csv(CLINIC_EXPORT, usecols=["Patient ID"])["Patient ID"].unique()
    text = _text(html)
    leaked = [i for i in ids if re.search(rf"\b{re.escape(str(i))}\b", text)]
    assert leaked == []
    assert "import hipkit" not in html  # the code is left out, not just folded
    assert str(CLINIC_EXPORT.parent) not in html  # no local paths (the parameters cell is not shown)


def test_headline_numbers_match_an_independent_computation(clinic_run):
    _, html = clinic_run
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data = hipkit.clean(CLINIC_EXPORT, progress=False).data
    text = _text(html)
    assert "2000 patients enrolled" in text
    final = data.loc[data["visit_week"] == 6, "participant_id"].nunique()
    assert f"{final} seen at the final visit" in text
    # Pain change at week 6 in the HIP group, straight from the paired data (not through hipkit.report).
    pv = data.groupby(["participant_id", "group", "visit_week"])["pain_vas"].mean().unstack("visit_week")
    hip = pv.loc[pv.index.get_level_values("group") == "HIP", [0.0, 6.0]].dropna()
    diff = hip[6.0] - hip[0.0]
    half = 1.959 * diff.std(ddof=1) / np.sqrt(len(diff))  # t(966) quantile is 1.9624; compare to 2 dp
    mean = diff.mean()
    assert f"Pain (VAS), HIP: mean change by week 6 {mean:+.2f} cm" in text
    assert f"n = {len(diff)})" in text
    low, high = re.search(r"Pain \(VAS\), HIP: mean change by week 6 [^(]*\(95% CI (\S+) to (\S+);", text).groups()
    assert float(low) == pytest.approx(mean - half, abs=0.011) and float(high) == pytest.approx(mean + half, abs=0.011)
    # Responders: week 0 to last visit, pain fall of at least 2 cm.
    last = pv.apply(lambda r: r.dropna().iloc[-1] if r.notna().sum() > 1 and pd.notna(r[0.0]) else np.nan, axis=1)
    change = (last - pv[0.0]).loc[lambda s: s.notna()]
    hip_change = change.loc[change.index.get_level_values("group") == "HIP"]
    share = float((hip_change <= -2).mean())
    assert f"Pain (VAS), HIP: {share:.0%} reached the MCID of 2 cm" in text


def test_within_person_relation_is_one_plain_sentence_per_outcome(clinic_run):
    _, html = clinic_run
    sentences = re.findall(r"When a patient gained 10 N of hip-abductor strength, their ([a-z ]+\([A-Z]+\))", html)
    assert {"pain (VAS)", "knee function (AKPS)"} <= set(sentences)


def test_pdf_is_written_through_headless_chromium(clinic_run):
    run, _ = clinic_run
    if run.pdf is None:
        pytest.skip("Chromium is not installed")
    assert run.pdf.read_bytes()[:5] == b"%PDF-" and run.pdf.stat().st_size > 50_000


def test_small_counts_are_suppressed_everywhere_a_count_of_people_is_shown(tmp_path):
    raw = _raw_export(tmp_path, n_scale=0.06, identifiers=False)  # about 6 per group
    cd = C.load_clinic_data(raw, programme_weeks=[0, 2, 4, 6])
    flow = C.participant_flow(cd, min_cell=8)
    means = C.visit_means(cd, min_cell=8)
    resp = C.responder_rates(cd, min_cell=8)
    change = C.change_from_baseline(cd, min_cell=8)

    def small_numbers(series):
        values = pd.to_numeric(series, errors="coerce")
        return values.loc[(values > 0) & (values < 8)].tolist()

    for table, column in [(flow, "n"), (means, "n"), (resp, "n"), (resp, "responders"), (change, "n")]:
        assert small_numbers(table[column]) == [], (column, table)
    assert (flow["n"] == "<8").any() or (means["n"] == "<8").any()
    hidden = means.loc[means["n"] == "<8"]
    assert hidden["mean"].isna().all() and hidden["conf_low"].isna().all()


def test_a_rate_whose_complement_is_small_is_hidden():
    frame = pd.DataFrame(
        {
            "n": [40, 40, 40],
            "responders": [38, 20, 3],
            "proportion": [0.95, 0.5, 0.075],
            "conf_low": [0.8, 0.3, 0.02],
            "conf_high": [0.99, 0.7, 0.2],
        }
    )
    out = C._hide_proportion(frame, "responders", 5)
    assert out["proportion"].isna().tolist() == [True, False, True]
    assert out["responders"].tolist() == ["suppressed", 20, "<5"]


def test_input_with_direct_identifiers_is_refused_without_deidentify(tmp_path, capsys):
    raw = _raw_export(tmp_path)
    code = main(["report", str(raw), "--out", str(tmp_path / "r.html")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and "direct identifiers" in err and "Name" in err and "--deidentify" in err
    assert not (tmp_path / "r.html").exists()


def test_deidentified_report_has_no_names_dates_or_ids(tmp_path, capsys):
    raw = _raw_export(tmp_path)
    out = tmp_path / "r.html"
    code = main(["report", str(raw), "--out", str(out), "--deidentify"])
    assert code == 0, capsys.readouterr().err
    text = _text(out.read_text(encoding="utf-8"))
    source = pd.read_csv(raw, dtype=str)
    for column in ("Name", "Date of birth", "Visit date", "Patient ID"):
        leaked = [v for v in source[column].unique() if v in text]
        assert leaked == [], column
    assert re.search(r"\bP[0-9A-F]{12}\b", text) is None  # no hashed ids either
    assert not re.search(r"\b20\d\d-\d\d-\d\d\b", text.replace(pd.Timestamp.today().strftime("%Y-%m-%d"), ""))


def test_an_already_clean_table_makes_a_report_without_a_cleaning_log(tmp_path):
    data = simulate("ferber2011", seed=3).data  # a 3-week study: visits at weeks 0 and 3
    path = tmp_path / "clean.csv"
    data.to_csv(path, index=False)
    run = clinic_report(path, tmp_path / "r.html", schedule=[0, 3])
    html = run.html.read_text(encoding="utf-8")
    assert "already-clean table" in html and "Key findings" in html
    assert "mean change by week 3" in html and run.n_patients == data["participant_id"].nunique()


@pytest.mark.parametrize(
    ("other", "values", "expected"),
    [
        ("Favourite colour", ["red", "blue"], "no outcome or covariate column recognised"),
        ("Age", [30, 40], "no outcome measure recognised"),
    ],
    ids=["nothing known", "covariate only"],
)
def test_export_without_outcome_columns_gets_a_one_line_message(tmp_path, capsys, other, values, expected):
    path = tmp_path / "export.csv"
    pd.DataFrame({"Patient ID": ["a", "b"], "Visit": ["Baseline", "Week 2"], other: values}).to_csv(path, index=False)
    code = main(["report", str(path), "--out", str(tmp_path / "r.html")])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and expected in err
    assert not (tmp_path / "r.html").exists()


def test_a_single_participant_is_refused_with_a_reason(tmp_path, capsys):
    raw = _raw_export(tmp_path, identifiers=False)
    one = pd.read_csv(raw).loc[lambda d: d["Patient ID"] == d["Patient ID"].iloc[0]]
    one.to_csv(raw, index=False)
    code = main(["report", str(raw), "--out", str(tmp_path / "r.html")])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "1 patient with outcome data" in err and "at least 5" in err


def test_a_single_visit_gives_a_report_that_says_what_cannot_be_estimated(tmp_path, capsys):
    raw = _raw_export(tmp_path, identifiers=False, weeks=[0])
    out = tmp_path / "r.html"
    code = main(["report", str(raw), "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    text = _text(out.read_text(encoding="utf-8"))
    assert "Not estimated: change over time" in text and "only one visit (week 0)" in text
    assert "Change from week 0 cannot be estimated" in text
    assert "Table 1" in text and "Traceback" not in text


def test_missing_input_file_is_a_one_line_error(tmp_path, capsys):
    code = main(["report", str(tmp_path / "nope.csv"), "--out", str(tmp_path / "r.html")])
    err = capsys.readouterr().err
    assert code == 2 and "no such file" in err and err.count("\n") == 1


def test_load_clinic_data_refuses_a_mix_of_raw_and_clean(tmp_path):
    clean = tmp_path / "clean.csv"
    simulate("ferber2011", seed=3).data.to_csv(clean, index=False)
    raw = _raw_export(tmp_path, identifiers=False)
    with pytest.raises(InputError, match="not a mix"):
        C.load_clinic_data([clean, raw])


def test_flow_counts_patients_lost_after_each_visit_with_recorded_reasons(tmp_path):
    raw = pd.read_csv(_raw_export(tmp_path, identifiers=False), dtype=str)
    before = C.participant_flow(C.load_clinic_data(tmp_path / "export.csv", programme_weeks=[0, 2, 4, 6]), min_cell=1)
    before = before.query("group == 'all' and stage == 'lost'").set_index(["week", "reason"])["n"].to_dict()
    completers = sorted(raw.loc[raw["Week"] == "6", "Patient ID"].unique())
    stop_early, stop_mid = completers[:6], completers[6:11]  # 6 seen only at week 0, 5 last seen at week 4
    raw = raw.loc[~(raw["Patient ID"].isin(stop_early) & (raw["Week"] != "0"))]
    raw = raw.loc[~(raw["Patient ID"].isin(stop_mid) & (raw["Week"] == "6"))]
    raw["Discharge reason"] = ""
    raw.loc[raw["Patient ID"].isin(stop_early), "Discharge reason"] = "moved away"
    raw.loc[raw["Patient ID"].isin(stop_mid[:3]), "Discharge reason"] = "pain resolved"
    path = tmp_path / "with_reasons.csv"
    raw.to_csv(path, index=False)
    cd = C.load_clinic_data(path, programme_weeks=[0, 2, 4, 6])
    flow = C.participant_flow(cd, min_cell=1).query("group == 'all'")
    lost = flow.loc[flow["stage"] == "lost"].set_index(["week", "reason"])["n"].to_dict()
    expected = dict(before)
    expected[(0.0, "moved away")] = 6
    expected[(4.0, "pain resolved")] = 3
    expected[(4.0, "not recorded")] = before.get((4.0, "not recorded"), 0) + 2
    assert lost == expected
    completed = flow.loc[flow["stage"] == "completed", "n"].iloc[0]
    assert completed == len(completers) - 11


def test_table_one_hides_cells_built_on_few_values_and_small_groups(tmp_path):
    raw = pd.read_csv(_raw_export(tmp_path, identifiers=False), dtype=str)
    ids = sorted(raw["Patient ID"].unique())
    raw.loc[raw["Patient ID"].isin(ids[3:]), "AKPS"] = ""  # AKPS known for 3 patients only
    raw.to_csv(tmp_path / "few.csv", index=False)
    table, sex = C.table_one(C.load_clinic_data(tmp_path / "few.csv"), ["pain_vas", "akps"], min_cell=5)
    akps = table.loc[table["measure"].str.startswith("Knee function")].iloc[0]
    cells = akps.drop("measure")
    assert set(cells) <= {"<5 values", "-"} and (cells == "<5 values").any()  # "-": no value in that group
    pain = table.loc[table["measure"].str.startswith("Pain")].iloc[0]
    assert not pain.drop("measure").astype(str).str.contains("<5").any()
    assert set(sex.columns) >= {"sex", "HIP", "KNEE"}


def test_deidentify_on_a_clean_table_hashes_only_the_ids(tmp_path):
    data = simulate("ferber2011", seed=3).data
    data.insert(1, "Name", "Someone Named")
    path = tmp_path / "clean_named.csv"
    data.to_csv(path, index=False)
    with pytest.raises(InputError, match="direct identifiers"):
        C.load_clinic_data(path, programme_weeks=[0, 3])
    cd = C.load_clinic_data(path, programme_weeks=[0, 3], deidentify=True, salt=b"k")
    assert "Name" not in cd.data.columns
    assert cd.data["participant_id"].str.match(r"^P[0-9A-F]{12}$").all()
    pd.testing.assert_series_equal(cd.data["pain_vas"], data["pain_vas"], check_names=False)
    run = clinic_report(path, tmp_path / "r.html", programme_weeks=[0, 3], deidentify=True)
    assert "Someone Named" not in run.html.read_text(encoding="utf-8")


def test_totals_and_free_text_reasons_cannot_reveal_a_small_group(tmp_path):
    raw = pd.read_csv(_raw_export(tmp_path, n_scale=0.15, identifiers=False), dtype=str)
    knee = sorted(raw.loc[raw["Group"] == "KNEE", "Patient ID"].unique())
    raw = raw.loc[~raw["Patient ID"].isin(knee[3:])]  # 3 KNEE patients left
    hip = sorted(raw.loc[raw["Group"] == "HIP", "Patient ID"].unique())
    raw = raw.loc[~(raw["Patient ID"].isin(hip[:2]) & (raw["Week"] != "0"))]
    raw["Discharge reason"] = ""
    raw.loc[raw["Patient ID"] == hip[0], "Discharge reason"] = "Mrs J. Smith moved to Leeds"
    raw.to_csv(tmp_path / "small.csv", index=False)
    cd = C.load_clinic_data(tmp_path / "small.csv")
    flow = C.participant_flow(cd, min_cell=5)
    assert "Mrs J. Smith moved to Leeds" not in set(flow["reason"])
    enrolled = flow.loc[flow["stage"] == "enrolled"].set_index("group")["n"]
    assert enrolled["KNEE"] == "<5" and enrolled["all"] == "suppressed"
    _, sex = C.table_one(cd, ["pain_vas"], min_cell=5)
    assert not sex["HIP"].astype(str).str.fullmatch(r"\d+").any() or not (sex["HIP"] == "<5").any()


def test_a_responder_count_is_hidden_when_its_complement_is_small():
    frame = pd.DataFrame(
        {"n": [21], "responders": [18], "proportion": [18 / 21], "conf_low": [0.6], "conf_high": [0.95]}
    )
    out = C._hide_proportion(frame, "responders", 5)
    assert out["responders"].iloc[0] == "suppressed" and pd.isna(out["proportion"].iloc[0])
