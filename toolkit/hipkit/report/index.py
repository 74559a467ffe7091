"""The reports index page: every rendered notebook with its title, description, status and time."""

from __future__ import annotations

import datetime as _dt
import html
import os
import subprocess
from pathlib import Path

__all__ = ["build_index", "git_commit", "notebook_title"]


def notebook_title(nb, default: str) -> tuple[str, str]:
    r"""Title and one-line description from a notebook's first markdown cell.

    The title is the first ``# `` heading; the description the first paragraph that is not a heading.

    Parameters
    ----------
    nb : nbformat.NotebookNode
        The notebook.
    default : str
        Title to use when the first markdown cell has no heading (e.g. the file name).

    Returns
    -------
    tuple of str
        ``(title, description)``; the description may be empty.

    Examples
    --------
    >>> import nbformat
    >>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Quickstart\n\nClean and fit.")])
    >>> notebook_title(nb, "00_quickstart")
    ('Quickstart', 'Clean and fit.')
    """
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        title, paragraphs, current = default, [], []
        for line in [*cell.source.splitlines(), ""]:
            text = line.strip()
            if text.startswith("#"):
                if title == default and text.startswith("# "):
                    title = text.lstrip("#").strip()
                text = ""
            if text:
                current.append(text)
            elif current:
                paragraphs.append(" ".join(current))
                current = []
        return title, paragraphs[0] if paragraphs else ""
    return default, ""


def git_commit(root: str | os.PathLike) -> str | None:
    """Short commit hash of the checkout at ``root`` (with ``-dirty`` for local changes), or ``None``.

    Parameters
    ----------
    root : str or path-like
        A folder inside a git work tree.

    Returns
    -------
    str or None
    """
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"], cwd=root, capture_output=True, text=True, timeout=10
        )
        if sha.returncode != 0:
            return None
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=10,
        )
        return sha.stdout.strip() + ("-dirty" if dirty.returncode == 0 and dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return None


_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 2em auto;
       max-width: 960px; padding: 0 1.5em; color: #222; line-height: 1.45; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; }
p.meta { color: #555; margin-top: 0; }
table { border-collapse: collapse; width: 100%; margin-top: 1em; }
th, td { text-align: left; padding: 0.5em 0.6em; border-bottom: 1px solid #ddd; vertical-align: top; }
th { background: #f5f5f5; }
td.num { text-align: right; white-space: nowrap; }
.ok { color: #1a7f37; } .failed { color: #b42318; font-weight: 600; }
.err { color: #b42318; font-family: ui-monospace, monospace; font-size: 0.85em; }
.desc { color: #444; }
"""


def build_index(
    runs,
    out_path: str | os.PathLike,
    version: str,
    commit: str | None = None,
    seconds: float | None = None,
    generated: _dt.datetime | None = None,
) -> Path:
    """Write the reports index page linking every rendered notebook.

    Parameters
    ----------
    runs : list of NotebookRun
        The results of :func:`hipkit.report.run_all` (title, description, html, status, time).
    out_path : str or path-like
        The index file (``reports/index.html``); links are relative to its folder.
    version : str
        hipkit version.
    commit : str, optional
        Git commit of the checkout, if known.
    seconds : float, optional
        Total time taken.
    generated : datetime, optional
        Generation time stated on the page (default: now, in UTC, to the second).

    Returns
    -------
    pathlib.Path
        ``out_path``.
    """
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    when = (generated or _dt.datetime.now(_dt.timezone.utc)).strftime("%Y-%m-%d %H:%M:%S %Z").strip()
    esc = html.escape
    n_failed = sum(not r.ok for r in runs)
    rows = []
    for r in runs:
        link = os.path.relpath(r.html, out.parent) if r.html is not None else None
        name = f'<a href="{esc(Path(link).as_posix())}">{esc(r.title)}</a>' if link else esc(r.title)
        status = '<span class="ok">ok</span>' if r.ok else '<span class="failed">failed</span>'
        err = f'<div class="err">{esc(r.error)}</div>' if r.error else ""
        results = ""
        if r.results_path is not None and Path(r.results_path).exists():
            rel = Path(os.path.relpath(r.results_path, out.parent)).as_posix()
            results = f' &middot; <a href="{esc(rel)}">key results</a> ({len(r.results)})'
        rows.append(
            "<tr>"
            f"<td>{name}<div class='desc'>{esc(r.description)}</div>{err}</td>"
            f"<td><code>{esc(r.source.name)}</code>{results}</td>"
            f"<td>{status}</td><td class='num'>{r.seconds:.1f} s</td>"
            "</tr>"
        )
    summary = f"{len(runs)} notebook{'s' if len(runs) != 1 else ''}"
    summary += f", {n_failed} failed" if n_failed else ", all executed"
    meta = [f"hipkit {esc(version)}", f"commit {esc(commit)}" if commit else "commit unknown (not a git checkout)"]
    if seconds is not None:
        meta.append(f"{seconds:.1f} s")
    page = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>hipkit reports</title>
<style>{_CSS}</style>
</head>
<body>
<h1>hipkit reports</h1>
<p class="meta">{" &middot; ".join(meta)} &middot; {summary}</p>
<p class="meta">Generated {esc(when)}.</p>
<table>
<thead><tr><th>Notebook</th><th>Source</th><th>Status</th><th>Time</th></tr></thead>
<tbody>
{chr(10).join(rows)}
</tbody>
</table>
</body>
</html>
"""
    out.write_text(page, encoding="utf-8")
    return out
