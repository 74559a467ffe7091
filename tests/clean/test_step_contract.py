"""One step, one contract: every cleaning step is ``(frame, issues) -> (frame, issues)``.

Each step the pipeline composes (``FILE_STEPS`` and ``TABLE_STEPS`` of :mod:`hipkit.cleaning.pipeline`)
is wrapped, the cleaner is run over exports that exercise every step (wide and long files, REDCap,
unit columns, malformed lines, duplicates, de-identification), and each call is checked: the frame
given is left as it was, the step returns a frame and an :class:`~hipkit.cleaning.issues.Issues`, and
no frame carries helper columns (``<name>__<something>``): per-record state travels in ``issues``.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pandas as pd
import pytest

import hipkit
from hipkit.cleaning import pipeline
from hipkit.cleaning.columns import MappedTable
from hipkit.cleaning.issues import Issues

RAW = Path(__file__).resolve().parents[2] / "datasets" / "raw"
STEPS = list(dict.fromkeys(pipeline.FILE_STEPS + pipeline.TABLE_STEPS))

_MALFORMED = (
    "participant_id,visit,side,group,age,hip_abd_strength_n,pain_vas\n"
    "P01,baseline,left,HIP,34,100,5\n"
    "P01,baseline,right,,,110,5\n"
    "P01,week 2,left,,,120,4\n"
    'P02,"baseline,left,hip,40,90,6\n'
    "P02,week 2,left,,,95,4,extra\n"
    "P03,week 2,left,Hip,51,-5,4\n"
    "P03,week 2,left,Hip,51,-5,4\n"
    "P04,week 2,left,knee,29,80,3\n"
    "P04,week 2,left,knee,29,81,3\n"
    "P05,week 7,left,knee,,80,3\n"
)


def _frame_of(value) -> pd.DataFrame:
    return value.table.data if isinstance(value, MappedTable) else value


def _helper_columns(frame: pd.DataFrame) -> list[str]:
    return [str(c) for c in frame.columns if "__" in str(c)]


@pytest.fixture(scope="module")
def calls(tmp_path_factory):
    """Run the cleaner with every step wrapped; return step name -> list of problems per call."""
    folder = tmp_path_factory.mktemp("contract")
    broken = folder / "broken.csv"
    broken.write_text(_MALFORMED, encoding="utf-8")
    seen: dict[str, list[list[str]]] = {name: [] for name in STEPS}

    def wrap(name, step):
        def checked(frame, issues, *args, **kwargs):
            before = _frame_of(frame).copy(deep=True)
            roles = list(frame.roles) if isinstance(frame, MappedTable) else None
            state = issues.records
            out = step(frame, issues, *args, **kwargs)
            problems = []
            try:
                pd.testing.assert_frame_equal(_frame_of(frame), before)
            except AssertionError as exc:
                problems.append(f"changed the frame it was given: {str(exc).splitlines()[0]}")
            if roles is not None and list(frame.roles) != roles:
                problems.append("changed the roles it was given")
            if issues.records is not state:
                problems.append("changed the issues it was given (records state re-bound)")
            if not (isinstance(out, tuple) and len(out) == 2 and isinstance(out[1], Issues)):
                problems.append(f"returned {type(out).__name__}, not (frame, Issues)")
            else:
                result = _frame_of(out[0])
                if not isinstance(result, pd.DataFrame):
                    problems.append(f"returned a {type(result).__name__} as its frame")
                elif not isinstance(frame, MappedTable) and _helper_columns(result):
                    problems.append(f"returned helper columns {_helper_columns(result)}")
            seen[name].append(problems)
            return out

        return checked

    runs = [
        dict(inputs=[RAW / "clinic_export_messy.csv"], mapping=RAW / "mapping_example.yml"),
        dict(inputs=[RAW / "clinic_followup_long.csv", RAW / "redcap_export.csv"]),
        dict(inputs=[RAW / "clinic_multisite_export.csv"], deidentify=True, salt="contract"),
        dict(inputs=[broken]),
    ]
    with pytest.MonkeyPatch.context() as mp, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name in STEPS:
            mp.setattr(pipeline, name, wrap(name, getattr(pipeline, name)))
        for run in runs:
            hipkit.clean(progress=False, **run)
    return seen


@pytest.mark.parametrize("name", STEPS)
def test_step_leaves_its_input_unchanged_and_returns_frame_and_issues(calls, name):
    assert calls[name], f"{name} was never called"
    problems = [p for call in calls[name] for p in call]
    assert not problems, f"{name}: " + "; ".join(dict.fromkeys(problems))


def test_every_step_named_by_the_pipeline_exists():
    for name in STEPS:
        assert callable(getattr(pipeline, name)), name
