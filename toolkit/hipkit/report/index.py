"""The reports index page: every rendered notebook with its title, description, status and time."""

from __future__ import annotations

import datetime as _dt
import os
import subprocess
from pathlib import Path

from ..io.outputs import write_text
from .markup import CONTENT_SECURITY_POLICY, Fragment, render

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
    when = (generated or _dt.datetime.now(_dt.timezone.utc)).strftime("%Y-%m-%d %H:%M:%S %Z").strip()
    rows = []
    for r in runs:
        link = os.path.relpath(r.html, out.parent) if r.html is not None else None
        results = None
        if r.results_path is not None and Path(r.results_path).exists():
            results = Path(os.path.relpath(r.results_path, out.parent)).as_posix()
        rows.append(
            {
                # Relative links to files written here: only a "../" or a plain name, never a scheme.
                "href": _relative_href(Path(link).as_posix()) if link else None,
                "title": r.title,
                "description": r.description,
                "error": r.error,
                "source": r.source.name,
                "results_href": _relative_href(results) if results else None,
                "n_results": len(r.results),
                "ok": r.ok,
                "seconds": f"{r.seconds:.1f}",
            }
        )
    n_failed = sum(not r.ok for r in runs)
    summary = f"{len(runs)} notebook{'s' if len(runs) != 1 else ''}"
    summary += f", {n_failed} failed" if n_failed else ", all executed"
    meta = [f"hipkit {version}", f"commit {commit}" if commit else "commit unknown (not a git checkout)"]
    if seconds is not None:
        meta.append(f"{seconds:.1f} s")
    page = render(_PAGE, css=Fragment(_CSS), csp=CONTENT_SECURITY_POLICY, meta=[*meta, summary], when=when, rows=rows)
    return write_text(out, page + "\n")


def _relative_href(path: str) -> str:
    """A relative link as a URL path: each segment percent-encoded, so no text can become a scheme."""
    from urllib.parse import quote

    return "/".join(quote(part) for part in path.split("/"))


_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta http-equiv="Content-Security-Policy" content="{{ csp }}">
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>hipkit reports</title>
<style>{{ css }}</style>
</head>
<body>
<h1>hipkit reports</h1>
<p class="meta">{{ meta | join(" \u00b7 ") }}</p>
<p class="meta">Generated {{ when }}.</p>
<table>
<thead><tr><th>Notebook</th><th>Source</th><th>Status</th><th>Time</th></tr></thead>
<tbody>
{% for r in rows %}
<tr><td>{% if r.href %}<a href="{{ r.href }}">{{ r.title }}</a>{% else %}{{ r.title }}{% endif %}\
<div class="desc">{{ r.description }}</div>{% if r.error %}<div class="err">{{ r.error }}</div>{% endif %}</td>\
<td><code>{{ r.source }}</code>{% if r.results_href %} &middot; <a href="{{ r.results_href }}">key results</a> \
({{ r.n_results }}){% endif %}</td>\
<td>{% if r.ok %}<span class="ok">ok</span>{% else %}<span class="failed">failed</span>{% endif %}</td>\
<td class="num">{{ r.seconds }} s</td></tr>
{% endfor %}
</tbody>
</table>
</body>
</html>"""
