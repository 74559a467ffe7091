"""Execute each notebook once per test session and share the result between tests."""

from __future__ import annotations

import re
from pathlib import Path

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
