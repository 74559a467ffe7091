"""``hipkit.clean`` called with arguments of the wrong type raises a HipkitError, never a bare TypeError."""

from __future__ import annotations

import make_corpus
import pytest
from corpus_base import STD_HEADER, CsvDoc, cohort, rng_for

import hipkit
from hipkit.errors import HipkitError


@pytest.fixture
def export(tmp_path):
    doc = CsvDoc()
    doc.add(STD_HEADER)
    for v in cohort(rng_for("arguments"), 3, weeks=(0, 2)):
        doc.add(v.row())
    path = tmp_path / "export.csv"
    path.write_bytes(doc.encode())
    return str(path)


def _substitute(value, path):
    if value == "$INPUT":
        return path
    if isinstance(value, list):
        return [_substitute(v, path) for v in value]
    if isinstance(value, dict):
        return {k: _substitute(v, path) for k, v in value.items()}
    return value


@pytest.mark.parametrize("case", [pytest.param(c, id=c.name) for c in make_corpus.ARGUMENT_CASES])
def test_wrong_argument_type_raises_a_one_line_hipkit_error(export, case):
    kwargs = _substitute(case.kwargs, export)
    try:
        hipkit.clean(progress=False, **kwargs)
    except HipkitError as exc:
        assert "\n" not in str(exc).strip(), f"message is not one line: {exc!r}"
        assert str(exc).strip(), "empty message"
    except Exception as exc:  # noqa: BLE001 - the point: anything else is a failure
        pytest.fail(f"raised {type(exc).__name__} (not a HipkitError): {exc}")
    else:
        pytest.fail(f"accepted {case.kwargs!r} without a word")
