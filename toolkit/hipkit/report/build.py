"""What ``hipkit report`` needs besides the analyses: the template's path, output checks, PDF printing.

:func:`hipkit.report.clinic.clinic_report` fills in and executes the template :data:`TEMPLATE`;
this module checks that its outputs can be written (:func:`check_writable`) and prints the HTML to
PDF with headless Chromium (:func:`html_to_pdf`).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

from ..errors import HipkitError, OutputError
from ..io.outputs import atomic_path

__all__ = ["find_chromium", "html_to_pdf", "check_writable", "TEMPLATE"]

#: The clinic report's notebook template (jupytext percent format, with a cell tagged ``parameters``).
TEMPLATE = Path(__file__).parent / "clinic" / "templates" / "clinic_report.py"

# Headless Chromium flags: no network traffic of its own, no profile left behind, no GPU needed.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-default-apps",
)


def find_chromium() -> str | None:
    """Path of a Chromium or Chrome executable on this machine (``$HIPKIT_CHROMIUM`` first), or None.

    Returns
    -------
    str or None

    Examples
    --------
    >>> find_chromium() is None or Path(find_chromium()).name != ""
    True
    """
    env = os.environ.get("HIPKIT_CHROMIUM")
    if env:
        return env if Path(env).is_file() else None
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def html_to_pdf(html: str | os.PathLike, pdf: str | os.PathLike, timeout: float = 120) -> Path:
    """Print an HTML file to PDF with headless Chromium (A4, no browser header or footer).

    Parameters
    ----------
    html, pdf : str or path-like
    timeout : float, default 120
        Seconds before giving up.

    Returns
    -------
    pathlib.Path
        ``pdf``, written atomically: Chromium prints to a temporary file beside it, renamed into
        place only when the PDF is complete (a failed print leaves any earlier ``pdf`` as it was).

    Raises
    ------
    HipkitError
        No Chromium found (install Debian's ``chromium`` package), or it failed.
    OutputError
        ``pdf`` cannot be written (read-only folder).
    """
    exe = find_chromium()
    if exe is None:
        raise HipkitError("--pdf needs Chromium: install it (Debian: apt-get install chromium) or set HIPKIT_CHROMIUM")
    out = Path(pdf).resolve()
    with atomic_path(out) as tmp, tempfile.TemporaryDirectory(prefix="hipkit-chromium-") as profile:
        cmd = [
            exe,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={profile}",
            "--no-pdf-header-footer",
            f"--print-to-pdf={tmp}",
            Path(html).resolve().as_uri(),
        ]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)  # noqa: S603
        except subprocess.TimeoutExpired:
            raise HipkitError(f"Chromium did not finish printing {html} within {timeout:g} s") from None
        if proc.returncode != 0 or not tmp.is_file() or tmp.stat().st_size == 0:
            last = (proc.stderr.strip().splitlines() or ["no message"])[-1]
            raise HipkitError(f"Chromium could not print {html} to PDF: {last}")
    return out


def check_writable(paths: Sequence[Path]) -> None:
    """Refuse, before any work, an output whose folder cannot be created or written.

    Probing with a real temporary file is the only check that holds for every case (read-only
    mounts, ACLs, a file where the folder should be; ``os.access`` misses several, and root).
    """
    for path in paths:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{path.name}.", suffix=".probe"):
                pass
        except (FileExistsError, NotADirectoryError):
            blocker = next((p for p in path.parents if p.exists()), path.parent)
            raise OutputError(f"cannot write {path}: {blocker} is a file, not a folder") from None
        except OSError as exc:
            raise OutputError(f"cannot write {path}: {exc.strerror or type(exc).__name__}") from None
