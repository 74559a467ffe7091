"""``hipkit demo``: clean the bundled exports, run every notebook, add the clinic report, write the index.

The command line (:mod:`hipkit.cli`) parses the options and calls :func:`run_demo`; everything the
demo does is here. Progress lines go through ``echo`` (the command line passes its terminal-safe
print, which shows control characters from data as escapes).
"""

from __future__ import annotations

import sys
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

from .._version import __version__
from ..cleaning import clean
from ..errors import HipkitError
from .build import TEMPLATE
from .clinic import clinic_report
from .execute import find_project_root
from .index import build_index, git_commit
from .run import NotebookRun, run_all

__all__ = ["run_demo", "demo_clinic_report", "DEMO_EXPORTS", "CLINIC_EXPORT"]

#: The bundled raw exports the demo cleans (in ``datasets/raw``).
DEMO_EXPORTS = ("clinic_export_messy.csv", "clinic_followup_long.csv")
#: The bundled export the demo's clinic report is made from.
CLINIC_EXPORT = "clinic_multisite_export.csv"


def _shown(path: Path) -> str:
    """``path`` relative to the working folder where it is inside it, else absolute."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path.resolve())


def run_demo(
    out: str | Path | None = None,
    only: Sequence[str] | None = None,
    notebooks: str | Path | None = None,
    data: str | Path | None = None,
    timeout: int = 600,
    progress: bool | None = None,
    echo: Callable[..., None] = print,
) -> list[NotebookRun]:
    """Run the demo: clean the bundled exports, execute the notebooks, make the clinic report.

    Parameters
    ----------
    out : path, optional
        Output folder (default: ``reports/`` of the project).
    only : sequence of str, optional
        Run only these notebooks (then no clinic report and no new index).
    notebooks : path, optional
        Notebook folder (default: ``notebooks/`` of the project).
    data : path, optional
        Bundled raw data folder (default: ``datasets/raw`` of the project).
    timeout : int, default 600
        Seconds allowed per notebook cell.
    progress : bool, optional
        Progress bar (None: when the terminal is interactive).
    echo : callable, default print
        Where progress lines go (``echo(text)``; ``echo(text, file=sys.stderr)`` for the failure line).

    Returns
    -------
    list of NotebookRun
        One per notebook (and the clinic report); a failed one has ``ok`` False.

    Raises
    ------
    HipkitError
        ``data`` was given and the bundled exports are not in it.
    """
    started = time.perf_counter()
    if notebooks:
        notebooks = Path(notebooks)
        try:
            root = find_project_root(notebooks)
        except HipkitError:
            root = notebooks.resolve().parent
    else:
        root = find_project_root()
        notebooks = root / "notebooks"
    out = Path(out) if out else root / "reports"
    echo("hipkit demo")

    raw = Path(data) if data else root / "datasets" / "raw"
    files = [raw / name for name in DEMO_EXPORTS]
    if all(f.exists() for f in files):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = clean(files, progress=False)
        folder = out / "demo"
        result.write(folder / "clinic_clean.csv", folder / "clinic_quarantine.csv", folder / "clinic_log.json")
        rows = result.log["rows"]
        echo(f"  cleaned the bundled exports: {rows['in']} records in, {rows['out']} rows out -> {_shown(folder)}")
    elif data:
        raise HipkitError(f"bundled data not found: {', '.join(str(f) for f in files if not f.exists())}")

    runs = run_all(notebooks, out, timeout=timeout, only=only, workdir=root, progress=progress)
    export = raw / CLINIC_EXPORT
    if export.exists() and not only:
        runs.append(demo_clinic_report(export, out, root))
        build_index(runs, out / "index.html", __version__, git_commit(root), time.perf_counter() - started)
    width = max([len(r.name) for r in runs] + [8])
    for r in runs:
        status = "ok    " if r.ok else "FAILED"
        echo(f"  {status}  {r.name:<{width}}  {r.seconds:6.1f} s  {r.title if r.ok else r.error}")
    failed = [r for r in runs if not r.ok]
    plural = "s" if len(runs) != 1 else ""
    echo(f"  {len(runs)} notebook{plural}, {len(failed)} failed, {time.perf_counter() - started:.1f} s")
    echo(f"\nReports written to {out.resolve()}\n  index: {(out / 'index.html').resolve()}")
    if failed:
        echo(f"hipkit: error: {len(failed)} notebook(s) failed: {', '.join(r.name for r in failed)}", file=sys.stderr)
    return runs


def demo_clinic_report(export: Path, out: Path, root: Path) -> NotebookRun:
    """``hipkit report`` of the bundled clinic export, as one more entry of the demo's index.

    Parameters
    ----------
    export : path
        The clinic export.
    out : path
        The demo's output folder (the report is ``clinic.html`` in it).
    root : path
        The project folder (the index shows the export's path relative to it).

    Returns
    -------
    NotebookRun
    """
    started = time.perf_counter()
    html = out / "clinic.html"
    title = "Clinic programme outcomes report (hipkit report)"
    try:
        clinic_report(export, html, title=title)
        error = None
    except HipkitError as exc:
        error = f"hipkit report: {exc}"
    return NotebookRun(
        name="clinic",
        source=TEMPLATE,
        title=title,
        description=f"`hipkit report {export.relative_to(root) if export.is_relative_to(root) else export} "
        "--out reports/clinic.html`: the report a clinic hands to its team (made-up data)",
        ok=error is None,
        seconds=time.perf_counter() - started,
        html=html if html.exists() else None,
        results_path=None,
        results={},
        error=error,
    )
