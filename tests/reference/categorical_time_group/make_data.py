"""SIMULATED data for the ``categorical_time_group`` reference case (not real participants).

60 participants (30 HIP, 30 KNEE) x 4 visits (weeks 0, 2, 4, 6). Pain VAS (0-10 cm) with group-specific
visit means (HIP 6.1, 5.0, 4.2, 3.6; KNEE 6.0, 5.4, 5.0, 4.7), random-intercept SD 1.5, residual SD 0.8;
clipped to 0-10, rounded to 0.01 cm.

Columns: participant_id, group, visit_week (number), visit (the week as a label "0", "2", "4", "6"; read
it as a string / categorical with that level order), pain_vas.

Run ``python make_data.py`` to rewrite ``data.csv`` next to this file. The committed ``data.csv`` is
authoritative: R and Python both read it, so the reference values do not depend on numpy versions.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

SEED = 20240601
HERE = Path(__file__).resolve().parent
WEEKS = (0, 2, 4, 6)
MEANS = {"HIP": (6.1, 5.0, 4.2, 3.6), "KNEE": (6.0, 5.4, 5.0, 4.7)}


def simulate(seed: int = SEED) -> list[dict]:
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(60):
        pid = f"P{i + 1:03d}"
        group = "HIP" if i < 30 else "KNEE"
        u0 = rng.normal(0.0, 1.5)
        for w, mu in zip(WEEKS, MEANS[group]):
            pain = mu + u0 + rng.normal(0.0, 0.8)
            pain = round(float(np.clip(pain, 0.0, 10.0)), 2)
            rows.append({"participant_id": pid, "group": group, "visit_week": w, "visit": str(w), "pain_vas": pain})
    return rows


def write_csv(rows: list[dict], path: Path) -> None:
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


if __name__ == "__main__":
    write_csv(simulate(), HERE / "data.csv")
