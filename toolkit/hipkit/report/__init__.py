"""Notebooks to reports: execute jupytext notebooks headless and render self-contained HTML.

- :func:`record` publishes a notebook's key result (for tests) to ``reports/<notebook>.results.json``.
- :func:`execute_notebook` runs one jupytext ``.py`` notebook with the current interpreter's kernel.
- :func:`render_html` writes one self-contained page (figures embedded, code folded).
- :func:`clinic_report` makes a clinic's programme-outcomes report (``hipkit report``) from the
  template ``clinic/templates/clinic_report.py``, with the privacy-safe analyses of the
  :mod:`hipkit.report.clinic` package.
- :mod:`hipkit.report.format` is the one place where numbers become text (estimates with intervals,
  p values, weeks, sentences, HTML tables); :mod:`hipkit.report.disclosure` the one suppression rule.
- :func:`run_all` does both for every notebook of a folder and writes ``index.html``
  (:func:`build_index`).
- :mod:`hipkit.report.markup` is the one road from text to HTML (escaped on the way; data never
  becomes markup), and :mod:`hipkit.report.clinic.figures` draws the clinic report's figures (data labels
  never parsed as mathtext).

Importing this package is light: nbclient and nbconvert load only when a notebook is executed or rendered.
"""

from .build import find_chromium, html_to_pdf
from .clinic import ReportRun, clinic_report
from .execute import NotebookExecutionError, execute_notebook, find_project_root, read_notebook
from .index import build_index, git_commit, notebook_title
from .render import external_resources, render_html
from .results import RESULTS_ENV, read_results, record
from .run import NotebookRun, list_notebooks, run_all

__all__ = [
    "record",
    "read_results",
    "RESULTS_ENV",
    "execute_notebook",
    "read_notebook",
    "render_html",
    "external_resources",
    "build_index",
    "notebook_title",
    "git_commit",
    "run_all",
    "list_notebooks",
    "find_project_root",
    "NotebookRun",
    "NotebookExecutionError",
    "clinic_report",
    "ReportRun",
    "html_to_pdf",
    "find_chromium",
]
