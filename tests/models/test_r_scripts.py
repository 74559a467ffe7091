"""The committed R scripts reproduce the committed reference values (runs R; skipped without it)."""

import json
import shutil
import subprocess

import numpy as np
import pytest

from .test_reference import REF

pytestmark = pytest.mark.needs_r


def _rscript_with_packages() -> bool:
    if shutil.which("Rscript") is None:
        return False
    probe = subprocess.run(
        [
            "Rscript",
            "-e",
            "for (p in c('lme4','lmerTest','emmeans','jsonlite','pbkrtest')) library(p, character.only=TRUE)",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    return probe.returncode == 0


@pytest.mark.skipif(
    not _rscript_with_packages(), reason="Rscript with lme4/lmerTest/emmeans not installed (make r-deps)"
)
@pytest.mark.parametrize("case", ["sleepstudy", "random_slope"])
def test_committed_r_script_reproduces_expected_json(tmp_path, case):
    shutil.copy(REF / "_common.R", tmp_path / "_common.R")
    shutil.copytree(REF / case, tmp_path / case)
    (tmp_path / case / "expected.json").unlink()
    proc = subprocess.run(
        ["Rscript", str(tmp_path / case / "fit.R")], capture_output=True, text=True, check=False, timeout=600
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    got = json.loads((tmp_path / case / "expected.json").read_text())
    want = json.loads((REF / case / "expected.json").read_text())
    for name, model in want["models"].items():
        a = [f["estimate"] for f in got["models"][name]["fixed"]]
        b = [f["estimate"] for f in model["fixed"]]
        np.testing.assert_allclose(a, b, rtol=1e-8)
        np.testing.assert_allclose(
            got["models"][name]["reml_criterion"] or got["models"][name]["deviance"],
            model["reml_criterion"] or model["deviance"],
            rtol=1e-10,
        )
