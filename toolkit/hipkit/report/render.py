"""Render an executed notebook to one self-contained HTML file with the code folded."""

from __future__ import annotations

import copy
import os
import re
import warnings
from pathlib import Path

from ..io.outputs import write_text
from .markup import CONTENT_SECURITY_POLICY, clean_text

__all__ = ["render_html", "external_resources"]

# Extends nbconvert's "lab" template: no script or stylesheet from the web (require.js, MathJax,
# mermaid, widget manager), and each code input folded into <details>; outputs stay visible. The
# page's Content-Security-Policy (first in <head>, so it governs everything after it) forbids every
# script and every network request: text that got through unescaped still could not run.
_TEMPLATE = r"""
{%- extends 'index.html.j2' -%}
{%- block html_head -%}
{%- if resources.hipkit_csp %}
<meta http-equiv="Content-Security-Policy" content="{{ resources.hipkit_csp | e }}">
{% endif -%}
{{ super() }}
{%- endblock html_head -%}
{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block extra_css -%}
<style type="text/css">
details.hipkit-code { margin: 0.2em 0 0.4em 0; }
details.hipkit-code > summary {
  cursor: pointer; color: var(--jp-ui-font-color2, #616161); font-size: 0.85em;
  padding: 0.1em 0 0.1em calc(var(--jp-cell-prompt-width, 64px) + 4px);
}
details.hipkit-code[open] > summary { margin-bottom: 0.2em; }
main { max-width: 1100px; margin: 0 auto; padding: 1em 1.5em 3em 1.5em; }
table.hipkit-table { border-collapse: collapse; font-size: 0.9em; margin: 0.4em 0 1em 0; }
table.hipkit-table th, table.hipkit-table td { padding: 0.2em 0.7em; border-bottom: 1px solid #ddd; text-align: right; }
table.hipkit-table th:first-child, table.hipkit-table td:first-child { text-align: left; }
table.hipkit-table th, table.hipkit-table td, div.hipkit-headline li { overflow-wrap: anywhere; }
span.hipkit-num { white-space: nowrap; }
div.hipkit-headline { background: #eef3f8; border-left: 4px solid #3b6a99; padding: 0.3em 1em; margin: 0.5em 0; }
@media print {
  details.hipkit-code { display: none; }
  main { max-width: none; padding: 0; }
  .jp-OutputArea-output img { max-width: 100%; page-break-inside: avoid; break-inside: avoid; }
  table.hipkit-table, div.hipkit-headline { page-break-inside: avoid; break-inside: avoid; }
  h2 { page-break-after: avoid; break-after: avoid; }
}
</style>
{%- endblock extra_css -%}
{% block input_group -%}
<details class="hipkit-code"><summary>Show code</summary>
{{ super() }}
</details>
{%- endblock input_group %}
"""

_TEMPLATE_NAME = "hipkit_folded.html.j2"

# A tag attribute that makes the browser fetch something: src=, href= on <link>, url(...) in CSS.
_EXTERNAL = re.compile(
    r"""(<(?:script|img|iframe|source|video|audio|embed|input)\b[^>]*?\bsrc\s*=\s*["']?\s*(?:https?:)?//[^"'\s>]+"""
    r"""|<link\b[^>]*?\bhref\s*=\s*["']?\s*(?:https?:)?//[^"'\s>]+"""
    r"""|@import\s+(?:url\()?\s*["']?(?:https?:)?//[^"')\s;]+"""
    r"""|url\(\s*["']?(?:https?:)?//[^"')\s]+)""",
    re.IGNORECASE,
)


def external_resources(html: str) -> list[str]:
    """List what in ``html`` would make a browser fetch something from the network.

    Plain links (``<a href="https://...">``) are not counted: they load nothing until clicked.

    Parameters
    ----------
    html : str
        An HTML document.

    Returns
    -------
    list of str
        The offending fragments (empty for a self-contained page).

    Examples
    --------
    >>> external_resources('<script src="https://cdn.example/require.js"></script>')
    ['<script src="https://cdn.example/require.js']
    >>> external_resources('<img src="data:image/png;base64,AAAA"> <a href="https://doi.org/x">x</a>')
    []
    """
    return [m.group(0) for m in _EXTERNAL.finditer(html)]


def render_html(
    nb,
    out_path: str | os.PathLike,
    title: str,
    base_dir: str | os.PathLike | None = None,
    hide_code: bool = False,
    content_security_policy: str | None = CONTENT_SECURITY_POLICY,
) -> Path:
    """Render an executed notebook to a self-contained HTML file.

    Figures are embedded as base64 PNG, no script or stylesheet is loaded from the web, and each
    code cell's input is folded under "Show code" (outputs stay visible).

    Parameters
    ----------
    nb : nbformat.NotebookNode
        The (executed) notebook.
    out_path : str or path-like
        The HTML file to write; its folder is created.
    title : str
        The page title.
    base_dir : str or path-like, optional
        Folder that relative image links in markdown cells are resolved against (usually the
        notebook's folder); such images are embedded too.
    hide_code : bool, default False
        Leave the code out altogether (and the In/Out prompts), for readers who do not program;
        by default each code cell is folded under "Show code".
    content_security_policy : str or None, default :data:`hipkit.report.markup.CONTENT_SECURITY_POLICY`
        The page's ``Content-Security-Policy`` ``<meta>``: by default no script and no network
        request at all (the page needs neither). None leaves it out.

    Returns
    -------
    pathlib.Path
        ``out_path``, written atomically (a temporary file renamed into place).

    Raises
    ------
    OutputError
        ``out_path`` cannot be written (read-only folder, no space): one line naming it.

    Warns
    -----
    UserWarning
        If a notebook output itself references a resource on the web (the page then is not
        self-contained); the warning lists them.

    Notes
    -----
    Built on nbconvert's ``HTMLExporter`` with the "lab" template and ``embed_images=True``.
    LaTeX in markdown is shown as written (MathJax would have to come from the web).
    """
    import jinja2
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(
        template_name="lab",
        embed_images=True,
        extra_loaders=[jinja2.DictLoader({_TEMPLATE_NAME: _TEMPLATE})],
        template_file=_TEMPLATE_NAME,
        exclude_input=hide_code,
        exclude_input_prompt=hide_code,
        exclude_output_prompt=hide_code,
    )
    title = clean_text(title)  # nbconvert escapes it into <title>; control characters go first
    resources = {
        "metadata": {"name": title, "path": str(base_dir) if base_dir is not None else ""},
        "hipkit_csp": content_security_policy or "",
    }
    nb = copy.deepcopy(nb)
    nb.metadata["title"] = title
    html, _ = exporter.from_notebook_node(nb, resources=resources)
    found = external_resources(html)
    if found:
        warnings.warn(
            f"{out_path}: the page loads {len(found)} resource(s) from the web, e.g. {found[0][:100]!r}; "
            "display figures as PNG (matplotlib/seaborn) to keep it self-contained",
            UserWarning,
            stacklevel=2,
        )
    return write_text(out_path, html)
