"""Execute every notebook of a folder, render each to HTML, and write the index page."""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from .._version import __version__
from ..errors import HipkitError, InputError
from .execute import NotebookExecutionError, execute_notebook, find_project_root, read_notebook
from .index import build_index, git_commit, notebook_title
from .render import render_html
from .results import read_results

__all__ = ["NotebookRun", "list_notebooks", "run_all"]


@dataclass
class NotebookRun:
    """The outcome of executing and rendering one notebook.

    Attributes
    ----------
    name : str
        File stem, e.g. ``00_quickstart``.
    source : pathlib.Path
        The notebook file.
    title, description : str
        From the notebook's first markdown cell.
    ok : bool
        Whether every cell executed.
    seconds : float
        Time taken to execute and render.
    html : pathlib.Path or None
        The rendered page (also written for a failed notebook, up to the failing cell).
    results_path : pathlib.Path or None
        ``<out_dir>/<name>.results.json``.
    results : dict
        What the notebook published with :func:`hipkit.report.record`.
    error : str or None
        One line naming the notebook, the failing cell and the error.
    """

    name: str
    source: Path
    title: str
    description: str = ""
    ok: bool = True
    seconds: float = 0.0
    html: Path | None = None
    results_path: Path | None = None
    results: dict = field(default_factory=dict)
    error: str | None = None


def list_notebooks(notebook_dir: str | os.PathLike, pattern: str = "*.py", only=None) -> list[Path]:
    """The notebooks in ``notebook_dir`` matching ``pattern``, sorted by name.

    Files whose names start with ``_`` or ``.`` (helpers) are skipped.

    Parameters
    ----------
    notebook_dir : str or path-like
        Folder of jupytext ``.py`` notebooks.
    pattern : str, default "*.py"
        Glob pattern.
    only : list of str, optional
        Keep only these notebooks (stems or file names).

    Returns
    -------
    list of pathlib.Path

    Raises
    ------
    InputError
        If the folder does not exist or a name in ``only`` matches no notebook (the message lists
        the notebooks there are).
    """
    folder = Path(notebook_dir)
    if not folder.is_dir():
        raise InputError(f"{folder}: no such notebook folder")
    found = sorted(p for p in folder.glob(pattern) if p.is_file() and not p.name.startswith(("_", ".")))
    if only:
        stems = {p.stem: p for p in found} | {p.name: p for p in found}
        unknown = [o for o in only if o not in stems]
        if unknown:
            names = ", ".join(p.stem for p in found) or "none"
            raise InputError(f"no notebook named {', '.join(unknown)} in {folder} (there are: {names})")
        keep = {stems[o] for o in only}
        found = [p for p in found if p in keep]
    return found


def run_all(
    notebook_dir: str | os.PathLike,
    out_dir: str | os.PathLike,
    pattern: str = "*.py",
    timeout: int = 600,
    only=None,
    workdir: str | os.PathLike | None = None,
    progress: bool | None = None,
) -> list[NotebookRun]:
    """Execute each notebook headless, render it to ``out_dir/<name>.html``, and write ``index.html``.

    A notebook that fails does not stop the others: its page is rendered up to the failing cell,
    a one-line error naming the notebook and the cell is printed, and its run has ``ok=False``.

    Parameters
    ----------
    notebook_dir : str or path-like
        Folder of jupytext percent-format ``.py`` notebooks.
    out_dir : str or path-like
        Where the pages, ``<name>.results.json`` files and ``index.html`` go.
    pattern : str, default "*.py"
        Which files are notebooks.
    timeout : int, default 600
        Seconds allowed for each cell.
    only : list of str, optional
        Run only these notebooks (stems such as ``01_replicate_2011``).
    workdir : str or path-like, optional
        Working directory of the kernels (default: the project root above ``notebook_dir``).
    progress : bool, optional
        Show a progress bar (default: when standard error is a terminal).

    Returns
    -------
    list of NotebookRun
        One per notebook, in name order.

    Examples
    --------
    >>> runs = run_all("notebooks", "reports")  # doctest: +SKIP
    >>> [r.name for r in runs if not r.ok]  # doctest: +SKIP
    []
    """
    started = time.perf_counter()
    paths = list_notebooks(notebook_dir, pattern, only)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if workdir is None:
        try:
            workdir = find_project_root(notebook_dir)
        except HipkitError:
            workdir = Path(notebook_dir).resolve().parent
    if progress is None:
        progress = sys.stderr.isatty()
    runs: list[NotebookRun] = []
    bar = tqdm(paths, desc="notebooks", unit="nb", disable=not progress, file=sys.stderr)
    for path in bar:
        bar.set_postfix_str(path.stem)
        runs.append(_run_one(path, out, timeout, workdir))
        if not runs[-1].ok:
            tqdm.write(f"hipkit: notebook failed: {runs[-1].error}", file=sys.stderr)
    bar.close()
    root = workdir if workdir is not None else Path(notebook_dir).parent
    build_index(runs, out / "index.html", __version__, git_commit(root), time.perf_counter() - started)
    return runs


def _run_one(path: Path, out: Path, timeout: int, workdir) -> NotebookRun:
    t0 = time.perf_counter()
    results_path = out / f"{path.stem}.results.json"
    html = out / f"{path.stem}.html"
    try:
        nb = read_notebook(path)
    except HipkitError as exc:
        return NotebookRun(path.stem, path, path.stem, ok=False, error=str(exc), seconds=time.perf_counter() - t0)
    title, description = notebook_title(nb, path.stem)
    run = NotebookRun(path.stem, path, title, description, results_path=results_path)
    try:
        nb = execute_notebook(path, workdir=workdir, timeout=timeout, results_path=results_path)
    except NotebookExecutionError as exc:
        run.ok, run.error = False, str(exc)
        nb = exc.nb
    except HipkitError as exc:
        run.ok, run.error, nb = False, f"{path}: {exc}", None
    if nb is not None:
        run.html = render_html(nb, html, title, base_dir=path.parent)
    if results_path.exists():
        run.results = read_results(results_path)
    run.seconds = time.perf_counter() - t0
    return run
