"""The clinic report cannot run data as code: every label, file name and title reaches the page as text.

These tests read the HTML itself (no browser needed); ``test_report_in_browser.py`` opens the same
reports in Chromium. Payloads are in ``conftest.HOSTILE``.
"""

from __future__ import annotations

import ast
import html
import re
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hipkit.report import build_index, markup
from hipkit.report.build import TEMPLATE
from hipkit.report.run import NotebookRun

from .conftest import HOSTILE

# What a payload would create if it reached the page as markup.
FORBIDDEN_TAGS = {"script", "iframe", "svg", "base", "link", "object", "embed", "form", "input", "b"}


class _Tags(HTMLParser):
    """Every start tag with its attributes, and the page's text."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, {k: v or "" for k, v in attrs}))

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)

    def handle_data(self, data):
        self.text.append(data)


def _parse(page: str) -> _Tags:
    parser = _Tags()
    parser.feed(page)
    return parser


def _dangerous(tags) -> list:
    found = []
    for tag, attrs in tags:
        if tag in FORBIDDEN_TAGS:
            found.append((tag, attrs))
        if tag == "meta" and attrs.get("http-equiv", "").lower() == "refresh":
            found.append((tag, attrs))
        if tag == "style" and attrs != {"type": "text/css"}:  # the page's own style blocks
            found.append((tag, attrs))
        for name, value in attrs.items():
            if name.startswith("on"):
                found.append((tag, name))
            if name in ("src", "href", "action", "formaction", "xlink:href", "srcset"):
                if not value.startswith(("data:", "#")):
                    found.append((tag, name, value))
    return found


@pytest.fixture(scope="module")
def pages(hostile_reports):
    return {name: run.html.read_text(encoding="utf-8") for name, run in hostile_reports.items()}


@pytest.mark.parametrize("name", ["hostile", "hostile_clean"])
def test_no_payload_creates_an_element_or_attribute(pages, name):
    tags = _parse(pages[name]).tags
    assert _dangerous(tags) == []
    assert "hipkitPwned" not in " ".join(str(a) for _, a in tags)  # no payload text inside any attribute


def test_the_hostile_page_has_exactly_the_elements_of_the_plain_page(pages):
    def shape(page):
        return Counter((tag, tuple(sorted(attrs))) for tag, attrs in _parse(page).tags)

    assert shape(pages["hostile"]) == shape(pages["plain"])


@pytest.mark.parametrize("name", ["hostile", "hostile_clean"])
def test_every_hostile_label_is_shown_as_text(pages, name):
    text = re.sub(r"\s+", " ", "".join(_parse(pages[name]).text))
    for label in HOSTILE["group"].values():
        assert markup.clean_text(label) in text
    assert "\u202e" not in text  # direction overrides are removed, not shown
    assert markup.clean_text(HOSTILE["title"]) in text
    assert HOSTILE["reason"] in text  # shared by six patients: shown in the flow table
    assert markup.clean_text(HOSTILE["file"]) in text


def test_raw_visit_labels_in_the_cleaning_log_are_text(pages):
    text = "".join(_parse(pages["hostile"]).text)
    assert "'2 weeks \"\\'><script>' -> week 2" in text
    assert "'6 weeks $\\\\alpha$' -> week 6" in text


def test_page_title_is_the_title_as_text(pages):
    found = re.search(r"<title>(.*?)</title>", pages["hostile"], re.S).group(1)
    assert html.unescape(found) == markup.clean_text(HOSTILE["title"])


@pytest.mark.parametrize("name", ["hostile", "plain"])
def test_page_carries_a_policy_forbidding_scripts_and_network_first_in_its_head(pages, name):
    head = pages[name].split("<head>", 1)[1]
    first = _parse(head).tags[0]
    assert first == ("meta", {"http-equiv": "Content-Security-Policy", "content": markup.CONTENT_SECURITY_POLICY})
    assert "default-src 'none'" in markup.CONTENT_SECURITY_POLICY
    assert "script-src" not in markup.CONTENT_SECURITY_POLICY  # falls back to default-src 'none'


def test_the_template_builds_no_html_itself():
    """Every output of the template goes through hipkit.report.markup (or a figure): no HTML(), no Markdown()."""
    source = TEMPLATE.read_text(encoding="utf-8")
    code = "\n".join(line for line in source.splitlines() if not line.lstrip().startswith("#"))
    tree = ast.parse(code)
    called = {
        node.func.id if isinstance(node.func, ast.Name) else node.func.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, (ast.Name, ast.Attribute))
    }
    assert called.isdisjoint({"HTML", "Markdown", "Latex", "Javascript", "SVG", "Fragment", "Markup"})
    imported = {
        (node.module, alias.name) for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) for alias in node.names
    }
    assert {name for module, name in imported if module == "IPython.display"} == {"display"}
    literals = [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)]
    assert [s for s in literals if re.search(r"</?[a-zA-Z]", s)] == []  # no tag written in the template


TEXT = st.text(
    alphabet=st.one_of(st.characters(codec="utf-8"), st.sampled_from("<>&\"'`=/\\$[]()!{}%#\u202e\u2066\x00\x1b")),
    max_size=40,
)


@settings(max_examples=200, deadline=None)
@given(items=st.lists(TEXT, min_size=1, max_size=4), title=TEXT)
def test_markup_shows_any_text_as_that_text_and_nothing_else(items, title):
    frames = pd.DataFrame({title or "x": items})
    for fragment, tags in (
        (markup.bullets(items, css_class="hipkit-headline"), ["div", "ul", *["li"] * len(items)]),
        (markup.paragraph(*items), ["p"]),
        (markup.note(title, items[0]), ["p", "strong"]),
        (markup.heading(title, 1), ["h1"]),
        (markup.table(frames), ["table", "thead", "tr", "th", "tbody", *["tr", "td"] * len(items)]),
    ):
        parsed = _parse(str(fragment))
        numbers = [(t, a) for t, a in parsed.tags if (t, a) == ("span", {"class": "hipkit-num"})]
        assert [t for t, a in parsed.tags if (t, a) not in numbers] == tags
        assert all(
            not attrs or attrs == {"class": "hipkit-headline"} or t in ("table", "span") for t, attrs in parsed.tags
        )
    shown = "".join(_parse(str(markup.bullets(items))).text)
    assert shown == "".join(markup.clean_text(i) for i in items)


@settings(max_examples=200, deadline=None)
@given(title=st.text(), inputs=st.lists(st.text(), min_size=1, max_size=3))
def test_title_and_file_names_reach_the_kernel_as_values_never_as_code(title, inputs):
    """papermill writes the parameters as Python source: they must parse back to exactly the values."""
    from papermill.parameterize import parameterize_notebook

    from hipkit.report.execute import read_notebook

    nb = read_notebook(TEMPLATE)
    nb.metadata["papermill"] = {}
    for cell in nb.cells:
        cell.metadata.setdefault("tags", [])
    nb = parameterize_notebook(nb, {"title": title, "inputs": inputs}, report_mode=False)
    (cell,) = [c for c in nb.cells if "injected-parameters" in c.metadata["tags"]]
    statements = ast.parse(cell.source).body
    assert all(isinstance(s, ast.Assign) and len(s.targets) == 1 for s in statements)
    values = {s.targets[0].id: ast.literal_eval(s.value) for s in statements}
    assert values == {"title": title, "inputs": inputs}


def test_index_page_shows_hostile_titles_errors_and_names_as_text(tmp_path):
    title = HOSTILE["title"]
    run = NotebookRun(
        "x",
        Path(HOSTILE["file"]),
        title,
        description=HOSTILE["reason"],
        ok=False,
        html=tmp_path / "javascript:alert(document.domain).html",
        error=HOSTILE["group"]["KNEE"],
    )
    page = build_index([run], tmp_path / "index.html", version="<b>v</b>", commit="<i>c</i>").read_text()
    parsed = _parse(page)
    assert [t for t, _ in parsed.tags if t in FORBIDDEN_TAGS] == []
    links = [a["href"] for t, a in parsed.tags if t == "a"]
    assert links == ["javascript%3Aalert%28document.domain%29.html"]  # a relative file name, not a URL scheme
    text = "".join(parsed.text)
    assert markup.clean_text(title) in text and HOSTILE["reason"] in text and "<b>v</b>" in text
