"""``hipkit report``: one command from a clinic export to a self-contained HTML (and PDF) report.

The report is the notebook template ``templates/clinic_report.py`` with its parameters filled in
(papermill's parameter injection), executed headless and rendered with the code left out. The data
are read (and cleaned) once, here, and handed to the template as a prepared table, so the template
never cleans the export a second time. The same template opens in JupyterLab (``hipkit report ...
--notebook analysis.ipynb`` writes the filled-in, executed notebook) so an analyst can extend the
analysis.
"""

from __future__ import annotations

import os
import tempfile
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..._arguments import renamed
from ..._glossary import DEFAULT_SCHEDULE
from ...errors import HipkitError, InputError, OutputError
from ...io.outputs import guard_outputs, write_text
from ..build import TEMPLATE, check_writable, html_to_pdf
from ..execute import NotebookExecutionError, execute_notebook, read_notebook
from ..render import render_html
from .data import SUBJECT, check_reportable, load_clinic_data, save_prepared

__all__ = ["ReportRun", "clinic_report"]


@dataclass
class ReportRun:
    """What ``hipkit report`` made: the files, the time taken, and what could not be estimated."""

    html: Path
    pdf: Path | None
    notebook: Path | None
    seconds: float
    notes: list
    n_patients: int


@renamed(programme_weeks="schedule")
def clinic_report(
    inputs: str | os.PathLike | Sequence[str | os.PathLike],
    out: str | os.PathLike,
    title: str = "Programme outcomes report",
    schedule: Sequence[float] = DEFAULT_SCHEDULE,
    min_cell: int = 5,
    deidentify: bool = False,
    salt_file: str | os.PathLike | None = None,
    pdf: str | os.PathLike | None = None,
    notebook: str | os.PathLike | None = None,
    timeout: int = 600,
) -> ReportRun:
    """Make a clinic's programme-outcomes report from raw exports or a clean table.

    Parameters
    ----------
    inputs : path or list of paths
        Raw exports (cleaned first; the cleaning log and quarantine go in an appendix) or clean tables
        written by ``hipkit clean``.
    out : path
        The HTML report to write (one self-contained file).
    title : str
    schedule : sequence of float, default (0, 2, 4, 6)
        The protocol's visit weeks (``hipkit report --schedule``; ``programme_weeks`` is its old name).
    min_cell : int, default 5
        Counts of patients below this are shown as ``"<min_cell"``.
    deidentify : bool, default False
        Needed for inputs with direct identifiers (see :func:`hipkit.report.clinic.load_clinic_data`).
    salt_file : path, optional
    pdf : path, optional
        Also print the report to this PDF with headless Chromium.
    notebook : path, optional
        Also write the filled-in, executed notebook (``.ipynb``) to open and extend in JupyterLab.
    timeout : int, default 600
        Seconds allowed per notebook cell.

    Returns
    -------
    ReportRun

    Raises
    ------
    InputError
        Input that cannot make a report (no outcome columns, fewer than ``min_cell`` patients, direct
        identifiers without ``deidentify``), with a one-line reason, before anything is written.
    OutputError
        An output is an input (or two outputs are one file), or its folder cannot be written: one
        line, before the report is built. Every output is written atomically (temporary file, then
        rename), so a failure never leaves a half-written report.
    HipkitError
        The template failed while running (the message names the section), or ``--pdf`` failed.

    Examples
    --------
    >>> run = clinic_report("datasets/raw/clinic_multisite_export.csv", "reports/clinic.html")  # doctest: +SKIP
    """
    import nbformat

    started = time.perf_counter()
    files = [Path(inputs)] if isinstance(inputs, (str, os.PathLike)) else [Path(p) for p in inputs]
    outputs = [Path(p) for p in (out, pdf, notebook) if p is not None]
    guard_outputs(outputs, [*files, *([Path(salt_file)] if salt_file else [])])
    if int(min_cell) < 1:
        raise InputError(f"--min-cell must be at least 1 (got {min_cell})")
    weeks = sorted(float(w) for w in schedule)
    if len(weeks) < 1 or weeks[0] < 0:
        raise InputError("--schedule must be weeks from baseline, e.g. 0,2,4,6")
    # Check first, in this process: bad input gets a one-line reason before a kernel starts.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cd = load_clinic_data(files, programme_weeks=weeks, deidentify=deidentify, salt=salt_file)
        notes = check_reportable(cd, min_cell=min_cell)
    for path in outputs:
        if path.is_dir():
            raise OutputError(f"cannot write {path}: it is a folder; give a file name")
    check_writable(outputs)

    with tempfile.TemporaryDirectory(prefix="hipkit-report-") as tmp:
        # The data were read (and cleaned) once, above: the template reads that table back
        # (``prepared``) instead of cleaning the export a second time.
        prepared = Path(tmp) / "clinic_data.pickle"
        save_prepared(cd, prepared)
        n_patients = int(cd.data[SUBJECT].nunique())
        del cd  # the kernel holds its own copy: do not keep two in memory
        executed = _execute_template(files, title, weeks, min_cell, deidentify, salt_file, prepared, timeout)
    html = render_html(executed, out, title, hide_code=True)
    nb_path = None
    if notebook is not None:
        nb_path = write_text(notebook, nbformat.writes(executed))
    pdf_path = html_to_pdf(html, pdf) if pdf is not None else None
    return ReportRun(
        html=html,
        pdf=pdf_path,
        notebook=nb_path,
        seconds=time.perf_counter() - started,
        notes=notes,
        n_patients=n_patients,
    )


def _execute_template(files, title, weeks, min_cell, deidentify, salt_file, prepared, timeout):
    """The template with its parameters filled in, executed headless (one kernel)."""
    from papermill.parameterize import parameterize_notebook

    nb = read_notebook(TEMPLATE)
    params = {
        "inputs": [str(f.resolve()) for f in files],
        "title": title,
        "programme_weeks": weeks,
        "min_cell": int(min_cell),
        "deidentify": bool(deidentify),
        "salt_file": str(Path(salt_file).resolve()) if salt_file else None,
        "prepared": str(prepared),
    }
    nb.metadata["hipkit_name"] = "clinic_report"
    nb.metadata["papermill"] = {}
    for cell in nb.cells:
        cell.metadata.setdefault("tags", [])
    nb = parameterize_notebook(nb, params, report_mode=False)
    nb.metadata.pop("papermill", None)  # papermill's record holds the parameters (full paths): keep them out
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{i}"
    try:
        return execute_notebook(nb, workdir=Path.cwd(), timeout=timeout)
    except NotebookExecutionError as exc:
        raise HipkitError(f"the report failed at template cell {exc.cell_index}: {exc.reason}") from None
