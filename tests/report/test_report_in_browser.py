"""The clinic report opened in a real headless Chromium (Debian's), as a reader would see it.

Skips where Chromium or the playwright client is absent; CI installs both (``make browser-deps``).
The screenshot is written to ``tests/artifacts/clinic_report.png``.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from hipkit.report import find_chromium

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"


@pytest.fixture(scope="module")
def browser():
    exe = find_chromium()
    if exe is None:
        pytest.skip("Chromium is not installed (Debian: apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright client is not installed")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=exe,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield b
        b.close()


@pytest.fixture(scope="module")
def opened(browser, clinic_run):
    run, _ = clinic_run
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    events = {"console": [], "errors": [], "requests": []}
    page.on("console", lambda m: events["console"].append((m.type, m.text)))
    page.on("pageerror", lambda e: events["errors"].append(str(e)))
    page.on("request", lambda r: events["requests"].append(r.url))
    page.goto(run.html.resolve().as_uri(), wait_until="load")
    yield page, events, run
    page.close()


def test_report_renders_in_chromium_without_console_errors(opened):
    page, events, _ = opened
    assert [m for m in events["console"] if m[0] in ("error", "warning")] == []
    assert events["errors"] == []


def test_report_makes_no_network_requests(opened):
    page, events, run = opened
    outside = [u for u in events["requests"] if not u.startswith(("file:", "data:"))]
    assert outside == []
    assert run.html.resolve().as_uri() in events["requests"]


def test_every_figure_loads_and_the_headline_numbers_show(opened):
    page, _, _ = opened
    sizes = page.evaluate("Array.from(document.images).map(i => [i.complete, i.naturalWidth])")
    assert len(sizes) >= 4 and all(done and width > 0 for done, width in sizes)
    headline = page.inner_text("div.hipkit-headline")
    assert "2000 patients enrolled" in headline
    assert "Pain (VAS), HIP: mean change by week 6" in headline
    assert "reached the MCID of 2 cm" in headline
    assert page.title() == "Clinic test report"


def test_screenshot_is_written_as_an_artefact(opened):
    page, _, _ = opened
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "clinic_report.png"
    page.screenshot(path=str(shot), full_page=False)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000


# ---- Hostile labels: the same checks on reports whose every text field carries a payload ----------

# Elements and attributes the payloads in conftest.HOSTILE would create if they reached the page.
PAYLOAD_SELECTORS = [
    "script",
    "iframe",
    "svg",
    "base",
    "link",
    "b",
    "img:not([src^='data:'])",
    "[onerror]",
    "[onload]",
    "a[href^='javascript:']",
    "a[href^='http']",
    "meta[http-equiv='refresh']",
    "style:not([type='text/css'])",
]


def _open(browser, html_path):
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    events = {"console": [], "errors": [], "requests": [], "dialogs": []}
    page.on("console", lambda m: events["console"].append((m.type, m.text)))
    page.on("pageerror", lambda e: events["errors"].append(str(e)))
    page.on("request", lambda r: events["requests"].append(r.url))

    def _dialog(d):
        events["dialogs"].append(d.message)
        d.dismiss()

    page.on("dialog", _dialog)
    page.goto(Path(html_path).resolve().as_uri(), wait_until="load")
    page.wait_for_timeout(300)  # let any onerror/onload handler fire
    return page, events


@pytest.fixture(scope="module")
def hostile_pages(browser, hostile_reports):
    opened = {name: _open(browser, run.html) for name, run in hostile_reports.items()}
    yield opened
    for page, _ in opened.values():
        page.close()


@pytest.mark.parametrize("name", ["hostile", "hostile_clean"])
def test_hostile_labels_run_nothing_load_nothing_and_create_no_element(hostile_pages, name):
    page, events = hostile_pages[name]
    assert events["dialogs"] == []
    assert [u for u in events["requests"] if not u.startswith(("file:", "data:"))] == []
    assert [m for m in events["console"] if m[0] in ("error", "warning")] == []
    assert events["errors"] == []
    assert page.evaluate("typeof window.hipkitPwned") == "undefined"
    found = {s: page.locator(s).count() for s in PAYLOAD_SELECTORS}
    assert {s: n for s, n in found.items() if n} == {}
    assert page.evaluate("document.body.innerText").count("hipkitPwned") >= 3  # shown, as text


def test_hostile_page_has_the_plain_pages_elements_and_figures(hostile_pages):
    shape = "Array.from(document.querySelectorAll('*')).map(e => e.tagName + ':' + e.getAttributeNames().sort())"
    hostile, plain = hostile_pages["hostile"][0], hostile_pages["plain"][0]
    assert sorted(hostile.evaluate(shape)) == sorted(plain.evaluate(shape))
    sizes = hostile.evaluate("Array.from(document.images).map(i => [i.complete, i.naturalWidth])")
    assert len(sizes) >= 4 and all(done and width > 0 for done, width in sizes)


def test_the_pages_policy_blocks_a_script_or_request_that_got_in_anyway(browser, hostile_reports):
    page, events = _open(browser, hostile_reports["plain"].html)
    page.on("requestfailed", lambda r: events.setdefault("failed", {}).update({r.url: r.failure}))
    page.on("response", lambda r: events.setdefault("responses", []).append(r.url))
    page.evaluate(
        """() => {
        const s = document.createElement('script'); s.textContent = 'window.cspProbe = 1'; document.body.append(s);
        const i = document.createElement('img'); i.src = 'http://evil.example/pixel.png'; document.body.append(i);
        }"""
    )
    page.wait_for_timeout(300)
    assert page.evaluate("typeof window.cspProbe") == "undefined"
    assert [u for u in events.get("responses", []) if u.startswith("http")] == []
    assert events["failed"] == {"http://evil.example/pixel.png": "csp"}  # stopped by the policy, not the network
    assert any("Content Security Policy" in text for _, text in events["console"])
    page.close()


def _pdf_text(path) -> str:
    pypdf = pytest.importorskip("pypdf", reason="pypdf is in the dev extra")
    return "\n".join(p.extract_text() for p in pypdf.PdfReader(path).pages)


def _numbers(text: str) -> list[str]:
    """Every number printed from the key findings on (the header's date and input hash differ).

    The numbers of table headers ("Change from week 0 (95% CI)") are left out: a table that breaks
    across pages prints its header again, and long labels make tables break at other places.
    """
    text = text[text.index("patients enrolled") - 8 :]
    text = re.sub(r"\(95\s*%\s*CI\)|week\s+0\s+\(95", " ", text)
    return re.findall(r"\d+(?:\.\d+)?", text)


def test_pdf_of_the_hostile_export_prints_the_same_numbers_and_its_figures(hostile_reports):
    hostile, plain = hostile_reports["hostile"].pdf, hostile_reports["plain"].pdf
    if hostile is None:
        pytest.skip("Chromium is not installed")
    pypdf = pytest.importorskip("pypdf", reason="pypdf is in the dev extra")
    text, plain_text = _pdf_text(hostile), _pdf_text(plain)
    numbers = _numbers(text)
    assert len(numbers) > 200
    # Long labels wrap table cells differently, which changes the order text is extracted in, not
    # what is printed: every number the same number of times, and the key findings in order.
    assert Counter(numbers) == Counter(_numbers(plain_text))
    assert _numbers(text.split("1. Participant")[0]) == _numbers(plain_text.split("1. Participant")[0])
    assert "window.hipkitPwned='script'" in re.sub(r"\s+", "", text)  # the payload is printed as text
    images = sum(len(p.images) for p in pypdf.PdfReader(hostile).pages)
    assert images >= 4  # the figures print under the page's Content-Security-Policy
