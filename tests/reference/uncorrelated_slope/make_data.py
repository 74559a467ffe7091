"""SIMULATED data for the ``uncorrelated_slope`` reference case (not real participants).

50 participants x 4 visits (weeks 0, 2, 4, 6). Pain VAS (0-10 cm): baseline mean 6, intercept SD 1.5,
slope -0.4 cm/week with an independent person-varying slope SD 0.15 (no intercept-slope correlation, to
match the ``(visit_week || participant_id)`` model), residual SD 0.8; clipped to 0-10, rounded to 0.01 cm.

Run ``python make_data.py`` to rewrite ``data.csv`` next to this file. The committed ``data.csv`` is
authoritative: R and Python both read it, so the reference values do not depend on numpy versions.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

SEED = 20240401
HERE = Path(__file__).resolve().parent
WEEKS = (0, 2, 4, 6)
SD_INTERCEPT, SD_SLOPE = 1.5, 0.15


def simulate(seed: int = SEED) -> list[dict]:
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(50):
        pid = f"P{i + 1:03d}"
        group = "HIP" if i % 2 == 0 else "KNEE"
        u0 = rng.normal(0.0, SD_INTERCEPT)
        u1 = rng.normal(0.0, SD_SLOPE)
        for w in WEEKS:
            pain = 6.0 + u0 + (-0.4 + u1) * w + rng.normal(0.0, 0.8)
            pain = round(float(np.clip(pain, 0.0, 10.0)), 2)
            rows.append({"participant_id": pid, "group": group, "visit_week": w, "pain_vas": pain})
    return rows


def write_csv(rows: list[dict], path: Path) -> None:
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


if __name__ == "__main__":
    write_csv(simulate(), HERE / "data.csv")
