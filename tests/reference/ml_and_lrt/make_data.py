"""SIMULATED data for the ``ml_and_lrt`` reference case (not real participants).

Identical to the ``random_slope`` case: this script runs ``../random_slope/make_data.py``'s generator with
its seed and writes the same rows to ``data.csv`` here (see that file for the simulation design).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _random_slope_module():
    path = HERE.parent / "random_slope" / "make_data.py"
    spec = importlib.util.spec_from_file_location("hipkit_reference_random_slope_data", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


if __name__ == "__main__":
    rs = _random_slope_module()
    rs.write_csv(rs.simulate(), HERE / "data.csv")
