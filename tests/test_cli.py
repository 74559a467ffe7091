import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from hipkit.cli import main

ROOT = Path(__file__).resolve().parents[1]


def run(argv, capsys):
    code = main(argv)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_clean_exits_zero_even_with_quarantined_rows(write, tmp_path, capsys):
    p = write("x.csv", "ID,Visit,VAS\nP1,Baseline,5\nP1,Week 2,55\n,Week 2,4\n")
    code, out, err = run(
        [
            "clean",
            str(p),
            "--out",
            str(tmp_path / "o.csv"),
            "--quarantine",
            str(tmp_path / "q.csv"),
            "--log",
            str(tmp_path / "l.json"),
            "--no-progress",
        ],
        capsys,
    )
    assert code == 0, err
    assert "quarantined: 1" in out
    log = json.loads((tmp_path / "l.json").read_text())
    assert log["rows"]["invariant_holds"]
    assert len(pd.read_csv(tmp_path / "q.csv")) == 2


def test_default_output_names_sit_beside_out(write, tmp_path, capsys):
    p = write("x.csv", "ID,Visit,VAS\nP1,Baseline,5\n")
    code, _, _ = run(["clean", str(p), "--out", str(tmp_path / "site_clean.parquet"), "--quiet"], capsys)
    assert code == 0
    assert (tmp_path / "site_quarantine.csv").exists() and (tmp_path / "site_log.json").exists()
    assert pd.read_parquet(tmp_path / "site_clean.parquet")["pain_vas"].tolist() == [5.0]


@pytest.mark.parametrize(
    "content, fragment",
    [
        (b"", "empty"),
        (b"foo,bar\n1,2\n", "no participant id column"),
        (b"ID,HipAbd (stone)\nP1,3\n", "unit 'stone' is not known"),
        (b"\x00\x00\x00", "binary"),
    ],
)
def test_unreadable_or_unmappable_file_exits_non_zero_with_one_line(write, tmp_path, capsys, content, fragment):
    p = write("bad.csv", content)
    code, out, err = run(["clean", str(p), "--out", str(tmp_path / "o.csv")], capsys)
    assert code == 2
    assert fragment in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not (tmp_path / "o.csv").exists()


def test_bad_schedule_is_a_usage_error(write, capsys):
    p = write("x.csv", "ID,Visit,VAS\nP1,Baseline,5\n")
    with pytest.raises(SystemExit):
        main(["clean", str(p), "--schedule", "a,b"])


def test_deidentify_with_salt_file_never_writes_the_salt(write, tmp_path, capsys):
    p = write("x.csv", "ID,Name,Visit,VAS\nP1,Ann Example,Baseline,5\n")
    salt = tmp_path / "salt.txt"
    salt.write_text("pepper-and-salt-123")
    code, _, _ = run(
        ["clean", str(p), "--out", str(tmp_path / "o.csv"), "--deidentify", "--salt-file", str(salt), "--quiet"], capsys
    )
    assert code == 0
    for f in ["o.csv", "o_quarantine.csv", "o_log.json"]:
        text = (tmp_path / f).read_text()
        assert "pepper-and-salt-123" not in text and "Ann Example" not in text and ",P1," not in text


def test_measures_lists_the_registry(capsys):
    code, out, _ = run(["measures"], capsys)
    assert code == 0 and "pain_vas" in out and "hip_abd_strength_n" in out


def test_console_script_is_installed():
    exe = Path(sys.executable).with_name("hipkit")
    assert exe.exists(), "pip install -e . should create the hipkit console script"
    proc = subprocess.run([str(exe), "--version"], capture_output=True, text=True, check=False)
    assert proc.returncode == 0 and "hipkit" in proc.stdout


RAW = ROOT / "datasets" / "raw"
COMMITTED = ROOT / "datasets" / "clean"


@pytest.mark.skipif(not (COMMITTED / "clinic_clean.csv").exists(), reason="committed cleaned output not built yet")
def test_cleaning_the_bundled_messy_exports_reproduces_the_committed_output(tmp_path, capsys):
    args = [
        "clean",
        str(RAW / "clinic_export_messy.csv"),
        str(RAW / "clinic_followup_long.csv"),
        "--out",
        str(tmp_path / "clinic_clean.csv"),
        "--quarantine",
        str(tmp_path / "clinic_quarantine.csv"),
        "--log",
        str(tmp_path / "clinic_log.json"),
        "--no-progress",
        "--quiet",
    ]
    assert main(args) == 0
    for f in ["clinic_clean.csv", "clinic_quarantine.csv"]:
        assert (tmp_path / f).read_bytes() == (COMMITTED / f).read_bytes(), f
    got = json.loads((tmp_path / "clinic_log.json").read_text())
    want = json.loads((COMMITTED / "clinic_log.json").read_text())
    got.pop("hipkit_version"), want.pop("hipkit_version")
    assert got == want
    assert got["rows"]["invariant_holds"]


def test_demo_runs_on_the_bundled_data(tmp_path, capsys):
    if not (RAW / "clinic_export_messy.csv").exists():
        pytest.skip("bundled data not built yet")
    code, out, err = run(["demo", "--out", str(tmp_path), "--only", "00_quickstart", "--no-progress"], capsys)
    assert code == 0, err
    assert (tmp_path / "demo" / "clinic_clean.csv").exists()


def test_describe_prints_table1_by_group_and_visit(capsys, tmp_path):
    out = tmp_path / "t1.csv"
    code, text, _ = run(
        ["describe", "--data", str(COMMITTED / "clinic_clean.csv"), "--measures", "pain_vas", "--out", str(out)], capsys
    )
    assert code == 0 and "pain_vas" in text
    t1 = pd.read_csv(out)
    assert {"group", "visit_week", "measure", "n", "mean", "sd", "n_missing"} <= set(t1.columns)


def _two_sided(seed: int) -> pd.DataFrame:
    """A clean-style table: a row per participant x visit x side, pain (participant-level) on both rows."""
    import numpy as np

    rng = np.random.default_rng(seed)
    rows = []
    for p in range(int(rng.integers(6, 20))):
        for w in (0, 2, 4, 6)[: int(rng.integers(2, 5))]:
            pain = float(rng.integers(0, 100)) / 10 if rng.random() > 0.1 else float("nan")
            sides = ["left", "right"] if rng.random() > 0.2 else ["left"]
            for s in sides:
                strength = float(rng.normal(200, 30))
                rows.append({"participant_id": f"P{p:02d}", "visit_week": w, "side": s, "pain_vas": pain,
                             "group": "HIP" if p % 2 else "KNEE", "hip_abd_strength_n": strength})  # fmt: skip
    return pd.DataFrame(rows)


@pytest.mark.parametrize("seed", range(8))
def test_fit_warns_with_the_count_when_a_participant_level_measure_repeats_on_each_side(seed, tmp_path, capsys):
    d = _two_sided(seed)
    path = tmp_path / "clean.csv"
    d.to_csv(path, index=False)
    formula = "pain_vas ~ visit_week + (1 | participant_id)"
    code, out, err = run(["fit", formula, "--data", str(path), "--json", str(tmp_path / "a.json")], capsys)
    assert code == 0
    present = d[d["pain_vas"].notna()]
    repeats = len(present) - len(present.drop_duplicates(["participant_id", "visit_week"]))
    assert f"but {repeats:,} of {len(present):,} rows repeat" in err and "--per-participant" in err
    assert json.loads((tmp_path / "a.json").read_text())["glance"]["nobs"] == len(present)
    # --per-participant: one row per participant and visit, no warning
    code, out, err = run(["fit", formula, "--data", str(path), "--per-participant", "--json", str(tmp_path / "b.json")],
                         capsys)  # fmt: skip
    assert code == 0 and "warning" not in err
    assert json.loads((tmp_path / "b.json").read_text())["glance"]["nobs"] == len(present) - repeats


def test_fit_per_participant_refuses_a_per_side_measure_in_one_line(tmp_path, capsys):
    path = tmp_path / "clean.csv"
    _two_sided(1).to_csv(path, index=False)
    code, out, err = run(["fit", "hip_abd_strength_n ~ visit_week + (1 | participant_id)", "--data", str(path),
                          "--per-participant"], capsys)  # fmt: skip
    assert code == 2
    lines = [ln for ln in err.splitlines() if ln.startswith("hipkit: error:")]
    assert len(lines) == 1 and "hip_abd_strength_n" in lines[0] and "np." not in lines[0]


def test_fit_does_not_warn_about_a_per_side_measure(tmp_path, capsys):
    path = tmp_path / "clean.csv"
    _two_sided(2).to_csv(path, index=False)
    code, out, err = run(["fit", "hip_abd_strength_n ~ visit_week + (1 | participant_id)", "--data", str(path),
                          "--quiet"], capsys)  # fmt: skip
    assert code == 0 and "warning" not in err


def test_report_takes_schedule_as_clean_does_and_the_old_option_name_warns(tmp_path, capsys, monkeypatch):
    import hipkit.cli as cli

    seen = {}

    class _Run:
        notes = ()
        out = tmp_path / "r.html"
        pdf = None
        notebook = None

    def fake_report(inputs, out, **kw):
        seen.update(kw)
        return _Run()

    monkeypatch.setattr(cli, "clinic_report", fake_report)
    src = tmp_path / "x.csv"
    src.write_text("participant_id,visit_week\nP1,0\n")
    run(["report", str(src), "--out", str(tmp_path / "r.html"), "--schedule", "0,3"], capsys)
    assert list(seen["schedule"]) == [0.0, 3.0]
    code, out, err = run(["report", str(src), "--out", str(tmp_path / "r.html"), "--programme-weeks", "0,6"], capsys)
    assert list(seen["schedule"]) == [0.0, 6.0] and "--programme-weeks is now called --schedule" in err
