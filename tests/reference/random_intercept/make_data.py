"""SIMULATED data for the ``random_intercept`` reference case (not real participants).

40 participants x 4 visits (weeks 0, 2, 4, 6). Pain VAS (0-10 cm): baseline mean 6, between-participant
SD 1.5, falling 0.4 cm/week, residual SD 0.8; values clipped to 0-10 and rounded to 0.01 cm.

Run ``python make_data.py`` to rewrite ``data.csv`` next to this file. The committed ``data.csv`` is
authoritative: R and Python both read it, so the reference values do not depend on numpy versions.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

SEED = 20240201
HERE = Path(__file__).resolve().parent
WEEKS = (0, 2, 4, 6)


def simulate(seed: int = SEED) -> list[dict]:
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(40):
        pid = f"P{i + 1:03d}"
        group = "HIP" if i % 2 == 0 else "KNEE"
        u0 = rng.normal(0.0, 1.5)
        for w in WEEKS:
            pain = 6.0 + u0 - 0.4 * w + rng.normal(0.0, 0.8)
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
