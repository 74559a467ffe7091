r"""The one road from text to HTML in a report: every string is escaped on the way.

Labels, file names, titles and log entries come from the data, and data can hold anything, e.g. a
group called ``<img src=x onerror=...>``. Report code therefore never builds HTML by joining strings
and never passes data through Markdown (which nbconvert renders with raw HTML allowed). It builds
each block with the functions here, which render small Jinja2 templates with ``autoescape=True``:

- :func:`heading`, :func:`paragraph`, :func:`note`, :func:`quote`, :func:`bullets` and :func:`table`
  return a :class:`Fragment`, HTML that is safe to show; ``display(fragment)`` shows it in a notebook.
- Text handed to them is escaped; a :class:`Fragment` handed to them (e.g. :func:`strong` inside a
  paragraph) is kept as it is, because it was made here.
- On the way, :func:`clean_text` removes control characters and the Unicode direction overrides that
  would reorder the characters after them (``"\u202e"`` makes ``"12.5"`` read ``"5.21"``).

:data:`CONTENT_SECURITY_POLICY` is the policy the rendered pages carry (no script, no network), as a
second line of defence behind the escaping.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable

import jinja2
import markupsafe
import pandas as pd

__all__ = [
    "Fragment",
    "CONTENT_SECURITY_POLICY",
    "clean_text",
    "plot_label",
    "heading",
    "paragraph",
    "strong",
    "note",
    "quote",
    "bullets",
    "table",
    "render",
]

#: The rendered pages' Content-Security-Policy: no script, no network request of any kind; figures
#: are ``data:`` images and styles are inline. (``frame-ancestors`` cannot be set from a ``<meta>``.)
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; img-src data:; style-src 'unsafe-inline'; font-src data:; base-uri 'none'; form-action 'none'"
)

# Characters that are never shown: C0 and C1 controls (but tab and newline), and the Unicode
# bidirectional embeddings, overrides, isolates and marks (Trojan-Source style reordering).
_INVISIBLE = dict.fromkeys(
    [
        *(c for c in range(0x20) if c not in (0x09, 0x0A)),
        *range(0x7F, 0xA0),
        0x061C,
        0x200E,
        0x200F,
        *range(0x202A, 0x202F),
        *range(0x2066, 0x206A),
    ]
)


class Fragment(markupsafe.Markup):
    """HTML made by this module, safe to show; ``display(fragment)`` shows it in a notebook.

    A :class:`markupsafe.Markup` string: adding or joining plain text to it escapes the text.
    Never construct one from data; use the functions of this module.

    Examples
    --------
    >>> paragraph("1 < 2") + " & more"
    Fragment('<p>1 &lt; 2</p> &amp; more')
    """

    __slots__ = ()

    def _repr_html_(self) -> str:
        return str(self)


def clean_text(value) -> str:
    r"""Text as a report shows it: ``str(value)`` without control or direction-override characters.

    Missing values (None, NaN) become ``""``. The result still needs escaping (every function of
    this module escapes it).

    Parameters
    ----------
    value : object

    Returns
    -------
    str

    Examples
    --------
    >>> clean_text("HIP\u202e: 21.5")
    'HIP: 21.5'
    >>> clean_text(float("nan"))
    ''
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if value is pd.NA or value is pd.NaT:
        return ""
    return str(value).translate(_INVISIBLE)


def plot_label(value, max_chars: int = 40) -> str:
    r"""A label for a figure: :func:`clean_text` on one line, shortened to ``max_chars`` with an ellipsis.

    Figures also turn off matplotlib's mathtext (``text.parse_math``), so ``$`` is shown as written.

    Parameters
    ----------
    value : object
    max_chars : int, default 40

    Returns
    -------
    str

    Examples
    --------
    >>> plot_label("a\nlong label " * 5, max_chars=20)
    'a long label a long…'
    """
    text = re.sub(r"\s+", " ", clean_text(value)).strip()
    return text if len(text) <= max_chars else text[: max_chars - 1].rstrip() + "…"


def _finalize(value):
    # Every {{ value }} passes here before autoescaping: fragments stay, text is cleaned.
    if isinstance(value, markupsafe.Markup):
        return value
    return clean_text(value)


_ENV = jinja2.Environment(
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    finalize=_finalize,
    trim_blocks=True,
    lstrip_blocks=True,
)

_TEMPLATES = {
    "heading": "<h{{ level }}>{{ text }}</h{{ level }}>",
    "paragraph": "<p>{% for part in parts %}{{ part }}{% endfor %}</p>",
    "strong": "<strong>{{ text }}</strong>",
    "num": '<span class="hipkit-num">{{ text }}</span>',
    "quote": "<blockquote><p>{{ text }}</p></blockquote>",
    "bullets": (
        '{% if css_class %}<div class="{{ css_class }}">{% endif %}'
        "<{{ tag }}>{% for item in items %}<li>{{ item }}</li>{% endfor %}</{{ tag }}>"
        "{% if css_class %}</div>{% endif %}"
    ),
    "table": (
        '<table class="{{ css_class }}">\n<thead><tr>{% for h in header %}<th>{{ h }}</th>{% endfor %}</tr></thead>\n'
        "<tbody>\n{% for row in rows %}<tr>{% for cell in row %}<td>{{ cell }}</td>{% endfor %}</tr>\n{% endfor %}"
        "</tbody>\n</table>"
    ),
}


def render(template: str, **context) -> Fragment:
    """Render a Jinja2 template string with autoescaping; the one place report HTML is made.

    Parameters
    ----------
    template : str
        Template source (constant text written in code, never data).
    **context
        Values for the template; text is cleaned (:func:`clean_text`) and escaped.

    Returns
    -------
    Fragment

    Examples
    --------
    >>> render("<em>{{ x }}</em>", x="<script>")
    Fragment('<em>&lt;script&gt;</em>')
    """
    return Fragment(_ENV.from_string(template).render(**context))


_COMPILED = {name: _ENV.from_string(source) for name, source in _TEMPLATES.items()}


def _named(name: str, **context) -> Fragment:
    return Fragment(_COMPILED[name].render(**context))


def heading(text, level: int = 1) -> Fragment:
    """A heading ``<h1>`` to ``<h6>``.

    Examples
    --------
    >>> heading("Report <draft>", 2)
    Fragment('<h2>Report &lt;draft&gt;</h2>')
    """
    return _named("heading", text=text, level=min(max(int(level), 1), 6))


def paragraph(*parts) -> Fragment:
    """One paragraph of text; parts are joined with no separator (fragments such as :func:`strong` kept).

    Examples
    --------
    >>> paragraph(strong("Not shown."), " fewer than 5 <patients>")
    Fragment('<p><strong>Not shown.</strong> fewer than 5 &lt;patients&gt;</p>')
    """
    return _named("paragraph", parts=parts)


def strong(text) -> Fragment:
    """Bold text, to put inside :func:`paragraph` or :func:`bullets`.

    Examples
    --------
    >>> strong("a & b")
    Fragment('<strong>a &amp; b</strong>')
    """
    return _named("strong", text=text)


def note(lead, text) -> Fragment:
    """A paragraph with a bold lead-in, e.g. ``note("Not estimated: strength.", reason)``.

    Examples
    --------
    >>> note("Not estimated.", "no <data>")
    Fragment('<p><strong>Not estimated.</strong> no &lt;data&gt;</p>')
    """
    return paragraph(strong(lead), " ", text)


def quote(text) -> Fragment:
    """A block quotation (one paragraph).

    Examples
    --------
    >>> quote("x")
    Fragment('<blockquote><p>x</p></blockquote>')
    """
    return _named("quote", text=text)


def bullets(items: Iterable, ordered: bool = False, css_class: str | None = None) -> Fragment:
    """A bulleted (or numbered) list, optionally inside ``<div class=css_class>``.

    Examples
    --------
    >>> bullets(["<b>", "ok"])
    Fragment('<ul><li>&lt;b&gt;</li><li>ok</li></ul>')
    """
    return _named("bullets", items=list(items), tag="ol" if ordered else "ul", css_class=css_class)


def table(frame, css_class: str = "hipkit-table") -> Fragment:
    """A plain HTML table of a DataFrame: header from its columns, no index; missing cells blank.

    Cells are shown as they are (format numbers first); every header and cell is escaped, and each
    token holding a digit is kept on one line (``<span class="hipkit-num">``).

    Parameters
    ----------
    frame : pandas.DataFrame
    css_class : str, default "hipkit-table"

    Returns
    -------
    Fragment

    Examples
    --------
    >>> import pandas as pd
    >>> print(table(pd.DataFrame({"<a>": ["x & y", None], "n": [12, 3]})))
    <table class="hipkit-table">
    <thead><tr><th>&lt;a&gt;</th><th>n</th></tr></thead>
    <tbody>
    <tr><td>x &amp; y</td><td><span class="hipkit-num">12</span></td></tr>
    <tr><td></td><td><span class="hipkit-num">3</span></td></tr>
    </tbody>
    </table>
    """
    header = [" / ".join(clean_text(p) for p in c) if isinstance(c, tuple) else c for c in frame.columns]
    rows = [[_cell(v) for v in row] for row in frame.astype(object).itertuples(index=False, name=None)]
    return _named("table", header=header, rows=rows, css_class=css_class)


_NUMBER_TOKEN = re.compile(r"(\S*\d\S*)")


def _cell(value) -> Fragment:
    """A table cell's text with each token holding a digit kept on one line (``<span class="hipkit-num">``).

    The page lets long labels wrap anywhere so that a 300-character group name cannot push the table
    off the page; the spans keep that from ever splitting a number ("40" printed as "4" over "0").
    """
    parts = _NUMBER_TOKEN.split(clean_text(value))
    return Fragment("").join(_named("num", text=p) if i % 2 else p for i, p in enumerate(parts) if p)
