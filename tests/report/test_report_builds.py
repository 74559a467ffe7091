"""The clinic report builds on every valid clean table: exit 0, or exit 2 with a one-line reason.

The tables are generated (hypothesis): one group or many, sites or none, each measure present or
missing, 1 to 10 patients or a few dozen, everyone or no one reaching the MCID, patients seen only at
week 0 or only once, one programme visit, one leg or both, labels of any text. Most examples run
the report template's own cells in this process (``run_template``); a few go through
``hipkit report`` end to end, kernel and all.
"""

from __future__ import annotations

import os
import re
import warnings
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from hipkit.cleaning.validate import clean_schema
from hipkit.cli import main
from hipkit.errors import HipkitError
from hipkit.registry import load_registry

from .conftest import run_template

REG = load_registry()
# About a second an example: 40 by default, more in the long-hunt profile (HYPOTHESIS_PROFILE=deep).
EXAMPLES = 40 if os.environ.get("HYPOTHESIS_PROFILE", "default") == "default" else settings.default.max_examples // 10
MEASURES = ["pain_vas", "pain_nprs", "akps", "lefs", "hip_abd_strength_n"]
SCHEDULES = [[0.0], [0.0, 6.0], [0.0, 2.0, 4.0, 6.0], [0.0, 3.0]]
# Labels: plain ones, and any text at all (hostile, empty-looking, very long, right-to-left).
LABEL = st.one_of(
    st.sampled_from(["HIP", "KNEE", "Combined", "Control", "hip", "Site A", "North"]),
    st.text(min_size=1, max_size=12),
    st.text(alphabet=st.sampled_from("<>\"'&$\\\u202e\u200f#*[]()!"), min_size=1, max_size=8),
    st.just("x" * 300),
)


@st.composite
def clean_tables(draw, reportable: bool = False):
    """A valid canonical long table (as ``hipkit clean`` writes it) and the report's settings.

    ``reportable``: at least ``min_cell`` patients, so that the report must be made (exit 0).
    """
    fmt = draw(st.sampled_from(["csv", "parquet"]))
    # pandas' CSV writer leaves a bare carriage return unquoted, so such a table would not read back.
    label = LABEL.map(lambda t: t.replace("\r", " ")) if fmt == "csv" else LABEL
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    weeks = draw(st.sampled_from(SCHEDULES))
    measures = draw(st.lists(st.sampled_from(MEASURES), min_size=1, max_size=5, unique=True))
    n_groups = draw(st.integers(0, 4))  # 0: no group column
    groups = draw(st.lists(label, min_size=max(n_groups, 1), max_size=max(n_groups, 1), unique=True))
    sites = draw(st.one_of(st.just([]), st.lists(label, min_size=1, max_size=3, unique=True)))
    min_cell = draw(st.sampled_from([5, 5, 1, 3]))
    tiny = draw(st.booleans())
    n_patients = draw(st.integers(min_cell if reportable else 1, 10)) if tiny else draw(st.integers(15, 40))
    legs = draw(st.sampled_from(["none", "one", "both"]))
    response = draw(st.sampled_from(["all", "none", "random"]))
    patterns = draw(
        st.lists(
            st.sampled_from(["full", "full", "baseline only", "once", "random"]),
            min_size=n_patients,
            max_size=n_patients,
        )
    )
    reasons = draw(st.booleans())

    rows = []
    for i, pattern in enumerate(patterns):
        group = groups[i % len(groups)]
        site = sites[i % len(sites)] if sites else None
        if pattern == "full" or len(weeks) == 1:
            seen = list(weeks)
        elif pattern == "baseline only":
            seen = [weeks[0]]
        elif pattern == "once":
            seen = [weeks[int(rng.integers(1, len(weeks)))]]
        else:
            seen = [w for w in weeks if rng.random() < 0.6] or [weeks[0]]
        start = {m: rng.uniform(*REG[m].range) for m in measures}
        for w in seen:
            frac = w / max(weeks[-1], 1.0)
            for side in {"none": [None], "one": ["left"], "both": ["left", "right"]}[legs]:
                row = {"participant_id": f"P{i:03d}", "visit_week": float(w)}
                if n_groups:
                    row["group"] = group
                if site is not None:
                    row["site"] = site
                if side is not None:
                    row["side"] = side
                for m in measures:
                    low, high = REG[m].range
                    better = 1 if REG[m].direction == "higher_better" else -1
                    step = {"all": 1.5 * (REG[m].mcid or 1.0), "none": 0.0}.get(response, rng.normal(0, high / 10))
                    value = start[m] + better * step * frac * (w > 0)
                    row[m] = float(np.clip(round(value, 1), low, high))
                if reasons and w == seen[-1] and w < weeks[-1]:
                    row["discharge_reason"] = draw(label)
                rows.append(row)
    data = pd.DataFrame(rows)
    # Some measures missing at some visits, as in real exports.
    for m in measures[1:] if reportable else measures:  # reportable: the first measure is complete
        if draw(st.booleans()):
            data.loc[rng.random(len(data)) < 0.2, m] = np.nan
    text = [c for c in ("participant_id", "group", "site", "side", "discharge_reason") if c in data]
    data = data.astype(dict.fromkeys(text, object))  # as the cleaner writes them
    clean_schema(REG).validate(data)  # the generator makes valid clean tables, or this test is wrong
    return data, {"programme_weeks": weeks, "min_cell": min_cell}, fmt


# Every element and class the report's own markup makes (hipkit.report.markup).
MARKUP_TAGS = {
    ("h1", ""),
    ("p", ""),
    ("strong", ""),
    ("blockquote", ""),
    ("div", "hipkit-headline"),
    ("ul", ""),
    ("ol", ""),
    ("li", ""),
    ("table", "hipkit-table"),
    ("thead", ""),
    ("tbody", ""),
    ("tr", ""),
    ("th", ""),
    ("td", ""),
    ("span", "hipkit-num"),
}


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.found: set = set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.found.add((tag, attrs.pop("class", "") or ""))
        if attrs:
            self.found.add((tag, str(attrs)))


def _write(data: pd.DataFrame, folder, fmt: str):
    path = folder / f"clean.{fmt}"
    if fmt == "csv":
        data.to_csv(path, index=False)
    else:
        data.to_parquet(path, index=False)
    return path


def _one_line_reason(exc: HipkitError) -> bool:
    text = str(exc)
    return bool(text.strip()) and "\n" not in text


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=clean_tables())
def test_the_report_template_runs_on_every_valid_clean_table(case, tmp_path_factory):
    data, settings_, fmt = case
    path = _write(data, tmp_path_factory.mktemp("table"), fmt)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            run = run_template({"inputs": [str(path)], "title": "Generated", **settings_})
        except HipkitError as exc:  # what `hipkit report` turns into exit 2 with this one line
            assert _one_line_reason(exc), str(exc)
            event(f"refused: {type(exc).__name__}")
            return
    event("report made")
    html = run.html
    assert "Traceback" not in html and "<pre>" not in html  # everything shown went through markup
    tags = _Tags()
    tags.feed(html)
    assert tags.found <= MARKUP_TAGS, tags.found - MARKUP_TAGS  # whatever the labels, no other element
    assert "patients enrolled" in html
    n = data["participant_id"].nunique()
    assert re.search(rf"(?:\b{n}|suppressed) patients enrolled", html), n


@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=clean_tables(reportable=True))
def test_hipkit_report_end_to_end_makes_the_report(case, tmp_path_factory, capsys):
    data, settings_, fmt = case
    folder = tmp_path_factory.mktemp("e2e")
    path = _write(data, folder, fmt)
    weeks = ",".join(f"{w:g}" for w in settings_["programme_weeks"])
    out = folder / "report.html"
    code = main(
        ["report", str(path), "--out", str(out), "--schedule", weeks, "--min-cell", str(settings_["min_cell"])]
    )
    err = capsys.readouterr().err
    assert code == 0, err
    assert out.is_file() and "patients enrolled" in out.read_text(encoding="utf-8")


@pytest.mark.parametrize("measure", ["pain_vas", "pain_nprs"])
def test_nprs_is_reported_like_vas(tmp_path, measure):
    rng = np.random.default_rng(5)
    rows = []
    for i in range(30):
        start = rng.uniform(4, 9)
        for w in (0.0, 2.0, 4.0, 6.0):
            rows.append(
                {
                    "participant_id": f"P{i:02d}",
                    "group": "HIP" if i % 2 else "KNEE",
                    "visit_week": w,
                    measure: float(np.clip(round(start - w * rng.uniform(0.1, 0.6), 1), 0, 10)),
                    "hip_abd_strength_n": float(round(150 + 5 * w + rng.normal(0, 10), 1)),
                }
            )
    path = tmp_path / "clean.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        text = run_template({"inputs": [str(path)], "title": "t"}).text
    name = {"pain_vas": "VAS", "pain_nprs": "NPRS"}[measure]
    unit = REG[measure].unit
    assert f"Pain ({name}), HIP: mean change by week 6" in text
    assert f" {unit} (95% CI" in text
    assert f"their pain ({name}) was on average" in text  # the strength-pain relation
    assert REG[measure].mcid_source.split(" (")[0] in text  # its MCID source, in section 5
