"""Every notebook in notebooks/ executes headless and publishes its key results; none is stored with outputs.

Notebook authors: add your key-result assertions in a test of your own, reading
``executed("<name>").results`` (the values the notebook passed to ``hipkit.report.record``).
"""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from .conftest import NOTEBOOKS, ROOT, notebook_params


@pytest.mark.parametrize("name", notebook_params())
def test_every_notebook_executes(executed, name):
    run = executed(name)
    assert run.ok, run.error
    assert run.html is not None and run.html.exists()
    assert run.results_path is not None and run.results_path.exists(), f"{name}: no results.json written"
    assert isinstance(json.loads(run.results_path.read_text()), dict)
    assert run.title != name, f"{name}: the first markdown cell should start with a '# Title' line"


def _git(*args):
    if shutil.which("git") is None:
        pytest.skip("git not installed")
    proc = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
    if proc.returncode not in (0, 1) or "not a git repository" in proc.stderr:
        pytest.skip(f"not a git checkout: {proc.stderr.strip()}")
    return proc


def test_no_notebook_is_committed_with_outputs():
    # Notebooks live in git as jupytext percent .py files; an .ipynb (e.g. from pairing in Jupyter)
    # must be ignored, and one that is tracked anyway must carry no outputs.
    tracked = _git("ls-files", "--", "notebooks/*.ipynb").stdout.split()
    with_outputs = []
    for name in tracked:
        nb = json.loads((ROOT / name).read_text(encoding="utf-8"))
        if any(cell.get("outputs") or cell.get("execution_count") for cell in nb.get("cells", [])):
            with_outputs.append(name)
    assert not with_outputs, f"committed notebooks with outputs (store the jupytext .py instead): {with_outputs}"
    assert _git("check-ignore", "-q", "--no-index", "notebooks/example.ipynb").returncode == 0, (
        ".gitignore should ignore notebooks/*.ipynb"
    )


def test_notebooks_are_jupytext_percent_files():
    for path in NOTEBOOKS.glob("*.py"):
        if path.name.startswith(("_", ".")):
            continue
        text = path.read_text(encoding="utf-8")
        assert "# %% [markdown]" in text, f"{path.name}: not a jupytext percent notebook (no '# %% [markdown]' cell)"
