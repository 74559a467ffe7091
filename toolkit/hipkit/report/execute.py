"""Execute a jupytext notebook headless with the current interpreter's Python kernel."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

from ..errors import HipkitError, UnreadableFileError
from ..io.outputs import write_text
from .results import RESULTS_ENV

__all__ = ["NotebookExecutionError", "execute_notebook", "find_project_root", "read_notebook"]

KERNEL_NAME = "python3"
# Agg underneath (no display needed) and figures shown as PNG outputs; plain "Agg" would drop them.
MPL_BACKEND = "module://matplotlib_inline.backend_inline"


class NotebookExecutionError(HipkitError):
    """A notebook failed while executing; the message is one line naming the notebook and the cell.

    Attributes
    ----------
    notebook : str
        The notebook file.
    cell_index : int or None
        Zero-based index of the failing cell among all cells (``None`` if the kernel failed to start).
    cell_line : str
        First non-empty line of the failing cell's source.
    reason : str
        ``ExceptionName: message`` from the kernel, or the timeout / dead-kernel reason.
    nb : nbformat.NotebookNode or None
        The notebook as executed so far (outputs up to and including the error), for rendering.
    """

    def __init__(self, notebook, cell_index, cell_line, reason, nb=None):
        self.notebook = str(notebook)
        self.cell_index = cell_index
        self.cell_line = cell_line
        self.reason = reason
        self.nb = nb
        where = f"cell {cell_index + 1} (`{cell_line}`)" if cell_index is not None else "kernel"
        super().__init__(f"{self.notebook}: {where} failed: {reason}")


def find_project_root(start: str | os.PathLike | None = None) -> Path:
    """Return the nearest folder at or above ``start`` holding ``pyproject.toml`` and ``notebooks/``.

    Parameters
    ----------
    start : str or path-like, optional
        Where to start looking (default: the current directory; then the package's own checkout).

    Returns
    -------
    pathlib.Path

    Raises
    ------
    HipkitError
        If no such folder is found.
    """
    candidates = [Path(start).resolve()] if start is not None else [Path.cwd(), Path(__file__).resolve()]
    for here in candidates:
        for p in [here, *here.parents]:
            if (p / "pyproject.toml").is_file() and (p / "notebooks").is_dir():
                return p
    raise HipkitError(
        f"no project folder (one with pyproject.toml and notebooks/) at or above {candidates[0]}; "
        "run from a hipkit checkout or pass the notebook folder explicitly"
    )


def read_notebook(path_py: str | os.PathLike):
    """Read a jupytext percent-format ``.py`` file (or an ``.ipynb``) as a notebook.

    Cell ids are set to ``cell-<n>`` so that rendering the same notebook twice gives the same HTML.

    Parameters
    ----------
    path_py : str or path-like
        The notebook file.

    Returns
    -------
    nbformat.NotebookNode
    """
    import jupytext

    path = Path(path_py)
    if not path.is_file():
        raise UnreadableFileError(f"{path}: no such notebook")
    try:
        nb = jupytext.read(path)
    except Exception as exc:  # noqa: BLE001 - one line, whatever jupytext says
        raise UnreadableFileError(f"{path}: cannot read as a notebook ({str(exc).splitlines()[0]})") from None
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{i}"
    return nb


def _kernel_check() -> None:
    try:
        import ipykernel  # noqa: F401
    except ImportError:
        raise HipkitError(
            f"ipykernel is not installed for {sys.executable}; install it with "
            f"`{sys.executable} -m pip install ipykernel` (or `pip install -e .` in the hipkit checkout)"
        ) from None
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        KernelSpecManager().get_kernel_spec(KERNEL_NAME)
    except NoSuchKernel:
        raise HipkitError(
            f"no '{KERNEL_NAME}' Jupyter kernel found; run `{sys.executable} -m ipykernel install --sys-prefix`"
        ) from None


def _first_line(source: str) -> str:
    for line in source.splitlines():
        if line.strip():
            line = line.strip()
            return line if len(line) <= 80 else line[:77] + "..."
    return ""


def _error_reason(nb, cell_index):
    if cell_index is None:
        return None
    for out in nb.cells[cell_index].get("outputs", []):
        if out.get("output_type") == "error":
            evalue = str(out.get("evalue", "")).strip().splitlines()
            return f"{out.get('ename', 'Error')}: {evalue[0] if evalue else ''}".rstrip(": ")
    return None


def execute_notebook(
    path_py: str | os.PathLike,
    workdir: str | os.PathLike | None = None,
    timeout: int = 600,
    results_path: str | os.PathLike | None = None,
):
    """Execute a notebook headless and return it with its outputs.

    Parameters
    ----------
    path_py : str, path-like or nbformat.NotebookNode
        A jupytext percent-format ``.py`` notebook (or an ``.ipynb``), or a notebook already read
        (e.g. a template with its parameters filled in).
    workdir : str or path-like, optional
        Working directory of the kernel (default: the project root above the notebook, so notebooks
        read ``datasets/...`` relatively; the notebook's own folder outside a project).
    timeout : int, default 600
        Seconds allowed for each cell.
    results_path : str or path-like, optional
        JSON file for :func:`hipkit.report.record` (passed to the kernel as ``HIPKIT_RESULTS``);
        it is reset to ``{}`` before the run.

    Returns
    -------
    nbformat.NotebookNode
        The executed notebook.

    Raises
    ------
    NotebookExecutionError
        If a cell raises, times out or the kernel dies; the message names the notebook, the cell
        number and its first line, and ``.nb`` holds the partly executed notebook.

    Notes
    -----
    The kernel is the ``python3`` kernel of the running interpreter (``sys.executable``), with
    ``PYTHONHASHSEED=0`` and ``MPLBACKEND`` set to matplotlib's inline backend: Agg rendering with no
    display needed, and every figure a cell leaves open is shown as a PNG output (plain ``Agg``
    would drop the figures).
    """
    from nbclient import NotebookClient
    from nbclient.exceptions import CellControlSignal, CellExecutionError, DeadKernelError

    if isinstance(path_py, dict):  # a NotebookNode
        nb, path = path_py, Path(path_py.get("metadata", {}).get("hipkit_name", "notebook"))
    else:
        path = Path(path_py)
        nb = read_notebook(path)
    _kernel_check()
    if workdir is None:
        try:
            workdir = find_project_root(path.parent)
        except HipkitError:
            workdir = path.resolve().parent
    cwd = Path(workdir)
    env = dict(os.environ)
    env.update({"MPLBACKEND": MPL_BACKEND, "PYTHONHASHSEED": "0", "PYDEVD_DISABLE_FILE_VALIDATION": "1"})
    env.pop(RESULTS_ENV, None)
    if results_path is not None:
        results = write_text(results_path, "{}\n")
        env[RESULTS_ENV] = str(results.resolve())

    current: dict = {"index": None}

    def _on_start(cell, cell_index, **_):
        current["index"] = cell_index

    # The kernel talks over Unix sockets in a private folder, not TCP ports: a free port picked by one
    # kernel can be taken by another process before it binds (reports built side by side, a busy
    # machine), which made the kernel print a traceback. Its own standard error goes to a file there,
    # read back only to explain a dead kernel, never mixed into hipkit's output.
    from jupyter_client.manager import AsyncKernelManager

    sockets = tempfile.mkdtemp(prefix="hipkit-kernel-")
    km = AsyncKernelManager(kernel_name=KERNEL_NAME, transport="ipc", ip=os.path.join(sockets, "k"))
    client = NotebookClient(
        nb,
        km=km,
        timeout=timeout,
        kernel_name=KERNEL_NAME,
        resources={"metadata": {"path": str(cwd)}},
        record_timing=False,
        coalesce_streams=True,  # one block per progress bar, not one per update
        extra_arguments=["--IPKernelApp.log_level=ERROR"],
        on_cell_start=_on_start,
    )
    kernel_log = Path(sockets) / "kernel-stderr.txt"
    try:
        with open(kernel_log, "wb") as err:
            client.execute(env=env, stderr=err)
    except (CellExecutionError, CellControlSignal, DeadKernelError, TimeoutError, RuntimeError) as exc:
        idx = current["index"]
        if isinstance(exc, TimeoutError):
            reason = f"timed out after {timeout} s (raise --timeout if the cell needs longer)"
        elif isinstance(exc, DeadKernelError):
            last = (kernel_log.read_text(errors="replace").strip().splitlines() or ["no message"])[-1]
            reason = f"the kernel died (out of memory or a crash; its last words: {last[:200]})"
        else:
            reason = _error_reason(nb, idx) or f"{type(exc).__name__}: {(str(exc).strip().splitlines() or [''])[0]}"
        line = _first_line(nb.cells[idx].source) if idx is not None else ""
        raise NotebookExecutionError(path, idx, line, reason, nb=nb) from None
    finally:
        shutil.rmtree(sockets, ignore_errors=True)
    return nb
