"""Executing, rendering and recording: failures are one clear line; record() writes JSON."""

from __future__ import annotations

import json
import math
import textwrap

import numpy as np
import pytest

from hipkit.cli import main
from hipkit.errors import InputError
from hipkit.report import (
    RESULTS_ENV,
    NotebookExecutionError,
    execute_notebook,
    external_resources,
    list_notebooks,
    notebook_title,
    read_notebook,
    record,
    run_all,
)

GOOD = """\
# %% [markdown]
# # A good notebook
#
# It records one value.

# %%
from hipkit.report import record

x = record("answer", 42)
print("x is", x)
"""

BAD = """\
# %% [markdown]
# # A broken notebook
#
# Its third cell fails.

# %%
y = 1

# %%
raise ValueError("boom at the third cell")

# %%
print("never reached")
"""


def _write(folder, name, text):
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
    base = tmp_path_factory.mktemp("mixed")
    nbdir = base / "notebooks"
    _write(nbdir, "10_good.py", GOOD)
    _write(nbdir, "05_bad.py", BAD)
    _write(nbdir, "_helpers.py", "VALUE = 1\n")
    out = base / "reports"
    runs = run_all(nbdir, out, workdir=base, progress=False)
    return runs, out


def test_failing_notebook_gives_one_line_naming_the_cell(mixed):
    runs, _ = mixed
    assert [r.name for r in runs] == ["05_bad", "10_good"]  # helpers skipped, name order
    bad = runs[0]
    assert not bad.ok
    assert "\n" not in bad.error
    assert "05_bad.py" in bad.error
    assert "cell 3" in bad.error
    assert 'raise ValueError("boom at the third cell")' in bad.error
    assert bad.error.endswith("ValueError: boom at the third cell")


def test_other_notebooks_still_run_and_failed_page_is_rendered(mixed):
    runs, out = mixed
    good = runs[1]
    assert good.ok and good.results == {"answer": 42}
    assert json.loads((out / "10_good.results.json").read_text()) == {"answer": 42}
    bad_html = (out / "05_bad.html").read_text()
    assert "boom at the third cell" in bad_html and "never reached" in bad_html  # source shown, not run
    index = (out / "index.html").read_text()
    assert "A broken notebook" in index and "failed" in index and "A good notebook" in index
    assert "cell 3" in index


def test_execute_notebook_raises_with_partial_notebook(tmp_path):
    path = _write(tmp_path, "bad.py", BAD)
    with pytest.raises(NotebookExecutionError) as info:
        execute_notebook(path, workdir=tmp_path, timeout=60)
    err = info.value
    assert err.cell_index == 2 and err.cell_line.startswith("raise ValueError")
    assert err.nb.cells[1].outputs == [] and err.nb.cells[1].execution_count == 1
    assert err.nb.cells[3].get("outputs") == []


def test_cell_timeout_is_named(tmp_path):
    path = _write(tmp_path, "slow.py", "# %%\nimport time\n\n# %%\ntime.sleep(30)\n")
    with pytest.raises(NotebookExecutionError, match=r"cell 2 \(`time.sleep\(30\)`\) failed: timed out after 2 s"):
        execute_notebook(path, workdir=tmp_path, timeout=2)


def test_cli_render_and_demo(tmp_path, capsys):
    nbdir = tmp_path / "notebooks"
    good = _write(nbdir, "10_good.py", GOOD)
    page = tmp_path / "out" / "good.html"
    assert main(["render", str(good), "--out", str(page)]) == 0
    assert page.exists() and json.loads((tmp_path / "out" / "good.results.json").read_text()) == {"answer": 42}
    assert "<details" in page.read_text()

    _write(nbdir, "05_bad.py", BAD)
    capsys.readouterr()
    code = main(["demo", "--notebooks", str(nbdir), "--out", str(tmp_path / "rep"), "--no-progress"])
    out, err = capsys.readouterr()
    assert code == 1
    assert "FAILED  05_bad" in out and "ok      10_good" in out
    assert "Reports written to" in out and (tmp_path / "rep" / "index.html").exists()
    assert "05_bad.py: cell 3" in err and "1 notebook(s) failed: 05_bad" in err

    code = main(["demo", "--notebooks", str(nbdir), "--out", str(tmp_path / "rep"), "--only", "nope"])
    _, err = capsys.readouterr()
    assert code == 2 and "no notebook named nope" in err and "05_bad, 10_good" in err


def test_record_is_a_no_op_without_the_environment_variable(monkeypatch, tmp_path):
    monkeypatch.delenv(RESULTS_ENV, raising=False)
    assert record("p", 0.5) == 0.5
    assert list(tmp_path.iterdir()) == []


def test_record_writes_json_safe_values(monkeypatch, tmp_path):
    target = tmp_path / "r.json"
    monkeypatch.setenv(RESULTS_ENV, str(target))
    value = np.float64(0.003)
    assert record("interaction_p", value) is value
    record("n", np.int64(54))
    record("flags", [np.bool_(True), False])
    record("missing", math.nan)
    record("table", {"a": np.array([1.5, 2.0])})
    record("n", 55)  # replaces
    got = json.loads(target.read_text())
    assert got == {"interaction_p": 0.003, "n": 55, "flags": [True, False], "missing": None, "table": {"a": [1.5, 2.0]}}
    with pytest.raises(InputError, match="cannot store a object"):
        record("thing", object())
    with pytest.raises(InputError, match="non-empty"):
        record("", 1)


def test_external_resources_flags_loads_not_links():
    assert external_resources('<script src="https://cdn.jsdelivr.net/x.js"></script>')
    assert external_resources('<link rel="stylesheet" href="//fonts.example/x.css">')
    assert external_resources("<style>@import url('https://fonts.example/x.css');</style>")
    assert not external_resources('<a href="https://doi.org/10.1/x">paper</a><svg xmlns="http://www.w3.org/2000/svg">')


def test_title_and_description_from_first_markdown_cell(tmp_path):
    nb = read_notebook(_write(tmp_path, "n.py", GOOD))
    assert notebook_title(nb, "n") == ("A good notebook", "It records one value.")
    assert [c["id"] for c in nb.cells] == ["cell-0", "cell-1"]
    assert notebook_title(read_notebook(_write(tmp_path, "m.py", "# %%\nx = 1\n")), "m") == ("m", "")


def test_list_notebooks_only_names_the_choices(tmp_path):
    _write(tmp_path, "01_a.py", GOOD)
    _write(tmp_path, "02_b.py", GOOD)
    assert [p.name for p in list_notebooks(tmp_path, only=["02_b"])] == ["02_b.py"]
    with pytest.raises(InputError, match=r"no notebook named 03_c .*there are: 01_a, 02_b"):
        list_notebooks(tmp_path, only=["03_c"])
