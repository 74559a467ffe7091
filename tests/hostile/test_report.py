"""``hipkit report`` on hostile exports: no data runs as code, valid edge cases build, bad folders exit 2.

A string-level check over the rendered HTML (a browser test lives in tests/report). Each report
starts a Jupyter kernel (~10 s), so the corpus keeps these to a few cases.
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

import make_corpus
import pytest
from hostile_run import execute_report

REPORTS = {c.name: c for c in make_corpus.REPORT_CASES}
PARAMS = [pytest.param(name, id=name) for name in REPORTS]


@pytest.fixture(scope="session")
def report_runs(tmp_path_factory):
    """Every report case, run two at a time (one per core) the first time a test asks for one."""
    root = tmp_path_factory.mktemp("hostile_reports")
    cache = {}

    def get(name):
        if not cache:
            with ThreadPoolExecutor(2) as pool:
                done = pool.map(lambda n: execute_report(REPORTS[n], root / n, make_corpus.write_case), REPORTS)
                cache.update(zip(REPORTS, done))
        return cache[name]

    return get


def _visible_text(html: str) -> str:
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S | re.I)
    html = re.sub(r'src="data:[^"]*"', "", html)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.mark.parametrize("name", PARAMS)
def test_report_exits_0_or_2_with_one_line_reason(report_runs, name):
    run, case = report_runs(name), REPORTS[name]
    if run.result.not_run:
        pytest.skip(run.result.not_run)
    code, shown = run.code, run.describe()
    expected = 0 if case.expect == "clean" else 2
    assert code == expected, f"expected exit {expected}: {shown}"
    assert "Traceback" not in run.result.stderr, shown
    if code == 2:
        lines = run.result.stderr_lines
        assert len(lines) == 1 and lines[0].startswith("hipkit: error: "), shown
    else:
        assert (run.dir / case.out).is_file(), f"no report written: {shown}"


@pytest.mark.parametrize("name", PARAMS)
def test_report_leaves_raw_files_and_writes_nothing_when_refusing(report_runs, name):
    run = report_runs(name)
    if run.result.not_run:
        pytest.skip(run.result.not_run)
    changed, new, shown = (
        [p for p in run.inputs if run.before[p] != run.after[p]],
        sorted(run.new_files),
        run.describe(),
    )
    assert not changed, f"inputs changed: {changed}"
    if run.code != 0:
        assert not new, f"files left by a refused report: {new}: {shown}"


@pytest.mark.parametrize("name", [p for p in PARAMS if REPORTS[p.values[0]].forbidden])
def test_report_html_holds_no_live_markup_from_the_data(report_runs, name):
    """No <img onerror>, <script>, <svg onload>, javascript: URL from the data survives unescaped."""
    run, case = report_runs(name), REPORTS[name]
    code, shown = run.code, run.describe()
    assert code == 0, f"expected a report to inspect: {shown}"
    html = (run.dir / case.out).read_text(encoding="utf-8")
    found = [
        f"{p!r}: ...{html[m.start() - 40 : m.end() + 40]!r}..." for p in case.forbidden for m in re.finditer(p, html)
    ]
    assert not found, "\n  ".join(found[:10])


@pytest.mark.parametrize("name", [p for p in PARAMS if REPORTS[p.values[0]].required])
def test_report_shows_every_measure_of_the_export(report_runs, name):
    run, case = report_runs(name), REPORTS[name]
    code, shown = run.code, run.describe()
    assert code == 0, f"expected a report to inspect: {shown}"
    text = _visible_text((run.dir / case.out).read_text(encoding="utf-8"))
    missing = [p for p in case.required if not re.search(p, text)]
    assert not missing, f"the report's text never matches {missing}"
