"""Shared fixtures: small raw exports written to a temporary folder."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from hipkit.errors import DataQualityWarning

ROOT = Path(__file__).resolve().parents[1]

# Fuzzing depth: the default keeps CI quick; HYPOTHESIS_PROFILE=deep for a long hunt by hand.
_common = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
settings.register_profile("default", max_examples=120, **_common)
settings.register_profile("deep", max_examples=3000, **_common)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


@pytest.fixture(autouse=True)
def _quiet_data_quality_warnings():
    # Cleaning messy data warns by design; tests that care assert on it explicitly.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        yield


@pytest.fixture
def write(tmp_path):
    """Write ``text`` to ``tmp_path/name`` (bytes or str with an encoding) and return the path."""

    def _write(name: str, text, encoding: str = "utf-8") -> Path:
        p = tmp_path / name
        if isinstance(text, bytes):
            p.write_bytes(text)
        else:
            p.write_bytes(text.encode(encoding))
        return p

    return _write


LONG_CSV = """\
Participant ID,Group,Visit,Visit date,Side,Strength (N),VAS (mm),AKPS,Body mass (kg)
P01,HIP,Baseline,2024-01-01,L,100,60,60,70
P01,HIP,Baseline,2024-01-01,R,110,60,60,70
P01,HIP,Week 2,2024-01-15,L,120,40,72,
P01,HIP,Week 2,2024-01-15,R,121,40,72,
P02,KNEE,Baseline,2024-02-01,L,90,70,50,80
P02,KNEE,wk4,2024-03-04,L,95,55,55,80
"""


@pytest.fixture
def long_csv(write):
    return write("long.csv", LONG_CSV)


@pytest.fixture(scope="session")
def executed(tmp_path_factory):
    """``executed(name)`` runs notebooks/<name>.py once per test session and returns its NotebookRun.

    Shared by the rendering tests (tests/report) and the key-result tests (tests/notebooks), so
    each notebook executes once however many tests read it.
    """
    from hipkit.report import run_all

    cache = {}

    def _run(name: str):
        if name not in cache:
            out = tmp_path_factory.mktemp(f"reports_{name}")
            (run,) = run_all(ROOT / "notebooks", out, only=[name], workdir=ROOT, progress=False)
            cache[name] = run
        return cache[name]

    return _run


@pytest.fixture(scope="session")
def notebook_results(executed):
    """``notebook_results(name)``: the values notebooks/<name>.py recorded with hipkit.report.record."""

    def _get(name: str) -> dict:
        run = executed(name)
        assert run.ok, run.error
        return run.results

    return _get


@pytest.fixture(scope="session")
def dask_client():
    """A real distributed.LocalCluster with two single-threaded worker processes (no mocks)."""
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()
