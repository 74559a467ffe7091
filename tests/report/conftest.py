"""Execute each notebook once per test session and share the result between tests."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"

# A notebook that takes over about a minute says so in its jupytext header, and its execution test
# is then marked slow:
#   # ---
#   # jupyter:
#   #   hipkit:
#   #     slow: true
_SLOW = re.compile(r"^#\s+slow:\s*true\s*$", re.MULTILINE)


def notebook_params():
    """One pytest param per notebook in notebooks/, marked slow when its header says so."""
    params = []
    for path in sorted(NOTEBOOKS.glob("*.py")):
        if path.name.startswith(("_", ".")):
            continue
        header = path.read_text(encoding="utf-8").split("# %%", 1)[0]
        marks = [pytest.mark.slow] if _SLOW.search(header) else []
        params.append(pytest.param(path.stem, marks=marks, id=path.stem))
    return params


@pytest.fixture(scope="session")
def clinic_run(tmp_path_factory):
    """``hipkit report`` of the bundled 2,000-patient clinic export, made once per session.

    Returns ``(ReportRun, html text)``; the PDF is written too where Chromium is installed.
    """
    from hipkit.report import clinic_report, find_chromium

    out = tmp_path_factory.mktemp("clinic") / "clinic.html"
    pdf = out.with_suffix(".pdf") if find_chromium() else None
    run = clinic_report(
        ROOT / "datasets" / "raw" / "clinic_multisite_export.csv", out, title="Clinic test report", pdf=pdf
    )
    return run, out.read_text(encoding="utf-8")


class TemplateRun:
    """The report template executed in this process: what it displayed, as one HTML string."""

    def __init__(self, shown, namespace):
        from html.parser import HTMLParser

        self.shown = shown
        self.namespace = namespace
        self.html = "\n".join(_as_html(obj) for obj in shown)
        parts: list[str] = []
        parser = HTMLParser(convert_charrefs=True)
        parser.handle_data = parts.append
        parser.feed(self.html.replace("</td><td>", "</td> <td>").replace("</th><th>", "</th> <th>"))
        #: What a reader sees: the text without tags, entities decoded, table cells apart.
        self.text = re.sub(r"[ \t]+", " ", "".join(parts))


def _as_html(obj) -> str:
    if hasattr(obj, "_repr_html_"):
        return obj._repr_html_()
    # Anything else the template displays would reach the page as its text/plain repr.
    return f"<pre>{obj!r}</pre>"


def run_template(params: dict, figure_dpi: int = 20) -> TemplateRun:
    """Execute the code cells of ``hipkit/report/templates/clinic_report.py`` in-process, as the kernel would.

    The same cells ``hipkit report`` runs (read with jupytext), one namespace, the parameters cell
    followed by ``params`` (papermill's injection), ``display`` captured, and every figure a cell
    leaves open rendered to PNG with ``bbox_inches="tight"`` as the inline backend does (at a low dpi:
    the layout is what can fail, not the pixels). About ten times faster than starting a kernel.
    Raises whatever the template raises.
    """
    import io
    from unittest import mock

    import jupytext
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from hipkit.report.build import TEMPLATE

    nb = jupytext.read(TEMPLATE)
    shown: list = []
    namespace: dict = {}
    with mock.patch("IPython.display.display", lambda *objs, **kw: shown.extend(objs)), plt.rc_context():
        try:
            for i, cell in enumerate(nb.cells):
                if cell.cell_type != "code":
                    continue
                exec(compile(cell.source, f"<clinic_report.py cell {i}>", "exec"), namespace)  # noqa: S102
                if "parameters" in cell.metadata.get("tags", []):
                    namespace.update(params)
                for num in plt.get_fignums():
                    plt.figure(num).savefig(io.BytesIO(), format="png", dpi=figure_dpi, bbox_inches="tight")
                plt.close("all")
        finally:
            plt.close("all")
    return TemplateRun(shown, namespace)


# Injection payloads for every text field of an export. None holds a digit, so the reports made with
# them and with plain labels must show exactly the same numbers.
HOSTILE = {
    "group": {
        "HIP": "HIP <img src=x onerror=\"window.hipkitPwned='img'\"> \"'><svg onload=\"window.hipkitPwned='svg'\"> "
        "$\\alpha$ $x^y$ \u202eReversed",
        "KNEE": "KNEE <script>window.hipkitPwned='script'</script> [link](javascript:window.hipkitPwned=true) "
        "![](http://evil.example/pixel.png) &lt;b&gt;entity&amp; {{ config }} " + "L" * 300,
    },
    "site": '<iframe src="javascript:window.hipkitPwned=\'iframe\'"></iframe><base href="http://evil.example/">',
    "reason": "<a href=\"javascript:window.hipkitPwned='a'\">moved</a> "
    '<meta http-equiv="refresh" content="zero;url=http://evil.example/"> '
    '<link rel="stylesheet" href="http://evil.example/x.css"> <style>body{display:none}</style>',
    # The cleaner keeps visit labels it can read as weeks (at most one word besides "N weeks").
    "visits": {0: "Baseline", 2: "2 weeks \"'><script>", 4: "4 weeks <b>", 6: "6 weeks $\\alpha$"},
    "file": "\"'><img src=x onerror=window.hipkitPwned=true> export.csv",
    "title": "<script>window.hipkitPwned='title'</script><img src=x onerror=alert(document.domain)> "
    "$\\alpha$ **bold** [link](javascript:alert(document.domain)) \u202eReversed",
}
BENIGN = {
    "group": {"HIP": "HIP", "KNEE": "KNEE"},
    "site": "North",
    "reason": "moved away",
    "visits": {0: "Baseline", 2: "2 weeks", 4: "4 weeks", 6: "6 weeks"},
    "file": "plain export.csv",
    "title": "Plain labels report",
}


def labelled_export(folder: Path, labels: dict) -> Path:
    """A raw clinic export (40 made-up patients, weeks 0-6) with its text fields taken from ``labels``.

    Six patients stop after week 2 with the same discharge reason (shared by enough patients to be
    shown). The numbers are the same whatever the labels.
    """
    from hipkit.simulate import simulate

    data = simulate("ferber2015", seed=11, n_scale=0.2).data
    data = data.loc[data["visit_week"].isin([0, 2, 4, 6])].copy()
    completers = sorted(data.loc[data["group"] == "HIP", "participant_id"].unique())[:6]
    data = data.loc[~(data["participant_id"].isin(completers) & (data["visit_week"] > 2))]
    raw = pd.DataFrame(
        {
            "Patient ID": data["participant_id"],
            "Site": labels["site"],
            "Group": data["group"].map(labels["group"]),
            "Sex": data["sex"],
            "Age": data["age_years"],
            "Visit": data["visit_week"].map(lambda w: labels["visits"][int(w)]),
            "VAS (mm)": (data["pain_vas"] * 10).round(0),
            "AKPS": data["akps"],
            "Hip abduction (N)": data["hip_abd_strength_n"],
            "Discharge reason": np.where(data["participant_id"].isin(completers), labels["reason"], ""),
        }
    )
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / labels["file"]
    raw.to_csv(path, index=False)
    return path


@pytest.fixture(scope="session")
def hostile_reports(tmp_path_factory):
    """Reports of the same export with hostile and with plain labels: raw (with PDFs) and clean-table input.

    Returns a dict: ``hostile``, ``plain`` (raw exports through the cleaner) and ``hostile_clean``
    (the hostile export cleaned by ``hipkit clean`` first), each a ``ReportRun``; the PDFs are made
    where Chromium is installed.
    """
    import warnings

    import hipkit
    from hipkit.report import clinic_report, find_chromium

    root = tmp_path_factory.mktemp("hostile")
    runs = {}
    for name, labels in (("hostile", HOSTILE), ("plain", BENIGN)):
        export = labelled_export(root / name / "in", labels)
        out = root / name / "report.html"
        pdf = out.with_suffix(".pdf") if find_chromium() else None
        runs[name] = clinic_report(export, out, title=labels["title"], pdf=pdf)
        runs[name].export = export
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cleaned = hipkit.clean(runs["hostile"].export, progress=False).data
    clean = root / "hostile_clean" / "in" / ("clean " + HOSTILE["file"])
    clean.parent.mkdir(parents=True)
    cleaned.to_csv(clean, index=False)
    runs["hostile_clean"] = clinic_report(clean, root / "hostile_clean" / "report.html", title=HOSTILE["title"])
    runs["hostile_clean"].export = clean
    return runs
