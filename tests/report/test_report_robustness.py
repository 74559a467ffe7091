"""Valid input that used to break ``hipkit report``, and outputs that cannot be written.

Each case runs the report template in this process (``run_template``, the same cells the kernel
runs), or the command line where only the command's own checks are involved.
"""

from __future__ import annotations

import ast
import os
import re
import stat
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hipkit.cli import main
from hipkit.registry import load_registry
from hipkit.report import clinic as C
from hipkit.report import html_to_pdf, markup
from hipkit.report.clinic import figures as F

from .conftest import run_template

REG = load_registry()
REPORT_CODE = sorted((Path(C.__file__).parent).glob("*.py")) + [
    Path(C.__file__).parent / "templates" / "clinic_report.py"
]


def _cohort(
    n=30,
    weeks=(0.0, 2.0, 4.0, 6.0),
    seed=3,
    pain_change=None,
    pain_start=None,
    strength_step=None,
    groups=("HIP", "KNEE"),
):
    """A clean long table: ``n`` patients, pain (VAS), AKPS and strength at each week."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        pain0, akps0, s0 = rng.uniform(4, 9), rng.uniform(40, 70), rng.uniform(80, 160)
        pain0 = pain0 if pain_start is None else pain_start
        drop = rng.uniform(0, 4) if pain_change is None else pain_change
        for w in weeks:
            frac = w / max(weeks)
            step = rng.normal(5, 8) if strength_step is None else strength_step
            rows.append(
                {
                    "participant_id": f"P{i:03d}",
                    "group": groups[i % len(groups)],
                    "visit_week": float(w),
                    "pain_vas": float(np.clip(round(pain0 - drop * frac, 1), 0, 10)),
                    "akps": float(np.clip(round(akps0 + 12 * frac + rng.normal(0, 3), 1), 0, 100)),
                    "hip_abd_strength_n": float(round(s0 + step * w, 1)),
                }
            )
    return pd.DataFrame(rows)


def _report(data: pd.DataFrame, tmp_path, **params) -> str:
    """The report's visible text for ``data`` (template run in this process)."""
    path = tmp_path / "clean.csv"
    data.to_csv(path, index=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return run_template({"inputs": [str(path)], "title": "t", **params}).text


def test_every_patient_reaching_the_mcid_gives_a_100_percent_rate_inside_its_interval(tmp_path):
    # Before: statsmodels' Wilson upper bound at 100% is 0.9999999999999999, the error bar came out
    # negative and matplotlib refused to draw the responder figure (the report failed).
    text = _report(_cohort(pain_change=5.0), tmp_path)
    cd = C.load_clinic_data(tmp_path / "clean.csv")
    resp = C.responder_rates(cd).set_index(["measure", "group"])
    pain = resp.loc["pain_vas"]
    assert (pain["proportion"] == 1.0).all()
    assert (pain["conf_low"] <= pain["proportion"]).all() and (pain["conf_high"] >= pain["proportion"]).all()
    assert (pain["conf_high"] <= 1.0).all()
    assert "Pain (VAS), HIP: 100% reached the MCID of 2 cm (95% CI" in text and "to 100%)" in text


@given(
    p=st.lists(st.floats(0, 1), min_size=1, max_size=6),
    low=st.lists(st.floats(-0.1, 1.1), min_size=6, max_size=6),
    high=st.lists(st.floats(-0.1, 1.1), min_size=6, max_size=6),
)
def test_proportion_intervals_are_ordered_and_within_0_and_1(p, low, high):
    n = len(p)
    frame = pd.DataFrame({"proportion": p, "conf_low": low[:n], "conf_high": high[:n]})
    out = C._ordered_interval(frame, "proportion", (0.0, 1.0))
    assert (out["conf_low"] <= out["proportion"]).all() and (out["proportion"] <= out["conf_high"]).all()
    assert out[["proportion", "conf_low", "conf_high"]].stack().between(0, 1).all()
    bars = F.error_bars(out["proportion"], out["conf_low"], out["conf_high"])
    assert (bars >= 0).all()


def test_a_change_that_is_the_same_for_every_patient_is_shown_without_a_ci(tmp_path):
    # Before: the CI of a change with no spread is missing, and the headline failed to split it
    # ("ValueError: not enough values to unpack").
    data = _cohort(pain_change=3.0, pain_start=8.0)  # every change exactly -1, -2, -3 cm
    text = _report(data, tmp_path)
    assert re.search(r"Pain \(VAS\), HIP: mean change by week 6 -3\.00 cm \(95% CI not estimable; n = 15\)", text)


def test_strength_rising_in_step_with_the_weeks_gives_a_note_not_a_failure(tmp_path):
    # Before: hipkit.lmm raised numpy's LinAlgError (within-patient strength is collinear with week).
    text = _report(
        _cohort(n=6, weeks=(0.0, 3.0), strength_step=4.0, pain_change=2.5),
        tmp_path,
        min_cell=5,
        programme_weeks=[0.0, 3.0],
    )
    assert "Not estimated: strength and Pain, visual analogue scale." in text


def test_patients_seen_only_at_week_0_are_counted_in_the_flow_and_data_quality(tmp_path):
    data = _cohort(n=30)
    only_baseline = ["P000", "P002", "P004", "P006", "P008", "P010"]  # HIP patients
    data = data.loc[~(data["participant_id"].isin(only_baseline) & (data["visit_week"] > 0))]
    path = tmp_path / "clean.csv"
    data.to_csv(path, index=False)
    cd = C.load_clinic_data(path)
    flow = C.participant_flow(cd, min_cell=1).set_index(["stage", "group", "week"])
    assert flow.loc[("lost", "HIP", 0.0), "n"] == 6
    assert flow.loc[("seen", "HIP", 2.0), "n"] == 15 - 6
    quality = C.data_quality(cd, min_cell=1).set_index("item")["count"]
    assert quality["patients seen only at week 0"] == 6
    assert quality["patients with no week-0 visit"] == 0
    text = _report(data, tmp_path, min_cell=1)
    assert "patients seen only at week 0" in text and "30 patients enrolled" in text


def test_baseline_only_patients_leaving_the_model_no_residual_df_give_a_note(tmp_path):
    # Before: with two of three patients seen only at week 0 the mixed model has as many rows as
    # coefficients, hipkit.lmm divided by zero, and the whole report failed.
    rng = np.random.default_rng(8)
    rows = [
        {
            "participant_id": f"P{i}",
            "group": "HIP",
            "visit_week": w,
            "pain_vas": round(rng.uniform(2, 8), 1),
            "hip_abd_strength_n": round(rng.uniform(80, 160), 1),
        }
        for i, weeks in enumerate([(0.0, 6.0), (0.0,), (0.0,)])
        for w in weeks
    ]
    text = _report(pd.DataFrame(rows), tmp_path, min_cell=3, programme_weeks=[0.0, 6.0])
    assert "Not estimated: strength and Pain, visual analogue scale." in text
    assert "3 patients enrolled; <3 seen at the final visit" in text


@pytest.mark.parametrize("min_cell", [1, 5])
def test_a_group_of_patients_all_seen_only_once_builds(tmp_path, min_cell):
    data = _cohort(n=20, groups=("HIP", "KNEE", "ONCE"))
    once = data["group"] == "ONCE"
    data = data.loc[~once | (data["visit_week"] == 4.0)]  # the ONCE group: one visit at week 4, no baseline
    text = _report(data, tmp_path, min_cell=min_cell)
    assert "patients with no week-0 visit" in text


def test_measure_names_written_in_the_report_code_are_registry_names():
    # Before: the report asked for "nprs"; the registry's name is "pain_nprs", so NPRS was left out.
    names = {m.name for m in REG.measures}
    looks_like_a_measure = re.compile(r"^(?:pain_\w+|nprs|vas|akps|lefs|hip_abd_\w+)$")
    written = set()
    for path in REPORT_CODE:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and looks_like_a_measure.match(node.value)
            ):
                written.add(node.value)
    assert written and written <= names, written - names
    assert {*C.PAIN_MEASURES, *C.FUNCTION_MEASURES, C.STRENGTH} <= names


LABEL = st.one_of(
    st.text(alphabet=st.sampled_from("$\\{}^_ab1 \u202e\n"), min_size=1, max_size=12),
    st.sampled_from(["$\\alpha$", "a $\\frac{ b$", "$$", "$x^{$", "\\$", "L" * 500]),
)


@settings(max_examples=20, deadline=None)
@given(groups=st.lists(LABEL, min_size=1, max_size=3, unique=True), reason=LABEL)
def test_figures_show_labels_as_written_never_as_mathtext(groups, reason):
    """A group called ``$\\frac{$`` used to fail to parse as maths (or render as maths) in every figure."""
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.text import Text

    resp = pd.DataFrame(
        {
            "measure": "pain_vas",
            "group": groups,
            "proportion": 1.0,
            "conf_low": 0.7,
            "conf_high": 0.9999999999999999,
        }
    )
    rows = [{"stage": "enrolled", "week": np.nan, "group": "all", "n": 9, "reason": ""}]
    rows += [{"stage": "seen", "week": w, "group": "all", "n": 9, "reason": ""} for w in (0.0, 2.0)]
    rows += [{"stage": "completed", "week": 2.0, "group": "all", "n": 4, "reason": ""}]
    rows += [{"stage": "lost", "week": 0.0, "group": "all", "n": 5, "reason": reason}]
    for fig in (F.plot_responders(resp), F.plot_flow(pd.DataFrame(rows))):
        fig.savefig(io.BytesIO(), format="png", dpi=20, bbox_inches="tight")
        texts = [t for t in fig.findobj(Text) if t.get_text()]
        assert all(not t.get_parse_math() for t in texts)
        shown = "\n".join(t.get_text() for t in texts)
        plt.close(fig)
    labels = [t.get_text() for t in F.plot_responders(resp).axes[0].get_yticklabels()]
    plt.close("all")
    assert sorted(labels) == sorted(F._labels([f"Pain (VAS), {g}" for g in groups], max_chars=60))
    assert markup.plot_label(reason) in shown


# ---- Outputs -------------------------------------------------------------------------------------


def _clean_input(tmp_path) -> Path:
    path = tmp_path / "clean.csv"
    _cohort(n=10).to_csv(path, index=False)
    return path


def _one_line_error(capsys) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("hipkit: error: ") and "internal error" not in err, err
    return err


def test_out_equal_to_the_input_is_refused_and_the_input_left_as_it_was(tmp_path, capsys):
    path = tmp_path / "clean.html"
    _cohort(n=10).to_csv(path, index=False)  # a clean table that happens to be called .html
    before = path.read_bytes()
    code = main(["report", str(path), "--out", str(path)])
    assert code == 2 and "it is an input file" in _one_line_error(capsys)
    assert path.read_bytes() == before


def test_notebook_equal_to_the_input_is_refused(tmp_path, capsys):
    path = _clean_input(tmp_path)
    code = main(["report", str(path), "--out", str(tmp_path / "r.html"), "--notebook", str(path)])
    assert code == 2 and "it is an input file" in _one_line_error(capsys)
    assert not (tmp_path / "r.html").exists()


def test_out_under_a_file_is_a_one_line_error_before_the_report_is_built(tmp_path, capsys):
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("x")
    code = main(["report", str(_clean_input(tmp_path)), "--out", str(blocker / "sub" / "r.html")])
    assert code == 2 and f"{blocker} is a file, not a folder" in _one_line_error(capsys)


def test_out_that_is_a_folder_is_a_one_line_error(tmp_path, capsys):
    folder = tmp_path / "r.html"
    folder.mkdir()
    code = main(["report", str(_clean_input(tmp_path)), "--out", str(folder)])
    assert code == 2 and "it is a folder" in _one_line_error(capsys)


@pytest.mark.skipif(sys.platform == "win32" or os.geteuid() == 0, reason="root (and Windows) can write anyway")
def test_a_read_only_output_folder_is_a_one_line_error(tmp_path, capsys):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        code = main(["report", str(_clean_input(tmp_path)), "--out", str(folder / "r.html")])
    finally:
        folder.chmod(stat.S_IRWXU)
    assert code == 2 and "cannot write" in _one_line_error(capsys) and not (folder / "r.html").exists()


def _fake_chromium(tmp_path, body: str) -> str:
    """A stand-in for Chromium: a script that finds its --print-to-pdf= path as ``out`` and runs ``body``."""
    exe = tmp_path / "fake-chromium"
    find = "out = [a.split('=', 1)[1] for a in sys.argv if a.startswith('--print-to-pdf=')][0]"
    exe.write_text(f"#!{sys.executable}\nimport sys\n{find}\n{body}\n")
    exe.chmod(0o755)
    return str(exe)


def test_pdf_is_printed_to_a_temporary_file_and_renamed_into_place(tmp_path, monkeypatch):
    monkeypatch.setenv(
        "HIPKIT_CHROMIUM", _fake_chromium(tmp_path, "open(out, 'wb').write(b'%PDF-1.7 printed')\nprint(out)")
    )
    html = tmp_path / "r.html"
    html.write_text("<p>x</p>")
    pdf = tmp_path / "out" / "r.pdf"
    assert html_to_pdf(html, pdf) == pdf.resolve()
    assert pdf.read_bytes() == b"%PDF-1.7 printed"
    assert [p.name for p in pdf.parent.iterdir()] == ["r.pdf"]  # nothing left beside it


def test_a_failed_print_leaves_the_previous_pdf_untouched(tmp_path, monkeypatch):
    from hipkit.errors import HipkitError

    # Chromium writes half a file, then fails.
    monkeypatch.setenv(
        "HIPKIT_CHROMIUM", _fake_chromium(tmp_path, "open(out, 'wb').write(b'%PDF-1.7 half')\nsys.exit(1)")
    )
    html = tmp_path / "r.html"
    html.write_text("<p>x</p>")
    pdf = tmp_path / "r.pdf"
    pdf.write_bytes(b"%PDF-1.7 the earlier report")
    with pytest.raises(HipkitError, match="could not print"):
        html_to_pdf(html, pdf)
    assert pdf.read_bytes() == b"%PDF-1.7 the earlier report"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fake-chromium", "r.html", "r.pdf"]


@pytest.mark.parametrize(
    ("column", "value"), [("visit_week", "two"), ("pain_vas", "seven"), ("akps", "True")], ids=["week", "vas", "akps"]
)
def test_a_clean_table_with_text_in_a_number_column_is_a_one_line_error(tmp_path, capsys, column, value):
    data = _cohort(n=10).astype({column: object})
    data.loc[3, column] = value
    path = tmp_path / "clean.csv"
    data.to_csv(path, index=False)
    code = main(["report", str(path), "--out", str(tmp_path / "r.html")])
    err = _one_line_error(capsys)
    assert code == 2 and f"row 4: {column} holds '{value}', not a number" in err


def test_ids_and_group_labels_of_a_clean_table_are_read_as_text(tmp_path):
    data = _cohort(n=10)
    ids = {f"P{i:03d}": (f"00{i}" if i < 5 else str(i - 5)) for i in range(10)}  # "001" and "1", ...
    data["participant_id"] = data["participant_id"].map(ids)
    data["group"] = np.where(data["group"] == "HIP", "1", "2")
    path = tmp_path / "clean.csv"
    data.to_csv(path, index=False)
    cd = C.load_clinic_data(path)
    assert cd.data["participant_id"].nunique() == 10  # "001" and "1" are two patients
    assert set(cd.data["group"]) == {"1", "2"}  # not "1.0"
