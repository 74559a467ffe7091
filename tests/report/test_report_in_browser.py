"""The clinic report opened in a real headless Chromium (Debian's), as a reader would see it.

Skips where Chromium or the playwright client is absent; CI installs both (``make browser-deps``).
The screenshot is written to ``tests/artifacts/clinic_report.png``.
"""

from __future__ import annotations

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
